/**
 * Rehearsal in the model: the forward changes, then a group's rollback plan, applied to a model
 * of the group's state, with every intermediate installed set checked (the same consistency
 * check the plan was ordered with) and the end compared with the start. Each difference and
 * each incident on the way is attributed to the planning-time flags that announced it, or is
 * silent (nobody said it would happen: a fault of the plan).
 *
 * The model (ModelState):
 * - the installed set;
 * - per database, the migrations applied, in order (at the start: those the installed versions
 *   know);
 * - files as symbolic contents: a knowledge-base config file by its path, and per package two
 *   pseudo paths, `conffiles:NAME` (dpkg's conffiles, as a whole) and `state:NAME` (what the
 *   maintainer scripts make outside them); installing a version makes `ship:...` contents (dpkg
 *   may replace a conffile on any up/downgrade), a first install makes `state:NAME`, a remove
 *   keeps both, a purge deletes them; a restore step puts the start's content back;
 * - services: running, stopped or absent (none of its packages installed). Package steps start
 *   nothing (the plan's own start steps do); the forward deployment restarts what ran and starts
 *   what it brought.
 * Invariants checked on the way: consistency after every package step; a down migration undoes the
 * latest migration still applied; a transaction's members
 * each with their Pre-Depends met by the set before them; no member unpacked over files a package
 * not at its former version took over (Replaces); every running service's packages know exactly
 * the schema applied (their own migrations up to their installed version).
 */
import type { InstalledPackage } from '../fleet/index.js';
import type { PackageChange } from '../solver/index.js';
import { applyPackageChanges, sortedPackages } from './rollback-order.js';
import { forwardMigrations, knownMigrations, migrationKey } from './rollback.js';
import type { ConsistencyCheck, DebAvailability, DebRef, GroupRollback, PackageRelationFacts, RollbackFlag, RollbackKnowledge } from './rollback-types.js';

export type ModelServiceState = 'running' | 'stopped' | 'absent';

export interface ModelState {
  packages: InstalledPackage[];
  /** Database → applied migration ids, in the order applied. */
  databases: Record<string, string[]>;
  /** Path (or `conffiles:NAME`, `state:NAME`) → symbolic content; a missing key is an absent file. */
  files: Record<string, string>;
  services: Record<string, ModelServiceState>;
  /** Databases restored from a backup (the writes since it are gone). */
  writesLost: string[];
}

export type ModelDifference =
  | { kind: 'package'; name: string; before?: string; after?: string }
  | { kind: 'schema'; database: string; before: string[]; after: string[] }
  | { kind: 'file'; path: string; before?: string; after?: string }
  | { kind: 'service'; service: string; before: ModelServiceState; after: ModelServiceState }
  | { kind: 'writes-lost'; database: string };

export type ModelPhase = 'before' | 'forward' | 'rollback';

export type ModelIncident =
  | { kind: 'inconsistent'; phase: ModelPhase; step: number; facts: unknown }
  | { kind: 'pre-depends-unmet'; step: number; package: string; unmet: string[] }
  | { kind: 'files-replaced'; step: number; package: string; by: string }
  | { kind: 'schema-unknown'; step: number; service: string; package: string; version: string; database: string }
  | { kind: 'deb-unavailable'; step: number; deb: DebRef }
  | { kind: 'backup-missing'; step: number; database: string }
  | { kind: 'migration-not-applied'; step: number; database: string; migration: string }
  /** A down migration while migrations applied after it are still there. */
  | { kind: 'migration-out-of-order'; step: number; database: string; migration: string; later: string[] }
  | { kind: 'service-missing'; step: number; service: string }
  | { kind: 'unhealthy'; step: number; service: string };

export type Attribution = { kind: 'flagged'; flags: string[] } | { kind: 'silent' };

export interface ModelRehearsal {
  /** The end state equals the start state. */
  restored: boolean;
  start: ModelState;
  /** After the forward changes. */
  forward: ModelState;
  end: ModelState;
  differences: Array<{ difference: ModelDifference; cause: Attribution }>;
  incidents: Array<{ incident: ModelIncident; cause: Attribution }>;
  /** Differences and incidents no flag announced. */
  silent: number;
  checks: number;
}

