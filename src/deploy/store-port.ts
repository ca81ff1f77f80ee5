/**
 * The persistence port of the deploy engine: deployments, their journal and the lease that lets
 * one controller at a time drive a deployment. Implemented in src/store (SQLite by default,
 * PostgreSQL, in memory for tests); nothing here is SQL-specific.
 *
 * The journal is write-ahead: an entry `started` is stored before the controller does anything
 * to a host, and an entry `ended` (with the outcome) after; `rollwise deploy resume` reads the
 * journal back, finds what started and never ended, and reconciles those hosts with a fresh
 * snapshot before doing anything else to them.
 *
 * Leases are fenced: acquiring one returns a token that grows every time the lease changes hands;
 * every write of a deployment's state names the holder and token, and the store refuses it
 * (RW_LEASE) when the lease has passed to someone else meanwhile (a controller that was paused
 * past its lease cannot write over its successor). A lease has a `scope`: `deployment` for the
 * controller that drives the waves; `host:NAME` scopes are there so that several controllers
 * sharing PostgreSQL can later split the host work (a job queue hands out hosts, each worker
 * holds the host's lease) without a new journal.
 *
 * Every failure is a RollwiseError: RW_NOT_FOUND (no such deployment), RW_LEASE (the lease is
 * not held by the writer), RW_STORE (the cause in words).
 */

/** The state of a whole deployment. */
export type DeploymentStatus =
  /** Created, no wave started yet. */
  | 'pending'
  | 'running'
  /** Stopped by an operator, an inconclusive verdict or a manual gate; `deploy resume` continues. */
  | 'paused'
  | 'rolling-back'
  /** Every selected host changed and verified healthy (skipped hosts are named in the journal). */
  | 'succeeded'
  /** Rolled back: every changed host verified identical to its pre-deployment snapshot. */
  | 'rolled-back'
  /** Stopped by an operator (`deploy abort`); hosts changed so far were rolled back. */
  | 'aborted'
  /** Some host could not be brought to a known good state: a person must look (the journal names the hosts). */
  | 'needs-attention';

export const DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = ['pending', 'running', 'paused', 'rolling-back', 'succeeded', 'rolled-back', 'aborted', 'needs-attention'];

/** True for the statuses after which nothing more happens to the deployment. */
export function isDeploymentFinished(s: DeploymentStatus): boolean {
  return s === 'succeeded' || s === 'rolled-back' || s === 'aborted' || s === 'needs-attention';
}

export interface DeploymentRecord {
  id: string;
  planId: string;
  planVersion: number;
  /** ISO 8601. */
  createdAt: string;
  createdBy: string;
  status: DeploymentStatus;
  /** Why the status is what it is (e.g. the verdict that paused it); absent when nothing to say. */
  statusReason?: string;
  /** ISO 8601, the last status change. */
  updatedAt: string;
  /** The deployment's settings and wave layout as the deploy layer defines them (kept as JSON). */
  spec: unknown;
}

/** One line per deployment, for `deploy list`. */
export interface DeploymentListEntry {
  id: string;
  planId: string;
  planVersion: number;
  createdAt: string;
  status: DeploymentStatus;
}

/**
 * What a journal entry is about. `step` is a host step (forward or rollback); `snapshot` a
 * snapshot taken; `host` a change of a host's state; `wave` a wave started or ended; `verdict`
 * an analysis result with its evidence; `decision` what the controller decided and why
 * (continue, pause, roll back, re-solve, skip a host); `operator` a person's command.
 */
export type JournalKind = 'step' | 'snapshot' | 'host' | 'wave' | 'verdict' | 'decision' | 'operator';

