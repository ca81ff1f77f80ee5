/**
 * Rehearsal of a stored plan on a staging host (a directory root on this machine): choose the
 * host group whose installed set the root holds, apply the group's transaction (one packages
 * step), then its rollback plan (src/planner, materialized against the snapshots the way the
 * deploy layer takes it), and compare the root with its former self (src/deploy rehearseOnHost).
 * What the root cannot show (a database nobody gave an address for, a service it does not
 * supervise) is named, never silently skipped. The result is recorded with the plan version as a
 * `rehearsal` record: the approval gate counts it when it succeeded.
 *
 * Also here: building a small staging root for a group from the knowledge base (synthetic .debs
 * standing in for each version, a flat repository, a prepared directory root), which
 * `rollwise demo` rehearses on.
 *
 * Maintainer scripts follow the hosts layer's rules: a directory root runs them chrootless, so
 * it installs only packages without scripts (no package is trusted here; a step that would run
 * one is refused before dpkg starts); `chroot: true` runs apt, dpkg and the scripts inside a
 * complete Debian root instead.
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RollwiseError } from '../../shared/index.js';
import { createUniverse, REL, type Universe } from '../../universe/index.js';
import { loadDebianIndex, loadDpkgStatus, type PackageRecord } from '../../kb/index.js';
import type { PackageChange } from '../../solver/index.js';
import type { InstalledPackage } from '../../fleet/index.js';
import {
  installedFillRecords, materializeRollback,
  type ForwardSafeguard, type Plan, type PlanGroup, type PlanStore, type RollbackFlag, type RollbackStep, type ServiceState, type Snapshot, type SnapshotDifference,
  type SnapshotPackage, type SnapshotSpec, type Step, type StepFailure,
} from '../../planner/index.js';
import type { PlanImpact } from '../../analysis/index.js';
import {
  aptConfigPath, buildSyntheticDeb, createChrootRootDriver, createDebCache, createDirectoryRootDriver, missingTools, prepareDirectoryRoot, resolveInRoot, writeFlatRepository,
  describeDebSource, type BuiltDeb, type DebSource, type FormerDebSource, type HostDriver, type SyntheticDebSpec,
} from '../../hosts/index.js';
import { rehearseOnHost, type ExpectedDifference, type HealthCheck, type RehearsalEvent, type RehearsalReport } from '../../deploy/index.js';
import type { Knowledge } from './knowledge.js';
import { impactForStoredPlan, rollbackForPlan, type PlanRollback } from './review.js';

// ---- which group a staging root stands for ---------------------------------------------------

/** A difference between a staging root and a group that would make the rehearsal rehearse something else. */
export type StagingDifference =
  /** A package the transaction changes is not on the root as the group has it (`group`/`root`: versions; absent: not installed). */
  | { kind: 'changed-package'; name: string; action: PackageChange['action']; group?: string; root?: string; rootStatus?: string }
  /** A version the transaction installs is in none of the root's repositories (as its apt lists have them). */
  | { kind: 'not-in-repository'; package: string; version: string; architecture?: string }
  /** A relation of a new version (as the root's repository declares it) is not met on the root with the transaction applied: apt would install more, or refuse. */
  | { kind: 'dependency-unmet'; package: string; version: string; relation: string; onRoot: Array<{ name: string; version: string }> }
  /** A new version conflicts with (or breaks, or is broken by) a package on the root. */
  | { kind: 'conflict'; package: string; version: string; with: { name: string; version: string }; relation: 'conflicts' | 'breaks' };

export interface StagingMatch {
  group: string;
  /** The group's number as `plan show` lists it (1-based). */
  number: number;
  hosts: string[];
  /** Differences that matter (empty: the root stands for the group). */
  matters: StagingDifference[];
  /** Packages of the group that the root lacks (none of them is changed by the plan or needed by a new version). */
  onlyInGroup: InstalledPackage[];
  /** Packages on the root the group lacks (not touched by the plan). */
  onlyOnRoot: InstalledPackage[];
  /** Other packages at another version on the root than in the group. */
  otherVersions: Array<{ name: string; group: string; root: string }>;
}

export type StagingChoice =
  | { kind: 'chosen'; match: StagingMatch; by: 'group-option' | 'installed-set'; alsoMatching: StagingMatch[] }
  /** No changing group matches (closest first); with `--group`, the one asked for. */
  | { kind: 'no-match'; matches: StagingMatch[]; asked?: string }
  /** Several groups match equally well. */
  | { kind: 'ambiguous'; matches: StagingMatch[] };

const installedLike = (status: string): boolean => status.charAt(1) !== 'c' && status.charAt(1) !== 'n' && status.charAt(1) !== '';

function rootInstalledMap(root: readonly SnapshotPackage[]): Map<string, SnapshotPackage> {
  return new Map(root.filter((p) => installedLike(p.status)).map((p) => [p.name, p]));
}

