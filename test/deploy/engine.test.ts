// The wave engine on real directory-root hosts of the lab (dpkg and apt on each root, a synthetic
// repository, lab maintainer scripts that log every run under the root): a healthy rollout across
// waves, a maintainer script failing in wave 2 rolled back automatically, a drifted host re-solved,
// a controller killed mid-step and resumed (each step done once), a failed and an inconclusive
// verdict. The journal lives in the in-memory deployment store; the judge is scripted.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDeploymentFor, runDeployment,
  type DeployEvent, type DeploymentSpec, type DeploymentStore, type EngineOptions, type JournalEntry, type ResolveHost, type WaveJudge,
} from '../../src/deploy/index.js';
import { createDebCache, createDirectoryRootDriver, type HostDriver } from '../../src/hosts/index.js';
import { compareSnapshots, layoutWaves, parseWaveSizes, type GroupRollback, type Plan, type Snapshot } from '../../src/planner/index.js';
import type { PackageChange } from '../../src/solver/index.js';
import { createMemoryDeploymentStore } from '../../src/store/index.js';
import { controlDeployment, controllerOf, type DeployStore } from '../../src/app/index.js';
import { createLab, type Lab, type LabHost } from '../lab/index.js';

let lab: Lab;
const HOSTS = 14;

beforeAll(async () => {
  lab = await createLab({
    hosts: HOSTS,
    packages: [
      { name: 'demo', version: '1.0', conffiles: { '/etc/demo.conf': 'level=1\n' }, files: { '/usr/share/demo/VERSION': '1.0\n' } },
      // 2.0's postinst fails on a host that has the marker /etc/lab-fail/demo-2 (1.0's does not look)
      { name: 'demo', version: '2.0', conffiles: { '/etc/demo.conf': 'level=2\n' }, files: { '/usr/share/demo/VERSION': '2.0\n' }, scriptLines: { postinst: ['if [ -e "$DPKG_ROOT/etc/lab-fail/demo-2" ]; then echo "demo 2.0 postinst: told to fail" >&2; exit 1; fi'] } },
      { name: 'tool', version: '1.0', scripts: false },
      { name: 'tool', version: '2.0', scripts: false },
    ],
  });
});

afterAll(async () => {
  await lab?.destroy();
});

const driverOf = (h: LabHost): HostDriver => createDirectoryRootDriver({ root: h.root, name: h.name, chrootlessScripts: lab.chrootlessScripts });

async function install(h: LabHost, pkgs: Record<string, string>): Promise<void> {
  const o = await driverOf(h).apply({ kind: 'packages', changes: Object.entries(pkgs).map(([name, to]) => ({ name, action: 'install', to })) });
  if (o.status !== 'succeeded') throw new Error(`setup failed: ${JSON.stringify(o).slice(0, 1500)}`);
}

async function installed(h: LabHost): Promise<Record<string, string>> {
  const r = await driverOf(h).readInstalled();
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
  return Object.fromEntries(r.value.map((p) => [p.name, `${p.status.trim()} ${p.version}`]));
}

/** Lines the lab's maintainer scripts logged on a host for a package (each run appends one). */
const scriptLog = (h: LabHost, pkg: string): string[] => {
  const f = path.join(h.root, 'var/lib/lab-scripts', `${pkg}.log`);
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n') : [];
};

const upgradeDemo: PackageChange[] = [{ name: 'demo', action: 'upgrade', from: '1.0', to: '2.0' }];

interface GroupDef {
  key: string;
  hosts: LabHost[];
  installed: Record<string, string>;
  changes: PackageChange[];
}

let planNo = 0;
function planOf(groups: GroupDef[]): Plan {
  return {
    id: `p${++planNo}`, version: 1, status: 'approved', createdAt: new Date().toISOString(), origin: { kind: 'initial' },
    inputs: { kb: [], indexes: [], inventories: [], local: false, sshHosts: [], request: { items: [] } },
    summary: { hosts: 0, groups: groups.length, groupsReady: groups.length, groupsInConflict: 0, hostsReady: 0, hostsInConflict: 0, changes: { install: 0, upgrade: 0, downgrade: 0, remove: 0 }, findings: { requirementNotMet: 0, requirementUnknown: 0, knownIssue: 0, heldBack: 0, unreachable: 0 } },
    groups: groups.map((g) => ({
      key: g.key, hosts: g.hosts.map((h) => h.name), facts: {}, installed: Object.entries(g.installed).map(([name, version]) => ({ name, version, architecture: 'all' })),
      request: { items: [] }, choices: [], outcome: { kind: 'transaction', changes: g.changes }, findings: [],
    })),
    conflicts: [], fleetFindings: [],
  };
}

