/**
 * The persistence port the planner's callers use. Implementations live in src/store/
 * (SQLite by default, PostgreSQL, in-memory for tests): nothing here is SQL-specific.
 *
 * Several processes may share one store. Every failure is a RollwiseError (RW_STORE with the
 * cause in words, such as a full disk or a store locked too long, or RW_NOT_FOUND): a write
 * either stored all of the plan version or nothing of it.
 */
import type { Plan, PlanApproval, PlanListEntry, PlanStatus } from './model.js';

/**
 * What is recorded about a plan version after it was made: its predicted impact (src/analysis),
 * a rehearsal's report (src/deploy), an operator's override of a rule (who, why). The layer that
 * makes a record owns its shape (the rollback plans of the version's groups are the planner's); the store keeps it as JSON, in the order recorded.
 */
export type PlanRecordKind = 'impact' | 'rollback' | 'rehearsal' | 'override';

export interface PlanRecord {
  kind: PlanRecordKind;
  /** ISO 8601. */
  createdAt: string;
  body: unknown;
}

export interface PlanStore {
  /**
   * Writes one plan version atomically (all of it or nothing). When `supersede` is given, the
   * version it names is marked `superseded` in the same transaction, and only if it is not
   * superseded already: of two processes resolving the same version, the second gets RW_STORE
   * and stores nothing. A version at or below the plan's latest is refused (RW_STORE).
   */
  savePlan(plan: Plan, options?: { supersede?: { id: string; version: number } }): Promise<void>;
  /** The latest version of a plan (or the given one); undefined when absent. */
  getPlan(id: string, version?: number): Promise<Plan | undefined>;
  /** Plan ids starting with `prefix` (for short ids on the command line). */
  findPlanIds(prefix: string): Promise<string[]>;
  listPlans(): Promise<PlanListEntry[]>;
  /**
   * Sets a version's status (with who approved it and when, for `approved`); a version
   * superseded meanwhile is left so (RW_STORE).
   */
  setStatus(id: string, version: number, status: PlanStatus, approval?: PlanApproval): Promise<void>;
  /** Adds a record to a stored version (RW_NOT_FOUND when there is no such version). */
  addRecord(id: string, version: number, record: PlanRecord): Promise<void>;
  /** A version's records, oldest first (of one kind when given); none in stores older than records. */
  getRecords(id: string, version: number, kind?: PlanRecordKind): Promise<PlanRecord[]>;
  close(): Promise<void>;
}