export interface ModelRehearsalInput {
  rollback: GroupRollback;
  /** The forward plan's changes for the group. */
  forward: readonly PackageChange[];
  knowledge: RollbackKnowledge;
  check: ConsistencyCheck;
  relations?: PackageRelationFacts;
  /** Services' states at the start (default: running when some package of theirs is installed). */
  services?: Readonly<Record<string, ModelServiceState>>;
  /** Whether the forward safeguards were carried out (default true): backups taken, .debs kept. */
  safeguardsTaken?: boolean;
  /** Where a former .deb can be had, when safeguards were not taken (default: nowhere). */
  availability?: (deb: DebRef) => DebAvailability;
}

const isRemoval = (c: PackageChange): boolean => c.action === 'remove' || c.action === 'purge';

export function rehearseInModel(input: ModelRehearsalInput): ModelRehearsal {
  const { rollback, knowledge } = input;
  const facts = new Map(knowledge.packages.map((p) => [p.name, p]));
  const configOf = new Map<string, string[]>();
  for (const f of knowledge.configFiles) configOf.set(f.package, [...(configOf.get(f.package) ?? []), f.path]);
  const incidents: ModelIncident[] = [];
  let checks = 0;

  // ---- the start ----------------------------------------------------------------------------
  const state = new Map(rollback.before.map((p) => [p.name, p]));
  const databases: Record<string, string[]> = {};
  for (const p of sortedPackages(state.values())) {
    for (const s of knownMigrations(facts.get(p.name), p.version)) (databases[s.migration.database] ??= []).push(s.migration.id);
  }
  const files: Record<string, string> = {};
  for (const p of state.values()) {
    for (const path of configOf.get(p.name) ?? []) files[path] = `orig:${path}`;
    files[`conffiles:${p.name}`] = `orig:conffiles:${p.name}`;
    files[`state:${p.name}`] = `orig:state:${p.name}`;
  }
  const services: Record<string, ModelServiceState> = {};
  const hasPackage = (svc: string): boolean => (knowledge.services.find((s) => s.name === svc)?.packages ?? []).some((p) => state.has(p));
  for (const s of knowledge.services) services[s.name] = input.services?.[s.name] ?? (hasPackage(s.name) ? 'running' : 'absent');
  const writesLost = new Set<string>();
  const snap = (): ModelState => ({
    packages: sortedPackages(state.values()),
    databases: Object.fromEntries(Object.entries(databases).map(([k, v]) => [k, [...v]])),
    files: { ...files },
    services: { ...services },
    writesLost: [...writesLost].sort(),
  });
  const start = snap();

  const check = (phase: ModelPhase, step: number): void => {
    checks++;
    const v = input.check(sortedPackages(state.values()));
    if (!v.ok) incidents.push({ kind: 'inconsistent', phase, step, facts: v.facts });
  };
  const fileEffects = (c: PackageChange): void => {
    const paths = configOf.get(c.name) ?? [];
    if (c.action === 'remove') return;
    if (c.action === 'purge') {
      for (const p of paths) delete files[p];
      delete files[`conffiles:${c.name}`];
      delete files[`state:${c.name}`];
      return;
    }
    for (const p of paths) files[p] = `ship:${p}@${c.name}=${c.to}`;
    files[`conffiles:${c.name}`] = `ship:conffiles:${c.name}=${c.to}`;
    files[`state:${c.name}`] ??= `created:state:${c.name}=${c.to}`;
  };
  const servicePresence = (startNew: boolean): void => {
    for (const s of knowledge.services) {
      const present = hasPackage(s.name);
      if (!present) services[s.name] = 'absent';
      else if (services[s.name] === 'absent') services[s.name] = startNew ? 'running' : 'stopped';
    }
  };
  /** Every running service's packages know exactly the applied schema (their own migrations). */
  const checkSchemas = (step: number): void => {
    for (const s of knowledge.services) {
      if (services[s.name] !== 'running') continue;
      for (const name of s.packages) {
        const p = state.get(name);
        const f = facts.get(name);
        if (!p || !f) continue;
        const all = new Map<string, Set<string>>();
        for (const v of f.versions) for (const m of v.migrations) (all.get(m.database) ?? all.set(m.database, new Set()).get(m.database)!).add(m.id);
        const known = new Set(knownMigrations(f, p.version).map((x) => migrationKey(x.migration)));
        for (const [db, ids] of all) {
          const applied = new Set(databases[db] ?? []);
          const mismatch = [...ids].some((id) => applied.has(id) !== known.has(`${db}/${id}`));
          if (mismatch) incidents.push({ kind: 'schema-unknown', step, service: s.name, package: name, version: p.version, database: db });
        }
      }
    }
  };

  // ---- forward ------------------------------------------------------------------------------
  check('before', -1);
  applyPackageChanges(state, input.forward);
  for (const c of input.forward) fileEffects(c);
  servicePresence(true);
  check('forward', 0);
  const safeguarded = input.safeguardsTaken !== false;
  const backups = new Map<string, string[]>();
  if (safeguarded) {
    for (const g of rollback.forwardSafeguards) if (g.kind === 'backup-database') backups.set(g.database, [...(databases[g.database] ?? [])]);
  }
  for (const s of forwardMigrations(rollback.before, input.forward, knowledge)) (databases[s.migration.database] ??= []).push(s.migration.id);
  const forward = snap();

  // ---- rollback -----------------------------------------------------------------------------
  const beforeMap = new Map(rollback.before.map((p) => [p.name, p]));
  const skipped: string[] = [];
  rollback.steps.forEach((step, i) => {
    switch (step.kind) {
      case 'service':
        if (step.action === 'stop') {
          if (services[step.service] === 'running') services[step.service] = 'stopped';
        } else if (start.services[step.service] === 'running') {
          if (services[step.service] === 'absent') incidents.push({ kind: 'service-missing', step: i, service: step.service });
          else {
            services[step.service] = 'running';
            checkSchemas(i);
          }
        }
        break;
      case 'health':
        if (start.services[step.service] === 'running' && services[step.service] !== 'running') incidents.push({ kind: 'unhealthy', step: i, service: step.service });
        break;
      case 'migrate': {
        const list = databases[step.database] ?? [];
        const at = list.lastIndexOf(step.migration.id);
        if (at < 0) incidents.push({ kind: 'migration-not-applied', step: i, database: step.database, migration: step.migration.id });
        else {
          if (at < list.length - 1) incidents.push({ kind: 'migration-out-of-order', step: i, database: step.database, migration: step.migration.id, later: list.slice(at + 1) });
          list.splice(at, 1);
        }
        checkSchemas(i);
        break;
      }
      case 'restore-database': {
        const b = backups.get(step.database);
        if (!b) {
          incidents.push({ kind: 'backup-missing', step: i, database: step.database });
          skipped.push(`db:${step.database}`);
        } else {
          databases[step.database] = [...b];
          writesLost.add(step.database);
        }
        checkSchemas(i);
        break;
      }
      case 'packages': {
        if (!safeguarded) {
          const missing = step.debs.filter((d) => (input.availability?.(d) ?? 'none') === 'none');
          if (missing.length > 0) {
            for (const deb of missing) incidents.push({ kind: 'deb-unavailable', step: i, deb });
            skipped.push(...missing.map((d) => `deb:${d.name}`));
            break;
          }
        }
        if (input.relations) {
          const running = new Map(state);
          for (const c of step.changes) {
            if (!isRemoval(c) && c.to !== undefined) {
              const target: DebRef = { name: c.name, version: c.to, architecture: c.architecture ?? running.get(c.name)?.architecture ?? 'all' };
              const unmet = input.relations.unmetPreDepends(target, [...running.values()]);
              if (unmet.length > 0) incidents.push({ kind: 'pre-depends-unmet', step: i, package: c.name, unmet });
              for (const y of running.values()) {
                if (y.name === c.name) continue;
                const former = beforeMap.get(y.name);
                if (former?.version === y.version) continue;
                if (former && input.relations.replaces(former, target)) continue;
                if (input.relations.replaces(y, target)) incidents.push({ kind: 'files-replaced', step: i, package: c.name, by: y.name });
              }
            }
            applyPackageChanges(running, [c]);
          }
        }
        applyPackageChanges(state, step.changes);
        for (const c of step.changes) fileEffects(c);
        servicePresence(false);
        check('rollback', i);
        checkSchemas(i);
        break;
      }
      case 'restore-config':
        if (start.files[step.path] === undefined) delete files[step.path];
        else files[step.path] = start.files[step.path]!;
        break;
      case 'restore-conffiles': {
        const key = `conffiles:${step.package}`;
        if (start.files[key] === undefined) delete files[key];
        else files[key] = start.files[key]!;
        break;
      }
    }
  });
  const end = snap();

  // ---- compare, attribute -------------------------------------------------------------------
  const differences = compareModelStates(start, end);
  const attribute = attributor(rollback.flags, knowledge, skipped);
  const diffs = differences.map((difference) => ({ difference, cause: attribute(difference) }));
  const incs = incidents.map((incident) => ({ incident, cause: attribute(incident) }));
  const silent = [...diffs, ...incs].filter((x) => x.cause.kind === 'silent').length;
  return { restored: differences.length === 0, start, forward, end, differences: diffs, incidents: incs, silent, checks };
}

