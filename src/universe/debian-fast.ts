/**
 * The fastest path from a decompressed Debian `Packages` index to a universe builder: it scans
 * the bytes (no 50 MB string is made), hashes field names, package names and versions while
 * reading them, and interns them through byte-keyed tables, so a string is created only the
 * first time a name or version is seen. Only the fields the resolver needs are read.
 *
 * It accepts exactly what the record importer accepts. Anything unusual in a relation field
 * (`[arch]` restrictions, build profiles, odd characters) is re-parsed by the shared relation
 * parser (src/kb/relations.ts), which also produces the positioned error when the
 * field is malformed; a structurally malformed stanza is re-scanned by the shared control
 * scanner, which throws the positioned error.
 */
import { checkFileStart, controlKindOf, DEB822_HINT, scanControl } from '../kb/index.js';
import { createRelationScratch, parseRelationField, RelationSyntaxError } from '../kb/index.js';
import { RollwiseError, escapeControls, excerpt, type ErrorCode } from '../shared/index.js';
import { checkDebianVersion } from '../versions/index.js';
import type { LayerSpec, UniverseBuilder } from './builder.js';
import { StringTable } from './strings.js';
import { MA, PV_ESSENTIAL, PV_REQUIRED, REL } from './universe.js';

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;

/** Interning of byte ranges: hash → id, verified against the id's text. */
class ByteTable {
  private slots = new Int32Array(1 << 12);
  private hashes = new Int32Array(1 << 12);
  private count = 0;
  constructor(private readonly textOf: (id: number) => string, private readonly intern: (text: string) => number) {}

  /** Id of bytes[s, e) with FNV-1a hash h, or -1 when `intern` rejects the text (returns -1). */
  lookup(b: Uint8Array, s: number, e: number, h: number): number {
    let mask = this.slots.length - 1;
    let i = h & mask;
    const len = e - s;
    for (;;) {
      const v = this.slots[i]!;
      if (v === 0) break;
      if (this.hashes[i] === h) {
        const t = this.textOf(v - 1);
        if (t.length === len) {
          let k = 0;
          while (k < len && t.charCodeAt(k) === b[s + k]) k++;
          if (k === len) return v - 1;
        }
      }
      i = (i + 1) & mask;
    }
    const text = StringTable.textOf(b, s, e);
    const id = this.intern(text);
    if (id < 0) return -1;
    this.slots[i] = id + 1;
    this.hashes[i] = h;
    if (++this.count * 2 > this.slots.length) {
      const os = this.slots;
      const oh = this.hashes;
      this.slots = new Int32Array(os.length * 2);
      this.hashes = new Int32Array(os.length * 2);
      mask = this.slots.length - 1;
      for (let x = 0; x < os.length; x++) {
        if (os[x] === 0) continue;
        let j = oh[x]! & mask;
        while (this.slots[j] !== 0) j = (j + 1) & mask;
        this.slots[j] = os[x]!;
        this.hashes[j] = oh[x]!;
      }
    }
    return id;
  }
}

// Stanza field codes of this scanner.
const FC_PACKAGE = 0;
const FC_VERSION = 1;
const FC_ARCH = 2;
const FC_ESSENTIAL = 3;
const FC_PRIORITY = 4;
const FC_MULTIARCH = 5;
const FC_REL = 6; // FC_REL + REL kind
const NF = FC_REL + 9;
const FC_OTHER = -1;

const NEEDED: Array<[string, number]> = [
  ['Package', FC_PACKAGE], ['Version', FC_VERSION], ['Architecture', FC_ARCH], ['Essential', FC_ESSENTIAL],
  ['Priority', FC_PRIORITY], ['Multi-Arch', FC_MULTIARCH], ['Depends', FC_REL + REL.depends],
  ['Pre-Depends', FC_REL + REL.preDepends], ['Recommends', FC_REL + REL.recommends], ['Suggests', FC_REL + REL.suggests],
  ['Conflicts', FC_REL + REL.conflicts], ['Breaks', FC_REL + REL.breaks], ['Provides', FC_REL + REL.provides],
  ['Replaces', FC_REL + REL.replaces], ['Enhances', FC_REL + REL.enhances],
];
// Frequent fields we skip: hashing them avoids the case-insensitive fallback for each line.
const SKIPPED = ['Installed-Size', 'Maintainer', 'Description', 'Homepage', 'Description-md5', 'Tag', 'Section', 'Filename',
  'Size', 'MD5sum', 'SHA256', 'Source', 'Built-Using', 'Ghc-Package', 'Ruby-Versions', 'Lua-Versions', 'Build-Ids',
  'Status', 'Conffiles', 'Original-Maintainer', 'Config-Version', 'Protected', 'Important', 'Static-Built-Using',
  'X-Cargo-Built-Using', 'Python-Egg-Name', 'Build-Essential', 'Cnf-Visible-Pkgname', 'Gstreamer-Version', 'Gstreamer-Elements'];
