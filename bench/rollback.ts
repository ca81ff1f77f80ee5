/**
 * `npm run bench:rollback`: randomized forward + rollback runs on real directory-root hosts, each
 * verified by snapshot comparison (issue 10), and the cost of impact + rollback planning on the
 * 10,000-host plan of bench:plan.
 *
 * Lab part. A synthetic repository (bench/rollback-world.ts: 20 packages, 46 .debs with
 * conffiles, Depends/Pre-Depends/Breaks/Conflicts/Replaces, postinsts built to fail, a postinst
 * that converts data in place, runit services, PostgreSQL migrations) is built once by the lab.
 * Each run, from its own seeded PRNG:
 *  - a start state: one of `--start-states` random installed sets (the real solver's answer to a
 *    random install request on an empty host; each installed once through the driver into a
 *    template root, then copied per run), sometimes with an operator-edited conffile and an
 *    operator config file; its services running under runit, its database migrated;
 *  - a forward change set: the real solver's answer to 1–2 random install / install=version
 *    (up- or downgrade) / upgrade / remove items over that state (some removals made purges),
 *    applied as one packages step through the directory-root driver, then the knowledge base's
 *    config writes and the up migrations the new versions bring;
 *  - the rollback: planRollback's plan for that group (undo depths sometimes `downgrade` or
 *    `leave`), materialized with the snapshots (materializeRollbackStep; the bench plays the
 *    deploy layer for `migrate` and `restore-database`: SQL from the knowledge base's scripts,
 *    a backup taken as a template database before the forward steps), run by rehearseOnHost
 *    with the .deb cache;
 *  - verification: the rehearsal's snapshot comparison (packages and dpkg status, conffiles, the
 *    knowledge base's config files, the data files maintainer scripts make, services, schema),
 *    each difference flagged (announced by a plan flag: the same attribution as the model's
 *    rehearsal) or not; and a scan of the whole root before and after (every file and link,
 *    content and mode, outside dpkg's and apt's own state) for leftovers beyond the snapshot.
 *  Every `--restore-every`-th run also rehearses the same start and change set with the generic
 *  restore (planRestore from the snapshots) as a second strategy.
 *
 * Planning part: the fleet, request and plan of bench:plan (bench/plan-fleet.ts), then
 * impactOf and rollbackForPlan on that plan, timed against the plan (wall time, and CPU time,
 * which a shared machine disturbs less). Rollback planning runs on every group by default
 * (`--plan-groups N`: N groups spread over the plan, extrapolated).
 *
 *   npm run bench:rollback -- [--runs 200] [--seed 42] [--parallel 3] [--restore-every 10]
 *     [--start-states 24] [--only lab|planning] [--plan-groups all|N] [--hosts 10000]
 *     [--states 200] [--index FILE] [--run 18,65 (only these runs)] [--verbose]
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { impactOf, loadKnowledge, rollbackForPlan } from '../src/app/index.js';
import { rehearseOnHost, type ExpectedDifference, type RehearsalReport, type RollbackMaterializer } from '../src/deploy/index.js';
import type { InstalledPackage } from '../src/fleet/index.js';
import { createDebCache, createDirectoryRootDriver, prepareDirectoryRoot, type HostDriver } from '../src/hosts/index.js';
import {
  assemblePlan, availabilityFromUniverse, createFleetSolver, createInstalledSetChecker, createRelationFacts, forwardMigrations, knownMigrations,
  materializeRollback, planDeployment, planRollback, rehearseInModel, stateAfter,
  type DatabaseRef, type GroupRollback, type RollbackFlag, type SnapshotDifference, type SnapshotSpec, type Step, type UndoDepth,
} from '../src/planner/index.js';
import type { PackageChange, RequestItem } from '../src/solver/index.js';
import { loadDebianUniverse } from '../src/universe/index.js';
import { createPrng } from '../test/helpers/prng.js';
import { createLab, createPostgresCluster, runLabTool, type Lab, type LabHost, type PostgresCluster, type Supervisor } from '../test/lab/index.js';
import { benchRequest, generateFleet, scanPool } from './plan-fleet.js';
import {
  DATABASE, KNOWLEDGE, MIGRATING_PACKAGES, MIGRATION_SQL, PACKAGES, SERVICE_PACKAGES, downSql, ownersOf, packageTraits, type PackageTraits,
} from './rollback-world.js';

const here = path.dirname(fileURLToPath(import.meta.url));
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const RUNS = Number(arg('runs', '200'));
const SEED = Number(arg('seed', '42'));
const PARALLEL = Math.max(1, Number(arg('parallel', '3')));
const RESTORE_EVERY = Number(arg('restore-every', '10'));
/** Only these runs (of the --runs planned with this seed), e.g. to look at one again: `--run 18,65 --verbose`. */
const ONLY_RUNS = arg('run', '') === '' ? undefined : new Set(arg('run', '').split(',').map(Number));
const START_STATES = Number(arg('start-states', '24'));
const ONLY = arg('only', 'both');
const PLAN_GROUPS = arg('plan-groups', 'all');
const HOSTS = Number(arg('hosts', '10000'));
const STATES = Number(arg('states', '200'));
const INDEX = arg('index', path.resolve(here, '../../shared/data/debian/bookworm-main-amd64.Packages.xz'));
const VERBOSE = process.argv.includes('--verbose');
const run = promisify(execFile);