const passing: WaveJudge = async (ctx) => ({ verdict: 'passed', evidence: [{ judge: 'scripted', hosts: ctx.changedHosts }] });

interface Setup {
  store: DeploymentStore;
  plan: Plan;
  spec: DeploymentSpec;
  run: (more?: Partial<EngineOptions>) => ReturnType<typeof runDeployment>;
  events: DeployEvent[];
}

let deploymentNo = 0;
async function setUp(groups: GroupDef[], waves: string, more: Partial<EngineOptions> = {}, store: DeploymentStore = createMemoryDeploymentStore(), specExtra: Partial<DeploymentSpec> = {}): Promise<Setup & { id: string }> {
  const plan = planOf(groups);
  const layout = layoutWaves(plan.groups, { sizes: parseWaveSizes(waves), bakeMs: 0 });
  const spec: DeploymentSpec = { format: 1, plan: { id: plan.id, version: 1 }, layout, concurrency: 2, hostTimeoutMs: 120_000, snapshot: { conffiles: true }, groups: {}, policy: 'revisions', ...specExtra };
  const id = `d${++deploymentNo}`;
  await createDeploymentFor(store, { id, plan, spec, by: 'test' });
  const byName = new Map(lab.hosts.map((h) => [h.name, h]));
  const events: DeployEvent[] = [];
  const run = (extra: Partial<EngineOptions> = {}): ReturnType<typeof runDeployment> => runDeployment({
    store, deployment: id, plan, judge: passing, leaseTtlMs: 5_000,
    driverFor: (name) => driverOf(byName.get(name)!),
    debCacheFor: (name) => ({ cache: createDebCache(path.join(lab.dir, 'debs', id, name)), source: { baseUrl: lab.repository.dir } }),
    onEvent: (e) => events.push(e),
    ...more, ...extra,
  });
  return { id, store, plan, spec, run, events };
}

/** started and ended entries per step key. */
function stepCounts(journal: readonly JournalEntry[]): Map<string, { started: number; ended: number; outcomes: string[] }> {
  const m = new Map<string, { started: number; ended: number; outcomes: string[] }>();
  for (const e of journal.filter((x) => x.kind === 'step')) {
    const c = m.get(e.key) ?? { started: 0, ended: 0, outcomes: [] };
    if (e.phase === 'started') c.started++;
    if (e.phase === 'ended') {
      c.ended++;
      c.outcomes.push(e.outcome ?? '');
    }
    m.set(e.key, c);
  }
  return m;
}

const beforeSnapshots = (journal: readonly JournalEntry[]): Map<string, Snapshot> =>
  new Map(journal.filter((e) => e.kind === 'snapshot' && e.phase === 'ended' && e.outcome === 'succeeded' && e.key.includes('/snapshot/before')).map((e) => [e.host!, (e.body as { snapshot: Snapshot }).snapshot]));

async function expectIdenticalToSnapshot(h: LabHost, before: Snapshot | undefined): Promise<void> {
  expect(before, `no pre-deployment snapshot of ${h.name}`).toBeDefined();
  const now = await driverOf(h).takeSnapshot({ conffiles: true });
  if (now.kind !== 'ok') throw new Error(JSON.stringify(now));
  expect(compareSnapshots(before!, now.value), h.name).toEqual([]);
}

