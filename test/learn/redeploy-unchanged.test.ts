// Issue 11 on the real wave engine over directory-root hosts of the lab (dpkg and apt on each
// root): an approved plan deployed again on hosts that already run its target version. Each host
// is re-solved to no change. Passing, the wave line says no host was changed and the history gets
// nothing; failed by the judge (an alerts check naming both hosts), it rolls back, the hosts keep
// what they had, and the culprit analysis of that journal says the fault is not the deployment's.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeploymentFor, runDeployment, type DecisionBody, type DeploymentSpec, type ResolveHost, type WaveJudge } from '../../src/deploy/index.js';
import { createDebCache, createDirectoryRootDriver, type HostDriver } from '../../src/hosts/index.js';
import { layoutWaves, parseWaveSizes, type Plan } from '../../src/planner/index.js';
import type { PackageChange } from '../../src/solver/index.js';
import { createMemoryDeploymentStore } from '../../src/store/index.js';
import { analyseCulprit, conclusionLine, historyFromDeployment, type CulpritInput } from '../../src/learn/index.js';
import { createLab, type Lab, type LabHost } from '../lab/index.js';

let lab: Lab;
beforeAll(async () => {
  lab = await createLab({ hosts: 2, packages: [{ name: 'demo', version: '1.0', scripts: false }, { name: 'demo', version: '2.0', scripts: false }] });
});
afterAll(async () => {
  await lab?.destroy();
});

const driverOf = (h: LabHost): HostDriver => createDirectoryRootDriver({ root: h.root, name: h.name, chrootlessScripts: lab.chrootlessScripts });
const upgradeDemo: PackageChange[] = [{ name: 'demo', action: 'upgrade', from: '1.0', to: '2.0' }];

async function demoVersion(h: LabHost): Promise<string | undefined> {
  const r = await driverOf(h).readInstalled();
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
  return r.value.find((p) => p.name === 'demo')?.version;
}

function planOf(hosts: LabHost[]): Plan {
  return {
    id: 'p-again', version: 1, status: 'approved', createdAt: new Date().toISOString(), origin: { kind: 'initial' },
    inputs: { kb: [], indexes: [], inventories: [], local: false, sshHosts: [], request: { items: [] } },
    summary: { hosts: hosts.length, groups: 1, groupsReady: 1, groupsInConflict: 0, hostsReady: hosts.length, hostsInConflict: 0, changes: { install: 0, upgrade: hosts.length, downgrade: 0, remove: 0 }, findings: { requirementNotMet: 0, requirementUnknown: 0, knownIssue: 0, heldBack: 0, unreachable: 0 } },
    groups: [{ key: 'A', hosts: hosts.map((h) => h.name), facts: {}, installed: [{ name: 'demo', version: '1.0', architecture: 'all' }], request: { items: [] }, choices: [], outcome: { kind: 'transaction', changes: upgradeDemo }, findings: [] }],
    conflicts: [], fleetFindings: [],
  };
}

// what the deploy service answers for a host that already has the target (src/app/services/deploy.ts)
const resolveHost: ResolveHost = async () => ({ kind: 'changes', changes: [], withinPolicy: true, reason: 'the host already has what the plan installs' });

async function deployAgain(id: string, judge: WaveJudge): Promise<{ status: string; input: CulpritInput; reasons: string[] }> {
  const plan = planOf(lab.hosts);
  const store = createMemoryDeploymentStore();
  const layout = layoutWaves(plan.groups, { sizes: parseWaveSizes('100%'), bakeMs: 0 });
  const spec: DeploymentSpec = { format: 1, plan: { id: plan.id, version: 1 }, layout, concurrency: 2, hostTimeoutMs: 120_000, snapshot: { conffiles: true }, groups: {}, policy: 'revisions' };
  await createDeploymentFor(store, { id, plan, spec, by: 'test' });
  const byName = new Map(lab.hosts.map((h) => [h.name, h]));
  const r = await runDeployment({
    store, deployment: id, plan, judge, resolveHost, leaseTtlMs: 5_000,
    driverFor: (name) => driverOf(byName.get(name)!),
    debCacheFor: (name) => ({ cache: createDebCache(path.join(lab.dir, 'debs', id, name)), source: { baseUrl: lab.repository.dir } }),
  });
  if (r.kind !== 'finished') throw new Error(`deployment ${id} did not finish: ${JSON.stringify(r)}`);
  const d = (await store.getDeployment(id))!;
  const journal = await store.readJournal(id);
  const reasons = journal.filter((e) => e.kind === 'decision').map((e) => (e.body as DecisionBody).reason);
  const groups = plan.groups.map((g) => ({ key: g.key, hosts: g.hosts, installed: g.installed, changes: upgradeDemo }));
  return { status: r.status, reasons, input: { deployment: { id, status: d.status, updatedAt: d.updatedAt, planId: plan.id, planVersion: 1, spec: d.spec }, journal, groups } };
}

describe('deploying a plan again on hosts that already have its target', () => {
  it('passes with "0 host(s) changed" and no history; failed by the judge, the analysis says it is not the deployment\'s doing', async () => {
    const names = lab.hosts.map((h) => h.name).sort();
    for (const h of lab.hosts) {
      const o = await driverOf(h).apply({ kind: 'packages', changes: [{ name: 'demo', action: 'install', to: '2.0' }] });
      expect(o.status).toBe('succeeded');
    }

    const ok = await deployAgain('again-ok', async (ctx) => ({ verdict: 'passed', evidence: [{ judge: 'scripted', hosts: ctx.changedHosts }] }));
    expect(ok.status).toBe('succeeded');
    expect(ok.reasons).toContain('wave 1 passed (0 host(s) changed, 2 already had what the plan installs)');
    expect(ok.reasons.filter((x) => x.includes('host(s) changed)'))).toEqual([]);
    expect(historyFromDeployment(ok.input)).toEqual([]);

    const bad = await deployAgain('again-bad', async (ctx) => ({
      verdict: 'failed',
      evidence: [{ kind: 'check', check: 'demo/alerts', status: 'failed', hosts: ctx.changedHosts, changed: ctx.changedHosts.map((host) => ({ host, values: [1] })) }],
    }));
    expect(bad.status).toBe('rolled-back');
    for (const h of lab.hosts) expect(await demoVersion(h)).toBe('2.0');
    const a = analyseCulprit(bad.input);
    expect(a.conclusion).toEqual({ kind: 'none', why: 'failing-hosts-unchanged', hosts: names });
    expect(a.unchanged.map((u) => u.host)).toEqual(names);
    expect(conclusionLine(a)).toContain('had no change from this deployment (each already had what the plan installs): the fault is not its doing');
    expect(historyFromDeployment(bad.input, a)).toEqual([]);
  });
});
