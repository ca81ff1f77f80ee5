/**
 * The wave engine: drives one deployment through its waves, journaling every step before and
 * after it (write-ahead, idempotent keys such as `w1/app-01/forward/0`) under a fenced lease
 * renewed in the background, and rolls back on its own.
 *
 * The engine keeps no state of its own between runs: each run (a fresh `deploy`, `deploy
 * resume`, `deploy abort` of a paused deployment) replays the journal, reconciles every host
 * with a step started and never ended (a fresh snapshot decides: it happened, it did not, or it
 * cannot be told and the host is rolled back), then continues the waves or the rollback where
 * they stopped. A step whose `started` entry exists is never started again under the same key.
 *
 * Per host: read its real state and compare it with the group's installed set the plan assumed
 * (a drifted host is re-solved through `resolveHost`: skipped on a conflict, held for a person
 * beyond the policy); take the pre-deployment snapshot (kept in the journal) and keep the former
 * .debs, back up each database the group's migrations change (pg_dump, checksum journaled; a
 * failed backup stops the host before any change) and journal the other safeguards the group's
 * rollback plan asks for; apply the group's packages step, its migrations, restart its services
 * in order, run its health checks. A packages step that
 * failed without touching the host (a planned version gone from the repository) is re-solved on
 * the host's real state and sources, within the policy. A failed host is rolled back at once and
 * counted against the budgets. After a wave the judge rules over the bake time: failed (or a
 * budget exhausted, or a host that cannot be restored) rolls back every changed host from its
 * real state — the planner's rollback plan for its group first (services stopped and started in
 * order with health checks, down-migrations, a database restored from its backup when the plan's
 * approval was given, config from the snapshot, former .debs from the cache), a restore
 * planned from the pre-deployment snapshot when that plan fails or leaves differences — and
 * verifies it by comparing snapshots and each migrated database's migrations table and tables
 * with their state before the deployment; inconclusive pauses. A migration whose step started and
 * never ended is settled by reading its migrations table (it runs in one transaction with its row). An operator's pause or abort is
 * honoured between waves, between the hosts of a wave and during a bake (the judge is stopped).
 *
 * A lost lease (renewal refused) or a crash seam halts the run at once: no further write.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { isRollwiseError, RollwiseError } from '../shared/index.js';
import type { PackageChange } from '../solver/index.js';
import { backupDatabase, cachePreviousVersions, describeDatabase, restoreDatabase, type CachedDeb, type DatabaseBackup, type DatabaseState, type HostDriver } from '../hosts/index.js';
import {
  compareSnapshots, materializeRollback, planRestore,
  type DatabaseRef, type GroupRollback, type Plan, type Snapshot, type SnapshotPackage, type SnapshotSpec, type Step, type StepOutcome, type Wave,
} from '../planner/index.js';
import { findCachedDeb, useCachedDebs, type RehearsalDebCache } from './rehearsal-data.js';
import { runHealthChecks, type CommandCapable } from './rehearse.js';
import type { DeploymentStatus, DeploymentStore, JournalEntry, JournalEntryInput, LeaseFence } from './store-port.js';
import {
  reconcileStep,
  type DecisionBody, type DeployMigration, type DeployEvent, type DeploymentSpec, type HostReport, type HostState, type ResolveHost, type WaveJudge,
} from './deployment.js';

export type EngineDriver = HostDriver & Partial<CommandCapable>;

export interface EngineOptions {
  store: DeploymentStore;
  deployment: string;
  /** The approved plan version the deployment runs. */
  plan: Plan;
  driverFor: (host: string) => EngineDriver;
  judge: WaveJudge;
  resolveHost?: ResolveHost;
  /**
   * The planner's rollback plan for a group (planRollback, as recorded with the plan): a host
   * that must be rolled back runs it first (materialized from its snapshots), falling back to a
   * snapshot restore. Without it, every rollback is a snapshot restore.
   */
  rollbackPlanFor?: (group: string) => Promise<GroupRollback | undefined>;
  /** How often an operator's pause or abort request is looked for during a bake (default 500 ms). */
  controlPollMs?: number;
  /** Where a host's former .debs are kept (and the repository they come from). */
  debCacheFor?: (host: string) => RehearsalDebCache | undefined;
  /** Who runs this controller (default: a random name). */
  holder?: string;
  leaseTtlMs?: number;
  /** Apply held hosts' re-solved changes (the operator approved them with `deploy resume --accept-resolutions`). */
  acceptResolutions?: boolean;
  onEvent?: (e: DeployEvent) => void;
  /** A host's databases by the knowledge base's name (the inventory's `databases:`). */
  databasesFor?: (host: string) => Readonly<Record<string, DatabaseRef>> | undefined;
  /** The folder a host's database backups are written to (on this machine). */
  backupDirFor?: (host: string) => string;
  /** Risk flags accepted by name when the plan was approved: a `restore-database` step runs only when its flag is among them. */
  approvedRisks?: readonly string[];
  /** Test seam: after this journal entry is stored, the controller stops as if killed. */
  crashAfter?: (entry: JournalEntryInput) => boolean;
  /** Test seam: this journal entry is never stored; the controller stops as if killed just before. */
  crashBefore?: (entry: JournalEntryInput) => boolean;
}

export type EngineResult =
  | { kind: 'finished'; status: DeploymentStatus; reason?: string; hosts: HostReport[] }
  /** Stopped without writing more: lease lost, or the crash seam. */
  | { kind: 'halted'; reason: string };

type StepStatus = 'succeeded' | 'failed' | 'not-happened' | 'cannot-tell';

/** A database backup as the journal records it (the `backup/` entry's body): the dump, and the database as it was. */
interface BackupRecord {
  database: string;
  /** host:port/database: a database several hosts share is backed up once per deployment. */
  address: string;
  host: string;
  file: string;
  sha256: string;
  bytes: number;
  before: DatabaseState;
}

/** What still differs in a database after a rollback. */
interface DatabaseDifference {
  database: string;
  what: 'migrations' | 'tables' | 'unreadable';
  before: string;
  after: string;
}

/** What a host's planned rollback does, in order. */
type RollbackAction = { step: Step } | { health: string } | { restore: { database: string; ref: DatabaseRef; backup: BackupRecord } };

const addressOf = (d: DatabaseRef): string => `${d.host}:${d.port}/${d.database}`;
/** `schema.table` (as describeDatabase lists tables) is the database's migrations table. */
const isMigrationsTable = (t: string, d: DatabaseRef): boolean => t === `public.${d.table ?? 'schema_migrations'}`;
const sameList = (a: readonly string[] | null, b: readonly string[] | null): boolean => JSON.stringify(a) === JSON.stringify(b);
const listWords = (l: readonly string[] | null): string => (l === null ? 'no migrations table' : l.length ? l.join(', ') : 'none');

class Halted extends Error {
  constructor(readonly reason: string) {
    super(`deployment controller halted: ${reason}`);
  }
}

const DEFAULT_TTL_MS = 30_000;
const installedLike = (p: SnapshotPackage | undefined): boolean => !!p && p.status.charAt(1) !== 'c' && p.status.charAt(1) !== 'n';

/** One host as the journal leaves it. */
interface HostProgress {
  host: string;
  group: string;
  wave: number;
  before?: Snapshot;
  state?: HostState;
  /** Changes re-solved for this host (replacing the group's). */
  changes?: PackageChange[];
  /** Proposed changes waiting for approval (held). */
  proposed?: PackageChange[];
  /** Re-solved after a failed packages step (its forward runs under other keys, index refreshed first). */
  resolvedAfterFailure?: boolean;
  ended: Map<string, { outcome?: JournalEntry['outcome']; body: unknown }>;
  /** Keys started, with the step (undefined for snapshots). */
  started: Map<string, { kind: JournalEntry['kind']; step?: Step }>;
  rollbackAttempts: number;
  /** The host was touched by a forward step (started). */
  touched: boolean;
  /** Skipped because it could not be read (installed set or snapshot): why. Such a host keeps the deployment from succeeding. */
  unreadable?: string;
}

