/**
 * The PlanStore over any kysely database (SQLite by default, PostgreSQL with the same code).
 * Each plan version is written in one transaction: a process killed mid-write leaves no trace of it.
 */
import { Migrator, sql, type Kysely } from 'kysely';
import { RollwiseError } from '../shared/index.js';
import {
  formatRequest, PLAN_STATUSES,
  type AppliedChoice, type Plan, type PlanConflict, type PlanGroup, type PlanListEntry, type PlanRecord, type PlanRecordKind, type PlanResolutionEdit, type PlanStatus, type PlanStore,
} from '../planner/index.js';
import { MIGRATIONS, type StoreDatabase, type StoreMigration } from './schema.js';
import type { DeploymentHistoryEntry, HistoryStore } from '../analysis/index.js';
import type { DeploymentStore } from '../deploy/index.js';
import { describeStore, driverCode, storeError } from './errors.js';
import { isMissingTable, retriable, runWrite, sleep, type SqlBackend } from './sql-backend.js';
import { createSqlDeploymentStore, DEPLOYMENT_READS_OF_EMPTY_STORE, refusedDeploymentWrites } from './sql-deployment-store.js';

/**
 * Everything Rollwise keeps: plans and their records (the planner's port), deployment history
 * (the analysis's), deployments with their journal, leases and operator requests (the deploy's).
 */
export type RollwiseStore = PlanStore & HistoryStore & DeploymentStore;

/** What a database holds, seen from Rollwise. */
export type SchemaState =
  | { kind: 'empty' }
  | { kind: 'foreign'; tables: string[] }
  | { kind: 'rollwise'; applied: string[]; pending: string[]; unknown: string[] };

/**
 * Reads (never writes) which tables and applied migrations a database has: empty (nothing, or
 * only kysely's bookkeeping with no migration applied), foreign (another program's tables), or a
 * Rollwise store with its pending migrations and those this code does not know (a newer store).
 */
export async function inspectSchema(db: Kysely<StoreDatabase>, dialect: SqlBackend['dialect'], migrations: Record<string, StoreMigration> = MIGRATIONS): Promise<SchemaState> {
  // one catalogue query (kysely's introspection reads every column of every table, which
  // costs more than the rest of opening a store)
  const tables = dialect === 'sqlite'
    ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)).rows.map((r) => r.name)
    : (await sql<{ name: string }>`select tablename as name from pg_catalog.pg_tables where schemaname = any (current_schemas(false))`.execute(db)).rows.map((r) => r.name);
  const applied = tables.includes('kysely_migration') ? (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db)).rows.map((r) => r.name) : [];
  const known = Object.keys(migrations).sort();
  const others = tables.filter((t) => t !== 'kysely_migration' && t !== 'kysely_migration_lock');
  if (!applied.some((n) => known.includes(n))) {
    return others.length === 0 && applied.length === 0 ? { kind: 'empty' } : { kind: 'foreign', tables: others.length ? others : tables };
  }
  return { kind: 'rollwise', applied, pending: known.filter((n) => !applied.includes(n)), unknown: applied.filter((n) => !known.includes(n)) };
}

export function foreignStoreError(where: string, tables: string[]): RollwiseError {
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', …' : '');
  return new RollwiseError('RW_STORE', `${describeStore(where)} is not a Rollwise store: it holds other tables (${shown}) and no plans`, {
    hint: '--store names the database rollwise writes its plans to (default .rollwise/rollwise.db under the working directory); rollwise never changes another program\'s database',
  });
}

export function newerStoreError(where: string, unknown: string[]): RollwiseError {
  return new RollwiseError('RW_STORE', `the store ${describeStore(where)} was written by a newer rollwise (schema migrations this version does not know: ${unknown.join(', ')})`, {
    hint: 'use the rollwise version that wrote it, or a newer one',
  });
}

/** Refuses what no writer may touch: another program's database, or a store newer than this code. */
export function assertWritableSchema(where: string, state: SchemaState): void {
  if (state.kind === 'foreign') throw foreignStoreError(where, state.tables);
  if (state.kind === 'rollwise' && state.unknown.length > 0) throw newerStoreError(where, state.unknown);
}

