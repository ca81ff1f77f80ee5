/** Functional requirements across hosts: checked on the hosts that run the required package, in the state the plan leaves them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectFleet, type Fleet } from '../../src/fleet/index.js';
import {
  assemblePlan, buildRequest, checkFunctionalRequirements, findingGates, planDeployment, resolvePlan,
  type FleetSolver, type FunctionalGroup, type FunctionalRule, type Plan,
} from '../../src/planner/index.js';
import { createSolverFor, loadKnowledge, readStatusRecords, type Knowledge } from '../../src/app/index.js';
import { describeEdit, planExplanationText } from '../helpers/words.js';
import { createFunctionalWorld, INVENTORY, type FunctionalWorld } from './functional-fixture.js';

const rule: FunctionalRule = {
  package: [{ name: 'shopfront', op: '>=', version: '2.0.0' }],
  requires: [{ name: 'postgresql', op: '>=', version: '15' }],
  packageText: 'shopfront (>= 2.0.0)', requiresText: 'postgresql (>= 15)', reason: 'MERGE', source: 'org (functional.yaml:15)',
};
const app = (changes?: FunctionalGroup['changes']): FunctionalGroup => ({
  key: 'app', hosts: ['app-1', 'app-2'], installed: [{ name: 'shopfront', version: '1.8.3', architecture: 'amd64' }], ...(changes ? { changes } : {}),
});
const upgradeApp = [{ name: 'shopfront', action: 'upgrade' as const, from: '1.8.3', to: '2.0.0', architecture: 'amd64' }];
const db = (key: string, version: string, changes?: FunctionalGroup['changes']): FunctionalGroup => ({
  key, hosts: [`${key}-1`], installed: [{ name: 'postgresql', version, architecture: 'all' }], ...(changes ? { changes } : {}),
});

describe('functional requirements across hosts', () => {
  it('met on every host that runs the required package: nothing to say', () => {
    const r = checkFunctionalRequirements([app(upgradeApp), db('db', '15+248', [])], [rule]);
    expect([...r.findings.values()].flat()).toEqual([]);
    expect(r.ordering.size).toBe(0);
  });

  it('not met after the plan: an unmet requirement naming the requiring groups and the hosts that fall short, no finding', () => {
    const r = checkFunctionalRequirements([app(upgradeApp), db('db15', '15+248', []), db('db13', '13+225', [])], [rule]);
    expect([...r.findings.values()].flat()).toEqual([]);
    expect(r.unmet).toHaveLength(1);
    expect(r.unmet[0]!.fact).toEqual({
      kind: 'requirement-unmet', key: 'functional:shopfront (>= 2.0.0) requires postgresql (>= 15)', rule: 'functional:shopfront (>= 2.0.0) requires postgresql (>= 15)',
      package: 'shopfront (>= 2.0.0)', requires: 'postgresql (>= 15)', reason: 'MERGE', source: 'org (functional.yaml:15)',
      requiring: [{ group: 'app', hosts: ['app-1', 'app-2'], package: { name: 'shopfront', version: '2.0.0' } }],
      short: [{ group: 'db13', hosts: ['db13-1'], installed: { name: 'postgresql', version: '13+225' } }],
    });
  });

  it('met only once the plan upgrades the database: an ordering constraint (database first), no finding', () => {
    const up = [{ name: 'postgresql', action: 'upgrade' as const, from: '13+225', to: '15+248', architecture: 'all' }];
    const r = checkFunctionalRequirements([app(upgradeApp), db('db', '13+225', up)], [rule]);
    expect([...r.findings.values()].flat()).toEqual([]);
    expect(r.ordering.get('app')).toEqual([{ after: ['db'], rule: 'functional:shopfront (>= 2.0.0) requires postgresql (>= 15)', reason: expect.stringMatching(/only once the plan has changed them/) as unknown }]);
  });

  it('no host of the plan runs it: the requirement cannot be checked, and says so', () => {
    const r = checkFunctionalRequirements([app(upgradeApp)], [rule]);
    expect(r.findings.get('app')![0]).toMatchObject({ kind: 'requirement-unknown', severity: 'high' });
  });

  it('a group the plan does not touch, or in conflict, gets no finding; a database downgrade is caught on the untouched app', () => {
    const installedNew: FunctionalGroup = { key: 'app', hosts: ['app-1'], installed: [{ name: 'shopfront', version: '2.0.0', architecture: 'amd64' }], changes: [] };
    expect(checkFunctionalRequirements([installedNew, db('db', '15+248', [])], [rule]).unmet).toEqual([]);
    expect(checkFunctionalRequirements([app(), db('db', '13+225', [])], [rule]).unmet).toEqual([]);
    const down = [{ name: 'postgresql', action: 'downgrade' as const, from: '15+248', to: '13+225', architecture: 'all' }];
    expect(checkFunctionalRequirements([installedNew, db('db', '15+248', down)], [rule]).unmet[0]!.fact.requiring.map((x) => x.group)).toEqual(['app']);
  });
});

describe('an unmet requirement across hosts is a plan conflict with verified resolutions', () => {
  let world: FunctionalWorld;
  let knowledge: Knowledge;
  let fleet: Fleet;
  let solver: FleetSolver;
  const request = buildRequest({ install: ['shop=2.0-1'] });
  const rule = 'functional:shop (>= 2.0-1) requires pgsql (>= 15)';

  beforeAll(async () => {
    world = createFunctionalWorld();
    knowledge = await loadKnowledge({ kb: [world.kb], indexes: [world.index] });
    fleet = await collectFleet({ inventories: [world.inventory] });
    solver = await createSolverFor(knowledge, fleet.hosts.map((h) => h.installed), readStatusRecords(fleet.hosts));
  });
  afterAll(() => world?.cleanup());

  const first = (): Plan => assemblePlan('f00d0001', 1, planDeployment({ fleet, request, solver, rules: knowledge.rules }), { kind: 'initial' }, { kb: [], indexes: [], inventories: [], local: false, sshHosts: [], request });
  const groupOf = (p: Plan, host: string) => p.groups.find((g) => g.hosts.includes(host))!;

  it('plans the conflict: the requiring groups wait, their own solve kept; the fact names the hosts that fall short; no approval gate', () => {
    const p = first();
    expect(p.status).toBe('needs-review');
    expect(p.conflicts).toHaveLength(1);
    const c = p.conflicts[0]!;
    const fact = c.explanation.facts[0]!;
    expect(fact).toMatchObject({ kind: 'requirement-unmet', rule, short: [{ hosts: ['db-1'], installed: { name: 'pgsql', version: '13-1' } }] });
    // the request installs shop on every host: the database hosts need the requirement too
    expect(c.groups.map((k) => p.groups.find((g) => g.key === k)!.hosts.join(','))).toEqual(['app-1,app-2', 'db-1', 'db-2']);
    expect(groupOf(p, 'app-1').outcome).toEqual({ kind: 'conflict', conflict: c.id, changes: [expect.objectContaining({ name: 'shop', action: 'upgrade', to: '2.0-1' })] });
    expect(p.groups.flatMap((g) => g.findings).filter((f) => f.kind === 'requirement-not-met')).toEqual([]);
    expect(findingGates(p)).toEqual([]);
    const words = planExplanationText(c.explanation);
    expect(words).toMatch(/shop \(>= 2\.0-1\) requires pgsql \(>= 15\) on the hosts that run it \(the 2\.x checkout uses MERGE\); source: org-shop .*; after this plan db-1 runs pgsql 13-1/);
    expect(words).toMatch(/so app-1, app-2, db-1 and 1 more cannot take shop 2\.0-1 while pgsql \(>= 15\) is not met there/);
    expect(c.resolutions.map((r) => r.edit)).toEqual([
      { kind: 'upgrade-first', rule, item: { kind: 'install', name: 'pgsql', op: '>=', version: '15' }, groups: [groupOf(p, 'db-1').key], hosts: 1 },
      { kind: 'skip', item: request.items[0] },
    ]);
    expect(describeEdit(c.resolutions[0]!.edit)).toBe('first install pgsql (>= 15) on the host running it that falls short (1 group), before the hosts that need it');
    expect(Object.keys(c.resolutions[0]!.requests)).toEqual([groupOf(p, 'db-1').key]);
    expect(Object.keys(c.resolutions[1]!.requests).sort()).toEqual(c.groups.slice().sort());
  });

  it('choosing "upgrade first": the database group gets it, the conflict is gone and becomes an ordering constraint', () => {
    const p = first();
    const next = assemblePlan(p.id, 2, resolvePlan(p, [{ conflict: 'c1', resolution: 'r1' }], solver, knowledge.rules), { kind: 'resolution', parentVersion: 1, choices: [] }, p.inputs);
    expect(next.conflicts).toEqual([]);
    expect(next.status).toBe('ready');
    const db1 = groupOf(next, 'db-1');
    expect(db1.outcome.kind === 'transaction' && db1.outcome.changes.map((c) => `${c.action} ${c.name} ${c.to}`).sort()).toEqual(['install shop 2.0-1', 'upgrade pgsql 15-1']);
    expect(db1.choices.map((c) => c.edit.kind)).toEqual(['upgrade-first']);
    const app = groupOf(next, 'app-1');
    expect(app.outcome.kind).toBe('transaction');
    expect(app.choices).toEqual([]);
    expect(app.ordering).toEqual([{ after: [db1.key], rule, reason: expect.stringMatching(/only once the plan has changed them/) as unknown }]);
  });

  it('choosing "hold the app": the requiring groups skip it, the others are as they were', () => {
    const p = first();
    const next = assemblePlan(p.id, 2, resolvePlan(p, [{ conflict: 'c1', resolution: 'r2' }], solver, knowledge.rules), { kind: 'resolution', parentVersion: 1, choices: [] }, p.inputs);
    expect(next.conflicts).toEqual([]);
    for (const h of ['app-1', 'db-1', 'db-2']) expect(groupOf(next, h).outcome).toEqual({ kind: 'transaction', changes: [] });
    expect(groupOf(next, 'app-1').findings.map((f) => f.kind)).toEqual(['resolved-less']);
  });

  it('a requirement no resolution can meet (the database held at 13 everywhere) is still a conflict, without resolutions', async () => {
    const held = createFunctionalWorld(INVENTORY.replace(/status\/db15/, 'status/db13'));
    try {
      const k = await loadKnowledge({ kb: [held.kb], indexes: [held.index] });
      const f = await collectFleet({ inventories: [held.inventory] });
      const s = await createSolverFor(k, f.hosts.map((h) => h.installed), readStatusRecords(f.hosts));
      const body = planDeployment({ fleet: f, request: buildRequest({ install: ['shop=2.0-1'], upgrade: [] }), solver: s, rules: k.rules });
      expect(body.conflicts).toHaveLength(1);
      // pinning the database below 15 through the request leaves only holding the app
      const pinned = planDeployment({ fleet: f, request: { items: [...request.items, { kind: 'pin', name: 'pgsql', op: '<<', version: '15' }] }, solver: s, rules: k.rules });
      expect(pinned.conflicts[0]!.resolutions.map((r) => r.edit.kind)).toEqual(['skip']);
    } finally {
      held.cleanup();
    }
  });
});
