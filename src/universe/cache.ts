/**
 * # The binary universe cache (like apt's pkgcache.bin)
 *
 * Parsing bookworm main costs seconds (xz, then 63,000 stanzas); a built universe is a few flat
 * typed arrays and two string tables, so it is written once to a file and read back with one
 * read: typed arrays become views on the file's buffer, each string list is one UTF-8 blob split
 * once, the interning tables keep their hash slots (no rehashing).
 *
 * The serialiser is generic over UniverseData: a typed array is a section, a StringTable is its
 * texts plus its slots, a string list is a blob, a Map and anything else plain is JSON. A field
 * added to UniverseData is cached without touching this file; a field that is none of these
 * (a class instance, a function) makes the universe uncacheable (a one-line notice, never a
 * wrong answer).
 *
 * File: a 96-byte header (magic, format version, byte-order mark, the 32-byte key, the sha256 of
 * the payload, the payload's length, the length of the JSON descriptor), then the descriptor and
 * the 8-aligned sections. A file is trusted only when magic, format, byte order, key, length and
 * checksum all match; anything else is reported in one line and the universe is rebuilt.
 *
 * The key is a sha256 over the cache format, the program's version and the text of the code that
 * builds a universe (src/universe, src/kb, src/versions: a changed parser never reads an old
 * cache), and the caller's inputs: the content of every index file (hashed whole: sha256 runs at
 * about 1.5 GB/s here, 6 ms for bookworm's 8.7 MB .xz, so no size+mtime shortcut is taken), the
 * layers' names, sources and records, the fill records, the host architecture.
 *
 * Files are named by the key in a cache folder; writing goes to a unique temporary file in the
 * same folder, then rename(), so a reader sees a whole file or none and two writers of the same
 * key both leave a valid file (the last rename wins). The folder keeps the most recently used
 * few files.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StringTable } from './strings.js';
import { Universe, type UniverseData } from './universe.js';

/** Bump when the layout of the file changes. */
export const UNIVERSE_CACHE_FORMAT = 1;
const MAGIC = Buffer.from('RWUNIV\u0000\u0001', 'latin1');
const HEADER = 96;
const BOM = 0x01020304;
const PROGRAM_VERSION = '0.1.0';
/** Cache files kept in a folder (most recently used). */
const KEEP_FILES = 6;

type TypedName = 'Int32Array' | 'Uint32Array' | 'Int16Array' | 'Uint16Array' | 'Int8Array' | 'Uint8Array' | 'Float64Array' | 'Float32Array';
type Typed = Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Float64Array | Float32Array;
const CTORS: Record<TypedName, { new (b: ArrayBuffer, o: number, n: number): Typed; BYTES_PER_ELEMENT: number }> = {
  Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array, Uint8Array, Float64Array, Float32Array,
};

type Enc =
  | { t: 'typed'; c: TypedName; o: number; n: number }
  | { t: 'strs'; i: number }
  | { t: 'table'; i: number; slots: Enc }
  | { t: 'map'; v: Array<[unknown, unknown]> }
  | { t: 'json'; v: unknown };

interface Meta {
  fields: Record<string, Enc>;
  /** String lists: blob section [o, o+b) holding n texts joined by NUL. */
  strings: Array<{ o: number; b: number; n: number }>;
}

function isPlain(v: unknown, depth = 0): boolean {
  if (depth > 16) return false;
  if (v === null || v === undefined) return true;
  const t = typeof v;
  if (t === 'string' || t === 'boolean') return true;
  if (t === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isPlain(x, depth + 1));
  if (t === 'object') {
    const proto = Object.getPrototypeOf(v) as unknown;
    return (proto === Object.prototype || proto === null) && Object.values(v as object).every((x) => isPlain(x, depth + 1));
  }
  return false;
}

/** Thrown (and caught by the cache) when a universe holds a field the serialiser cannot write. */
class Uncacheable extends Error {}

