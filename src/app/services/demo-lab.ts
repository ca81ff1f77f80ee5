/**
 * The example lab `rollwise demo` deploys to, built on the fly in one folder (by default
 * `.rollwise/lab`, emptied first): directory-root hosts in two inventory groups with the real
 * dpkg and apt, a flat apt repository of synthetic .debs (shopfront 1.8.3 and 2.0.0, and
 * shop-legacy-plugin 1.0 on the `us` group), each host's shopfront supervised by its own runit
 * (`runsvdir -P <root>/etc/service`) and exposing Prometheus metrics whose behaviour comes from
 * the package version installed (examples/lab/metrics-server.mjs, shipped inside the package:
 * 2.0.0 answers a quarter of its requests with errors where the legacy plugin is installed), a
 * staging root in the `us` hosts' state for the rehearsal, an inventory naming each host's
 * `root:`, the lab's knowledge base (examples/lab/kb: the service and its error-rate query) and a
 * real Prometheus scraping every host's service each second, each labelled instance=<host>.
 *
 * Why a lab of its own: the demo must show a deployment and its automatic rollback for real
 * without touching this machine's packages, services or /etc. Everything started is tracked;
 * stop() ends it (runsvdir, the services, Prometheus), and a process exit or Ctrl-C does the same.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cp, mkdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RollwiseError } from '../../shared/index.js';
import {
  buildSyntheticDeb, createDirectoryRootDriver, findTool, missingTools, prepareDirectoryRoot, quoteForShell, writeFlatRepository,
  type BuiltDeb, type HostDriver,
} from '../../hosts/index.js';
import { freeLoopbackPort, startPrometheusServer, type PrometheusServer } from '../../monitor/index.js';
import { repoRoot } from './defaults.js';

/** The lab's knowledge base (a layer over the lab repository's index). */
export const DEMO_LAB_KB = path.join(repoRoot, 'examples', 'lab', 'kb');
/** The service every lab package ships (the test lab's packages ship the same file). */
export const DEMO_METRICS_SERVER = path.join(repoRoot, 'examples', 'lab', 'metrics-server.mjs');
/** What the lab runs on this machine. */
export const DEMO_LAB_TOOLS = ['dpkg-deb', 'dpkg', 'dpkg-query', 'apt-get', 'runsvdir', 'sv', 'prometheus'] as const;

export const DEMO_SERVICE = 'shopfront';
export const DEMO_FROM = '1.8.3';
export const DEMO_TO = '2.0.0';
export const DEMO_PLUGIN = 'shop-legacy-plugin';
/** The file the legacy plugin installs; shopfront 2.0.0 fails requests while it is there. */
const PLUGIN_MARKER = `/usr/share/${DEMO_PLUGIN}/enabled`;

/** Tools missing here (with their Debian package) and whether this process may run dpkg on a root. */
export function demoLabPrerequisites(): { missing: Array<{ tool: string; package: string }>; root: boolean } {
  return { missing: missingTools(DEMO_LAB_TOOLS), root: typeof process.getuid !== 'function' || process.getuid() === 0 };
}

export interface DemoLabHost {
  name: string;
  /** Inventory group (`eu`: shopfront alone; `us`: with the legacy plugin). */
  group: 'eu' | 'us';
  root: string;
  /** The loopback port its shopfront listens on. */
  port: number;
  /** The packages installed when the lab was built. */
  installed: Record<string, string>;
}

export interface DemoLab {
  dir: string;
  repository: string;
  /** The repository's Packages index (the plan's index layer). */
  index: string;
  inventory: string;
  kb: string[];
  hosts: DemoLabHost[];
  /** A root in the `us` hosts' state, not supervised: the staging host of the rehearsal. */
  staging: string;
  prometheus: PrometheusServer;
  debs: BuiltDeb[];
  /** Process ids the lab started and still runs (runsvdir, runsv, the services, Prometheus). */
  processes(): number[];
  /** Ends everything the lab started and waits for it; the folder is kept for a look afterwards. */
  stop(): Promise<void>;
  /** The directory-root driver of a lab host. */
  driver(host: DemoLabHost): HostDriver;
}