/**
 * How a root compares with one group: the differences that matter, and the rest. `universe` is
 * the root's own (its repositories as its apt lists have them, and its dpkg status): relations
 * are checked as apt on the root would meet them.
 */
export function matchGroup(group: PlanGroup, number: number, root: readonly SnapshotPackage[], universe: Universe): StagingMatch {
  const changes = group.outcome.kind === 'transaction' ? group.outcome.changes : [];
  const onRoot = rootInstalledMap(root);
  const inGroup = new Map(group.installed.map((p) => [p.name, p]));
  const matters: StagingDifference[] = [];
  for (const c of changes) {
    const g = inGroup.get(c.name);
    const r = onRoot.get(c.name);
    const want = c.action === 'install' ? undefined : (c.from ?? g?.version);
    const healthy = r ? r.status.startsWith('ii') : true;
    if ((r?.version ?? undefined) !== want || !healthy) {
      matters.push({ kind: 'changed-package', name: c.name, action: c.action, ...(want !== undefined ? { group: want } : {}), ...(r ? { root: r.version, rootStatus: r.status.trim() } : {}) });
    }
  }
  // the root as the transaction leaves it, in the universe's terms
  const after = new Map<string, { name: string; version: string; architecture: string }>(onRoot);
  for (const c of changes) {
    if (c.action === 'remove' || c.action === 'purge') after.delete(c.name);
    else if (c.to !== undefined) after.set(c.name, { name: c.name, version: c.to, architecture: c.architecture ?? onRoot.get(c.name)?.architecture ?? 'all' });
  }
  const pvOf = (p: { name: string; version: string; architecture: string }): number => universe.findInstalledPv(p.name, p.version, p.architecture);
  const present = new Map<number, { name: string; version: string }>();
  for (const p of after.values()) {
    const pv = pvOf(p);
    if (pv >= 0) present.set(pv, p);
  }
  for (const c of changes) {
    if (c.to === undefined || c.action === 'remove' || c.action === 'purge') continue;
    const pv = universe.findInstalledPv(c.name, c.to, c.architecture);
    if (pv < 0) {
      matters.push({ kind: 'not-in-repository', package: c.name, version: c.to, ...(c.architecture ? { architecture: c.architecture } : {}) });
      continue;
    }
    for (const kind of [REL.preDepends, REL.depends]) {
      for (const clause of universe.clausesOf(pv, kind)) {
        const met = Array.from(clause).some((atom) => Array.from(universe.candidates(atom)).some((q) => present.has(q)));
        if (met) continue;
        const names = [...new Set(Array.from(clause, (atom) => universe.atomToPackageAtom(atom).name))];
        matters.push({
          kind: 'dependency-unmet', package: c.name, version: c.to, relation: Array.from(clause, (atom) => universe.formatAtom(atom)).join(' | '),
          onRoot: names.flatMap((n) => {
            const r = after.get(n);
            return r ? [{ name: n, version: r.version }] : [];
          }),
        });
      }
    }
    for (const [q, other] of present) {
      if (q === pv || other.name === c.name) continue;
      const conflicts = universe.conflictsOf(pv).includes(q) || universe.conflictsOf(q).includes(pv);
      const breaks = universe.breaksOf(pv).includes(q) || universe.breaksOf(q).includes(pv);
      if (conflicts || breaks) matters.push({ kind: 'conflict', package: c.name, version: c.to, with: { name: other.name, version: other.version }, relation: conflicts ? 'conflicts' : 'breaks' });
    }
  }
  const changed = new Set(changes.map((c) => c.name));
  const onlyInGroup = group.installed.filter((p) => !onRoot.has(p.name) && !changed.has(p.name));
  const onlyOnRoot = [...onRoot.values()].filter((p) => !inGroup.has(p.name) && !changed.has(p.name)).map((p) => ({ name: p.name, version: p.version, architecture: p.architecture }));
  const otherVersions = group.installed.flatMap((p) => {
    const r = onRoot.get(p.name);
    return r && r.version !== p.version && !changed.has(p.name) ? [{ name: p.name, group: p.version, root: r.version }] : [];
  });
  return { group: group.key, number, hosts: group.hosts, matters, onlyInGroup, onlyOnRoot, otherVersions };
}

/**
 * The root's own universe: every package version its apt lists hold (its repositories, as the
 * last `apt-get update` on the root read them) and its installed packages with the relations
 * its dpkg status records.
 */