/** Step outcomes as journaled: without the step (it is in `started`) and with output cut. */
function outcomeBody(o: StepOutcome): unknown {
  const cut = (s: string): string => (s.length > 2000 ? `...${s.slice(-2000)}` : s);
  if (o.status === 'succeeded') return { status: o.status, durationMs: o.durationMs, output: cut(o.output), packages: o.packages };
  if (o.status === 'failed') return { status: o.status, durationMs: o.durationMs, failure: o.failure.kind === 'command' ? { ...o.failure, output: cut(o.failure.output) } : o.failure, packages: o.packages };
  return { status: o.status, durationMs: o.durationMs, reason: o.reason, output: cut(o.output) };
}

function timeout<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((resolve) => (t = setTimeout(() => resolve(onTimeout()), ms)))]).finally(() => clearTimeout(t));
}

export interface NewDeployment {
  id: string;
  plan: Plan;
  spec: DeploymentSpec;
  by: string;
}

/** Stores a new deployment of an approved plan version (RW_APPROVAL_GATE otherwise); nothing runs yet. */
export async function createDeploymentFor(store: DeploymentStore, d: NewDeployment): Promise<void> {
  if (d.plan.status !== 'approved') {
    throw new RollwiseError('RW_APPROVAL_GATE', `plan ${d.plan.id} v${d.plan.version} is ${d.plan.status}, not approved: it cannot be deployed`, { hint: `review it (rollwise impact, rollwise rehearse) and approve it: rollwise plan approve ${d.plan.id}` });
  }
  if (d.spec.layout.waves.length === 0) throw new RollwiseError('RW_DEPLOY', `plan ${d.plan.id} v${d.plan.version}: no selected host has anything to change`, { hint: 'check --hosts against the plan\'s groups (rollwise plan show)' });
  const at = new Date().toISOString();
  await store.createDeployment({ id: d.id, planId: d.plan.id, planVersion: d.plan.version, createdAt: at, createdBy: d.by, status: 'pending', updatedAt: at, spec: d.spec });
}

