/**
 * The world of `npm run bench:deploy`: one lab repository whose `app` package ships a runit
 * service (test/lab/service/metrics-server.mjs, behaving as its version's JSON says), one version
 * per injected fault; plans made once from an inventory of directory roots and approved in a
 * SQLite store; fresh labs of hosts running app 1.0 for each deployment; and what the bench reads
 * back from a host (its dpkg state, its service, the postinst log every version appends to).
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { approvePlan, openStore, planFleet, type DeployStore } from '../src/app/index.js';
import { createDirectoryRootDriver, type HostDriver } from '../src/hosts/index.js';
import { buildRequest, layoutWaves, parseWaveSizes, type Plan } from '../src/planner/index.js';
import { createDeploymentFor, type DeploymentSpec } from '../src/deploy/index.js';
import { createLab, createRepository, freePort, type DebSpec, type Lab, type LabHost, type LabRepository, type ServiceBehaviour } from '../test/lab/index.js';

export const FAULTS = ['crash-loop', 'error-rate', 'latency', 'memory', 'maintainer-script', 'broken-config'] as const;
export type FaultKind = (typeof FAULTS)[number];
export type RunKind = 'healthy' | FaultKind;

export const BASE_VERSION = '1.0';
/** The version each kind of deployment installs. */
export const TARGET: Record<RunKind, string> = {
  healthy: '2.0',
  'crash-loop': '2.0+crash',
  'error-rate': '2.0+errors',
  latency: '2.0+slow',
  memory: '2.0+mem',
  'maintainer-script': '2.0+script',
  'broken-config': '2.0+conf',
};

const HEALTHY: ServiceBehaviour = { errorRate: 0.01, latencyMs: 20 };
const BEHAVIOUR: Record<RunKind, ServiceBehaviour> = {
  healthy: HEALTHY,
  'crash-loop': { ...HEALTHY, crashAfterSeconds: 3 },
  'error-rate': { ...HEALTHY, errorRate: 0.12 },
  latency: { ...HEALTHY, latencyMs: 22 },
  memory: { ...HEALTHY, memoryGrowthMiBPerSecond: 2 },
  'maintainer-script': HEALTHY,
  'broken-config': HEALTHY,
};

/** The log every version's postinst appends to: one line per run of a script, with its version. */
export const STEP_LOG = '/var/log/bench-steps.log';
/** A host with this file fails app 2.0's postinst (a fault on one host of a healthy plan). */
export const FAIL_MARKER = '/etc/bench-fail-2.0';
/** The service's own configuration, written by the lab (PORT=...) and broken by app 2.0+conf. */
export const SERVICE_ENV = '/etc/lab/app.env';

function appSpec(version: string, behaviour: ServiceBehaviour, extra: string[] = [], fail = false): DebSpec {
  return {
    name: 'app',
    version,
    service: { name: 'app', behaviour },
    scriptLines: {
      postinst: [
        `echo "app ${version} postinst $*" >> "$DPKG_ROOT${STEP_LOG}"`,
        ...extra,
        ...(version === '2.0' ? [`if [ "$1" = configure ] && [ -e "$DPKG_ROOT${FAIL_MARKER}" ]; then echo "app 2.0: fails on this host" >&2; exit 1; fi`] : []),
      ],
    },
    ...(fail ? { fail: ['postinst' as const] } : {}),
  };
}

export function benchPackages(): DebSpec[] {
  return [
    appSpec(BASE_VERSION, HEALTHY),
    ...(Object.keys(TARGET) as RunKind[]).map((k) =>
      appSpec(
        TARGET[k],
        BEHAVIOUR[k],
        // a package that rewrites its service's configuration with a value the service cannot use
        k === 'broken-config' ? ['if [ "$1" = configure ]; then mkdir -p "$DPKG_ROOT/etc/lab"; echo "PORT=not-a-port" > "$DPKG_ROOT/etc/lab/app.env"; fi'] : [],
        k === 'maintainer-script',
      )),
  ];
}

export interface World {
  dir: string;
  repository: LabRepository;
  storeFile: string;
  store: DeployStore & { close(): Promise<void> };
  /** Approved plan per kind (app 1.0 → the kind's version on every host). */
  plans: Record<RunKind, Plan>;
  hosts: number;
}

const driverFor = (lab: Lab, h: LabHost): HostDriver => createDirectoryRootDriver({ root: h.root, name: h.name, chrootlessScripts: lab.chrootlessScripts });

async function installBase(lab: Lab, h: LabHost): Promise<void> {
  const o = await driverFor(lab, h).apply({ kind: 'packages', changes: [{ name: 'app', action: 'install', to: BASE_VERSION }] });
  if (o.status !== 'succeeded') throw new Error(`installing app ${BASE_VERSION} on ${h.name}: ${JSON.stringify(o).slice(0, 800)}`);
}

