/**
 * A scanner for Debian control-format files (deb822: `Packages` indexes, dpkg `status`).
 *
 * It walks the text line by line with indexOf and records, for the fields it knows, the byte
 * range of the value, its line and the offset of that line (so any offset inside a value can be
 * turned into file:line:column). Nothing is parsed eagerly: consumers ask for the fields they
 * need. The text is expected to be the file decoded as latin1, so that string indexes equal byte
 * offsets; text fields can then be re-decoded as UTF-8 from the original bytes (see `utf8Of`).
 *
 * One ControlStanza object is reused for every stanza: consumers must copy what they keep.
 */
import { RollwiseError, excerpt, type ErrorCode } from '../../shared/index.js';
import { checkFileStart, controlKindOf } from './sniff.js';

/** The hint of a malformed control file (a Packages index, a dpkg status file). */
export const DEB822_HINT = 'a control file is stanzas of `Field: value` lines separated by blank lines (as apt writes Packages indexes and dpkg its status file)';

/** Field codes of the fields consumers read. Other fields are scanned past but not indexed. */
export const F = {
  Package: 0, Version: 1, Architecture: 2, Depends: 3, PreDepends: 4, Recommends: 5, Suggests: 6,
  Conflicts: 7, Breaks: 8, Provides: 9, Replaces: 10, Enhances: 11, Essential: 12, Priority: 13,
  MultiArch: 14, Section: 15, Source: 16, InstalledSize: 17, Size: 18, Filename: 19, SHA256: 20,
  Description: 21, Status: 22, Conffiles: 23, Maintainer: 24, Protected: 25, ConfigVersion: 26,
} as const;
export type FieldCode = (typeof F)[keyof typeof F];
const FIELD_COUNT = 27;

const FIELD_NAMES: Array<[string, FieldCode]> = [
  ['Package', F.Package], ['Version', F.Version], ['Architecture', F.Architecture], ['Depends', F.Depends],
  ['Pre-Depends', F.PreDepends], ['Recommends', F.Recommends], ['Suggests', F.Suggests],
  ['Conflicts', F.Conflicts], ['Breaks', F.Breaks], ['Provides', F.Provides], ['Replaces', F.Replaces],
  ['Enhances', F.Enhances], ['Essential', F.Essential], ['Priority', F.Priority], ['Multi-Arch', F.MultiArch],
  ['Section', F.Section], ['Source', F.Source], ['Installed-Size', F.InstalledSize], ['Size', F.Size],
  ['Filename', F.Filename], ['SHA256', F.SHA256], ['Description', F.Description], ['Status', F.Status],
  ['Conffiles', F.Conffiles], ['Maintainer', F.Maintainer], ['Protected', F.Protected], ['Config-Version', F.ConfigVersion],
];
const FIELD_BY_NAME = new Map<string, FieldCode>(FIELD_NAMES);
const FIELD_BY_LOWER = new Map<string, FieldCode>(FIELD_NAMES.map(([n, c]) => [n.toLowerCase(), c]));
export const FIELD_NAME_OF: readonly string[] = FIELD_NAMES.map(([n]) => n);

export class ControlStanza {
  /** The whole text being scanned (latin1-decoded bytes). */
  text = '';
  /** The bytes behind `text`, when available (for UTF-8 text fields). */
  bytes: Buffer | undefined;
  file = '';
  /** 1-based line of the stanza's first field. */
  line = 0;
  /** Number of fields in the stanza (known and unknown). */
  fieldCount = 0;
  readonly start = new Int32Array(FIELD_COUNT).fill(-1);
  readonly end = new Int32Array(FIELD_COUNT);
  /** 1-based line of the field's first line. */
  readonly fieldLine = new Int32Array(FIELD_COUNT);
  /** Offset of the first character of the field's first line (column 1). */
  readonly lineStart = new Int32Array(FIELD_COUNT);
  /** Names of fields this scanner does not index, in order (only filled when collectOther is on). */
  other: Array<{ name: string; start: number; end: number }> = [];

  has(code: FieldCode): boolean {
    return this.start[code]! >= 0;
  }

