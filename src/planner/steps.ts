/**
 * Steps a host driver applies, and their outcomes. Steps are plain data (JSON-serialisable) so
 * the planner can produce them and the journal can store them; an outcome is data too:
 * succeeded, failed (with the tool's exit code and output, or the grammar error that stopped it
 * before any command ran), or unknown (the connection dropped or the command timed out: it may
 * or may not have taken effect; take a snapshot to find out).
 */
import type { ErrorCode } from '../shared/errors.js';

export type PackageAction = 'install' | 'upgrade' | 'downgrade' | 'remove' | 'purge';

export interface PackageChange {
  name: string;
  action: PackageAction;
  /** Exact version for install/upgrade/downgrade (ignored for remove/purge). */
  version?: string;
  /** dpkg architecture qualifier (optional; `name:arch`). */
  architecture?: string;
  /**
   * Install from this .deb file on the host (e.g. from the .deb cache) instead of the
   * repository, so a downgrade does not depend on the repository still holding the version.
   */
  debPath?: string;
}

/** Where a database lives, and the table recording applied migrations. */
export interface DatabaseRef {
  /** Logical name (as the knowledge base names it). */
  name: string;
  host: string;
  port: number;
  user: string;
  database: string;
  /** Table of applied migration versions (default `schema_migrations`). */
  table?: string;
}

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

export type Step =
  | { kind: 'refresh-index' }
  | { kind: 'packages'; changes: PackageChange[] }
  | { kind: 'migrate'; database: DatabaseRef; migration: Migration }
  | { kind: 'write-config'; path: string; content: string; mode?: number }
  | { kind: 'restore-config'; path: string; state: FileState }
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

/** A one-line description of a step, for logs and journals. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'refresh-index':
      return 'refresh the package index';
    case 'packages':
      return step.changes
        .map((c) => (c.action === 'remove' || c.action === 'purge' ? `${c.action} ${c.name}` : `${c.action} ${c.name}=${c.version ?? '?'}`))
        .join(', ');
    case 'migrate':
      return `migrate ${step.database.name} ${step.migration.direction} ${step.migration.version}`;
    case 'write-config':
      return `write ${step.path}`;
    case 'restore-config':
      return step.state.kind === 'absent' ? `remove ${step.path}` : `restore ${step.path}`;
    case 'service':
      return `${step.action} ${step.service}`;
  }
}

/** A one-line description of an outcome. */
export function describeOutcome(o: StepOutcome): string {
  const what = `${o.host}: ${describeStep(o.step)}`;
  if (o.status === 'succeeded') return `${what}: succeeded`;
  if (o.status === 'unknown') return `${what}: unknown (${o.reason})`;
  const f = o.failure;
  switch (f.kind) {
    case 'rejected':
      return `${what}: rejected (${f.code}: ${f.message})`;
    case 'command':
      return `${what}: failed (${f.command[0] ?? '?'} exit ${f.exitCode})`;
    case 'not-started':
      return `${what}: failed (${f.reason})`;
    case 'precondition':
      return `${what}: failed (${f.message})`;
  }
}
