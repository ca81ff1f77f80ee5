/**
 * Is a file the kind it was given as? A Debian Packages index, a dpkg status file or a CUDF
 * document must start (after blank and `#` comment lines) with a `name: value` line. A file that
 * does not, say a private key, a `.env` file or a binary, is refused at once with a message that
 * says what kind of problem it has and where, and never quotes its content: whatever the file
 * holds stays out of error messages and logs.
 *
 * The check looks at the start of the text only (decompressed text, for the loaders that
 * decompress) and can be fed a growing prefix: it answers "undecided" until the prefix decides.
 */
import { RollwiseError, type ErrorCode } from '../../shared/index.js';

/** A kind of input file, as its error messages name it. */
export interface FileKind {
  /** Error code of a malformed file of this kind. */
  code: ErrorCode;
  /** As in "not a Debian Packages index". */
  what: string;
  /** Grammar of the line it starts with: deb822 (`Field: value`) or CUDF (`property: value`). */
  grammar: 'deb822' | 'cudf';
  hint: string;
}

export const PACKAGES_INDEX_KIND: FileKind = {
  code: 'RW_INDEX_PARSE',
  what: 'a Debian Packages index',
  grammar: 'deb822',
  hint: 'give a Debian Packages index (plain, .gz, .xz or .lz4): stanzas of `Field: value` lines, as apt keeps them in /var/lib/apt/lists',
};

export const DPKG_STATUS_KIND: FileKind = {
  code: 'RW_STATUS_PARSE',
  what: 'a dpkg status file',
  grammar: 'deb822',
  hint: 'give a dpkg status file, such as /var/lib/dpkg/status: stanzas of `Field: value` lines',
};

export const CUDF_KIND: FileKind = {
  code: 'RW_CUDF_PARSE',
  what: 'a CUDF document',
  grammar: 'cudf',
  hint: 'give a CUDF document: stanzas of `property: value` lines, starting with preamble:, package: or request:',
};

/** The kind of control file (deb822) an error code stands for. */
export function controlKindOf(code: ErrorCode): FileKind {
  if (code === 'RW_STATUS_PARSE') return DPKG_STATUS_KIND;
  if (code === 'RW_INDEX_PARSE') return PACKAGES_INDEX_KIND;
  return { code, what: 'a Debian control file', grammar: 'deb822', hint: 'a control file is stanzas of `Field: value` lines separated by blank lines' };
}

/** The error for a file that is not of the expected kind at all: position and kind of problem, no content. */
export function notOfKindError(kind: FileKind, file: string, line: number, problem: string): RollwiseError {
  return new RollwiseError(kind.code, `not ${kind.what}: ${problem} (its content is not shown)`, { position: { file, line, column: 1 }, hint: kind.hint });
}