export interface JournalEntryInput {
  kind: JournalKind;
  /**
   * Identifies the action across `started` and `ended` and across controllers, e.g.
   * `w1/app-01/forward/3`. At most one `started` and one `ended` entry per key: appending a
   * second one is refused (RW_STORE), which is how a resumed controller never does a step twice
   * without first reconciling it.
   */
  key: string;
  phase: 'started' | 'ended' | 'event';
  host?: string;
  wave?: number;
  /** For `ended`: what happened. */
  outcome?: 'succeeded' | 'failed' | 'unknown' | 'skipped';
  /** The entry's data as the deploy layer defines it (kept as JSON). */
  body: unknown;
}

export interface JournalEntry extends JournalEntryInput {
  deployment: string;
  /** Assigned by the store: increasing per deployment, in the order the entries were stored. */
  seq: number;
  /** ISO 8601, assigned by the store. */
  at: string;
}

/** Proof of holding a lease, passed with every write. */
export interface LeaseFence {
  holder: string;
  token: number;
}

export type LeaseAcquisition =
  | { kind: 'acquired'; fence: LeaseFence; expiresAt: string }
  | { kind: 'held'; holder: string; expiresAt: string };

export interface DeploymentStore {
  /** Stores a new deployment (RW_STORE if the id exists). */
  createDeployment(d: DeploymentRecord): Promise<void>;
  getDeployment(id: string): Promise<DeploymentRecord | undefined>;
  /** Deployment ids starting with `prefix` (for short ids on the command line). */
  findDeploymentIds(prefix: string): Promise<string[]>;
  listDeployments(planId?: string): Promise<DeploymentListEntry[]>;
  /** Sets the status, fenced by the `deployment` lease. */
  setDeploymentStatus(id: string, status: DeploymentStatus, fence: LeaseFence, reason?: string): Promise<void>;
  /**
   * Appends entries atomically (all or none), fenced by the `deployment` lease (or, with
   * `scope`, by that lease); returns them with their seq and time.
   */
  appendJournal(id: string, entries: readonly JournalEntryInput[], fence: LeaseFence, scope?: string): Promise<JournalEntry[]>;
  /** The journal, oldest first; only entries after `afterSeq` when given; of one host when given. */
  readJournal(id: string, options?: { afterSeq?: number; host?: string }): Promise<JournalEntry[]>;
  /**
   * Takes the lease of `scope` (default `deployment`) for `ttlMs` if nobody holds it or it has
   * expired; a holder acquiring again renews. The token grows on every change of holder.
   */
  acquireLease(id: string, holder: string, ttlMs: number, scope?: string): Promise<LeaseAcquisition>;
  /**
   * Who holds the lease of `scope` (default `deployment`) and until when, without taking it;
   * undefined when it was never taken. `holder` is absent when it was given up. The lease has
   * expired when `expiresAt` is in the past. (Optional: a store without it is probed with acquireLease.)
   */
  readLease?(id: string, scope?: string): Promise<{ holder?: string; expiresAt: string } | undefined>;
  /** Extends a held lease; false when it is no longer held by this fence (then stop writing). */
  renewLease(id: string, fence: LeaseFence, ttlMs: number, scope?: string): Promise<boolean>;
  /** Gives the lease up (nothing happens when it is not held by this fence). */
  releaseLease(id: string, fence: LeaseFence, scope?: string): Promise<void>;
  /**
   * Operator requests (pause, abort) that a running controller polls and consumes; RW_NOT_FOUND
   * for no such deployment. A pending `abort` is not replaced by a later `pause`.
   */
  requestControl(id: string, action: 'pause' | 'abort', by: string): Promise<void>;
  /** The pending operator request, if any (cleared by `clearControl`). */
  readControl(id: string): Promise<{ action: 'pause' | 'abort'; by: string; at: string } | undefined>;
  /**
   * Clears the pending request, fenced by the `deployment` lease. With `seen` (what readControl
   * returned), only if that request is still the pending one: an `abort` that arrived after the
   * controller read a `pause` is not lost.
   */
  clearControl(id: string, fence: LeaseFence, seen?: { action: 'pause' | 'abort'; at: string }): Promise<void>;
}