/** Runs (or resumes) a deployment until it finishes, pauses or halts. */
export async function runDeployment(o: EngineOptions): Promise<EngineResult> {
  const { store, deployment: id, plan } = o;
  const record = await store.getDeployment(id);
  if (!record) throw new RollwiseError('RW_NOT_FOUND', `no deployment ${id}`, { hint: 'rollwise deploy list shows the deployments' });
  const spec = record.spec as DeploymentSpec;
  if (spec.plan.id !== plan.id || spec.plan.version !== plan.version) throw new Error(`deployment ${id} is of plan ${spec.plan.id} v${spec.plan.version}, not ${plan.id} v${plan.version}`);
  const holder = o.holder ?? `controller-${randomBytes(4).toString('hex')}`;
  const ttl = o.leaseTtlMs ?? DEFAULT_TTL_MS;
  const lease = await store.acquireLease(id, holder, ttl);
  if (lease.kind === 'held') {
    throw new RollwiseError('RW_LEASE', `deployment ${id} is held by ${lease.holder} until ${lease.expiresAt}`, { hint: 'another controller runs it; wait for it, or for its lease to expire if it died, then run rollwise deploy resume' });
  }
  const fence: LeaseFence = lease.fence;
  let halted: string | undefined;
  const halt = (reason: string): never => {
    halted ??= reason;
    throw new Halted(halted);
  };
  const renewer = setInterval(() => {
    if (halted) return;
    store.renewLease(id, fence, ttl).then((ok) => {
      if (!ok) halted ??= 'lease lost';
    }, () => {
      halted ??= 'lease renewal failed';
    });
  }, Math.max(50, Math.floor(ttl / 3)));

  // ---- journal -------------------------------------------------------------------------------
  const journal = await store.readJournal(id);
  const runNo = journal.filter((e) => e.kind === 'operator' && e.key.endsWith('/start')).length + 1;
  let eventNo = 0;
  const write = async (entry: JournalEntryInput): Promise<void> => {
    if (halted) halt(halted);
    if (o.crashBefore?.(entry)) halt('crash seam');
    try {
      await store.appendJournal(id, [entry], fence);
    } catch (e) {
      if (isRollwiseError(e) && e.code === 'RW_LEASE') halt('lease lost');
      throw e;
    }
    if (o.crashAfter?.(entry)) halt('crash seam');
  };
  const emit = (e: DeployEvent): void => {
    try {
      o.onEvent?.(e);
    } catch {
      /* a renderer's problem is not the deployment's */
    }
  };
  const decide = async (body: DecisionBody): Promise<void> => {
    await write({ kind: 'decision', key: `r${runNo}/decision/${++eventNo}`, phase: 'event', ...(body.wave !== undefined ? { wave: body.wave } : {}), body });
    emit({ kind: 'decision', body });
  };
  const setStatus = async (s: DeploymentStatus, reason?: string): Promise<void> => {
    if (halted) halt(halted);
    try {
      await store.setDeploymentStatus(id, s, fence, reason);
    } catch (e) {
      if (isRollwiseError(e) && e.code === 'RW_LEASE') halt('lease lost');
      throw e;
    }
  };

  // ---- replay ----------------------------------------------------------------------------------
  const hosts = new Map<string, HostProgress>();
  for (const w of spec.layout.waves) for (const h of w.hosts) hosts.set(h.host, { host: h.host, group: h.group, wave: w.number, ended: new Map(), started: new Map(), rollbackAttempts: 0, touched: false });
  const wavesStarted = new Set<number>();
  const wavesEnded = new Map<number, JournalEntry>();
  let rollingBack = false;
  let abortRequested = false;
  const inconclusiveWaves = new Set<number>();
  for (const e of journal) {
    const h = e.host !== undefined ? hosts.get(e.host) : undefined;
    if (e.kind === 'wave') {
      if (e.phase === 'started') wavesStarted.add(e.wave!);
      else if (e.phase === 'ended') wavesEnded.set(e.wave!, e);
    } else if (e.kind === 'decision') {
      const b = e.body as DecisionBody;
      if (b.decision === 'pause' && (b.evidence as { verdict?: string } | undefined)?.verdict === 'inconclusive' && b.wave !== undefined) inconclusiveWaves.add(b.wave);
      if (b.decision === 'roll-back' && (b.evidence as { scope?: string } | undefined)?.scope !== 'host') {
        rollingBack = true;
        if ((b.evidence as { operator?: string } | undefined)?.operator === 'abort') abortRequested = true;
      }
    } else if (h && (e.kind === 'step' || e.kind === 'snapshot')) {
      if (e.phase === 'started') {
        h.started.set(e.key, { kind: e.kind, ...(e.kind === 'step' ? { step: (e.body as { step: Step }).step } : {}) });
        if (e.kind === 'step' && /\/forward(-resolved)?\//.test(e.key)) h.touched = true;
      } else if (e.phase === 'ended') {
        h.ended.set(e.key, { ...(e.outcome ? { outcome: e.outcome } : {}), body: e.body });
        if (e.kind === 'snapshot' && /\/snapshot\/before(\/\d+)?$/.test(e.key) && e.outcome === 'succeeded') h.before = (e.body as { snapshot: Snapshot }).snapshot;
      }
      const m = /\/rollback(\d+)\//.exec(e.key);
      if (m) h.rollbackAttempts = Math.max(h.rollbackAttempts, Number(m[1]));
    } else if (h && e.kind === 'host') {
      const b = e.body as { state: HostState; changes?: PackageChange[]; proposed?: PackageChange[]; afterFailure?: boolean; unreadable?: boolean; reason?: string };
      h.state = b.state;
      if (b.state === 'skipped' && b.unreadable) h.unreadable = b.reason ?? 'could not be read';
      else delete h.unreadable;
      if (b.afterFailure) h.resolvedAfterFailure = true;
      if (b.state === 'resolved' && b.changes) h.changes = b.changes;
      if (b.state === 'held' && b.proposed) h.proposed = b.proposed;
    }
  }
  // database backups taken in this deployment, by address (a database several hosts share is backed up once)
  const backups = new Map<string, BackupRecord>();
  for (const e of journal) {
    if (e.kind === 'snapshot' && e.phase === 'ended' && e.outcome === 'succeeded' && /\/backup\//.test(e.key)) {
      const b = e.body as BackupRecord;
      if (!backups.has(b.address)) backups.set(b.address, b);
    }
  }
  const groupOf = new Map(plan.groups.map((g) => [g.key, g]));
  const changesOf = (h: HostProgress): PackageChange[] => {
    if (h.changes) return h.changes;
    const g = groupOf.get(h.group);
    return g?.outcome.kind === 'transaction' ? g.outcome.changes : [];
  };
  const migrationsOf = (h: HostProgress): DeployMigration[] => spec.groups[h.group]?.migrations ?? [];
  const databaseOf = (h: HostProgress, name: string): DatabaseRef | undefined => o.databasesFor?.(h.host)?.[name];
  /** The databases the group's migrations change on this host, with their addresses (undefined: none known). */
  const databasesOf = (h: HostProgress): Array<{ name: string; ref: DatabaseRef | undefined }> =>
    [...new Set(migrationsOf(h).map((m) => m.database))].map((name) => ({ name, ref: databaseOf(h, name) }));
  const snapshotSpecOf = (h: HostProgress): SnapshotSpec => {
    const refs = databasesOf(h).flatMap((d) => (d.ref ? [d.ref] : []));
    return refs.length > 0 ? { ...spec.snapshot, databases: refs } : spec.snapshot;
  };
  const forwardSteps = (h: HostProgress): Step[] => {
    const changes = changesOf(h);
    const steps: Step[] = changes.length > 0 ? [{ kind: 'packages', changes: changes.map((c) => ({ ...c })) }] : [];
    for (const m of migrationsOf(h)) {
      const ref = databaseOf(h, m.database);
      if (ref) steps.push({ kind: 'migrate', database: ref, migration: { version: m.id, direction: 'up', sql: m.up } });
    }
    for (const s of spec.groups[h.group]?.restart ?? []) if (supervisedOn(h, s)) steps.push({ kind: 'service', action: 'restart', service: s });
    return steps;
  };
  /** A service the pre-deployment snapshot shows supervised on the host (others are not restarted or checked there). */
  const supervisedOn = (h: HostProgress, service: string): boolean => ['running', 'stopped', 'failed'].includes(h.before?.services.find((x) => x.name === service)?.state ?? 'absent');
  const driverOf = (h: HostProgress): EngineDriver => o.driverFor(h.host);
  /** Why the last snapshot of a host could not be taken (journaled with the failure). */
  const snapshotFailures = new Map<string, string>();
  const snapshotOf = async (h: HostProgress): Promise<Snapshot | undefined> => {
    const r = await timeout(driverOf(h).takeSnapshot(snapshotSpecOf(h)), spec.hostTimeoutMs, () => ({ kind: 'unknown' as const, reason: `no answer within ${spec.hostTimeoutMs} ms` }));
    if (r.kind === 'ok') return r.value;
    snapshotFailures.set(h.host, r.kind === 'failed' ? r.message : r.reason);
    return undefined;
  };
  const setHost = async (h: HostProgress, state: HostState, extra: Record<string, unknown> = {}): Promise<void> => {
    await write({ kind: 'host', key: `w${h.wave}/${h.host}/state/${state}/r${runNo}.${++eventNo}`, phase: 'event', host: h.host, wave: h.wave, body: { state, ...extra } });
    h.state = state;
    emit({ kind: 'host-finished', wave: h.wave, host: h.host, state, ...(typeof extra.reason === 'string' ? { reason: extra.reason } : {}) });
  };
  /** Applies one step under its key: journaled before and after; an unknown outcome is resolved by a fresh snapshot. */
  const applyStep = async (h: HostProgress, key: string, step: Step): Promise<StepStatus> => {
    await write({ kind: 'step', key, phase: 'started', host: h.host, wave: h.wave, body: { step } });
    h.started.set(key, { kind: 'step', step });
    const t0 = performance.now();
    const outcome: StepOutcome = await timeout(driverOf(h).apply(step), spec.hostTimeoutMs, () => ({ status: 'unknown', step, host: h.host, durationMs: Math.round(performance.now() - t0), reason: `no answer within ${spec.hostTimeoutMs} ms`, output: '' }));
    if (outcome.status !== 'unknown') {
      const body = outcomeBody(outcome);
      await write({ kind: 'step', key, phase: 'ended', host: h.host, wave: h.wave, outcome: outcome.status, body });
      h.ended.set(key, { outcome: outcome.status, body });
      return outcome.status;
    }
    // unknown: a fresh snapshot decides before anything else is done to the host
    const r = await reconcileOpen(h, key, step, { unknown: outcomeBody(outcome) });
    return r === 'happened' ? 'succeeded' : r;
  };
  const statusOf = (h: HostProgress, key: string): StepStatus | undefined => {
    const e = h.ended.get(key);
    if (!e) return undefined;
    if (e.outcome === 'succeeded' || e.outcome === 'failed') return e.outcome;
    const r = (e.body as { reconciled?: string } | undefined)?.reconciled;
    return r === 'not-happened' ? 'not-happened' : 'cannot-tell';
  };
  /** Ends an open step from a fresh snapshot of the host; returns what the snapshot shows. */
  const reconcileOpen = async (h: HostProgress, key: string, step: Step, evidence: Record<string, unknown> = {}): Promise<'happened' | 'not-happened' | 'cannot-tell'> => {
    const now = await snapshotOf(h);
    const r = now && h.before ? reconcileStep({ step, before: h.before, now }) : 'cannot-tell';
    const outcome = r === 'happened' ? 'succeeded' : 'unknown';
    const body = { reconciled: r, snapshotTaken: !!now, ...evidence };
    await write({ kind: 'step', key, phase: 'ended', host: h.host, wave: h.wave, outcome, body });
    h.ended.set(key, { outcome, body });
    await decide({ decision: 'reconcile', reason: `${h.host} ${key}: ${r === 'happened' ? 'the snapshot shows the step took effect' : r === 'not-happened' ? 'the snapshot shows the step did not take effect' : now ? 'the snapshot cannot tell whether the step took effect' : 'no snapshot could be taken'}`, wave: h.wave, hosts: [h.host], evidence: { key, result: r, packages: now?.packages.filter((p) => step.kind === 'packages' && step.changes.some((c) => c.name === p.name)) } });
    return r;
  };

  // ---- rollback of one host ------------------------------------------------------------------
  /**
   * The planner's rollback plan for the host's group, materialized against its pre-deployment
   * snapshot and its real state now; undefined when there is none for this host (no plan seam,
   * no plan for the group, or the host was re-solved: the group's plan does not describe its change).
   */
  const plannedRollback = async (h: HostProgress, current: Snapshot, cached: CachedDeb[]): Promise<{ actions: RollbackAction[]; omitted: string[] } | undefined> => {
    if (!o.rollbackPlanFor || h.changes || !h.before) return undefined;
    const plan = await o.rollbackPlanFor(h.group).catch(() => undefined);
    if (!plan || plan.kind !== 'rollback') return undefined;
    const before = h.before;
    const m = materializeRollback(plan.steps, before, current);
    const supervised = (service: string): boolean => supervisedOn(h, service) || ['running', 'stopped', 'failed'].includes(current.services.find((x) => x.name === service)?.state ?? 'absent');
    const actions: RollbackAction[] = [];
    const omitted: string[] = [];
    plan.steps.forEach((ps, i) => {
      if ((ps.kind === 'service' || ps.kind === 'health') && !supervised(ps.service)) return;
      if (ps.kind === 'health') {
        if (before.services.find((x) => x.name === ps.service)?.state === 'running') actions.push({ health: ps.service });
        return;
      }
      if (ps.kind === 'migrate') {
        const ref = databaseOf(h, ps.database);
        const sql = migrationsOf(h).find((x) => x.database === ps.database && x.id === ps.migration.id)?.down;
        if (!ref || sql === undefined) {
          omitted.push(`migrate ${ps.database} down ${ps.migration.id}: ${!ref ? `no database address is known for ${h.host}` : 'the deployment holds no down script for it'}`);
          return;
        }
        actions.push({ step: { kind: 'migrate', database: ref, migration: { version: ps.migration.id, direction: 'down', sql } } });
        return;
      }
      if (ps.kind === 'restore-database') {
        const ref = databaseOf(h, ps.database);
        const backup = ref ? backups.get(addressOf(ref)) : undefined;
        const gate = plan.forwardSafeguards.find((g) => g.id === ps.approval);
        const flag = gate?.kind === 'approval' ? gate.flag : ps.approval;
        if (!ref || !backup) omitted.push(`restore ${ps.database} from its backup: ${!ref ? `no database address is known for ${h.host}` : 'no backup was taken in this deployment'}`);
        else if (!(o.approvedRisks ?? []).includes(flag)) omitted.push(`restore ${ps.database} from its backup: the risk ${flag} was not approved with the plan (writes since the backup would be lost)`);
        else actions.push({ restore: { database: ps.database, ref, backup } });
        return;
      }
      const steps = m.steps[i];
      if (!steps) {
        omitted.push(ps.kind);
        return;
      }
      for (const step of useCachedDebs(steps, cached)) actions.push({ step });
    });
    return { actions, omitted };
  };

  /** Whether a migration's version is absent from its database's migrations table (false when it cannot be read). */
  const migrationAbsent = async (step: Extract<Step, { kind: 'migrate' }>): Promise<boolean> => {
    const d = await describeDatabase(step.database);
    return d.ok && !(d.value.applied ?? []).includes(step.migration.version);
  };
  /**
   * Restores a database from the deployment's backup, journaled like a step (started, ended). Only
   * when the database is not as before the deployment (its migrations differ): a database no
   * migration reached is left alone, with the writes it took since.
   */
  const restoreFromBackup = async (h: HostProgress, key: string, r: { database: string; ref: DatabaseRef; backup: BackupRecord }): Promise<{ status: 'succeeded' | 'skipped' } | { status: 'failed'; reason: string }> => {
    const now = await describeDatabase(r.ref);
    if (now.ok && sameList(now.value.applied ?? [], r.backup.before.applied ?? [])) {
      await write({ kind: 'snapshot', key: `${key}/not-needed`, phase: 'event', host: h.host, wave: h.wave, body: { database: r.database, note: 'its migrations are as before the deployment: not restored' } });
      return { status: 'skipped' };
    }
    await write({ kind: 'snapshot', key, phase: 'started', host: h.host, wave: h.wave, body: { restore: { database: r.database, address: r.backup.address, file: r.backup.file, sha256: r.backup.sha256 } } });
    // tables made since the backup (by the migrations) are not in the dump: dropped with the restore
    // (the migrations table too, when the database had none: its rows are those migrations')
    const made = now.ok ? now.value.tables.filter((t) => !r.backup.before.tables.includes(t)) : [];
    const done = await restoreDatabase(r.ref, r.backup, undefined, { dropTables: made });
    await write({ kind: 'snapshot', key, phase: 'ended', host: h.host, wave: h.wave, outcome: done.ok ? 'succeeded' : 'failed', body: done.ok ? { database: r.database, output: done.value.output.slice(-2000) } : { database: r.database, reason: done.message } });
    emit({ kind: 'decision', body: { decision: 'roll-back', reason: `${h.host}: database ${r.database} ${done.ok ? 'restored' : 'not restored'} from the backup taken before the deployment`, wave: h.wave, hosts: [h.host] } });
    return done.ok ? { status: 'succeeded' } : { status: 'failed', reason: done.message };
  };
  /**
   * What differs in the host's migrated databases from before the deployment: the migrations
   * table, the tables. Migrations the group's rollback plan keeps on purpose (undo depth
   * `downgrade`: its `schema-kept` flags) are expected to stay, and so may the tables they made.
   */
  const databaseDifferences = async (h: HostProgress): Promise<DatabaseDifference[]> => {
    const out: DatabaseDifference[] = [];
    const rb = o.rollbackPlanFor && !h.changes ? await o.rollbackPlanFor(h.group).catch(() => undefined) : undefined;
    for (const { name, ref } of databasesOf(h)) {
      const before = ref ? backups.get(addressOf(ref))?.before : undefined;
      if (!ref || !before) continue;
      const now = await describeDatabase(ref);
      if (!now.ok) {
        out.push({ database: name, what: 'unreadable', before: '', after: now.message });
        continue;
      }
      const kept = (rb?.flags ?? []).flatMap((f) => (f.kind === 'schema-kept' && f.database === name ? f.migrations : []));
      const expected = [...new Set([...(before.applied ?? []), ...kept])].sort();
      // no migrations table is no migration applied; the table itself is the bookkeeping's, not the schema's
      if (!sameList(now.value.applied ?? [], expected)) out.push({ database: name, what: 'migrations', before: listWords(expected.length || before.applied ? expected : null), after: listWords(now.value.applied) });
      const tables = (l: readonly string[]): string[] => l.filter((t) => !isMigrationsTable(t, ref));
      const gone = tables(before.tables).filter((t) => !now.value.tables.includes(t));
      const added = kept.length > 0 ? [] : tables(now.value.tables).filter((t) => !before.tables.includes(t));
      if (gone.length + added.length > 0) out.push({ database: name, what: 'tables', before: gone.length ? `also ${gone.join(', ')}` : 'fewer', after: added.length ? `also ${added.join(', ')}` : 'fewer' });
    }
    return out;
  };
  /** Snapshot differences, without the schema versions of the databases databaseDifferences judges (by their whole migrations table). */
  const snapshotDifferences = (h: HostProgress, before: Snapshot, after: Snapshot): ReturnType<typeof compareSnapshots> => {
    const judged = new Set(databasesOf(h).filter((d) => d.ref && backups.has(addressOf(d.ref))).map((d) => d.name));
    return compareSnapshots(before, after).filter((d) => d.kind !== 'schema-version-changed' || !judged.has(d.database));
  };

  /**
   * Rolls one host back: first by the planner's rollback plan for its group (down-migrations,
   * services stopped and started in order with health checks, config from the snapshot), then,
   * if that plan is missing, fails on a step or leaves differences, by a restore planned from the
   * pre-deployment snapshot (planRestore). Verified by comparing snapshots; what still differs is
   * named and the host needs a person.
   */
  const rollbackHost = async (h: HostProgress, why: string): Promise<void> => {
    if (!h.before) {
      await setHost(h, 'needs-attention', { reason: `${why}; no pre-deployment snapshot to restore` });
      return;
    }
    let planFailure: string | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const a = ++h.rollbackAttempts;
      const current = await snapshotOf(h);
      if (!current) {
        await setHost(h, 'needs-attention', { reason: `${why}; the host's state cannot be read (snapshot failed)` });
        return;
      }
      const cache = o.debCacheFor?.(h.host);
      let cached: CachedDeb[] = [];
      try {
        cached = cache ? await cache.cache.list() : [];
      } catch {
        cached = [];
      }
      const planned = attempt === 0 ? await plannedRollback(h, current, cached) : undefined;
      let source: 'plan' | 'snapshot-restore' = 'snapshot-restore';
      let unresolved: unknown[] = [];
      if (planned) {
        source = 'plan';
        await write({ kind: 'snapshot', key: `w${h.wave}/${h.host}/rollback${a}/plan`, phase: 'event', host: h.host, wave: h.wave, body: { source, steps: planned.actions.length, omitted: planned.omitted } });
        for (const [i, x] of planned.actions.entries()) {
          if ('restore' in x) {
            const r = await restoreFromBackup(h, `w${h.wave}/${h.host}/rollback${a}/${i}/restore-database`, x.restore);
            if (r.status === 'failed') {
              planFailure = `restoring database ${x.restore.database} from its backup failed: ${r.reason}`;
              break;
            }
            continue;
          }
          if ('health' in x) {
            const results = await runHealthChecks(driverOf(h), [{ kind: 'service', service: x.health, state: 'running', withinMs: 15_000 }], true);
            emit({ kind: 'health', wave: h.wave, host: h.host, results });
            if (results.some((r) => r.status === 'failed')) {
              planFailure = `service ${x.health} was not healthy after it was started again`;
              break;
            }
            continue;
          }
          if (x.step.kind === 'migrate' && (await migrationAbsent(x.step))) {
            // the forward never applied it (it stopped before), or another host sharing the database undid it
            await write({ kind: 'snapshot', key: `w${h.wave}/${h.host}/rollback${a}/${i}/not-applied`, phase: 'event', host: h.host, wave: h.wave, body: { database: x.step.database.name, migration: x.step.migration.version, note: 'not applied: nothing to undo' } });
            continue;
          }
          const r = await applyStep(h, `w${h.wave}/${h.host}/rollback${a}/${i}`, x.step);
          emit({ kind: 'host-step', wave: h.wave, host: h.host, phase: 'rollback', index: i, total: planned.actions.length, step: x.step, status: r });
          if (r !== 'succeeded') {
            planFailure = `rollback plan step ${i + 1} (${x.step.kind}) ${r === 'failed' ? 'failed' : 'had an outcome no snapshot could tell'}`;
            break;
          }
        }
      } else {
        const restore = planRestore(current, h.before, (name, version, architecture) => findCachedDeb(cached, name, version, architecture)?.path);
        unresolved = restore.unresolved;
        for (const [i, step] of restore.steps.entries()) {
          const r = await applyStep(h, `w${h.wave}/${h.host}/rollback${a}/${i}`, step);
          emit({ kind: 'host-step', wave: h.wave, host: h.host, phase: 'rollback', index: i, total: restore.steps.length, step, status: r });
        }
      }
      const after = await snapshotOf(h);
      const differences = after ? snapshotDifferences(h, h.before, after) : undefined;
      const dbDifferences = await databaseDifferences(h);
      if (differences && differences.length === 0 && dbDifferences.length === 0) {
        await setHost(h, 'restored', { reason: why, attempt: a, source, ...(planFailure ? { planFailure } : {}), ...(planned?.omitted.length ? { omitted: planned.omitted } : {}) });
        return;
      }
      if (attempt === 1 || !differences) {
        const dbWords = dbDifferences.map((d) => `database ${d.database}: ${d.what} ${d.what === 'unreadable' ? d.after : `differ (before: ${d.before}; now: ${d.after})`}`);
        await setHost(h, 'needs-attention', {
          reason: `${why}; the rollback did not restore the host${dbWords.length ? ` (${dbWords.join('; ')})` : ''}`, differences: differences ?? 'no snapshot after the rollback', unresolved,
          ...(dbDifferences.length ? { databaseDifferences: dbDifferences } : {}), ...(planFailure ? { planFailure } : {}), ...(planned?.omitted.length ? { omitted: planned.omitted } : {}),
        });
        return;
      }
      if (source === 'plan') {
        await decide({
          decision: 'roll-back', reason: `${h.host}: ${planFailure ?? 'the rollback plan left differences'}; restoring the pre-deployment snapshot instead`, wave: h.wave, hosts: [h.host],
          evidence: { scope: 'host', fallback: 'snapshot-restore', differences, ...(dbDifferences.length ? { databaseDifferences: dbDifferences } : {}), ...(planFailure ? { planFailure } : {}) },
        });
      }
    }
  };

  // ---- forward on one host ---------------------------------------------------------------------
  /**
   * Backs up each database the host's migrations change (once per address in the deployment),
   * after reading its migrations and tables (the state a rollback is verified against). A database
   * without an address, or a failed backup, stops the host before any change (needs a person).
   */
  const backUpDatabases = async (h: HostProgress): Promise<boolean> => {
    const dbs = databasesOf(h);
    const missing = dbs.filter((d) => !d.ref).map((d) => d.name);
    if (missing.length > 0) {
      await setHost(h, 'needs-attention', { reason: `the plan migrates database ${missing.join(', ')} and the inventory names no address for it on ${h.host}; nothing was applied` });
      return false;
    }
    for (const { name, ref } of dbs) {
      const address = addressOf(ref!);
      if (backups.has(address)) continue;
      const base = `w${h.wave}/${h.host}/backup/${name}`;
      const key = h.started.has(base) ? `${base}/${runNo}` : base;
      await write({ kind: 'snapshot', key, phase: 'started', host: h.host, wave: h.wave, body: { database: name, address } });
      h.started.set(key, { kind: 'snapshot' });
      const dir = o.backupDirFor?.(h.host);
      const before = await describeDatabase(ref!);
      const taken: { ok: true; value: DatabaseBackup } | { ok: false; message: string } = !dir
        ? { ok: false, message: 'no backup folder is configured' }
        : !before.ok ? before : await backupDatabase(ref!, path.join(dir, `${name}-r${runNo}-${Date.now()}.dump`));
      if (!taken.ok || !before.ok) {
        const why = taken.ok ? 'unreadable' : taken.message;
        await write({ kind: 'snapshot', key, phase: 'ended', host: h.host, wave: h.wave, outcome: 'failed', body: { database: name, address, reason: why } });
        await setHost(h, 'needs-attention', { reason: `the backup of database ${name} failed (${why}); nothing was applied` });
        return false;
      }
      const record: BackupRecord = { database: name, address, host: h.host, file: taken.value.file, sha256: taken.value.sha256, bytes: taken.value.bytes, before: before.value };
      await write({ kind: 'snapshot', key, phase: 'ended', host: h.host, wave: h.wave, outcome: 'succeeded', body: record });
      backups.set(address, record);
    }
    return true;
  };
  /** Another host of this deployment that applied the same migration to the same database (address). */
  const migratedBy = (h: HostProgress, step: Extract<Step, { kind: 'migrate' }>): string | undefined => {
    for (const g of hosts.values()) {
      if (g === h) continue;
      for (const [key, e] of g.started) {
        const x = e.step;
        if (x?.kind !== 'migrate' || !/\/forward(-resolved)?\//.test(key) || statusOf(g, key) !== 'succeeded') continue;
        if (addressOf(x.database) === addressOf(step.database) && x.migration.version === step.migration.version && x.migration.direction === step.migration.direction) return g.host;
      }
    }
    return undefined;
  };
  const forwardHost = async (h: HostProgress): Promise<void> => {
    const driver = driverOf(h);
    const group = groupOf.get(h.group);
    if (h.state === 'held') {
      if (o.acceptResolutions && h.proposed) {
        await setHost(h, 'resolved', { changes: h.proposed, reason: 'approved by the operator (resume --accept-resolutions)' });
        h.changes = h.proposed;
      } else {
        await decide({ decision: 'skip-host', reason: `${h.host}: its re-solved changes were not approved (resume without --accept-resolutions)`, wave: h.wave, hosts: [h.host] });
        await setHost(h, 'skipped', { reason: 're-solved changes not approved' });
        return;
      }
    }
    if (h.state === 'failed') {
      await rollbackHost(h, 'resuming its rollback');
      return;
    }
    if (h.state && h.state !== 'resolved') return;
    emit({ kind: 'host-started', wave: h.wave, host: h.host });
    const beforeKey = `w${h.wave}/${h.host}/snapshot/before`;
    if (!h.before) {
      if (h.started.has(beforeKey) && !h.ended.has(beforeKey)) {
        // a snapshot started and never ended: nothing was applied after it; take it again under a new key
        await write({ kind: 'snapshot', key: beforeKey, phase: 'ended', host: h.host, wave: h.wave, outcome: 'unknown', body: { reconciled: 'retaken' } });
      }
      // drift: the host against the group's installed set the plan assumed
      if (!h.changes && group) {
        const read = await timeout(driver.readInstalled(), spec.hostTimeoutMs, () => ({ kind: 'unknown' as const, reason: 'timed out' }));
        if (read.kind !== 'ok') {
          h.unreadable = `cannot read the host's packages: ${read.kind === 'failed' ? read.message : read.reason}`;
          await setHost(h, 'skipped', { reason: h.unreadable, unreadable: true });
          return;
        }
        const drift = driftOf(group.installed, read.value);
        if (drift.length > 0) {
          if (!o.resolveHost) {
            await decide({ decision: 'skip-host', reason: `${h.host} is not in the state the plan assumed and nothing can re-solve it`, wave: h.wave, hosts: [h.host], evidence: { drift } });
            await setHost(h, 'skipped', { reason: 'drifted', drift });
            return;
          }
          const facts = await driver.readFacts();
          const r = await o.resolveHost({ host: h.host, group: h.group, installed: read.value, ...(facts.kind === 'ok' ? { facts: facts.value } : {}), planned: changesOf(h) });
          if (r.kind === 'conflict') {
            await decide({ decision: 'skip-host', reason: `${h.host} drifted and no solution exists on its real state`, wave: h.wave, hosts: [h.host], evidence: { drift, explanation: r.explanation } });
            await setHost(h, 'skipped', { reason: 'conflict on the host\'s real state', drift, explanation: r.explanation });
            return;
          }
          if (r.kind === 'changes' && !r.withinPolicy) {
            await decide({ decision: 'hold-host', reason: `${h.host} drifted; its re-solved changes go beyond the policy (${spec.policy}): ${r.reason}`, wave: h.wave, hosts: [h.host], evidence: { drift, proposed: r.changes } });
            await setHost(h, 'held', { reason: r.reason, drift, proposed: r.changes });
            h.proposed = r.changes;
            return;
          }
          await decide({ decision: 're-solve', reason: r.kind === 'unchanged' ? `${h.host} drifted; the planned changes still apply` : `${h.host} drifted; re-solved: ${r.reason}`, wave: h.wave, hosts: [h.host], evidence: { drift, ...(r.kind === 'changes' ? { changes: r.changes } : {}) } });
          if (r.kind === 'changes') await setHost(h, 'resolved', { changes: r.changes, reason: r.reason });
          if (r.kind === 'changes') h.changes = r.changes;
        }
      }
      const key = h.started.has(beforeKey) ? `${beforeKey}/${runNo}` : beforeKey;
      await write({ kind: 'snapshot', key, phase: 'started', host: h.host, wave: h.wave, body: {} });
      const snap = await snapshotOf(h);
      if (!snap) {
        const why = snapshotFailures.get(h.host) ?? 'no reason given';
        await write({ kind: 'snapshot', key, phase: 'ended', host: h.host, wave: h.wave, outcome: 'failed', body: { reason: why } });
        h.unreadable = `the pre-deployment snapshot could not be taken (${why}); nothing was applied`;
        await setHost(h, 'skipped', { reason: h.unreadable, unreadable: true });
        return;
      }
      await write({ kind: 'snapshot', key, phase: 'ended', host: h.host, wave: h.wave, outcome: 'succeeded', body: { snapshot: snap } });
      h.before = snap;
      const cache = o.debCacheFor?.(h.host);
      if (cache) {
        const kept = await cachePreviousVersions(cache.cache, cache.source, snap.packages, changesOf(h));
        await write({ kind: 'snapshot', key: `w${h.wave}/${h.host}/keep-debs/${runNo}`, phase: 'event', host: h.host, wave: h.wave, body: { kept: kept.map((k) => ({ name: k.name, version: k.version, outcome: k.outcome.kind })) } });
      }
      // a backup of each database the migrations change, before any of them (and before the packages)
      if (!(await backUpDatabases(h))) return;
      // the other safeguards the group's rollback plan asks for before the forward
      const rb = !h.changes && o.rollbackPlanFor ? await o.rollbackPlanFor(h.group).catch(() => undefined) : undefined;
      const asked = (rb?.forwardSafeguards ?? []).filter((g) => g.kind === 'backup-database' || g.kind === 'snapshot');
      if (asked.length > 0) {
        const backupOf = (name: string): BackupRecord | undefined => {
          const ref = databaseOf(h, name);
          return ref ? backups.get(addressOf(ref)) : undefined;
        };
        await write({
          kind: 'snapshot', key: `w${h.wave}/${h.host}/safeguards/${runNo}`, phase: 'event', host: h.host, wave: h.wave,
          body: {
            safeguards: asked.map((g) => (g.kind === 'backup-database'
              ? { kind: g.kind, database: g.database, taken: backupOf(g.database) !== undefined, ...(backupOf(g.database) ? { file: backupOf(g.database)!.file, sha256: backupOf(g.database)!.sha256 } : { why: 'no migration of the deployment changes it on this host' }) }
              : { kind: g.kind, taken: true, configFiles: g.configFiles, services: g.services })),
          },
        });
      }
    } else if (!h.touched && !(await backUpDatabases(h))) {
      // resumed after the snapshot and before any forward step: a backup not taken yet is taken now
      return;
    }
    const lost = databasesOf(h).filter((d) => !d.ref).map((d) => d.name);
    if (lost.length > 0) {
      // resumed with an inventory that no longer names a database the deployment migrates: its steps cannot be matched
      await failHost(h, `the inventory no longer names an address for database ${lost.join(', ')} on ${h.host}`);
      return;
    }
    const prefix = h.resolvedAfterFailure ? 'forward-resolved' : 'forward';
    // a re-solved host's index is refreshed first: what it installs now may be newer than its lists
    const steps: Step[] = h.resolvedAfterFailure ? [{ kind: 'refresh-index' }, ...forwardSteps(h)] : forwardSteps(h);
    for (const [i, step] of steps.entries()) {
      const key = `w${h.wave}/${h.host}/${prefix}/${i}`;
      const by = step.kind === 'migrate' && !h.started.has(key) ? migratedBy(h, step) : undefined;
      if (by) {
        // a database several hosts share is migrated once: by the first of them
        await write({ kind: 'snapshot', key: `${key}/migrated-by`, phase: 'event', host: h.host, wave: h.wave, body: { database: step.kind === 'migrate' ? step.database.name : '', by, note: 'already migrated by another host of this deployment' } });
        emit({ kind: 'host-step', wave: h.wave, host: h.host, phase: 'forward', index: i, total: steps.length, step, status: 'succeeded' });
        continue;
      }
      let r = statusOf(h, key) ?? (await applyStep(h, key, step));
      if (r === 'not-happened') {
        // it did not take effect: done once more, under its retry key
        const retry = `${key}/retry`;
        r = statusOf(h, retry) ?? (await applyStep(h, retry, step));
        if (r === 'not-happened') r = 'failed';
      }
      emit({ kind: 'host-step', wave: h.wave, host: h.host, phase: 'forward', index: i, total: steps.length, step, status: r });
      if (r !== 'succeeded') {
        if (r === 'failed' && step.kind === 'packages' && !h.resolvedAfterFailure && (await resolveAfterFailure(h, key))) {
          if (h.state === 'resolved') return await forwardHost(h);
          return;
        }
        await failHost(h, `forward step ${i + 1} of ${steps.length} (${step.kind}) ${r === 'failed' ? 'failed' : 'had an outcome no snapshot could tell'}`);
        return;
      }
    }
    const checks = (spec.groups[h.group]?.health ?? []).filter((c) => c.kind !== 'service' || supervisedOn(h, c.service));
    const results = await runHealthChecks(driver, checks, true);
    emit({ kind: 'health', wave: h.wave, host: h.host, results });
    const failed = results.filter((x) => x.status === 'failed');
    if (failed.length > 0) {
      await failHost(h, `${failed.length} health check${failed.length === 1 ? '' : 's'} failed`, { health: results });
      return;
    }
    await setHost(h, 'healthy', { health: results.map((x) => ({ check: x.check, status: x.status })) });
  };
  /**
   * A packages step that failed without touching the host (a planned version gone from the
   * repository, a dependency the host's sources no longer satisfy): solve again on the host's real
   * state and sources. True when the host was re-solved (state `resolved`: run its forward again)
   * or held for a person; false when the failure stays a failure.
   */
  const resolveAfterFailure = async (h: HostProgress, key: string): Promise<boolean> => {
    if (!o.resolveHost || !h.before) return false;
    const now = await snapshotOf(h);
    const step = h.started.get(key)?.step;
    if (!now || !step || reconcileStep({ step, before: h.before, now }) !== 'not-happened') return false;
    const output = JSON.stringify(h.ended.get(key)?.body ?? '').slice(-600);
    const facts = await driverOf(h).readFacts();
    const r = await o.resolveHost({ host: h.host, group: h.group, installed: now.packages, ...(facts.kind === 'ok' ? { facts: facts.value } : {}), planned: changesOf(h) });
    if (r.kind !== 'changes' || r.changes.length === 0) return false;
    if (!r.withinPolicy) {
      await decide({ decision: 'hold-host', reason: `${h.host}: the planned step failed and its re-solved changes go beyond the policy (${spec.policy}): ${r.reason}`, wave: h.wave, hosts: [h.host], evidence: { failedStep: key, output, proposed: r.changes } });
      await setHost(h, 'held', { reason: r.reason, proposed: r.changes, afterFailure: true });
      h.proposed = r.changes;
      return true;
    }
    await decide({ decision: 're-solve', reason: `${h.host}: the planned step failed without touching the host; re-solved on its real state: ${r.reason}`, wave: h.wave, hosts: [h.host], evidence: { failedStep: key, output, changes: r.changes } });
    await setHost(h, 'resolved', { changes: r.changes, reason: r.reason, afterFailure: true });
    h.changes = r.changes;
    h.resolvedAfterFailure = true;
    return true;
  };
  const failHost = async (h: HostProgress, reason: string, evidence: Record<string, unknown> = {}): Promise<void> => {
    await setHost(h, 'failed', { reason, ...evidence });
    await decide({ decision: 'roll-back', reason: `${h.host}: ${reason}; rolling the host back`, wave: h.wave, hosts: [h.host], evidence: { scope: 'host', ...evidence } });
    await rollbackHost(h, reason);
  };

  // ---- the run ---------------------------------------------------------------------------------
  const pool = async <T>(items: readonly T[], n: number, work: (x: T) => Promise<void>, stop: () => boolean): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length && !stop()) await work(items[next++]!);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  };
  const reports = (): HostReport[] => [...hosts.values()].map((h) => ({ host: h.host, group: h.group, wave: h.wave, state: h.state ?? (h.before ? 'in-progress' : 'pending') }));
  const finish = async (status: DeploymentStatus, reason?: string): Promise<EngineResult> => {
    await setStatus(status, reason);
    emit({ kind: 'finished', status, ...(reason ? { reason } : {}) });
    return { kind: 'finished', status, ...(reason ? { reason } : {}), hosts: reports() };
  };
  const rollbackAll = async (reason: string, evidence: unknown, status: 'rolled-back' | 'aborted'): Promise<EngineResult> => {
    if (!rollingBack) await decide({ decision: 'roll-back', reason, evidence });
    rollingBack = true;
    await setStatus('rolling-back', reason);
    const todo = [...hosts.values()].filter((h) => h.before && (h.state === undefined || h.state === 'healthy' || h.state === 'failed' || h.state === 'resolved')).sort((a, b) => b.wave - a.wave || (a.host < b.host ? -1 : 1));
    await pool(todo, spec.concurrency, (h) => rollbackHost(h, reason), () => false);
    const attention = [...hosts.values()].filter((h) => h.state === 'needs-attention').map((h) => h.host);
    if (attention.length > 0) {
      await decide({ decision: 'needs-attention', reason: `${attention.length} host(s) could not be restored: ${attention.join(', ')}`, hosts: attention });
      return finish('needs-attention', `could not restore ${attention.join(', ')}`);
    }
    await decide({ decision: 'rolled-back', reason: `every changed host verified identical to its pre-deployment snapshot (${todo.length} host(s))`, hosts: todo.map((h) => h.host) });
    return finish(status, reason);
  };

  try {
    await write({ kind: 'operator', key: `r${runNo}/start`, phase: 'event', body: { holder, run: runNo, resumed: journal.length > 0 } });
    // hosts with a step started and never ended: reconcile before anything else
    for (const h of hosts.values()) {
      for (const [key, e] of [...h.started]) {
        if (h.ended.has(key) || e.kind !== 'step' || !e.step) continue;
        const r = await reconcileOpen(h, key, e.step, { resumed: true });
        if (r === 'cannot-tell' && /\/forward(-resolved)?\//.test(key)) await failHost(h, `the outcome of ${key} cannot be told from the host's state`);
      }
    }
    const control = await store.readControl(id);
    if (control?.action === 'abort' || abortRequested) {
      if (control) await store.clearControl(id, fence);
      return await rollbackAll(`aborted by ${control?.by ?? 'an operator'}`, { operator: 'abort', by: control?.by }, 'aborted');
    }
    if (rollingBack) return await rollbackAll('resuming the rollback', { resumed: true }, 'rolled-back');
    if (control?.action === 'pause') await store.clearControl(id, fence);
    await setStatus('running');
    let rolloutFailures = [...hosts.values()].filter((h) => h.state === 'failed' || h.state === 'restored' || h.state === 'needs-attention').length;
    for (const wave of spec.layout.waves) {
      if (wavesEnded.has(wave.number)) continue;
      const ctl = await store.readControl(id);
      if (ctl) {
        await store.clearControl(id, fence);
        if (ctl.action === 'abort') return await rollbackAll(`aborted by ${ctl.by}`, { operator: 'abort', by: ctl.by }, 'aborted');
        await decide({ decision: 'pause', reason: `paused by ${ctl.by}`, wave: wave.number, evidence: { operator: 'pause', by: ctl.by } });
        return await finish('paused', `paused by ${ctl.by} before wave ${wave.number}`);
      }
      if (!wavesStarted.has(wave.number)) {
        await write({ kind: 'wave', key: `w${wave.number}`, phase: 'started', wave: wave.number, body: { hosts: wave.hosts.map((x) => x.host), canary: wave.canary } });
        wavesStarted.add(wave.number);
      }
      const waveStartedAt = Date.now();
      emit({ kind: 'wave-started', wave: wave.number, hosts: wave.hosts.map((x) => x.host), canary: wave.canary });
      const mine = wave.hosts.map((x) => hosts.get(x.host)!);
      let stopWave = false;
      let request: Awaited<ReturnType<typeof store.readControl>>;
      await pool(mine, spec.concurrency, async (h) => {
        await forwardHost(h);
        const failed = mine.filter((x) => x.state === 'failed' || x.state === 'restored' || x.state === 'needs-attention').length;
        if (failed > wave.maxFailures || rolloutFailures + failed > spec.layout.maxFailures || h.state === 'needs-attention') stopWave = true;
        // an operator's pause or abort is honoured between hosts (hosts under way finish first)
        request ??= await store.readControl(id);
      }, () => stopWave || request !== undefined || halted !== undefined);
      const failedHosts = mine.filter((x) => x.state === 'failed' || x.state === 'restored' || x.state === 'needs-attention');
      rolloutFailures += failedHosts.length;
      const attention = mine.filter((x) => x.state === 'needs-attention');
      if (attention.length > 0 || failedHosts.length > wave.maxFailures || rolloutFailures > spec.layout.maxFailures) {
        const why = attention.length > 0
          ? `${attention.map((x) => x.host).join(', ')} could not be restored`
          : failedHosts.length > wave.maxFailures ? `wave ${wave.number}: ${failedHosts.length} failed host(s), budget ${wave.maxFailures}` : `${rolloutFailures} failed host(s) in the rollout, budget ${spec.layout.maxFailures}`;
        await write({ kind: 'wave', key: `w${wave.number}`, phase: 'ended', wave: wave.number, outcome: 'failed', body: { failed: failedHosts.map((x) => x.host) } });
        return await rollbackAll(`failure budget exhausted: ${why}`, { scope: 'rollout', failed: failedHosts.map((x) => ({ host: x.host, state: x.state })) }, 'rolled-back');
      }
      if (request && !stopWave) {
        const r = request;
        await store.clearControl(id, fence);
        const done = mine.filter((x) => x.state !== undefined && x.state !== 'resolved').map((x) => x.host);
        if (r.action === 'abort') return await rollbackAll(`aborted by ${r.by} during wave ${wave.number}`, { operator: 'abort', by: r.by, wave: wave.number }, 'aborted');
        await decide({ decision: 'pause', reason: `paused by ${r.by} during wave ${wave.number} (${done.length} of ${mine.length} host(s) done)`, wave: wave.number, hosts: done, evidence: { operator: 'pause', by: r.by } });
        return await finish('paused', `paused by ${r.by} during wave ${wave.number}`);
      }
      const held = mine.filter((x) => x.state === 'held');
      const changed = mine.filter((x) => x.state === 'healthy').map((x) => x.host);
      const later = spec.layout.waves.filter((w) => w.number > wave.number).flatMap((w) => w.hosts.map((x) => x.host));
      const earlier = spec.layout.waves.filter((w) => w.number < wave.number).flatMap((w) => w.hosts.map((x) => hosts.get(x.host)!)).filter((x) => x.state === 'healthy').map((x) => x.host);
      emit({ kind: 'baking', wave: wave.number, bakeMs: wave.bakeMs });
      const ac = new AbortController();
      // an operator's pause or abort during the bake stops the judge (its verdict then cannot pass)
      let bakeRequest: Awaited<ReturnType<typeof store.readControl>>;
      const poller = setInterval(() => {
        if (bakeRequest || halted) return;
        store.readControl(id).then((c) => {
          if (c && !bakeRequest) {
            bakeRequest = c;
            ac.abort();
          }
        }, () => undefined);
      }, o.controlPollMs ?? 500);
      let judged: { verdict: 'passed' | 'failed' | 'inconclusive'; evidence: unknown[] };
      try {
        judged = inconclusiveWaves.has(wave.number)
          ? { verdict: 'passed' as const, evidence: [{ operator: 'resumed after an inconclusive verdict' }] }
          : changed.length > 0
          ? await o.judge({ wave: wave.number, changedHosts: changed, controlHosts: later, earlierHosts: earlier, bakeMs: wave.bakeMs, signal: ac.signal, startedAt: waveStartedAt })
          : { verdict: 'passed' as const, evidence: [{ note: 'no host of this wave was changed' }] };
      } finally {
        clearInterval(poller);
      }
      if (halted) halt(halted);
      if (bakeRequest) {
        const r = bakeRequest;
        await store.clearControl(id, fence);
        await write({ kind: 'verdict', key: `w${wave.number}/verdict/${runNo}.${++eventNo}`, phase: 'event', wave: wave.number, body: { verdict: 'inconclusive', evidence: [{ operator: r.action, by: r.by, note: 'the bake was stopped by an operator; the judge\'s partial evidence follows' }, ...judged.evidence], changedHosts: changed, controlHosts: later, bakeMs: wave.bakeMs } });
        if (r.action === 'abort') return await rollbackAll(`aborted by ${r.by} during the bake of wave ${wave.number}`, { operator: 'abort', by: r.by, wave: wave.number }, 'aborted');
        await decide({ decision: 'pause', reason: `paused by ${r.by} during the bake of wave ${wave.number}; resuming bakes the wave again`, wave: wave.number, hosts: changed, evidence: { operator: 'pause', by: r.by } });
        return await finish('paused', `paused by ${r.by} during the bake of wave ${wave.number}`);
      }
      const { verdict, evidence } = judged;
      await write({ kind: 'verdict', key: `w${wave.number}/verdict/${runNo}.${++eventNo}`, phase: 'event', wave: wave.number, body: { verdict, evidence, changedHosts: changed, controlHosts: later, bakeMs: wave.bakeMs } });
      emit({ kind: 'verdict', wave: wave.number, verdict });
      if (verdict === 'failed') {
        await write({ kind: 'wave', key: `w${wave.number}`, phase: 'ended', wave: wave.number, outcome: 'failed', body: { verdict } });
        return await rollbackAll(`wave ${wave.number}: the judge's verdict is failed`, { scope: 'rollout', verdict, evidence, hosts: changed }, 'rolled-back');
      }
      if (verdict === 'inconclusive') {
        await decide({ decision: 'pause', reason: `wave ${wave.number}: the verdict is inconclusive; a person decides (deploy resume or deploy abort)`, wave: wave.number, hosts: changed, evidence: { verdict, evidence } });
        return await finish('paused', `wave ${wave.number}: inconclusive verdict`);
      }
      if (held.length > 0) {
        await decide({ decision: 'pause', reason: `wave ${wave.number}: ${held.length} host(s) re-solved beyond the policy wait for approval`, wave: wave.number, hosts: held.map((x) => x.host) });
        return await finish('paused', `re-solved changes of ${held.map((x) => x.host).join(', ')} wait for approval (deploy resume --accept-resolutions)`);
      }
      await write({ kind: 'wave', key: `w${wave.number}`, phase: 'ended', wave: wave.number, outcome: 'succeeded', body: { changed, skipped: mine.filter((x) => x.state === 'skipped').map((x) => x.host) } });
      // a host re-solved to no change went through the wave healthy but was not changed by it
      const unchangedHosts = changed.filter((x) => { const h = hosts.get(x)!; return changesOf(h).length === 0 && migrationsOf(h).length === 0; });
      const passedWords = `${changed.length - unchangedHosts.length} host(s) changed${unchangedHosts.length ? `, ${unchangedHosts.length} already had what the plan installs` : ''}`;
      await decide({ decision: 'promote', reason: `wave ${wave.number} passed (${passedWords})`, wave: wave.number, hosts: changed, evidence });
      if (wave.gate && wave.number < spec.layout.waves.length) {
        await decide({ decision: 'gate', reason: `manual gate after wave ${wave.number}`, wave: wave.number });
        return await finish('paused', `manual gate after wave ${wave.number}: rollwise deploy resume continues`);
      }
    }
    const unreadable = [...hosts.values()].filter((h) => h.state === 'skipped' && h.unreadable !== undefined);
    if (unreadable.length > 0) {
      // a host nobody could read was not deployed and its state is unknown: that is no success
      const words = unreadable.map((h) => `${h.host} (${h.unreadable})`);
      await decide({ decision: 'needs-attention', reason: `${unreadable.length} host(s) could not be read and were left as they were: ${words.join('; ')}`, hosts: unreadable.map((h) => h.host) });
      return await finish('needs-attention', `${unreadable.length} host(s) could not be read, nothing was applied to them: ${words.slice(0, 5).join('; ')}${words.length > 5 ? '; …' : ''} (fix them, then deploy those hosts again)`);
    }
    const skipped = [...hosts.values()].filter((h) => h.state === 'skipped').map((h) => h.host);
    await decide({ decision: 'succeeded', reason: `every wave passed${skipped.length ? `; skipped: ${skipped.join(', ')}` : ''}`, hosts: [...hosts.values()].filter((h) => h.state === 'healthy').map((h) => h.host) });
    return await finish('succeeded', skipped.length ? `${skipped.length} host(s) skipped, left as they were: ${skipped.join(', ')} (rollwise deploy log says why)` : undefined);
  } catch (e) {
    if (e instanceof Halted) return { kind: 'halted', reason: e.reason };
    throw e;
  } finally {
    clearInterval(renewer);
    if (!halted) await store.releaseLease(id, fence).catch(() => undefined);
  }
}