/** The bytes of a cache file for `u` under `key` (32 bytes). */
export function encodeUniverse(u: Universe, key: Buffer): Buffer {
  const data = u.toData() as unknown as Record<string, unknown>;
  const sections: Array<{ bytes: Uint8Array; align: number }> = [];
  const stringLists: string[][] = [];
  const listIndex = new Map<string[], number>();
  // section offsets are assigned after the descriptor's size is known: record relative ones first
  let rel = 0;
  const addSection = (bytes: Uint8Array): number => {
    rel = (rel + 7) & ~7;
    const o = rel;
    sections.push({ bytes, align: o });
    rel += bytes.length;
    return o;
  };
  const strings: Meta['strings'] = [];
  const listOf = (list: string[], field: string): number => {
    const seen = listIndex.get(list);
    if (seen !== undefined) return seen;
    const joined = list.join('\u0000');
    const wellFormed = (joined as unknown as { isWellFormed(): boolean }).isWellFormed();
    if (!wellFormed || (list.length > 0 && joined.split('\u0000').length !== list.length)) throw new Uncacheable(`field ${field} has texts that cannot be stored`);
    const bytes = Buffer.from(joined, 'utf8');
    strings.push({ o: addSection(bytes), b: bytes.length, n: list.length });
    stringLists.push(list);
    listIndex.set(list, strings.length - 1);
    return strings.length - 1;
  };
  const typed = (v: ArrayBufferView, field: string): Enc => {
    const c = v.constructor.name as TypedName;
    if (!(c in CTORS)) throw new Uncacheable(`field ${field} is a ${c}`);
    const t = v as Typed;
    return { t: 'typed', c, o: addSection(new Uint8Array(t.buffer, t.byteOffset, t.byteLength)), n: t.length };
  };
  const fields: Record<string, Enc> = {};
  for (const [field, v] of Object.entries(data)) {
    if (ArrayBuffer.isView(v)) fields[field] = typed(v, field);
    else if (v instanceof StringTable) fields[field] = { t: 'table', i: listOf(v.texts, field), slots: typed(v.exportSlots(), field) };
    else if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) fields[field] = { t: 'strs', i: listOf(v as string[], field) };
    else if (v instanceof Map) {
      const entries = [...(v as Map<unknown, unknown>).entries()];
      if (!isPlain(entries)) throw new Uncacheable(`field ${field} holds values that cannot be stored`);
      fields[field] = { t: 'map', v: entries };
    } else if (isPlain(v)) fields[field] = { t: 'json', v };
    else throw new Uncacheable(`field ${field} cannot be stored`);
  }
  // descriptor, then sections at 8-aligned absolute offsets
  const metaFor = (base: number): Buffer => {
    const shift = (e: Enc): Enc => (e.t === 'typed' ? { ...e, o: e.o + base } : e.t === 'table' ? { ...e, slots: shift(e.slots) } : e);
    const m: Meta = { fields: Object.fromEntries(Object.entries(fields).map(([k, e]) => [k, shift(e)])), strings: strings.map((s) => ({ ...s, o: s.o + base })) };
    return Buffer.from(JSON.stringify(m), 'utf8');
  };
  // the descriptor's length depends on the base only through the digits of offsets: iterate to a fixed point
  let base = (HEADER + metaFor(0).length + 7) & ~7;
  let meta = metaFor(base);
  for (;;) {
    const need = (HEADER + meta.length + 7) & ~7;
    if (need <= base) break;
    base = need;
    meta = metaFor(base);
  }
  const total = base + rel;
  const out = Buffer.alloc(total);
  meta.copy(out, HEADER);
  for (const s of sections) out.set(s.bytes, base + s.align);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(UNIVERSE_CACHE_FORMAT, 8);
  new Uint32Array(out.buffer, out.byteOffset + 12, 1)[0] = BOM; // native order: a reader of the other order rejects it
  key.copy(out, 16, 0, 32);
  out.writeDoubleLE(total - HEADER, 80);
  out.writeUInt32LE(meta.length, 88);
  createHash('sha256').update(out.subarray(HEADER)).digest().copy(out, 48);
  return out;
}

export type DecodeResult = { ok: true; universe: Universe } | { ok: false; reason: string };

/**
 * A universe from cache bytes, when they are whole and made for `key`; otherwise why not.
 * Never throws on bad bytes.
 */
