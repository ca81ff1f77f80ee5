/**
 * Debian relation syntax (Policy 7.1) for the knowledge base: `name[:arch] [(op version)]`,
 * alternatives separated by `|`. Parsing returns values with the character offset of the part
 * at fault, so the YAML validator can point at the exact column inside the string.
 */
import { getScheme, isValidDebianVersion, isValidPackageName } from '../versions/index.js';
import type { Alternatives, PackageAtom, Provision, RelationOp, VersionScheme } from './model.js';

/** Debian package names (Policy 5.6.1), for the JSON Schema: the same grammar as versions' isValidPackageName. */
export const PACKAGE_NAME_PATTERN = '^[a-z0-9][a-z0-9+.-]+$';

/** A relation problem, with the offset (0-based, in the relation string) of the offending part. */
export interface RelationProblem {
  offset: number;
  message: string;
  hint: string;
}

/** A parsed atom with where its name and version sit in the string (for later checks). */
export interface LocatedAtom extends PackageAtom {
  nameOffset: number;
  versionOffset?: number;
}

export type RelationParse<T> = { ok: true; value: T } | { ok: false; problem: RelationProblem };

const OPS: readonly RelationOp[] = ['<<', '<=', '>=', '>>', '='];

function skipSpaces(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

/** Parse one atom `name[:arch] [(op version)]` starting at `start` and ending at `end`. */
function parseAtomAt(s: string, start: number, end: number, allowOps: readonly RelationOp[]): RelationParse<LocatedAtom> {
  let i = skipSpaces(s, start);
  const nameStart = i;
  while (i < end && /[A-Za-z0-9+.\-_]/.test(s[i]!)) i++;
  const name = s.slice(nameStart, i);
  if (name.length === 0) {
    return { ok: false, problem: { offset: nameStart, message: 'expected a package name', hint: 'write a relation as `name`, `name (>= version)` or `a | b`' } };
  }
  if (!isValidPackageName(name)) {
    return {
      ok: false,
      problem: { offset: nameStart, message: `'${name}' is not a valid package name`, hint: 'package names use lowercase letters, digits and + - . (at least two characters)' },
    };
  }
  const atom: LocatedAtom = { name, nameOffset: nameStart };
  if (i < end && s[i] === ':') {
    const archStart = ++i;
    while (i < end && /[a-z0-9-]/.test(s[i]!)) i++;
    if (i === archStart) return { ok: false, problem: { offset: archStart, message: 'expected an architecture after `:`', hint: 'e.g. `libc6:amd64` or `python3:any`' } };
    atom.archQualifier = s.slice(archStart, i);
  }
  i = skipSpaces(s, i);
  if (i < end && s[i] === '(') {
    i = skipSpaces(s, i + 1);
    const opStart = i;
    while (i < end && /[<>=!]/.test(s[i]!)) i++;
    const opText = s.slice(opStart, i);
    if (!(allowOps as readonly string[]).includes(opText)) {
      const hint = opText === '<' || opText === '>'
        ? `the obsolete \`${opText}\` is ambiguous: write \`${opText}${opText}\` (strictly) or \`${opText}=\``
        : `use one of ${allowOps.join(' ')}`;
      return { ok: false, problem: { offset: opStart, message: opText ? `unknown relation operator '${opText}'` : 'expected a relation operator', hint } };
    }
    atom.op = opText as RelationOp;
    i = skipSpaces(s, i);
    const verStart = i;
    while (i < end && s[i] !== ')' && s[i] !== ' ' && s[i] !== '\t') i++;
    const version = s.slice(verStart, i);
    if (version.length === 0) return { ok: false, problem: { offset: verStart, message: 'expected a version', hint: 'e.g. `libssl3 (>= 3.0.11)`' } };
    if (!isValidDebianVersion(version)) {
      return { ok: false, problem: { offset: verStart, message: `'${version}' is not a valid version`, hint: 'expected [epoch:]upstream[-revision] using letters, digits and . + ~ - :' } };
    }
    atom.version = version;
    atom.versionOffset = verStart;
    i = skipSpaces(s, i);
    if (i >= end || s[i] !== ')') return { ok: false, problem: { offset: i, message: 'expected `)`', hint: 'close the version constraint: `name (>= 1.0)`' } };
    i = skipSpaces(s, i + 1);
  }
  if (i < end) {
    return { ok: false, problem: { offset: i, message: `unexpected '${s.slice(i, end).trim()}'`, hint: 'write a relation as `name`, `name (>= version)` or `a | b`; separate clauses as list items' } };
  }
  return { ok: true, value: atom };
}

/** Parse one dependency clause (`a | b (>= 1)`); alternatives are allowed when `allowAlternatives`. */
export function parseClause(text: string, options: { allowAlternatives?: boolean; allowOps?: readonly RelationOp[] } = {}): RelationParse<LocatedAtom[]> {
  const allowOps = options.allowOps ?? OPS;
  const atoms: LocatedAtom[] = [];
  let start = 0;
  for (;;) {
    const bar = text.indexOf('|', start);
    const end = bar < 0 ? text.length : bar;
    if (bar >= 0 && options.allowAlternatives === false) {
      return { ok: false, problem: { offset: bar, message: 'alternatives (`|`) are not allowed here', hint: 'only depends, pre-depends, recommends and suggests take `a | b`' } };
    }
    const r = parseAtomAt(text, start, end, allowOps);
    if (!r.ok) return r;
    atoms.push(r.value);
    if (bar < 0) break;
    start = bar + 1;
  }
  return { ok: true, value: atoms };
}

/** Parse a Provides entry: `name` or `name (= version)`. */
export function parseProvision(text: string): RelationParse<Provision & { nameOffset: number; versionOffset?: number }> {
  const r = parseClause(text, { allowAlternatives: false, allowOps: ['='] });
  if (!r.ok) {
    if (r.problem.message.startsWith('unknown relation operator')) return { ok: false, problem: { ...r.problem, hint: 'a versioned Provides uses only `=`: `name (= version)`' } };
    return r;
  }
  const a = r.value[0]!;
  const p: Provision & { nameOffset: number; versionOffset?: number } = { name: a.name, nameOffset: a.nameOffset };
  if (a.version !== undefined) {
    p.version = a.version;
    if (a.versionOffset !== undefined) p.versionOffset = a.versionOffset;
  }
  return { ok: true, value: p };
}

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

/** Is `version` valid in `scheme`? (deb: dpkg's grammar; semver: strict semver; cudf: positive integer). */
export function isValidVersionIn(scheme: VersionScheme, version: string): boolean {
  return getScheme(scheme).isValid(version);
}

/** Why `version` is not valid in `scheme` (undefined when it is). */
export function versionProblem(scheme: VersionScheme, version: string): string | undefined {
  const r = getScheme(scheme).check(version);
  return r.ok ? undefined : r.reason;
}

/** Compare two versions of one scheme (negative, zero, positive). */
export function compareVersionsIn(scheme: VersionScheme, a: string, b: string): number {
  return getScheme(scheme).compare(a, b);
}

export function versionHint(scheme: VersionScheme): string {
  switch (scheme) {
    case 'deb': return 'a Debian version is [epoch:]upstream[-revision], e.g. 1:2.3.4-1 (quote it in YAML)';
    case 'semver': return 'this package uses semver: MAJOR.MINOR.PATCH[-prerelease][+build], e.g. 2.1.0 (quote it in YAML)';
    case 'cudf': return 'a CUDF version is a positive integer';
  }
}

/** Render an atom back to Debian syntax. */
export function formatAtom(a: PackageAtom): string {
  const arch = a.archQualifier ? `:${a.archQualifier}` : '';
  return a.op && a.version ? `${a.name}${arch} (${a.op} ${a.version})` : `${a.name}${arch}`;
}

export function formatClause(c: Alternatives): string {
  return c.map(formatAtom).join(' | ');
}

/** One bound of a range such as `>= 6.1, << 6.6` (used for kernel ranges and fact conditions). */
export interface RangeBound {
  op: RelationOp;
  version: string;
  offset: number;
}

/** Parse `op version[, op version...]` (a conjunction), e.g. `>= 6.1, << 6.1.76`. Versions use dpkg's ordering. */
export function parseVersionRange(text: string): RelationParse<RangeBound[]> {
  const bounds: RangeBound[] = [];
  let start = 0;
  for (;;) {
    const comma = text.indexOf(',', start);
    const end = comma < 0 ? text.length : comma;
    let i = skipSpaces(text, start);
    const opStart = i;
    while (i < end && /[<>=!]/.test(text[i]!)) i++;
    const opText = text.slice(opStart, i);
    if (!(OPS as readonly string[]).includes(opText)) {
      return { ok: false, problem: { offset: opStart, message: opText ? `unknown relation operator '${opText}'` : 'expected a relation operator', hint: 'write a range as `>= 6.1, << 6.6` (operators << <= = >= >>)' } };
    }
    i = skipSpaces(text, i);
    const vStart = i;
    while (i < end && text[i] !== ' ' && text[i] !== '\t') i++;
    const version = text.slice(vStart, i);
    if (!isValidDebianVersion(version)) {
      return { ok: false, problem: { offset: vStart, message: version ? `'${version}' is not a valid version` : 'expected a version', hint: 'write a range as `>= 6.1, << 6.6`' } };
    }
    i = skipSpaces(text, i);
    if (i < end) return { ok: false, problem: { offset: i, message: `unexpected '${text.slice(i, end).trim()}'`, hint: 'separate bounds with a comma: `>= 6.1, << 6.6`' } };
    bounds.push({ op: opText as RelationOp, version, offset: vStart });
    if (comma < 0) break;
    start = comma + 1;
  }
  return { ok: true, value: bounds };
}