/** Packages whose installed version differs from the group's (or that one side lacks). */
export function driftOf(assumed: ReadonlyArray<{ name: string; version: string }>, real: readonly SnapshotPackage[]): Array<{ name: string; assumed?: string; real?: string }> {
  const a = new Map(assumed.map((p) => [p.name, p.version]));
  const r = new Map(real.filter((p) => installedLike(p)).map((p) => [p.name, p.version]));
  const out: Array<{ name: string; assumed?: string; real?: string }> = [];
  for (const name of [...new Set([...a.keys(), ...r.keys()])].sort()) {
    if (a.get(name) === r.get(name)) continue;
    out.push({ name, ...(a.has(name) ? { assumed: a.get(name)! } : {}), ...(r.has(name) ? { real: r.get(name)! } : {}) });
  }
  return out;
}

/** The waves of a deployment with each host's journaled state (for `deploy status`). */
export function hostStates(spec: DeploymentSpec, journal: readonly JournalEntry[]): Array<{ wave: Wave; hosts: HostReport[] }> {
  const last = new Map<string, { state: HostState; reason?: string; differences?: unknown }>();
  const touched = new Set<string>();
  for (const e of journal) {
    if (e.kind === 'host' && e.host) {
      const b = e.body as { state: HostState; reason?: string; differences?: unknown };
      last.set(e.host, b);
    }
    if ((e.kind === 'step' || e.kind === 'snapshot') && e.host) touched.add(e.host);
  }
  return spec.layout.waves.map((wave) => ({
    wave,
    hosts: wave.hosts.map((x): HostReport => {
      const s = last.get(x.host);
      return {
        host: x.host, group: x.group, wave: wave.number, state: s?.state ?? (touched.has(x.host) ? 'in-progress' : 'pending'),
        ...(s?.reason ? { reason: s.reason } : {}), ...(Array.isArray(s?.differences) ? { differences: s.differences as HostReport['differences'] } : {}),
      };
    }),
  }));
}

/**
 * The judge when no metric judge is wired: waits the bake time (cut short by the signal) and
 * passes, saying in its evidence that only the hosts' health checks were judged.
 */
export function createBakeOnlyJudge(): WaveJudge {
  return async (ctx) => {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ctx.bakeMs);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
    return { verdict: 'passed', evidence: [{ kind: 'bake-only', bakeMs: ctx.bakeMs, note: 'no metric judge configured: the hosts\' health checks were the only evidence' }] };
  };
}
