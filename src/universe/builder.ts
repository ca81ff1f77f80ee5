/**
 * Building a universe: layers of package versions are added (records, or the fast Debian path
 * in ./debian.ts), names, versions and atoms are interned as they come, and `build()` lays the
 * relations out as CSR arrays and builds the "who provides X", "who depends on X" and per-name
 * version indexes once.
 */
import type { PackageAtom, PackageRecord, Provenance, Provision, SchemeName } from '../kb/index.js';
import type { RelationScratch } from '../kb/index.js';
import { getScheme, opCode } from '../versions/index.js';
import { StringTable } from './strings.js';
import {
  ARCHQ, KEEP, MA, PV_ESSENTIAL, PV_REQUIRED, REL, REL_KINDS, SCHEME_LIST, Universe,
  type LayerInfo, type ReleaseFacts, type UniverseData,
} from './universe.js';

export interface UniverseBuilderOptions {
  /** The native (dpkg) architecture; default amd64. */
  hostArch?: string;
  /**
   * Foreign architectures whose package versions the universe holds as such (multiarch): a
   * version of one is named `name:arch`, and relation atoms get their architecture context
   * (see ARCHQ in ./universe.ts). Versions of architectures neither native, `all` nor listed are
   * kept as before (as if native).
   */
  foreignArchs?: readonly string[];
}

export interface LayerSpec {
  name: string;
  source?: string;
  trust?: Provenance['trust'];
  author?: string;
  date?: string;
  /** Release facts when the layer is a package repository (see ReleaseFacts). */
  release?: ReleaseFacts;
  /**
   * `override` (default): a package version already defined by an earlier layer (same name,
   * version and architecture) takes this layer's facts. `fill`: this layer only adds package
   * versions no earlier layer defined (e.g. a host's installed packages missing from the archive).
   */
  mode?: 'override' | 'fill';
}

/** Extra per-package facts that are not part of PackageRecord (CUDF keep). */
export interface RecordExtras {
  keep?: 'none' | 'version' | 'package' | 'feature';
}

