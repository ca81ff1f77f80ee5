/**
 * What the solver reads: its view of a universe (src/universe). Package versions, names and
 * relation atoms are the universe's integer ids; candidate lists come from the universe's cached
 * `candidates(atom)` (Debian Provides semantics, `:any` rules, CUDF provides) and are merged per
 * clause on first use; versions are compared by each package's own scheme (a semver package of
 * the knowledge base beside Debian packages). There is one data path: records (tests, CUDF, the
 * knowledge base's YAML) are built into a universe first (createProblem), so the scenario files,
 * the properties, the CLI and the planner all solve on this view.
 *
 * PackageRecord views are built only for the few versions an explanation or a policy callback
 * asks about.
 */
import { formatAtom, type PackageAtom, type PackageRecord } from '../kb/index.js';
import { REL, UniverseRecord, type Universe } from '../universe/index.js';
import { opCode } from '../versions/index.js';

const EMPTY = new Int32Array(0);

export type RelationField = 'depends' | 'pre-depends' | 'recommends';

/** The solver's read interface (one implementation: UniverseView). */
export interface PackageSet {
  readonly size: number;
  /** pv → name id */
  readonly nameIdOf: Int32Array;
  /** name id → name (may include virtual names) */
  readonly names: readonly string[];
  nameId(name: string): number | undefined;
  /** Whether some package provides the name (a virtual package, or an alias). */
  isProvided(name: string): boolean;
  /** Versions of a name, newest first (empty for unknown or purely virtual names). */
  versionsOf(name: string): Int32Array;
  versionsOfNameId(id: number): Int32Array;
  nameOf(pv: number): string;
  versionOf(pv: number): string;
  archOf(pv: number): string;
  label(pv: number): string;
  /** Order of two versions of one name (by that package's scheme): negative, zero, positive. */
  comparePvs(a: number, b: number): number;
  /** Does pv's version satisfy `op version` (in pv's scheme)? */
  satisfies(pv: number, op: PackageAtom['op'], version: string | undefined): boolean;
  isEssentialOrRequired(pv: number): boolean;
  isEssential(pv: number): boolean;
  /** A PackageRecord view of pv (built on demand: not for hot loops). */
  record(pv: number): PackageRecord;
  candidates(atom: PackageAtom): Int32Array;
  depends(pv: number): Int32Array[];
  preDepends(pv: number): Int32Array[];
  recommends(pv: number): Int32Array[];
  /** Versions that Conflicts or Breaks of pv exclude (never pv itself). */
  conflicts(pv: number): Int32Array;
  /** The native architecture and those of the package versions loaded (`all` included), e.g. amd64, all, i386. */
  architectures(): ReadonlySet<string>;
  /** Text of one relation clause, e.g. `libssl3 (>= 3.1) | libssl1.1`. */
  clauseText(pv: number, field: RelationField, clause: number): string;
  /** The relation of pv (its Conflicts or Breaks) that q satisfies, e.g. `{ field: 'conflicts', relation: 'mta' }`. */
  conflictRelation(pv: number, q: number): { field: 'conflicts' | 'breaks'; relation: string };
}

/** Which package versions a view holds (a host's view under apt's policy: src/solver/policy.ts). */
export interface AdmitSet {
  admits(pv: number): boolean;
}

export class UniverseView implements PackageSet {
  readonly size: number;
  readonly nameIdOf: Int32Array;
  readonly names: readonly string[];
  // per pv, only for the versions a solve reaches (a few thousand of the universe's tens of thousands)
  private readonly depCache = new Map<number, Int32Array[]>();
  private readonly preCache = new Map<number, Int32Array[]>();
  private readonly recCache = new Map<number, Int32Array[]>();
  private readonly conflictCache = new Map<number, Int32Array>();
  private readonly recordCache = new Map<number, PackageRecord>();
  private readonly admittedVersions = new Map<number, Int32Array>();
  private readonly admittedQueries = new Map<Int32Array, Int32Array>();

  /**
   * `admit` (optional): the view holds only the versions it admits (a host's
   * view under apt's policy, src/solver/policy.ts); pv ids stay the universe's.
   */
  constructor(readonly universe: Universe, readonly admit?: AdmitSet) {
    this.size = universe.pvCount;
    this.nameIdOf = universe.pvName;
    this.names = universe.names;
  }

  nameId(name: string): number | undefined {
    const id = this.universe.nameId(name);
    return id < 0 ? undefined : id;
  }

  isProvided(name: string): boolean {
    const id = this.universe.nameId(name);
    return id >= 0 && this.filter(this.universe.providersOf(id).pvs).length > 0;
  }

  /** The admitted part of a universe list (the list itself without an admit set). */
  private filter(list: Int32Array): Int32Array {
    const admit = this.admit;
    if (admit === undefined || list.length === 0) return list;
    let all = true;
    for (let i = 0; i < list.length; i++) if (!admit.admits(list[i]!)) { all = false; break; }
    if (all) return list;
    return list.filter((pv) => admit.admits(pv));
  }

  /** Versions of a name; `name:arch` names a foreign architecture's versions (multiarch). */
  versionsOf(name: string): Int32Array {
    const id = this.universe.nameIdOfSpec(name);
    return id < 0 ? EMPTY : this.versionsOfNameId(id);
  }

  versionsOfNameId(id: number): Int32Array {
    if (this.admit === undefined) return this.universe.versionsOf(id);
    let v = this.admittedVersions.get(id);
    if (v === undefined) { v = this.filter(this.universe.versionsOf(id)); this.admittedVersions.set(id, v); }
    return v;
  }

