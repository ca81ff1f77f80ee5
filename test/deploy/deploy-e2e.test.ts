// End to end on the lab: `rollwise deploy` as the deployment service runs it, on directory-root
// hosts whose packages ship a runit service (the lab's metrics server; its behaviour comes from
// the JSON its package version ships), watched by a real Prometheus scraping every service each
// second, judged by the knowledge base's metric checks. (a) a healthy rollout passes its verdicts
// wave by wave; (b) a version that crash-loops some seconds after it starts is caught by the
// metrics in wave 2 and every host is rolled back by the planner's rollback plan, each identical
// to its pre-deployment snapshot; (c) Prometheus stopped during a bake pauses, never passes;
// (d) a planned version withdrawn from the repository before its wave is re-solved to another
// packaging revision under the policy `revisions`.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionBody, DeployEvent, JournalEntry } from '../../src/deploy/index.js';
import { createDirectoryRootDriver, type HostDriver } from '../../src/hosts/index.js';
import { buildRequest, compareSnapshots, type Snapshot } from '../../src/planner/index.js';
import { startPrometheusServer, type PrometheusServer } from '../../src/monitor/index.js';
import { approvePlan, deploymentLog, openStore, planFleet, resumeDeployment, startDeployment, type DeployStore } from '../../src/app/index.js';
import { createLab, freePort, type Lab, type LabHost } from '../lab/index.js';

let lab: Lab;
let store: DeployStore & { close(): Promise<void> };
let prometheus: PrometheusServer;
const ports = new Map<string, number>();
// hosts per scenario: (a) 0-2 web, (b) 3-5 api, (c) 6-7 web, (d) 8-9 web
const HOSTS = { a: [0, 1, 2], b: [3, 4, 5], c: [6, 7], d: [8, 9] } as const;
const serviceOf = (i: number): string => (i >= 3 && i <= 5 ? 'api' : 'web');

const KB = `apiVersion: rollwise/v1
kind: KnowledgeBase
layer: { name: e2e, precedence: 50, trust: organisation, author: test, date: 2026-12-04, source: test }
services:
  - name: web
    criticality: high
    packages: [web]
    restart: { runit: web }
    metrics:
      - name: error-ratio
        promql: 'sum by (host) (rate(lab_requests_total{code="500",job="rollwise",service="web"}[5s])) / sum by (host) (rate(lab_requests_total{job="rollwise",service="web"}[5s]))'
        max: 0.05
        interval: 1s
        canary: false
  - name: api
    criticality: high
    packages: [api]
    restart: { runit: api }
    metrics:
      - name: restarts
        promql: 'changes(process_start_time_seconds{job="rollwise",service="api"}[1m])'
        max: 2
        interval: 1s
        canary: false
`;

const driverOf = (h: LabHost): HostDriver => createDirectoryRootDriver({ root: h.root, name: h.name });
const SNAP = (service: string): { conffiles: boolean; services: string[] } => ({ conffiles: true, services: [service] });

async function snapshot(h: LabHost, service: string): Promise<Snapshot> {
  const r = await driverOf(h).takeSnapshot(SNAP(service));
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
  return r.value;
}
async function installed(h: LabHost, name: string): Promise<string | undefined> {
  const r = await driverOf(h).readInstalled();
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
  const p = r.value.find((x) => x.name === name);
  return p ? `${p.status.trim()} ${p.version}` : undefined;
}

async function planFor(scenario: keyof typeof HOSTS, install: string): Promise<string> {
  const hosts = HOSTS[scenario].map((i) => lab.hosts[i]!);
  const inventory = path.join(lab.dir, `inventory-${scenario}.yaml`);
  await writeFile(inventory, `groups:\n  fleet: {}\nhosts:\n${hosts.map((h) => `  - name: ${h.name}\n    groups: [fleet]\n    root: ${path.relative(lab.dir, h.root)}\n`).join('')}`);
  const { plan } = await planFleet({ inventory: [inventory], local: false, sshHost: [], kb: [path.join(lab.dir, 'kb')], index: [path.join(lab.repository.dir, 'Packages')], skipUnreachable: false, request: buildRequest({ install: [install] }) });
  await store.savePlan(plan);
  await approvePlan(store, plan.id, 'tester');
  return plan.id;
}

const decisions = (entries: readonly JournalEntry[]): DecisionBody[] => entries.filter((e) => e.kind === 'decision').map((e) => e.body as DecisionBody);
const verdicts = (entries: readonly JournalEntry[]): Array<{ wave: number; verdict: string; evidence: Array<Record<string, unknown>> }> =>
  entries.filter((e) => e.kind === 'verdict').map((e) => ({ wave: e.wave!, ...(e.body as { verdict: string; evidence: Array<Record<string, unknown>> }) }));