export async function loadRootUniverse(root: string, architecture: string, chroot = false): Promise<Universe> {
  const layers: Array<{ layer: { name: string; trust: 'distribution' | 'observed'; mode?: 'fill' }; records: PackageRecord[] }> = [];
  const lists = await resolveInRoot(root, '/var/lib/apt/lists', { followLast: true });
  const repository: PackageRecord[] = [];
  // apt links the list of a `file:` source to the source's own Packages: on a directory root that
  // is a path of this machine (apt ran here), followed only when it is one of the root's sources
  const allowed = chroot ? new Set<string>() : new Set((await flatFileSources(root, false)).map((s) => path.join(s.baseUrl, 'Packages')));
  if (lists && existsSync(lists)) {
    for (const f of (await readdir(lists)).sort()) {
      if (!/_Packages(\.(gz|xz|lz4|zst))?$/.test(f)) continue;
      const here = path.join(lists, f);
      const st = await lstat(here).catch(() => undefined);
      let file: string | undefined;
      if (st?.isSymbolicLink() && allowed.has(path.resolve(path.dirname(here), await readlink(here)))) file = path.resolve(path.dirname(here), await readlink(here));
      else file = await resolveInRoot(root, `/var/lib/apt/lists/${f}`, { followLast: true });
      if (file && existsSync(file)) repository.push(...(await loadDebianIndex(file, { hostArch: architecture })).records);
    }
  }
  layers.push({ layer: { name: 'staging:repositories', trust: 'distribution' }, records: repository });
  const status = await resolveInRoot(root, '/var/lib/dpkg/status', { followLast: true });
  const installed = status && existsSync(status) ? (await loadDpkgStatus(status, { hostArch: architecture })).map((r) => r.record) : [];
  layers.push({ layer: { name: 'staging:installed', trust: 'observed', mode: 'fill' }, records: installed });
  return createUniverse(layers, { hostArch: architecture });
}

const changingGroups = (plan: Plan): Array<{ group: PlanGroup; number: number }> =>
  plan.groups.flatMap((g, i) => (g.outcome.kind === 'transaction' && g.outcome.changes.length > 0 ? [{ group: g, number: i + 1 }] : []));

/** The group a root stands for: the one asked for (when it matches), or the one whose installed set it holds. */
export function chooseStagingGroup(plan: Plan, root: readonly SnapshotPackage[], universe: Universe, groupKey?: string): StagingChoice {
  if (groupKey !== undefined) {
    const i = plan.groups.findIndex((g) => g.key === groupKey);
    const g = plan.groups[i];
    if (!g || g.outcome.kind !== 'transaction' || g.outcome.changes.length === 0) {
      throw new RollwiseError('RW_USAGE', `group ${i + 1} (${groupKey}) changes nothing in this plan version${g?.outcome.kind === 'conflict' ? ` (conflict ${g.outcome.conflict} is not resolved)` : ''}`, {
        hint: 'rehearse a group that has a transaction (rollwise plan show lists them; rollwise plan resolve chooses resolutions)',
      });
    }
    const m = matchGroup(g, i + 1, root, universe);
    return m.matters.length === 0 ? { kind: 'chosen', match: m, by: 'group-option', alsoMatching: [] } : { kind: 'no-match', matches: [m], asked: groupKey };
  }
  const all = changingGroups(plan).map(({ group, number }) => matchGroup(group, number, root, universe));
  const distance = (m: StagingMatch): number => m.onlyInGroup.length + m.onlyOnRoot.length + m.otherVersions.length;
  const ok = all.filter((m) => m.matters.length === 0).sort((a, b) => distance(a) - distance(b) || a.number - b.number);
  if (ok.length === 0) return { kind: 'no-match', matches: [...all].sort((a, b) => a.matters.length - b.matters.length || distance(a) - distance(b) || a.number - b.number) };
  if (ok.length > 1 && distance(ok[0]!) === distance(ok[1]!)) return { kind: 'ambiguous', matches: ok };
  return { kind: 'chosen', match: ok[0]!, by: 'installed-set', alsoMatching: ok.slice(1) };
}

// ---- rehearsal on the root ---------------------------------------------------------------------

/** What the staging root could not rehearse or compare, said in the report. */
export type StagingOmission =
  /** A database step of the rollback (down-migration, restore from backup): no database address is known for a staging root. */
  | { kind: 'database-step'; step: 'migrate' | 'restore-database'; database: string; what: string }
  /** The schema of a database the rollback plan snapshots is not compared. */
  | { kind: 'schema-not-compared'; database: string }
  /** A service the rollback stops and starts is not supervised on the root: its steps and health checks did not run. */
  | { kind: 'service-not-supervised'; service: string; state: ServiceState }
  /** The knowledge base's health probes of a service were not run; the rehearsal checked that it runs instead. */
  | { kind: 'health-as-service-state'; service: string };

export interface StagingRehearsalInput {
  /** Where the version lives (its impact is read from it when not given; the result is recorded in it). */
  store: Parameters<typeof impactForStoredPlan>[0] & PlanStore;
  plan: Plan;
  knowledge: Knowledge;
  /** The version's impact (default: the recorded one, or predicted now). */
  impact?: PlanImpact;
  /** The staging root (a directory holding a dpkg database). */
  root: string;
  /** The name recorded as `where` (default: the root's folder name). */
  name?: string;
  /** Rehearse this group (its key); default: the group whose installed set the root holds. */
  group?: string;
  /** Run apt, dpkg and maintainer scripts inside the root with chroot (a complete Debian system). */
  chroot?: boolean;
  /** Record the result with the plan version (default true). */
  record?: boolean;
  /** More health checks after the forward steps and after the rollback (a `command` runs inside a chroot root, e.g. `nginx -t`). */
  healthChecks?: readonly HealthCheck[];
  onProgress?: (text: string) => void;
}

