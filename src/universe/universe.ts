/**
 * The read-only universe: see the design note in ./index.ts.
 */
import type { PackageAtom, Provenance, SchemeName } from '../kb/index.js';
import { getScheme, opCode, opOfCode, OP_NONE, relationHolds } from '../versions/index.js';
import type { StringTable } from './strings.js';

/** Relation kinds, the second index of the relation table. */
export const REL = {
  depends: 0, preDepends: 1, recommends: 2, suggests: 3, conflicts: 4, breaks: 5, provides: 6, replaces: 7, enhances: 8,
} as const;
export type RelationKind = keyof typeof REL;
export const REL_KINDS = 9;
export const REL_NAMES: readonly RelationKind[] = ['depends', 'preDepends', 'recommends', 'suggests', 'conflicts', 'breaks', 'provides', 'replaces', 'enhances'];


/** Architecture-qualifier codes of atoms: 0 none, 1 `:any`, 2 `:native`, ≥3 an architecture (archNames[code]). */
export const ARCHQ = { none: 0, any: 1, native: 2 } as const;

/**
 * Debian's rule for the architecture qualifier of a relation atom, in a single-architecture
 * universe (the host architecture plus `all`); the one implementation shared by the universe and
 * the solver's record-backed package set. `qualifier` is '' for none. None, `native` and the host
 * architecture accept every version; `any` accepts a real package only when it is
 * `Multi-Arch: allowed`, and any provider (`viaProvides`); another architecture accepts only
 * versions of that architecture (so `Conflicts: foo:i386` hits nothing in an amd64 universe).
 */
export function archQualifierAccepts(qualifier: string, hostArch: string, pvArch: string, pvMultiArch: string, viaProvides: boolean): boolean {
  if (qualifier === '' || qualifier === 'native' || qualifier === hostArch) return true;
  if (qualifier === 'any') return viaProvides || pvMultiArch === 'allowed';
  return pvArch === qualifier;
}

/** pvFlags bits. */
export const PV_ESSENTIAL = 1;
export const PV_REQUIRED = 2;
/** Multi-Arch codes (pvMultiArch). */
export const MA = { no: 0, same: 1, foreign: 2, allowed: 3 } as const;
export const MA_TEXT: readonly string[] = ['no', 'same', 'foreign', 'allowed'];
/** CUDF keep codes (pvKeep). */
export const KEEP = { none: 0, version: 1, package: 2, feature: 3 } as const;
export const KEEP_TEXT: readonly string[] = ['none', 'version', 'package', 'feature'];

export const SCHEME_LIST: readonly SchemeName[] = ['deb', 'semver', 'cudf'];
const SCHEME_CUDF = 2;

/**
 * What apt knows of a repository (package index) from its Release file, for pinning and
 * candidate choice (src/solver/policy.ts): `suite` is apt's archive (`a=`), `version` its `v=`.
 */
export interface ReleaseFacts {
  origin?: string;
  label?: string;
  suite?: string;
  codename?: string;
  version?: string;
  /** The component of this index (`main`), as the source line names it. */
  component?: string;
  architecture?: string;
  /** `NotAutomatic: yes` (priority 1 unless ButAutomaticUpgrades, then 100). */
  notAutomatic?: boolean;
  butAutomaticUpgrades?: boolean;
  /** Host part of the repository's URI (apt's `Pin: origin`); '' for file: repositories. */
  site?: string;
}

export interface LayerInfo {
  /** Layer name, e.g. `debian:bookworm-main`, `org:kb`, `installed:web-01`. */
  name: string;
  /** Set when the layer is a package repository (an index with Release facts): hosts see it only through their sources. */
  release?: ReleaseFacts;
  source: string;
  trust?: Provenance['trust'];
  author?: string;
  date?: string;
  /** Position in the stacking order: later layers override earlier ones on the same name+version+arch. */
  index: number;
}