export interface DemoLabOptions {
  /** The lab's folder (emptied first). */
  dir: string;
  /** Hosts per inventory group (default 3: six hosts). */
  hostsPerGroup?: number;
  /** Prometheus' scrape interval (default 1000 ms). */
  scrapeIntervalMs?: number;
  onProgress?: (text: string) => void;
}

interface Behaviour {
  errorRate: number;
  latencyMs: number;
  faults?: Array<{ whenExists: string; errorRate: number }>;
}

const BEHAVIOUR: Record<string, Behaviour> = {
  [DEMO_FROM]: { errorRate: 0.002, latencyMs: 8 },
  [DEMO_TO]: { errorRate: 0.002, latencyMs: 6, faults: [{ whenExists: PLUGIN_MARKER, errorRate: 0.25 }] },
};

/** runit's run script: the service runs from the root it is installed in, on the port the host's /etc/default/shopfront names. */
function runScript(): string {
  const s = DEMO_SERVICE;
  return [
    '#!/bin/sh',
    'exec 2>&1',
    '# runsv starts this in <root>/etc/sv/<service>: the root is three levels up',
    'ROOT=$(cd ../../.. && pwd -P)',
    `[ -r "$ROOT/etc/default/${s}" ] && . "$ROOT/etc/default/${s}"`,
    `exec ${quoteForShell(process.execPath)} "$ROOT/usr/lib/${s}/metrics-server.mjs" "$ROOT/usr/share/${s}/behaviour.json" "\${PORT:-0}" "$ROOT"`,
    '',
  ].join('\n');
}

async function buildLabDebs(repo: string): Promise<BuiltDeb[]> {
  const server = await readFile(DEMO_METRICS_SERVER, 'utf8');
  const s = DEMO_SERVICE;
  const debs: BuiltDeb[] = [];
  for (const version of [DEMO_FROM, DEMO_TO]) {
    debs.push(await buildSyntheticDeb({
      name: s,
      version,
      description: `the web shop ${version} (the demo lab's metrics server)`,
      files: {
        [`/etc/sv/${s}/run`]: runScript(),
        [`/usr/share/${s}/behaviour.json`]: JSON.stringify({ name: s, package: s, version, ...BEHAVIOUR[version] }, null, 2) + '\n',
        [`/usr/lib/${s}/metrics-server.mjs`]: server,
      },
      conffiles: { [`/etc/${s}/${s}.toml`]: `# ${s} ${version}\nworkers = 4\n` },
      modes: { [`/etc/sv/${s}/run`]: 0o755 },
    }, repo));
  }
  debs.push(await buildSyntheticDeb({
    name: DEMO_PLUGIN,
    version: '1.0',
    depends: `${s} (>= 1.8)`,
    description: 'a plugin the us hosts still load',
    files: { [PLUGIN_MARKER]: 'loaded by shopfront at start\n' },
  }, repo));
  return debs;
}

/** One runsvdir per host, killed with its whole process group (runsv and the service) at the end. */
interface Supervisor {
  child: ChildProcess;
}