export interface StagingRehearsal {
  kind: 'rehearsed';
  plan: { id: string; version: number };
  where: string;
  root: string;
  mode: 'directory-root' | 'chroot';
  choice: Extract<StagingChoice, { kind: 'chosen' }>;
  rollback: PlanRollback;
  snapshotSpec: SnapshotSpec;
  omissions: StagingOmission[];
  healthChecks: HealthCheck[];
  expected: ExpectedDifference[];
  /** Where the former .debs were kept from (the root's flat `file:` repository), when it has one. */
  debSource?: string;
  report: RehearsalReport;
  /** Packages the forward step changed that the plan's transaction does not name. */
  unplannedForwardChanges: SnapshotDifference[];
  ok: boolean;
  recorded: boolean;
}

/** The root would not run the forward step at all (nothing was applied; nothing recorded). */
export interface StagingRefusal {
  kind: 'refused';
  plan: { id: string; version: number };
  where: string;
  root: string;
  choice: StagingChoice;
  /** The step's rejection (maintainer scripts that may not run chrootless, ...), when it got that far. */
  failure?: Extract<StepFailure, { kind: 'rejected' }>;
}

export type StagingResult = StagingRehearsal | StagingRefusal;

/** What the gate reads (where, ok, at), and a summary of the report. */
export interface StagingRecordBody {
  where: string;
  ok: boolean;
  at: string;
  root: string;
  mode: 'directory-root' | 'chroot';
  group: string;
  outcome: RehearsalReport['outcome'];
  forwardCompleted: boolean;
  rollbackSteps: number;
  rollbackFailed: number;
  healthFailed: number;
  differences: Array<SnapshotDifference & { flag: 'flagged' | 'silent' }>;
  omissions: StagingOmission[];
  timings: RehearsalReport['timings'];
}

/** Throws RW_NOT_FOUND / RW_HOST when `root` is not a staging root (checked before anything slow). */
export async function assertStagingRoot(root: string, chroot: boolean): Promise<void> {
  const hint = 'a staging root is a directory holding a dpkg database (var/lib/dpkg/status) and, for a directory root, the apt configuration Rollwise prepares (var/lib/rollwise/apt.conf; rollwise demo builds one); --chroot takes a complete Debian system';
  if (!existsSync(root)) throw new RollwiseError('RW_NOT_FOUND', `staging root ${root} does not exist`, { hint });
  const status = await resolveInRoot(root, '/var/lib/dpkg/status', { followLast: true });
  if (!status || !existsSync(status)) throw new RollwiseError('RW_HOST', `${root} holds no dpkg database (var/lib/dpkg/status)`, { hint });
  if (!chroot && !existsSync(aptConfigPath(root))) throw new RollwiseError('RW_HOST', `${root} is not prepared as a directory root: var/lib/rollwise/apt.conf is missing`, { hint });
}

/**
 * The root's flat `file:` repositories (`deb [..] file:DIR ./`), from its sources.list(.d): the
 * source the former .debs are kept from. A chroot root's paths are inside it.
 */
export async function flatFileSources(root: string, chroot: boolean): Promise<DebSource[]> {
  const files: string[] = [];
  const main = await resolveInRoot(root, '/etc/apt/sources.list', { followLast: true });
  if (main && existsSync(main)) files.push(main);
  const dir = await resolveInRoot(root, '/etc/apt/sources.list.d', { followLast: true });
  if (dir && existsSync(dir)) {
    for (const f of (await readdir(dir)).sort()) {
      if (!f.endsWith('.list')) continue;
      const p = await resolveInRoot(root, `/etc/apt/sources.list.d/${f}`, { followLast: true });
      if (p) files.push(p);
    }
  }
  const out: DebSource[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?file:(\/\S*)\s+(\.\/|\S*\/)\s*$/.exec(line);
      if (!m) continue;
      const base = path.posix.join(m[1]!, m[2]!);
      const local = chroot ? await resolveInRoot(root, base, { followLast: true }) : base;
      if (local && path.isAbsolute(local)) out.push({ baseUrl: local });
    }
  }
  return out;
}