/** Everything the builder hands to the Universe constructor (all arrays are owned by the universe). */
export interface UniverseData {
  hostArch: string;
  names: string[];
  nameTable: StringTable;
  versionTable: StringTable;
  versions: string[];
  archNames: string[];
  layers: LayerInfo[];
  priorities: string[];
  pvCount: number;
  pvName: Int32Array;
  pvVersion: Int32Array;
  pvArch: Int32Array;
  pvFlags: Uint8Array;
  pvScheme: Uint8Array;
  pvMultiArch: Uint8Array;
  pvPriority: Uint8Array;
  pvKeep: Uint8Array;
  pvLayer: Uint16Array;
  pvLine: Int32Array;
  /** pv ids whose name+version+arch appeared in more than one layer → layers they were seen in, oldest first. */
  overridden: Map<number, number[]>;
  relStart: Int32Array;
  clauseStart: Int32Array;
  clauseAtoms: Int32Array;
  atomCount: number;
  atomName: Int32Array;
  atomOp: Uint8Array;
  atomVersion: Int32Array;
  atomArch: Int32Array;
  nameVersionStart: Int32Array;
  nameVersionPv: Int32Array;
  provStart: Int32Array;
  provPv: Int32Array;
  rdepStart: Int32Array;
  rdepPv: Int32Array;
  provVersion: Int32Array;
  essential: Int32Array;
  required: Int32Array;
}

const EMPTY = new Int32Array(0);

/**
 * A compact, read-only package universe. Public readonly typed arrays are the fast path for the
 * resolver; the methods are the documented way to read them.
 */
export class Universe {
  readonly hostArch: string;
  readonly nameCount: number;
  readonly pvCount: number;
  readonly atomCount: number;
  readonly clauseCount: number;
  readonly layers: readonly LayerInfo[];
  readonly names: readonly string[];
  readonly versions: readonly string[];
  readonly archNames: readonly string[];
  readonly priorities: readonly string[];

  readonly pvName: Int32Array;
  readonly pvVersion: Int32Array;
  readonly pvArch: Int32Array;
  readonly pvFlags: Uint8Array;
  readonly pvScheme: Uint8Array;
  readonly pvMultiArch: Uint8Array;
  readonly pvPriority: Uint8Array;
  readonly pvKeep: Uint8Array;
  readonly pvLayer: Uint16Array;
  readonly pvLine: Int32Array;
  /** Clauses of pv p, kind k: clause ids relStart[p*REL_KINDS+k] .. relStart[p*REL_KINDS+k+1]. */
  readonly relStart: Int32Array;
  /** Atoms of clause c: clauseAtoms[clauseStart[c] .. clauseStart[c+1]] (atom ids). */
  readonly clauseStart: Int32Array;
  readonly clauseAtoms: Int32Array;
  readonly atomName: Int32Array;
  readonly atomOp: Uint8Array;
  /** Version id of the atom's bound, -1 when unversioned. */
  readonly atomVersion: Int32Array;
  readonly atomArch: Int32Array;
  readonly nameVersionStart: Int32Array;
  readonly nameVersionPv: Int32Array;
  /** Package versions whose Depends or Pre-Depends name n (in some alternative): rdepPv[rdepStart[n] .. rdepStart[n+1]]. */
  readonly rdepStart: Int32Array;
  readonly rdepPv: Int32Array;
  /** Providers of name n: provPv[provStart[n] .. provStart[n+1]], with the provided version id in provVersion (-1 none). */
  readonly provStart: Int32Array;
  readonly provPv: Int32Array;
  readonly provVersion: Int32Array;

  private readonly nameTable: StringTable;
  private readonly versionTable: StringTable;
  private readonly essentialPvs: Int32Array;
  private readonly requiredPvs: Int32Array;
  private readonly overridden: Map<number, number[]>;
  private readonly candidateCache: Array<Int32Array | undefined>;
  private readonly conflictCache: Array<Int32Array | undefined>;
  private readonly breakCache: Array<Int32Array | undefined>;
  private readonly queryCache = new Map<string, Int32Array>();
  private readonly compareFns: Array<(a: string, b: string) => number>;

