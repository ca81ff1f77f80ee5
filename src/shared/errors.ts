/**
 * Errors a user can reach carry a stable code and a hint; the CLI renders them by code
 * (one line, no stack trace, exit status 2 for bad input). Programming errors stay plain Errors.
 */
export type ErrorCode =
  | 'RW_USAGE'
  | 'RW_IO'
  | 'RW_BAD_VERSION'
  | 'RW_BAD_NAME'
  | 'RW_KB_INVALID'
  | 'RW_INDEX_PARSE'
  | 'RW_STATUS_PARSE'
  | 'RW_CUDF_PARSE'
  /** An EDSP scenario (what apt sends an external solver) cannot be read. */
  | 'RW_EDSP_PARSE'
  | 'RW_UNKNOWN_PACKAGE'
  | 'RW_INVENTORY'
  /** A host's apt configuration (sources.list, .sources, preferences, dpkg arch) cannot be read. */
  | 'RW_APT_CONFIG'
  | 'RW_REQUEST'
  | 'RW_STORE'
  | 'RW_NOT_FOUND'
  | 'RW_HOST'
  | 'RW_INPUTS_CHANGED'
  | 'RW_APPROVAL_GATE'
  | 'RW_HISTORY'
  /** A deployment's lease is held by another controller (or was lost): the write was refused. */
  | 'RW_LEASE'
  /** A deployment cannot do what was asked in its state (e.g. resume a finished one). */
  | 'RW_DEPLOY'
  /** A metric check is badly written (condition, duration, limits). */
  | 'RW_CHECK'
  /** A monitoring component (Prometheus, the alert receiver) could not be started or used. */
  | 'RW_MONITOR'
  /** What a deployment taught cannot be recorded (the file is not a learned layer, or not valid). */
  | 'RW_LEARN';

/** A position in a source file, 1-based line and column. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

export function formatPosition(p: SourcePosition): string {
  return `${p.file}:${p.line}:${p.column}`;
}

export class RollwiseError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly position: SourcePosition | undefined;
  /** Exit status the CLI uses for this error: 2 for bad input, 1 for an outcome such as "no solution". */
  readonly exitCode: number;

  constructor(
    code: ErrorCode,
    message: string,
    options: { hint: string; position?: SourcePosition; exitCode?: number; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RollwiseError';
    this.code = code;
    this.hint = options.hint;
    this.position = options.position;
    this.exitCode = options.exitCode ?? 2;
  }

  /** One line: `CODE: file:line:col: message (hint: ...)`. */
  render(): string {
    const where = this.position ? `${formatPosition(this.position)}: ` : '';
    const hint = this.hint ? ` (hint: ${this.hint})` : '';
    return `${this.code}: ${where}${this.message}${hint}`;
  }
}

export function isRollwiseError(e: unknown): e is RollwiseError {
  return e instanceof RollwiseError;
}