beforeAll(async () => {
  lab = await createLab({
    hosts: 10,
    packages: [
      { name: 'web', version: '1.0-1', scripts: false, service: { name: 'web', restartOnUpgrade: false } },
      { name: 'web', version: '2.0-1', scripts: false, service: { name: 'web', restartOnUpgrade: false } },
      { name: 'api', version: '1.0-1', scripts: false, service: { name: 'api', restartOnUpgrade: false } },
      { name: 'api', version: '2.0-1', scripts: false, service: { name: 'api', restartOnUpgrade: false, behaviour: { crashAfterSeconds: 8 } } },
    ],
  });
  store = (await openStore(path.join(lab.dir, 'store', 'rollwise.db'))) as unknown as DeployStore & { close(): Promise<void> };
  await mkdir(path.join(lab.dir, 'kb'), { recursive: true });
  await writeFile(path.join(lab.dir, 'kb', 'layer.yaml'), KB);
  // each host: its service's package at 1.0-1, supervised by its own runit (the packages have no
  // maintainer scripts, so the service link is made here, as an operator's setup would)
  for (const [i, h] of lab.hosts.entries()) {
    const service = serviceOf(i);
    const port = await freePort();
    ports.set(h.name, port);
    await lab.setServicePort(h, service, port);
    const o = await driverOf(h).apply({ kind: 'packages', changes: [{ name: service, action: 'install', to: '1.0-1' }] });
    if (o.status !== 'succeeded') throw new Error(JSON.stringify(o).slice(0, 1500));
    await mkdir(h.svdir, { recursive: true });
    await symlink(`../sv/${service}`, path.join(h.svdir, service));
    lab.startSupervisor(h);
  }
  prometheus = await startPrometheusServer({ targets: lab.hosts.map((h, i) => ({ address: `127.0.0.1:${ports.get(h.name)}`, labels: { host: h.name, service: serviceOf(i) } })), scrapeIntervalMs: 1000 });
  await prometheus.waitForTargets(60_000);
}, 180_000);

afterAll(async () => {
  await prometheus?.stop();
  await store?.close();
  await lab?.destroy();
});

const common = (): { store: DeployStore; debCacheDir: string; prometheus: string; prometheusHostLabel: string; controlPollMs: number } => ({
  store, debCacheDir: path.join(lab.dir, 'debs'), prometheus: prometheus.url, prometheusHostLabel: 'host', controlPollMs: 200,
});

