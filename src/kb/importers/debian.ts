/**
 * Debian `Packages` indexes → PackageRecord[].
 *
 * `loadDebianIndex(path)` streams the (plain, gzip or xz) file through the control scanner and
 * returns records plus statistics; `parseDebianPackages(bytes, file)` does the same on bytes in
 * memory. `recordFromStanza` is shared with the dpkg status importer. The universe has its own
 * faster path over the same scanner and relation parser that skips the records entirely
 * (src/universe/debian.ts).
 */
import { RollwiseError, escapeControls, excerpt, type ErrorCode } from '../../shared/index.js';
import { checkDebianVersion } from '../../versions/index.js';
import type { Alternatives, PackageAtom, PackageRecord, Provenance, Provision } from '../model.js';
import { DEB822_HINT, F, FileStartCheck, scanControl, scanControlStream, type ControlStanza, type FieldCode } from './control.js';
import { checkFileStart, PACKAGES_INDEX_KIND } from './sniff.js';
import { streamDecompressed } from './io.js';
import {
  createRelationScratch, parseRelationField, RelationSyntaxError, scratchAtom,
  type RelationParseOptions, type RelationScratch,
} from '../relations.js';

export interface DebianImportOptions {
  /** Layer name for provenance. Default `debian:<file name>`. */
  layer?: string;
  trust?: Provenance['trust'];
  /** Architecture used for `[arch]` restrictions. Default amd64. */
  hostArch?: string;
}

export interface DebianIndexStats {
  file: string;
  /** Decompressed size in bytes. */
  bytes: number;
  lines: number;
  packages: number;
  /** Distinct package names. */
  names: number;
  /** Names only provided, never a real package. */
  virtualNames: number;
  essential: number;
  required: number;
  architectures: Record<string, number>;
  /** Number of relation atoms per field. */
  relations: Record<'depends' | 'preDepends' | 'recommends' | 'suggests' | 'conflicts' | 'breaks' | 'provides' | 'replaces', number>;
}

// Absent relation fields share one frozen empty array each (records are read-only).
const NO_CLAUSES = Object.freeze([]) as unknown as Alternatives[];
const NO_ATOMS = Object.freeze([]) as unknown as PackageAtom[];
const NO_PROVISIONS = Object.freeze([]) as unknown as Provision[];

/** Debian package name grammar (Policy 5.6.1: at least two characters, a-z 0-9 + - ., starting alphanumeric). */
export function isValidDebianName(name: string): boolean {
  if (name.length < 2) return false;
  const c0 = name.charCodeAt(0);
  if (!((c0 >= 97 && c0 <= 122) || (c0 >= 48 && c0 <= 57))) return false;
  for (let i = 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return false;
  }
  return true;
}

/** Shared by the record importers: turns one stanza into a PackageRecord or throws a positioned error. */
export class StanzaReader {
  private readonly scratch: RelationScratch = createRelationScratch();
  private readonly validVersions = new Set<string>();
  constructor(readonly errorCode: ErrorCode, readonly hostArch: string = 'amd64') {}

  fail(st: ControlStanza, code: FieldCode, offset: number, message: string, hint?: string): never {
    throw new RollwiseError(this.errorCode, message, { position: st.positionOf(code, offset), hint: hint ?? DEB822_HINT });
  }

  /** Required field value, or a positioned error at the stanza start. */
  required(st: ControlStanza, code: FieldCode, fieldName: string): string {
    const v = st.get(code);
    if (v === undefined || v.length === 0) {
      const pkg = st.get(F.Package);
      throw new RollwiseError(this.errorCode, `stanza${pkg ? ` of '${excerpt(pkg)}'` : ''} has no ${fieldName} field`, {
        position: { file: st.file, line: st.line, column: 1 }, hint: 'every stanza of an index names its Package, Version and Architecture',
      });
    }
    return v;
  }

