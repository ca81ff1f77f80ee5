/**
 * The one grammar of Debian relations and package specs, for every entry point: archive
 * indexes and dpkg status files, the knowledge base's YAML, request files and command-line
 * specs, known-issue conditions and version ranges. One tokenizer, two modes:
 *
 * - **fast** (`parseRelationField`): a whole field by character codes into a reusable scratch,
 *   without an object per atom: the hot path of loading an archive. Tolerates what dpkg
 *   tolerates in archives (upper-case names, empty clauses, `[arch]` and `<profile>` lists).
 * - **strict** (`parseClause`, `parseProvision`, `parsePackageSpec`, `parseVersionRange`): text a
 *   person wrote. The same tokenizer, then every name and version checked by its grammar; a
 *   problem is a value with the offset of the part at fault (the YAML reader turns it into
 *   file:line:column), and the obsolete `<`/`>` give a warning.
 *
 * Operators mean what dpkg makes them mean everywhere: `<` is `<=` and `>` is `>=` (see
 * src/versions/relation.ts). Grammar (Debian Policy 7.1):
 *   field   := clause (',' clause)*        empty clauses (`a, , b`) are tolerated in archives
 *   clause  := atom ('|' atom)*
 *   atom    := name [':' archqual] ['(' op version ')'] ['[' archlist ']'] ('<' profiles '>')*
 *   spec    := name [':' archqual] ( '(' op version ')' | op version )?      (requests, `name=1.2`)
 *   range   := op version (',' op version)*                                   (kernel ranges)
 */
import {
  checkDebianVersion, getScheme, isValidDebianVersion, packageNameProblem, opCode, opOfCode, OP_EQ, OP_NONE, readOperator,
  type RelationOp, type SchemeName,
} from '../versions/index.js';
import type { Alternatives, PackageAtom, Provision } from './model.js';

/** Debian package names (Policy 5.6.1), for the JSON Schema: the same grammar as versions' isValidPackageName. */
export const PACKAGE_NAME_PATTERN = '^[a-z0-9][a-z0-9+.-]+$';

// ---------------------------------------------------------------------------------------------
// Characters

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Package name characters: a-z 0-9 + - . (dpkg also accepts upper case in old archives; strict mode refuses it). */
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || (c >= 65 && c <= 90);
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
}

/** Version characters: alnum . + - ~ : _ (the version's own grammar is checked afterwards). */
function isVersionChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 46 || c === 43 || c === 45 || c === 126 || c === 58 || c === 95;
}

function describe(text: string, i: number, end: number): string {
  return i >= end ? 'end of field' : `'${text[i]}'`;
}

// ---------------------------------------------------------------------------------------------
// Fast mode: a field into a scratch