describe('deploy on the lab, judged by a real Prometheus', () => {
  it('(a) a healthy rollout across waves passes each verdict on the metrics', async () => {
    const plan = await planFor('a', 'web=2.0-1');
    const run = await startDeployment({ ...common(), plan, waves: '1,100%', bake: '3s' });
    expect(run.result).toMatchObject({ kind: 'finished', status: 'succeeded' });
    for (const i of HOSTS.a) expect(await installed(lab.hosts[i]!, 'web')).toBe('ii 2.0-1');
    const log = await deploymentLog(store, run.id);
    const v = verdicts(log.entries);
    expect(v.map((x) => `${x.wave}:${x.verdict}`)).toEqual(['1:passed', '2:passed']);
    // the evidence names the metric, its query, the window and the hosts' values
    const check = v[0]!.evidence.find((e) => e.check === 'web/error-ratio')!;
    expect(check).toMatchObject({ metric: 'web/error-ratio', provider: 'prometheus', query: expect.stringContaining('lab_requests_total'), status: 'passed' });
    expect((check.changed as Array<{ host: string; values: number[] }>)[0]!.values.length).toBeGreaterThan(0);
    expect((check.window as { start: number; end: number }).end).toBeGreaterThan((check.window as { start: number }).start);
  }, 120_000);

  it('(b) a version that crash-loops is caught by the metrics in wave 2; every host is rolled back by the plan, identical to its snapshot', async () => {
    const hosts = HOSTS.b.map((i) => lab.hosts[i]!);
    const before = new Map(await Promise.all(hosts.map(async (h) => [h.name, await snapshot(h, 'api')] as const)));
    const plan = await planFor('b', 'api=2.0-1');
    // 2.0-1 exits 8 s after it starts (runit starts it again): its restarts pass the limit (2 in a
    // minute: the upgrade's and one crash) only in its second crash, after the canary wave's 10 s bake
    const run = await startDeployment({ ...common(), plan, waves: '1,100%', bake: '10s', concurrency: 2 });
    expect(run.result).toMatchObject({ kind: 'finished', status: 'rolled-back' });
    const log = await deploymentLog(store, run.id, true);
    const v = verdicts(log.entries);
    const failed = v.find((x) => x.verdict === 'failed')!;
    expect(failed).toBeDefined();
    const evidence = failed.evidence.find((e) => e.check === 'api/restarts')!;
    expect(evidence).toMatchObject({ status: 'failed', query: expect.stringContaining('process_start_time_seconds') });
    // the fault shows only once the version has run a while: the canary wave passed first, and
    // wave 2's judge, still watching the canary host, saw it
    expect(v.map((x) => `${x.wave}:${x.verdict}`)).toEqual(['1:passed', '2:failed']);
    const canary = (log.entries.find((e) => e.kind === 'verdict' && e.wave === 1)!.body as { changedHosts: string[] }).changedHosts;
    expect(evidence.hosts).toEqual(expect.arrayContaining(canary));
    // every host rolled back by the planner's rollback plan (no fallback), then verified
    const plans = log.entries.filter((e) => e.kind === 'snapshot' && /\/rollback\d+\/plan$/.test(e.key)).map((e) => e.host);
    expect(new Set(plans)).toEqual(new Set(hosts.map((h) => h.name)));
    expect(decisions(log.entries).filter((d) => (d.evidence as { fallback?: string } | undefined)?.fallback)).toEqual([]);
    const restored = log.entries.filter((e) => e.kind === 'host' && (e.body as { state: string }).state === 'restored');
    expect(restored.map((e) => (e.body as { source: string }).source)).toEqual(hosts.map(() => 'plan'));
    for (const h of hosts) {
      expect(await installed(h, 'api')).toBe('ii 1.0-1');
      expect(compareSnapshots(before.get(h.name)!, await snapshot(h, 'api'))).toEqual([]);
    }
  }, 120_000);

  it('(c) Prometheus stopped during a bake: the verdict is inconclusive and the deployment pauses, never passes', async () => {
    const own = await startPrometheusServer({ targets: HOSTS.c.map((i) => ({ address: `127.0.0.1:${ports.get(lab.hosts[i]!.name)}`, labels: { host: lab.hosts[i]!.name, service: 'web' } })), scrapeIntervalMs: 1000 });
    try {
      await own.waitForTargets(60_000);
      const plan = await planFor('c', 'web=2.0-1');
      let stopped: Promise<void> | undefined;
      const onEvent = (e: DeployEvent): void => {
        if (e.kind === 'baking' && e.wave === 1) stopped ??= own.stop();
      };
      const run = await startDeployment({ ...common(), prometheus: own.url, plan, waves: '1,100%', bake: '8s', onEvent });
      await stopped;
      expect(run.result).toMatchObject({ kind: 'finished', status: 'paused' });
      const log = await deploymentLog(store, run.id);
      const v = verdicts(log.entries);
      expect(v.map((x) => `${x.wave}:${x.verdict}`)).toEqual(['1:inconclusive']);
      expect(v[0]!.evidence.find((e) => e.check === 'web/error-ratio')).toMatchObject({ status: 'inconclusive', reasons: expect.arrayContaining([expect.objectContaining({ kind: 'consecutive-errors' })]) });
      expect(decisions(log.entries).at(-1)).toMatchObject({ decision: 'pause', wave: 1 });
      // wave 2 was never started
      expect(await installed(lab.hosts[HOSTS.c[1]]!, 'web')).toBe('ii 1.0-1');
    } finally {
      await own.stop();
    }
  }, 120_000);

  it('(d) a planned version withdrawn before its wave is re-solved to another packaging revision (policy revisions)', async () => {
    const plan = await planFor('d', 'web (>= 2.0)');
    const first = await startDeployment({ ...common(), plan, waves: '1,100%', bake: '1s', gateAfter: [1] });
    expect(first.result).toMatchObject({ kind: 'finished', status: 'paused' });
    expect(await installed(lab.hosts[HOSTS.d[0]]!, 'web')).toBe('ii 2.0-1');
    // between the waves the repository replaces 2.0-1 by a new packaging revision
    await lab.repository.add([{ name: 'web', version: '2.0-2', scripts: false, service: { name: 'web', restartOnUpgrade: false } }]);
    await lab.repository.drop('web', '2.0-1');
    const resumed = await resumeDeployment({ ...common(), deployment: first.id });
    expect(resumed.result).toMatchObject({ kind: 'finished', status: 'succeeded' });
    const second = lab.hosts[HOSTS.d[1]]!;
    expect(await installed(second, 'web')).toBe('ii 2.0-2');
    const log = await deploymentLog(store, first.id);
    const resolve = decisions(log.entries).find((d) => d.decision === 're-solve');
    expect(resolve).toMatchObject({ hosts: [second.name] });
    expect((resolve!.evidence as { changes: Array<{ name: string; to: string }> }).changes.map((c) => `${c.name}=${c.to}`)).toEqual(['web=2.0-2']);
  }, 120_000);
});