  /** The value of a field (continuation lines included, trailing whitespace removed), or undefined. */
  get(code: FieldCode): string | undefined {
    const s = this.start[code]!;
    if (s < 0) return undefined;
    let e = this.end[code]!;
    const t = this.text;
    while (e > s && (t.charCodeAt(e - 1) === 32 || t.charCodeAt(e - 1) === 9 || t.charCodeAt(e - 1) === 10 || t.charCodeAt(e - 1) === 13)) e--;
    return t.slice(s, e);
  }

  /** A text field decoded as UTF-8 from the original bytes (falls back to the latin1 text). */
  utf8Of(code: FieldCode): string | undefined {
    const s = this.start[code]!;
    if (s < 0) return undefined;
    if (!this.bytes) return this.get(code);
    return this.bytes.toString('utf8', s, this.end[code]!).trimEnd();
  }

  /** file:line:column of an offset inside a field's value. */
  positionOf(code: FieldCode, offset: number): { file: string; line: number; column: number } {
    let line = this.fieldLine[code]!;
    let lineStart = this.lineStart[code]!;
    const t = this.text;
    for (let i = this.start[code]!; i < offset && i < t.length; i++) {
      if (t.charCodeAt(i) === 10) { line++; lineStart = i + 1; }
    }
    return { file: this.file, line, column: offset - lineStart + 1 };
  }

  /** Position of a field's value start (or of the stanza when the field is absent). */
  positionOfField(code: FieldCode): { file: string; line: number; column: number } {
    if (this.start[code]! < 0) return { file: this.file, line: this.line, column: 1 };
    return this.positionOf(code, this.start[code]!);
  }

  reset(): void {
    this.start.fill(-1);
    this.fieldCount = 0;
    if (this.other.length) this.other = [];
  }
}

export interface ScanOptions {
  /** Error code for malformed input (RW_INDEX_PARSE for Packages, RW_STATUS_PARSE for status files). */
  errorCode: ErrorCode;
  /** Line number of the first line of `text` (for chunked scanning). Default 1. */
  firstLine?: number;
  /** Keep unknown fields in `stanza.other`. */
  collectOther?: boolean;
  /** Bytes behind the text (for UTF-8 fields). */
  bytes?: Buffer;
  /**
   * The text is the start of the file: first check that it looks like a control file at all
   * (see sniff.ts), else throw "not a …" without quoting it. Default: when firstLine is 1.
   */
  fileStart?: boolean;
  /**
   * `#` comment lines inside a stanza too (apt's sources.list.d/*.sources and preferences: apt
   * drops comment lines wherever they are). Packages and status files allow them only between stanzas.
   */
  commentsInStanzas?: boolean;
}

/**
 * Scan `text` stanza by stanza, calling `onStanza` for each (with the same reused object).
 * Returns the number of lines scanned. Throws a RollwiseError with file:line:column on a
 * line that is neither `Field: value`, a continuation line, nor blank, or on a repeated field.
 */