  name(st: ControlStanza): string {
    const name = this.required(st, F.Package, 'Package');
    if (!isValidDebianName(name)) this.fail(st, F.Package, st.start[F.Package]!, `'${excerpt(name)}' is not a valid package name`, 'names use a-z 0-9 + - . and start with a letter or digit');
    return name;
  }

  version(st: ControlStanza): string {
    const v = this.required(st, F.Version, 'Version');
    const r = checkDebianVersion(v);
    if (!r.ok) this.fail(st, F.Version, st.start[F.Version]!, `'${excerpt(v)}' is not a valid Debian version: ${escapeControls(r.reason)}`, 'expected [epoch:]upstream[-revision]');
    return v;
  }

  /** Parse a relation field into the scratch (empty when absent); versions are validated. */
  relations(st: ControlStanza, code: FieldCode, options: RelationParseOptions = {}): RelationScratch {
    const s = this.scratch;
    const start = st.start[code]!;
    if (start < 0) { s.atomCount = 0; s.clauseCount = 0; return s; }
    try {
      parseRelationField(st.text, start, st.end[code]!, s, { hostArch: this.hostArch, ...options });
    } catch (e) {
      if (e instanceof RelationSyntaxError) this.fail(st, code, e.offset, `in ${fieldLabel(code)}: ${escapeControls(e.message)}`);
      throw e;
    }
    for (let k = 0; k < s.atomCount; k++) {
      const v = s.versions[k]!;
      if (!v || this.validVersions.has(v)) continue;
      const r = checkDebianVersion(v);
      if (!r.ok) this.fail(st, code, s.offsets[k]!, `in ${fieldLabel(code)}: '${excerpt(v)}' is not a valid Debian version: ${escapeControls(r.reason)}`);
      this.validVersions.add(v);
    }
    return s;
  }

  private atomOf(s: RelationScratch, k: number): PackageAtom {
    return atomAt(s, k);
  }

  clauses(st: ControlStanza, code: FieldCode): Alternatives[] {
    if (st.start[code]! < 0) return NO_CLAUSES;
    const s = this.relations(st, code);
    const out: Alternatives[] = [];
    let k = 0;
    for (let c = 0; c < s.clauseCount; c++) {
      const end = s.clauseEnds[c]!;
      const alt: Alternatives = [];
      for (; k < end; k++) alt.push(this.atomOf(s, k));
      out.push(alt);
    }
    return out;
  }

  atoms(st: ControlStanza, code: FieldCode): PackageAtom[] {
    if (st.start[code]! < 0) return NO_ATOMS;
    const s = this.relations(st, code, { noAlternatives: true });
    const out: PackageAtom[] = [];
    for (let k = 0; k < s.atomCount; k++) out.push(this.atomOf(s, k));
    return out;
  }

  provides(st: ControlStanza): Provision[] {
    if (st.start[F.Provides]! < 0) return NO_PROVISIONS;
    const s = this.relations(st, F.Provides, { provides: true });
    const out: Provision[] = [];
    for (let k = 0; k < s.atomCount; k++) {
      const v = s.versions[k]!;
      out.push(v ? { name: s.names[k]!, version: v } : { name: s.names[k]! });
    }
    return out;
  }

