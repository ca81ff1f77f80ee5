/**
 * Parsing of Debian relation fields (`Depends`, `Conflicts`, `Provides`, ...) by character
 * codes, without a regular expression per atom: the hot path of loading a whole archive.
 *
 * A field is parsed into a reusable scratch (`RelationScratch`): parallel arrays of atoms and
 * the end index of each clause (`a | b` alternatives form one clause). Callers either turn the
 * scratch into PackageAtom objects (the record importers) or intern it straight into the
 * universe (the fast path), so both share one grammar.
 *
 * Grammar (Debian Policy 7.1, plus what dpkg tolerates):
 *   field   := clause (',' clause)*        empty clauses (`a, , b`) are tolerated
 *   clause  := atom ('|' atom)*
 *   atom    := name [':' archqual] ['(' op version ')'] ['[' archlist ']'] ('<' profiles '>')*
 *   op      := '<<' | '<=' | '=' | '>=' | '>>' | '<' (obsolete: '<=') | '>' (obsolete: '>=')
 */
import type { RelationOp } from '../model.js';

/** Operator codes stored in the scratch and in the universe: index into RELATION_OPS. */
export const OP_NONE = 0;
export const OP_LT = 1; // <<
export const OP_LE = 2; // <=
export const OP_EQ = 3; // =
export const OP_GE = 4; // >=
export const OP_GT = 5; // >>
export const OP_NE = 6; // != (CUDF only)

/** RELATION_OPS[code] is the RelationOp spelled by that code (undefined for OP_NONE). */
export const RELATION_OPS: ReadonlyArray<RelationOp | undefined> = [undefined, '<<', '<=', '=', '>=', '>>', '!='];

export function opCode(op: RelationOp | undefined): number {
  switch (op) {
    case undefined: return OP_NONE;
    case '<<': return OP_LT;
    case '<=': return OP_LE;
    case '=': return OP_EQ;
    case '>=': return OP_GE;
    case '>>': return OP_GT;
    case '!=': return OP_NE;
  }
}

/** A parse failure inside a field value; `offset` is an index into the text that was parsed. */
export class RelationSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'RelationSyntaxError';
  }
}

/** Reusable output of parseRelationField. Only the first `atomCount` / `clauseCount` entries are valid. */
export interface RelationScratch {
  atomCount: number;
  clauseCount: number;
  names: string[];
  /** Architecture qualifier (`any`, `native`, `amd64`) or '' when none. */
  archQualifiers: string[];
  ops: number[];
  /** Version or '' when the atom is unversioned. */
  versions: string[];
  /** Offset of each atom in the parsed text (for positioned errors later). */
  offsets: number[];
  /** clauseEnds[i] = index one past the last atom of clause i. */
  clauseEnds: number[];
}

export function createRelationScratch(): RelationScratch {
  return { atomCount: 0, clauseCount: 0, names: [], archQualifiers: [], ops: [], versions: [], offsets: [], clauseEnds: [] };
}

export interface RelationParseOptions {
  /** Architecture for evaluating `[arch]` restrictions; atoms restricted away are dropped. Default amd64. */
  hostArch?: string;
  /** Allow only `name` or `name (= v)` atoms and no alternatives (Provides). */
  provides?: boolean;
  /** Disallow alternatives (Conflicts, Breaks, Replaces). */
  noAlternatives?: boolean;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Debian package name characters: a-z 0-9 + - . (dpkg also accepts upper case in old archives). */
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || (c >= 65 && c <= 90);
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
}

/** Debian version characters: alnum . + - ~ : (validated fully by the version scheme later). */
function isVersionChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 46 || c === 43 || c === 45 || c === 126 || c === 58 || c === 95;
}

function describe(text: string, i: number, end: number): string {
  return i >= end ? 'end of field' : `'${text[i]}'`;
}

/**
 * Parse `text[start, end)` as a relation field into `out` (which is reset first).
 * Throws RelationSyntaxError with the offset of the problem.
 */