/** Expected differences from the rollback's flags (what it says in advance it cannot undo). */
function expectedFromFlags(flags: readonly RollbackFlag[], spec: SnapshotSpec, kbFilesOf: (pkg: string) => string[], cached: boolean): ExpectedDifference[] {
  const out: ExpectedDifference[] = [];
  for (const f of flags) {
    switch (f.kind) {
      case 'left-in-place':
        out.push(f.former !== undefined ? { kind: 'package-version-changed', name: f.package } : { kind: 'package-added', name: f.package });
        break;
      case 'former-version-unavailable':
        if (!cached) out.push({ kind: 'package-version-changed', name: f.deb.name }, { kind: 'package-removed', name: f.deb.name });
        break;
      case 'configuration-purged':
        for (const p of kbFilesOf(f.package).filter((x) => spec.configFiles?.includes(x))) out.push({ kind: 'config-missing', path: p }, { kind: 'config-changed', path: p });
        break;
      case 'data-converted':
        for (const p of f.paths.filter((x) => spec.configFiles?.includes(x))) out.push({ kind: 'config-changed', path: p }, { kind: 'config-appeared', path: p }, { kind: 'config-missing', path: p });
        break;
      case 'schema-kept':
      case 'irreversible-migration':
        // schemas are compared only with a database address (none for a staging root yet)
        if (spec.databases?.some((d) => d.name === f.database)) out.push({ kind: 'schema-version-changed', database: f.database });
        break;
      default:
        break;
    }
  }
  return out;
}

/**
 * Rehearse the plan's transaction for one group on a staging root, then its rollback plan;
 * record the result. Throws RollwiseError for a root that is not one (nothing touched).
 */
