/**
 * A PackageRecord read from a universe on demand: each field is read from the universe's tables
 * when asked (relations are the universe's facts for the name+version+arch). The knowledge
 * base's index layers and the solver's view (policy callbacks, explanations) hand these out, so
 * a caller that reads only a name and a version never builds relation lists.
 */
import type { Alternatives, PackageAtom, PackageRecord, Provenance, Provision, SchemeName } from '../kb/index.js';
import { REL, type Universe } from './universe.js';

export class UniverseRecord implements PackageRecord {
  readonly scheme: SchemeName;
  private prov: Provenance | undefined;
  /** `provenance`: as given (an index layer's own view of an overridden stanza), else the universe's. */
  constructor(private readonly u: Universe, private readonly pv: number, provenance?: Provenance) {
    this.scheme = u.schemeOf(pv);
    this.prov = provenance;
  }
  get provenance(): Provenance { return (this.prov ??= this.u.provenanceOf(this.pv)); }
  get name(): string { return this.u.nameOfPv(this.pv); }
  get version(): string { return this.u.versionOf(this.pv); }
  get architecture(): string { return this.u.archOf(this.pv); }
  get essential(): boolean { return this.u.isEssential(this.pv); }
  get priority(): string | undefined { return this.u.priorityOf(this.pv); }
  get multiArch(): string | undefined {
    const ma = this.u.multiArchOf(this.pv);
    return ma === 'no' ? undefined : ma;
  }
  private clauses(kind: number): Alternatives[] { return this.u.clausesOf(this.pv, kind).map((c) => Array.from(c, (a) => this.u.atomToPackageAtom(a))); }
  private atoms(kind: number): PackageAtom[] { return Array.from(this.u.atomsOf(this.pv, kind), (a) => this.u.atomToPackageAtom(a)); }
  get depends(): Alternatives[] { return this.clauses(REL.depends); }
  get preDepends(): Alternatives[] { return this.clauses(REL.preDepends); }
  get recommends(): Alternatives[] { return this.clauses(REL.recommends); }
  get suggests(): Alternatives[] { return this.clauses(REL.suggests); }
  get conflicts(): PackageAtom[] { return this.atoms(REL.conflicts); }
  get breaks(): PackageAtom[] { return this.atoms(REL.breaks); }
  get replaces(): PackageAtom[] { return this.atoms(REL.replaces); }
  get provides(): Provision[] { return this.atoms(REL.provides).map((a) => (a.version ? { name: a.name, version: a.version } : { name: a.name })); }
}
