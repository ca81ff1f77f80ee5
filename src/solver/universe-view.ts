/**
 * The solver's PackageSet over the universe layer (src/universe): package versions, names and
 * relation atoms are the universe's integer ids; candidate lists come from its cached
 * `candidates(atom)` (Debian Provides semantics, `:any` rules) and are merged per clause on
 * first use. PackageRecord views are only built for the few versions an explanation or a
 * policy callback asks about.
 */
import type { PackageAtom, PackageRecord, Provision } from '../kb/model.js';
import { REL, type Universe } from '../universe/index.js';
import { compareVersionsOf, formatAtom, type PackageSet, type RelationField, type VersionCompare } from './packages.js';

const EMPTY = new Int32Array(0);

export class UniverseView implements PackageSet {
  readonly size: number;
  readonly nameIdOf: Int32Array;
  readonly names: readonly string[];
  readonly compare: VersionCompare;
  private readonly depCache: Array<Int32Array[] | undefined>;
  private readonly preCache: Array<Int32Array[] | undefined>;
  private readonly recCache: Array<Int32Array[] | undefined>;
  private readonly conflictCache: Array<Int32Array | undefined>;
  private readonly recordCache = new Map<number, PackageRecord>();

  constructor(readonly universe: Universe) {
    this.size = universe.pvCount;
    this.nameIdOf = universe.pvName;
    this.names = universe.names;
    this.compare = compareVersionsOf(this.size > 0 ? universe.schemeOf(0) : 'deb');
    this.depCache = new Array(this.size);
    this.preCache = new Array(this.size);
    this.recCache = new Array(this.size);
    this.conflictCache = new Array(this.size);
  }

  nameId(name: string): number | undefined {
    const id = this.universe.nameId(name);
    return id < 0 ? undefined : id;
  }

  isProvided(name: string): boolean {
    const id = this.universe.nameId(name);
    return id >= 0 && this.universe.providersOf(id).pvs.length > 0;
  }

  versionsOf(name: string): Int32Array {
    const id = this.universe.nameId(name);
    return id < 0 ? EMPTY : this.universe.versionsOf(id);
  }

  versionsOfNameId(id: number): Int32Array {
    return this.universe.versionsOf(id);
  }

  nameOf(pv: number): string {
    return this.universe.nameOfPv(pv);
  }

  versionOf(pv: number): string {
    return this.universe.versionOf(pv);
  }

  archOf(pv: number): string {
    return this.universe.archOf(pv);
  }

  label(pv: number): string {
    return `${this.universe.nameOfPv(pv)} ${this.universe.versionOf(pv)}`;
  }

  isEssential(pv: number): boolean {
    return this.universe.isEssential(pv);
  }

  isEssentialOrRequired(pv: number): boolean {
    return this.universe.isEssential(pv) || this.universe.isRequired(pv);
  }

  candidates(atom: PackageAtom): Int32Array {
    return this.universe.candidatesFor(atom);
  }

  private resolve(pv: number, kind: number): Int32Array[] {
    const u = this.universe;
    const [from, to] = u.clauseRange(pv, kind);
    const out: Int32Array[] = [];
    for (let c = from; c < to; c++) {
      const atoms = u.clauseAtomsOf(c);
      if (atoms.length === 1) {
        out.push(u.candidates(atoms[0]!));
        continue;
      }
      const merged: number[] = [];
      for (const a of atoms) for (const q of u.candidates(a)) if (merged.indexOf(q) < 0) merged.push(q);
      out.push(Int32Array.from(merged));
    }
    return out;
  }

  depends(pv: number): Int32Array[] {
    return (this.depCache[pv] ??= this.resolve(pv, REL.depends));
  }

  preDepends(pv: number): Int32Array[] {
    return (this.preCache[pv] ??= this.resolve(pv, REL.preDepends));
  }

  recommends(pv: number): Int32Array[] {
    return (this.recCache[pv] ??= this.resolve(pv, REL.recommends));
  }

  conflicts(pv: number): Int32Array {
    let c = this.conflictCache[pv];
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
    this.conflictCache[pv] = c;
    return c;
  }

  clauseText(pv: number, field: RelationField, clause: number): string {
    const u = this.universe;
    const kind = field === 'depends' ? REL.depends : field === 'pre-depends' ? REL.preDepends : REL.recommends;
    const [from] = u.clauseRange(pv, kind);
    return Array.from(u.clauseAtomsOf(from + clause), (a) => u.formatAtom(a)).join(' | ');
  }

  conflictAtomText(pv: number, q: number): string {
    const u = this.universe;
    for (const [field, kind] of [['conflicts', REL.conflicts], ['breaks', REL.breaks]] as const) {
      for (const a of u.atomsOf(pv, kind)) if (u.candidates(a).includes(q)) return `${field} with ${u.formatAtom(a)}`;
    }
    return 'conflicts';
  }

  record(pv: number): PackageRecord {
    let r = this.recordCache.get(pv);
    if (r) return r;
    const u = this.universe;
    const clauses = (kind: number): PackageAtom[][] => u.clausesOf(pv, kind).map((c) => Array.from(c, (a) => u.atomToPackageAtom(a)));
    const atoms = (kind: number): PackageAtom[] => Array.from(u.atomsOf(pv, kind), (a) => u.atomToPackageAtom(a));
    const provides: Provision[] = atoms(REL.provides).map((a) => (a.version ? { name: a.name, version: a.version } : { name: a.name }));
    r = {
      name: u.nameOfPv(pv),
      version: u.versionOf(pv),
      architecture: u.archOf(pv),
      scheme: u.schemeOf(pv),
      depends: clauses(REL.depends),
      preDepends: clauses(REL.preDepends),
      recommends: clauses(REL.recommends),
      suggests: clauses(REL.suggests),
      conflicts: atoms(REL.conflicts),
      breaks: atoms(REL.breaks),
      provides,
      replaces: atoms(REL.replaces),
      essential: u.isEssential(pv),
      provenance: u.provenanceOf(pv),
    };
    const prio = u.priorityOf(pv);
    if (prio !== undefined) r.priority = prio;
    this.recordCache.set(pv, r);
    return r;
  }
}

export function createUniverseView(universe: Universe): UniverseView {
  return new UniverseView(universe);
}

export { formatAtom };
