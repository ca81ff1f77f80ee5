/**
 * The example fleet (examples/fleet) with the example knowledge base over the bookworm index:
 * the main job's plan, as a new user sees it. Needs ../shared/data/debian/bookworm-main-amd64.Packages.xz.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPlan, loadKnowledge, resolveStoredPlan } from '../../src/app/index.js';
import { buildRequest, loadRequestFile } from '../../src/planner/index.js';
import { repoRoot } from '../helpers/cli.js';
import { describeEdit, planExplanationText } from '../helpers/words.js';

const INDEX = path.resolve(repoRoot, '..', 'shared', 'data', 'debian', 'bookworm-main-amd64.Packages.xz');
const INVENTORY = path.join(repoRoot, 'examples', 'fleet', 'inventory.yaml');
const KB = path.join(repoRoot, 'examples', 'kb');

describe('the example fleet', () => {
  it('plans shopfront 2.0.0: ready groups, a known issue, and four conflicts with verified resolutions', async () => {
    if (!existsSync(INDEX)) throw new Error(`the bookworm index is missing: ${INDEX} (the shared data directory beside the repository)`);
    const knowledge = await loadKnowledge({ kb: [KB], indexes: [INDEX] });
    const request = loadRequestFile(path.join(repoRoot, 'examples', 'fleet', 'request.yaml'));
    expect(request).toEqual(buildRequest({ install: ['shopfront=2.0.0'] }));
    const plan = await createPlan({ kb: [KB], index: [INDEX], inventory: [INVENTORY], local: false, sshHost: [], skipUnreachable: false, request, knowledge });
    expect(plan.summary.hosts).toBe(36);
    expect(plan.summary.groups).toBe(7);
    expect(plan.summary.hostsReady).toBe(18);
    expect(plan.summary.findings.knownIssue).toBe(6);
    const issueHosts = plan.groups.filter((g) => g.findings.some((f) => f.rule === 'KI-0001')).flatMap((g) => g.hosts);
    expect(issueHosts).toEqual(['app-13', 'app-14', 'app-15', 'app-16', 'app-17', 'app-18']);
    const byHost = (h: string) => plan.conflicts.find((c) => plan.groups.some((g) => g.hosts.includes(h) && c.groups.includes(g.key)))!;
    expect(planExplanationText(byHost('app-19').explanation)).toMatch(/kernel 4\.19\.0-26-amd64 >= 5\.10 does not hold/);
    expect(planExplanationText(byHost('app-23').explanation)).toMatch(/os\.versionId 11 in \[12\] is false/);
    expect(planExplanationText(byHost('app-29').explanation)).toMatch(/legacy-shop-agent 0\.7-2 conflicts with libjemalloc2/);
    expect(planExplanationText(byHost('app-33').explanation)).toMatch(/memoryMiB 768 >= 1024 does not hold/);
    const agent = byHost('app-29');
    // the gentlest first: keeping the host as it is comes before removing the agent
    expect(agent.resolutions.map((r) => describeEdit(r.edit))).toEqual([
      'choose another version: install shopfront=1.8.3 instead of shopfront (= 2.0.0)',
      'allow removal of the installed package legacy-shop-agent',
    ]);
    // choosing every first (gentlest) resolution leaves nothing to review and removes nothing
    const next = await resolveStoredPlan({ ...plan }, plan.conflicts.map((c) => ({ conflict: c.id, resolution: 'r1' })), undefined, knowledge);
    expect(next.version).toBe(2);
    expect(next.status).toBe('ready');
    expect(next.summary.hostsReady).toBe(36);
    expect(next.summary.changes.remove).toBe(0);
    // allowing the agent's removal instead removes it on its 4 hosts
    const removing = await resolveStoredPlan({ ...plan }, plan.conflicts.map((c) => ({ conflict: c.id, resolution: c === agent ? 'r2' : 'r1' })), undefined, knowledge);
    expect(removing.summary.changes.remove).toBe(4);
  });
});
