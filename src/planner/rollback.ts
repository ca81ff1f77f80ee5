/**
 * Rollback plans, made per host group together with the forward plan (pure; see
 * rollback-types.ts for the data and what each symbolic step means at execution).
 *
 * planRollback lays the way back out in phases:
 * 1. stop the affected services (those made of a package the rollback changes, or reloaded by a
 *    config file it restores), dependants before what they depend on;
 * 2. put every database back: the down migrations of the migrations the forward plan's new
 *    versions add (known to the new version, not to the old one), newest first, while every
 *    service whose software knows the newer schema is stopped and before the old version is
 *    installed (maintainer scripts start nothing during a rollback), so no version ever runs
 *    against a schema it does not know; a database with an irreversible migration among them is
 *    restored from the backup the forward plan takes instead;
 * 3. the package changes, ordered so every intermediate installed set is consistent
 *    (rollback-order.ts);
 * 4. config files from the pre-deployment snapshot: the knowledge base's for the changed
 *    packages, and dpkg's conffiles of each;
 * 5. start the stopped services that the snapshot had running, dependencies first, each followed
 *    by its health check.
 * What cannot be undone exactly is flagged (each flag a kind with its subject), and what the
 * forward plan must do first is returned as safeguards (backups, approvals, .debs to keep, what
 * the snapshot must hold).
 *
 * materializeRollback turns the symbolic steps into host steps once the snapshots exist: config
 * files with the side files dpkg leaves beside them, no stop of a service the host never had,
 * and one apt transaction when the forward left a package half-installed or half-configured
 * (apt would configure it first in every step and stop there).
 */
import { installedSpecName, type InstalledPackage } from '../fleet/index.js';
import type { PackageChange } from '../solver/index.js';
import { getScheme } from '../versions/index.js';
import { restoreFileStep, type Snapshot } from './snapshot.js';
import type { Step } from './steps.js';
import { applyPackageChanges, orderPackageChanges, sortedPackages } from './rollback-order.js';
import type {
  DebRef, ForwardSafeguard, GroupRollback, MigrationFact, PackageMigrations, RollbackFlag, RollbackInput, RollbackKnowledge,
  RollbackStep, ServiceFact, UndoDecision, UndoDepth,
} from './rollback-types.js';

/** A migration with the package version that ships it. */
export interface ShippedMigration {
  package: string;
  /** The knowledge base's version that lists the migration. */
  version: string;
  migration: MigrationFact;
}

const isRemoval = (c: PackageChange): boolean => c.action === 'remove' || c.action === 'purge';
const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
export const migrationKey = (m: { database: string; id: string }): string => `${m.database}/${m.id}`;

/**
 * The migrations a version of a package knows: those shipped by every version of the package up
 * to it (the knowledge base lists each migration with the version that ships it), in the order
 * they are applied. None for an absent package or one the knowledge base gives no migrations.
 */
export function knownMigrations(facts: PackageMigrations | undefined, version: string | undefined): ShippedMigration[] {
  if (!facts || version === undefined) return [];
  const scheme = getScheme(facts.scheme);
  const out: ShippedMigration[] = [];
  for (const v of facts.versions) {
    if (v.version !== version && scheme.compare(v.version, version) > 0) continue;
    for (const m of v.migrations) out.push({ package: facts.name, version: v.version, migration: m });
  }
  return out;
}

/** What the forward changes add to the schema, in the order the forward plan applies them (changes in order, then versions ascending). */
export function forwardMigrations(installed: readonly InstalledPackage[], changes: readonly PackageChange[], knowledge: RollbackKnowledge): ShippedMigration[] {
  const before = new Map(installed.map((p) => [p.name, p]));
  const facts = new Map(knowledge.packages.map((p) => [p.name, p]));
  const out: ShippedMigration[] = [];
  const seen = new Set<string>();
  for (const c of changes) {
    if (isRemoval(c) || c.to === undefined) continue;
    const f = facts.get(c.name);
    const had = new Set(knownMigrations(f, before.get(c.name)?.version).map((s) => migrationKey(s.migration)));
    for (const s of knownMigrations(f, c.to)) {
      const k = migrationKey(s.migration);
      if (had.has(k) || seen.has(k)) continue;
      seen.add(k);
      out.push(s);
    }
  }
  return out;
}

