/**
 * The DeploymentStore (src/deploy/store-port.ts) over SQLite or PostgreSQL: deployments, their
 * write-ahead journal, fenced leases and operator requests (tables of migration 0005).
 *
 * Every write is one transaction (`runWrite`) that first locks the lease row it is fenced by and
 * checks holder and token there, so a stale holder is refused (RW_LEASE) even when it races its
 * successor: on SQLite the transaction is `BEGIN IMMEDIATE` (the whole database's write lock is
 * taken before anything is read); on PostgreSQL the lease row is read `FOR UPDATE`, so an
 * acquisition and a fenced write of the same lease run one after the other. A journal append
 * then takes its seqs by incrementing `deployments.last_seq` (a row lock on PostgreSQL): seqs
 * grow by one per entry with no gap, also between writers fenced by different leases (host
 * scopes), and a refused or failed append consumes none, because it rolls back with the rest.
 *
 * Time is the store's: on PostgreSQL the database's clock (`clock_timestamp()`, read after the
 * lease row is locked, so that waiting for the lock does not age it; `now()` would be the
 * transaction's start), so controllers on several machines share one clock; on SQLite, whose
 * writers are processes on one machine, this process's clock. Journal times, lease expiries and
 * request times all come from it.
 *
 * Sharing the host work later (several controllers on one PostgreSQL): the deployment's
 * controller keeps the `deployment` lease and enqueues one job per host of a wave (pg-boss, in
 * the same database; a job's singleton key `deployment/host` keeps it unique). A worker that
 * takes a job acquires the `host:NAME` lease of that deployment and appends that host's
 * `started`/`ended` entries fenced by it (`appendJournal(..., fence, 'host:NAME')`); the journal,
 * its keys and its seqs stay as they are, since seqs are assigned per deployment whichever
 * lease fences the write. A worker that dies loses its host lease at expiry; pg-boss retries the
 * job, the next worker's acquisition raises the token (the dead worker's late writes are
 * refused) and it reconciles the host from the journal (started, never ended) as `deploy
 * resume` does. The controller reads wave progress from the journal, not from the queue.
 */
import { sql, type Kysely } from 'kysely';
import { RollwiseError } from '../shared/index.js';
import type { DeploymentListEntry, DeploymentRecord, DeploymentStatus, DeploymentStore, JournalEntry, LeaseFence } from '../deploy/index.js';
import type { DeploymentJournalTable, DeploymentLeasesTable, DeploymentsTable, StoreDatabase } from './schema.js';
import { driverCode, storeError } from './errors.js';
import { isMissingTable, runWrite, type SqlBackend } from './sql-backend.js';
import {
  checkEntries, checkStatus, checkTtl, decideAcquire, DEPLOYMENT_SCOPE, deploymentExists, duplicateEntry, fenceHolds, isoAt, leaseLost, noDeployment, onceKey, type LeaseState,
} from './deployment-rules.js';

/** The DeploymentStore methods that write (refused by a read-only store). */
export const DEPLOYMENT_WRITES = ['createDeployment', 'setDeploymentStatus', 'appendJournal', 'acquireLease', 'renewLease', 'releaseLease', 'requestControl', 'clearControl'] as const;
export type DeploymentWrite = (typeof DEPLOYMENT_WRITES)[number];

/** The reads of a store that has no deployment tables (an empty database): nothing there. */
export const DEPLOYMENT_READS_OF_EMPTY_STORE: Omit<DeploymentStore, DeploymentWrite> = {
  getDeployment: async () => undefined,
  findDeploymentIds: async () => [],
  listDeployments: async () => [],
  readJournal: async () => [],
  readControl: async () => undefined,
  readLease: async () => undefined,
};

/** Every write method replaced by `refuse`. */
export function refusedDeploymentWrites(refuse: () => Promise<never>): Pick<DeploymentStore, DeploymentWrite> {
  return { createDeployment: refuse, setDeploymentStatus: refuse, appendJournal: refuse, acquireLease: refuse, renewLease: refuse, releaseLease: refuse, requestControl: refuse, clearControl: refuse };
}

const INSERT_BATCH = 100;

function leaseOf(row: Pick<DeploymentLeasesTable, 'holder' | 'token' | 'expires_at'> | undefined): LeaseState | undefined {
  return row ? { holder: row.holder ?? undefined, token: Number(row.token), expiresAt: row.expires_at } : undefined;
}

