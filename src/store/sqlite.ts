/** The embedded default: a SQLite file (WAL) under the working directory, `.rollwise/rollwise.db`. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { RollwiseError } from '../shared/errors.js';
import type { PlanStore } from '../planner/index.js';
import { createSqlPlanStore, migrateToLatest } from './sql-plan-store.js';
import type { StoreDatabase } from './schema.js';

export const DEFAULT_STORE_FILE = path.join('.rollwise', 'rollwise.db');

export function defaultStorePath(cwd: string = process.cwd()): string {
  return path.join(cwd, DEFAULT_STORE_FILE);
}

export async function openSqlitePlanStore(file: string = defaultStorePath()): Promise<PlanStore> {
  let sqlite: Database.Database;
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    sqlite = new Database(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
  } catch (e) {
    throw new RollwiseError('RW_STORE', `cannot open the store ${file}: ${(e as Error).message}`, { cause: e });
  }
  const db = new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrateToLatest(db);
  return createSqlPlanStore(db);
}