/** Service names, dependencies before their dependants (ties by name; a cycle is broken by name). */
export function serviceStartOrder(services: readonly ServiceFact[], among?: ReadonlySet<string>): string[] {
  const byN = new Map(services.map((s) => [s.name, s]));
  const done = new Set<string>();
  const out: string[] = [];
  const visit = (name: string, path: Set<string>): void => {
    if (done.has(name) || path.has(name)) return;
    path.add(name);
    for (const d of [...(byN.get(name)?.dependsOn ?? [])].sort()) if (byN.has(d)) visit(d, path);
    path.delete(name);
    done.add(name);
    out.push(name);
  };
  for (const s of [...services].sort(byName)) visit(s.name, new Set());
  return among ? out.filter((n) => among.has(n)) : out;
}

/** The installed set the forward changes lead to. */
export function stateAfter(installed: readonly InstalledPackage[], changes: readonly PackageChange[]): InstalledPackage[] {
  const s = new Map(installed.map((p) => [p.name, p]));
  applyPackageChanges(s, changes);
  return sortedPackages(s.values());
}

const debId = (d: DebRef): string => `${d.name}=${d.version}`;

/** The architecture a resolver name qualifies (`libc6:i386`: i386), or undefined for a bare name. */
const qualifierOf = (name: string): string | undefined => {
  const colon = name.lastIndexOf(':');
  return colon > 0 ? name.slice(colon + 1) : undefined;
};

/**
 * A group's installed set and forward changes under the resolver's names (multiarch): a package
 * of a foreign architecture is `name:arch` (installedSpecName), others keep their name, so every
 * map of the rollback keys `libc6` (native) and `libc6:i386` apart. Foreign architectures: those
 * given, and those the changes' names qualify. Without any, the input is returned as it is.
 */
export function resolverNamedGroup(
  installed: readonly InstalledPackage[], changes: readonly PackageChange[], foreignArchs: readonly string[] = [],
): { installed: InstalledPackage[]; changes: PackageChange[] } {
  const foreign = new Set(foreignArchs);
  for (const c of changes) {
    const q = qualifierOf(c.name);
    if (q !== undefined && (c.architecture === undefined || c.architecture === q)) foreign.add(q);
  }
  if (foreign.size === 0) return { installed: [...installed], changes: [...changes] };
  const archs = [...foreign];
  return {
    installed: installed.map((p) => (qualifierOf(p.name) === undefined && foreign.has(p.architecture) ? { ...p, name: installedSpecName(p, archs) } : p)),
    changes: changes.map((c) => (qualifierOf(c.name) === undefined && c.architecture !== undefined && foreign.has(c.architecture) ? { ...c, name: `${c.name}:${c.architecture}` } : c)),
  };
}