export function decodeUniverse(file: Buffer, key: Buffer): DecodeResult {
  try {
    if (file.length < HEADER || !file.subarray(0, 8).equals(MAGIC)) return { ok: false, reason: 'not a universe cache file' };
    if (file.readUInt32LE(8) !== UNIVERSE_CACHE_FORMAT) return { ok: false, reason: `cache format ${file.readUInt32LE(8)}, this program reads ${UNIVERSE_CACHE_FORMAT}` };
    // typed views need aligned offsets: copy a buffer that does not start on an 8-byte boundary
    const buf = file.byteOffset % 8 === 0 ? file : Buffer.from(new Uint8Array(file));
    if (new Uint32Array(buf.buffer, buf.byteOffset + 12, 1)[0] !== BOM) return { ok: false, reason: 'written on a machine of the other byte order' };
    if (!buf.subarray(16, 48).equals(key.subarray(0, 32))) return { ok: false, reason: 'stale (made from other inputs or another program version)' };
    const length = buf.readDoubleLE(80);
    if (length !== buf.length - HEADER) return { ok: false, reason: `truncated or padded (${buf.length} bytes, header says ${length + HEADER})` };
    const sum = createHash('sha256').update(buf.subarray(HEADER)).digest();
    if (!sum.equals(buf.subarray(48, 80))) return { ok: false, reason: 'checksum mismatch (corrupt)' };
    const metaLength = buf.readUInt32LE(88);
    const meta = JSON.parse(buf.toString('utf8', HEADER, HEADER + metaLength)) as Meta;
    const lists = meta.strings.map((s) => {
      if (s.o + s.b > buf.length) throw new Error('string section out of range');
      return s.n === 0 ? [] : buf.toString('utf8', s.o, s.o + s.b).split('\u0000');
    });
    const view = (e: Enc): Typed => {
      if (e.t !== 'typed') throw new Error('expected a typed section');
      const C = CTORS[e.c];
      if (!C || e.o % C.BYTES_PER_ELEMENT !== 0 || e.o + e.n * C.BYTES_PER_ELEMENT > buf.length) throw new Error('typed section out of range');
      return new C(buf.buffer as ArrayBuffer, buf.byteOffset + e.o, e.n);
    };
    const data: Record<string, unknown> = {};
    for (const [field, e] of Object.entries(meta.fields)) {
      if (e.t === 'typed') data[field] = view(e);
      else if (e.t === 'strs') data[field] = lists[e.i];
      else if (e.t === 'table') data[field] = StringTable.fromParts(lists[e.i]!, view(e.slots) as Int32Array);
      else if (e.t === 'map') data[field] = new Map(e.v);
      else data[field] = e.v;
    }
    return { ok: true, universe: new Universe(data as unknown as UniverseData) };
  } catch (e) {
    return { ok: false, reason: `unreadable (${e instanceof Error ? e.message : String(e)})` };
  }
}

// ---- keys -----------------------------------------------------------------------------------

let stamp: string | undefined;

/** The program's version and a hash of the code that builds universes (a changed parser never reads an old cache). */
export function programStamp(): string {
  if (stamp !== undefined) return stamp;
  const h = createHash('sha256').update(`rollwise ${PROGRAM_VERSION} cache ${UNIVERSE_CACHE_FORMAT}\n`);
  const here = path.dirname(fileURLToPath(import.meta.url));
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch {
      h.update(`missing ${dir}\n`);
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) h.update(`${e.name}\n`).update(readFileSync(p));
    }
  };
  const self = fileURLToPath(import.meta.url);
  if (/\.(ts|js)$/.test(self) && existsSync(path.join(here, `universe.${self.endsWith('.ts') ? 'ts' : 'js'}`))) {
    for (const layer of ['universe', 'kb', 'versions']) walk(path.join(here, '..', layer));
  } else {
    // running from the bundled CLI (scripts/bundle.mjs): the one file holds all the code
    h.update(`bundle\n`).update(readFileSync(self));
  }
  stamp = h.digest('hex');
  return stamp;
}

/** A part of a cache key: a text, or a file whose whole content counts. */
export type CacheKeyPart = string | { file: string };

/** sha256 over the program stamp and the parts, in order. */
export function universeCacheKey(parts: readonly CacheKeyPart[]): Buffer {
  const h = createHash('sha256').update(programStamp());
  for (const p of parts) {
    if (typeof p === 'string') h.update(`\u0000s${p.length}:`).update(p);
    else {
      const bytes = readFileSync(p.file);
      h.update(`\u0000f${bytes.length}:`).update(bytes);
    }
  }
  return h.digest();
}