export function parseRelationField(text: string, start: number, end: number, out: RelationScratch, options: RelationParseOptions = {}): void {
  out.atomCount = 0;
  out.clauseCount = 0;
  const hostArch = options.hostArch ?? 'amd64';
  let i = start;
  let clauseStartAtom = 0;
  let clauseStartOffset = start;
  for (;;) {
    // one atom
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    if (i >= end || text.charCodeAt(i) === 44 /* , */) {
      // empty clause: tolerated when there is nothing at all in it (e.g. trailing comma)
      if (out.atomCount !== clauseStartAtom) throw new RelationSyntaxError(`expected a package name after '|', found ${describe(text, i, end)}`, i);
      if (i >= end) break;
      i++;
      clauseStartOffset = i;
      continue;
    }
    const atomOffset = i;
    let c = text.charCodeAt(i);
    if (!isNameStart(c)) throw new RelationSyntaxError(`expected a package name, found ${describe(text, i, end)}`, i);
    const nameStart = i;
    while (i < end && isNameChar(text.charCodeAt(i))) i++;
    const name = text.slice(nameStart, i);
    let arch = '';
    if (i < end && text.charCodeAt(i) === 58 /* : */) {
      i++;
      const a = i;
      while (i < end && isNameChar(text.charCodeAt(i))) i++;
      if (i === a) throw new RelationSyntaxError(`expected an architecture after ':', found ${describe(text, i, end)}`, i);
      arch = text.slice(a, i);
    }
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    let op = OP_NONE;
    let version = '';
    if (i < end && text.charCodeAt(i) === 40 /* ( */) {
      i++;
      while (i < end && isSpace(text.charCodeAt(i))) i++;
      const opOffset = i;
      c = i < end ? text.charCodeAt(i) : 0;
      const c2 = i + 1 < end ? text.charCodeAt(i + 1) : 0;
      if (c === 60 /* < */) {
        if (c2 === 60) { op = OP_LT; i += 2; } else if (c2 === 61) { op = OP_LE; i += 2; } else { op = OP_LE; i += 1; }
      } else if (c === 62 /* > */) {
        if (c2 === 62) { op = OP_GT; i += 2; } else if (c2 === 61) { op = OP_GE; i += 2; } else { op = OP_GE; i += 1; }
      } else if (c === 61 /* = */) {
        op = OP_EQ; i += 1;
      } else {
        throw new RelationSyntaxError(`expected a relation (<< <= = >= >>) after '(', found ${describe(text, i, end)}`, opOffset);
      }
      while (i < end && isSpace(text.charCodeAt(i))) i++;
      const v = i;
      while (i < end && isVersionChar(text.charCodeAt(i))) i++;
      if (i === v) throw new RelationSyntaxError(`expected a version, found ${describe(text, i, end)}`, i);
      version = text.slice(v, i);
      while (i < end && isSpace(text.charCodeAt(i))) i++;
      if (i >= end || text.charCodeAt(i) !== 41 /* ) */) throw new RelationSyntaxError(`expected ')' after the version, found ${describe(text, i, end)}`, i);
      i++;
      while (i < end && isSpace(text.charCodeAt(i))) i++;
      if (options.provides && op !== OP_EQ) throw new RelationSyntaxError('Provides allows only (= version)', opOffset);
    }
    let keep = true;
    if (i < end && text.charCodeAt(i) === 91 /* [ */) {
      const close = text.indexOf(']', i);
      if (close < 0 || close >= end) throw new RelationSyntaxError("unterminated architecture restriction, expected ']'", i);
      keep = archListAllows(text.slice(i + 1, close), hostArch);
      i = close + 1;
      while (i < end && isSpace(text.charCodeAt(i))) i++;
    }
    while (i < end && text.charCodeAt(i) === 60 /* < */) {
      // build profile restriction: tolerated and ignored (binary indexes never carry one)
      const close = text.indexOf('>', i);
      if (close < 0 || close >= end) throw new RelationSyntaxError("unterminated build profile restriction, expected '>'", i);
      i = close + 1;
      while (i < end && isSpace(text.charCodeAt(i))) i++;
    }
    if (keep) {
      const k = out.atomCount++;
      out.names[k] = name;
      out.archQualifiers[k] = arch;
      out.ops[k] = op;
      out.versions[k] = version;
      out.offsets[k] = atomOffset;
    }
    if (i >= end) {
      if (out.atomCount > clauseStartAtom) out.clauseEnds[out.clauseCount++] = out.atomCount;
      break;
    }
    c = text.charCodeAt(i);
    if (c === 124 /* | */) {
      if (options.provides || options.noAlternatives) throw new RelationSyntaxError("alternatives ('|') are not allowed in this field", i);
      i++;
      continue;
    }
    if (c === 44 /* , */) {
      if (out.atomCount > clauseStartAtom) out.clauseEnds[out.clauseCount++] = out.atomCount;
      clauseStartAtom = out.atomCount;
      i++;
      clauseStartOffset = i;
      continue;
    }
    throw new RelationSyntaxError(`expected ',' or '|' after '${text.slice(atomOffset, i).trim()}', found ${describe(text, i, end)}`, i);
  }
  void clauseStartOffset;
}

/** Evaluate `amd64 i386` / `!armel !armhf` against the host architecture. */
function archListAllows(list: string, hostArch: string): boolean {
  const items = list.split(/\s+/).filter((s) => s.length > 0);
  if (items.length === 0) return true;
  const negated = items[0]!.startsWith('!');
  if (negated) return !items.some((a) => a.slice(1) === hostArch || a.slice(1) === 'any' || a.slice(1) === `linux-${hostArch}` || a.slice(1) === `any-${hostArch}`);
  return items.some((a) => a === hostArch || a === 'any' || a === `linux-${hostArch}` || a === `any-${hostArch}` || a === 'linux-any');
}