export function planRollback(input: RollbackInput): GroupRollback {
  const { knowledge } = input;
  const named = resolverNamedGroup(input.group.installed, input.group.changes, input.foreignArchs);
  const group = { key: input.group.key, installed: named.installed, changes: named.changes };
  const before = sortedPackages(group.installed);
  const beforeMap = new Map(before.map((p) => [p.name, p]));
  const after = stateAfter(before, group.changes);
  const afterMap = new Map(after.map((p) => [p.name, p]));
  const forwardAction = new Map(group.changes.map((c) => [c.name, c]));
  const changed = [...new Set([...beforeMap.keys(), ...afterMap.keys()])].filter((n) => beforeMap.get(n)?.version !== afterMap.get(n)?.version).sort();
  const empty: GroupRollback = { group: group.key, kind: 'nothing-to-undo', before, after, target: before, steps: [], flags: [], forwardSafeguards: [], depths: [], checks: 0 };
  if (changed.length === 0) return empty;

  // ---- undo depths --------------------------------------------------------------------------
  const depths: UndoDecision[] = changed.map((name) => {
    const asked: UndoDepth = input.undoDepth?.[name] ?? 'complete';
    if (asked === 'leave' && !input.allowLeave) return { package: name, asked, used: 'complete', because: 'leave-not-allowed' };
    return { package: name, asked, used: asked };
  });
  let checks = 0;
  const targetOf = (): Map<string, InstalledPackage> => {
    const t = new Map(beforeMap);
    for (const d of depths) {
      if (d.used !== 'leave') continue;
      const a = afterMap.get(d.package);
      if (a) t.set(d.package, a);
      else t.delete(d.package);
    }
    return t;
  };
  let target = targetOf();
  if (depths.some((d) => d.used === 'leave')) {
    checks++;
    const v = input.check(sortedPackages(target.values()));
    if (!v.ok) {
      for (const d of depths) {
        if (d.used !== 'leave') continue;
        d.used = 'complete';
        d.because = 'left-state-inconsistent';
        d.facts = v.facts;
      }
      target = targetOf();
    }
  }
  const depthOf = new Map(depths.map((d) => [d.package, d.used]));
  const undone = changed.filter((n) => depthOf.get(n) !== 'leave');
  const undoneSet = new Set(undone);

  // ---- package changes ----------------------------------------------------------------------
  const changes: PackageChange[] = [];
  for (const name of undone) {
    const b = beforeMap.get(name);
    const a = afterMap.get(name);
    const fwd = forwardAction.get(name);
    if (b && a) {
      const action = fwd?.action === 'upgrade' ? 'downgrade' : fwd?.action === 'downgrade' ? 'upgrade' : compareVersionsOf(knowledge, name, b.version, a.version) < 0 ? 'downgrade' : 'upgrade';
      changes.push({ action, name, architecture: b.architecture, from: a.version, to: b.version });
    } else if (b) {
      changes.push({ action: 'install', name, architecture: b.architecture, to: b.version });
    } else if (a) {
      changes.push({ action: 'purge', name, architecture: a.architecture, from: a.version });
    }
  }
  const order = orderPackageChanges(after, changes, {
    check: input.check,
    ...(input.relations ? { relations: input.relations } : {}),
    ...(input.search?.checks !== undefined ? { checks: input.search.checks } : {}),
    ...(input.search?.maxTransaction !== undefined ? { maxTransaction: input.search.maxTransaction } : {}),
  });
  checks += order.checks;

  const flags: RollbackFlag[] = [];
  const safeguards: ForwardSafeguard[] = [];
  const snapshotId = 'snapshot';

  // ---- databases ----------------------------------------------------------------------------
  const added = forwardMigrations(before, group.changes, knowledge);
  const dbSteps: RollbackStep[] = [];
  const backups = new Map<string, string>();
  const databases = [...new Set(added.map((s) => s.migration.database))].sort();
  const irreversibleCause = (m: MigrationFact): 'marked-irreversible' | 'no-down-script' | undefined => (m.irreversible ? 'marked-irreversible' : m.down === undefined ? 'no-down-script' : undefined);
  for (const db of databases) {
    const onDb = added.filter((s) => s.migration.database === db && depthOf.get(s.package) !== 'leave');
    const undo = onDb.filter((s) => depthOf.get(s.package) === 'complete');
    const restore = undo.some((s) => irreversibleCause(s.migration) !== undefined);
    for (const s of onDb) {
      const cause = irreversibleCause(s.migration);
      if (!cause) continue;
      const id = `irreversible-migration:${migrationKey(s.migration)}`;
      const backupId = `backup-database:${db}`;
      const approvalId = `approval:${id}`;
      if (!backups.has(db)) {
        backups.set(db, backupId);
        safeguards.push({ kind: 'backup-database', id: backupId, database: db, before: added.find((x) => x.migration.database === db)!.migration.id, flags: [] });
      }
      (safeguards.find((g) => g.id === backupId) as Extract<ForwardSafeguard, { kind: 'backup-database' }>).flags.push(id);
      safeguards.push({ kind: 'approval', id: approvalId, flag: id, risk: 'irreversible-migration' });
      flags.push({ kind: 'irreversible-migration', id, package: s.package, version: s.version, database: db, migration: s.migration.id, cause, undo: restore ? 'restore-backup' : 'kept', safeguards: [backupId, approvalId] });
    }
    if (restore) {
      const first = flags.find((f) => f.kind === 'irreversible-migration' && f.database === db && f.undo === 'restore-backup')!;
      dbSteps.push({ kind: 'restore-database', database: db, backup: backups.get(db)!, approval: `approval:${first.id}`, undoes: added.filter((s) => s.migration.database === db).map((s) => s.migration.id) });
      continue;
    }
    for (const s of [...undo].reverse()) {
      dbSteps.push({
        kind: 'migrate', database: db,
        migration: { id: s.migration.id, direction: 'down', script: s.migration.down!, ...(s.migration.file ? { file: s.migration.file } : {}) },
        package: { name: s.package, version: s.version },
      });
    }
    const kept = new Map<string, string[]>();
    for (const s of onDb) if (depthOf.get(s.package) === 'downgrade') kept.set(s.package, [...(kept.get(s.package) ?? []), s.migration.id]);
    for (const [pkg, ids] of kept) flags.push({ kind: 'schema-kept', id: `schema-kept:${pkg}/${db}`, package: pkg, database: db, migrations: ids });
  }
  // down migrations of several databases: newest first overall (the forward order reversed)
  const position = new Map(added.map((s, i) => [migrationKey(s.migration), i]));
  const latest = (x: RollbackStep): number => {
    if (x.kind === 'migrate') return position.get(migrationKey({ database: x.database, id: x.migration.id }))!;
    if (x.kind === 'restore-database') return Math.max(...x.undoes.map((id) => position.get(migrationKey({ database: x.database, id }))!));
    return -1;
  };
  dbSteps.sort((x, y) => latest(y) - latest(x));

  // ---- package steps, .debs they need --------------------------------------------------------
  const packageSteps: RollbackStep[] = [];
  for (const s of order.steps) {
    const debs: DebRef[] = s.changes.filter((c) => !isRemoval(c)).map((c) => ({ name: c.name, version: c.to!, architecture: c.architecture ?? 'all' }));
    packageSteps.push({ kind: 'packages', changes: s.changes, debs, ...(s.transaction ? { transaction: s.transaction } : {}) });
    if (s.loop) flags.push({ kind: 'unpack-order-loop', id: `unpack-order-loop:${s.loop.packages.join(',')}`, packages: s.loop.packages, because: s.loop.because });
    if (s.transaction?.kind === 'former-state-inconsistent') {
      const v = input.check(sortedPackages(target.values()));
      flags.push({ kind: 'former-state-inconsistent', id: 'former-state-inconsistent', facts: v.ok ? [] : v.facts });
    }
  }
  for (const step of packageSteps) {
    if (step.kind !== 'packages') continue;
    for (const deb of step.debs) {
      const where = input.availability(deb);
      if (where === 'cache') continue;
      const keepId = `keep-deb:${debId(deb)}`;
      safeguards.push({ kind: 'keep-deb', id: keepId, deb, source: where === 'index' ? 'repository' : 'host' });
      if (where === 'none') flags.push({ kind: 'former-version-unavailable', id: `former-version-unavailable:${debId(deb)}`, deb, safeguards: [keepId] });
    }
  }

  // ---- configuration ------------------------------------------------------------------------
  const forwardChanged = [...new Set(group.changes.map((c) => c.name))].sort();
  const configSteps: RollbackStep[] = [];
  const configFiles = knowledge.configFiles.filter((f) => undoneSet.has(f.package)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const f of configFiles) configSteps.push({ kind: 'restore-config', path: f.path, package: f.package, state: { kind: 'snapshot' } });
  for (const name of undone) configSteps.push({ kind: 'restore-conffiles', package: name, state: { kind: 'snapshot' } });
  for (const c of group.changes) {
    if (c.action !== 'purge' || !beforeMap.has(c.name)) continue;
    flags.push({ kind: 'configuration-purged', id: `configuration-purged:${c.name}`, package: c.name, version: beforeMap.get(c.name)!.version, safeguards: [snapshotId] });
  }

  // ---- services -----------------------------------------------------------------------------
  const reloads = new Set(configFiles.map((f) => f.reload).filter((r): r is string => r !== undefined));
  const affected = new Set(knowledge.services.filter((s) => s.packages.some((p) => undoneSet.has(p)) || reloads.has(s.name)).map((s) => s.name));
  const startOrder = serviceStartOrder(knowledge.services, affected);
  const health = new Map(knowledge.services.map((s) => [s.name, s.health]));
  const stops: RollbackStep[] = [...startOrder].reverse().map((service) => ({ kind: 'service', action: 'stop', service }));
  const starts: RollbackStep[] = startOrder.flatMap((service): RollbackStep[] => [
    { kind: 'service', action: 'start', service, when: 'running-in-snapshot' },
    ...(health.get(service) ? [{ kind: 'health', service, when: 'running-in-snapshot' } as const] : []),
  ]);

  // ---- data converted by maintainer scripts --------------------------------------------------
  const dataFiles = new Set<string>();
  for (const name of undone) {
    const b = beforeMap.get(name);
    const a = afterMap.get(name);
    const facts = knowledge.packages.find((p) => p.name === name);
    if (!b || !a || !facts) continue;
    const scheme = getScheme(facts.scheme);
    const [low, high] = scheme.compare(b.version, a.version) < 0 ? [b.version, a.version] : [a.version, b.version];
    // a script converting at version v runs when a change crosses v upwards: low < v <= high
    const crossed = facts.versions.filter((v) => v.convertsData && scheme.compare(v.version, low) > 0 && scheme.compare(v.version, high) <= 0);
    if (crossed.length === 0) continue;
    const id = `data-converted:${name}`;
    const approvalId = `approval:${id}`;
    const paths = [...new Set(crossed.flatMap((v) => v.convertsData!.paths ?? []))].sort();
    const notes = crossed.map((v) => v.convertsData!.note).filter((n): n is string => n !== undefined);
    for (const p of paths) dataFiles.add(p);
    safeguards.push({ kind: 'approval', id: approvalId, flag: id, risk: 'data-converted' });
    flags.push({
      kind: 'data-converted', id, package: name, from: b.version, to: a.version, versions: crossed.map((v) => v.version),
      ...(notes.length > 0 ? { note: notes.join(' ') } : {}), paths, safeguards: [...(paths.length > 0 ? [snapshotId] : []), approvalId],
    });
  }

  // ---- left in place ------------------------------------------------------------------------
  for (const d of depths) {
    if (d.used !== 'leave') continue;
    const a = afterMap.get(d.package);
    const b = beforeMap.get(d.package);
    flags.push({ kind: 'left-in-place', id: `left-in-place:${d.package}`, package: d.package, ...(a ? { version: a.version } : {}), ...(b ? { former: b.version } : {}) });
  }

  // ---- what the snapshot must hold ----------------------------------------------------------
  const allServices = new Set(affected);
  for (const s of knowledge.services) if (s.packages.some((p) => forwardChanged.includes(p))) allServices.add(s.name);
  safeguards.unshift({
    kind: 'snapshot', id: snapshotId,
    configFiles: knowledge.configFiles.filter((f) => forwardChanged.includes(f.package)).map((f) => f.path).sort(),
    conffilesOf: forwardChanged,
    databases: databases,
    services: [...allServices].sort(),
    ...(dataFiles.size > 0 ? { dataFiles: [...dataFiles].sort() } : {}),
  });

  return {
    group: group.key,
    kind: 'rollback',
    before,
    after,
    target: sortedPackages(target.values()),
    steps: [...stops, ...dbSteps, ...packageSteps, ...configSteps, ...starts],
    flags,
    forwardSafeguards: safeguards,
    depths,
    checks,
  };
}