export async function rehearsePlanOnStaging(input: StagingRehearsalInput): Promise<StagingResult> {
  const { plan, knowledge } = input;
  const root = path.resolve(input.root).replace(/\/+$/, '');
  const chroot = input.chroot === true;
  const where = input.name ?? path.basename(root);
  if (where === 'model' || where.trim() === '') throw new RollwiseError('RW_USAGE', `'${where}' cannot name a staging host`, { hint: "the name 'model' means the rehearsal in the model; give another with --name" });
  await assertStagingRoot(root, chroot);
  const driver: HostDriver = chroot ? createChrootRootDriver({ root, name: where }) : createDirectoryRootDriver({ root, name: where });
  const progress = input.onProgress ?? ((): void => undefined);

  progress('reading the staging root…');
  const installed = await driver.readInstalled();
  if (installed.kind !== 'ok') throw new RollwiseError('RW_HOST', `cannot read the installed packages of ${root}: ${installed.kind === 'failed' ? installed.message : installed.reason}`, { hint: 'dpkg-query must read var/lib/dpkg of the root (install the Debian package dpkg)' });
  const architecture = plan.groups.flatMap((g) => g.installed).find((p) => p.architecture !== 'all')?.architecture ?? 'amd64';
  const choice = chooseStagingGroup(plan, installed.value, await loadRootUniverse(root, architecture, chroot), input.group);
  const ids = { id: plan.id, version: plan.version };
  if (choice.kind !== 'chosen') return { kind: 'refused', plan: ids, where, root, choice };
  const group = plan.groups.find((g) => g.key === choice.match.group)!;
  const changes = group.outcome.kind === 'transaction' ? group.outcome.changes : [];

  progress('planning the rollback…');
  const impact = input.impact ?? (await impactForStoredPlan(input.store, plan)).impact;
  const [rollback] = await rollbackForPlan(plan, knowledge, { impact, groups: [group.key], onProgress: progress });
  if (!rollback) throw new Error(`no rollback plan for group ${group.key}`);

  // what the snapshots hold: the rollback's snapshot safeguard and dpkg's conffiles (the driver records the side files dpkg leaves beside each)
  const safeguard = rollback.rollback.forwardSafeguards.find((s): s is Extract<ForwardSafeguard, { kind: 'snapshot' }> => s.kind === 'snapshot');
  const kbConfig = new Map<string, string[]>();
  for (const layer of knowledge.kb.layers) for (const c of layer.configFiles) kbConfig.set(c.value.package, [...new Set([...(kbConfig.get(c.value.package) ?? []), c.value.path])]);
  const services = [...new Set(safeguard?.services ?? [])];
  const snapshotSpec: SnapshotSpec = { configFiles: [...new Set([...(safeguard?.configFiles ?? []), ...(safeguard?.dataFiles ?? [])])], conffiles: true, services, ...(chroot ? { trees: ['/etc'] } : {}) };
  progress('taking a first look at the staging root…');
  const probe = await driver.takeSnapshot(snapshotSpec);
  if (probe.kind !== 'ok') throw new RollwiseError('RW_HOST', `cannot take a snapshot of ${root}: ${probe.kind === 'failed' ? probe.message : probe.reason}`, { hint: 'every file a snapshot reads must lie inside the root' });
  const changed = new Set(changes.map((c) => c.name));
  const serviceState = new Map(probe.value.services.map((s) => [s.name, s.state]));
  const supervised = (s: string): boolean => ['running', 'stopped', 'failed'].includes(serviceState.get(s) ?? 'absent');

  const omissions: StagingOmission[] = [];
  const omit = (o: StagingOmission): void => {
    if (!omissions.some((x) => JSON.stringify(x) === JSON.stringify(o))) omissions.push(o);
  };
  for (const s of rollback.rollback.steps) {
    if (s.kind === 'migrate') omit({ kind: 'database-step', step: 'migrate', database: s.database, what: `${s.migration.id} down` });
    if (s.kind === 'restore-database') omit({ kind: 'database-step', step: 'restore-database', database: s.database, what: `restore from the backup (undoes ${s.undoes.join(', ')})` });
    if ((s.kind === 'service' || s.kind === 'health') && !supervised(s.service)) omit({ kind: 'service-not-supervised', service: s.service, state: serviceState.get(s.service) ?? 'absent' });
  }
  for (const d of safeguard?.databases ?? []) omit({ kind: 'schema-not-compared', database: d });
  const healthChecks: HealthCheck[] = [...(input.healthChecks ?? [])];
  for (const s of rollback.rollback.steps) {
    if (s.kind === 'health' && serviceState.get(s.service) === 'running' && !healthChecks.some((h) => h.kind === 'service' && h.service === s.service)) {
      healthChecks.push({ kind: 'service', service: s.service, state: 'running', withinMs: 15_000 });
      omit({ kind: 'health-as-service-state', service: s.service });
    }
  }

  // the former .debs, kept from the root's own flat repository, or for a chroot root from its own
  // apt cache (apt-get download inside it for those apt cleaned): the rollback needs no repository
  const sources = await flatFileSources(root, chroot);
  const debSource: FormerDebSource | undefined = sources[0] ?? (chroot ? { kind: 'root-archives', root, download: true } : undefined);
  const cacheDir = debSource ? await mkdtemp(path.join(os.tmpdir(), 'rollwise-staging-debs-')) : undefined;
  const expected = expectedFromFlags(rollback.rollback.flags, snapshotSpec, (p) => kbConfig.get(p) ?? [], cacheDir !== undefined);

  const materialize = ({ before, afterForward }: { before: Snapshot; afterForward?: Snapshot }): Step[] => {
    const planned = rollback.rollback.steps as RollbackStep[];
    const m = materializeRollback(planned, before, afterForward);
    return planned.flatMap((s, i) => (s.kind === 'service' && !supervised(s.service) ? [] : m.steps[i] ?? []));
  };

  const phaseWords: Record<string, string> = {
    'snapshot-before': 'snapshot before', 'keep-debs': 'keeping the former .debs', forward: 'applying the plan', 'snapshot-forward': 'snapshot after the plan',
    health: 'health checks', rollback: 'applying the rollback plan', 'snapshot-after': 'snapshot after the rollback', 'health-after-rollback': 'health checks after the rollback',
  };
  let report: RehearsalReport;
  try {
    report = await rehearseOnHost({
      driver,
      snapshotSpec,
      forward: [{ kind: 'packages', changes: changes.map((c) => ({ ...c })) }],
      rollback: materialize,
      healthChecks,
      expectedDifferences: expected,
      ...(cacheDir && debSource ? { debCache: { cache: createDebCache(cacheDir), source: debSource } } : {}),
      onProgress: (e: RehearsalEvent) => {
        if (e.kind === 'phase-started') progress(`${phaseWords[e.phase] ?? e.phase}…`);
      },
    });
  } finally {
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  }

  const first = report.forward.outcomes[0];
  if (first?.status === 'failed' && first.failure.kind === 'rejected' && report.outcome === 'identical') {
    return { kind: 'refused', plan: ids, where, root, choice, failure: first.failure };
  }
  const unplannedForwardChanges = (report.forwardChanges ?? []).filter((d) => (d.kind === 'package-added' || d.kind === 'package-removed' || d.kind === 'package-version-changed') && !changed.has(d.name));
  const healthFailed = [...report.health.afterForward, ...report.health.afterRollback].filter((h) => h.status === 'failed').length;
  const rollbackFailed = report.rollback.outcomes.filter((o) => o.status !== 'succeeded').length;
  const ok = (report.outcome === 'identical' || report.outcome === 'flagged-only') && report.forward.completed && rollbackFailed === 0 && !report.rollback.notPlanned && healthFailed === 0;

  const result: StagingRehearsal = {
    kind: 'rehearsed', plan: ids, where, root, mode: chroot ? 'chroot' : 'directory-root', choice, rollback, snapshotSpec, omissions, healthChecks, expected,
    ...(cacheDir && debSource ? { debSource: describeDebSource(debSource) } : {}), report, unplannedForwardChanges, ok, recorded: false,
  };
  if (input.record !== false) {
    const at = new Date().toISOString();
    const body: StagingRecordBody = {
      where, ok, at, root, mode: result.mode, group: group.key, outcome: report.outcome, forwardCompleted: report.forward.completed,
      rollbackSteps: report.rollback.steps.length, rollbackFailed, healthFailed,
      differences: report.differences.map((d) => ({ ...d.difference, flag: d.flag })), omissions, timings: report.timings,
    };
    await input.store.addRecord(plan.id, plan.version, { kind: 'rehearsal', createdAt: at, body });
    result.recorded = true;
  }
  return result;
}