/** Whether a process still runs (a zombie, dead and waiting for its parent to reap it, does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // the state follows the parenthesised command name: `pid (comm) S ...`
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return !existsSync('/proc/self');
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function applyOrThrow(driver: HostDriver, step: Parameters<HostDriver['apply']>[0], what: string): Promise<void> {
  const o = await driver.apply(step);
  if (o.status !== 'succeeded') {
    const detail = JSON.stringify(o).slice(0, 600);
    throw new RollwiseError('RW_HOST', `the demo lab could not ${what} on ${driver.name}: ${detail}`, { hint: 'run the demo as root on a machine with dpkg and apt; scripts/install-demo-deps.sh installs what it needs' });
  }
}

export async function startDemoLab(options: DemoLabOptions): Promise<DemoLab> {
  const progress = options.onProgress ?? ((): void => undefined);
  const need = demoLabPrerequisites();
  if (need.missing.length > 0) {
    throw new RollwiseError('RW_HOST', `the demo lab needs ${need.missing.map((m) => `${m.tool} (Debian package ${m.package})`).join(', ')}`, { hint: 'install them: sudo bash scripts/install-demo-deps.sh' });
  }
  if (!need.root) throw new RollwiseError('RW_HOST', 'the demo lab runs dpkg on directory roots, which dpkg allows only as root', { hint: 'run it as root (sudo)' });

  let dir = path.resolve(options.dir);
  const supervisors: Supervisor[] = [];
  let prometheus: PrometheusServer | undefined;
  const stopSync = (): void => {
    for (const pid of labProcesses(dir)) signal(pid, 'SIGKILL');
  };
  const onExit = (): void => stopSync();
  const onSignal = (sig: NodeJS.Signals): void => {
    stopSync();
    void prometheus?.stop();
    process.removeListener('exit', onExit);
    process.kill(process.pid, sig);
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  process.on('exit', onExit);
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  const unhook = (): void => {
    process.removeListener('exit', onExit);
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
  };

  const stop = async (): Promise<void> => {
    const waits: Array<Promise<void>> = [];
    for (const { child } of supervisors) {
      if (!child.pid || child.exitCode !== null || child.signalCode !== null) continue;
      waits.push(new Promise<void>((r) => child.once('exit', () => r())));
      // runsvdir passes TERM to every runsv, which stops its service and exits
      signal(child.pid, 'SIGHUP');
    }
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 3000).unref())]);
    await prometheus?.stop();
    // whatever outlived that (a service runsv did not wait for)
    stopSync();
    for (let i = 0; i < 40 && labProcesses(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    unhook();
  };

  try {
    const perGroup = options.hostsPerGroup ?? 3;
    // a lab left running in this folder by a run that was killed outright (kill -9) is ended first
    if (existsSync(dir)) {
      dir = await realpath(dir);
      stopSync();
    }
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    // the services name their root as the shell's `pwd -P` gives it
    dir = await realpath(dir);
    progress('building the lab repository…');
    const repository = path.join(dir, 'repo');
    const debs = await buildLabDebs(repository);
    const source = await writeFlatRepository(repository, debs);

    const hosts: DemoLabHost[] = [];
    for (const group of ['eu', 'us'] as const) {
      for (let i = 0; i < perGroup; i++) {
        const n = hosts.length + 1;
        const name = `shop-${String(n).padStart(2, '0')}`;
        hosts.push({
          name, group, root: path.join(dir, 'hosts', name), port: await freeLoopbackPort(),
          installed: group === 'us' ? { [DEMO_SERVICE]: DEMO_FROM, [DEMO_PLUGIN]: '1.0' } : { [DEMO_SERVICE]: DEMO_FROM },
        });
      }
    }
    const staging = path.join(dir, 'staging', 'root');
    const driverOf = (root: string, name: string): HostDriver => createDirectoryRootDriver({ root, name });
    const facts = { kernel: '6.1.0-lab', memoryMiB: 2048, cpus: 2, diskTotalMiB: 20480, diskFreeMiB: 10240 };
    // one root per state is installed with dpkg and apt (the slow part; the machine is shared), the others are copies of it
    const templates = new Map<string, string>();
    for (const h of hosts) if (!templates.has(h.group)) templates.set(h.group, h.root);
    await Promise.all(hosts.filter((h) => templates.get(h.group) === h.root).map(async (h) => {
      await prepareDirectoryRoot(h.root, { sources: [source], facts });
      const d = driverOf(h.root, h.name);
      await applyOrThrow(d, { kind: 'refresh-index' }, 'read the lab repository');
      await applyOrThrow(d, { kind: 'packages', changes: Object.entries(h.installed).map(([name, to]) => ({ name, action: 'install' as const, to })) }, `install ${Object.keys(h.installed).join(', ')}`);
      progress(`installed ${Object.entries(h.installed).map(([n, v]) => `${n} ${v}`).join(', ')} on ${h.name}…`);
    }));
    const copies = [...hosts.filter((h) => templates.get(h.group) !== h.root).map((h) => ({ from: templates.get(h.group)!, to: h.root })), { from: templates.get('us')!, to: staging }];
    for (const c of copies) {
      await cp(c.from, c.to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      // apt's configuration names the root; its binary caches are rebuilt on first use
      await prepareDirectoryRoot(c.to, { sources: [source], facts });
      for (const f of ['pkgcache.bin', 'srcpkgcache.bin']) await rm(path.join(c.to, 'var', 'cache', 'apt', f), { force: true });
    }
    for (const h of hosts) {
      await mkdir(path.join(h.root, 'etc', 'default'), { recursive: true });
      await writeFile(path.join(h.root, 'etc', 'default', DEMO_SERVICE), `PORT=${h.port}\n`);
      await mkdir(path.join(h.root, 'etc', 'service'), { recursive: true });
      await symlink(`../sv/${DEMO_SERVICE}`, path.join(h.root, 'etc', 'service', DEMO_SERVICE));
    }

    const inventory = path.join(dir, 'inventory.yaml');
    await writeFile(inventory, [
      '# The demo lab: directory-root hosts on this machine (rollwise demo builds it; rebuilt every run).',
      'version: 1',
      'defaults:',
      '  labels: { service: shop }',
      'groups:',
      '  eu: { labels: { region: eu-west } }',
      '  us: { labels: { region: us-east } }',
      'hosts:',
      ...hosts.flatMap((h) => [`  - name: ${h.name}`, `    groups: [${h.group}]`, `    root: ${path.relative(dir, h.root)}`]),
      '',
    ].join('\n'));

    progress('starting runit on every host…');
    const runsvdir = findTool('runsvdir')!;
    for (const h of hosts) {
      const svdir = path.join(h.root, 'etc', 'service');
      const child = spawn(runsvdir, ['-P', svdir], { stdio: 'ignore', detached: true });
      supervisors.push({ child });
    }
    progress('starting Prometheus…');
    prometheus = await startPrometheusServer({
      targets: hosts.map((h) => ({ address: `127.0.0.1:${h.port}`, labels: { instance: h.name, group: h.group } })),
      scrapeIntervalMs: options.scrapeIntervalMs ?? 1000,
      tempParent: dir,
    });
    progress('waiting for Prometheus to scrape every host…');
    await prometheus.waitForTargets(30_000);
    const server = prometheus;
    return {
      dir, repository, index: path.join(repository, 'Packages'), inventory, kb: [DEMO_LAB_KB], hosts, staging, prometheus: server, debs,
      processes: () => labProcesses(dir),
      stop,
      driver: (h) => driverOf(h.root, h.name),
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

function procEntries(): Array<{ pid: number; argv: string[]; cwd: string }> {
  if (!existsSync('/proc')) return [];
  const out: Array<{ pid: number; argv: string[]; cwd: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\u0000');
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // another user's process
      }
      out.push({ pid: Number(entry), argv, cwd });
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * The processes of the lab in `dir`, recognised by what they are and where they work, so that only
 * they are ever signalled (a pid written down earlier may belong to someone else by now): runsvdir
 * watching a host's etc/service, runsv working in a host's service directory, a service running
 * the metrics server installed in a host, Prometheus working in its folder in the lab.
 */
function labProcesses(dir: string): number[] {
  const inLab = (p: string): boolean => p.startsWith(dir + path.sep);
  return procEntries().filter((p) => {
    if (p.pid === process.pid) return false;
    const prog = path.basename(p.argv[0] ?? '');
    if (prog === 'runsvdir') return p.argv.some(inLab);
    if (prog === 'runsv' || prog === 'prometheus') return inLab(p.cwd);
    return p.argv.some((a) => inLab(a) && a.endsWith(`/usr/lib/${DEMO_SERVICE}/metrics-server.mjs`));
  }).map((p) => p.pid).filter(alive);
}
