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


/**
 * Architecture-qualifier codes of atoms: 0 none, 1 `:any`, 2 `:native`, 3..63 an architecture
 * (archNames[code]). In a multiarch universe (foreign architectures enabled) the builder gives
 * unqualified atoms their context: `every` (64) for an unqualified Conflicts/Breaks/Replaces,
 * which applies to every architecture, and `implicit + arch` (128 + code) for another relation
 * of a package of foreign architecture `arch`, which means that architecture; 0 is then the
 * native context. Single-architecture universes never hold the codes ≥ 64.
 */
export const ARCHQ = { none: 0, any: 1, native: 2, every: 64, implicit: 128 } as const;

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
  /** Enabled foreign architectures; empty for a single-architecture universe (then the three arrays below are empty). */
  foreignArchs: string[];
  /** Multiarch: per name id, its base name (`libc6` for `libc6:i386`; itself otherwise). */
  nameBase: Int32Array;
  /** Multiarch: the foreign names of base name n: groupNames[groupStart[n] .. groupStart[n+1]]. */
  groupStart: Int32Array;
  groupNames: Int32Array;
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
const EMPTY_LIST: readonly number[] = [];

/**
 * A compact, read-only package universe. Public readonly typed arrays are the fast path for the
 * resolver; the methods are the documented way to read them.
 */
export class Universe {
  readonly hostArch: string;
  /** Enabled foreign architectures (multiarch); empty when single-architecture. */
  readonly foreignArchs: readonly string[];
  /** True when foreign architectures are enabled: package versions of them are named `name:arch`. */
  readonly multiarch: boolean;
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
  /** Per architecture code: 1 for an enabled foreign architecture. */
  private readonly archForeign = new Uint8Array(64);
  private readonly nameBase: Int32Array;
  private readonly groupStart: Int32Array;
  private readonly groupNames: Int32Array;

  /** The data this universe was built from (the binary cache serialises it: ./cache.ts). */
  private readonly data: UniverseData;

  constructor(d: UniverseData) {
    this.data = d;
    this.hostArch = d.hostArch;
    this.foreignArchs = d.foreignArchs ?? [];
    this.multiarch = this.foreignArchs.length > 0;
    this.nameBase = d.nameBase ?? new Int32Array(0);
    this.groupStart = d.groupStart ?? new Int32Array(0);
    this.groupNames = d.groupNames ?? new Int32Array(0);
    for (const a of this.foreignArchs) {
      const i = d.archNames.indexOf(a);
      if (i > ARCHQ.native) this.archForeign[i] = 1;
    }
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
    const id = this.nameIdOfSpec(name, arch);
    if (id < 0) return -1;
    for (const pv of this.versionsOf(id)) {
      if (this.versionOf(pv) === version && (arch === undefined || this.archOf(pv) === arch || this.foreignArchOf(arch) >= 0)) return pv;
    }
    return -1;
  }