  /** The data this universe was built from (the binary cache serialises it: ./cache.ts). */
  private readonly data: UniverseData;

  constructor(d: UniverseData) {
    this.data = d;
    this.hostArch = d.hostArch;
    this.names = d.names;
    this.nameTable = d.nameTable;
    this.versionTable = d.versionTable;
    this.nameCount = d.names.length;
    this.versions = d.versions;
    this.archNames = d.archNames;
    this.layers = d.layers;
    this.priorities = d.priorities;
    this.pvCount = d.pvCount;
    this.pvName = d.pvName;
    this.pvVersion = d.pvVersion;
    this.pvArch = d.pvArch;
    this.pvFlags = d.pvFlags;
    this.pvScheme = d.pvScheme;
    this.pvMultiArch = d.pvMultiArch;
    this.pvPriority = d.pvPriority;
    this.pvKeep = d.pvKeep;
    this.pvLayer = d.pvLayer;
    this.pvLine = d.pvLine;
    this.overridden = d.overridden;
    this.relStart = d.relStart;
    this.clauseStart = d.clauseStart;
    this.clauseAtoms = d.clauseAtoms;
    this.clauseCount = d.clauseStart.length - 1;
    this.atomCount = d.atomCount;
    this.atomName = d.atomName;
    this.atomOp = d.atomOp;
    this.atomVersion = d.atomVersion;
    this.atomArch = d.atomArch;
    this.nameVersionStart = d.nameVersionStart;
    this.nameVersionPv = d.nameVersionPv;
    this.provStart = d.provStart;
    this.provPv = d.provPv;
    this.rdepStart = d.rdepStart;
    this.rdepPv = d.rdepPv;
    this.provVersion = d.provVersion;
    this.essentialPvs = d.essential;
    this.requiredPvs = d.required;
    this.candidateCache = new Array<Int32Array | undefined>(d.atomCount);
    this.conflictCache = new Array<Int32Array | undefined>(d.pvCount);
    this.breakCache = new Array<Int32Array | undefined>(d.pvCount);
    this.compareFns = SCHEME_LIST.map((s) => getScheme(s).compare);
  }

  /** The arrays and tables behind this universe, as the builder laid them out (shared: do not modify). */
  toData(): UniverseData {
    return this.data;
  }

  // ---- names -------------------------------------------------------------------------------

  /** Id of a package name (real or virtual), or -1 if the universe never mentions it. */
  nameId(name: string): number {
    return this.nameTable.get(name);
  }

  nameOf(nameId: number): string {
    return this.names[nameId]!;
  }

  /** True when some package version has this name (false for purely virtual names). */
  isReal(nameId: number): boolean {
    return this.nameVersionStart[nameId + 1]! > this.nameVersionStart[nameId]!;
  }

  // ---- package versions ---------------------------------------------------------------------

  /** Name of a pv. */
  nameOfPv(pv: number): string {
    return this.names[this.pvName[pv]!]!;
  }

  versionOf(pv: number): string {
    return this.versions[this.pvVersion[pv]!]!;
  }

  archOf(pv: number): string {
    return this.archNames[this.pvArch[pv]!]!;
  }

  schemeOf(pv: number): SchemeName {
    return SCHEME_LIST[this.pvScheme[pv]!]!;
  }

  isEssential(pv: number): boolean {
    return (this.pvFlags[pv]! & PV_ESSENTIAL) !== 0;
  }

  /** `Priority: required`. */
  isRequired(pv: number): boolean {
    return (this.pvFlags[pv]! & PV_REQUIRED) !== 0;
  }

  priorityOf(pv: number): string | undefined {
    const p = this.pvPriority[pv]!;
    return p === 0 ? undefined : this.priorities[p];
  }

  multiArchOf(pv: number): string {
    return MA_TEXT[this.pvMultiArch[pv]!]!;
  }

  /** CUDF keep property (`none` for Debian packages). */
  keepOf(pv: number): string {
    return KEEP_TEXT[this.pvKeep[pv]!]!;
  }

  layerOf(pv: number): LayerInfo {
    return this.layers[this.pvLayer[pv]!]!;
  }