// ---- the cache folder -----------------------------------------------------------------------

export interface UniverseCacheOptions {
  /** The folder holding cache files (created when missing). */
  dir: string;
  /** Where one-line notices go (a stale or corrupt file, a write that failed); default stderr. */
  notice?: (line: string) => void;
  /** Universes with fewer package versions are not written (nothing to gain); default 1000. */
  minPackages?: number;
}

export type CacheOutcome = 'hit' | 'built' | 'rebuilt';

function noticeOf(o: UniverseCacheOptions): (line: string) => void {
  return o.notice ?? ((line) => process.stderr.write(`rollwise: ${line}\n`));
}

/** The file of a key in a cache folder. */
export function universeCacheFile(dir: string, key: Buffer): string {
  return path.join(dir, `universe-${key.toString('hex').slice(0, 32)}.bin`);
}

/** The cached universe of `key`, or undefined (a bad file is reported and removed). */
export function readCachedUniverse(o: UniverseCacheOptions, key: Buffer): { universe?: Universe; rejected?: string } {
  const file = universeCacheFile(o.dir, key);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return {};
  }
  const r = decodeUniverse(bytes, key);
  if (r.ok) {
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch {
      // a read-only cache still serves
    }
    return { universe: r.universe };
  }
  noticeOf(o)(`universe cache ${file}: ${r.reason}; rebuilding it`);
  try {
    rmSync(file, { force: true });
  } catch {
    // left for the write below to replace
  }
  return { rejected: r.reason };
}

/** Write `u` under `key`: a temporary file in the folder, then rename. Failures are a notice, never an error. */
export function writeCachedUniverse(o: UniverseCacheOptions, key: Buffer, u: Universe): string | undefined {
  if (u.pvCount < (o.minPackages ?? 1000)) return undefined;
  const file = universeCacheFile(o.dir, key);
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  let bytes: Buffer;
  try {
    bytes = encodeUniverse(u, key);
  } catch (e) {
    if (e instanceof Uncacheable) {
      noticeOf(o)(`universe cache: not written: ${e.message}`);
      return undefined;
    }
    throw e;
  }
  try {
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    pruneCache(o.dir, file);
    return file;
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing more to do
    }
    noticeOf(o)(`universe cache: could not write ${file}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

/** Keep the KEEP_FILES most recently used cache files (and drop temporary files older than an hour). */
function pruneCache(dir: string, keep: string): void {
  const files: Array<{ p: string; t: number }> = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    try {
      const st = statSync(p);
      if (name.endsWith('.tmp')) {
        if (Date.now() - st.mtimeMs > 3_600_000) rmSync(p, { force: true });
      } else if (/^universe-[0-9a-f]{32}\.bin$/.test(name) && p !== keep) files.push({ p, t: st.mtimeMs });
    } catch {
      // another process removed it
    }
  }
  files.sort((a, b) => b.t - a.t);
  for (const f of files.slice(KEEP_FILES - 1)) rmSync(f.p, { force: true });
}

/**
 * The universe of `parts`: read from the cache when a valid file exists, otherwise built by
 * `build` and written. Without options (the cache off) it only builds.
 */
export async function cachedUniverse(o: UniverseCacheOptions | undefined, parts: readonly CacheKeyPart[] | (() => readonly CacheKeyPart[]), build: () => Promise<Universe> | Universe): Promise<{ universe: Universe; outcome: CacheOutcome }> {
  if (!o) return { universe: await build(), outcome: 'built' };
  let key: Buffer;
  try {
    key = universeCacheKey(typeof parts === 'function' ? parts() : parts);
  } catch {
    // an input that cannot be read: the build reports it with its own error
    return { universe: await build(), outcome: 'built' };
  }
  const read = readCachedUniverse(o, key);
  if (read.universe) return { universe: read.universe, outcome: 'hit' };
  const universe = await build();
  writeCachedUniverse(o, key, universe);
  return { universe, outcome: read.rejected ? 'rebuilt' : 'built' };
}
