/** The PlanStore on PostgreSQL (same tables and migrations as SQLite, through kysely's PostgresDialect). */
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { PlanStore } from '../planner/index.js';
import { createSqlPlanStore, migrateToLatest } from './sql-plan-store.js';
import type { StoreDatabase } from './schema.js';

export async function openPostgresPlanStore(connectionString: string): Promise<PlanStore> {
  const db = new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString, max: 4 }) }) });
  await migrateToLatest(db);
  return createSqlPlanStore(db);
}