const REL_FIELD_NAME: string[] = [];
for (const [n, c] of NEEDED) if (c >= FC_REL) REL_FIELD_NAME[c - FC_REL] = n;

interface FieldEntry { name: string; code: number }
/** Field names by their first byte (exact case), and needed ones by lower-cased first byte. */
const BY_FIRST: FieldEntry[][] = Array.from({ length: 256 }, () => []);
const BY_FIRST_CI: FieldEntry[][] = Array.from({ length: 256 }, () => []);
for (const [n, c] of NEEDED) {
  BY_FIRST[n.charCodeAt(0)]!.push({ name: n, code: c });
  BY_FIRST_CI[n.toLowerCase().charCodeAt(0)]!.push({ name: n.toLowerCase(), code: c });
}
for (const n of SKIPPED) BY_FIRST[n.charCodeAt(0)]!.push({ name: n, code: FC_OTHER });

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
}
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || (c >= 65 && c <= 90);
}
function isVersionChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 46 || c === 43 || c === 45 || c === 126 || c === 58 || c === 95;
}
function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Signal: re-parse the current relation field with the shared string parser. */
class SlowField {}
const SLOW = new SlowField();

export interface FastLoadResult {
  lines: number;
  packages: number;
}

/**
 * Add a decompressed `Packages` index (bytes) to the builder as a new layer, by the byte fast
 * path. Errors: RW_INDEX_PARSE (or options.errorCode) with file:line:column.
 */