/**
 * Refuses what read-only commands cannot read: another program's database, a newer store, or an
 * older one lacking a migration reads depend on (read-only commands never migrate; a writing
 * command upgrades it). Returns false when there is nothing to read yet (an empty database).
 */
export function assertReadableSchema(where: string, state: SchemaState, migrations: Record<string, StoreMigration>): boolean {
  if (state.kind === 'empty') return false;
  assertWritableSchema(where, state);
  if (state.kind !== 'rollwise') return false;
  const needed = state.pending.filter((n) => migrations[n]?.requiredForReading !== false);
  if (needed.length > 0) {
    throw new RollwiseError('RW_STORE', `the store ${describeStore(where)} has an older schema (missing ${needed.join(', ')}); read-only commands do not upgrade it`, {
      hint: 'run a writing command on it once (rollwise plan ..., plan resolve or plan approve with the same --store) to upgrade it, then read it',
    });
  }
  return true;
}

async function runMigrator(b: SqlBackend, db: Kysely<StoreDatabase>, migrations: Record<string, StoreMigration>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    // contention is retried by the caller; anything else names the migration that failed
    if (retriable(b, error) || driverCode(error) === '23505' || driverCode(error) === '42P07') throw error;
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw storeError(error, b.where, `the schema migration ${failed ?? ''}`.trimEnd());
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Brings the schema to the newest version, safely when several processes open a fresh or old
 * store at once; returns the migrations this call applied (none when another process did).
 * SQLite: kysely's Migrator takes no lock there (it assumes one connection per database), so it
 * runs inside one `BEGIN IMMEDIATE` transaction: the schema is read again once the write lock is
 * held, and a failed migration leaves nothing behind (SQLite's DDL is transactional).
 * PostgreSQL: the Migrator holds an advisory lock and a transaction; the few races it leaves
 * (two `create table if not exists` of its bookkeeping) are run again until `retryForMs`.
 */
export async function migrateToLatest(b: SqlBackend, migrations: Record<string, StoreMigration> = MIGRATIONS): Promise<string[]> {
  const state = await inspectSchema(b.db, b.dialect, migrations);
  assertWritableSchema(b.where, state);
  if (state.kind === 'rollwise' && state.pending.length === 0) return [];
  if (b.dialect === 'sqlite') {
    return runWrite(b, async (trx) => {
      const locked = await inspectSchema(trx, b.dialect, migrations);
      assertWritableSchema(b.where, locked);
      if (locked.kind === 'rollwise' && locked.pending.length === 0) return [];
      return runMigrator(b, trx, migrations);
    });
  }
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await runMigrator(b, b.db, migrations);
    } catch (e) {
      const now = await inspectSchema(b.db, b.dialect, migrations);
      if (now.kind === 'rollwise' && now.pending.length === 0 && now.unknown.length === 0) return [];
      if (e instanceof RollwiseError || Date.now() - started >= b.retryForMs) throw e;
      await sleep(Math.min(250, 10 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
    }
  }
}

const GROUP_BATCH = 200;

type StoredChoice = AppliedChoice & { description?: string };
type StoredConflict = Omit<PlanConflict, 'explanation' | 'resolutions'> & {
  explanation: PlanConflict['explanation'] | string[];
  resolutions: Array<Omit<PlanConflict['resolutions'][number], 'edit'> & { edit?: PlanResolutionEdit | unknown; description?: string }>;
};

/**
 * Plans stored before explanations and resolutions were data (explanation lines, resolution
 * descriptions) are read back in today's shape: each line a `text` fact, each description a
 * `described` edit. Nothing is rewritten in the store.
 */
function choiceOf(c: StoredChoice): AppliedChoice {
  if (c.edit) return c;
  const { description, ...rest } = c;
  return { ...rest, edit: { kind: 'described', description: description ?? '' } };
}

function conflictOf(c: StoredConflict): PlanConflict {
  const explanation = Array.isArray(c.explanation)
    ? { facts: c.explanation.map((text, i) => ({ kind: 'text' as const, key: `text:${i}:${text}`, text })), minimal: true }
    : c.explanation;
  const resolutions = c.resolutions.map(({ description, edit, ...r }) => ({
    ...r,
    edit: edit && typeof edit === 'object' && 'kind' in edit ? (edit as PlanResolutionEdit) : { kind: 'described' as const, description: description ?? '' },
  }));
  return { ...c, explanation, resolutions };
}

/**
 * The PlanStore over a SQL back end. Every write is one transaction (`runWrite`), checks what it
 * depends on inside that transaction, and every failure reaches the caller as a RollwiseError.
 */
export function createSqlPlanStore(b: SqlBackend): RollwiseStore {
  return { ...createSqlDeploymentStore(b), ...createSqlPlansAndHistory(b) };
}

function createSqlPlansAndHistory(b: SqlBackend): PlanStore & HistoryStore {
  const { db } = b;
  const fail = (e: unknown, doing: string): RollwiseError => storeError(e, b.where, doing, { busyForMs: b.retryForMs });
  const guard = async <T>(doing: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw fail(e, doing);
    }
  };
  const latestVersion = async (trx: Kysely<StoreDatabase>, id: string): Promise<number | undefined> =>
    (await trx.selectFrom('plans').select(['latest_version']).where('id', '=', id).executeTakeFirst())?.latest_version;

  return {
    savePlan(plan, options = {}) {
      return guard(`saving plan ${plan.id} v${plan.version}`, () => runWrite(b, async (trx) => {
        if (options.supersede) {
          // The parent is marked superseded only if no one did it first: of two processes that
          // resolve the same version, the second finds it superseded here and stores nothing.
          const { id, version } = options.supersede;
          const r = await trx.updateTable('plan_versions').set({ status: 'superseded' })
            .where('plan_id', '=', id).where('version', '=', version).where('status', '<>', 'superseded').executeTakeFirst();
          if (Number(r.numUpdatedRows) !== 1) {
            const exists = await trx.selectFrom('plan_versions').select(['status']).where('plan_id', '=', id).where('version', '=', version).executeTakeFirst();
            if (!exists) throw new RollwiseError('RW_NOT_FOUND', `no plan ${id} v${version} to supersede`, { hint: 'rollwise plan list shows the stored plans' });
            const latest = await latestVersion(trx, id);
            throw new RollwiseError('RW_STORE', `plan ${id} v${version} was already superseded by v${latest} (another resolve or review saved first); v${plan.version} was not stored`, {
              hint: `rollwise plan show ${id} shows v${latest}; resolve that version if it still has conflicts`,
            });
          }
        }
        const inserted = await trx.insertInto('plans').values({ id: plan.id, created_at: plan.createdAt, latest_version: plan.version })
          .onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) {
          const updated = await trx.updateTable('plans').set({ latest_version: plan.version })
            .where('id', '=', plan.id).where('latest_version', '<', plan.version).executeTakeFirst();
          if (Number(updated.numUpdatedRows) !== 1) {
            throw new RollwiseError('RW_STORE', `plan ${plan.id} already has version ${await latestVersion(trx, plan.id)}`, { hint: `rollwise plan show ${plan.id} shows it` });
          }
        }
        await trx.insertInto('plan_versions').values({
          plan_id: plan.id, version: plan.version, status: plan.status, created_at: plan.createdAt,
          request_text: formatRequest(plan.inputs.request),
          origin: JSON.stringify(plan.origin), inputs: JSON.stringify(plan.inputs), summary: JSON.stringify(plan.summary),
          conflicts: JSON.stringify(plan.conflicts), fleet_findings: JSON.stringify(plan.fleetFindings), group_count: plan.groups.length,
        }).execute();
        for (let i = 0; i < plan.groups.length; i += GROUP_BATCH) {
          const rows = plan.groups.slice(i, i + GROUP_BATCH).map((g, j) => ({ plan_id: plan.id, version: plan.version, ordinal: i + j, group_key: g.key, body: JSON.stringify(g) }));
          await trx.insertInto('plan_groups').values(rows).execute();
        }
      }));
    },
    getPlan(id, version) {
      return guard(`reading plan ${id}`, async () => {
        const v = await db.selectFrom('plan_versions').selectAll().where('plan_id', '=', id)
          .$if(version !== undefined, (q) => q.where('version', '=', version!))
          .orderBy('version', 'desc').limit(1).executeTakeFirst();
        if (!v) return undefined;
        const rows = await db.selectFrom('plan_groups').select(['body']).where('plan_id', '=', id).where('version', '=', v.version).orderBy('ordinal').execute();
        if (rows.length !== v.group_count) throw new RollwiseError('RW_STORE', `plan ${id} v${v.version} is incomplete (${rows.length} of ${v.group_count} groups)`, { hint: 'the store is damaged; restore it from a backup, or plan again' });
        const origin = JSON.parse(v.origin) as Plan['origin'];
        return {
          id, version: v.version, status: v.status as PlanStatus, createdAt: v.created_at,
          ...(v.approved_by && v.approved_at ? { approval: { by: v.approved_by, at: v.approved_at } } : {}),
          origin: origin.kind === 'resolution' ? { ...origin, choices: origin.choices.map(choiceOf) } : origin,
          inputs: JSON.parse(v.inputs) as Plan['inputs'], summary: JSON.parse(v.summary) as Plan['summary'],
          conflicts: (JSON.parse(v.conflicts) as StoredConflict[]).map(conflictOf), fleetFindings: JSON.parse(v.fleet_findings) as Plan['fleetFindings'],
          groups: rows.map((r) => {
            const g = JSON.parse(r.body) as PlanGroup;
            return { ...g, choices: g.choices.map(choiceOf) };
          }),
        };
      });
    },
    findPlanIds(prefix) {
      return guard('looking up plan ids', async () => {
        const rows = await db.selectFrom('plans').select(['id']).where('id', 'like', `${prefix.replace(/[%_\\]/g, '')}%`).orderBy('id').execute();
        return rows.map((r) => r.id);
      });
    },
    listPlans() {
      return guard('listing plans', async () => {
        const rows = await db.selectFrom('plan_versions').select(['plan_id', 'version', 'status', 'created_at', 'request_text', 'summary', 'conflicts'])
          .orderBy('created_at').orderBy('plan_id').orderBy('version').execute();
        return rows.map((r): PlanListEntry => {
          const s = JSON.parse(r.summary) as Plan['summary'];
          return { id: r.plan_id, version: r.version, status: r.status as PlanStatus, createdAt: r.created_at, request: r.request_text, hosts: s.hosts, groups: s.groups, conflicts: (JSON.parse(r.conflicts) as unknown[]).length };
        });
      });
    },
    async setStatus(id, version, status, approval) {
      if (!PLAN_STATUSES.includes(status)) throw new RollwiseError('RW_USAGE', `unknown status '${status}'`, { hint: `one of ${PLAN_STATUSES.join(', ')}` });
      return guard(`setting plan ${id} v${version} ${status}`, () => runWrite(b, async (trx) => {
        // a version superseded meanwhile (a resolve saved after this command read it) stays so
        const r = await trx.updateTable('plan_versions').set({ status, ...(approval ? { approved_by: approval.by, approved_at: approval.at } : {}) }).where('plan_id', '=', id).where('version', '=', version).where('status', '<>', 'superseded').executeTakeFirst();
        if (Number(r.numUpdatedRows) === 1) return;
        const exists = await trx.selectFrom('plan_versions').select(['status']).where('plan_id', '=', id).where('version', '=', version).executeTakeFirst();
        if (!exists) throw new RollwiseError('RW_NOT_FOUND', `no plan ${id} v${version}`, { hint: 'rollwise plan list shows the stored plans' });
        const latest = await latestVersion(trx, id);
        throw new RollwiseError('RW_STORE', `plan ${id} v${version} was superseded by v${latest} meanwhile; it cannot become ${status}`, { hint: `rollwise plan show ${id} shows v${latest}` });
      }));
    },
    addRecord(id, version, record) {
      return guard(`recording ${record.kind} for plan ${id} v${version}`, () => runWrite(b, async (trx) => {
        const exists = await trx.selectFrom('plan_versions').select(['version']).where('plan_id', '=', id).where('version', '=', version).executeTakeFirst();
        if (!exists) throw new RollwiseError('RW_NOT_FOUND', `no plan ${id} v${version}`, { hint: 'rollwise plan list shows the stored plans' });
        const last = await trx.selectFrom('plan_records').select((eb) => eb.fn.max('seq').as('seq')).where('plan_id', '=', id).where('version', '=', version).executeTakeFirst();
        const seq = Number(last?.seq ?? 0) + 1;
        await trx.insertInto('plan_records').values({ plan_id: id, version, seq, kind: record.kind, created_at: record.createdAt, body: JSON.stringify(record.body) }).execute();
      }));
    },
    getRecords(id, version, kind) {
      return guard(`reading the records of plan ${id} v${version}`, async () => {
        try {
          const rows = await db.selectFrom('plan_records').select(['kind', 'created_at', 'body']).where('plan_id', '=', id).where('version', '=', version)
            .$if(kind !== undefined, (q) => q.where('kind', '=', kind!)).orderBy('seq').execute();
          return rows.map((r): PlanRecord => ({ kind: r.kind as PlanRecordKind, createdAt: r.created_at, body: JSON.parse(r.body) as unknown }));
        } catch (e) {
          // a store from before records (read-only commands do not upgrade it) has none
          if (isMissingTable(e, 'plan_records')) return [];
          throw e;
        }
      });
    },
    addHistory(entries, source) {
      return guard('recording deployment history', () => runWrite(b, async (trx) => {
        let added = 0;
        for (const e of entries) {
          const r = await trx.insertInto('deployment_history').values({ package: e.package, change: e.change, jump: e.jump ?? null, outcome: e.outcome, at: e.at, host: e.host ?? '', source })
            .onConflict((oc) => oc.columns(['package', 'change', 'outcome', 'at', 'host']).doNothing()).executeTakeFirst();
          added += Number(r.numInsertedOrUpdatedRows ?? 0n);
        }
        return { added, already: entries.length - added };
      }));
    },
    getHistory(packages) {
      return guard('reading deployment history', async () => {
        try {
          const rows = await db.selectFrom('deployment_history').selectAll()
            .$if(packages !== undefined, (q) => (packages!.length ? q.where('package', 'in', [...packages!]) : q.where(sql<boolean>`1 = 0`)))
            .orderBy('at').orderBy('package').execute();
          return rows.map((r): DeploymentHistoryEntry => ({
            package: r.package, change: r.change as DeploymentHistoryEntry['change'], ...(r.jump ? { jump: r.jump as NonNullable<DeploymentHistoryEntry['jump']> } : {}),
            outcome: r.outcome as DeploymentHistoryEntry['outcome'], at: r.at, ...(r.host ? { host: r.host } : {}),
          }));
        } catch (e) {
          if (isMissingTable(e, 'deployment_history')) return [];
          throw e;
        }
      });
    },
    close: () => b.close(),
  };
}