export function compareModelStates(a: ModelState, b: ModelState): ModelDifference[] {
  const out: ModelDifference[] = [];
  const pa = new Map(a.packages.map((p) => [p.name, p.version]));
  const pb = new Map(b.packages.map((p) => [p.name, p.version]));
  for (const name of [...new Set([...pa.keys(), ...pb.keys()])].sort()) {
    const x = pa.get(name);
    const y = pb.get(name);
    if (x !== y) out.push({ kind: 'package', name, ...(x !== undefined ? { before: x } : {}), ...(y !== undefined ? { after: y } : {}) });
  }
  for (const db of [...new Set([...Object.keys(a.databases), ...Object.keys(b.databases)])].sort()) {
    const x = a.databases[db] ?? [];
    const y = b.databases[db] ?? [];
    if (x.join('\u0000') !== y.join('\u0000')) out.push({ kind: 'schema', database: db, before: x, after: y });
  }
  for (const path of [...new Set([...Object.keys(a.files), ...Object.keys(b.files)])].sort()) {
    const x = a.files[path];
    const y = b.files[path];
    if (x !== y) out.push({ kind: 'file', path, ...(x !== undefined ? { before: x } : {}), ...(y !== undefined ? { after: y } : {}) });
  }
  for (const s of [...new Set([...Object.keys(a.services), ...Object.keys(b.services)])].sort()) {
    const x = a.services[s] ?? 'absent';
    const y = b.services[s] ?? 'absent';
    if (x !== y) out.push({ kind: 'service', service: s, before: x, after: y });
  }
  for (const db of b.writesLost) if (!a.writesLost.includes(db)) out.push({ kind: 'writes-lost', database: db });
  return out;
}

