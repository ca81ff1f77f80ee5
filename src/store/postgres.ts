/**
 * The PlanStore on PostgreSQL (same tables and migrations as SQLite, through kysely's
 * PostgresDialect). Writers migrate under kysely's advisory lock; readers run in read-only
 * transactions and never migrate.
 */
import { Kysely, PostgresDialect } from 'kysely';
import { RollwiseError } from '../shared/index.js';
import {
  assertReadableSchema, createSqlPlanStore, emptyPlanStore, inspectSchema, migrateToLatest, readOnlyPlanStore, type RollwiseStore,
} from './sql-plan-store.js';
import type { SqlBackend } from './sql-backend.js';
import { MIGRATIONS, type StoreDatabase, type StoreMigration } from './schema.js';
import { describeStore, driverCode, storeError } from './errors.js';

export interface PostgresStoreOptions {
  /** `write` (default): migrated to the newest schema; `read`: read-only transactions, never migrated. */
  access?: 'write' | 'read';
  /** How long a write refused for contention (serialization failure, deadlock) is tried again, ms. */
  retryForMs?: number;
  /** The schema migrations (tests add some); default MIGRATIONS. */
  migrations?: Record<string, StoreMigration>;
}

export async function openPostgresPlanStore(connectionString: string, options: PostgresStoreOptions = {}): Promise<RollwiseStore> {
  const read = options.access === 'read';
  const migrations = options.migrations ?? MIGRATIONS;
  // loaded on use: a command that never opens a PostgreSQL store does not pay for the driver
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString, max: 4, ...(read ? { options: '-c default_transaction_read_only=on' } : {}) });
  // an idle client that loses its connection must not crash the process
  pool.on('error', () => undefined);
  const db = new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool }) });
  const b: SqlBackend = {
    where: connectionString,
    db,
    dialect: 'postgres',
    // PostgreSQL keeps a failed transaction open until ROLLBACK
    inTransaction: () => true,
    retryForMs: options.retryForMs ?? 30_000,
    close: () => db.destroy(),
  };
  try {
    if (!read) {
      await migrateToLatest(b, migrations);
      return createSqlPlanStore(b);
    }
    if (!assertReadableSchema(connectionString, await inspectSchema(db, 'postgres', migrations), migrations)) {
      await db.destroy();
      return emptyPlanStore(connectionString, async () => undefined);
    }
    return readOnlyPlanStore(createSqlPlanStore(b), connectionString);
  } catch (e) {
    await db.destroy().catch(() => undefined);
    if (read && driverCode(e) === '3D000') {
      throw new RollwiseError('RW_NOT_FOUND', `no store at ${describeStore(connectionString)}: the database does not exist`, { hint: 'create the database, then run a writing command (rollwise plan ...) to set it up', cause: e });
    }
    throw storeError(e, connectionString, read ? 'opening the store to read it' : 'opening the store for writing');
  }
}