  /** A full record from a stanza. */
  record(st: ControlStanza, provenance: Provenance, defaultArch?: string): PackageRecord {
    const name = this.name(st);
    const version = this.version(st);
    const architecture = st.get(F.Architecture) ?? defaultArch;
    if (!architecture) this.required(st, F.Architecture, 'Architecture');
    const rec: PackageRecord = {
      name, version, architecture: architecture!, scheme: 'deb',
      depends: this.clauses(st, F.Depends),
      preDepends: this.clauses(st, F.PreDepends),
      recommends: this.clauses(st, F.Recommends),
      suggests: this.clauses(st, F.Suggests),
      conflicts: this.atoms(st, F.Conflicts),
      breaks: this.atoms(st, F.Breaks),
      provides: this.provides(st),
      replaces: this.atoms(st, F.Replaces),
      essential: yesNo(this, st, F.Essential),
      provenance: { ...provenance, line: st.line },
    };
    const priority = st.get(F.Priority);
    if (priority !== undefined) rec.priority = priority;
    const multiArch = st.get(F.MultiArch);
    if (multiArch !== undefined) rec.multiArch = multiArch;
    const section = st.get(F.Section);
    if (section !== undefined) rec.section = section;
    const source = st.get(F.Source);
    if (source !== undefined) rec.source = source;
    const isz = integerField(this, st, F.InstalledSize);
    if (isz !== undefined) rec.installedSize = isz;
    const size = integerField(this, st, F.Size);
    if (size !== undefined) rec.size = size;
    const filename = st.get(F.Filename);
    if (filename !== undefined) rec.filename = filename;
    const sha = st.get(F.SHA256);
    if (sha !== undefined) rec.sha256 = sha;
    const desc = st.utf8Of(F.Description);
    if (desc !== undefined) rec.description = desc.split('\n', 1)[0]!;
    return rec;
  }
}

function fieldLabel(code: FieldCode): string {
  return ['Package', 'Version', 'Architecture', 'Depends', 'Pre-Depends', 'Recommends', 'Suggests', 'Conflicts', 'Breaks', 'Provides', 'Replaces', 'Enhances'][code] ?? 'field';
}

const atomAt = scratchAtom;

function yesNo(r: StanzaReader, st: ControlStanza, code: FieldCode): boolean {
  const v = st.get(code);
  if (v === undefined) return false;
  if (v === 'yes') return true;
  if (v === 'no') return false;
  return r.fail(st, code, st.start[code]!, `expected 'yes' or 'no', found '${excerpt(v)}'`);
}

function integerField(r: StanzaReader, st: ControlStanza, code: FieldCode): number | undefined {
  const v = st.get(code);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) r.fail(st, code, st.start[code]!, `expected a non-negative integer, found '${excerpt(v)}'`);
  return Number(v);
}

function createStats(file: string): DebianIndexStats {
  return {
    file, bytes: 0, lines: 0, packages: 0, names: 0, virtualNames: 0, essential: 0, required: 0, architectures: {},
    relations: { depends: 0, preDepends: 0, recommends: 0, suggests: 0, conflicts: 0, breaks: 0, provides: 0, replaces: 0 },
  };
}

function countAtoms(c: Alternatives[]): number {
  let n = 0;
  for (const a of c) n += a.length;
  return n;
}

/** Fill the derived figures of stats from the records. */
function finishStats(stats: DebianIndexStats, records: PackageRecord[]): DebianIndexStats {
  const real = new Set<string>();
  const provided = new Set<string>();
  for (const r of records) {
    real.add(r.name);
    for (const p of r.provides) provided.add(p.name);
    stats.architectures[r.architecture] = (stats.architectures[r.architecture] ?? 0) + 1;
    if (r.essential) stats.essential++;
    if (r.priority === 'required') stats.required++;
    const rel = stats.relations;
    rel.depends += countAtoms(r.depends);
    rel.preDepends += countAtoms(r.preDepends);
    rel.recommends += countAtoms(r.recommends);
    rel.suggests += countAtoms(r.suggests);
    rel.conflicts += r.conflicts.length;
    rel.breaks += r.breaks.length;
    rel.provides += r.provides.length;
    rel.replaces += r.replaces.length;
  }
  stats.packages = records.length;
  stats.names = real.size;
  let virt = 0;
  for (const p of provided) if (!real.has(p)) virt++;
  stats.virtualNames = virt;
  return stats;
}

const PIECE_BYTES = 1 << 18;

function provenanceFor(file: string, options: DebianImportOptions): Provenance {
  const base = file.split('/').pop() ?? file;
  return { layer: options.layer ?? `debian:${base}`, source: file, trust: options.trust ?? 'distribution' };
}

