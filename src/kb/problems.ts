/**
 * Validation outcomes are values: a list of problems, each with a stable code, the file, line and
 * column of the text at fault, and a hint. Nothing here throws for a user's mistake.
 */
import type { SourcePosition } from '../shared/index.js';

export type KbProblemCode =
  | 'RW_KB_IO' // a path cannot be read
  | 'RW_KB_YAML' // YAML syntax
  | 'RW_KB_EMPTY' // empty file
  | 'RW_KB_UNKNOWN_KEY'
  | 'RW_KB_MISSING_KEY'
  | 'RW_KB_TYPE'
  | 'RW_KB_INVALID_VALUE'
  | 'RW_KB_BAD_VERSION'
  | 'RW_KB_BAD_RELATION'
  | 'RW_KB_DEPRECATED' // accepted, but written in an obsolete way (`<` for `<=`)
  | 'RW_KB_UNDEFINED_PACKAGE'
  | 'RW_KB_UNDEFINED_SERVICE'
  | 'RW_KB_DUPLICATE'
  | 'RW_KB_AMBIGUOUS' // two layers of equal precedence say different things about one entity
  | 'RW_KB_LAYER' // one layer declared with different precedence/trust in two files
  | 'RW_KB_MIGRATION'
  | 'RW_KB_MISSING_FILE'
  | 'RW_KB_CYCLE'
  | 'RW_KB_INDEX'; // a distribution index could not be read

export interface KbProblem {
  code: KbProblemCode;
  severity: 'error' | 'warning';
  message: string;
  hint?: string;
  /** Where: file, and line/column when the problem is inside a file's text. */
  file: string;
  line?: number;
  column?: number;
}

export function createProblem(code: KbProblemCode, where: SourcePosition | { file: string }, message: string, hint?: string, severity: 'error' | 'warning' = 'error'): KbProblem {
  const p: KbProblem = { code, severity, message, file: where.file };
  if ('line' in where) {
    p.line = where.line;
    p.column = where.column;
  }
  if (hint !== undefined) p.hint = hint;
  return p;
}

/** One line: `file:line:col: CODE message (hint: ...)`. */
export function formatProblem(p: KbProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  const sev = p.severity === 'warning' ? 'warning ' : '';
  const hint = p.hint ? ` (hint: ${p.hint})` : '';
  return `${where}: ${sev}${p.code} ${p.message}${hint}`;
}

export function hasErrors(problems: readonly KbProblem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** Problems in reading order: by file, line, column. */
export function sortProblems(problems: KbProblem[]): KbProblem[] {
  return problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)));
}