// ---- building a staging root from the knowledge base ---------------------------------------------

/** Tools a staging root needs on this machine, missing ones with their Debian package; and whether this process may run dpkg on a root. */
export function stagingPrerequisites(): { missing: Array<{ tool: string; package: string }>; root: boolean } {
  return { missing: missingTools(['dpkg-deb', 'dpkg', 'dpkg-query', 'apt-get']), root: typeof process.getuid !== 'function' || process.getuid() === 0 };
}

export interface StagingRootInput {
  /** A folder for the repository and the root (emptied first). */
  dir: string;
  plan: Plan;
  /** The group's key. */
  group: string;
  knowledge: Knowledge;
  /** More packages to install beside the group's (newest version unless given), with what they depend on. */
  extra?: ReadonlyArray<{ name: string; version?: string }>;
  /** Files an operator changed after installing (path → content): written into the root last. */
  operatorEdits?: Readonly<Record<string, string>>;
  onProgress?: (text: string) => void;
}

export interface StagingRoot {
  root: string;
  repository: string;
  /** The packages installed on the root (exact versions). */
  installed: InstalledPackage[];
  /** Every .deb built (the root's and the transaction's versions). */
  debs: BuiltDeb[];
  /** Packages built without their relations (distribution packages stand in for themselves). */
  standIns: string[];
}

/**
 * A small staging root for a group: the packages its transaction changes, at the group's
 * versions, with what they and the new versions depend on (as the group has it), each a synthetic
 * .deb without maintainer scripts. Knowledge-base packages keep their relations and ship their
 * config files as conffiles; distribution packages stand in without relations (their own
 * dependencies are not built). The new versions are in the root's repository, not installed.
 */