class Grow32 {
  a: Int32Array;
  n = 0;
  constructor(cap = 1024) { this.a = new Int32Array(cap); }
  push(v: number): void {
    if (this.n === this.a.length) { const b = new Int32Array(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
  view(): Int32Array { return this.a.subarray(0, this.n); }
}

class Grow8 {
  a: Uint8Array;
  n = 0;
  constructor(cap = 1024) { this.a = new Uint8Array(cap); }
  push(v: number): void {
    if (this.n === this.a.length) { const b = new Uint8Array(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
}

const MA_CODES: Record<string, number> = { no: MA.no, same: MA.same, foreign: MA.foreign, allowed: MA.allowed };
const KEEP_CODES: Record<string, number> = { none: KEEP.none, version: KEEP.version, package: KEEP.package, feature: KEEP.feature };
const SCHEME_CODES: Record<SchemeName, number> = { deb: 0, semver: 1, cudf: 2 };
const NAME_LIMIT = 1 << 20;
const EMPTY32 = new Int32Array(0);
const VERSION_LIMIT = 1 << 24;

export class UniverseBuilder {
  readonly hostArch: string;
  /** Package names (real and virtual) and version strings, interned; probe-able by bytes (fast loaders). */
  readonly nameTable = new StringTable();
  readonly versionTable = new StringTable();
  private readonly names: string[] = this.nameTable.texts;
  private readonly versions: string[] = this.versionTable.texts;
  private readonly archNames: string[] = ['', 'any', 'native'];
  private readonly archIndex = new Map<string, number>();
  private readonly priorities: string[] = [''];
  private readonly layers: LayerInfo[] = [];
  private layerMode: 'override' | 'fill' = 'override';

  // package versions
  /** Per name id, its first pv (+1, 0 none); per pv, the next pv of the same name (+1): finds name+version+arch. */
  private nameFirstPv = new Int32Array(1 << 16);
  private readonly pvNextSameName = new Grow32(1 << 16);
  private readonly pvName = new Grow32(1 << 16);
  private readonly pvVersion = new Grow32(1 << 16);
  private readonly pvArch = new Grow32(1 << 16);
  private readonly pvFlags = new Grow8(1 << 16);
  private readonly pvScheme = new Grow8(1 << 16);
  private readonly pvMultiArch = new Grow8(1 << 16);
  private readonly pvPriority = new Grow8(1 << 16);
  private readonly pvKeep = new Grow8(1 << 16);
  private readonly pvLayer = new Grow32(1 << 16);
  private readonly pvLine = new Grow32(1 << 16);
  /** Clause block of each pv in the staging clause list: [blockStart, blockEnd). */
  private readonly pvBlockStart = new Grow32(1 << 16);
  private readonly pvBlockEnd = new Grow32(1 << 16);
  private readonly overridden = new Map<number, number[]>();

  // staging clauses (in arrival order) and atoms
  private readonly clauseKind = new Grow8(1 << 18);
  private readonly clauseFirst = new Grow32(1 << 18); // index into clauseAtomList
  private readonly clauseAtomList = new Grow32(1 << 19);
  private atomSlots = new Int32Array(1 << 18); // open addressing: atom id + 1, 0 empty
  private readonly atomName = new Grow32(1 << 17);
  private readonly atomOp = new Grow8(1 << 17);
  private readonly atomVersion = new Grow32(1 << 17);
  private readonly atomArch = new Grow32(1 << 17);

  private current = -1;
  private built = false;

  /** Code of the `all` architecture. */
  private readonly allArch: number;
  /** Enabled foreign architectures (dpkg --print-foreign-architectures); empty: a single-architecture universe. */
  readonly foreignArchs: readonly string[];
  /** Per architecture code: 1 when it is an enabled foreign architecture. */
  private readonly foreignArch = new Uint8Array(64);
  /** Foreign name id (`name:arch`) → base name id, for the group index of build(). */
  private readonly foreignBase = new Map<number, number>();
  private readonly foreignNameCache = new Map<number, number>();

  constructor(options: UniverseBuilderOptions = {}) {
    this.hostArch = options.hostArch ?? 'amd64';
    this.archNames.forEach((a, i) => { if (i > 0) this.archIndex.set(a, i); });
    this.allArch = this.archCode('all');
    this.foreignArchs = [...new Set(options.foreignArchs ?? [])].filter((a) => a !== this.hostArch && a !== 'all' && a !== 'any' && a !== 'native');
    for (const a of this.foreignArchs) this.foreignArch[this.archCode(a)] = 1;
  }

  /** The name id a package of a foreign architecture is kept under: `name:arch`, apt's way of naming it. */
  private foreignNameId(nameId: number, arch: number): number {
    const key = nameId * 64 + arch;
    let id = this.foreignNameCache.get(key);
    if (id === undefined) {
      id = this.internName(`${this.names[nameId]!}:${this.archNames[arch]!}`);
      this.foreignNameCache.set(key, id);
      this.foreignBase.set(id, nameId);
    }
    return id;
  }

  /** Start a new layer; later layers override earlier ones (see LayerSpec.mode). Returns its index. */
  addLayer(spec: LayerSpec): number {
    const info: LayerInfo = { name: spec.name, source: spec.source ?? spec.name, index: this.layers.length };
    if (spec.trust) info.trust = spec.trust;
    if (spec.author) info.author = spec.author;
    if (spec.date) info.date = spec.date;
    if (spec.release) info.release = { ...spec.release };
    this.layers.push(info);
    this.layerMode = spec.mode ?? 'override';
    if (this.layers.length > 0xffff) throw new Error('too many layers');
    return info.index;
  }

  get packageCount(): number {
    return this.pvName.n;
  }

  internName(name: string): number {
    const id = this.nameTable.intern(name);
    if (id >= NAME_LIMIT) throw new Error('too many package names for one universe');
    return id;
  }

  internVersion(v: string): number {
    const id = this.versionTable.intern(v);
    if (id >= VERSION_LIMIT) throw new Error('too many versions for one universe');
    return id;
  }

  private archCode(arch: string): number {
    let id = this.archIndex.get(arch);
    if (id === undefined) {
      id = this.archNames.length;
      if (id >= 64) throw new Error('too many architectures');
      this.archNames.push(arch);
      this.archIndex.set(arch, id);
    }
    return id;
  }

  private qualifierCode(q: string): number {
    if (q === '') return ARCHQ.none;
    if (q === 'any') return ARCHQ.any;
    if (q === 'native' || q === this.hostArch) return ARCHQ.native;
    return this.archCode(q);
  }

  private priorityCode(p: string | undefined): number {
    if (p === undefined || p === '') return 0;
    let i = this.priorities.indexOf(p);
    if (i < 0) { i = this.priorities.length; this.priorities.push(p); }
    return i;
  }

  /** Intern the atom (name, op, version id or -1, arch qualifier code). */
  internAtom(nameId: number, op: number, versionId: number, archq: number): number {
    let slots = this.atomSlots;
    let mask = slots.length - 1;
    let h = Math.imul(nameId ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(versionId + 1, 0xc2b2ae35) ^ Math.imul(op * 64 + archq + 1, 0x27d4eb2f);
    h ^= h >>> 15;
    let i = h & mask;
    const an = this.atomName.a;
    const av = this.atomVersion.a;
    const ao = this.atomOp.a;
    const aa = this.atomArch.a;
    for (;;) {
      const s = slots[i]!;
      if (s === 0) break;
      const id = s - 1;
      if (an[id] === nameId && av[id] === versionId && ao[id] === op && aa[id] === archq) return id;
      i = (i + 1) & mask;
    }
    const id = this.atomName.n;
    this.atomName.push(nameId);
    this.atomOp.push(op);
    this.atomVersion.push(versionId);
    this.atomArch.push(archq);
    slots[i] = id + 1;
    if ((id + 1) * 2 > slots.length) {
      // grow and rehash
      slots = new Int32Array(slots.length * 2);
      mask = slots.length - 1;
      for (let x = 0; x <= id; x++) {
        let g = Math.imul(this.atomName.a[x]! ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(this.atomVersion.a[x]! + 1, 0xc2b2ae35) ^ Math.imul(this.atomOp.a[x]! * 64 + this.atomArch.a[x]! + 1, 0x27d4eb2f);
        g ^= g >>> 15;
        let j = g & mask;
        while (slots[j] !== 0) j = (j + 1) & mask;
        slots[j] = x + 1;
      }
      this.atomSlots = slots;
    }
    return id;
  }

  /** Low-level (fast loaders): open a clause of `kind` for the current package. */
  pushClause(kind: number): void {
    this.clauseKind.push(kind);
    this.clauseFirst.push(this.clauseAtomList.n);
  }

  /** Low-level: add an atom id to the clause opened last. */
  pushAtom(atom: number): void {
    this.clauseAtomList.push(atom);
  }

  /** Low-level: close the current package's relation block after pushClause/pushAtom calls. */
  endRelations(): void {
    if (this.current >= 0) this.pvBlockEnd.a[this.current] = this.clauseKind.n;
  }

  /** Architecture-qualifier code of a qualifier text ('' for none). */
  archQualifierCode(q: string): number {
    return this.qualifierCode(q);
  }

  /**
   * Begin a package version in the current layer. Returns its pv id, or -1 when the layer is in
   * `fill` mode and the package version already exists (the relations that follow are then ignored).
   */
  beginPackage(p: {
    name: string; version: string; architecture: string; scheme?: SchemeName; essential?: boolean;
    priority?: string; multiArch?: string; line?: number; keep?: string;
  }): number {
    const flags = (p.essential ? PV_ESSENTIAL : 0) | (p.priority === 'required' ? PV_REQUIRED : 0);
    return this.beginPackageIds(
      this.internName(p.name), this.internVersion(p.version), this.archCode(p.architecture), flags,
      SCHEME_CODES[p.scheme ?? 'deb'], (p.multiArch && MA_CODES[p.multiArch]) || 0, this.priorityCode(p.priority),
      p.line ?? 0, (p.keep && KEEP_CODES[p.keep]) || 0,
    );
  }

  /** beginPackage over interned ids and codes (fast loaders). */
  beginPackageIds(nameId: number, vid: number, arch: number, flags: number, scheme: number, multiArch: number, priority: number, line: number, keep: number): number {
    if (this.built) throw new Error('universe already built');
    if (this.foreignArch[arch] === 1) nameId = this.foreignNameId(nameId, arch);
    if (this.layers.length === 0) this.addLayer({ name: 'default' });
    const layer = this.layers.length - 1;
    if (nameId >= this.nameFirstPv.length) {
      const g = new Int32Array(Math.max(nameId + 1, this.nameFirstPv.length * 2));
      g.set(this.nameFirstPv);
      this.nameFirstPv = g;
    }
    let pv: number | undefined;
    let sameVersion = false;
    for (let q = this.nameFirstPv[nameId]! - 1; q >= 0; q = this.pvNextSameName.a[q]! - 1) {
      if (this.pvVersion.a[q] !== vid) continue;
      if (this.pvArch.a[q] === arch) { pv = q; break; }
      if (this.pvArch.a[q] === this.allArch || arch === this.allArch) sameVersion = true;
    }
    if (this.layerMode === 'fill' && (pv !== undefined || sameVersion)) {
      // A fill layer adds only what no layer has: the same name and version under `all` on
      // one side is the same package (an inventory writes the host's architecture for it).
      this.current = -1;
      return -1;
    }
    if (pv !== undefined) {
      const seen = this.overridden.get(pv) ?? [this.pvLayer.a[pv]!];
      seen.push(layer);
      this.overridden.set(pv, seen);
    } else {
      pv = this.pvName.n;
      this.pvNextSameName.push(this.nameFirstPv[nameId]!);
      this.nameFirstPv[nameId] = pv + 1;
      this.pvName.push(nameId);
      this.pvVersion.push(vid);
      this.pvArch.push(arch);
      this.pvFlags.push(0);
      this.pvScheme.push(0);
      this.pvMultiArch.push(0);
      this.pvPriority.push(0);
      this.pvKeep.push(0);
      this.pvLayer.push(0);
      this.pvLine.push(0);
      this.pvBlockStart.push(0);
      this.pvBlockEnd.push(0);
    }
    this.pvFlags.a[pv] = flags;
    this.pvScheme.a[pv] = scheme;
    this.pvMultiArch.a[pv] = multiArch;
    this.pvPriority.a[pv] = priority;
    this.pvKeep.a[pv] = keep;
    this.pvLayer.a[pv] = layer;
    this.pvLine.a[pv] = line;
    this.pvBlockStart.a[pv] = this.clauseKind.n;
    this.pvBlockEnd.a[pv] = this.clauseKind.n;
    this.current = pv;
    return pv;
  }

  /** Text of an interned name / version (fast loaders verify hash hits against these). */
  nameText(id: number): string {
    return this.names[id]!;
  }

  versionText(id: number): string {
    return this.versions[id]!;
  }

  /** Code of an architecture name (interned). */
  internArch(arch: string): number {
    return this.archCode(arch);
  }

  archText(code: number): string {
    return this.archNames[code]!;
  }

  /** Code of a Priority value (interned); 0 for none. */
  internPriority(p: string): number {
    return this.priorityCode(p);
  }

  priorityText(code: number): string {
    return this.priorities[code]!;
  }

  /** Low-level: staging sizes, to roll a half-added field back with rollbackTo. */
  markClauses(): number {
    return this.clauseKind.n;
  }

  markAtoms(): number {
    return this.clauseAtomList.n;
  }

  rollbackTo(clauses: number, atoms: number): void {
    this.clauseKind.n = clauses;
    this.clauseFirst.n = clauses;
    this.clauseAtomList.n = atoms;
  }

  /** Add the clauses held in a relation scratch (from the importers' parser) to the current package. */
  addScratch(kind: number, s: RelationScratch): void {
    const pv = this.current;
    if (pv < 0 || s.atomCount === 0) return;
    let k = 0;
    for (let c = 0; c < s.clauseCount; c++) {
      const end = s.clauseEnds[c]!;
      this.clauseKind.push(kind);
      this.clauseFirst.push(this.clauseAtomList.n);
      for (; k < end; k++) {
        const v = s.versions[k]!;
        const atom = this.internAtom(this.internName(s.names[k]!), s.ops[k]!, v === '' ? -1 : this.internVersion(v), this.qualifierCode(s.archQualifiers[k]!));
        this.clauseAtomList.push(atom);
      }
    }
    this.pvBlockEnd.a[pv] = this.clauseKind.n;
  }

  private atomOf(a: PackageAtom | Provision, provision: boolean): number {
    const nameId = this.internName(a.name);
    if (provision) {
      return this.internAtom(nameId, a.version === undefined ? 0 : 3, a.version === undefined ? -1 : this.internVersion(a.version), 0);
    }
    const atom = a as PackageAtom;
    const op = opCode(atom.op);
    return this.internAtom(nameId, op, op === 0 ? -1 : this.internVersion(atom.version!), this.qualifierCode(atom.archQualifier ?? ''));
  }

  /** Add clauses (each a list of alternative atoms) of one kind to the current package. */
  addClauses(kind: number, clauses: ReadonlyArray<ReadonlyArray<PackageAtom | Provision>>): void {
    const pv = this.current;
    if (pv < 0) return;
    const provision = kind === REL.provides;
    for (const clause of clauses) {
      // An empty clause is kept: it can never be satisfied (CUDF `depends: false!`).
      this.clauseKind.push(kind);
      this.clauseFirst.push(this.clauseAtomList.n);
      for (const a of clause) this.clauseAtomList.push(this.atomOf(a, provision));
    }
    this.pvBlockEnd.a[pv] = this.clauseKind.n;
  }

  /** Add one PackageRecord (in the current layer). Returns its pv id, or -1 if skipped (fill mode). */
  addRecord(r: PackageRecord, extras: RecordExtras = {}): number {
    const begin: Parameters<UniverseBuilder['beginPackage']>[0] = {
      name: r.name, version: r.version, architecture: r.architecture, scheme: r.scheme, essential: r.essential,
    };
    if (r.priority !== undefined) begin.priority = r.priority;
    if (r.multiArch !== undefined) begin.multiArch = r.multiArch;
    if (r.provenance.line !== undefined) begin.line = r.provenance.line;
    if (extras.keep !== undefined) begin.keep = extras.keep;
    const pv = this.beginPackage(begin);
    if (pv < 0) return -1;
    this.addClauses(REL.depends, r.depends);
    this.addClauses(REL.preDepends, r.preDepends);
    this.addClauses(REL.recommends, r.recommends);
    this.addClauses(REL.suggests, r.suggests);
    this.addClauses(REL.conflicts, r.conflicts.map((a) => [a]));
    this.addClauses(REL.breaks, r.breaks.map((a) => [a]));
    this.addClauses(REL.provides, r.provides.map((a) => [a]));
    this.addClauses(REL.replaces, r.replaces.map((a) => [a]));
    return pv;
  }

  /** Add records as one layer. */
  addRecords(layer: LayerSpec, records: Iterable<PackageRecord>): void {
    this.addLayer(layer);
    for (const r of records) this.addRecord(r);
  }

  /**
   * Multiarch: gives every unqualified atom its architecture context, once, before layout. An
   * unqualified Conflicts/Breaks/Replaces applies to every architecture (ARCHQ.every); another
   * unqualified relation of a foreign-architecture package means that package's architecture
   * (ARCHQ.implicit + arch). Provides stay as they are (a provider's architecture is read from
   * the provider). Native and `all` packages keep code 0.
   */
  private contextualiseAtoms(): void {
    const kinds = this.clauseKind.a;
    const first = this.clauseFirst.a;
    const list = this.clauseAtomList.a;
    const staged = this.clauseKind.n;
    const last = this.clauseAtomList.n;
    for (let pv = 0; pv < this.pvName.n; pv++) {
      const arch = this.pvArch.a[pv]!;
      const implicit = this.foreignArch[arch] === 1 ? ARCHQ.implicit + arch : ARCHQ.none;
      for (let c = this.pvBlockStart.a[pv]!, e = this.pvBlockEnd.a[pv]!; c < e; c++) {
        const kind = kinds[c]!;
        if (kind === REL.provides) continue;
        const code = kind === REL.conflicts || kind === REL.breaks || kind === REL.replaces ? ARCHQ.every : implicit;
        if (code === ARCHQ.none) continue;
        const end = c + 1 < staged ? first[c + 1]! : last;
        for (let x = first[c]!; x < end; x++) {
          const atom = list[x]!;
          if (this.atomArch.a[atom] !== ARCHQ.none) continue;
          list[x] = this.internAtom(this.atomName.a[atom]!, this.atomOp.a[atom]!, this.atomVersion.a[atom]!, code);
        }
      }
    }
  }

  /** Lay out the relations, build the indexes, and hand everything to a read-only Universe. */
  build(): Universe {
    if (this.built) throw new Error('universe already built');
    this.built = true;
    if (this.foreignArchs.length > 0) this.contextualiseAtoms();
    const n = this.pvName.n;
    const nameCount = this.names.length;
    const pvName = this.pvName.a.slice(0, n);
    const pvVersion = this.pvVersion.a.slice(0, n);
    const pvScheme = this.pvScheme.a.slice(0, n);

    // relations: clauses ordered by (pv, kind)
    const relStart = new Int32Array(n * REL_KINDS + 1);
    const totalClauses = (() => {
      let t = 0;
      for (let pv = 0; pv < n; pv++) t += this.pvBlockEnd.a[pv]! - this.pvBlockStart.a[pv]!;
      return t;
    })();
    const clauseStart = new Int32Array(totalClauses + 1);
    let atomTotal = 0;
    const kinds = this.clauseKind.a;
    const first = this.clauseFirst.a;
    const stagedClauses = this.clauseKind.n;
    const lastAtom = this.clauseAtomList.n;
    for (let pv = 0; pv < n; pv++) {
      for (let c = this.pvBlockStart.a[pv]!, e = this.pvBlockEnd.a[pv]!; c < e; c++) {
        atomTotal += (c + 1 < stagedClauses ? first[c + 1]! : lastAtom) - first[c]!;
      }
    }
    const clauseAtoms = new Int32Array(atomTotal);
    let ci = 0;
    let ai = 0;
    const list = this.clauseAtomList.a;
    for (let pv = 0; pv < n; pv++) {
      const bs = this.pvBlockStart.a[pv]!;
      const be = this.pvBlockEnd.a[pv]!;
      let sorted = true;
      for (let c = bs + 1; c < be; c++) if (kinds[c]! < kinds[c - 1]!) { sorted = false; break; }
      if (sorted) {
        // One pass: the block's clauses already come kind by kind (the fast loaders' order).
        let c = bs;
        for (let k = 0; k < REL_KINDS; k++) {
          relStart[pv * REL_KINDS + k] = ci;
          for (; c < be && kinds[c] === k; c++) {
            clauseStart[ci++] = ai;
            const end = c + 1 < stagedClauses ? first[c + 1]! : lastAtom;
            for (let x = first[c]!; x < end; x++) clauseAtoms[ai++] = list[x]!;
          }
        }
        continue;
      }
      for (let k = 0; k < REL_KINDS; k++) {
        relStart[pv * REL_KINDS + k] = ci;
        for (let c = bs; c < be; c++) {
          if (kinds[c] !== k) continue;
          clauseStart[ci++] = ai;
          const end = c + 1 < stagedClauses ? first[c + 1]! : lastAtom;
          for (let x = first[c]!; x < end; x++) clauseAtoms[ai++] = list[x]!;
        }
      }
    }
    relStart[n * REL_KINDS] = ci;
    clauseStart[ci] = ai;

    // versions of each name, newest first
    const nameVersionStart = new Int32Array(nameCount + 1);
    for (let pv = 0; pv < n; pv++) nameVersionStart[pvName[pv]! + 1]!++;
    for (let i = 0; i < nameCount; i++) nameVersionStart[i + 1]! += nameVersionStart[i]!;
    const nameVersionPv = new Int32Array(n);
    const fill = nameVersionStart.slice(0, nameCount);
    for (let pv = 0; pv < n; pv++) nameVersionPv[fill[pvName[pv]!]!++] = pv;
    const compare = SCHEME_LIST.map((s) => getScheme(s).compare);
    const versions = this.versions;
    for (let i = 0; i < nameCount; i++) {
      const s = nameVersionStart[i]!;
      const e = nameVersionStart[i + 1]!;
      if (e - s > 1) {
        const sorted = Array.from(nameVersionPv.subarray(s, e)).sort((a, b) => {
          const c = pvScheme[a] === pvScheme[b] ? compare[pvScheme[a]!]!(versions[pvVersion[b]!]!, versions[pvVersion[a]!]!) : pvScheme[a]! - pvScheme[b]!;
          return c !== 0 ? c : a - b;
        });
        nameVersionPv.set(sorted, s);
      }
    }

    // who provides X
    const provStart = new Int32Array(nameCount + 1);
    const aName = this.atomName.a;
    const aVersion = this.atomVersion.a;
    for (let pv = 0; pv < n; pv++) {
      const from = relStart[pv * REL_KINDS + REL.provides]!;
      const to = relStart[pv * REL_KINDS + REL.provides + 1]!;
      for (let x = clauseStart[from]!; x < clauseStart[to]!; x++) provStart[aName[clauseAtoms[x]!]! + 1]!++;
    }
    for (let i = 0; i < nameCount; i++) provStart[i + 1]! += provStart[i]!;
    const provPv = new Int32Array(provStart[nameCount]!);
    const provVersion = new Int32Array(provStart[nameCount]!);
    const pfill = provStart.slice(0, nameCount);
    for (let pv = 0; pv < n; pv++) {
      const from = relStart[pv * REL_KINDS + REL.provides]!;
      const to = relStart[pv * REL_KINDS + REL.provides + 1]!;
      for (let x = clauseStart[from]!; x < clauseStart[to]!; x++) {
        const atom = clauseAtoms[x]!;
        const slot = pfill[aName[atom]!]!++;
        provPv[slot] = pv;
        provVersion[slot] = aVersion[atom]!;
      }
    }

    // who depends on X: pvs whose Depends or Pre-Depends name X in some alternative (each pv once per name)
    const rdepStart = new Int32Array(nameCount + 1);
    const lastPv = new Int32Array(nameCount).fill(-1);
    const forEachDependedName = (visit: (pv: number, nameId: number) => void): void => {
      lastPv.fill(-1);
      for (let pv = 0; pv < n; pv++) {
        for (const kind of [REL.depends, REL.preDepends]) {
          const from = relStart[pv * REL_KINDS + kind]!;
          const to = relStart[pv * REL_KINDS + kind + 1]!;
          for (let x = clauseStart[from]!; x < clauseStart[to]!; x++) {
            const name = aName[clauseAtoms[x]!]!;
            if (lastPv[name] === pv) continue;
            lastPv[name] = pv;
            visit(pv, name);
          }
        }
      }
    };
    forEachDependedName((_pv, name) => { rdepStart[name + 1]!++; });
    for (let i = 0; i < nameCount; i++) rdepStart[i + 1]! += rdepStart[i]!;
    const rdepPv = new Int32Array(rdepStart[nameCount]!);
    const rfill = rdepStart.slice(0, nameCount);
    forEachDependedName((pv, name) => { rdepPv[rfill[name]!++] = pv; });

    const flags = this.pvFlags.a.slice(0, n);
    const essential: number[] = [];
    const required: number[] = [];
    for (let pv = 0; pv < n; pv++) {
      if (flags[pv]! & PV_ESSENTIAL) essential.push(pv);
      if (flags[pv]! & PV_REQUIRED) required.push(pv);
    }

    // multiarch groups: per name its base name, per base name its foreign names (`name:arch`)
    let nameBase = EMPTY32;
    let groupStart = EMPTY32;
    let groupNames = EMPTY32;
    if (this.foreignArchs.length > 0) {
      nameBase = new Int32Array(nameCount);
      for (let i = 0; i < nameCount; i++) nameBase[i] = i;
      groupStart = new Int32Array(nameCount + 1);
      for (const [f, b] of this.foreignBase) { nameBase[f] = b; groupStart[b + 1]!++; }
      for (let i = 0; i < nameCount; i++) groupStart[i + 1]! += groupStart[i]!;
      groupNames = new Int32Array(groupStart[nameCount]!);
      const gfill = groupStart.slice(0, nameCount);
      for (const [f, b] of [...this.foreignBase].sort((x, y) => x[0] - y[0])) groupNames[gfill[b]!++] = f;
    }

    const na = this.atomName.n;
    const data: UniverseData = {
      hostArch: this.hostArch, foreignArchs: [...this.foreignArchs], nameBase, groupStart, groupNames,
      names: this.names, nameTable: this.nameTable, versionTable: this.versionTable, versions: this.versions, archNames: this.archNames,
      layers: this.layers, priorities: this.priorities,
      pvCount: n, pvName, pvVersion, pvArch: this.pvArch.a.slice(0, n), pvFlags: flags, pvScheme,
      pvMultiArch: this.pvMultiArch.a.slice(0, n), pvPriority: this.pvPriority.a.slice(0, n), pvKeep: this.pvKeep.a.slice(0, n),
      pvLayer: Uint16Array.from(this.pvLayer.a.subarray(0, n)), pvLine: this.pvLine.a.slice(0, n),
      overridden: this.overridden,
      relStart, clauseStart, clauseAtoms,
      atomCount: na, atomName: aName.slice(0, na), atomOp: this.atomOp.a.slice(0, na), atomVersion: aVersion.slice(0, na), atomArch: this.atomArch.a.slice(0, na),
      nameVersionStart, nameVersionPv, provStart, provPv, provVersion, rdepStart, rdepPv,
      essential: Int32Array.from(essential), required: Int32Array.from(required),
    };
    return new Universe(data);
  }
}

export function createUniverseBuilder(options: UniverseBuilderOptions = {}): UniverseBuilder {
  return new UniverseBuilder(options);
}

/** A universe from records in one layer (tests, small examples), or from several layers in order. */
export function createUniverse(
  input: PackageRecord[] | Array<{ layer: LayerSpec; records: PackageRecord[] }>,
  options: UniverseBuilderOptions = {},
): Universe {
  const b = new UniverseBuilder(options);
  if (input.length > 0 && 'layer' in input[0]!) {
    for (const l of input as Array<{ layer: LayerSpec; records: PackageRecord[] }>) b.addRecords(l.layer, l.records);
  } else {
    b.addRecords({ name: 'records' }, input as PackageRecord[]);
  }
  return b.build();
}

