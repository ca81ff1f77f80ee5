/**
 * The solver's indexed view of a set of package versions: integer ids, names interned, each
 * name's versions ordered newest first, and relation atoms resolved to candidate ids on demand
 * (cached), so a request only ever resolves the relations of the packages it reaches.
 *
 * Candidate semantics (Debian Policy 7.5 and dpkg): an atom `name (op v)` is satisfied by a
 * version of `name` whose version satisfies the relation, and by a package that provides `name`:
 * an unversioned Provides satisfies only unversioned atoms, a versioned Provides
 * (`name (= pv)`) satisfies an atom whose relation holds for `pv`. Conflicts and Breaks use the
 * same matching; a package never conflicts with itself (the "conflicts with a virtual package it
 * provides" idiom). Architecture qualifiers follow Debian for a single-architecture set (the
 * host architecture plus `all`) through the universe layer's archQualifierAccepts, the same rule
 * the universe view uses: none, `:native` and the host architecture accept every version, `:any`
 * accepts real packages that are `Multi-Arch: allowed` and any provider, and another architecture
 * (`Conflicts: libc6-x32:i386`) accepts only versions of that architecture.
 */
import type { PackageAtom, PackageRecord } from '../kb/model.js';
import { archQualifierAccepts } from '../universe/index.js';
import { compareDebian } from '../versions/debian.js';

export type VersionCompare = (a: string, b: string) => number;

function compareCudfVersions(a: string, b: string): number {
  return Number(a) - Number(b);
}

export function compareVersionsOf(scheme: PackageRecord['scheme']): VersionCompare {
  return scheme === 'cudf' ? compareCudfVersions : compareDebian;
}

export function satisfiesOp(cmp: number, op: string): boolean {
  switch (op) {
    case '<<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '=':
      return cmp === 0;
    case '>=':
      return cmp >= 0;
    case '>>':
      return cmp > 0;
    case '!=':
      return cmp !== 0;
    default:
      return false;
  }
}

export function formatAtom(a: PackageAtom): string {
  const q = a.archQualifier ? `:${a.archQualifier}` : '';
  return a.op ? `${a.name}${q} (${a.op} ${a.version})` : `${a.name}${q}`;
}

export function formatAlternatives(alts: PackageAtom[]): string {
  return alts.map(formatAtom).join(' | ');
}

const EMPTY = new Int32Array(0);

export type RelationField = 'depends' | 'pre-depends' | 'recommends';

/**
 * What the solver reads from a package collection. Two implementations: RecordPackageSet (from
 * PackageRecord[], for tests, CUDF and small universes) and UniverseView (over the universe
 * layer's typed arrays, for archives).
 */
export interface PackageSet {
  readonly size: number;
  /** pv → name id */
  readonly nameIdOf: Int32Array;
  /** name id → name (may include virtual names) */
  readonly names: readonly string[];
  readonly compare: VersionCompare;
  nameId(name: string): number | undefined;
  /** Whether some package provides the name (a virtual package, or an alias). */
  isProvided(name: string): boolean;
  /** Versions of a name, newest first (empty for unknown or purely virtual names). */
  versionsOf(name: string): ArrayLike<number> & Iterable<number>;
  versionsOfNameId(id: number): ArrayLike<number> & Iterable<number>;
  nameOf(pv: number): string;
  versionOf(pv: number): string;
  archOf(pv: number): string;
  label(pv: number): string;
  isEssentialOrRequired(pv: number): boolean;
  isEssential(pv: number): boolean;
  /** A PackageRecord view of pv (may be built on demand: not for hot loops). */
  record(pv: number): PackageRecord;
  candidates(atom: PackageAtom): Int32Array;
  depends(pv: number): Int32Array[];
  preDepends(pv: number): Int32Array[];
  recommends(pv: number): Int32Array[];
  /** Versions that Conflicts or Breaks of pv exclude (never pv itself). */
  conflicts(pv: number): Int32Array;
  /** Text of one relation clause, e.g. `libssl3 (>= 3.1) | libssl1.1`. */
  clauseText(pv: number, field: RelationField, clause: number): string;
  /** The conflicting relation of pv that matches q, e.g. `conflicts with mta`. */
  conflictAtomText(pv: number, q: number): string;
}