export async function buildStagingRoot(input: StagingRootInput): Promise<StagingRoot> {
  const { plan, knowledge } = input;
  const progress = input.onProgress ?? ((): void => undefined);
  const group = plan.groups.find((g) => g.key === input.group);
  if (!group || group.outcome.kind !== 'transaction') throw new RollwiseError('RW_USAGE', `group ${input.group} has no transaction in plan ${plan.id}`, { hint: 'build a staging root for a group that changes' });
  const changes = group.outcome.changes;
  const universe = await knowledge.universe.withFill(installedFillRecords(plan.groups.map((g) => g.installed), []));
  const inGroup = new Map(group.installed.map((p) => [p.name, p]));
  const changed = new Set(changes.map((c) => c.name));
  const keepsRelations = (pv: number): boolean => ['organisation', 'learned'].includes(universe.layerOf(pv).trust ?? '');

  const onRoot = new Map<string, InstalledPackage>();
  const pvOf = (p: InstalledPackage): number => universe.findInstalledPv(p.name, p.version, p.architecture);
  const asPackage = (pv: number): InstalledPackage => ({ name: universe.nameOfPv(pv), version: universe.versionOf(pv), architecture: universe.archOf(pv) });
  const transactionTo = new Map(changes.filter((c) => c.to !== undefined && c.action !== 'remove' && c.action !== 'purge').map((c) => [c.name, c]));
  // add a package and what it depends on: the group's package first, then one already chosen, then the newest candidate
  const add = (p: InstalledPackage): void => {
    if (onRoot.has(p.name)) return;
    onRoot.set(p.name, p);
    const pv = pvOf(p);
    if (pv >= 0) needs(pv);
  };
  const needs = (pv: number): void => {
    if (!keepsRelations(pv)) return;
    for (const kind of [REL.preDepends, REL.depends]) {
      for (const clause of universe.clausesOf(pv, kind)) {
        const cands = Array.from(clause).flatMap((atom) => Array.from(universe.candidates(atom)));
        const isIn = (q: number, m: ReadonlyMap<string, InstalledPackage>): boolean => {
          const p = m.get(universe.nameOfPv(q));
          return !!p && p.version === universe.versionOf(q);
        };
        if (cands.some((q) => isIn(q, onRoot))) continue;
        if (cands.some((q) => transactionTo.get(universe.nameOfPv(q))?.to === universe.versionOf(q))) continue;
        const pick = cands.find((q) => isIn(q, inGroup)) ?? cands[0];
        if (pick !== undefined) add(asPackage(pick));
      }
    }
  };
  for (const c of changes) {
    const g = inGroup.get(c.name);
    if (c.action !== 'install' && g) add(g);
  }
  for (const c of transactionTo.values()) {
    const pv = universe.findInstalledPv(c.name, c.to!, c.architecture);
    if (pv >= 0) needs(pv);
  }
  for (const e of input.extra ?? []) {
    const id = universe.nameId(e.name);
    const versions = id >= 0 ? Array.from(universe.versionsOf(id)) : [];
    const pv = e.version !== undefined ? versions.find((v) => universe.versionOf(v) === e.version) : versions.sort((a, b) => universe.compareVersions(b, a))[0];
    if (pv === undefined) throw new RollwiseError('RW_UNKNOWN_PACKAGE', `${e.name}${e.version ? ` ${e.version}` : ''} is in no layer of the knowledge base`, { hint: 'name a package version the knowledge base or an index holds' });
    if (!changed.has(e.name)) add(asPackage(pv));
  }

  // the .debs: every version on the root and every version the transaction installs
  const configOf = new Map<string, string[]>();
  for (const layer of knowledge.kb.layers) for (const c of layer.configFiles) configOf.set(c.value.package, [...new Set([...(configOf.get(c.value.package) ?? []), c.value.path])]);
  const standIns: string[] = [];
  const specOf = (p: InstalledPackage): SyntheticDebSpec => {
    const pv = pvOf(p);
    const relations: Partial<SyntheticDebSpec> = {};
    if (pv >= 0 && keepsRelations(pv)) {
      const text = (kind: number): string => universe.clausesOf(pv, kind).map((cl) => Array.from(cl, (a) => universe.formatAtom(a)).join(' | ')).join(', ');
      const fields = { preDepends: REL.preDepends, depends: REL.depends, conflicts: REL.conflicts, breaks: REL.breaks, provides: REL.provides, replaces: REL.replaces } as const;
      for (const [k, kind] of Object.entries(fields)) {
        const t = text(kind);
        if (t) relations[k as keyof typeof fields] = t;
      }
    } else if (!standIns.includes(p.name)) standIns.push(p.name);
    const conffiles = Object.fromEntries((configOf.get(p.name) ?? []).map((f) => [f, `# ${f}: configuration of ${p.name} ${p.version}, as the package ships it\nversion = "${p.version}"\n`]));
    return {
      name: p.name, version: p.version, architecture: p.architecture, ...relations,
      description: pv >= 0 && keepsRelations(pv) ? `${p.name} ${p.version} (synthetic, from the knowledge base)` : `stand-in for ${p.name} ${p.version} (relations left out)`,
      files: { [`/usr/share/${p.name}/VERSION`]: `${p.version}\n` },
      ...(Object.keys(conffiles).length ? { conffiles } : {}),
    };
  };
  const wanted = new Map<string, InstalledPackage>();
  for (const p of onRoot.values()) wanted.set(`${p.name}=${p.version}`, p);
  for (const c of transactionTo.values()) {
    const pv = universe.findInstalledPv(c.name, c.to!, c.architecture);
    const p = pv >= 0 ? asPackage(pv) : { name: c.name, version: c.to!, architecture: c.architecture ?? 'all' };
    wanted.set(`${p.name}=${p.version}`, p);
  }

  const dir = path.resolve(input.dir);
  await rm(dir, { recursive: true, force: true });
  const repository = path.join(dir, 'repo');
  const root = path.join(dir, 'root');
  await mkdir(repository, { recursive: true });
  progress(`building ${wanted.size} synthetic packages…`);
  const debs: BuiltDeb[] = [];
  for (const p of wanted.values()) debs.push(await buildSyntheticDeb(specOf(p), repository));
  const sourceLine = await writeFlatRepository(repository, debs);
  progress('preparing the staging root…');
  await prepareDirectoryRoot(root, { sources: [sourceLine], architecture: group.installed.find((p) => p.architecture !== 'all')?.architecture ?? 'amd64' });
  const driver = createDirectoryRootDriver({ root, name: path.basename(dir) });
  const must = async (step: Step, what: string): Promise<void> => {
    const o = await driver.apply(step);
    if (o.status === 'succeeded') return;
    const why = o.status === 'unknown' ? o.reason : o.failure.kind === 'command' ? `${o.failure.command[0]} exited ${o.failure.exitCode}: ${o.failure.output.slice(-1500)}` : o.failure.kind === 'rejected' ? `${o.failure.code}: ${o.failure.message}` : o.failure.kind === 'not-started' ? o.failure.reason : o.failure.message;
    throw new RollwiseError('RW_HOST', `building the staging root: ${what} failed: ${why}`, { hint: 'dpkg and apt must run on a directory root here (as root; install the Debian packages dpkg and apt)' });
  };
  await must({ kind: 'refresh-index' }, 'apt-get update');
  const installed = [...onRoot.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  progress(`installing ${installed.length} packages on the staging root…`);
  await must({ kind: 'packages', changes: installed.map((p) => ({ action: 'install', name: p.name, architecture: p.architecture, to: p.version })) }, 'installing the group\'s packages');
  for (const [p, content] of Object.entries(input.operatorEdits ?? {})) await must({ kind: 'write-config', path: p, content }, `writing ${p}`);
  return { root, repository, installed, debs, standIns };
}