/** Builds the repository once and one approved plan per kind. */
export async function createWorld(dir: string, hosts: number): Promise<World> {
  await mkdir(dir, { recursive: true });
  const repository = await createRepository(path.join(dir, 'repo'), benchPackages());
  const planning = await createLab({ hosts, repository });
  try {
    await Promise.all(planning.hosts.map((h) => installBase(planning, h)));
    const kb = path.join(dir, 'kb');
    await mkdir(kb, { recursive: true });
    await writeFile(path.join(kb, 'layer.yaml'), 'apiVersion: rollwise/v1\nkind: KnowledgeBase\nlayer:\n  name: bench\n  precedence: 50\n  trust: organisation\n  author: bench\n  date: 2026-12-04\n  source: bench:deploy\n');
    const inventory = path.join(planning.dir, 'inventory.yaml');
    await writeFile(inventory, `groups:\n  web: {}\nhosts:\n${planning.hosts.map((h) => `  - name: ${h.name}\n    groups: [web]\n    root: ${path.relative(planning.dir, h.root)}\n`).join('')}`);
    const storeFile = path.join(dir, 'store', 'rollwise.db');
    const store = (await openStore(storeFile)) as unknown as World['store'];
    const plans = {} as Record<RunKind, Plan>;
    for (const k of Object.keys(TARGET) as RunKind[]) {
      const { plan } = await planFleet({ inventory: [inventory], local: false, sshHost: [], kb: [kb], index: [path.join(repository.dir, 'Packages')], skipUnreachable: false, request: buildRequest({ install: [`app=${TARGET[k]}`] }) });
      await store.savePlan(plan);
      await approvePlan(store, plan.id, 'bench');
      plans[k] = (await store.getPlan(plan.id))!;
    }
    return { dir, repository, storeFile, store, plans, hosts };
  } finally {
    await planning.destroy();
  }
}

/** Stores a new deployment of a kind's plan: waves `1,100%`, app restarted and checked. */
export async function newDeployment(world: World, kind: RunKind, id: string, bakeMs: number): Promise<DeploymentSpec> {
  const plan = world.plans[kind];
  const changing = plan.groups.filter((g) => g.outcome.kind === 'transaction' && g.outcome.changes.length > 0);
  const layout = layoutWaves(changing, { sizes: parseWaveSizes('1,100%'), bakeMs });
  const spec: DeploymentSpec = {
    format: 1, plan: { id: plan.id, version: plan.version }, layout, concurrency: 4, hostTimeoutMs: 120_000,
    snapshot: { conffiles: true, services: ['app'], configFiles: [SERVICE_ENV] },
    groups: Object.fromEntries(changing.map((g) => [g.key, { restart: ['app'], health: [{ kind: 'service' as const, service: 'app', state: 'running' as const, withinMs: 15_000 }] }])),
    policy: 'revisions',
  };
  await createDeploymentFor(world.store, { id, plan, spec, by: 'bench' });
  return spec;
}

export interface HostsLab {
  lab: Lab;
  /** Service port per host name. */
  ports: Map<string, number>;
}

/** A fresh lab of hosts running app 1.0 under runit, each service on its own loopback port. */
export async function createHostsLab(world: World, failOn: string[] = []): Promise<HostsLab> {
  const lab = await createLab({ hosts: world.hosts, repository: world.repository });
  try {
    const ports = new Map<string, number>();
    for (const h of lab.hosts) {
      const port = await freePort();
      ports.set(h.name, port);
      await lab.setServicePort(h, 'app', port);
    }
    await Promise.all(lab.hosts.map((h) => installBase(lab, h)));
    for (const h of lab.hosts) if (failOn.includes(h.name)) await writeFile(path.join(h.root, FAIL_MARKER.slice(1)), 'bench\n');
    for (const h of lab.hosts) lab.startSupervisor(h);
    await Promise.all(lab.hosts.map((h) => waitForVersion(ports.get(h.name)!, BASE_VERSION, 30_000)));
    return { lab, ports };
  } catch (e) {
    await lab.destroy();
    throw e;
  }
}

/** What the service on a port says it is (`/healthz`: "app VERSION"), or undefined. */
export async function serviceVersion(port: number): Promise<string | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1500) });
    if (!r.ok) return undefined;
    return (await r.text()).trim().split(/\s+/)[1];
  } catch {
    return undefined;
  }
}

export async function waitForVersion(port: number, version: string, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await serviceVersion(port)) === version) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** The host's app package as dpkg sees it (`ii 1.0`), or undefined when absent. */
export async function appState(lab: Lab, h: LabHost): Promise<{ status: string; version: string } | undefined> {
  const r = await driverFor(lab, h).readInstalled();
  if (r.kind !== 'ok') return undefined;
  const p = r.value.find((x) => x.name === 'app');
  return p ? { status: p.status.trim(), version: p.version } : undefined;
}

/** Lines of the postinst log (`app VERSION postinst ARGS`). */
export async function stepLog(h: LabHost): Promise<string[]> {
  try {
    return (await readFile(path.join(h.root, STEP_LOG.slice(1)), 'utf8')).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Marks the log so lines written while setting the host up are told apart from the deployment's. */
export async function markStepLog(h: LabHost): Promise<void> {
  await appendFile(path.join(h.root, STEP_LOG.slice(1)), '--- deployment\n');
}