function compareVersionsOf(knowledge: RollbackKnowledge, name: string, a: string, b: string): number {
  const scheme = knowledge.packages.find((p) => p.name === name)?.scheme ?? 'deb';
  return getScheme(scheme).compare(a, b);
}

/**
 * The host steps a snapshot-backed rollback step stands for, given the pre-deployment snapshot
 * (and, for conffiles, the host's current snapshot: conffiles the former state lacked are
 * removed). Every restored file brings back the side files the snapshot recorded beside it
 * (`.dpkg-dist`, `.dpkg-old`, ...) and removes the others, those the rollback's own dpkg runs
 * leave included. Package steps: a purge of a package the snapshot holds as config-files becomes
 * a remove (its conffiles were there before). A stop of a service the snapshot did not have (the
 * forward installed it) is left out unless the current snapshot shows it running. Undefined for
 * the steps the deploy layer carries out with what it holds (migrate and restore-database: the
 * database's address and scripts; health: the knowledge base's probes).
 */
export function materializeRollbackStep(step: RollbackStep, snapshot: Snapshot, current?: Snapshot): Step[] | undefined {
  switch (step.kind) {
    case 'packages': {
      // the snapshot names packages dpkg's way (bare name, architecture); a change may be `name:arch`
      const residual = snapshot.packages.filter((p) => p.status.charAt(1) === 'c');
      const isResidual = (c: PackageChange): boolean => residual.some((p) => p.name === c.name
        || (`${p.name}:${p.architecture}` === c.name && (c.architecture === undefined || c.architecture === p.architecture)));
      return [{ kind: 'packages', changes: step.changes.map((c) => (c.action === 'purge' && isResidual(c) ? { ...c, action: 'remove' } : c)) }];
    }
    case 'restore-config':
      return [restoreFileStep(snapshot, step.path)];
    case 'restore-conffiles': {
      const mine = snapshot.files.filter((f) => f.source === 'conffile' && f.owner === step.package);
      const paths = new Set(mine.map((f) => f.path));
      const extra = (current?.files ?? []).filter((f) => f.source === 'conffile' && f.owner === step.package && !paths.has(f.path));
      return [
        ...mine.map((f): Step => restoreFileStep(snapshot, f.path)),
        ...extra.map((f): Step => ({ kind: 'restore-config', path: f.path, state: { kind: 'absent' }, sides: [] })),
      ];
    }
    case 'service': {
      const was = snapshot.services.find((s) => s.name === step.service)?.state;
      if (step.action === 'stop') {
        const now = current?.services.find((s) => s.name === step.service)?.state;
        return (was === undefined || was === 'absent') && now !== 'running' ? [] : [{ kind: 'service', action: 'stop', service: step.service }];
      }
      return was === 'running' ? [{ kind: 'service', action: 'start', service: step.service }] : [];
    }
    default:
      return undefined;
  }
}