export class RecordPackageSet implements PackageSet {
  readonly records: readonly PackageRecord[];
  /** pv → name id */
  readonly nameIdOf: Int32Array;
  readonly names: string[] = [];
  private readonly nameIndex = new Map<string, number>();
  /** name id → pv ids, newest first */
  private readonly versionsByName: number[][] = [];
  /** rank of pv among its name's versions (0 = newest) */
  readonly rankOf: Int32Array;
  /** provided name → [pv, provided version or undefined] */
  private readonly providers = new Map<string, Array<{ pv: number; version: string | undefined }>>();
  private readonly atomCache = new Map<string, Int32Array>();
  private readonly dependsCache: Array<Int32Array[] | undefined>;
  private readonly preDependsCache: Array<Int32Array[] | undefined>;
  private readonly recommendsCache: Array<Int32Array[] | undefined>;
  private readonly conflictsCache: Array<Int32Array | undefined>;
  readonly compare: VersionCompare;
  /** The architecture qualifiers are judged against (as the universe's hostArch). */
  readonly hostArch: string;

  constructor(records: readonly PackageRecord[], options: { hostArch?: string } = {}) {
    this.records = records;
    this.hostArch = options.hostArch ?? 'amd64';
    const n = records.length;
    this.nameIdOf = new Int32Array(n);
    this.rankOf = new Int32Array(n);
    this.compare = compareVersionsOf(records[0]?.scheme ?? 'deb');
    for (let pv = 0; pv < n; pv++) {
      const r = records[pv]!;
      const id = this.internName(r.name);
      this.nameIdOf[pv] = id;
      this.versionsByName[id]!.push(pv);
      for (const p of r.provides) {
        let list = this.providers.get(p.name);
        if (!list) this.providers.set(p.name, (list = []));
        list.push({ pv, version: p.version });
      }
    }
    const cmp = this.compare;
    for (const list of this.versionsByName) {
      if (list.length > 1) list.sort((a, b) => cmp(records[b]!.version, records[a]!.version) || a - b);
      list.forEach((pv, i) => (this.rankOf[pv] = i));
    }
    this.dependsCache = new Array(n);
    this.preDependsCache = new Array(n);
    this.recommendsCache = new Array(n);
    this.conflictsCache = new Array(n);
  }