  nameOf(pv: number): string {
    return this.universe.nameOfPv(pv);
  }

  private archSet: Set<string> | undefined;

  architectures(): ReadonlySet<string> {
    if (!this.archSet) {
      const u = this.universe;
      const codes = new Set<number>();
      for (let pv = 0; pv < u.pvCount; pv++) codes.add(u.pvArch[pv]!);
      this.archSet = new Set([u.hostArch, ...[...codes].map((c) => u.archNames[c]!)]);
    }
    return this.archSet;
  }

  versionOf(pv: number): string {
    return this.universe.versionOf(pv);
  }

  archOf(pv: number): string {
    return this.universe.archOf(pv);
  }

  /** `name version`; a foreign architecture's version is named `name:arch` (apt's style). */
  label(pv: number): string {
    return `${this.universe.nameOfPv(pv)} ${this.universe.versionOf(pv)}`;
  }

  comparePvs(a: number, b: number): number {
    return this.universe.compareVersions(a, b);
  }

  satisfies(pv: number, op: PackageAtom['op'], version: string | undefined): boolean {
    if (op === undefined || version === undefined) return true;
    const u = this.universe;
    return u.satisfiesVersion(u.pvScheme[pv]!, u.versionOf(pv), opCode(op), version);
  }

  isEssential(pv: number): boolean {
    return this.universe.isEssential(pv);
  }

  isEssentialOrRequired(pv: number): boolean {
    return this.universe.isEssential(pv) || this.universe.isRequired(pv);
  }

  candidates(atom: PackageAtom): Int32Array {
    return this.admitted(this.universe.candidatesFor(atom));
  }

  /** A cached universe candidate list, restricted to the admit set. */
  private admitted(list: Int32Array): Int32Array {
    if (this.admit === undefined) return list;
    let v = this.admittedQueries.get(list);
    if (v === undefined) { v = this.filter(list); this.admittedQueries.set(list, v); }
    return v;
  }

  private resolve(pv: number, kind: number): Int32Array[] {
    const u = this.universe;
    const [from, to] = u.clauseRange(pv, kind);
    const out: Int32Array[] = [];
    for (let c = from; c < to; c++) {
      const atoms = u.clauseAtomsOf(c);
      if (atoms.length === 1) {
        out.push(this.admitted(u.candidates(atoms[0]!)));
        continue;
      }
      const merged: number[] = [];
      for (const a of atoms) for (const q of this.admitted(u.candidates(a))) if (merged.indexOf(q) < 0) merged.push(q);
      out.push(Int32Array.from(merged));
    }
    return out;
  }

  depends(pv: number): Int32Array[] {
    let c = this.depCache.get(pv);
    if (c === undefined) { c = this.resolve(pv, REL.depends); this.depCache.set(pv, c); }
    return c;
  }

  preDepends(pv: number): Int32Array[] {
    let c = this.preCache.get(pv);
    if (c === undefined) { c = this.resolve(pv, REL.preDepends); this.preCache.set(pv, c); }
    return c;
  }

  recommends(pv: number): Int32Array[] {
    let c = this.recCache.get(pv);
    if (c === undefined) { c = this.resolve(pv, REL.recommends); this.recCache.set(pv, c); }
    return c;
  }

  conflicts(pv: number): Int32Array {
    let c = this.conflictCache.get(pv);
    if (c) return c;
    const a = this.universe.conflictsOf(pv);
    const b = this.universe.breaksOf(pv);
    if (b.length === 0) c = a;
    else if (a.length === 0) c = b;
    else {
      const s = new Set<number>(a);
      for (const q of b) s.add(q);
      c = Int32Array.from(s);
    }
    this.conflictCache.set(pv, c);
    return c;
  }

  clauseText(pv: number, field: RelationField, clause: number): string {
    const u = this.universe;
    const kind = field === 'depends' ? REL.depends : field === 'pre-depends' ? REL.preDepends : REL.recommends;
    const [from] = u.clauseRange(pv, kind);
    return Array.from(u.clauseAtomsOf(from + clause), (a) => u.formatAtom(a)).join(' | ');
  }

  conflictRelation(pv: number, q: number): { field: 'conflicts' | 'breaks'; relation: string } {
    const u = this.universe;
    for (const [field, kind] of [['conflicts', REL.conflicts], ['breaks', REL.breaks]] as const) {
      for (const a of u.atomsOf(pv, kind)) if (u.candidates(a).includes(q)) return { field, relation: u.formatAtom(a) };
    }
    // the other side declares it (conflicts are symmetric for installability)
    for (const [field, kind] of [['conflicts', REL.conflicts], ['breaks', REL.breaks]] as const) {
      for (const a of u.atomsOf(q, kind)) if (u.candidates(a).includes(pv)) return { field, relation: u.formatAtom(a) };
    }
    if (u.multiarch && u.baseNameOf(u.pvName[pv]!) === u.baseNameOf(u.pvName[q]!)) {
      return { field: 'conflicts', relation: `${u.nameOfPv(q)} (multiarch: one architecture unless Multi-Arch: same at the same version)` };
    }
    return { field: 'conflicts', relation: u.nameOfPv(q) };
  }

  record(pv: number): PackageRecord {
    let r = this.recordCache.get(pv);
    if (!r) { r = new UniverseRecord(this.universe, pv); this.recordCache.set(pv, r); }
    return r;
  }

}

export function createUniverseView(universe: Universe): UniverseView {
  return new UniverseView(universe);
}

export { formatAtom };