const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const quantile = (xs: readonly number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
const log = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

// ---- the plan of one run (pure) --------------------------------------------------------------

type Strategy = 'plan' | 'restore';

interface RunPlan {
  index: number;
  startIndex: number;
  start: InstalledPackage[];
  changes: PackageChange[];
  request: string;
  /** Operator edits in the start state: host path → content, mode. */
  edits: Array<{ path: string; content: string; mode: number }>;
  /** Knowledge-base config files the forward deployment writes. */
  configWrites: Array<{ path: string; content: string }>;
  undoDepth: Record<string, UndoDepth>;
  allowLeave: boolean;
  rollback: GroupRollback;
}

interface World {
  lab: Lab;
  pg: PostgresCluster;
  traits: Map<string, PackageTraits>;
  names: string[];
  versionsOf: Map<string, string[]>;
  solveFrom(installed: InstalledPackage[], items: RequestItem[]): PackageChange[] | undefined;
  check: ReturnType<typeof createInstalledSetChecker>;
  relations: ReturnType<typeof createRelationFacts>;
  availability: ReturnType<typeof availabilityFromUniverse>;
  starts: InstalledPackage[][];
  templates: Map<number, Promise<string>>;
  cacheDir: string;
}

const conffilesOf = (name: string, version: string): string[] => Object.keys(PACKAGES.find((p) => p.name === name && p.version === version)?.conffiles ?? {});
const failingVersion = (w: World, p: { name: string; version: string }): boolean => w.traits.get(p.name)?.failing.includes(p.version) ?? false;

function makeStarts(w: Pick<World, 'names' | 'versionsOf' | 'solveFrom' | 'traits'>, count: number): InstalledPackage[][] {
  const rand = createPrng(SEED);
  const out: InstalledPackage[][] = [[]];
  const seen = new Set<string>(['']);
  for (let attempt = 0; out.length < count && attempt < count * 50; attempt++) {
    const k = 1 + Math.floor(rand() * 6);
    const items: RequestItem[] = [];
    for (let j = 0; j < k; j++) {
      const name = w.names[Math.floor(rand() * w.names.length)]!;
      const versions = w.versionsOf.get(name)!;
      if (rand() < 0.5) items.push({ kind: 'install', name, op: '=', version: versions[Math.floor(rand() * versions.length)]! });
      else items.push({ kind: 'install', name });
    }
    const changes = w.solveFrom([], items);
    if (!changes) continue;
    const state = stateAfter([], changes);
    if (state.some((p) => failingVersion(w as World, p))) continue;
    const sig = state.map((p) => `${p.name}=${p.version}`).join(' ');
    if (seen.has(sig)) continue;
    seen.add(sig);
    out.push(state);
  }
  return out;
}

function planRun(w: World, index: number): RunPlan {
  const rand = createPrng((SEED * 2654435761 + index * 40503 + 1) >>> 0);
  const startIndex = Math.floor(rand() * w.starts.length);
  const start = w.starts[startIndex]!;
  const installed = new Map(start.map((p) => [p.name, p.version]));
  let changes: PackageChange[] | undefined;
  let items: RequestItem[] = [];
  for (let attempt = 0; attempt < 50 && !changes; attempt++) {
    items = [];
    const k = 1 + Math.floor(rand() * 2);
    for (let j = 0; j < k; j++) {
      const name = w.names[Math.floor(rand() * w.names.length)]!;
      const versions = w.versionsOf.get(name)!;
      const have = installed.get(name);
      const other = versions.filter((v) => v !== have);
      const r = rand();
      if (have !== undefined && r < 0.3) items.push({ kind: 'remove', name });
      else if (have !== undefined && r < 0.5) items.push({ kind: 'upgrade', name });
      else if (r < 0.75 && other.length > 0) items.push({ kind: 'install', name, op: '=', version: other[Math.floor(rand() * other.length)]! });
      else items.push({ kind: 'install', name });
    }
    const c = w.solveFrom(start, items);
    if (c && c.length > 0) changes = c;
  }
  if (!changes) throw new Error(`run ${index}: no solvable change set found`);
  changes = changes.map((c) => (c.action === 'remove' && rand() < 0.5 ? { ...c, action: 'purge' } : c));
  const after = new Map(stateAfter(start, changes).map((p) => [p.name, p.version]));
  const changed = [...new Set(changes.map((c) => c.name))].sort();

  const edits: RunPlan['edits'] = [];
  const editable = start.flatMap((p) => conffilesOf(p.name, p.version));
  if (editable.length > 0 && rand() < 0.3) edits.push({ path: editable[Math.floor(rand() * editable.length)]!, content: `# edited by the operator (run ${index})\n`, mode: rand() < 0.5 ? 0o600 : 0o644 });
  if (installed.has('worker') && rand() < 0.5) edits.push({ path: '/etc/worker/worker.env', content: `QUEUE=jobs-${index}\n`, mode: 0o640 });
  const configWrites: RunPlan['configWrites'] = [];
  for (const f of KNOWLEDGE.configFiles) {
    if (changed.includes(f.package) && after.has(f.package) && rand() < 0.4) configWrites.push({ path: f.path, content: `# deployed by run ${index}\nsetting=${Math.floor(rand() * 1000)}\n` });
  }
  const undoDepth: Record<string, UndoDepth> = {};
  let allowLeave = false;
  const r = rand();
  if (r < 0.12) {
    undoDepth[changed[Math.floor(rand() * changed.length)]!] = 'leave';
    allowLeave = true;
  } else if (r < 0.24) {
    for (const name of changed) if (MIGRATING_PACKAGES.has(name)) undoDepth[name] = 'downgrade';
  }
  const rollback = planRollback({
    group: { key: `run-${index}`, installed: start, changes }, knowledge: KNOWLEDGE, check: w.check, relations: w.relations, availability: w.availability, undoDepth, allowLeave,
  });
  const request = items.map((i) => (i.kind === 'install' || i.kind === 'remove' || i.kind === 'upgrade' ? `${i.kind} ${i.name}${i.version ? `=${i.version}` : ''}` : i.kind)).join(', ');
  return { index, startIndex, start, changes, request, edits, configWrites, undoDepth, allowLeave, rollback };
}

// ---- flags → what they announce (the model rehearsal's attribution, on real differences) -----

interface FlagScope {
  all: boolean;
  packages: Set<string>;
  databases: Set<string>;
  /** Single paths a flag names (data a maintainer script converts). */
  paths: Set<string>;
}

function scopeOf(flags: readonly RollbackFlag[]): FlagScope {
  const s: FlagScope = { all: false, packages: new Set(), databases: new Set(), paths: new Set() };
  for (const f of flags) {
    switch (f.kind) {
      case 'former-state-inconsistent': s.all = true; break;
      case 'left-in-place':
        s.packages.add(f.package);
        if (MIGRATING_PACKAGES.has(f.package)) s.databases.add(DATABASE);
        break;
      case 'configuration-purged': s.packages.add(f.package); break;
      case 'former-version-unavailable': s.packages.add(f.deb.name); break;
      case 'unpack-order-loop': for (const p of f.packages) s.packages.add(p); break;
      case 'schema-kept': s.databases.add(f.database); break;
      case 'irreversible-migration': if (f.undo === 'kept') s.databases.add(f.database); break;
      case 'data-converted':
        if (f.paths.length > 0) for (const p of f.paths) s.paths.add(p);
        else s.packages.add(f.package);
        break;
    }
  }
  return s;
}

function pathsOf(traits: ReadonlyMap<string, PackageTraits>, name: string): string[] {
  const t = traits.get(name);
  const own = [...(t?.shipped ?? []), ...(t?.dataFiles ?? []), ...KNOWLEDGE.configFiles.filter((f) => f.package === name).map((f) => f.path)];
  return [...new Set([...own, ...(t?.conffiles ?? []).flatMap((c) => [`${c}.dpkg-dist`, `${c}.dpkg-old`, `${c}.dpkg-new`])])];
}

function expectedFrom(scope: FlagScope, traits: ReadonlyMap<string, PackageTraits>): ExpectedDifference[] {
  if (scope.all) {
    return (['package-added', 'package-removed', 'package-version-changed', 'package-status-changed', 'config-changed', 'config-mode-changed', 'config-missing', 'config-appeared', 'schema-version-changed', 'service-state-changed'] as const).map((kind) => ({ kind }) as ExpectedDifference);
  }
  const out: ExpectedDifference[] = [];
  for (const name of scope.packages) {
    for (const kind of ['package-added', 'package-removed', 'package-version-changed', 'package-status-changed'] as const) out.push({ kind, name });
    for (const p of pathsOf(traits, name)) for (const kind of ['config-changed', 'config-mode-changed', 'config-missing', 'config-appeared'] as const) out.push({ kind, path: p });
    for (const s of KNOWLEDGE.services) if (s.packages.includes(name)) out.push({ kind: 'service-state-changed', service: s.name });
  }
  for (const db of scope.databases) out.push({ kind: 'schema-version-changed', database: db });
  for (const p of scope.paths) for (const kind of ['config-changed', 'config-mode-changed', 'config-missing', 'config-appeared'] as const) out.push({ kind, path: p });
  return out;
}

// ---- the root scan ------------------------------------------------------------------------

/** dpkg's and apt's own state, logs, caches, the scripts' logs, runtime files, runit's supervise directories. */
const SCAN_SKIP = ['/var/lib/dpkg', '/var/lib/apt', '/var/cache', '/var/log', '/var/lib/lab-scripts', '/var/lib/rollwise', '/tmp', '/run', '/proc'];

async function scanRoot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${rel}/${e.name}`;
      if (SCAN_SKIP.includes(p) || e.name === 'supervise') continue;
      const abs = path.join(root, p);
      if (e.isDirectory()) await walk(p);
      else if (e.isSymbolicLink()) out.set(p, `link ${await readlink(abs)}`);
      else if (e.isFile()) {
        const st = await lstat(abs);
        out.set(p, `file ${(st.mode & 0o7777).toString(8)} ${createHash('sha256').update(await readFile(abs)).digest('hex').slice(0, 16)}`);
      } else out.set(p, 'other');
    }
  };
  await walk('');
  return out;
}

interface RootDifference {
  path: string;
  before?: string;
  after?: string;
}

function compareScans(a: Map<string, string>, b: Map<string, string>): RootDifference[] {
  const out: RootDifference[] = [];
  for (const p of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(p);
    const y = b.get(p);
    if (x !== y) out.push({ path: p, ...(x !== undefined ? { before: x } : {}), ...(y !== undefined ? { after: y } : {}) });
  }
  return out;
}

// ---- one run on a host ----------------------------------------------------------------------

type LeftoverClass = 'flagged' | 'data-conversion' | 'silent';

interface RunRecord {
  index: number;
  strategy: Strategy;
  plan: RunPlan;
  outcome: RehearsalReport['outcome'] | 'error';
  error?: string;
  forwardCompleted: boolean;
  forwardMs: number;
  rollbackMs: number;
  rehearsalMs: number;
  wallMs: number;
  setupMs: number;
  /** The rehearsal's other phases: snapshots, keeping .debs, health. */
  phases: string;
  rollbackSteps: number;
  /** The rollback steps as applied (the generic restore's own, for that strategy). */
  applied: string[];
  rollbackStepsFailed: string[];
  snapshot: Array<{ difference: SnapshotDifference; cls: LeftoverClass }>;
  root: Array<{ difference: RootDifference; cls: LeftoverClass }>;
  unresolved: number;
  /** The model rehearsal of the same plan: differences or incidents no flag announced. */
  modelSilent: number;
  modelRestored: boolean;
}

const dataConverted = (traits: ReadonlyMap<string, PackageTraits>, p: string): boolean => [...traits.values()].some((t) => t.convertsData && t.dataFiles.includes(p));

function pathOf(d: SnapshotDifference): string | undefined {
  return 'path' in d ? d.path : undefined;
}

function stepText(s: Step): string {
  switch (s.kind) {
    case 'packages': return `packages[${s.changes.map((c) => `${c.action} ${c.name}${c.to ? `=${c.to}` : ''}`).join(',')}]`;
    case 'migrate': return `migrate ${s.migration.direction} ${s.migration.version}`;
    case 'service': return `${s.action} ${s.service}`;
    case 'restore-config': return `restore ${s.path} (${s.state.kind})`;
    case 'write-config': return `write ${s.path}`;
    case 'refresh-index': return 'refresh-index';
  }
}

async function template(w: World, startIndex: number): Promise<string> {
  let t = w.templates.get(startIndex);
  if (!t) {
    t = (async () => {
      const root = path.join(w.lab.dir, 'templates', `start-${startIndex}`);
      await mkdir(path.dirname(root), { recursive: true });
      await run('cp', ['-a', w.lab.hosts[0]!.root, root]);
      await prepareDirectoryRoot(root, { sources: [w.lab.repository.sourceLine] });
      const state = w.starts[startIndex]!;
      if (state.length > 0) {
        const d = createDirectoryRootDriver({ root, name: `start-${startIndex}`, chrootlessScripts: w.lab.chrootlessScripts });
        const o = await d.apply({ kind: 'packages', changes: state.map((p) => ({ action: 'install', name: p.name, to: p.version })) });
        if (o.status !== 'succeeded') throw new Error(`start state ${startIndex} does not install: ${JSON.stringify(o).slice(-1500)}`);
      }
      return root;
    })();
    w.templates.set(startIndex, t);
  }
  return t;
}

async function killStray(root: string): Promise<void> {
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(`${root}/`)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** SQL through psql; `database` given: in one transaction (CREATE/DROP DATABASE cannot be). */
async function psql(w: World, sql: string, database?: string): Promise<void> {
  const r = await runLabTool(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...(database ? ['--single-transaction'] : []), '-h', w.pg.host, '-p', String(w.pg.port), '-U', w.pg.user, '-d', database ?? 'postgres', '-f', '-'], { input: sql });
  if (r.code !== 0) throw new Error(`psql: ${r.stderr.trim()}`);
}

async function waitRunning(d: HostDriver, service: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await d.readServiceState(service)) !== 'running') {
    if (Date.now() > deadline) throw new Error(`service ${service} never started`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function runOnHost(w: World, p: RunPlan, strategy: Strategy): Promise<RunRecord> {
  const t0 = performance.now();
  const root = path.join(w.lab.dir, 'runs', `run-${p.index}-${strategy}`);
  const names = new Set([...p.start.map((x) => x.name), ...p.rollback.after.map((x) => x.name)]);
  const services = [...names].some((n) => SERVICE_PACKAGES.has(n));
  const usesDb = [...names].some((n) => MIGRATING_PACKAGES.has(n));
  const dbName = `rb_${p.index}_${strategy}`;
  const backupName = `${dbName}_bk`;
  const record: RunRecord = {
    index: p.index, strategy, plan: p, outcome: 'error', forwardCompleted: false, forwardMs: 0, rollbackMs: 0, rehearsalMs: 0, wallMs: 0, setupMs: 0, phases: '',
    rollbackSteps: 0, applied: [], rollbackStepsFailed: [], snapshot: [], root: [], unresolved: 0, modelSilent: 0, modelRestored: true,
  };
  let supervisor: Supervisor | undefined;
  try {
    await mkdir(path.dirname(root), { recursive: true });
    await run('cp', ['-a', await template(w, p.startIndex), root]);
    await prepareDirectoryRoot(root, { sources: [w.lab.repository.sourceLine] });
    const driver = createDirectoryRootDriver({ root, name: `run-${p.index}`, chrootlessScripts: w.lab.chrootlessScripts });
    for (const e of p.edits) {
      const o = await driver.apply({ kind: 'write-config', path: e.path, content: e.content, mode: e.mode });
      if (o.status !== 'succeeded') throw new Error(`operator edit of ${e.path} failed`);
    }
    if (services) {
      const host: LabHost = { name: `run-${p.index}`, index: p.index, root, aptConfig: `${root}/var/lib/rollwise/apt.conf`, svdir: `${root}/etc/service` };
      supervisor = w.lab.startSupervisor(host);
      for (const s of KNOWLEDGE.services) if (s.packages.some((n) => p.start.some((x) => x.name === n))) await waitRunning(driver, s.name);
    }
    let db: DatabaseRef | undefined;
    if (usesDb) {
      db = { name: DATABASE, host: w.pg.host, port: w.pg.port, user: w.pg.user, database: await w.pg.createDatabase(dbName) };
      // the start state's schema in one go, with the driver's bookkeeping table (set-up, not measured)
      const done = new Set<string>();
      const script = ['CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());'];
      for (const x of p.start) {
        for (const s of knownMigrations(KNOWLEDGE.packages.find((k) => k.name === x.name), x.version)) {
          if (done.has(s.migration.id)) continue;
          done.add(s.migration.id);
          script.push(`${MIGRATION_SQL[s.migration.id]!.up};`, `INSERT INTO schema_migrations (version) VALUES ('${s.migration.id}');`);
        }
      }
      await psql(w, script.join('\n'), dbName);
      if (strategy === 'plan' && p.rollback.forwardSafeguards.some((g) => g.kind === 'backup-database')) await psql(w, `CREATE DATABASE ${backupName} TEMPLATE ${dbName}`);
    }
    const forward: Step[] = [{ kind: 'packages', changes: p.changes }];
    for (const c of p.configWrites) forward.push({ kind: 'write-config', path: c.path, content: c.content });
    if (db) {
      for (const s of forwardMigrations(p.start, p.changes, KNOWLEDGE)) forward.push({ kind: 'migrate', database: db, migration: { version: s.migration.id, direction: 'up', sql: MIGRATION_SQL[s.migration.id]!.up } });
    }
    const dataFiles = [...names].flatMap((n) => w.traits.get(n)?.dataFiles ?? []);
    const snapshotSpec: SnapshotSpec = {
      configFiles: [...KNOWLEDGE.configFiles.map((f) => f.path), ...dataFiles],
      conffiles: true,
      ...(services ? { services: KNOWLEDGE.services.map((s) => s.name) } : {}),
      ...(db ? { databases: [db] } : {}),
    };
    // the deploy layer's part of the plan: database steps (the restore is the template copy taken above)
    const restores = new Set<Step>();
    const materialize: RollbackMaterializer = ({ before, afterForward }) => {
      const host = materializeRollback(p.rollback.steps, before, afterForward).steps;
      return p.rollback.steps.flatMap((s, i) => deployPart(s, host[i]));
    };
    const deployPart = (s: GroupRollback['steps'][number], m: Step[] | undefined): Step[] => {
      if (m) return m;
      if (s.kind === 'migrate' && db) return [{ kind: 'migrate', database: db, migration: { version: s.migration.id, direction: 'down', sql: downSql(s.migration.script) } }];
      if (s.kind === 'restore-database' && db) {
        const step: Step = { kind: 'migrate', database: db, migration: { version: 'restore-backup', direction: 'down', sql: '' } };
        restores.add(step);
        return [step];
      }
      return [];
    };
    const host: HostDriver = {
      ...driver,
      async apply(step) {
        if (!restores.has(step)) return driver.apply(step);
        const t = performance.now();
        try {
          await psql(w, `DROP DATABASE ${dbName} WITH (FORCE)`);
          await psql(w, `CREATE DATABASE ${dbName} TEMPLATE ${backupName}`);
          return { status: 'succeeded', step, host: driver.name, durationMs: Math.round(performance.now() - t), output: `restored ${dbName} from ${backupName}` };
        } catch (e) {
          return { status: 'failed', step, host: driver.name, durationMs: Math.round(performance.now() - t), failure: { kind: 'precondition', message: (e as Error).message } };
        }
      },
    };
    const scope = scopeOf(p.rollback.flags);
    const before = await scanRoot(root);
    record.setupMs = performance.now() - t0;
    const report = await rehearseOnHost({
      driver: host,
      snapshotSpec,
      forward,
      ...(strategy === 'plan' ? { rollback: materialize, expectedDifferences: expectedFrom(scope, w.traits) } : {}),
      debCache: { cache: createDebCache(w.cacheDir), source: { baseUrl: w.lab.repository.dir } },
    });
    const after = await scanRoot(root);
    record.outcome = report.outcome;
    record.forwardCompleted = report.forward.completed;
    record.forwardMs = report.timings.forwardMs;
    record.rollbackMs = report.timings.rollbackMs;
    record.rehearsalMs = report.timings.totalMs;
    const tm = report.timings;
    record.phases = `snapshots ${tm.snapshotBeforeMs}+${tm.snapshotForwardMs}+${tm.snapshotAfterMs} ms, keep-debs ${tm.keepDebsMs} ms, health ${tm.healthMs + tm.healthAfterRollbackMs} ms`;
    record.rollbackSteps = report.rollback.outcomes.length;
    record.applied = report.rollback.steps.map(stepText);
    record.unresolved = report.rollback.unresolved.length;
    record.rollbackStepsFailed = report.rollback.outcomes.filter((o) => o.status !== 'succeeded').map((o) => {
      const what = stepText(o.step);
      const why = o.status === 'failed' ? (o.failure.kind === 'command' ? o.failure.output : 'message' in o.failure ? o.failure.message : o.failure.kind) : o.reason;
      return `${what}: ${why.split('\n').filter((l) => l.trim() !== '').slice(-2).join(' / ').slice(0, 300)}`;
    });
    if (report.rollback.notPlanned) record.rollbackStepsFailed.push(`not planned: ${JSON.stringify(report.rollback.notPlanned).slice(0, 300)}`);
    for (const f of report.snapshotFailures) record.rollbackStepsFailed.push(`snapshot ${f.phase} ${f.kind}: ${f.message.slice(0, 200)}`);
    const classify = (flagged: boolean, p0: string | undefined): LeftoverClass => (flagged ? 'flagged' : p0 !== undefined && dataConverted(w.traits, p0) ? 'data-conversion' : 'silent');
    // the generic restore says after the forward steps what it cannot undo (schema versions): counted as announced
    const unresolved = (d: SnapshotDifference): boolean => d.kind === 'schema-version-changed' && report.rollback.unresolved.some((u) => u.kind === d.kind && u.database === d.database);
    record.snapshot = report.differences.map((d) => ({ difference: d.difference, cls: classify(d.flag === 'flagged' || unresolved(d.difference), pathOf(d.difference)) }));
    const seenBySnapshot = new Set(report.differences.map((d) => pathOf(d.difference)).filter((x): x is string => x !== undefined));
    record.root = compareScans(before, after)
      .filter((d) => !seenBySnapshot.has(d.path))
      .map((d) => {
        const flagged = strategy === 'plan' && (scope.all || scope.paths.has(d.path) || ownersOf(w.traits, d.path).some((o) => scope.packages.has(o)));
        return { difference: d, cls: classify(flagged, d.path) };
      });
    if (strategy === 'plan') {
      const model = rehearseInModel({ rollback: p.rollback, forward: p.changes, knowledge: KNOWLEDGE, check: w.check, relations: w.relations });
      record.modelSilent = model.silent;
      record.modelRestored = model.restored;
    }
  } catch (e) {
    record.outcome = 'error';
    record.error = (e as Error).stack ?? String(e);
  } finally {
    await supervisor?.stop().catch(() => undefined);
    record.wallMs = performance.now() - t0;
    await killStray(root);
    if (usesDb) await psql(w, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).then(() => psql(w, `DROP DATABASE IF EXISTS ${backupName} WITH (FORCE)`)).catch(() => undefined);
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
  }
  return record;
}

// ---- the lab part ---------------------------------------------------------------------------

interface LabResult {
  records: RunRecord[];
  setupMs: number;
  templatesMs: number;
  wallMs: number;
  debs: number;
  starts: number;
}

async function labPart(): Promise<LabResult> {
  const t0 = performance.now();
  const [lab, pg] = await Promise.all([createLab({ hosts: 1, packages: PACKAGES }), createPostgresCluster()]);
  try {
    const universe = (await loadDebianUniverse([path.join(lab.repository.dir, 'Packages')])).universe;
    const solver = createFleetSolver({ universe, policy: { recommends: false, timeBudgetMs: 5000, maxResolutions: 0 } });
    const versionsOf = new Map<string, string[]>();
    for (const spec of PACKAGES) versionsOf.set(spec.name, [...(versionsOf.get(spec.name) ?? []), spec.version]);
    const w: World = {
      lab, pg,
      traits: packageTraits(),
      names: [...versionsOf.keys()].sort(),
      versionsOf,
      solveFrom(installed, items) {
        const o = solver.solveGroup({ key: 'bench', installed, facts: {}, request: { items } });
        return o.kind === 'solution' ? o.changes : undefined;
      },
      check: createInstalledSetChecker(universe),
      relations: createRelationFacts(universe),
      availability: availabilityFromUniverse(universe),
      starts: [],
      templates: new Map(),
      cacheDir: path.join(lab.dir, 'deb-cache'),
    };
    w.starts = makeStarts(w, START_STATES);
    const plans = Array.from({ length: RUNS }, (_, i) => i).filter((i) => !ONLY_RUNS || ONLY_RUNS.has(i)).map((i) => planRun(w, i));
    const setupMs = performance.now() - t0;
    // every start state a run uses, installed once (`--parallel` at a time)
    const tt = performance.now();
    const used = [...new Set(plans.map((p) => p.startIndex))];
    for (let i = 0; i < used.length; i += PARALLEL) await Promise.all(used.slice(i, i + PARALLEL).map((s) => template(w, s)));
    const templatesMs = performance.now() - tt;
    log(`bench:rollback: repository of ${lab.repository.debs.length} .debs, ${w.starts.length} start states (${used.length} used, installed in ${secs(templatesMs)}); ${plans.length} runs, ${PARALLEL} at a time`);

    const jobs: Array<{ plan: RunPlan; strategy: Strategy }> = [];
    for (const p of plans) {
      jobs.push({ plan: p, strategy: 'plan' });
      if (RESTORE_EVERY > 0 && p.index % RESTORE_EVERY === 0) jobs.push({ plan: p, strategy: 'restore' });
    }
    const records: RunRecord[] = [];
    let next = 0;
    const tr = performance.now();
    await Promise.all(Array.from({ length: PARALLEL }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        const r = await runOnHost(w, job.plan, job.strategy);
        records.push(r);
        const bad = r.snapshot.filter((x) => x.cls === 'silent').length + r.root.filter((x) => x.cls === 'silent').length;
        log(`  ${String(records.length).padStart(3)}/${jobs.length} run ${r.index} ${r.strategy.padEnd(7)} ${r.outcome.padEnd(12)} forward ${r.forwardCompleted ? 'ok    ' : 'failed'} ${secs(r.forwardMs)} rollback ${secs(r.rollbackMs)} wall ${secs(r.wallMs)}${bad > 0 ? `  silent ${bad}` : ''}${r.error ? `  ERROR ${r.error.split('\n')[0]}` : ''}  (${((performance.now() - tr) / 1000).toFixed(0)} s)`);
      }
    }));
    records.sort((a, b) => a.index - b.index || (a.strategy < b.strategy ? -1 : 1));
    return { records, setupMs, templatesMs, wallMs: performance.now() - t0, debs: lab.repository.debs.length, starts: w.starts.length };
  } finally {
    await Promise.all([lab.destroy(), pg.destroy()]);
  }
}

// ---- the planning part ----------------------------------------------------------------------

interface PlanningResult {
  hosts: number;
  groups: number;
  changingGroups: number;
  avgChanges: number;
  loadMs: number;
  planMs: number;
  impactMs: number;
  rollbackSetupMs: number;
  rollbackMs: number;
  rollbackGroups: number;
  rollbackExtrapolatedMs: number;
  /** CPU time of the same phases (this process, all threads): steadier than wall time on a shared machine. */
  cpu: { planMs: number; impactMs: number; rollbackMs: number };
  checks: number;
  steps: number;
  packageSteps: number;
}

async function planningPart(): Promise<PlanningResult> {
  const pool = await scanPool(INDEX);
  let t = performance.now();
  const knowledge = await loadKnowledge({ kb: [], indexes: [INDEX] });
  const loadMs = performance.now() - t;
  const universe = knowledge.universe.universe;
  const fleet = generateFleet(universe, pool, { hosts: HOSTS, states: STATES, seed: SEED });
  const request = benchRequest();
  // measured as bench:plan measures it: a fresh solver (cold caches), the whole fleet
  const cpuMs = (since: NodeJS.CpuUsage): number => {
    const u = process.cpuUsage(since);
    return (u.user + u.system) / 1000;
  };
  let c = process.cpuUsage();
  t = performance.now();
  const solver = createFleetSolver({ universe, policy: { timeBudgetMs: 10_000 } });
  const body = planDeployment({ fleet: { hosts: fleet.hosts, findings: [] }, request, solver, rules: knowledge.rules });
  const planMs = performance.now() - t;
  const planCpuMs = cpuMs(c);
  const plan = assemblePlan('bench', 1, body, { kind: 'initial' }, { kb: [], indexes: [INDEX], inventories: [], local: false, sshHosts: [], request });
  c = process.cpuUsage();
  t = performance.now();
  const impact = impactOf(plan, knowledge);
  const impactMs = performance.now() - t;
  const impactCpuMs = cpuMs(c);
  const changing = plan.groups.filter((g) => g.outcome.kind === 'transaction' && g.outcome.changes.length > 0);
  const n = PLAN_GROUPS === 'all' ? changing.length : Math.min(changing.length, Math.max(1, Number(PLAN_GROUPS)));
  const stride = changing.length / n;
  const sample = Array.from({ length: n }, (_, i) => changing[Math.floor(i * stride)]!.key);
  // what rollbackForPlan pays once (the universe view and the checker over it), then per group
  t = performance.now();
  await rollbackForPlan(plan, knowledge, { impact, groups: [] });
  const rollbackSetupMs = performance.now() - t;
  c = process.cpuUsage();
  t = performance.now();
  let lastLog = t;
  const rollbacks = await rollbackForPlan(plan, knowledge, {
    impact, groups: sample,
    onProgress: (text) => {
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        log(`  ${text} (${((lastLog - t) / 1000).toFixed(0)} s)`);
      }
    },
  });
  const rollbackMs = performance.now() - t;
  const rollbackCpuMs = cpuMs(c);
  const perGroup = (rollbackMs - rollbackSetupMs) / Math.max(1, rollbacks.length);
  const avgChanges = changing.reduce((s, g) => s + (g.outcome.kind === 'transaction' ? g.outcome.changes.length : 0), 0) / Math.max(1, changing.length);
  return {
    hosts: fleet.hosts.length, groups: plan.groups.length, changingGroups: changing.length, avgChanges, loadMs, planMs, impactMs, rollbackSetupMs, rollbackMs,
    rollbackGroups: rollbacks.length,
    rollbackExtrapolatedMs: rollbacks.length === changing.length ? rollbackMs : rollbackSetupMs + perGroup * changing.length,
    cpu: { planMs: planCpuMs, impactMs: impactCpuMs, rollbackMs: rollbacks.length === changing.length ? rollbackCpuMs : rollbackCpuMs * (changing.length / Math.max(1, rollbacks.length)) },
    checks: rollbacks.reduce((s, r) => s + r.rollback.checks, 0),
    steps: rollbacks.reduce((s, r) => s + r.rollback.steps.length, 0),
    packageSteps: rollbacks.reduce((s, r) => s + r.rollback.steps.filter((x) => x.kind === 'packages').length, 0),
  };
}

// ---- report ---------------------------------------------------------------------------------

function describeDifference(d: SnapshotDifference): string {
  switch (d.kind) {
    case 'package-added': return `package added ${d.name} ${d.version} (${d.status})`;
    case 'package-removed': return `package removed ${d.name} ${d.version} (${d.status})`;
    case 'package-version-changed': return `package ${d.name} ${d.before} -> ${d.after}`;
    case 'package-status-changed': return `package ${d.name} status ${d.before} -> ${d.after}`;
    case 'config-changed': return `file changed ${d.path}`;
    case 'config-mode-changed': return `file mode ${d.path} ${d.before.toString(8)} -> ${d.after.toString(8)}`;
    case 'config-missing': return `file missing ${d.path}`;
    case 'config-appeared': return `file appeared ${d.path}`;
    case 'schema-version-changed': return `schema ${d.database} ${d.before ?? '(none)'} -> ${d.after ?? '(none)'}`;
    case 'service-state-changed': return `service ${d.service} ${d.before} -> ${d.after}`;
    case 'tree-entry-appeared': return `${d.type} appeared ${d.path}`;
    case 'tree-entry-missing': return `${d.type} missing ${d.path}`;
    case 'tree-entry-changed': return `${d.what} changed ${d.path}`;
  }
}

function describeRun(r: RunRecord): string[] {
  const p = r.plan;
  const lines = [
    `run ${r.index} (${r.strategy}): start ${p.start.map((x) => `${x.name}=${x.version}`).join(' ') || '(empty)'}`,
    `  request: ${p.request}; forward: ${p.changes.map((c) => `${c.action} ${c.name}${c.from ? ` ${c.from}` : ''}${c.to ? ` -> ${c.to}` : ''}`).join(', ')}${p.edits.length ? `; operator edits ${p.edits.map((e) => e.path).join(' ')}` : ''}${p.configWrites.length ? `; config writes ${p.configWrites.map((e) => e.path).join(' ')}` : ''}`,
    `  times: wall ${secs(r.wallMs)}, set-up ${secs(r.setupMs)}, rehearsal ${secs(r.rehearsalMs)} (forward ${secs(r.forwardMs)}, rollback ${secs(r.rollbackMs)}, ${r.phases})`,
    r.strategy === 'plan'
      ? `  forward ${r.forwardCompleted ? 'completed' : 'FAILED'}; rollback plan: ${p.rollback.steps.map((s) => s.kind === 'packages' ? `packages[${s.changes.map((c) => `${c.action} ${c.name}`).join(',')}]` : s.kind === 'service' ? `${s.action} ${s.service}` : s.kind === 'restore-conffiles' ? `conffiles ${s.package}` : s.kind === 'restore-config' ? `config ${s.path}` : s.kind).join('; ')}${p.rollback.flags.length ? `; flags ${p.rollback.flags.map((f) => f.id).join(' ')}` : ''}${Object.keys(p.undoDepth).length ? `; depths ${JSON.stringify(p.undoDepth)}` : ''}`
      : `  forward ${r.forwardCompleted ? 'completed' : 'FAILED'}; generic restore applied: ${r.applied.join('; ') || '(nothing)'}`,
  ];
  for (const x of r.snapshot) lines.push(`  snapshot ${x.cls.padEnd(15)} ${describeDifference(x.difference)}`);
  for (const x of r.root) lines.push(`  root     ${x.cls.padEnd(15)} ${x.difference.path}: ${x.difference.before ?? '(absent)'} -> ${x.difference.after ?? '(absent)'}`);
  for (const f of r.rollbackStepsFailed) lines.push(`  rollback step not succeeded: ${f}`);
  if (r.error) lines.push(`  error: ${r.error.split('\n').slice(0, 4).join(' | ')}`);
  return lines;
}

function labReport(res: LabResult): { lines: string[]; summary: string } {
  const out: string[] = [];
  const of = (s: Strategy): RunRecord[] => res.records.filter((r) => r.strategy === s);
  const plan = of('plan');
  const restore = of('restore');
  const count = (rs: RunRecord[], cls: LeftoverClass, where: 'snapshot' | 'root'): number => rs.reduce((n, r) => n + r[where].filter((x) => x.cls === cls).length, 0);
  const runsWith = (rs: RunRecord[], cls: LeftoverClass): number => rs.filter((r) => r.snapshot.some((x) => x.cls === cls) || r.root.some((x) => x.cls === cls)).length;
  const restored = (r: RunRecord): boolean => r.outcome !== 'error' && r.outcome !== 'not-compared' && r.snapshot.every((x) => x.cls !== 'silent') && r.root.every((x) => x.cls !== 'silent');
  const row = (label: string, rs: RunRecord[]): string => {
    const failed = rs.filter((r) => !r.forwardCompleted && r.outcome !== 'error');
    const cells = [
      label.padEnd(34),
      String(rs.length).padStart(5),
      String(rs.filter((r) => r.outcome === 'identical' && r.root.length === 0).length).padStart(10),
      String(rs.filter((r) => r.outcome !== 'error' && !(r.outcome === 'identical' && r.root.length === 0) && restored(r)).length).padStart(14),
      String(rs.filter((r) => r.outcome !== 'error' && !restored(r)).length).padStart(11),
      `${failed.length} (${failed.filter(restored).length})`.padStart(17),
      String(rs.filter((r) => r.rollbackStepsFailed.length > 0).length).padStart(13),
      String(rs.filter((r) => r.outcome === 'error').length).padStart(7),
    ];
    return cells.join(' ');
  };
  out.push(`${''.padEnd(34)}  runs  identical  only expected  different  forward failed   rollback step  errors`);
  out.push(`${''.padEnd(34)}                                                  (restored)     not succeeded`);
  out.push(row('planned rollback (planRollback)', plan));
  if (restore.length > 0) out.push(row('generic restore (planRestore)', restore));
  out.push('  identical: nothing differs, snapshot and root scan; only expected: every difference flagged by the plan (a data-converted flag included) or an unflagged data conversion (below)');
  out.push('');
  out.push(`leftovers after the planned rollback (differences)           snapshot   root scan, beyond the snapshot   runs`);
  for (const [cls, label] of [['flagged', 'flagged in advance by the plan'], ['data-conversion', 'data converted by a maintainer script, not flagged'], ['silent', 'silent']] as const) {
    out.push(`  ${label.padEnd(58)} ${String(count(plan, cls, 'snapshot')).padStart(8)}   ${String(count(plan, cls, 'root')).padStart(30)}   ${String(runsWith(plan, cls)).padStart(4)}`);
  }
  if (restore.length > 0) {
    const kinds = new Map<string, number>();
    for (const r of restore) for (const x of r.snapshot) kinds.set(x.difference.kind, (kinds.get(x.difference.kind) ?? 0) + 1);
    out.push(`generic restore: ${restore.filter((r) => r.outcome === 'identical' && r.root.length === 0).length}/${restore.length} identical; snapshot differences ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'} (schema changes it cannot undo: ${restore.reduce((n, r) => n + r.unresolved, 0)}); root-scan differences ${restore.reduce((n, r) => n + r.root.length, 0)}`);
  }
  const timed = plan.filter((r) => r.outcome !== 'error' && r.forwardMs > 0 && r.rollbackSteps > 0);
  const ratios = timed.map((r) => r.rollbackMs / r.forwardMs);
  const okRatios = timed.filter((r) => r.forwardCompleted).map((r) => r.rollbackMs / r.forwardMs);
  out.push('');
  out.push(`rollback / forward time (planned rollback, ${timed.length} runs with rollback steps): median ${quantile(ratios, 0.5).toFixed(2)}x, p90 ${quantile(ratios, 0.9).toFixed(2)}x (forwards that completed: median ${quantile(okRatios, 0.5).toFixed(2)}x, p90 ${quantile(okRatios, 0.9).toFixed(2)}x)`);
  out.push(`  forward median ${secs(quantile(timed.map((r) => r.forwardMs), 0.5))} (p90 ${secs(quantile(timed.map((r) => r.forwardMs), 0.9))}), rollback median ${secs(quantile(timed.map((r) => r.rollbackMs), 0.5))} (p90 ${secs(quantile(timed.map((r) => r.rollbackMs), 0.9))}); rollback steps per run median ${quantile(timed.map((r) => r.rollbackSteps), 0.5)}, package steps median ${quantile(timed.map((r) => r.plan.rollback.steps.filter((s) => s.kind === 'packages').length), 0.5)}`);
  const rt = restore.filter((r) => r.outcome !== 'error' && r.forwardMs > 0 && r.rollbackSteps > 0);
  if (rt.length > 0) out.push(`  generic restore / forward: median ${quantile(rt.map((r) => r.rollbackMs / r.forwardMs), 0.5).toFixed(2)}x, p90 ${quantile(rt.map((r) => r.rollbackMs / r.forwardMs), 0.9).toFixed(2)}x (${rt.length} runs)`);
  const completed = plan.filter((r) => r.forwardCompleted && r.outcome !== 'error');
  const realSilent = (r: RunRecord): number => r.snapshot.filter((x) => x.cls !== 'flagged').length;
  out.push(`model rehearsal (rehearseInModel) of the same plans, ${completed.length} completed forwards: predicted back to the start ${completed.filter((r) => r.modelRestored).length}, silent ${completed.filter((r) => r.modelSilent > 0).length}; the host had unflagged snapshot differences in ${completed.filter((r) => realSilent(r) > 0).length} (of which the model saw none in ${completed.filter((r) => realSilent(r) > 0 && r.modelSilent === 0).length})`);
  out.push(`wall time ${secs(res.wallMs)}: set-up ${secs(res.setupMs)} (repository of ${res.debs} .debs, PostgreSQL, plans), ${res.starts} start states installed in ${secs(res.templatesMs)}, runs ${secs(res.wallMs - res.setupMs - res.templatesMs)}; per run median ${secs(quantile(res.records.map((r) => r.wallMs), 0.5))} (rehearsal ${secs(quantile(res.records.map((r) => r.rehearsalMs), 0.5))})`);

  const notable = res.records.filter((r) => r.outcome === 'error' || [...r.snapshot, ...r.root].some((x) => x.cls !== 'flagged'));
  if (notable.length > 0) {
    out.push('');
    out.push(`runs with silent leftovers, data conversions or errors (${notable.length}):`);
    for (const r of notable) out.push(...describeRun(r));
  }
  if (VERBOSE) {
    out.push('');
    out.push('every run:');
    for (const r of res.records) out.push(...describeRun(r));
  } else {
    const others = res.records.filter((r) => !notable.includes(r) && (r.snapshot.length > 0 || r.root.length > 0 || r.rollbackStepsFailed.length > 0));
    if (others.length > 0) {
      out.push('');
      out.push(`runs with only expected leftovers or failed rollback steps (${others.length}; --verbose prints every run):`);
      for (const r of others.slice(0, 12)) out.push(...describeRun(r));
      if (others.length > 12) out.push(`  ... and ${others.length - 12} more`);
    }
  }
  const silentSnap = count(plan, 'silent', 'snapshot');
  const silentRoot = count(plan, 'silent', 'root');
  const fwdFailed = plan.filter((r) => !r.forwardCompleted && r.outcome !== 'error');
  const summary = `${plan.length} planned rollbacks: silent leftovers ${silentSnap} (snapshot) + ${silentRoot} (root scan) in ${runsWith(plan, 'silent')} runs, flagged ${count(plan, 'flagged', 'snapshot') + count(plan, 'flagged', 'root')}, data conversions ${count(plan, 'data-conversion', 'snapshot') + count(plan, 'data-conversion', 'root')}, errors ${plan.filter((r) => r.outcome === 'error').length}; forward failures ${fwdFailed.length} (${fwdFailed.filter(restored).length} restored); rollback/forward median ${quantile(ratios, 0.5).toFixed(2)}x p90 ${quantile(ratios, 0.9).toFixed(2)}x`;
  return { lines: out, summary };
}