/**
 * The store for read-only commands: reads only; a write is a programming error, reported as
 * RW_STORE rather than attempted.
 */
export function readOnlyPlanStore(store: RollwiseStore, where: string): RollwiseStore {
  const refuse = async (): Promise<never> => {
    throw new RollwiseError('RW_STORE', `the store ${describeStore(where)} was opened read-only`, { hint: 'open it with openStore() to write' });
  };
  return { ...store, ...refusedDeploymentWrites(refuse), savePlan: refuse, setStatus: refuse, addRecord: refuse, addHistory: refuse };
}

/** An existing database with no Rollwise tables yet (being created, or empty): no plans in it. */
export function emptyPlanStore(where: string, close: () => Promise<void>): RollwiseStore {
  return readOnlyPlanStore({
    savePlan: async () => undefined,
    getPlan: async () => undefined,
    findPlanIds: async () => [],
    listPlans: async () => [],
    setStatus: async () => undefined,
    addRecord: async () => undefined,
    getRecords: async () => [],
    addHistory: async () => ({ added: 0, already: 0 }),
    getHistory: async () => [],
    ...DEPLOYMENT_READS_OF_EMPTY_STORE,
    // replaced by readOnlyPlanStore's refusal
    ...refusedDeploymentWrites(async () => undefined as never),
    close,
  }, where);
}