  private internName(name: string): number {
    let id = this.nameIndex.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.nameIndex.set(name, id);
      this.versionsByName.push([]);
    }
    return id;
  }

  get size(): number {
    return this.records.length;
  }

  nameId(name: string): number | undefined {
    return this.nameIndex.get(name);
  }

  /** Versions of a name, newest first (empty for unknown or purely virtual names). */
  versionsOf(name: string): readonly number[] {
    const id = this.nameIndex.get(name);
    return id === undefined ? [] : this.versionsByName[id]!;
  }

  versionsOfNameId(id: number): readonly number[] {
    return this.versionsByName[id] ?? [];
  }

  get numNames(): number {
    return this.names.length;
  }

  isProvided(name: string): boolean {
    return this.providers.has(name);
  }

  providersOf(name: string): ReadonlyArray<{ pv: number; version: string | undefined }> {
    return this.providers.get(name) ?? [];
  }

  record(pv: number): PackageRecord {
    return this.records[pv]!;
  }

  nameOf(pv: number): string {
    return this.records[pv]!.name;
  }

  versionOf(pv: number): string {
    return this.records[pv]!.version;
  }

  label(pv: number): string {
    const r = this.records[pv]!;
    return `${r.name} ${r.version}`;
  }

  archOf(pv: number): string {
    return this.records[pv]!.architecture;
  }

  isEssential(pv: number): boolean {
    return this.records[pv]!.essential;
  }

  isEssentialOrRequired(pv: number): boolean {
    const r = this.records[pv]!;
    return r.essential || r.priority === 'required';
  }

  clauseText(pv: number, field: RelationField, clause: number): string {
    const r = this.records[pv]!;
    const list = field === 'depends' ? r.depends : field === 'pre-depends' ? r.preDepends : r.recommends;
    return formatAlternatives(list[clause] ?? []);
  }

  /** Package versions satisfying an atom (real versions newest first, then providers). */
  candidates(atom: PackageAtom): Int32Array {
    const q = atom.archQualifier ?? '';
    const key = atom.op ? `${atom.name}\u0000${q}\u0000${atom.op}\u0000${atom.version}` : q ? `${atom.name}\u0000${q}` : atom.name;
    let hit = this.atomCache.get(key);
    if (hit) return hit;
    const out: number[] = [];
    const own = this.versionsOf(atom.name);
    const host = this.hostArch;
    const accepts = (pv: number, viaProvides: boolean): boolean => {
      if (q === '') return true;
      const r = this.records[pv]!;
      return archQualifierAccepts(q, host, r.architecture, r.multiArch ?? 'no', viaProvides);
    };
    for (const pv of own) {
      if (!accepts(pv, false)) continue;
      if (!atom.op || satisfiesOp(this.compare(this.records[pv]!.version, atom.version!), atom.op)) out.push(pv);
    }
    const provs = this.providers.get(atom.name);
    if (provs) {
      for (const p of provs) {
        if (!accepts(p.pv, true)) continue;
        if (atom.op) {
          // CUDF 2.0: an unversioned provide provides every version of the feature
          if (p.version === undefined) {
            if (this.records[p.pv]!.scheme !== 'cudf') continue;
          } else if (!satisfiesOp(this.compare(p.version, atom.version!), atom.op)) continue;
        }
        if (!out.includes(p.pv)) out.push(p.pv);
      }
    }
    hit = out.length === 0 ? EMPTY : Int32Array.from(out);
    this.atomCache.set(key, hit);
    return hit;
  }

  private resolveClauses(list: PackageAtom[][]): Int32Array[] {
    return list.map((alts) => {
      if (alts.length === 1) return this.candidates(alts[0]!);
      const out: number[] = [];
      for (const a of alts) for (const pv of this.candidates(a)) if (!out.includes(pv)) out.push(pv);
      return Int32Array.from(out);
    });
  }

  /** Each Depends clause as its candidate ids. */
  depends(pv: number): Int32Array[] {
    return (this.dependsCache[pv] ??= this.resolveClauses(this.records[pv]!.depends));
  }

  preDepends(pv: number): Int32Array[] {
    return (this.preDependsCache[pv] ??= this.resolveClauses(this.records[pv]!.preDepends));
  }

  recommends(pv: number): Int32Array[] {
    return (this.recommendsCache[pv] ??= this.resolveClauses(this.records[pv]!.recommends));
  }

  /** Versions that Conflicts or Breaks of pv exclude (never pv itself). */
  conflicts(pv: number): Int32Array {
    let c = this.conflictsCache[pv];
    if (c) return c;
    const r = this.records[pv]!;
    const out = new Set<number>();
    for (const a of r.conflicts) for (const q of this.candidates(a)) if (q !== pv) out.add(q);
    for (const a of r.breaks) for (const q of this.candidates(a)) if (q !== pv) out.add(q);
    c = out.size === 0 ? EMPTY : Int32Array.from(out);
    this.conflictsCache[pv] = c;
    return c;
  }

  /** The conflicting atom text of pv that matches q (for explanations). */
  conflictAtomText(pv: number, q: number): string {
    const r = this.records[pv]!;
    for (const [field, list] of [['conflicts', r.conflicts], ['breaks', r.breaks]] as const) {
      for (const a of list) if (this.candidates(a).includes(q)) return `${field} with ${formatAtom(a)}`;
    }
    return 'conflicts';
  }
}

export function createPackageSet(records: readonly PackageRecord[], options: { hostArch?: string } = {}): PackageSet {
  return new RecordPackageSet(records, options);
}