describe('the wave engine on directory-root hosts', () => {
  it('rolls a plan out across waves: canary of each group first, every host upgraded, every step journaled started then ended', async () => {
    const [a1, a2, b1] = [lab.hosts[0]!, lab.hosts[1]!, lab.hosts[2]!];
    await Promise.all([install(a1, { demo: '1.0' }), install(a2, { demo: '1.0' }), install(b1, { demo: '1.0', tool: '1.0' })]);
    const s = await setUp([
      { key: 'A', hosts: [a1, a2], installed: { demo: '1.0' }, changes: upgradeDemo },
      { key: 'B', hosts: [b1], installed: { demo: '1.0', tool: '1.0' }, changes: upgradeDemo },
    ], '1,100%');
    expect(s.spec.layout.waves.map((w) => w.hosts.map((h) => h.host))).toEqual([[a1.name, b1.name], [a2.name]]);
    const judged: Array<{ wave: number; changed: string[]; control: string[] }> = [];
    const r = await s.run({ judge: async (ctx) => {
      judged.push({ wave: ctx.wave, changed: [...ctx.changedHosts].sort(), control: ctx.controlHosts });
      return { verdict: 'passed', evidence: [] };
    } });
    expect(r).toMatchObject({ kind: 'finished', status: 'succeeded' });
    expect((await s.store.getDeployment(s.id))?.status).toBe('succeeded');
    for (const h of [a1, a2]) expect(await installed(h)).toEqual({ demo: 'ii 2.0' });
    expect(await installed(b1)).toEqual({ demo: 'ii 2.0', tool: 'ii 1.0' });
    expect(judged).toEqual([{ wave: 1, changed: [a1.name, b1.name].sort(), control: [a2.name] }, { wave: 2, changed: [a2.name], control: [] }]);
    const journal = await s.store.readJournal(s.id);
    const counts = stepCounts(journal);
    expect([...counts.keys()].sort()).toEqual([`w1/${a1.name}/forward/0`, `w1/${b1.name}/forward/0`, `w2/${a2.name}/forward/0`].sort());
    for (const c of counts.values()) expect(c).toEqual({ started: 1, ended: 1, outcomes: ['succeeded'] });
    // each host's started comes before its ended, and the wave-2 host starts after wave 1 ended
    const seqOf = (key: string, phase: string): number => journal.find((e) => e.key === key && e.phase === phase)!.seq;
    expect(seqOf(`w2/${a2.name}/forward/0`, 'started')).toBeGreaterThan(seqOf('w1', 'ended'));
    expect(journal.filter((e) => e.kind === 'decision').map((e) => (e.body as { decision: string }).decision)).toEqual(['promote', 'promote', 'succeeded']);
    // the former .debs were kept before the upgrade
    expect(journal.filter((e) => e.key.includes('/keep-debs/')).map((e) => e.body)).toEqual(expect.arrayContaining([{ kept: [{ name: 'demo', version: '1.0', outcome: 'kept' }] }]));
    expect(s.events.filter((e) => e.kind === 'wave-started').length).toBe(2);
    // the lease was given up: another controller can take it at once
    expect((await s.store.acquireLease(s.id, 'someone-else', 1000)).kind).toBe('acquired');
  });

  it('a maintainer script failing in wave 2 rolls every changed host back, each identical to its snapshot', async () => {
    const hs = [lab.hosts[3]!, lab.hosts[4]!, lab.hosts[5]!];
    await Promise.all(hs.map((h) => install(h, { demo: '1.0' })));
    await driverOf(hs[0]!).apply({ kind: 'write-config', path: '/etc/demo.conf', content: 'level=operator\n', mode: 0o600 });
    const bad = hs[2]!;
    await mkdir(path.join(bad.root, 'etc/lab-fail'), { recursive: true });
    await writeFile(path.join(bad.root, 'etc/lab-fail/demo-2'), '');
    const s = await setUp([{ key: 'A', hosts: hs, installed: { demo: '1.0' }, changes: upgradeDemo }], '1,100%');
    expect(s.spec.layout.waves.map((w) => w.hosts.map((h) => h.host))).toEqual([[hs[0]!.name], [hs[1]!.name, hs[2]!.name]]);
    const r = await s.run({ onEvent: (e) => { s.events.push(e); } });
    expect(r).toMatchObject({ kind: 'finished', status: 'rolled-back' });
    const journal = await s.store.readJournal(s.id);
    const befores = beforeSnapshots(journal);
    for (const h of hs) {
      expect(await installed(h)).toEqual({ demo: 'ii 1.0' });
      await expectIdenticalToSnapshot(h, befores.get(h.name));
    }
    expect(readFileSync(path.join(hs[0]!.root, 'etc/demo.conf'), 'utf8')).toBe('level=operator\n');
    // the failure is journaled with dpkg's output, then the host rollback, then the rollout's
    const failed = journal.find((e) => e.key === `w2/${bad.name}/forward/0` && e.phase === 'ended');
    expect(failed?.outcome).toBe('failed');
    expect(JSON.stringify(failed?.body)).toContain('told to fail');
    const decisions = journal.filter((e) => e.kind === 'decision').map((e) => e.body as { decision: string; reason: string; evidence?: { scope?: string } });
    expect(decisions.map((d) => `${d.decision}${d.evidence?.scope ? `:${d.evidence.scope}` : ''}`)).toEqual(['promote', 'roll-back:host', 'roll-back:rollout', 'rolled-back']);
    expect(decisions[2]!.reason).toMatch(/failure budget exhausted/);
    const states = journal.filter((e) => e.kind === 'host').map((e) => `${e.host}:${(e.body as { state: string }).state}`);
    expect(states).toEqual(expect.arrayContaining([`${bad.name}:failed`, `${bad.name}:restored`, `${hs[0]!.name}:restored`, `${hs[1]!.name}:restored`]));
    expect(states.some((x) => x.endsWith(':needs-attention'))).toBe(false);
  });

  it('re-solves a drifted host on its real state, and skips one whose state has no solution', async () => {
    const [ok, drifted, stuck] = [lab.hosts[6]!, lab.hosts[7]!, lab.hosts[8]!];
    await Promise.all([install(ok, { demo: '1.0' }), install(drifted, { demo: '1.0', tool: '1.0' }), install(stuck, { demo: '1.0', tool: '2.0' })]);
    const asked: Array<{ host: string; installed: string[] }> = [];
    const resolveHost: ResolveHost = async (input) => {
      asked.push({ host: input.host, installed: input.installed.map((p) => `${p.name}=${p.version}`).sort() });
      if (input.installed.some((p) => p.name === 'tool' && p.version === '2.0')) return { kind: 'conflict', explanation: { facts: ['tool 2.0 conflicts (scripted)'] } };
      return { kind: 'changes', changes: [...input.planned, { name: 'tool', action: 'upgrade', from: '1.0', to: '2.0' }], withinPolicy: true, reason: 'tool 1.0 found on the host needs 2.0 beside demo 2.0 (scripted)' };
    };
    const s = await setUp([{ key: 'A', hosts: [ok, drifted, stuck], installed: { demo: '1.0' }, changes: upgradeDemo }], '100%', { resolveHost });
    const r = await s.run();
    expect(r).toMatchObject({ kind: 'finished', status: 'succeeded' });
    // a skipped host is never hidden: the deployment's status says so
    expect((await s.store.getDeployment(s.id))?.statusReason).toBe(`1 host(s) skipped, left as they were: ${stuck.name} (rollwise deploy log says why)`);
    expect(asked.map((a) => a.host).sort()).toEqual([drifted.name, stuck.name].sort());
    expect(asked.find((a) => a.host === drifted.name)?.installed).toEqual(['demo=1.0', 'tool=1.0']);
    expect(await installed(ok)).toEqual({ demo: 'ii 2.0' });
    expect(await installed(drifted)).toEqual({ demo: 'ii 2.0', tool: 'ii 2.0' });
    // the skipped host was not touched
    expect(await installed(stuck)).toEqual({ demo: 'ii 1.0', tool: 'ii 2.0' });
    const journal = await s.store.readJournal(s.id);
    const decisions = journal.filter((e) => e.kind === 'decision').map((e) => e.body as { decision: string; hosts?: string[]; evidence?: { drift?: unknown; explanation?: unknown } });
    const resolved = decisions.find((d) => d.decision === 're-solve');
    expect(resolved?.hosts).toEqual([drifted.name]);
    expect(resolved?.evidence?.drift).toEqual([{ name: 'tool', real: '1.0' }]);
    const skipped = decisions.find((d) => d.decision === 'skip-host');
    expect(skipped?.hosts).toEqual([stuck.name]);
    expect(skipped?.evidence?.explanation).toEqual({ facts: ['tool 2.0 conflicts (scripted)'] });
    expect(journal.some((e) => e.host === stuck.name && e.kind === 'step')).toBe(false);
  });

  it('a controller killed between journaling a step and applying it: a fresh controller finds it not done and does it once', async () => {
    const h = lab.hosts[9]!;
    await install(h, { demo: '1.0' });
    const s = await setUp([{ key: 'A', hosts: [h], installed: { demo: '1.0' }, changes: upgradeDemo }], '100%');
    const key = `w1/${h.name}/forward/0`;
    const first = await s.run({ leaseTtlMs: 300, crashAfter: (e) => e.key === key && e.phase === 'started' });
    expect(first).toEqual({ kind: 'halted', reason: 'crash seam' });
    expect(await installed(h)).toEqual({ demo: 'ii 1.0' });
    // the dead controller's lease expires; a second one resumes
    await new Promise((r) => setTimeout(r, 400));
    const second = await s.run({ holder: 'controller-2' });
    expect(second).toMatchObject({ kind: 'finished', status: 'succeeded' });
    expect(await installed(h)).toEqual({ demo: 'ii 2.0' });
    // done once: one configure of 2.0 by its postinst, and the journal says why there is a retry
    expect(scriptLog(h, 'demo').filter((l) => l.startsWith('postinst configure')).length).toBe(2); // 1.0's install, 2.0's upgrade
    const counts = stepCounts(await s.store.readJournal(s.id));
    expect(counts.get(key)).toEqual({ started: 1, ended: 1, outcomes: ['unknown'] });
    expect(counts.get(`${key}/retry`)).toEqual({ started: 1, ended: 1, outcomes: ['succeeded'] });
  });

  it('a controller killed after applying a step but before journaling its end: resumed, the snapshot shows it done and it is not done again', async () => {
    const h = lab.hosts[10]!;
    await install(h, { demo: '1.0' });
    const s = await setUp([{ key: 'A', hosts: [h], installed: { demo: '1.0' }, changes: upgradeDemo }], '100%');
    const key = `w1/${h.name}/forward/0`;
    const first = await s.run({ leaseTtlMs: 300, crashBefore: (e) => e.key === key && e.phase === 'ended' });
    expect(first.kind).toBe('halted');
    expect(await installed(h)).toEqual({ demo: 'ii 2.0' });
    await new Promise((r) => setTimeout(r, 400));
    const second = await s.run({ holder: 'controller-2' });
    expect(second).toMatchObject({ kind: 'finished', status: 'succeeded' });
    expect(scriptLog(h, 'demo').filter((l) => l.startsWith('postinst configure')).length).toBe(2);
    const journal = await s.store.readJournal(s.id);
    expect(stepCounts(journal).get(key)).toEqual({ started: 1, ended: 1, outcomes: ['succeeded'] });
    expect(stepCounts(journal).has(`${key}/retry`)).toBe(false);
    expect(journal.some((e) => e.kind === 'decision' && (e.body as { decision: string; reason: string }).decision === 'reconcile' && /took effect/.test((e.body as { reason: string }).reason))).toBe(true);
  });

  it('a failed verdict rolls the wave back; an inconclusive one pauses, and resume continues', async () => {
    const [x, y] = [lab.hosts[11]!, lab.hosts[0]!];
    await install(x, { demo: '1.0' });
    const failing = await setUp([{ key: 'A', hosts: [x], installed: { demo: '1.0' }, changes: upgradeDemo }], '100%', {
      judge: async () => ({ verdict: 'failed', evidence: [{ metric: 'error_rate', query: 'rate(errors[1m])', values: [0.31], limit: 0.05, window: '1m' }] }),
    });
    const r = await failing.run();
    expect(r).toMatchObject({ kind: 'finished', status: 'rolled-back' });
    expect(await installed(x)).toEqual({ demo: 'ii 1.0' });
    const journal = await failing.store.readJournal(failing.id);
    await expectIdenticalToSnapshot(x, beforeSnapshots(journal).get(x.name));
    const verdict = journal.find((e) => e.kind === 'verdict');
    expect(verdict?.body).toMatchObject({ verdict: 'failed', changedHosts: [x.name], evidence: [{ metric: 'error_rate', values: [0.31] }] });
    expect(journal.filter((e) => e.kind === 'decision').map((e) => (e.body as { decision: string }).decision)).toEqual(['roll-back', 'rolled-back']);

    // y was upgraded by the first test: this plan takes it back to 1.0 (a downgrade), judged inconclusive
    const down: PackageChange[] = [{ name: 'demo', action: 'downgrade', from: '2.0', to: '1.0' }];
    const paused = await setUp([{ key: 'A', hosts: [y], installed: { demo: '2.0' }, changes: down }], '100%', { judge: async () => ({ verdict: 'inconclusive', evidence: [{ metric: 'latency_p99', outcome: 'no-data' }] }) });
    const p = await paused.run();
    expect(p).toMatchObject({ kind: 'finished', status: 'paused' });
    expect((await paused.store.getDeployment(paused.id))?.statusReason).toMatch(/inconclusive/);
    expect(await installed(y)).toEqual({ demo: 'ii 1.0' });
    const resumed = await paused.run({ judge: async () => { throw new Error('not judged again: the operator resumed'); } });
    expect(resumed).toMatchObject({ kind: 'finished', status: 'succeeded' });
    expect(stepCounts(await paused.store.readJournal(paused.id)).get(`w1/${y.name}/forward/0`)).toEqual({ started: 1, ended: 1, outcomes: ['succeeded'] });
  });

  it('a controller whose lease passed to another stops at once: no write after it lost the lease, the next wave untouched', async () => {
    const [h3, h4] = [lab.hosts[3]!, lab.hosts[4]!];
    expect(await installed(h3)).toEqual({ demo: 'ii 1.0' });
    let now = Date.now();
    const store = createMemoryDeploymentStore(() => now);
    let lastSeqBeforeLoss = 0;
    const s = await setUp([{ key: 'A', hosts: [h3, h4], installed: { demo: '1.0' }, changes: upgradeDemo }], '1,100%', {}, store);
    const r = await s.run({
      leaseTtlMs: 300,
      judge: async () => {
        // the controller stalls past its lease; another takes the deployment over
        now += 60_000;
        const other = await store.acquireLease(s.id, 'controller-2', 60_000);
        expect(other.kind).toBe('acquired');
        lastSeqBeforeLoss = (await store.readJournal(s.id)).at(-1)!.seq;
        await new Promise((res) => setTimeout(res, 250));
        return { verdict: 'passed', evidence: [] };
      },
    });
    expect(r).toEqual({ kind: 'halted', reason: 'lease lost' });
    expect((await store.readJournal(s.id)).at(-1)!.seq).toBe(lastSeqBeforeLoss);
    expect(await installed(h3)).toEqual({ demo: 'ii 2.0' });
    expect(await installed(h4)).toEqual({ demo: 'ii 1.0' });
    expect((await store.getDeployment(s.id))?.status).toBe('running');
  });

  it('a pause asked for between the hosts of a wave stops there; resumed, a failed verdict runs the rollback plan, falls back to the snapshot restore when a plan step fails, and verifies', async () => {
    const [x, y] = [lab.hosts[12]!, lab.hosts[13]!];
    await Promise.all([x, y].map((h) => install(h, { demo: '1.0' })));
    // a rollback plan whose downgrade names a version no cache or index has: its step fails
    const broken: GroupRollback = {
      group: 'A', kind: 'rollback', before: [], after: [], target: [], flags: [], forwardSafeguards: [], depths: [], checks: 0,
      steps: [{ kind: 'packages', changes: [{ name: 'demo', action: 'downgrade', from: '2.0', to: '0.9' }], debs: [] }, { kind: 'restore-conffiles', package: 'demo', state: { kind: 'snapshot' } }],
    };
    const s = await setUp([{ key: 'A', hosts: [x, y], installed: { demo: '1.0' }, changes: upgradeDemo }], '100%', { rollbackPlanFor: async () => broken }, undefined, { concurrency: 1 });
    let asked = false;
    const first = await s.run({
      onEvent: (e) => {
        if (e.kind === 'host-finished' && !asked) {
          asked = true;
          void s.store.requestControl(s.id, 'pause', 'operator');
        }
      },
    });
    expect(first).toMatchObject({ kind: 'finished', status: 'paused', reason: expect.stringContaining('during wave 1') });
    const upgraded = [await installed(x), await installed(y)].filter((v) => v.demo === 'ii 2.0').length;
    expect(upgraded).toBeLessThan(2);
    const failing: WaveJudge = async () => ({ verdict: 'failed', evidence: [{ metric: 'error_rate', values: [0.5] }] });
    const second = await s.run({ judge: failing });
    expect(second).toMatchObject({ kind: 'finished', status: 'rolled-back' });
    const journal = await s.store.readJournal(s.id);
    const fallbacks = journal.filter((e) => e.kind === 'decision' && (e.body as { evidence?: { fallback?: string } }).evidence?.fallback === 'snapshot-restore').map((e) => (e.body as { hosts: string[] }).hosts[0]);
    expect(fallbacks.sort()).toEqual([x.name, y.name].sort());
    const restored = journal.filter((e) => e.kind === 'host' && (e.body as { state: string }).state === 'restored').map((e) => e.body as { source: string; planFailure?: string });
    expect(restored.map((b) => b.source)).toEqual(['snapshot-restore', 'snapshot-restore']);
    expect(restored[0]!.planFailure).toMatch(/rollback plan step 1 \(packages\) failed/);
    const before = beforeSnapshots(journal);
    for (const h of [x, y]) await expectIdenticalToSnapshot(h, before.get(h.name));
  });

  it('a host that cannot be read is skipped untouched, and the deployment then needs attention (never succeeded)', async () => {
    const h = lab.hosts[0]!;
    const before = await installed(h);
    const s = await setUp([{ key: 'A', hosts: [h], installed: { demo: '1.0' }, changes: upgradeDemo }], '100%', {
      driverFor: () => ({ ...driverOf(h), readInstalled: async () => ({ kind: 'failed' as const, message: 'ssh: connection refused (scripted)' }) }) as unknown as ReturnType<EngineOptions['driverFor']>,
    });
    const r = await s.run();
    expect(r).toMatchObject({ kind: 'finished', status: 'needs-attention', reason: expect.stringContaining(`${h.name} (cannot read the host's packages: ssh: connection refused (scripted))`) });
    expect((await s.store.getDeployment(s.id))?.status).toBe('needs-attention');
    expect(await installed(h)).toEqual(before);
  });

  it('deploy abort with a live controller names its holder and lease end; a free lease is seen as no controller', async () => {
    const store = createMemoryDeploymentStore();
    const plan = planOf([{ key: 'A', hosts: [lab.hosts[0]!], installed: { demo: '1.0' }, changes: upgradeDemo }]);
    const spec: DeploymentSpec = { format: 1, plan: { id: plan.id, version: 1 }, layout: layoutWaves(plan.groups, { sizes: parseWaveSizes('100%'), bakeMs: 0 }), concurrency: 1, hostTimeoutMs: 1000, snapshot: {}, groups: {}, policy: 'revisions' };
    await createDeploymentFor(store, { id: 'ctl1', plan, spec, by: 't' });
    const lease = await store.acquireLease('ctl1', 'ann@42', 60_000);
    if (lease.kind !== 'acquired') throw new Error('lease not acquired');
    await store.setDeploymentStatus('ctl1', 'running', lease.fence);
    const r = await controlDeployment({ store: store as unknown as DeployStore, deployment: 'ctl1', action: 'abort', debCacheDir: lab.dir });
    expect(r).toMatchObject({ requested: true, controller: { live: true, holder: 'ann@42', expiresAt: lease.expiresAt } });
    expect(r.result).toBeUndefined();
    await store.releaseLease('ctl1', lease.fence);
    expect(await controllerOf(store, 'ctl1')).toEqual({ live: false });
  });

  it('refuses a plan that is not approved', async () => {
    const plan = { ...planOf([{ key: 'A', hosts: [lab.hosts[0]!], installed: { demo: '1.0' }, changes: upgradeDemo }]), status: 'ready' as const };
    const spec: DeploymentSpec = { format: 1, plan: { id: plan.id, version: 1 }, layout: layoutWaves(plan.groups, { sizes: parseWaveSizes('100%'), bakeMs: 0 }), concurrency: 1, hostTimeoutMs: 1000, snapshot: {}, groups: {}, policy: 'revisions' };
    await expect(createDeploymentFor(createMemoryDeploymentStore(), { id: 'x', plan, spec, by: 't' })).rejects.toMatchObject({ code: 'RW_APPROVAL_GATE' });
  });
});