/** dpkg left the package midway (half-installed, unpacked, half-configured, awaiting triggers) or wants it reinstalled. */
export function isHalfDone(p: { status: string }): boolean {
  const state = p.status.charAt(1);
  return !['i', 'c', 'n', ''].includes(state) || (p.status.charAt(2) !== ' ' && p.status.charAt(2) !== '');
}

/** How a whole rollback plan was materialized: each step's host steps (undefined: the deploy layer's), and why package steps were merged. */
export interface MaterializedRollback {
  steps: Array<Step[] | undefined>;
  /** Set when the package steps became one apt transaction: the packages the forward left midway. */
  merged?: { halfDone: Array<{ name: string; status: string }> };
}

/**
 * Every step of a rollback plan materialized (materializeRollbackStep), given the pre-deployment
 * snapshot and the current one. When the current snapshot shows a package dpkg left midway (a
 * forward whose maintainer script failed), each apt run would first try to configure it and stop
 * there, so the steps before the one undoing it could not finish; then all the package changes
 * go in one transaction at the first packages step (the generic restore's way, which dpkg and
 * apt accept: the half-configured package is downgraded or purged together with the rest).
 */
export function materializeRollback(steps: readonly RollbackStep[], snapshot: Snapshot, current?: Snapshot): MaterializedRollback {
  const out = steps.map((s) => materializeRollbackStep(s, snapshot, current));
  const halfDone = (current?.packages ?? []).filter(isHalfDone).map((p) => ({ name: p.name, status: p.status }));
  const packageSteps = steps.flatMap((s, i) => (s.kind === 'packages' ? [i] : []));
  if (halfDone.length === 0 || packageSteps.length < 2) return { steps: out };
  const changes = packageSteps.flatMap((i) => out[i]!.flatMap((x) => (x.kind === 'packages' ? x.changes : [])));
  const [first, ...rest] = packageSteps;
  out[first!] = [{ kind: 'packages', changes }];
  for (const i of rest) out[i] = [];
  return { steps: out, merged: { halfDone } };
}