export function addDebianPackagesFast(builder: UniverseBuilder, b: Buffer, file: string, layer: LayerSpec, options: { errorCode?: ErrorCode } = {}): FastLoadResult {
  const errorCode = options.errorCode ?? 'RW_INDEX_PARSE';
  // Not the kind of file at all (a key, a binary): refused before anything is read as stanzas, unquoted.
  checkFileStart(b, file, controlKindOf(errorCode));
  builder.addLayer({ trust: 'distribution', source: file, ...layer });
  const nameTable = builder.nameTable;
  const versionTable = builder.versionTable;
  const names = {
    lookup(bytes: Uint8Array, s: number, e: number, h: number): number {
      const id = nameTable.getBytes(bytes, s, e, h);
      return id >= 0 ? id : builder.internName(StringTable.textOf(bytes, s, e));
    },
  };
  const versions = {
    lookup(bytes: Uint8Array, s: number, e: number, h: number): number {
      const id = versionTable.getBytes(bytes, s, e, h);
      if (id >= 0) return id;
      const t = StringTable.textOf(bytes, s, e);
      return checkDebianVersion(t).ok ? builder.internVersion(t) : -1;
    },
  };
  const archs = new ByteTable((id) => builder.archText(id), (t) => builder.internArch(t));
  const quals = new ByteTable((id) => qualText[id]!, (t) => { qualText.push(t); return qualText.length - 1; });
  const qualText: string[] = [];
  const qualCode: number[] = [];
  const prios = new ByteTable((id) => builder.priorityText(id), (t) => builder.internPriority(t));
  const requiredCode = builder.internPriority('required');
  const scratch = createRelationScratch();
  const hostArch = builder.hostArch;

  const fs = new Int32Array(NF).fill(-1);
  const fe = new Int32Array(NF);
  const fl = new Int32Array(NF);
  const fls = new Int32Array(NF);
  const len = b.length;
  // Newline search four bytes at a time (SWAR) over an aligned 32-bit view of the same memory.
  const wordBase = (4 - (b.byteOffset & 3)) & 3;
  const words = len > wordBase + 4 ? new Uint32Array(b.buffer, b.byteOffset + wordBase, (len - wordBase) >> 2) : new Uint32Array(0);
  const wordEnd = wordBase + words.length * 4;
  const findEol = (from: number): number => {
    let i = from;
    while (i < len && ((i - wordBase) & 3) !== 0) { if (b[i] === 10) return i; i++; }
    if (i >= wordBase && i < wordEnd) {
      // i is aligned here, so this never moves backwards
      let w = (i - wordBase) >> 2;
      const nw = words.length;
      while (w < nw) {
        const x = words[w]! ^ 0x0a0a0a0a;
        if (((x - 0x01010101) & ~x & 0x80808080) !== 0) break;
        w++;
      }
      i = wordBase + w * 4;
    }
    while (i < len && b[i] !== 10) i++;
    return i;
  };
  let line = 0;
  let stanzaLine = 0;
  let inStanza = false;
  let cur = FC_OTHER;
  let packages = 0;

  const fail = (message: string, l: number, column: number, hint?: string): never => {
    throw new RollwiseError(errorCode, message, { position: { file, line: l, column }, hint: hint ?? DEB822_HINT });
  };
  const bailStructure = (l: number): never => {
    // The shared scanner reports the structural error with its position.
    scanControl(b.toString('latin1'), file, () => undefined, { errorCode });
    return fail('malformed stanza', l, 1);
  };
  const positionIn = (code: number, offset: number): { line: number; column: number } => {
    let l = fl[code]!;
    let ls = fls[code]!;
    for (let i = fs[code]!; i < offset; i++) if (b[i] === 10) { l++; ls = i + 1; }
    return { line: l, column: offset - ls + 1 };
  };
  const failAt = (code: number, offset: number, message: string, hint?: string): never => {
    const p = positionIn(code, offset);
    return fail(message, p.line, p.column, hint);
  };
  const fieldText = (code: number): string => {
    let e = fe[code]!;
    while (e > fs[code]! && isWs(b[e - 1]!)) e--;
    return b.toString('latin1', fs[code]!, e);
  };
  /** Is the field's value (trailing blanks ignored) exactly `text`? */
  const valueIs = (code: number, text: string): boolean => {
    const s = fs[code]!;
    let e = fe[code]!;
    while (e > s && isWs(b[e - 1]!)) e--;
    if (e - s !== text.length) return false;
    for (let i = 0; i < text.length; i++) if (b[s + i] !== text.charCodeAt(i)) return false;
    return true;
  };
  const hashRange = (s: number, e: number): number => {
    let h = FNV_OFFSET;
    for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, FNV_PRIME);
    return h;
  };

  /** The shared parser on one field (rare path): positioned errors come from here. */
  const slowField = (code: number): void => {
    const kind = code - FC_REL;
    const s = fs[code]!;
    const text = b.toString('latin1', s, fe[code]!);
    const opts = kind === REL.provides ? { provides: true, hostArch } : kind === REL.conflicts || kind === REL.breaks || kind === REL.replaces ? { noAlternatives: true, hostArch } : { hostArch };
    try {
      parseRelationField(text, 0, text.length, scratch, opts);
    } catch (e) {
      if (e instanceof RelationSyntaxError) failAt(code, s + e.offset, `in ${REL_FIELD_NAME[kind]}: ${escapeControls(e.message)}`);
      throw e;
    }
    for (let k = 0; k < scratch.atomCount; k++) {
      const v = scratch.versions[k]!;
      if (!v) continue;
      const r = checkDebianVersion(v);
      if (!r.ok) failAt(code, s + scratch.offsets[k]!, `in ${REL_FIELD_NAME[kind]}: '${excerpt(v)}' is not a valid Debian version: ${escapeControls(r.reason)}`);
    }
    builder.addScratch(kind, scratch);
  };

  /** Parse one relation field by bytes straight into the builder; throws SLOW for the rare cases. */
  const fastField = (code: number): void => {
    const kind = code - FC_REL;
    const provides = kind === REL.provides;
    const noAlt = provides || kind === REL.conflicts || kind === REL.breaks || kind === REL.replaces;
    let i = fs[code]!;
    const e = fe[code]!;
    let clauseOpen = false;
    let afterBar = false;
    for (;;) {
      while (i < e && isWs(b[i]!)) i++;
      if (i >= e) { if (afterBar) throw SLOW; break; }
      let c = b[i]!;
      if (c === 44) { if (afterBar) throw SLOW; i++; clauseOpen = false; continue; }
      if (!isNameStart(c)) throw SLOW;
      const ns = i;
      let h = FNV_OFFSET;
      while (i < e && isNameChar(c = b[i]!)) { h = Math.imul(h ^ c, FNV_PRIME); i++; }
      const nameId = names.lookup(b, ns, i, h);
      let archq = 0;
      if (i < e && b[i] === 58) {
        i++;
        const as = i;
        let ah = FNV_OFFSET;
        while (i < e && isNameChar(c = b[i]!)) { ah = Math.imul(ah ^ c, FNV_PRIME); i++; }
        if (as === i) throw SLOW;
        const q = quals.lookup(b, as, i, ah);
        if (qualCode[q] === undefined) qualCode[q] = builder.archQualifierCode(qualText[q]!);
        archq = qualCode[q]!;
      }
      while (i < e && isWs(b[i]!)) i++;
      let op = 0;
      let vid = -1;
      if (i < e && b[i] === 40) {
        i++;
        while (i < e && isWs(b[i]!)) i++;
        c = i < e ? b[i]! : 0;
        const c2 = i + 1 < e ? b[i + 1]! : 0;
        if (c === 60) { if (c2 === 60) { op = 1; i += 2; } else if (c2 === 61) { op = 2; i += 2; } else { op = 2; i++; } }
        else if (c === 62) { if (c2 === 62) { op = 5; i += 2; } else if (c2 === 61) { op = 4; i += 2; } else { op = 4; i++; } }
        else if (c === 61) { op = 3; i++; }
        else throw SLOW;
        if (provides && op !== 3) throw SLOW;
        while (i < e && isWs(b[i]!)) i++;
        const vs = i;
        let vh = FNV_OFFSET;
        while (i < e && isVersionChar(c = b[i]!)) { vh = Math.imul(vh ^ c, FNV_PRIME); i++; }
        if (vs === i) throw SLOW;
        vid = versions.lookup(b, vs, i, vh);
        if (vid < 0) throw SLOW;
        while (i < e && isWs(b[i]!)) i++;
        if (i >= e || b[i] !== 41) throw SLOW;
        i++;
        while (i < e && isWs(b[i]!)) i++;
      }
      if (i < e && (b[i] === 91 || b[i] === 60)) throw SLOW;
      if (!clauseOpen) { builder.pushClause(kind); clauseOpen = true; }
      builder.pushAtom(builder.internAtom(nameId, op, vid, archq));
      afterBar = false;
      if (i >= e) break;
      c = b[i]!;
      if (c === 124) { if (noAlt) throw SLOW; i++; afterBar = true; continue; }
      if (c === 44) { i++; clauseOpen = false; continue; }
      throw SLOW;
    }
  };

  const finishStanza = (): void => {
    const ps = fs[FC_PACKAGE]!;
    if (ps < 0 || fe[FC_PACKAGE]! <= ps) {
      fail(`stanza has no Package field`, stanzaLine, 1);
    }
    // Package: validate the grammar on every stanza (a name may have been interned from an atom).
    let pe = fe[FC_PACKAGE]!;
    while (pe > ps && isWs(b[pe - 1]!)) pe--;
    let ok = pe - ps >= 2 && ((b[ps]! >= 97 && b[ps]! <= 122) || (b[ps]! >= 48 && b[ps]! <= 57));
    for (let i = ps + 1; ok && i < pe; i++) {
      const c = b[i]!;
      ok = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
    }
    if (!ok) failAt(FC_PACKAGE, ps, `'${excerpt(fieldText(FC_PACKAGE))}' is not a valid package name`, 'names use a-z 0-9 + - . and start with a letter or digit');
    const nameId = names.lookup(b, ps, pe, hashRange(ps, pe));
    const vs = fs[FC_VERSION]!;
    if (vs < 0 || fieldText(FC_VERSION) === '') fail(`stanza of '${excerpt(fieldText(FC_PACKAGE))}' has no Version field`, stanzaLine, 1);
    let ve = fe[FC_VERSION]!;
    while (ve > vs && isWs(b[ve - 1]!)) ve--;
    const vid = versions.lookup(b, vs, ve, hashRange(vs, ve));
    if (vid < 0) {
      const v = fieldText(FC_VERSION);
      const r = checkDebianVersion(v);
      failAt(FC_VERSION, vs, `'${excerpt(v)}' is not a valid Debian version${r.ok ? '' : `: ${escapeControls(r.reason)}`}`, 'expected [epoch:]upstream[-revision]');
    }
    const as = fs[FC_ARCH]!;
    if (as < 0 || fieldText(FC_ARCH) === '') fail(`stanza of '${excerpt(fieldText(FC_PACKAGE))}' has no Architecture field`, stanzaLine, 1);
    let ae = fe[FC_ARCH]!;
    while (ae > as && isWs(b[ae - 1]!)) ae--;
    const arch = archs.lookup(b, as, ae, hashRange(as, ae));
    let flags = 0;
    if (fs[FC_ESSENTIAL]! >= 0) {
      if (valueIs(FC_ESSENTIAL, 'yes')) flags |= PV_ESSENTIAL;
      else if (!valueIs(FC_ESSENTIAL, 'no')) failAt(FC_ESSENTIAL, fs[FC_ESSENTIAL]!, `expected 'yes' or 'no', found '${excerpt(fieldText(FC_ESSENTIAL))}'`);
    }
    let prio = 0;
    if (fs[FC_PRIORITY]! >= 0) {
      let e = fe[FC_PRIORITY]!;
      const s = fs[FC_PRIORITY]!;
      while (e > s && isWs(b[e - 1]!)) e--;
      if (e > s) prio = prios.lookup(b, s, e, hashRange(s, e));
      if (prio === requiredCode) flags |= PV_REQUIRED;
    }
    let ma = 0;
    if (fs[FC_MULTIARCH]! >= 0) {
      ma = valueIs(FC_MULTIARCH, 'allowed') ? MA.allowed : valueIs(FC_MULTIARCH, 'foreign') ? MA.foreign : valueIs(FC_MULTIARCH, 'same') ? MA.same : MA.no;
    }
    packages++;
    if (builder.beginPackageIds(nameId, vid, arch, flags, 0, ma, prio, stanzaLine, 0) < 0) return;
    for (let k = 0; k < 9; k++) {
      const code = FC_REL + k;
      if (fs[code]! < 0) continue;
      const mc = builder.markClauses();
      const mAtoms = builder.markAtoms();
      try {
        fastField(code);
      } catch (e) {
        if (e !== SLOW) throw e;
        builder.rollbackTo(mc, mAtoms);
        slowField(code);
      }
    }
    builder.endRelations();
  };

  let pos = 0;
  while (pos < len) {
    // Not Buffer#indexOf: it crosses into C++ once per line, which costs more than scanning.
    const eol = findEol(pos);
    line++;
    const lineEnd = eol > pos && b[eol - 1] === 13 ? eol - 1 : eol;
    const c = pos < lineEnd ? b[pos]! : -1;
    if (c === 32 || c === 9) {
      let k = pos;
      while (k < lineEnd && (b[k] === 32 || b[k] === 9)) k++;
      if (k === lineEnd) {
        if (inStanza) { finishStanza(); fs.fill(-1); inStanza = false; cur = -2; }
      } else {
        if (!inStanza || cur === -2) bailStructure(line);
        if (cur >= 0) fe[cur] = lineEnd;
      }
    } else if (c === -1) {
      if (inStanza) { finishStanza(); fs.fill(-1); inStanza = false; cur = -2; }
    } else if (c === 35 && !inStanza) {
      // comment between stanzas
    } else {
      let k = pos;
      let ch: number;
      while (k < eol && (ch = b[k]!) !== 58) {
        if (ch <= 32 || ch >= 127) bailStructure(line);
        k++;
      }
      if (k >= eol || k === pos) bailStructure(line);
      const nameLen = k - pos;
      let code = FC_OTHER;
      let matched = false;
      const group = BY_FIRST[b[pos]!]!;
      for (let g = 0; g < group.length; g++) {
        const f = group[g]!;
        if (f.name.length !== nameLen) continue;
        let x = 1;
        while (x < nameLen && f.name.charCodeAt(x) === b[pos + x]) x++;
        if (x === nameLen) { code = f.code; matched = true; break; }
      }
      if (!matched) {
        // Field names are case-insensitive: `depends:` is Depends.
        const c0 = b[pos]!;
        const groupCi = BY_FIRST_CI[c0 >= 65 && c0 <= 90 ? c0 + 32 : c0]!;
        for (let g = 0; g < groupCi.length; g++) {
          const f = groupCi[g]!;
          if (f.name.length !== nameLen) continue;
          let x = 1;
          while (x < nameLen) {
            const cx = b[pos + x]!;
            if (f.name.charCodeAt(x) !== (cx >= 65 && cx <= 90 ? cx + 32 : cx)) break;
            x++;
          }
          if (x === nameLen) { code = f.code; break; }
        }
      }
      let vstart = k + 1;
      while (vstart < eol && (b[vstart] === 32 || b[vstart] === 9)) vstart++;
      if (!inStanza) { inStanza = true; stanzaLine = line; }
      if (code >= 0) {
        if (fs[code]! >= 0) bailStructure(line);
        fs[code] = vstart;
        let ve = eol;
        if (ve > vstart && b[ve - 1] === 13) ve--;
        fe[code] = ve;
        fl[code] = line;
        fls[code] = pos;
      }
      cur = code;
    }
    pos = eol + 1;
  }
  if (inStanza) finishStanza();
  return { lines: line, packages };
}