function planningReport(p: PlanningResult): { lines: string[]; summary: string } {
  const extra = p.impactMs + p.rollbackExtrapolatedMs;
  const pct = (ms: number): string => `+${((ms / p.planMs) * 100).toFixed(0)}%`;
  const cpuPct = (ms: number): string => `+${((ms / p.cpu.planMs) * 100).toFixed(0)}%`;
  const lines = [
    `10,000-host plan (bench:plan's fleet and request, seed ${SEED}): ${p.hosts} hosts, ${p.groups} groups, ${p.changingGroups} with changes (avg ${p.avgChanges.toFixed(0)} package changes each); index loaded as knowledge in ${secs(p.loadMs)}`,
    `                                          wall        of plan time`,
    `plan (package set, solves, grouping)      ${secs(p.planMs).padEnd(10)}  100%`,
    `impact (impactOf)                         ${secs(p.impactMs).padEnd(10)}  ${pct(p.impactMs)}`,
    `rollback plans (rollbackForPlan)          ${secs(p.rollbackExtrapolatedMs).padEnd(10)}  ${pct(p.rollbackExtrapolatedMs)}${p.rollbackGroups < p.changingGroups ? `   (measured on ${p.rollbackGroups} of ${p.changingGroups} groups: ${secs(p.rollbackMs)}, set-up ${secs(p.rollbackSetupMs)} + ${secs((p.rollbackMs - p.rollbackSetupMs) / Math.max(1, p.rollbackGroups))}/group; extrapolated)` : `   (every group; set-up ${secs(p.rollbackSetupMs)})`}`,
    `impact + rollback planning                ${secs(extra).padEnd(10)}  ${pct(extra)}   (target < +50%: ${extra < 0.5 * p.planMs ? 'met' : 'NOT met'})`,
    `  consistency checks ${p.checks} in the measured groups (${(p.checks / Math.max(1, p.rollbackGroups)).toFixed(0)} per group; ${p.checks > 0 ? (((p.rollbackMs - p.rollbackSetupMs) / p.checks) * 1000).toFixed(0) : '-'} µs each, whole group planning included), ${p.steps} rollback steps of which ${p.packageSteps} package steps (${(p.packageSteps / Math.max(1, p.rollbackGroups)).toFixed(0)} apt transactions per group)`,
    `  CPU time: plan ${secs(p.cpu.planMs)}, impact ${secs(p.cpu.impactMs)} (${cpuPct(p.cpu.impactMs)}), rollback plans ${secs(p.cpu.rollbackMs)} (${cpuPct(p.cpu.rollbackMs)}${p.rollbackGroups < p.changingGroups ? ', extrapolated' : ''}); together ${cpuPct(p.cpu.impactMs + p.cpu.rollbackMs)} of the plan's CPU time`,
  ];
  return { lines, summary: `impact + rollback planning ${pct(extra)} of plan time (${secs(extra)} vs ${secs(p.planMs)}; target < +50%: ${extra < 0.5 * p.planMs ? 'met' : 'NOT met'})` };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const lines: string[] = [];
  const summaries: string[] = [];
  lines.push(`bench:rollback  seed ${SEED}; ${os.availableParallelism()} cores, load average at start ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  if (ONLY !== 'planning') {
    const lab = await labPart();
    const r = labReport(lab);
    lines.push('', `forward + rollback on directory-root hosts: ${lab.records.filter((x) => x.strategy === 'plan').length} runs (+${lab.records.filter((x) => x.strategy === 'restore').length} with the generic restore), ${PARALLEL} at a time`, ...r.lines);
    summaries.push(r.summary);
  }
  if (ONLY !== 'lab') {
    log('bench:rollback: planning part (bench:plan\'s 10,000-host plan)');
    const p = await planningPart();
    const r = planningReport(p);
    lines.push('', ...r.lines);
    summaries.push(r.summary);
  }
  lines.push('', `load average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; total wall ${secs(performance.now() - t0)}`);
  lines.push(`summary: ${summaries.join('; ')}`);
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