  /**
   * The pv of an installed package: name+version+arch, else the same name and version where
   * one side is `all` (an inventory may write the host's architecture for an arch:all package),
   * else, with no architecture given, any pv of that name and version. -1 when none. A foreign
   * architecture (multiarch) selects the `name:arch` versions.
   */
  findInstalledPv(name: string, version: string, arch?: string): number {
    const id = this.nameIdOfSpec(name, arch);
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

  // ---- multiarch ----------------------------------------------------------------------------

  /** Code of an enabled foreign architecture, or -1 (native, `all`, unknown, or single-architecture). */
  private foreignArchOf(arch: string | undefined): number {
    if (!this.multiarch || arch === undefined) return -1;
    const i = this.archNames.indexOf(arch);
    return i > ARCHQ.native && this.archForeign[i] === 1 ? i : -1;
  }

  /** Whether pv is of an enabled foreign architecture (named `name:arch`). */
  isForeignPv(pv: number): boolean {
    return this.archForeign[this.pvArch[pv]!] === 1;
  }

  /** The base name id of a name (`libc6` for `libc6:i386`); the name itself in a single-architecture universe. */
  baseNameOf(nameId: number): number {
    return this.multiarch && nameId >= 0 ? this.nameBase[nameId]! : nameId;
  }

  /** The names of a multiarch group: its base name, then its foreign names (`name:arch`). */
  groupOf(nameId: number): number[] {
    if (!this.multiarch || nameId < 0) return nameId < 0 ? [] : [nameId];
    const base = this.nameBase[nameId]!;
    return [base, ...this.groupNames.subarray(this.groupStart[base]!, this.groupStart[base + 1]!)];
  }

  /**
   * The name id the versions of (name, arch) are kept under: `name:arch` for an enabled foreign
   * architecture, else the name (`name:arch` written in `name` is read the same way; a native,
   * `all` or `native` qualifier means the name; with `arch` given, a qualifier equal to it is
   * read as the same architecture, so `libc6:i386` with i386 is the i386 package). -1 when unknown.
   */
  nameIdOfSpec(name: string, arch?: string): number {
    let n = name;
    let a = arch;
    if (a === undefined) {
      const whole = this.nameId(name);
      if (whole >= 0) return whole;
      const colon = name.lastIndexOf(':');
      if (colon > 0) { n = name.slice(0, colon); a = name.slice(colon + 1); }
    } else if (a !== '' && name.endsWith(`:${a}`)) {
      n = name.slice(0, name.length - a.length - 1);
    }
    if (a === undefined || a === '') return this.nameId(n);
    if (this.foreignArchOf(a) >= 0) return this.nameId(`${n}:${a}`);
    return this.nameId(n);
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
    else if (arch > ARCHQ.native && arch < ARCHQ.every) a.archQualifier = this.archNames[arch]!;
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

  /**
   * Multiarch: does pv's architecture meet an atom's qualifier code (see ARCHQ)? Following
   * deb-control(5)'s Multi-Arch and dpkg's rule: a native-context atom is met by native and
   * `all` versions, and by any architecture's `Multi-Arch: foreign` version; a foreign-context
   * atom by that architecture, or `foreign`; `:any` by `Multi-Arch: allowed` (providers too);
   * `:native` by native and `all`; `:ARCH` by ARCH only; an unqualified negative relation by all.
   */
  private archMeets(pv: number, archq: number): boolean {
    const pa = this.pvArch[pv]!;
    const ma = this.pvMultiArch[pv]!;
    if (archq === ARCHQ.none) return this.archForeign[pa] === 0 || ma === MA.foreign;
    if (archq === ARCHQ.every) return true;
    if (archq === ARCHQ.native) return this.archForeign[pa] === 0;
    if (archq === ARCHQ.any) return ma === MA.allowed; // a provider too: apt 2.6 and dpkg accept only Multi-Arch: allowed ones
    if (archq >= ARCHQ.implicit) return pa === archq - ARCHQ.implicit || ma === MA.foreign;
    return pa === archq;
  }

  private computeCandidatesMultiarch(nameId: number, op: number, bound: string | undefined, archq: number): Int32Array {
    const out: number[] = [];
    const vs = this.nameVersionStart;
    const base = this.nameBase[nameId]!;
    for (let g = this.groupStart[base]! - 1, ge = this.groupStart[base + 1]!; g < ge; g++) {
      const name = g < this.groupStart[base]! ? base : this.groupNames[g]!;
      for (let i = vs[name]!, e = vs[name + 1]!; i < e; i++) {
        const pv = this.nameVersionPv[i]!;
        if (!this.archMeets(pv, archq)) continue;
        if (op === 0 || this.satisfiesVersion(this.pvScheme[pv]!, this.versionOf(pv), op, bound!)) out.push(pv);
      }
    }
    const ps = this.provStart;
    for (let i = ps[base]!, e = ps[base + 1]!; i < e; i++) {
      const pv = this.provPv[i]!;
      if (!this.archMeets(pv, archq)) continue;
      const pvid = this.provVersion[i]!;
      const ok = op === 0 || (pvid >= 0 && this.satisfiesVersion(this.pvScheme[pv]!, this.versions[pvid]!, op, bound!));
      if (ok && out.indexOf(pv) < 0) out.push(pv);
    }
    return Int32Array.from(out);
  }

  private computeCandidates(nameId: number, op: number, bound: string | undefined, archq: number): Int32Array {
    if (nameId < 0) return EMPTY;
    if (this.multiarch) return this.computeCandidatesMultiarch(nameId, op, bound, archq);
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

  /**
   * Candidates of an atom that is not in the universe's tables (a request): cached by its text.
   * Multiarch: `name:arch` in the name is read as the qualifier; an unqualified request for a
   * name no native version has falls to the first foreign architecture that has it (apt's
   * preferred package of a group).
   */
  candidatesFor(atom: PackageAtom): Int32Array {
    const key = `${atom.name}\u0000${atom.archQualifier ?? ''}\u0000${atom.op ?? ''}\u0000${atom.version ?? ''}`;
    let c = this.queryCache.get(key);
    if (c === undefined) {
      let name = atom.name;
      let qualifier = atom.archQualifier;
      const colon = name.lastIndexOf(':');
      if (qualifier === undefined && colon > 0 && this.multiarch) { qualifier = name.slice(colon + 1); name = name.slice(0, colon); }
      let archq: number = ARCHQ.none;
      if (qualifier === 'any') archq = ARCHQ.any;
      else if (qualifier === 'native' || qualifier === this.hostArch) archq = ARCHQ.native;
      else if (qualifier) {
        const i = this.archNames.indexOf(qualifier);
        archq = i > ARCHQ.native && i < ARCHQ.every ? i : -1;
      }
      const op = opCode(atom.op);
      const bound = atom.op ? atom.version : undefined;
      const nameId = this.nameId(name);
      // an unqualified request names the native package (apt's `install jq` is jq:amd64 even
      // when an i386 jq is Multi-Arch: foreign); only without one do other architectures count
      if (archq === ARCHQ.none && this.multiarch && nameId >= 0) {
        c = this.computeCandidates(nameId, op, bound, ARCHQ.native);
        if (c.length === 0) c = this.computeCandidates(nameId, op, bound, ARCHQ.none);
      } else c = archq < 0 ? EMPTY : this.computeCandidates(nameId, op, bound, archq);
      if (c.length === 0 && archq === ARCHQ.none && this.multiarch && nameId >= 0) {
        for (const f of this.groupOf(nameId).slice(1)) {
          if (this.versionsOf(f).length === 0) continue;
          c = this.computeCandidates(nameId, op, bound, this.pvArch[this.versionsOf(f)[0]!]!);
          break;
        }
      }
      this.queryCache.set(key, c);
    }
    return c;
  }

  private expand(pv: number, kind: number): Int32Array {
    const atoms = this.atomsOf(pv, kind);
    const group = this.multiarch && kind === REL.conflicts ? this.groupConflicts(pv) : EMPTY_LIST;
    if (atoms.length === 0 && group.length === 0) return EMPTY;
    const out: number[] = [];
    const base = this.multiarch ? this.nameBase[this.pvName[pv]!]! : -1;
    for (const a of atoms) {
      // an unqualified negative relation never hits its own package in another architecture (the group rule below decides)
      const skipOwnGroup = this.atomArch[a] === ARCHQ.every;
      for (const q of this.candidates(a)) {
        if (q === pv || (skipOwnGroup && this.nameBase[this.pvName[q]!] === base)) continue;
        if (out.indexOf(q) < 0) out.push(q);
      }
    }
    for (const q of group) if (out.indexOf(q) < 0) out.push(q);
    return Int32Array.from(out);
  }

  /**
   * Multiarch's one rule per package name across architectures: a `Multi-Arch: same` version may
   * sit beside versions of its name in other architectures only when they are `same` too and of
   * the same version; any other version of a name excludes its name in every other architecture.
   */
  private groupConflicts(pv: number): readonly number[] {
    const name = this.pvName[pv]!;
    const group = this.groupOf(name);
    if (group.length < 2) return EMPTY_LIST;
    const same = this.pvMultiArch[pv] === MA.same;
    const out: number[] = [];
    for (const g of group) {
      if (g === name) continue;
      for (const q of this.versionsOf(g)) {
        if (same && this.pvMultiArch[q] === MA.same && this.pvVersion[q] === this.pvVersion[pv]) continue;
        out.push(q);
      }
    }
    return out;
  }

  /**
   * The pvs a pv conflicts with (its Conflicts expanded: real versions and providers, never the
   * pv itself; in a multiarch universe also its name in other architectures that multiarch's
   * rule excludes). Conflicts are symmetric for installability; this lists only the declared side.
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