/** A parse failure inside a field value; `offset` is an index into the text that was parsed. */
export class RelationSyntaxError extends Error {
  constructor(message: string, readonly offset: number, readonly hint?: string) {
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
  /** Operator codes (src/versions/relation.ts: OP_NONE, OP_LT, ...). */
  ops: number[];
  /** Version or '' when the atom is unversioned. */
  versions: string[];
  /** Offset of each atom (its name) in the parsed text. */
  offsets: number[];
  /** Offset of each atom's operator and version (-1 when unversioned). */
  opOffsets: number[];
  versionOffsets: number[];
  /** Whether the atom's operator was the obsolete `<` or `>`. */
  deprecatedOps: boolean[];
  /** clauseEnds[i] = index one past the last atom of clause i. */
  clauseEnds: number[];
}

export function createRelationScratch(): RelationScratch {
  return { atomCount: 0, clauseCount: 0, names: [], archQualifiers: [], ops: [], versions: [], offsets: [], opOffsets: [], versionOffsets: [], deprecatedOps: [], clauseEnds: [] };
}

export interface RelationParseOptions {
  /** Architecture for evaluating `[arch]` restrictions; atoms restricted away are dropped. Default amd64. */
  hostArch?: string;
  /** Allow only `name` or `name (= v)` atoms and no alternatives (Provides). */
  provides?: boolean;
  /** Disallow alternatives (Conflicts, Breaks, Replaces). */
  noAlternatives?: boolean;
  /** Allow `!=` (CUDF-style conditions); Debian fields have no such operator. */
  allowNotEqual?: boolean;
  /** Package specs: one atom, whose constraint may also be written without parentheses (`name=1.2`, `name >= 1.2`). */
  spec?: boolean;
  /** Refuse `[arch]` lists and `<profile>` lists (binary relations written by a person). */
  noRestrictions?: boolean;
}

/** Reads `op version` at `i` (inside parentheses or bare); returns the index after the version. */
function readConstraint(text: string, i: number, end: number, out: RelationScratch, k: number, options: RelationParseOptions): number {
  const opOffset = i;
  const t = readOperator(text, i, end);
  if (!t || (t.op === '!=' && !options.allowNotEqual)) {
    throw new RelationSyntaxError(`expected a relation (<< <= = >= >>), found ${describe(text, i, end)}`, opOffset, 'write `name (>= 1.2)`, `name (<< 2.0)` or `name (= 1.2-1)`');
  }
  if (options.provides && t.op !== '=') throw new RelationSyntaxError('Provides allows only (= version)', opOffset, 'a versioned Provides uses only `=`: `name (= version)`');
  i += t.length;
  while (i < end && isSpace(text.charCodeAt(i))) i++;
  const v = i;
  while (i < end && isVersionChar(text.charCodeAt(i))) i++;
  if (i === v) throw new RelationSyntaxError(`expected a version, found ${describe(text, i, end)}`, i, 'e.g. `libssl3 (>= 3.0.11)`');
  out.ops[k] = opCode(t.op);
  out.deprecatedOps[k] = t.deprecated;
  out.opOffsets[k] = opOffset;
  out.versions[k] = text.slice(v, i);
  out.versionOffsets[k] = v;
  return i;
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
  for (;;) {
    // one atom
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    if (i >= end || text.charCodeAt(i) === 44 /* , */) {
      // empty clause: tolerated when there is nothing at all in it (e.g. trailing comma)
      if (out.atomCount !== clauseStartAtom) throw new RelationSyntaxError(`expected a package name after '|', found ${describe(text, i, end)}`, i);
      if (i >= end) break;
      if (options.spec) throw new RelationSyntaxError("expected a package name, found ','", i);
      i++;
      continue;
    }
    const atomOffset = i;
    let c = text.charCodeAt(i);
    if (!isNameStart(c)) throw new RelationSyntaxError(`expected a package name, found ${describe(text, i, end)}`, i, 'write a relation as `name`, `name (>= version)` or `a | b`');
    const nameStart = i;
    while (i < end && isNameChar(text.charCodeAt(i))) i++;
    const name = text.slice(nameStart, i);
    let arch = '';
    if (i < end && text.charCodeAt(i) === 58 /* : */) {
      i++;
      const a = i;
      while (i < end && isNameChar(text.charCodeAt(i))) i++;
      if (i === a) throw new RelationSyntaxError(`expected an architecture after ':', found ${describe(text, i, end)}`, i, 'e.g. `libc6:amd64` or `python3:any`');
      arch = text.slice(a, i);
    }
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    const k = out.atomCount;
    out.ops[k] = OP_NONE;
    out.versions[k] = '';
    out.opOffsets[k] = -1;
    out.versionOffsets[k] = -1;
    out.deprecatedOps[k] = false;
    if (i < end && text.charCodeAt(i) === 40 /* ( */) {
      i++;
      while (i < end && isSpace(text.charCodeAt(i))) i++;
      i = readConstraint(text, i, end, out, k, options);
      while (i < end && isSpace(text.charCodeAt(i))) i++;
      if (i >= end || text.charCodeAt(i) !== 41 /* ) */) throw new RelationSyntaxError(`expected ')' after the version, found ${describe(text, i, end)}`, i, 'close the version constraint: `name (>= 1.0)`');
      i++;
      while (i < end && isSpace(text.charCodeAt(i))) i++;
    } else if (options.spec && i < end && readOperator(text, i, end)) {
      i = readConstraint(text, i, end, out, k, options);
      while (i < end && isSpace(text.charCodeAt(i))) i++;
    }
    let keep = true;
    if (i < end && text.charCodeAt(i) === 91 /* [ */) {
      if (options.noRestrictions) throw new RelationSyntaxError('architecture restrictions `[...]` belong to source packages', i, 'write the relation without `[...]`');
      const close = text.indexOf(']', i);
      if (close < 0 || close >= end) throw new RelationSyntaxError("unterminated architecture restriction, expected ']'", i);
      keep = archListAllows(text.slice(i + 1, close), hostArch);
      i = close + 1;
      while (i < end && isSpace(text.charCodeAt(i))) i++;
    }
    while (i < end && text.charCodeAt(i) === 60 /* < */) {
      if (options.noRestrictions) throw new RelationSyntaxError('build profile restrictions `<...>` belong to source packages', i, 'write the relation without `<...>`');
      // build profile restriction: tolerated and ignored (binary indexes never carry one)
      const close = text.indexOf('>', i);
      if (close < 0 || close >= end) throw new RelationSyntaxError("unterminated build profile restriction, expected '>'", i);
      i = close + 1;
      while (i < end && isSpace(text.charCodeAt(i))) i++;
    }
    if (keep) {
      out.atomCount++;
      out.names[k] = name;
      out.archQualifiers[k] = arch;
      out.offsets[k] = atomOffset;
    }
    if (i >= end) {
      if (out.atomCount > clauseStartAtom) out.clauseEnds[out.clauseCount++] = out.atomCount;
      break;
    }
    c = text.charCodeAt(i);
    if (c === 124 /* | */) {
      if (options.provides || options.noAlternatives || options.spec) throw new RelationSyntaxError("alternatives ('|') are not allowed here", i, 'only depends, pre-depends, recommends, suggests and conditions take `a | b`');
      i++;
      continue;
    }
    if (c === 44 /* , */ && !options.spec) {
      if (out.atomCount > clauseStartAtom) out.clauseEnds[out.clauseCount++] = out.atomCount;
      clauseStartAtom = out.atomCount;
      i++;
      continue;
    }
    if (options.spec) throw new RelationSyntaxError(`unexpected '${text.slice(i, end).trim()}' after '${text.slice(atomOffset, i).trim()}'`, i, "write 'name', 'name=1.2-1' or 'name (>= 1.2)'");
    throw new RelationSyntaxError(`expected ',' or '|' after '${text.slice(atomOffset, i).trim()}', found ${describe(text, i, end)}`, i, 'write a relation as `name`, `name (>= version)` or `a | b`');
  }
}

/** Evaluate `amd64 i386` / `!armel !armhf` against the host architecture. */
function archListAllows(list: string, hostArch: string): boolean {
  const items = list.split(/\s+/).filter((s) => s.length > 0);
  if (items.length === 0) return true;
  const negated = items[0]!.startsWith('!');
  if (negated) return !items.some((a) => a.slice(1) === hostArch || a.slice(1) === 'any' || a.slice(1) === `linux-${hostArch}` || a.slice(1) === `any-${hostArch}`);
  return items.some((a) => a === hostArch || a === 'any' || a === `linux-${hostArch}` || a === `any-${hostArch}` || a === 'linux-any');
}

/** Atom k of a scratch as a PackageAtom. */
export function scratchAtom(s: RelationScratch, k: number): PackageAtom {
  const a: PackageAtom = { name: s.names[k]! };
  const q = s.archQualifiers[k]!;
  if (q !== '') a.archQualifier = q;
  const op = opOfCode(s.ops[k]!);
  if (op !== undefined) {
    a.op = op;
    a.version = s.versions[k]!;
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// Strict mode: text a person wrote

/** A relation problem, with the offset (0-based, in the text) of the offending part. */
export interface RelationProblem {
  offset: number;
  message: string;
  hint: string;
}

/** A parsed atom with where its parts sit in the text (for positioned messages later). */
export interface LocatedAtom extends PackageAtom {
  nameOffset: number;
  opOffset?: number;
  versionOffset?: number;
}

/** A strict parse: the value and its warnings (the obsolete `<`/`>`), or the first problem. */
export type RelationParse<T> = { ok: true; value: T; warnings: RelationProblem[] } | { ok: false; problem: RelationProblem };

function deprecationWarning(op: RelationOp, offset: number): RelationProblem {
  const written = op === '<=' ? '<' : '>';
  const strict = op === '<=' ? '<<' : '>>';
  return {
    offset,
    message: `'${written}' is the obsolete spelling of '${op}' and means '${op}' (as dpkg reads it)`,
    hint: `write '${op}', or '${strict}' for strictly ${op === '<=' ? 'less' : 'greater'} than`,
  };
}

/** Runs the tokenizer on person-typed text and checks each name and version by its grammar. */
const NAME_HINT = 'package names use lowercase letters, digits and + - . (at least two characters)';

/** A character that ends a name in relation text (space, `( ) , | [ ] < > = ! :`). */
function isStructural(c: number): boolean {
  return isSpace(c) || c === 40 || c === 41 || c === 44 || c === 124 || c === 91 || c === 93 || c === 60 || c === 62 || c === 61 || c === 33 || c === 58;
}

/**
 * When the tokenizer stopped inside what a person meant as one name (`Bad_Name`, `nginx@1`),
 * the word as a whole and why it is not a package name; undefined otherwise.
 */
function badNameAt(text: string, offset: number, expectedName: boolean): RelationProblem | undefined {
  if (offset >= text.length || isStructural(text.charCodeAt(offset))) return undefined;
  // only inside a word (`Bad_Name`), or where a name was expected (`_name`)
  if (!expectedName && (offset === 0 || isStructural(text.charCodeAt(offset - 1)))) return undefined;
  let start = offset;
  while (start > 0 && !isStructural(text.charCodeAt(start - 1))) start--;
  if (start > 0 && text.charCodeAt(start - 1) === 58 /* : an architecture */) return undefined;
  let end = offset;
  while (end < text.length && !isStructural(text.charCodeAt(end))) end++;
  const word = text.slice(start, end);
  const reason = packageNameProblem(word);
  if (reason === undefined || /^[0-9]/.test(word) && start > 0 && /[(<>=]\s*$/.test(text.slice(0, start))) return undefined;
  return { offset: start, message: `'${word}' is not a valid Debian package name: ${reason}`, hint: NAME_HINT };
}

function parseStrict(text: string, options: RelationParseOptions, what: 'clause' | 'spec'): RelationParse<LocatedAtom[][]> {
  const s = createRelationScratch();
  try {
    parseRelationField(text, 0, text.length, s, { ...options, noRestrictions: true });
  } catch (e) {
    if (!(e instanceof RelationSyntaxError)) throw e;
    const bad = badNameAt(text, e.offset, e.message.startsWith('expected a package name'));
    if (bad) return { ok: false, problem: bad };
    const message = what === 'spec' ? `cannot read '${text}': ${e.message}` : e.message;
    return { ok: false, problem: { offset: e.offset, message, hint: e.hint ?? 'write a relation as `name`, `name (>= version)` or `a | b`' } };
  }
  if (s.atomCount === 0) {
    return { ok: false, problem: { offset: Math.max(0, text.length - text.trimStart().length), message: 'expected a package name', hint: what === 'spec' ? "write 'name', 'name=1.2-1' or 'name (>= 1.2)'" : 'write a relation as `name`, `name (>= version)` or `a | b`' } };
  }
  const warnings: RelationProblem[] = [];
  const clauses: LocatedAtom[][] = [];
  let k = 0;
  for (let c = 0; c < s.clauseCount; c++) {
    const clause: LocatedAtom[] = [];
    for (const end = s.clauseEnds[c]!; k < end; k++) {
      const name = s.names[k]!;
      const reason = packageNameProblem(name);
      if (reason !== undefined) return { ok: false, problem: { offset: s.offsets[k]!, message: `'${name}' is not a valid Debian package name: ${reason}`, hint: NAME_HINT } };
      const atom: LocatedAtom = { ...scratchAtom(s, k), nameOffset: s.offsets[k]! };
      if (atom.version !== undefined) {
        atom.opOffset = s.opOffsets[k]!;
        atom.versionOffset = s.versionOffsets[k]!;
        const check = checkDebianVersion(atom.version);
        if (!check.ok) {
          return { ok: false, problem: { offset: atom.versionOffset, message: `'${atom.version}' is not a valid Debian version: ${check.reason}`, hint: 'expected [epoch:]upstream[-revision] using letters, digits and . + ~ - :' } };
        }
        if (s.deprecatedOps[k]) warnings.push(deprecationWarning(atom.op!, atom.opOffset));
      }
      clause.push(atom);
    }
    clauses.push(clause);
  }
  return { ok: true, value: clauses, warnings };
}

/**
 * One dependency clause (`a | b (>= 1)`), as a knowledge-base list item or a known-issue
 * condition: alternatives when `allowAlternatives` (default true), no `,` (clauses are list items).
 */
export function parseClause(text: string, options: { allowAlternatives?: boolean } = {}): RelationParse<LocatedAtom[]> {
  const r = parseStrict(text, { noAlternatives: options.allowAlternatives === false }, 'clause');
  if (!r.ok) return r;
  if (r.value.length > 1) {
    const second = r.value[1]![0]!;
    const comma = text.lastIndexOf(',', second.nameOffset);
    return { ok: false, problem: { offset: comma < 0 ? second.nameOffset : comma, message: `unexpected '${text.slice(comma < 0 ? second.nameOffset : comma).trim()}': one clause per item`, hint: 'write each clause as its own list item; `a | b` for alternatives' } };
  }
  return { ok: true, value: r.value[0]!, warnings: r.warnings };
}

/** A Provides entry: `name` or `name (= version)`. */
export function parseProvision(text: string): RelationParse<Provision & { nameOffset: number; versionOffset?: number }> {
  const r = parseStrict(text, { provides: true }, 'clause');
  if (!r.ok) return r;
  const a = r.value[0]![0]!;
  if (r.value.length > 1) return { ok: false, problem: { offset: r.value[1]![0]!.nameOffset, message: 'one provided name per item', hint: 'write each provided name as its own list item' } };
  const p: Provision & { nameOffset: number; versionOffset?: number } = { name: a.name, nameOffset: a.nameOffset };
  if (a.version !== undefined) {
    p.version = a.version;
    if (a.versionOffset !== undefined) p.versionOffset = a.versionOffset;
  }
  return { ok: true, value: p, warnings: r.warnings };
}

/**
 * A package spec as a person writes it in a request: `name`, `name:arch`, `name=1.2-1`,
 * `name (>= 1.2)`, `name>=1.2` or `name >= 1.2`. Versions are checked by Debian's grammar here;
 * a package of another scheme (semver) is checked against its own when the request is solved.
 */
export function parsePackageSpec(text: string): RelationParse<LocatedAtom> {
  const r = parseStrict(text, { spec: true }, 'spec');
  if (!r.ok) return r;
  return { ok: true, value: r.value[0]![0]!, warnings: r.warnings };
}

/** One bound of a range such as `>= 6.1, << 6.6` (kernel ranges and fact conditions). */
export interface RangeBound {
  op: RelationOp;
  version: string;
  offset: number;
}

/** `op version[, op version...]` (a conjunction), e.g. `>= 6.1, << 6.1.76`. Versions use dpkg's grammar and order. */
export function parseVersionRange(text: string): RelationParse<RangeBound[]> {
  const bounds: RangeBound[] = [];
  const warnings: RelationProblem[] = [];
  const hint = 'write a range as `>= 6.1, << 6.6` (operators << <= = >= >>)';
  let i = 0;
  const end = text.length;
  for (;;) {
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    const t = readOperator(text, i, end);
    if (!t || t.op === '!=') return { ok: false, problem: { offset: i, message: i < end ? `unknown relation operator '${text.slice(i).split(/[\s\d]/)[0]}'` : 'expected a relation operator', hint } };
    if (t.deprecated) warnings.push(deprecationWarning(t.op, i));
    i += t.length;
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    const v = i;
    while (i < end && isVersionChar(text.charCodeAt(i))) i++;
    const version = text.slice(v, i);
    if (!isValidDebianVersion(version)) return { ok: false, problem: { offset: v, message: version ? `'${version}' is not a valid version` : 'expected a version', hint } };
    bounds.push({ op: t.op, version, offset: v });
    while (i < end && isSpace(text.charCodeAt(i))) i++;
    if (i >= end) break;
    if (text.charCodeAt(i) !== 44 /* , */) return { ok: false, problem: { offset: i, message: `unexpected '${text.slice(i).trim()}'`, hint: 'separate bounds with a comma: `>= 6.1, << 6.6`' } };
    i++;
  }
  return { ok: true, value: bounds, warnings };
}

// ---------------------------------------------------------------------------------------------
// Shapes and rendering

/** Strip location fields, leaving the model's PackageAtom. */
export function toAtom(a: LocatedAtom): PackageAtom {
  const out: PackageAtom = { name: a.name };
  if (a.archQualifier !== undefined) out.archQualifier = a.archQualifier;
  if (a.op !== undefined) out.op = a.op;
  if (a.version !== undefined) out.version = a.version;
  return out;
}

export function toAlternatives(atoms: LocatedAtom[]): Alternatives {
  return atoms.map(toAtom);
}

/** Render an atom back to Debian syntax. */
export function formatAtom(a: PackageAtom): string {
  const arch = a.archQualifier ? `:${a.archQualifier}` : '';
  return a.op && a.version ? `${a.name}${arch} (${a.op} ${a.version})` : `${a.name}${arch}`;
}

export function formatClause(c: readonly PackageAtom[]): string {
  return c.map(formatAtom).join(' | ');
}

/** Is the atom's constraint `(= v)`? (Provides, pins.) */
export function isExactAtom(a: PackageAtom): boolean {
  return opCode(a.op) === OP_EQ;
}

// ---------------------------------------------------------------------------------------------
// Versions by scheme (the knowledge base's packages may use semver)

/** Is `version` valid in `scheme`? (deb: dpkg's grammar; semver: strict semver; cudf: positive integer). */
export function isValidVersionIn(scheme: SchemeName, version: string): boolean {
  return getScheme(scheme).isValid(version);
}

/** Why `version` is not valid in `scheme` (undefined when it is). */
export function versionProblem(scheme: SchemeName, version: string): string | undefined {
  const r = getScheme(scheme).check(version);
  return r.ok ? undefined : r.reason;
}

/** Compare two versions of one scheme (negative, zero, positive). */
export function compareVersionsIn(scheme: SchemeName, a: string, b: string): number {
  return getScheme(scheme).compare(a, b);
}

export function versionHint(scheme: SchemeName): string {
  switch (scheme) {
    case 'deb': return 'a Debian version is [epoch:]upstream[-revision], e.g. 1:2.3.4-1 (quote it in YAML)';
    case 'semver': return 'this package uses semver: MAJOR.MINOR.PATCH[-prerelease][+build], e.g. 2.1.0 (quote it in YAML)';
    case 'cudf': return 'a CUDF version is a positive integer';
  }
}