  /** Where the winning facts of pv came from (the latest layer that defined it). */
  provenanceOf(pv: number): Provenance {
    const l = this.layerOf(pv);
    const p: Provenance = { layer: l.name, source: l.source };
    const line = this.pvLine[pv]!;
    if (line > 0) p.line = line;
    if (l.trust) p.trust = l.trust;
    if (l.author) p.author = l.author;
    if (l.date) p.date = l.date;
    return p;
  }

  /** Layers that also defined this name+version+arch and were overridden (oldest first), if any. */
  overriddenLayersOf(pv: number): LayerInfo[] {
    return (this.overridden.get(pv) ?? []).map((i) => this.layers[i]!);
  }

  /** Every layer (index) that carries this name+version+arch, oldest first: the repositories a pv comes from. */
  layerIndexesOf(pv: number): readonly number[] {
    return this.overridden.get(pv) ?? [this.pvLayer[pv]!];
  }

  /** `name version arch` for messages. */
  describePv(pv: number): string {
    return `${this.nameOfPv(pv)} ${this.versionOf(pv)}`;
  }

  /** Versions of a name, newest first by the name's scheme (empty for virtual or unknown names). */
  versionsOf(nameId: number): Int32Array {
    if (nameId < 0 || nameId >= this.nameCount) return EMPTY;
    return this.nameVersionPv.subarray(this.nameVersionStart[nameId]!, this.nameVersionStart[nameId + 1]!);
  }

  /** The pv of name+version (+arch, when several architectures carry that version), or -1. */
  findPv(name: string, version: string, arch?: string): number {
    const id = this.nameId(name);
    if (id < 0) return -1;
    for (const pv of this.versionsOf(id)) {
      if (this.versionOf(pv) === version && (arch === undefined || this.archOf(pv) === arch)) return pv;
    }
    return -1;
  }

  /**
   * The pv of an installed package: name+version+arch, else the same name and version where
   * one side is `all` (an inventory may write the host's architecture for an arch:all package),
   * else, with no architecture given, any pv of that name and version. -1 when none.
   */
  findInstalledPv(name: string, version: string, arch?: string): number {
    const id = this.nameId(name);
    if (id < 0) return -1;
    let loose = -1;
    for (const pv of this.versionsOf(id)) {
      if (this.versionOf(pv) !== version) continue;
      const a = this.archOf(pv);
      if (arch === undefined || a === arch) return pv;
      if (loose < 0 && (a === 'all' || arch === 'all')) loose = pv;
    }
    return loose;
  }

  /** Packages with `Essential: yes`. */
  essential(): Int32Array {
    return this.essentialPvs;
  }

  /** Packages with `Priority: required`. */
  required(): Int32Array {
    return this.requiredPvs;
  }

  // ---- relations ----------------------------------------------------------------------------

  /** Clause ids of a pv's relation of one kind: [from, to). */
  clauseRange(pv: number, kind: number): [number, number] {
    const i = pv * REL_KINDS + kind;
    return [this.relStart[i]!, this.relStart[i + 1]!];
  }

  /** Atom ids of one clause (the alternatives `a | b | c`). */
  clauseAtomsOf(clause: number): Int32Array {
    return this.clauseAtoms.subarray(this.clauseStart[clause]!, this.clauseStart[clause + 1]!);
  }

  /** A pv's clauses of one kind, each as its atom ids (allocates; fine outside hot loops). */
  clausesOf(pv: number, kind: number): Int32Array[] {
    const [from, to] = this.clauseRange(pv, kind);
    const out: Int32Array[] = [];
    for (let c = from; c < to; c++) out.push(this.clauseAtomsOf(c));
    return out;
  }

  /** All atoms of a pv's relation of one kind, flattened (for conflicts, breaks, provides, replaces). */
  atomsOf(pv: number, kind: number): Int32Array {
    const [from, to] = this.clauseRange(pv, kind);
    return this.clauseAtoms.subarray(this.clauseStart[from]!, this.clauseStart[to]!);
  }