function recordOf(r: DeploymentsTable): DeploymentRecord {
  return {
    id: r.id, planId: r.plan_id, planVersion: Number(r.plan_version), createdAt: r.created_at, createdBy: r.created_by, status: r.status as DeploymentStatus,
    ...(r.status_reason !== null ? { statusReason: r.status_reason } : {}), updatedAt: r.updated_at, spec: JSON.parse(r.spec) as unknown,
  };
}

function entryOf(r: DeploymentJournalTable): JournalEntry {
  return {
    deployment: r.deployment, seq: Number(r.seq), at: r.at, kind: r.kind as JournalEntry['kind'], key: r.key, phase: r.phase as JournalEntry['phase'],
    ...(r.host !== null ? { host: r.host } : {}), ...(r.wave !== null ? { wave: Number(r.wave) } : {}),
    ...(r.outcome !== null ? { outcome: r.outcome as NonNullable<JournalEntry['outcome']> } : {}), body: JSON.parse(r.body) as unknown,
  };
}

function isUniqueViolation(e: unknown): boolean {
  const c = driverCode(e);
  return c === '23505' || c === 'SQLITE_CONSTRAINT_UNIQUE' || c === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function createSqlDeploymentStore(b: SqlBackend): DeploymentStore {
  const { db } = b;
  const guard = async <T>(doing: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw storeError(e, b.where, doing, { busyForMs: b.retryForMs });
    }
  };
  /** A read of a table a store from before 0005 lacks (read-only commands do not upgrade it). */
  const read = <T>(doing: string, table: string, absent: T, fn: () => Promise<T>): Promise<T> => guard(doing, async () => {
    try {
      return await fn();
    } catch (e) {
      if (isMissingTable(e, table)) return absent;
      throw e;
    }
  });
  /** The store's clock, in ms (see the header). */
  const clock = async (trx: Kysely<StoreDatabase>): Promise<number> => {
    if (b.dialect === 'sqlite') return Date.now();
    const r = await sql<{ ms: number | string }>`select floor(extract(epoch from clock_timestamp()) * 1000)::float8 as ms`.execute(trx);
    return Number(r.rows[0]!.ms);
  };
  const exists = async (trx: Kysely<StoreDatabase>, id: string): Promise<boolean> =>
    (await trx.selectFrom('deployments').select(['id']).where('id', '=', id).executeTakeFirst()) !== undefined;
  /** The lease row, locked until the transaction ends (on SQLite the write lock already is). */
  const lockLease = async (trx: Kysely<StoreDatabase>, id: string, scope: string): Promise<LeaseState | undefined> =>
    leaseOf(await trx.selectFrom('deployment_leases').select(['holder', 'token', 'expires_at']).where('deployment', '=', id).where('scope', '=', scope)
      .$if(b.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirst());
  /** Refuses the transaction's write unless `fence` holds the lease of `scope`. */
  const checkFence = async (trx: Kysely<StoreDatabase>, id: string, scope: string, fence: LeaseFence, doing: string): Promise<void> => {
    const lease = await lockLease(trx, id, scope);
    if (fenceHolds(lease, fence)) return;
    if (!lease && !(await exists(trx, id))) throw noDeployment(id);
    throw leaseLost(id, scope, fence, lease, doing);
  };

  return {
    async createDeployment(d) {
      checkStatus(d.status);
      return guard(`creating deployment ${d.id}`, async () => {
        try {
          await runWrite(b, async (trx) => {
            if (await exists(trx, d.id)) throw deploymentExists(d.id);
            await trx.insertInto('deployments').values({
              id: d.id, plan_id: d.planId, plan_version: d.planVersion, created_at: d.createdAt, created_by: d.createdBy, status: d.status,
              status_reason: d.statusReason ?? null, updated_at: d.updatedAt, spec: JSON.stringify(d.spec ?? null), last_seq: 0,
            }).execute();
          });
        } catch (e) {
          // another process created it between the check and the insert (PostgreSQL)
          if (isUniqueViolation(e)) throw deploymentExists(d.id);
          throw e;
        }
      });
    },
    getDeployment(id) {
      return read(`reading deployment ${id}`, 'deployments', undefined, async () => {
        const r = await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
        return r ? recordOf(r) : undefined;
      });
    },
    findDeploymentIds(prefix) {
      return read('looking up deployment ids', 'deployments', [], async () =>
        // an exact, case-sensitive prefix (LIKE is case-blind on SQLite and treats % and _ as patterns)
        (await db.selectFrom('deployments').select(['id']).where(sql<boolean>`substr(id, 1, ${[...prefix].length}) = ${prefix}`).orderBy('id').execute()).map((r) => r.id));
    },
    listDeployments(planId) {
      return read('listing deployments', 'deployments', [], async () => {
        const rows = await db.selectFrom('deployments').select(['id', 'plan_id', 'plan_version', 'created_at', 'status'])
          .$if(planId !== undefined, (q) => q.where('plan_id', '=', planId!)).orderBy('created_at').orderBy('id').execute();
        return rows.map((r): DeploymentListEntry => ({ id: r.id, planId: r.plan_id, planVersion: Number(r.plan_version), createdAt: r.created_at, status: r.status as DeploymentStatus }));
      });
    },
    async setDeploymentStatus(id, status, fence, reason) {
      checkStatus(status);
      return guard(`setting deployment ${id} ${status}`, () => runWrite(b, async (trx) => {
        await checkFence(trx, id, DEPLOYMENT_SCOPE, fence, `setting the status ${status}`);
        const at = isoAt(await clock(trx));
        await trx.updateTable('deployments').set({ status, status_reason: reason ?? null, updated_at: at }).where('id', '=', id).execute();
      }));
    },
    async appendJournal(id, entries, fence, scope = DEPLOYMENT_SCOPE) {
      checkEntries(id, entries);
      if (entries.length === 0) return [];
      return guard(`appending to the journal of deployment ${id}`, async () => {
        try {
          return await runWrite(b, async (trx) => {
            await checkFence(trx, id, scope, fence, `appending ${entries.length} journal entr${entries.length === 1 ? 'y' : 'ies'}`);
            const once = entries.filter((e) => e.phase !== 'event');
            const wanted = new Set(once.map((e) => onceKey(e.key, e.phase)));
            for (let i = 0; i < once.length; i += INSERT_BATCH) {
              const keys = [...new Set(once.slice(i, i + INSERT_BATCH).map((e) => e.key))];
              const there = await trx.selectFrom('deployment_journal').select(['key', 'phase', 'seq']).where('deployment', '=', id).where('key', 'in', keys).where('phase', '<>', 'event').orderBy('seq').execute();
              const dup = there.find((r) => wanted.has(onceKey(r.key, r.phase)));
              if (dup) throw duplicateEntry(id, dup.key, dup.phase, entries.length, `already (seq ${dup.seq})`);
            }
            const bumped = await trx.updateTable('deployments').set((eb) => ({ last_seq: eb('last_seq', '+', entries.length) })).where('id', '=', id).returning(['last_seq']).executeTakeFirstOrThrow();
            const first = Number(bumped.last_seq) - entries.length + 1;
            const at = isoAt(await clock(trx));
            const rows: DeploymentJournalTable[] = entries.map((e, i) => ({
              deployment: id, seq: first + i, kind: e.kind, key: e.key, phase: e.phase, host: e.host ?? null, wave: e.wave ?? null, outcome: e.outcome ?? null, body: JSON.stringify(e.body ?? null), at,
            }));
            for (let i = 0; i < rows.length; i += INSERT_BATCH) await trx.insertInto('deployment_journal').values(rows.slice(i, i + INSERT_BATCH)).execute();
            return rows.map(entryOf);
          });
        } catch (e) {
          // a writer fenced by another lease stored the same started/ended key after the check
          if (isUniqueViolation(e)) throw duplicateEntry(id, entries.filter((x) => x.phase !== 'event').map((x) => x.key).join(', '), 'started or ended', entries.length, 'stored by another writer meanwhile');
          throw e;
        }
      });
    },
    readJournal(id, options = {}) {
      return read(`reading the journal of deployment ${id}`, 'deployment_journal', [], async () => {
        const rows = await db.selectFrom('deployment_journal').selectAll().where('deployment', '=', id)
          .$if(options.afterSeq !== undefined, (q) => q.where('seq', '>', options.afterSeq!))
          .$if(options.host !== undefined, (q) => q.where('host', '=', options.host!))
          .orderBy('seq').execute();
        return rows.map(entryOf);
      });
    },
    async acquireLease(id, holder, ttlMs, scope = DEPLOYMENT_SCOPE) {
      checkTtl(ttlMs);
      return guard(`acquiring the ${scope} lease of deployment ${id}`, () => runWrite(b, async (trx) => {
        let lease = await lockLease(trx, id, scope);
        if (!lease) {
          if (!(await exists(trx, id))) throw noDeployment(id);
          // a first acquisition: the row appears (once, whoever inserts first) and is then locked
          await trx.insertInto('deployment_leases').values({ deployment: id, scope, holder: null, token: 0, expires_at: '' }).onConflict((oc) => oc.columns(['deployment', 'scope']).doNothing()).execute();
          lease = await lockLease(trx, id, scope);
        }
        const { next, result } = decideAcquire(lease, holder, await clock(trx), ttlMs);
        if (next) {
          await trx.updateTable('deployment_leases').set({ holder: next.holder ?? null, token: next.token, expires_at: next.expiresAt }).where('deployment', '=', id).where('scope', '=', scope).execute();
        }
        return result;
      }));
    },
    async renewLease(id, fence, ttlMs, scope = DEPLOYMENT_SCOPE) {
      checkTtl(ttlMs);
      return guard(`renewing the ${scope} lease of deployment ${id}`, () => runWrite(b, async (trx) => {
        const lease = await lockLease(trx, id, scope);
        if (!fenceHolds(lease, fence)) {
          if (!lease && !(await exists(trx, id))) throw noDeployment(id);
          return false;
        }
        const expiresAt = isoAt((await clock(trx)) + ttlMs);
        await trx.updateTable('deployment_leases').set({ expires_at: expiresAt }).where('deployment', '=', id).where('scope', '=', scope).execute();
        return true;
      }));
    },
    releaseLease(id, fence, scope = DEPLOYMENT_SCOPE) {
      return guard(`releasing the ${scope} lease of deployment ${id}`, () => runWrite(b, async (trx) => {
        if (!fenceHolds(await lockLease(trx, id, scope), fence)) return;
        const now = isoAt(await clock(trx));
        await trx.updateTable('deployment_leases').set({ holder: null, expires_at: now }).where('deployment', '=', id).where('scope', '=', scope).execute();
      }));
    },
    requestControl(id, action, by) {
      if (action !== 'pause' && action !== 'abort') throw new RollwiseError('RW_USAGE', `unknown request '${String(action)}'`, { hint: 'pause or abort' });
      return guard(`requesting ${action} of deployment ${id}`, () => runWrite(b, async (trx) => {
        // requests of one deployment one after the other (the deployment row locked), so that a
        // pause never overwrites an abort stored meanwhile
        const row = await trx.selectFrom('deployments').select(['id']).where('id', '=', id).$if(b.dialect === 'postgres', (q) => q.forNoKeyUpdate()).executeTakeFirst();
        if (!row) throw noDeployment(id);
        const pending = await trx.selectFrom('deployment_controls').select(['action']).where('deployment', '=', id).executeTakeFirst();
        if (pending?.action === 'abort' && action === 'pause') return;
        const at = isoAt(await clock(trx));
        await trx.insertInto('deployment_controls').values({ deployment: id, action, requested_by: by, requested_at: at })
          .onConflict((oc) => oc.column('deployment').doUpdateSet({ action, requested_by: by, requested_at: at })).execute();
      }));
    },
    readLease(id, scope = DEPLOYMENT_SCOPE) {
      return read(`reading the ${scope} lease of deployment ${id}`, 'deployment_leases', undefined, async () => {
        const l = leaseOf(await db.selectFrom('deployment_leases').select(['holder', 'token', 'expires_at']).where('deployment', '=', id).where('scope', '=', scope).executeTakeFirst());
        return l ? { ...(l.holder !== undefined ? { holder: l.holder } : {}), expiresAt: l.expiresAt } : undefined;
      });
    },
    readControl(id) {
      return read(`reading the requests of deployment ${id}`, 'deployment_controls', undefined, async () => {
        const r = await db.selectFrom('deployment_controls').selectAll().where('deployment', '=', id).executeTakeFirst();
        return r ? { action: r.action as 'pause' | 'abort', by: r.requested_by, at: r.requested_at } : undefined;
      });
    },
    clearControl(id, fence, seen) {
      return guard(`clearing the requests of deployment ${id}`, () => runWrite(b, async (trx) => {
        await checkFence(trx, id, DEPLOYMENT_SCOPE, fence, 'clearing an operator request');
        await trx.deleteFrom('deployment_controls').where('deployment', '=', id)
          .$if(seen !== undefined, (q) => q.where('action', '=', seen!.action).where('requested_at', '=', seen!.at)).execute();
      }));
    },
  };
}