/** Signatures of compressed data (a file compressed twice, or compressed where plain text is read). */
const MAGICS: Array<[string, number[]]> = [
  ['gzip', [0x1f, 0x8b]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['lz4', [0x04, 0x22, 0x4d, 0x18]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['bzip2', [0x42, 0x5a, 0x68]],
];

/** Text as code units: bytes of a Buffer, or UTF-16 units of a string (U+FFFD where UTF-8 was invalid). */
type Units = Buffer | string;

function unitAt(u: Units, i: number): number {
  return typeof u === 'string' ? u.charCodeAt(i) : u[i]!;
}

/** Control characters that never appear in a text control file or CUDF document (tab and CR do). */
function isBinaryUnit(c: number): boolean {
  return (c < 32 && c !== 9 && c !== 13) || c === 127 || c === 0xfffd;
}

function isNameStart(c: number, grammar: FileKind['grammar']): boolean {
  if (grammar === 'cudf') return c >= 97 && c <= 122;
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

function isNameChar(c: number, grammar: FileKind['grammar']): boolean {
  if (grammar === 'cudf') return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45;
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45;
}

/** Blank (a separator) for the parser of the grammar: deb822 spaces, tabs and CR; CUDF what String#trim removes. */
function isBlankLine(u: Units, s: number, e: number, grammar: FileKind['grammar']): boolean {
  if (grammar === 'cudf' && typeof u === 'string') return u.slice(s, e).trim() === '';
  for (let i = s; i < e; i++) {
    const c = unitAt(u, i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

const UNDECIDED = 'undecided';

/** The compression a text starts with, undefined when none, UNDECIDED when the prefix is too short to tell. */
function compressionOf(u: Units, final: boolean): string | undefined {
  for (const [name, magic] of MAGICS) {
    let k = 0;
    // a byte >= 0x80 read as UTF-8 may have become U+FFFD
    while (k < magic.length && k < u.length && (unitAt(u, k) === magic[k] || (magic[k]! >= 0x80 && unitAt(u, k) === 0xfffd))) k++;
    if (k === magic.length) return name;
    if (k === u.length && !final) return UNDECIDED;
  }
  return undefined;
}

/** The problem of the first significant line [s, e) (e: end of the line, or of the text so far), or undefined if it is fine. */
function lineProblem(u: Units, s: number, e: number, complete: boolean, kind: FileKind): string | undefined | typeof UNDECIDED {
  const g = kind.grammar;
  const shape = g === 'cudf' ? "'property: value'" : "'Field: value'";
  for (let i = s; i < e; i++) if (isBinaryUnit(unitAt(u, i))) return 'it holds binary data';
  let end = e;
  if (complete && end > s && unitAt(u, end - 1) === 13) end--;
  const c0 = unitAt(u, s);
  if (c0 === 32 || c0 === 9) return `it starts with a continuation line, not a ${shape} line`;
  const bad = `it does not start with a ${shape} line`;
  if (!isNameStart(c0, g)) return bad;
  let k = s + 1;
  while (k < end && isNameChar(unitAt(u, k), g)) k++;
  if (k >= end) return complete ? bad : UNDECIDED;
  if (unitAt(u, k) !== 58 /* : */) return bad;
  if (g === 'cudf') {
    // the CUDF reader wants `name: value` or `name:` alone
    if (k + 1 >= end) return complete ? undefined : UNDECIDED;
    if (unitAt(u, k + 1) !== 32) return bad;
  }
  return undefined;
}

/**
 * Check that `text`, the start of a file, looks like `kind`: after blank and comment lines, its
 * first line is `name: value` (deb822 field names [A-Za-z0-9][A-Za-z0-9-]*, CUDF property names
 * [a-z][a-z0-9-]*), with no binary data in it. Throws the "not a …" error otherwise. An empty
 * file, or one of only blank and comment lines, passes (it holds no stanza).
 *
 * `final: false` says more text may follow: the answer is then false while the prefix does not
 * decide (true once it does). `firstLine` is the line number of the first line of `text`.
 */
export function checkFileStart(text: Units, file: string, kind: FileKind, options: { firstLine?: number; final?: boolean } = {}): boolean {
  const final = options.final !== false;
  let line = options.firstLine ?? 1;
  const len = text.length;
  if (line === 1) {
    const packed = compressionOf(text, final);
    if (packed === UNDECIDED) return false;
    if (packed !== undefined) throw notOfKindError(kind, file, 1, `it is ${packed}-compressed data`);
  }
  let pos = 0;
  while (pos < len) {
    let eol = typeof text === 'string' ? text.indexOf('\n', pos) : text.indexOf(10, pos);
    const complete = eol >= 0;
    if (!complete) eol = len;
    if (unitAt(text, pos) === 35 /* # */ || isBlankLine(text, pos, eol, kind.grammar)) {
      // a comment or a blank line: decided only once it is complete (or the text ended)
      if (!complete) return final;
      pos = eol + 1;
      line++;
      continue;
    }
    const problem = lineProblem(text, pos, eol, complete || final, kind);
    if (problem === UNDECIDED) return false;
    if (problem !== undefined) throw notOfKindError(kind, file, line, problem);
    return true;
  }
  return final;
}