  /** An atom as a PackageAtom (for explanations and output). */
  atomToPackageAtom(atom: number): PackageAtom {
    const a: PackageAtom = { name: this.names[this.atomName[atom]!]! };
    const arch = this.atomArch[atom]!;
    if (arch === ARCHQ.any) a.archQualifier = 'any';
    else if (arch === ARCHQ.native) a.archQualifier = 'native';
    else if (arch > ARCHQ.native) a.archQualifier = this.archNames[arch]!;
    const op = opOfCode(this.atomOp[atom]!);
    if (op !== undefined) {
      a.op = op;
      a.version = this.versions[this.atomVersion[atom]!]!;
    }
    return a;
  }

  /** `name[:arch] (op version)` as Debian writes it. */
  formatAtom(atom: number): string {
    const a = this.atomToPackageAtom(atom);
    return `${a.name}${a.archQualifier ? `:${a.archQualifier}` : ''}${a.op ? ` (${a.op} ${a.version})` : ''}`;
  }

  /** Does version text `v` (in scheme `scheme`, a SCHEME_LIST index) satisfy `op bound` (an operator code)? */
  satisfiesVersion(scheme: number, v: string, op: number, bound: string): boolean {
    if (op === OP_NONE) return true;
    return relationHolds(v === bound ? 0 : this.compareFns[scheme]!(v, bound), opOfCode(op)!);
  }

  /** Compare the versions of two pvs of the same scheme. */
  compareVersions(pvA: number, pvB: number): number {
    const a = this.versionOf(pvA);
    const b = this.versionOf(pvB);
    return a === b ? 0 : this.compareFns[this.pvScheme[pvA]!]!(a, b);
  }

  private archAllows(pv: number, archq: number, viaProvides: boolean): boolean {
    if (archq === ARCHQ.none || archq === ARCHQ.native) return true;
    const qualifier = archq === ARCHQ.any ? 'any' : this.archNames[archq]!;
    return archQualifierAccepts(qualifier, this.hostArch, this.archNames[this.pvArch[pv]!]!, MA_TEXT[this.pvMultiArch[pv]!]!, viaProvides);
  }

  private computeCandidates(nameId: number, op: number, bound: string | undefined, archq: number): Int32Array {
    if (nameId < 0) return EMPTY;
    const out: number[] = [];
    const vs = this.nameVersionStart;
    for (let i = vs[nameId]!, e = vs[nameId + 1]!; i < e; i++) {
      const pv = this.nameVersionPv[i]!;
      if (!this.archAllows(pv, archq, false)) continue;
      if (op === 0 || this.satisfiesVersion(this.pvScheme[pv]!, this.versionOf(pv), op, bound!)) out.push(pv);
    }
    const ps = this.provStart;
    for (let i = ps[nameId]!, e = ps[nameId + 1]!; i < e; i++) {
      const pv = this.provPv[i]!;
      if (!this.archAllows(pv, archq, true)) continue;
      const pvid = this.provVersion[i]!;
      let ok: boolean;
      if (op === 0) ok = true;
      else if (pvid < 0) ok = this.pvScheme[pv] === SCHEME_CUDF; // CUDF: an unversioned provide provides every version
      else ok = this.satisfiesVersion(this.pvScheme[pv]!, this.versions[pvid]!, op, bound!);
      if (ok && out.indexOf(pv) < 0) out.push(pv);
    }
    return Int32Array.from(out);
  }

  /**
   * The pvs satisfying an atom with Debian semantics (CUDF semantics for CUDF packages): real
   * versions of the name matching the constraint, newest first, then providers in load order.
   * An unversioned Provides satisfies only unversioned atoms; `Provides: x (= v)` satisfies a
   * versioned atom on x when v matches. Cached per atom.
   */
  candidates(atom: number): Int32Array {
    let c = this.candidateCache[atom];
    if (c === undefined) {
      const vid = this.atomVersion[atom]!;
      c = this.computeCandidates(this.atomName[atom]!, this.atomOp[atom]!, vid < 0 ? undefined : this.versions[vid], this.atomArch[atom]!);
      this.candidateCache[atom] = c;
    }
    return c;
  }

