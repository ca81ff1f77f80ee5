/**
 * Steps a host driver applies, and their outcomes. Steps are plain data (JSON-serialisable) so
 * the planner can produce them, the journal can store them and src/hosts can apply them; an
 * outcome is data too: succeeded, failed (with the tool's exit code and output, or the grammar
 * error that stopped it before any command ran), or unknown (the connection dropped or the
 * command timed out: it may or may not have taken effect; take a snapshot to find out).
 */
import type { ErrorCode } from '../shared/index.js';
import type { PackageChange } from '../solver/index.js';
import type { DatabaseRef } from '../fleet/index.js';

/** Where a database lives (the inventory's `databases:`; one type from inventory to step). */
export type { DatabaseRef } from '../fleet/index.js';

export interface Migration {
  /** Version recorded in the migrations table (letters, digits, `. _ -`). */
  version: string;
  direction: 'up' | 'down';
  /** SQL run in one transaction together with the bookkeeping row. */
  sql: string;
}

/** A config file's recorded state, as a snapshot holds it (content for restoring). */
export type FileState =
  | { kind: 'absent' }
  | { kind: 'present'; sha256: string; mode: number; contentBase64: string };

/** A side file recorded beside a config file (`suffix` appended to its path), with its content. */
export interface PresentSide {
  suffix: string;
  state: Extract<FileState, { kind: 'present' }>;
}

export type Step =
  | { kind: 'refresh-index' }
  /**
   * One apt transaction. install/upgrade/downgrade need `to` (the exact version); remove and
   * purge need only the name; `debPath` installs from that .deb instead of the repository.
   */
  | { kind: 'packages'; changes: PackageChange[] }
  | { kind: 'migrate'; database: DatabaseRef; migration: Migration }
  | { kind: 'write-config'; path: string; content: string; mode?: number }
  /**
   * Put a file back to a recorded state. With `sides`, also the side files dpkg and ucf leave
   * beside it (SIDE_FILE_SUFFIXES in snapshot.ts): those listed are written back, every other
   * one is removed.
   */
  | { kind: 'restore-config'; path: string; state: FileState; sides?: PresentSide[] }
  | { kind: 'service'; action: 'start' | 'stop' | 'restart'; service: string };

export type StepKind = Step['kind'];

/** A package whose installed state differs before and after a step. */
export interface PackageDelta {
  name: string;
  architecture: string;
  before?: { version: string; status: string };
  after?: { version: string; status: string };
}

export type StepFailure =
  /** Stopped by a grammar check before any command ran. */
  | { kind: 'rejected'; code: ErrorCode; message: string; hint?: string }
  /** A command exited non-zero. */
  | { kind: 'command'; command: string[]; exitCode: number; output: string }
  /** A program could not be started. */
  | { kind: 'not-started'; command: string[]; reason: string }
  /** A precondition on the host is not met (e.g. missing apt configuration). */
  | { kind: 'precondition'; message: string };

export type StepOutcome =
  | { status: 'succeeded'; step: Step; host: string; durationMs: number; output: string; packages?: PackageDelta[] }
  | { status: 'failed'; step: Step; host: string; durationMs: number; failure: StepFailure; packages?: PackageDelta[] }
  | { status: 'unknown'; step: Step; host: string; durationMs: number; reason: string; output: string };

export function isSucceeded(o: StepOutcome): o is Extract<StepOutcome, { status: 'succeeded' }> {
  return o.status === 'succeeded';
}
