/**
 * The rollback plan of one host group, as data: what planRollback (rollback.ts) takes and gives,
 * and what rehearseInModel (rehearse-model.ts) checks. Pure: no words for people (the render
 * layer words every kind), no IO. A rollback step is symbolic where execution needs something
 * only the host or the deployment has (file contents from the pre-deployment snapshot, a
 * database's address and SQL text, health probes); `materializeRollbackStep` (rollback.ts)
 * turns the snapshot-backed ones into host `Step`s, and the deploy layer the rest.
 */
import type { InstalledPackage } from '../fleet/index.js';
import type { PackageChange } from '../solver/index.js';
import type { SchemeName } from '../versions/index.js';

/** A package version a step needs as a .deb file (the deb cache, src/hosts/deb-cache.ts, keeps it). */
export interface DebRef {
  name: string;
  version: string;
  architecture: string;
}

// ---- inputs ----------------------------------------------------------------------------------

/** Whether an installed set is consistent: every Depends/Pre-Depends met, no Conflicts/Breaks. */
export type ConsistencyVerdict = { ok: true } | { ok: false; facts: unknown };

/**
 * The one relation checker (the solver layer's, see createInstalledSetChecker in
 * rollback-oracles.ts): called on every intermediate installed set. `from`, when present, is
 * the same check anchored at one installed set and a list of changes to it (at most one per
 * name), asked about subsets of them (`applied[i] === 1`: change i applied); `known`, a subset
 * of `applied` whose set was already found consistent, lets it look only at the rest
 * (incremental: what the rollback order search asks hundreds of times per group).
 */
export interface ConsistencyCheck {
  (installed: readonly InstalledPackage[]): ConsistencyVerdict;
  from?(base: readonly InstalledPackage[], changes: readonly PackageChange[]): (applied: ArrayLike<number>, known?: ArrayLike<number>) => ConsistencyVerdict;
}

/**
 * Relation facts the consistency check cannot see, answered by the universe's relation semantics
 * (createRelationFacts in rollback-oracles.ts).
 */
export interface PackageRelationFacts {
  /** The Pre-Depends clauses of `pkg` that no package of `among` satisfies (empty when every one is met). */
  unmetPreDepends(pkg: DebRef, among: readonly InstalledPackage[]): string[];
  /** Whether `a` declares Replaces on `b` (b's name, matching b's version). */
  replaces(a: DebRef, b: DebRef): boolean;
}

/** Where a former version's .deb can be had: a loaded index (a repository), the deb cache, or nowhere known. */
export type DebAvailability = 'index' | 'cache' | 'none';

export interface MigrationFact {
  id: string;
  database: string;
  /** Down script as the knowledge base names it (relative to `file`); absent when irreversible. */
  down?: string;
  irreversible?: boolean;
  /** The knowledge-base file the script paths are relative to. */
  file?: string;
}

/**
 * A version whose maintainer scripts convert data in place (the knowledge base's `convertsData`):
 * a change across it cannot be undone by a downgrade, whose scripts do not convert back.
 */
export interface DataConversionFact {
  note?: string;
  /** Host paths of the converted data, when the knowledge base names them. */
  paths?: string[];
}

/** A package's versions (ascending in its scheme) with the migrations each ships and whether its scripts convert data. */
export interface PackageMigrations {
  name: string;
  scheme: SchemeName;
  versions: Array<{ version: string; migrations: MigrationFact[]; convertsData?: DataConversionFact }>;
}

export interface ConfigFileFact {
  path: string;
  package: string;
  /** Service to reload or restart when the file changes. */
  reload?: string;
}

export interface ServiceFact {
  name: string;
  packages: string[];
  dependsOn: string[];
  /** Whether the knowledge base gives health probes (http or command) for it. */
  health: boolean;
}

/** The knowledge-base facts a rollback needs, as plain data (rollbackKnowledgeFromKb builds it from a KnowledgeBase). */
export interface RollbackKnowledge {
  packages: PackageMigrations[];
  configFiles: ConfigFileFact[];
  services: ServiceFact[];
}

/**
 * How far to undo one changed package (from impact analysis): `complete` (package, schema,
 * configuration), `downgrade` (package and configuration; the schema and its data stay as the
 * forward plan left them), `leave` (nothing: the package keeps its new version; only with
 * `allowLeave`).
 */
