/**
 * The interactive review (`rollwise plan resolve` on a terminal): one question per conflict, the
 * resolutions in their words, "decide later" last; the answers become choices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRequest, type Plan } from '../../src/planner/index.js';
import { createPlan, loadKnowledge } from '../../src/app/index.js';
import { askChoices } from '../../src/app/cli/commands/plan.js';
import { createWorld, type World } from '../planner/fixture.js';

let world: World;
let plan: Plan;
beforeAll(async () => {
  world = createWorld();
  const knowledge = await loadKnowledge({ kb: [world.kb], indexes: [world.index] });
  plan = await createPlan({ kb: [world.kb], index: [world.index], inventory: [world.inventory], local: false, sshHost: [], skipUnreachable: false, request: buildRequest({ install: ['app-a=2.0-1'] }), knowledge });
});
afterAll(() => world?.cleanup());

describe('the interactive review', () => {
  it('asks one question per conflict and collects the answers', async () => {
    expect(plan.conflicts).toHaveLength(2);
    const asked: string[] = [];
    const choices = await askChoices(plan, async (q) => {
      asked.push(q.message);
      expect(q.choices.at(-1)).toEqual({ name: 'decide later', value: null });
      return q.message.startsWith('c1') ? q.choices[0]!.value : null;
    });
    expect(asked).toHaveLength(2);
    expect(choices).toEqual([{ conflict: 'c1', resolution: 'r1' }]);
  });
});
