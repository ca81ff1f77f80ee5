/**
 * The persistence port the planner's callers use. Implementations live in src/store/
 * (SQLite by default, in-memory for tests; PostgreSQL can follow): nothing here is SQL-specific.
 */
import type { Plan, PlanListEntry, PlanStatus } from './model.js';

export interface PlanStore {
  /**
   * Writes one plan version atomically (all of it or nothing). When `supersede` is given, the
   * version it names is marked `superseded` in the same transaction.
   */
  savePlan(plan: Plan, options?: { supersede?: { id: string; version: number } }): Promise<void>;
  /** The latest version of a plan (or the given one); undefined when absent. */
  getPlan(id: string, version?: number): Promise<Plan | undefined>;
  /** Plan ids starting with `prefix` (for short ids on the command line). */
  findPlanIds(prefix: string): Promise<string[]>;
  listPlans(): Promise<PlanListEntry[]>;
  setStatus(id: string, version: number, status: PlanStatus): Promise<void>;
  close(): Promise<void>;
}