/**
 * Which flags announce a difference or an incident: by the packages, databases and services it
 * concerns. `skipped` names what could not be done for want of a safeguard (`deb:NAME`,
 * `db:NAME`): what follows from it is announced by the flag that asked for the safeguard.
 */
function attributor(flags: readonly RollbackFlag[], knowledge: RollbackKnowledge, skipped: readonly string[]): (x: ModelDifference | ModelIncident) => Attribution {
  const migrationDbs = new Map<string, Set<string>>();
  for (const p of knowledge.packages) for (const v of p.versions) for (const m of v.migrations) (migrationDbs.get(p.name) ?? migrationDbs.set(p.name, new Set()).get(p.name)!).add(m.database);
  const packagesOfService = new Map(knowledge.services.map((s) => [s.name, s.packages]));
  const ownerOfPath = new Map(knowledge.configFiles.map((f) => [f.path, f.package]));
  const skippedDebs = new Set(skipped.filter((s) => s.startsWith('deb:')).map((s) => s.slice(4)));
  const skippedDbs = new Set(skipped.filter((s) => s.startsWith('db:')).map((s) => s.slice(3)));
  const aboutPackage = (name: string): string[] => flags.filter((f) =>
    (f.kind === 'left-in-place' && f.package === name)
    || (f.kind === 'configuration-purged' && f.package === name)
    || (f.kind === 'former-version-unavailable' && f.deb.name === name)
    || (f.kind === 'unpack-order-loop' && f.packages.includes(name))).map((f) => f.id);
  const aboutDatabase = (db: string): string[] => flags.filter((f) =>
    (f.kind === 'schema-kept' && f.database === db)
    || (f.kind === 'irreversible-migration' && f.database === db && (f.undo === 'kept' || skippedDbs.has(db)))
    || (f.kind === 'left-in-place' && migrationDbs.get(f.package)?.has(db))).map((f) => f.id);
  const degraded = (): string[] => flags.filter((f) =>
    f.kind === 'former-state-inconsistent'
    || (f.kind === 'former-version-unavailable' && skippedDebs.has(f.deb.name))
    || (f.kind === 'irreversible-migration' && skippedDbs.has(f.database))).map((f) => f.id);
  // a step skipped for want of a safeguard can cause anything after it: its flag announced that
  const result = (ids: string[]): Attribution => {
    const u = [...new Set([...ids, ...degraded()])];
    return u.length > 0 ? { kind: 'flagged', flags: u } : { kind: 'silent' };
  };
  const exact = (ids: string[]): Attribution => (ids.length > 0 ? { kind: 'flagged', flags: [...new Set(ids)] } : { kind: 'silent' });
  return (x) => {
    switch (x.kind) {
      case 'package':
        return result(aboutPackage(x.name));
      case 'schema':
      case 'migration-out-of-order':
        return result(aboutDatabase(x.database));
      case 'file': {
        const owner = ownerOfPath.get(x.path) ?? /^(?:conffiles|state):(.*)$/.exec(x.path)?.[1];
        return result(owner ? aboutPackage(owner) : []);
      }
      case 'service':
      case 'service-missing':
      case 'unhealthy':
        return result((packagesOfService.get(x.service) ?? []).flatMap(aboutPackage));
      case 'writes-lost':
        return exact(flags.filter((f) => f.kind === 'irreversible-migration' && f.database === x.database).map((f) => f.id));
      case 'inconsistent':
        return x.phase === 'rollback' ? result([]) : exact(flags.filter((f) => f.kind === 'former-state-inconsistent').map((f) => f.id));
      case 'schema-unknown':
        return result([...aboutDatabase(x.database), ...aboutPackage(x.package).filter((id) => id.startsWith('left-in-place:'))]);
      case 'deb-unavailable':
        return result(flags.filter((f) => f.kind === 'former-version-unavailable' && f.deb.name === x.deb.name && f.deb.version === x.deb.version).map((f) => f.id));
      case 'backup-missing':
        return result(flags.filter((f) => f.kind === 'irreversible-migration' && f.database === x.database).map((f) => f.id));
      case 'pre-depends-unmet':
        return result(flags.filter((f) => f.kind === 'unpack-order-loop' && f.packages.includes(x.package)).map((f) => f.id));
      case 'files-replaced':
        // a package left at its new version keeps the files it took over; a loop could not be ordered
        return result([
          ...flags.filter((f) => f.kind === 'unpack-order-loop' && f.packages.includes(x.package)).map((f) => f.id),
          ...flags.filter((f) => f.kind === 'left-in-place' && f.package === x.by).map((f) => f.id),
        ]);
      case 'migration-not-applied':
        return result([]);
    }
  };
}