/** Parse a decompressed `Packages` index held in memory. */
export function parseDebianPackages(bytes: Buffer, file: string, options: DebianImportOptions = {}): { records: PackageRecord[]; stats: DebianIndexStats } {
  const reader = new StanzaReader('RW_INDEX_PARSE', options.hostArch);
  const provenance = provenanceFor(file, options);
  const records: PackageRecord[] = [];
  const stats = createStats(file);
  // Scanned in pieces cut at blank lines: one 50 MB string costs more than many small ones.
  const onStanza = (st: ControlStanza): void => { records.push(reader.record(st, provenance)); };
  checkFileStart(bytes, file, PACKAGES_INDEX_KIND);
  let line = 1;
  let pos = 0;
  while (pos < bytes.length) {
    let cut = pos + PIECE_BYTES >= bytes.length ? bytes.length : bytes.indexOf('\n\n', pos + PIECE_BYTES);
    cut = cut < 0 ? bytes.length : Math.min(bytes.length, cut + 2);
    const piece = bytes.subarray(pos, cut);
    line += scanControl(piece.toString('latin1'), file, onStanza, { errorCode: 'RW_INDEX_PARSE', firstLine: line, bytes: piece, fileStart: false });
    pos = cut;
  }
  stats.lines = line - 1;
  stats.bytes = bytes.length;
  return { records, stats: finishStats(stats, records) };
}

/**
 * Load a `Packages` index (plain, .gz or .xz, detected from its content) as a stream.
 * Errors: RW_IO (missing file, xz not installed, corrupt compression), RW_INDEX_PARSE with
 * file:line:column for malformed stanzas.
 */
export async function loadDebianIndex(path: string, options: DebianImportOptions = {}): Promise<{ records: PackageRecord[]; stats: DebianIndexStats }> {
  const reader = new StanzaReader('RW_INDEX_PARSE', options.hostArch);
  const provenance = provenanceFor(path, options);
  const records: PackageRecord[] = [];
  const stats = createStats(path);
  const { bytes, lines } = await scanControlStream(streamDecompressed(path), path, (st) => records.push(reader.record(st, provenance)), { errorCode: 'RW_INDEX_PARSE' });
  stats.bytes = bytes;
  stats.lines = lines;
  return { records, stats: finishStats(stats, records) };
}

/** Stream records in batches (for consumers that do not want them all in memory). */
export async function* streamDebianIndex(path: string, options: DebianImportOptions = {}): AsyncGenerator<PackageRecord[]> {
  const reader = new StanzaReader('RW_INDEX_PARSE', options.hostArch);
  const provenance = provenanceFor(path, options);
  let batch: PackageRecord[] = [];
  const chunks = streamDecompressed(path);
  // Scan chunk by chunk, yielding the records each chunk completed.
  let carry: Buffer = Buffer.alloc(0);
  let line = 1;
  const start = new FileStartCheck(path, 'RW_INDEX_PARSE');
  const onStanza = (st: ControlStanza): void => { batch.push(reader.record(st, provenance)); };
  for await (const chunk of chunks) {
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    start.feed(buf, line, false);
    const cut = buf.lastIndexOf('\n\n');
    if (cut < 0) { carry = buf; continue; }
    const piece = buf.subarray(0, cut + 2);
    line += scanControl(piece.toString('latin1'), path, onStanza, { errorCode: 'RW_INDEX_PARSE', firstLine: line, bytes: piece, fileStart: false });
    carry = buf.subarray(cut + 2);
    if (batch.length) { yield batch; batch = []; }
  }
  if (carry.length) {
    start.feed(carry, line, true);
    scanControl(carry.toString('latin1'), path, onStanza, { errorCode: 'RW_INDEX_PARSE', firstLine: line, bytes: carry, fileStart: false });
  }
  if (batch.length) yield batch;
}
