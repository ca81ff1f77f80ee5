/**
 * One opened SQL store (SQLite or PostgreSQL through kysely) and the one way to write to it: a
 * transaction that is all or nothing and is run again when refused for contention. Shared by the
 * plan, history and deployment stores.
 */
import { sql, type Kysely } from 'kysely';
import type { StoreDatabase } from './schema.js';
import { driverCode, isBusy, isRetriablePostgres } from './errors.js';

/**
 * One opened store as the plan store sees it: the kysely database plus what differs between
 * SQLite and PostgreSQL when several processes share it.
 */
export interface SqlBackend {
  /** The store as the user named it (file or URL), for messages. */
  readonly where: string;
  readonly db: Kysely<StoreDatabase>;
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Whether the connection is still inside a transaction after an error. SQLite may end a
   * transaction itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY, SQLITE_NOMEM): a
   * ROLLBACK then fails with "no transaction is active" and would hide the real error.
   */
  inTransaction(): boolean;
  /** How long a write refused for contention is tried again (ms), beyond the driver's own wait. */
  readonly retryForMs: number;
  close(): Promise<void>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Retrying is safe only for errors after which nothing of the transaction was committed. */
export function retriable(b: SqlBackend, e: unknown): boolean {
  return b.dialect === 'sqlite' ? isBusy(e) : isRetriablePostgres(e);
}

/**
 * Runs `fn` in one write transaction, all of it or nothing. On SQLite it is `BEGIN IMMEDIATE`:
 * the write lock is taken (waiting up to the busy timeout) before anything is read, so a read
 * can never have to become a write while another process writes (that fails at once with
 * SQLITE_BUSY, whatever the timeout). Refused for contention, the whole transaction runs again
 * until `retryForMs`; any other error is rethrown as it was (after a rollback, if one is due).
 */
export async function runWrite<T>(b: SqlBackend, fn: (trx: Kysely<StoreDatabase>) => Promise<T>): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await b.db.connection().execute(async (conn) => {
        await sql.raw(b.dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
        try {
          const result = await fn(conn);
          await sql`commit`.execute(conn);
          return result;
        } catch (e) {
          if (b.inTransaction()) {
            try {
              await sql`rollback`.execute(conn);
            } catch {
              // the error that ended the transaction is the one to report
            }
          }
          throw e;
        }
      });
    } catch (e) {
      if (!retriable(b, e) || Date.now() - started >= b.retryForMs) throw e;
      // jittered backoff, so that processes woken together do not collide again
      await sleep(Math.min(250, 10 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
    }
  }
}

/** Whether `e` says a table is missing (a store from before it, opened by a read-only command). */
export function isMissingTable(e: unknown, table: string): boolean {
  return driverCode(e) === '42P01' || (e instanceof Error && e.message.includes(`no such table: ${table}`));
}