  /** Candidates of an atom that is not in the universe's tables (a request): cached by its text. */
  candidatesFor(atom: PackageAtom): Int32Array {
    const key = `${atom.name}\u0000${atom.archQualifier ?? ''}\u0000${atom.op ?? ''}\u0000${atom.version ?? ''}`;
    let c = this.queryCache.get(key);
    if (c === undefined) {
      let archq: number = ARCHQ.none;
      if (atom.archQualifier === 'any') archq = ARCHQ.any;
      else if (atom.archQualifier === 'native' || atom.archQualifier === this.hostArch) archq = ARCHQ.native;
      else if (atom.archQualifier) {
        const i = this.archNames.indexOf(atom.archQualifier);
        archq = i > ARCHQ.native ? i : -1;
      }
      const op = opCode(atom.op);
      c = archq < 0 ? EMPTY : this.computeCandidates(this.nameId(atom.name), op, atom.op ? atom.version : undefined, archq);
      this.queryCache.set(key, c);
    }
    return c;
  }

  private expand(pv: number, kind: number): Int32Array {
    const atoms = this.atomsOf(pv, kind);
    if (atoms.length === 0) return EMPTY;
    const out: number[] = [];
    for (const a of atoms) {
      for (const q of this.candidates(a)) {
        if (q !== pv && out.indexOf(q) < 0) out.push(q);
      }
    }
    return Int32Array.from(out);
  }

  /**
   * The pvs a pv conflicts with (its Conflicts expanded: real versions and providers, never the
   * pv itself). Conflicts are symmetric for installability; this lists only the declared side.
   */
  conflictsOf(pv: number): Int32Array {
    let c = this.conflictCache[pv];
    if (c === undefined) { c = this.expand(pv, REL.conflicts); this.conflictCache[pv] = c; }
    return c;
  }

  /** The pvs a pv breaks (its Breaks expanded like conflictsOf). */
  breaksOf(pv: number): Int32Array {
    let c = this.breakCache[pv];
    if (c === undefined) { c = this.expand(pv, REL.breaks); this.breakCache[pv] = c; }
    return c;
  }

  /**
   * Who depends on a name: the package versions whose Depends or Pre-Depends mention it in some
   * alternative, whatever the version constraint (ascending pv order). A virtual name's
   * dependents are its own; add those of the names a package provides to follow Provides.
   */
  dependentsOf(nameId: number): Int32Array {
    if (nameId < 0 || nameId >= this.nameCount) return EMPTY;
    return this.rdepPv.subarray(this.rdepStart[nameId]!, this.rdepStart[nameId + 1]!);
  }

  /** Providers of a name: [pv, provided version id or -1] pairs as two parallel views. */
  providersOf(nameId: number): { pvs: Int32Array; versions: Int32Array } {
    if (nameId < 0 || nameId >= this.nameCount) return { pvs: EMPTY, versions: EMPTY };
    const s = this.provStart[nameId]!;
    const e = this.provStart[nameId + 1]!;
    return { pvs: this.provPv.subarray(s, e), versions: this.provVersion.subarray(s, e) };
  }

  /** Version id of a version text, or -1 if no package or atom uses it. */
  versionId(text: string): number {
    return this.versionTable.get(text);
  }

  /** Figures for `kb stats` and the benchmark. */
  stats(): { names: number; packages: number; virtualNames: number; atoms: number; clauses: number; versions: number; layers: number; essential: number; required: number } {
    let virtual = 0;
    for (let n = 0; n < this.nameCount; n++) if (!this.isReal(n) && this.provStart[n + 1]! > this.provStart[n]!) virtual++;
    return {
      names: this.nameCount, packages: this.pvCount, virtualNames: virtual, atoms: this.atomCount, clauses: this.clauseCount,
      versions: this.versions.length, layers: this.layers.length, essential: this.essentialPvs.length, required: this.requiredPvs.length,
    };
  }
}
