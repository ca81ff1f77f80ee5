/**
 * Relation operators between versions, in one place: the one operator type every layer uses
 * (Debian relations, CUDF, request specs, range bounds, host-fact conditions), the compact codes
 * the universe stores, how an operator is read from text, and whether a relation holds.
 *
 * Spelling: Debian's (`<< <= = >= >>`) plus `!=` (CUDF and conditions). dpkg still accepts the
 * obsolete `<` and `>` and reads them as `<=` and `>=` (deb-src-control(5): "`<` and `>` are
 * deprecated ... meaning `<=` and `>=`"); so does every Rollwise parser, and where a person typed
 * them the parser says so (a warning), because most people expect `<` to be strict.
 */

export type RelationOp = '<<' | '<=' | '=' | '>=' | '>>' | '!=';

export const RELATION_OPS: readonly RelationOp[] = ['<<', '<=', '=', '>=', '>>', '!='];

/** The operators a Debian relation field may use (no `!=`). */
export const DEBIAN_RELATION_OPS: readonly RelationOp[] = ['<<', '<=', '=', '>=', '>>'];

/** Operator codes, as the universe stores them (0 = unversioned). */
export const OP_NONE = 0;
export const OP_LT = 1; // <<
export const OP_LE = 2; // <=
export const OP_EQ = 3; // =
export const OP_GE = 4; // >=
export const OP_GT = 5; // >>
export const OP_NE = 6; // !=

/** OP_TEXT[code] is the operator's spelling ('' for OP_NONE). */
export const OP_TEXT: readonly string[] = ['', '<<', '<=', '=', '>=', '>>', '!='];

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

/** The operator of a code (undefined for OP_NONE). */
export function opOfCode(code: number): RelationOp | undefined {
  return code === OP_NONE ? undefined : (OP_TEXT[code] as RelationOp);
}

/** An operator read from text: what it means, how many characters it took, and whether it was the obsolete `<`/`>`. */
export interface OperatorToken {
  op: RelationOp;
  length: number;
  /** `<` or `>`: accepted as `<=` / `>=`, as dpkg does; worth a warning where a person wrote it. */
  deprecated: boolean;
}

/**
 * Reads an operator at `text[i]`: `<<`, `<=`, `<` (obsolete `<=`), `>>`, `>=`, `>` (obsolete
 * `>=`), `=`, `!=`. Undefined when there is none (the caller says what it expected).
 */
export function readOperator(text: string, i: number, end = text.length): OperatorToken | undefined {
  if (i >= end) return undefined;
  const c = text.charCodeAt(i);
  const c2 = i + 1 < end ? text.charCodeAt(i + 1) : 0;
  if (c === 60 /* < */) {
    if (c2 === 60) return { op: '<<', length: 2, deprecated: false };
    if (c2 === 61) return { op: '<=', length: 2, deprecated: false };
    return { op: '<=', length: 1, deprecated: true };
  }
  if (c === 62 /* > */) {
    if (c2 === 62) return { op: '>>', length: 2, deprecated: false };
    if (c2 === 61) return { op: '>=', length: 2, deprecated: false };
    return { op: '>=', length: 1, deprecated: true };
  }
  if (c === 61 /* = */) return { op: '=', length: c2 === 61 ? 2 : 1, deprecated: false };
  if (c === 33 /* ! */ && c2 === 61) return { op: '!=', length: 2, deprecated: false };
  return undefined;
}

const WORDS: Record<string, RelationOp> = { lt: '<<', le: '<=', eq: '=', ge: '>=', gt: '>>', ne: '!=' };

/**
 * A whole operator argument (`version compare A OP B`, range factories): a symbol as readOperator
 * reads it, or dpkg's words `lt le eq ne ge gt`. Undefined when it is neither.
 */
export function parseOperator(text: string): OperatorToken | undefined {
  const w = WORDS[text];
  if (w !== undefined) return { op: w, length: text.length, deprecated: false };
  const t = readOperator(text, 0);
  return t && t.length === text.length ? t : undefined;
}

/** Does a comparison result (negative, zero, positive: `version` against `bound`) satisfy `op`? */
export function relationHolds(cmp: number, op: RelationOp): boolean {
  switch (op) {
    case '<<': return cmp < 0;
    case '<=': return cmp <= 0;
    case '=': return cmp === 0;
    case '>=': return cmp >= 0;
    case '>>': return cmp > 0;
    case '!=': return cmp !== 0;
  }
}

/** Does `version op bound` hold in `scheme`'s order (a VersionScheme of ./scheme.ts)? The one relation check of every layer. */
export function satisfiesRelation(scheme: { compare(a: string, b: string): number }, version: string, op: RelationOp, bound: string): boolean {
  return relationHolds(version === bound ? 0 : scheme.compare(version, bound), op);
}