export type UndoDepth = 'complete' | 'downgrade' | 'leave';

export interface RollbackInput {
  group: { key: string; installed: readonly InstalledPackage[]; changes: readonly PackageChange[] };
  knowledge: RollbackKnowledge;
  check: ConsistencyCheck;
  /** Pre-Depends and Replaces facts; without them only the consistency check orders steps. */
  relations?: PackageRelationFacts;
  availability: (deb: DebRef) => DebAvailability;
  /** Per package (the resolver's name: `libc6:i386` for a foreign architecture); default `complete`. */
  undoDepth?: Readonly<Record<string, UndoDepth>>;
  /** Policy: whether `leave` may be used (otherwise it becomes `complete`). */
  allowLeave?: boolean;
  /** Bounds of the order search: consistency checks (default 2000) and the largest transaction tried before "all at once" (default 3). */
  search?: { checks?: number; maxTransaction?: number };
  /**
   * The universe's foreign architectures (multiarch): an installed package of one is keyed
   * `name:arch`, the resolver's name, as the forward changes name it (see resolverNamedGroup in
   * rollback.ts). The plan's before, after and target sets use those names.
   */
  foreignArchs?: readonly string[];
}

// ---- the plan --------------------------------------------------------------------------------

/**
 * Placeholder for content known only at execution: the state the pre-deployment snapshot
 * recorded (the hosts layer reads it from the snapshot when the step runs; a path the snapshot
 * does not hold means absent).
 */
export interface FromSnapshot {
  kind: 'snapshot';
}

/** Why several package changes form one apt transaction instead of single steps. */
export interface TransactionReason {
  kind:
    /** No order of single changes (nor of smaller transactions) keeps every intermediate set consistent from here. */
    | 'no-single-order'
    /** The order search ran out of checks: the rest goes at once. */
    | 'search-budget'
    /** The former state itself is not consistent: the changes go at once. */
    | 'former-state-inconsistent';
  /** Each member applied alone at this point, and what the consistency check found then. */
  alone: Array<{ name: string; facts: unknown }>;
}

export type RollbackStep =
  /** Stop a service (dependants before what they depend on). */
  | { kind: 'service'; action: 'stop'; service: string }
  /** Start a service if the snapshot recorded it running (dependencies first). */
  | { kind: 'service'; action: 'start'; service: string; when: 'running-in-snapshot' }
  /**
   * Marker the deploy layer runs: the service's health probes from the knowledge base, until
   * healthy or their timeout; a failure stops the rollback there (the next start does not run).
   * Only for a service started by the previous step (same condition).
   */
  | { kind: 'health'; service: string; when: 'running-in-snapshot' }
  /**
   * One down migration (run while every service whose packages know the newer schema is stopped,
   * before the package that knows only the older one is installed). The deploy layer supplies the
   * database's address (DatabaseRef) and reads the script; a database several groups share is
   * migrated down once, with the last group that runs a version needing the migration.
   */
  | { kind: 'migrate'; database: string; migration: { id: string; direction: 'down'; script: string; file?: string }; package: { name: string; version: string } }
  /**
   * Restore a database from the backup the forward plan's `backup-database` safeguard took
   * (undoing `undoes`, migrations that have no down script); writes since then are lost, so the
   * `approval` safeguard must have been given.
   */
  | { kind: 'restore-database'; database: string; backup: string; approval: string; undoes: string[] }
  /**
   * One apt transaction (`changes` in a working order: pre-dependencies and replacing packages
   * first; apt orders unpacking itself). `debs` are the former versions it installs, which the
   * deb cache must hold (the hosts layer sets each change's `debPath` from it). Maintainer
   * scripts' service starts are suppressed while it runs (policy-rc.d): only the plan's own
   * service steps start services. A `purge` of a package the snapshot holds as config-files
   * becomes a `remove` (materializeRollbackStep).
   */
  | { kind: 'packages'; changes: PackageChange[]; debs: DebRef[]; transaction?: TransactionReason }
  /** Restore a knowledge-base config file to the snapshot's state (absent when the snapshot has none). */
  | { kind: 'restore-config'; path: string; package: string; state: FromSnapshot }
  /** Restore every dpkg conffile of `package` to the snapshot's state (conffiles the snapshot lacks are removed). */
  | { kind: 'restore-conffiles'; package: string; state: FromSnapshot };