export function scanControl(text: string, file: string, onStanza: (s: ControlStanza) => void, options: ScanOptions): number {
  const st = new ControlStanza();
  st.text = text;
  st.bytes = options.bytes;
  st.file = file;
  const collectOther = options.collectOther === true;
  const len = text.length;
  let line = (options.firstLine ?? 1) - 1;
  let pos = 0;
  let inStanza = false;
  let current = -1; // field code of the field being continued, -1 unknown field, -2 none
  let lastKnownOther = -1;
  const fail = (message: string, l: number, column: number, hint?: string): never => {
    throw new RollwiseError(options.errorCode, message, { position: { file, line: l, column }, hint: hint ?? DEB822_HINT });
  };
  if (options.fileStart ?? (options.firstLine ?? 1) === 1) checkFileStart(options.bytes ?? text, file, controlKindOf(options.errorCode), { firstLine: line + 1 });
  while (pos < len) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = len;
    line++;
    let lineEnd = eol;
    if (lineEnd > pos && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    const c = pos < lineEnd ? text.charCodeAt(pos) : -1;
    if (c === 32 || c === 9) {
      // continuation line, or a line of only blanks (treated as a separator)
      let k = pos;
      while (k < lineEnd && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9)) k++;
      if (k === lineEnd) {
        if (inStanza) { onStanza(st); st.reset(); inStanza = false; current = -2; }
      } else {
        if (!inStanza || current === -2) fail('continuation line outside a field', line, 1, "a line starting with a space continues the previous field's value");
        if (current >= 0) st.end[current] = lineEnd;
        else if (collectOther && lastKnownOther >= 0) st.other[lastKnownOther]!.end = lineEnd;
      }
    } else if (c === -1) {
      if (inStanza) { onStanza(st); st.reset(); inStanza = false; current = -2; }
    } else if (c === 35 /* # */ && (!inStanza || options.commentsInStanzas === true)) {
      // comment line between stanzas (deb822 allows them), or inside one where the format allows it; ignored
    } else {
      const colon = text.indexOf(':', pos);
      if (colon < 0 || colon >= lineEnd) fail(`expected 'Field: value', found '${excerpt(text.slice(pos, Math.min(lineEnd, pos + 200)))}'`, line, 1, 'every line of a stanza is a field, a continuation line starting with a space, or blank');
      if (colon === pos) fail('empty field name before \':\'', line, 1);
      for (let k = pos; k < colon; k++) {
        const ch = text.charCodeAt(k);
        if (ch <= 32 || ch >= 127) fail('invalid character in field name', line, k - pos + 1);
      }
      const name = text.slice(pos, colon);
      let code = FIELD_BY_NAME.get(name);
      if (code === undefined) code = FIELD_BY_LOWER.get(name.toLowerCase());
      let vs = colon + 1;
      while (vs < lineEnd && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
      if (!inStanza) { inStanza = true; st.line = line; }
      st.fieldCount++;
      if (code !== undefined) {
        if (st.start[code]! >= 0) fail(`field '${excerpt(name)}' appears twice in the stanza`, line, 1);
        st.start[code] = vs;
        st.end[code] = lineEnd;
        st.fieldLine[code] = line;
        st.lineStart[code] = pos;
        current = code;
      } else {
        current = -1;
        if (collectOther) { st.other.push({ name, start: vs, end: lineEnd }); lastKnownOther = st.other.length - 1; }
      }
    }
    pos = eol + 1;
  }
  if (inStanza) onStanza(st);
  return line - ((options.firstLine ?? 1) - 1);
}

/**
 * Scan a stream of byte chunks stanza by stanza: the chunks are cut at the last blank line
 * seen, so memory stays bounded by the largest stanza plus one chunk. Returns the byte and line counts.
 */
export async function scanControlStream(
  chunks: AsyncIterable<Buffer>,
  file: string,
  onStanza: (s: ControlStanza) => void,
  options: Omit<ScanOptions, 'firstLine' | 'bytes'>,
): Promise<{ bytes: number; lines: number }> {
  let carry: Buffer = Buffer.alloc(0);
  let line = 1;
  let bytes = 0;
  const start = new FileStartCheck(file, options.errorCode);
  for await (const chunk of chunks) {
    bytes += chunk.length;
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    start.feed(buf, line, false);
    const cut = buf.lastIndexOf('\n\n');
    if (cut < 0) { carry = buf; continue; }
    const piece = buf.subarray(0, cut + 2);
    line += scanControl(piece.toString('latin1'), file, onStanza, { ...options, firstLine: line, bytes: piece, fileStart: false });
    carry = buf.subarray(cut + 2);
  }
  if (carry.length) {
    start.feed(carry, line, true);
    line += scanControl(carry.toString('latin1'), file, onStanza, { ...options, firstLine: line, bytes: carry, fileStart: false });
  }
  return { bytes, lines: line - 1 };
}

/**
 * The start-of-file check (sniff.ts) over a stream read in chunks: feed it the unscanned text
 * (carry plus the new chunk, starting at line `firstLine`) until it has decided. Until then, the
 * pieces scanned are only blank and comment lines, so nothing of the file was read as stanzas.
 */
export class FileStartCheck {
  private decided = false;
  constructor(readonly file: string, readonly errorCode: ErrorCode) {}

  feed(text: Buffer, firstLine: number, final: boolean): void {
    if (!this.decided) this.decided = checkFileStart(text, this.file, controlKindOf(this.errorCode), { firstLine, final });
  }
}