export type RollbackStepKind = RollbackStep['kind'];

/** Something the rollback cannot undo exactly, found at planning time. */
export type RollbackFlag =
  | {
      kind: 'irreversible-migration';
      id: string;
      package: string;
      version: string;
      database: string;
      migration: string;
      cause: 'marked-irreversible' | 'no-down-script';
      /** What the rollback does instead: restore the backup (losing writes since), or nothing (undo depth). */
      undo: 'restore-backup' | 'kept';
      safeguards: string[];
    }
  /** The former version's .deb is in no loaded index and not in the cache. */
  | { kind: 'former-version-unavailable'; id: string; deb: DebRef; safeguards: string[] }
  /** The forward plan purges a package: its configuration beyond dpkg's conffiles (maintainer-made files) cannot come back. */
  | { kind: 'configuration-purged'; id: string; package: string; version: string; safeguards: string[] }
  /** Undo depth `leave`: the package keeps the forward plan's version. */
  | { kind: 'left-in-place'; id: string; package: string; version?: string; former?: string }
  /** Undo depth `downgrade`: the migrations stay applied. */
  | { kind: 'schema-kept'; id: string; package: string; database: string; migrations: string[] }
  /**
   * Members of one transaction that cannot be listed in an unpack order (their Pre-Depends, or
   * Replaces between packages being reverted, form a loop): apt/dpkg would have to break it.
   */
  | { kind: 'unpack-order-loop'; id: string; packages: string[]; because: Array<'pre-depends' | 'replaces'> }
  /** The group's former installed set is not consistent (the rollback restores it as it was). */
  | { kind: 'former-state-inconsistent'; id: string; facts: unknown }
  /**
   * The change of `package` between `from` and `to` crosses versions whose maintainer scripts
   * convert data in place (`versions`): the rollback's downgrade (or upgrade) does not convert it
   * back (or converts it again). `paths`: the data, when the knowledge base names it (the
   * pre-deployment snapshot keeps a copy).
   */
  | { kind: 'data-converted'; id: string; package: string; from: string; to: string; versions: string[]; note?: string; paths: string[]; safeguards: string[] };

export type RollbackFlagKind = RollbackFlag['kind'];

/** Something the forward plan must do before deploying so the rollback can work. */
export type ForwardSafeguard =
  /** What the pre-deployment snapshot must hold (the rollback's restore steps read it). */
  | {
      kind: 'snapshot'; id: string; configFiles: string[]; conffilesOf: string[]; databases: string[]; services: string[];
      /** Data files maintainer scripts convert (kept as a copy: a data-converted flag's safeguard). */
      dataFiles?: string[];
    }
  /** Back the database up before the first forward migration on it. */
  | { kind: 'backup-database'; id: string; database: string; before: string; flags: string[] }
  /** An operator approves the risk a flag names before deploying. */
  | { kind: 'approval'; id: string; flag: string; risk: RollbackFlagKind }
  /** Keep a former version's .deb in the cache before deploying (from a repository, or from the host's own archives). */
  | { kind: 'keep-deb'; id: string; deb: DebRef; source: 'repository' | 'host' };

export type ForwardSafeguardKind = ForwardSafeguard['kind'];

/** The undo depth used for a package, and why when it is not the one asked for. */
export interface UndoDecision {
  package: string;
  asked: UndoDepth;
  used: UndoDepth;
  because?: 'leave-not-allowed' | 'left-state-inconsistent';
  facts?: unknown;
}

export interface GroupRollback {
  group: string;
  kind: 'rollback' | 'nothing-to-undo';
  /** The installed set the rollback restores (the group's, sorted by name). */
  before: InstalledPackage[];
  /** The installed set the forward plan leaves (where the rollback starts). */
  after: InstalledPackage[];
  /** The installed set the rollback ends with (before, except packages left in place). */
  target: InstalledPackage[];
  steps: RollbackStep[];
  flags: RollbackFlag[];
  forwardSafeguards: ForwardSafeguard[];
  depths: UndoDecision[];
  /** Consistency checks the order search made. */
  checks: number;
}
