/**
 * Encoding a request over a package set into the CDCL engine, touching only the part of the
 * universe the request reaches.
 *
 * The closure starts from the installed versions and the versions the request names, and
 * follows Depends, Pre-Depends (and Recommends when they count) to their candidates; every
 * version of a reached name is included (so "newest" is meaningful). Conflicts need not be
 * followed: a version outside the closure is simply never installed, so a conflict with it
 * is satisfied.
 *
 * Variables are package versions (plus auxiliary variables for criteria and at-most-one
 * ladders). Each hard clause belongs to a *fact* (a request item, one Depends clause of one
 * version, one conflicting pair, one name's one-version rule, an installed Essential package,
 * a version refused by the host's environment). With `selectors`, every clause of fact f gets
 * `¬s_f`, and solving under the assumptions `s_f` makes the failed-assumption core a set of
 * facts: the raw material of explanations (see explain.ts).
 */
import { createSatEngine, type SatEngine } from './internal/sat.js';
import type { PackageSet } from './universe-view.js';
import type { Criterion, PackageSpec, RequestItem, SolveRequest, SolverPolicy } from './request.js';

export type Fact =
  | { kind: 'request'; index: number; item: RequestItem }
  | { kind: 'depends'; pv: number; clause: number; field: 'depends' | 'pre-depends' }
  | { kind: 'conflict'; a: number; b: number }
  | { kind: 'one-version'; nameId: number }
  | { kind: 'essential'; nameId: number }
  | { kind: 'not-candidate'; pv: number; reason: string };

export interface EncodeOptions {
  /** One selector literal per fact (for explanations). */
  selectors?: boolean;
  /** Debian: at most one version of a name; CUDF: only explicit conflicts. */
  oneVersionPerName?: boolean;
  /** Keep installed Essential / Priority: required packages unless a remove item names them. */
  keepEssential?: boolean;
  /** Follow Recommends (so the unmet_recommends criterion can be counted). */
  followRecommends?: boolean;
  /** Which versions' Recommends count: all installed in the solution (CUDF) or only new/changed ones. */
  recommendsScope?: 'all' | 'changed';
  /** CUDF request semantics: remove and install match features (provides); upgrade installs exactly one version. */
  cudf?: boolean;
  /** Facts to leave out (by fact key), for resolutions and MUS checks. */
  skipFacts?: ReadonlySet<string>;
}

export function factKey(f: Fact): string {
  switch (f.kind) {
    case 'request':
      return `request:${f.index}`;
    case 'depends':
      return `${f.field}:${f.pv}:${f.clause}`;
    case 'conflict':
      return `conflict:${Math.min(f.a, f.b)}:${Math.max(f.a, f.b)}`;
    case 'one-version':
      return `one-version:${f.nameId}`;
    case 'essential':
      return `essential:${f.nameId}`;
    case 'not-candidate':
      return `not-candidate:${f.pv}`;
  }
}

/** The name a spec's versions are kept under: `name:arch` for an architecture qualifier (multiarch), else the name. */
export function specName(spec: { name: string; archQualifier?: string }): string {
  return spec.archQualifier ? `${spec.name}:${spec.archQualifier}` : spec.name;
}

/** Versions of the set matching a spec (name's own versions only). */
export function matchingVersions(set: PackageSet, spec: PackageSpec): number[] {
  return Array.from(set.versionsOf(specName(spec))).filter((pv) => set.satisfies(pv, spec.op, spec.version));
}

/** Candidates of an install spec: the name's matching versions, else its providers. */
export function installCandidates(set: PackageSet, spec: PackageSpec): number[] {
  return Array.from(set.candidates({ name: spec.name, ...(spec.archQualifier ? { archQualifier: spec.archQualifier } : {}), ...(spec.op ? { op: spec.op, version: spec.version! } : {}) }));
}

export class Encoding {
  readonly engine: SatEngine = createSatEngine();
  readonly varOfPv: Int32Array;
  readonly pvOfVar: number[] = [];
  readonly closure: number[] = [];
  readonly facts: Fact[] = [];
  readonly factSelector: number[] = [];
  /**
   * With selectors: every clause as added (without its selector) and the fact it belongs to (-1:
   * none), so an explanation can rotate models over them (see computeMus). `clausesRecorded` is
   * false once clauses were added that are not recorded (objective definitions).
   */
  readonly clauseLits: number[][] = [];
  readonly clauseFact: number[] = [];
  clausesRecorded = true;
  /** Upgrade-requested names whose newest allowed version is the target. */
  readonly upgradeTargets: number[] = [];
  private readonly inClosureName = new Set<number>();

  constructor(
    readonly set: PackageSet,
    readonly installed: Uint8Array,
    readonly request: SolveRequest,
    readonly policy: SolverPolicy,
    readonly options: EncodeOptions,
  ) {
    this.varOfPv = new Int32Array(set.size).fill(-1);
    this.computeClosure();
    const first = this.engine.newVars(this.closure.length, false);
    this.closure.forEach((pv, i) => {
      const v = first + i;
      if (installed[pv] === 1) this.engine.setPhase(v, true);
      this.varOfPv[pv] = v;
      this.pvOfVar[v] = pv;
    });
    this.encodeRules();
    this.encodeRequest();
  }

  private computeClosure(): void {
    const { set, installed, options } = this;
    const seen = new Uint8Array(set.size);
    const queue: number[] = [];
    const addName = (nameId: number) => {
      if (this.inClosureName.has(nameId)) return;
      this.inClosureName.add(nameId);
      for (const pv of set.versionsOfNameId(nameId)) {
        if (!seen[pv]) {
          seen[pv] = 1;
          queue.push(pv);
        }
      }
    };
    const add = (pv: number) => {
      if (!seen[pv]) addName(set.nameIdOf[pv]!);
    };
    for (let pv = 0; pv < set.size; pv++) if (installed[pv]) add(pv);
    for (const item of this.request.items) {
      if (item.kind === 'install' || item.kind === 'upgrade') for (const pv of installCandidates(set, item)) add(pv);
      if (item.kind === 'upgrade-all') for (let pv = 0; pv < set.size; pv++) if (installed[pv]) add(pv);
    }
    for (let i = 0; i < queue.length; i++) {
      const pv = queue[i]!;
      this.closure.push(pv);
      for (const c of set.depends(pv)) for (const q of c) add(q);
      for (const c of set.preDepends(pv)) for (const q of c) add(q);
      if (options.followRecommends) for (const c of set.recommends(pv)) for (const q of c) add(q);
    }
  }

  private currentSelector = -1;

  /** Starts a fact; subsequent clauses belong to it. Returns false when the fact is skipped. */
  private beginFact(f: Fact): boolean {
    if (!this.options.selectors && !this.options.skipFacts) return true; // facts only matter for explanations
    if (this.options.skipFacts?.has(factKey(f))) return false;
    this.facts.push(f);
    if (this.options.selectors) {
      const s = this.engine.newVar(true);
      this.factSelector.push(s);
      this.currentSelector = s;
    } else {
      this.factSelector.push(-1);
      this.currentSelector = -1;
    }
    return true;
  }

  private clause(lits: number[]): void {
    if (this.options.selectors) {
      this.clauseLits.push(lits.slice());
      this.clauseFact.push(this.currentSelector >= 0 ? this.facts.length - 1 : -1);
    }
    if (this.currentSelector >= 0) lits.push((this.currentSelector << 1) | 1);
    this.engine.addClause(lits);
  }

  /** Literal of pv (true = installed); pv must be in the closure. */
  lit(pv: number, positive = true): number {
    const v = this.varOfPv[pv]!;
    if (v < 0) throw new Error(`package version ${pv} is outside the encoded closure`);
    return positive ? v << 1 : (v << 1) | 1;
  }

  inClosure(pv: number): boolean {
    return this.varOfPv[pv]! >= 0;
  }

  private encodeRules(): void {
    const { set, policy, options } = this;
    const track = options.selectors === true || options.skipFacts !== undefined;
    const varOfPv = this.varOfPv;
    const buf: number[] = [];
    for (const pv of this.closure) {
      const p = this.lit(pv, false);
      if (policy.isCandidate) {
        const verdict = policy.isCandidate(pv, set.record(pv));
        if (verdict !== true && this.beginFact({ kind: 'not-candidate', pv, reason: verdict.reason })) this.clause([p]);
      }
      for (let f = 0; f < 2; f++) {
        const clauses = f === 0 ? set.depends(pv) : set.preDepends(pv);
        for (let i = 0; i < clauses.length; i++) {
          if (track && !this.beginFact({ kind: 'depends', pv, clause: i, field: f === 0 ? 'depends' : 'pre-depends' })) continue;
          const cands = clauses[i]!;
          const lits = buf;
          lits.length = 0;
          lits.push(p);
          for (let k = 0; k < cands.length; k++) lits.push(varOfPv[cands[k]!]! << 1);
          this.clause(lits);
        }
      }
      const cs = set.conflicts(pv);
      for (let k = 0; k < cs.length; k++) {
        const q = cs[k]!;
        const vq = varOfPv[q]!;
        if (vq < 0) continue;
        if (options.oneVersionPerName && set.nameIdOf[q] === set.nameIdOf[pv]) continue;
        // each pair once: from the smaller id, or from the only side that declares it
        if (q < pv && set.conflicts(q).includes(pv)) continue;
        if (track && !this.beginFact({ kind: 'conflict', a: pv, b: q })) continue;
        buf.length = 0;
        buf.push(p, (vq << 1) | 1);
        this.clause(buf);
      }
    }
    if (options.oneVersionPerName) {
      for (const nameId of this.inClosureName) {
        const versions = set.versionsOfNameId(nameId);
        if (versions.length < 2) continue;
        if (!this.beginFact({ kind: 'one-version', nameId })) continue;
        this.atMostOne(Array.from(versions, (pv) => this.lit(pv)));
      }
    }
    if (options.keepEssential) {
      const removed = new Set(this.request.items.filter((i) => i.kind === 'remove').map((i) => specName(i as PackageSpec)));
      for (const pv of this.closure) {
        if (!this.installed[pv]) continue;
        if (!set.isEssentialOrRequired(pv) || removed.has(set.nameOf(pv))) continue;
        if (!this.beginFact({ kind: 'essential', nameId: set.nameIdOf[pv]! })) continue;
        this.clause(Array.from(set.versionsOfNameId(set.nameIdOf[pv]!), (q) => this.lit(q)));
      }
    }
  }

  /** At-most-one: pairwise for few literals, a sequential-counter ladder otherwise. */
  private atMostOne(lits: number[]): void {
    if (lits.length <= 6) {
      for (let i = 0; i < lits.length; i++) for (let j = i + 1; j < lits.length; j++) this.clause([lits[i]! ^ 1, lits[j]! ^ 1]);
      return;
    }
    // s_i: "one of lits[0..i] is true"
    let prev = -1;
    for (let i = 0; i < lits.length; i++) {
      const x = lits[i]!;
      if (i < lits.length - 1) {
        const s = this.engine.newVar(false) << 1;
        this.clause([x ^ 1, s]);
        if (prev >= 0) {
          this.clause([prev ^ 1, s]);
          this.clause([prev ^ 1, x ^ 1]);
        }
        prev = s;
      } else if (prev >= 0) this.clause([prev ^ 1, x ^ 1]);
    }
  }

  private encodeRequest(): void {
    const { set, installed } = this;
    this.request.items.forEach((item, index) => {
      if (!this.beginFact({ kind: 'request', index, item })) return;
      switch (item.kind) {
        case 'install': {
          this.clause(installCandidates(set, item).filter((pv) => this.inClosure(pv)).map((pv) => this.lit(pv)));
          break;
        }
        case 'remove': {
          const pvs = this.options.cudf ? installCandidates(set, item) : matchingVersions(set, item);
          for (const pv of pvs) if (this.inClosure(pv)) this.clause([this.lit(pv, false)]);
          break;
        }
        case 'keep': {
          const pv = Array.from(set.versionsOf(specName(item))).find((q) => set.versionOf(q) === item.version);
          if (pv === undefined || !this.inClosure(pv)) break;
          if (item.keep === 'version') this.clause([this.lit(pv)]);
          else if (item.keep === 'package') this.clause(Array.from(set.versionsOf(specName(item)), (q) => this.lit(q)));
          else {
            for (const p of set.record(pv).provides) {
              const cands = installCandidates(set, p.version !== undefined ? { name: p.name, op: '=', version: p.version } : { name: p.name });
              this.clause(cands.filter((q) => this.inClosure(q)).map((q) => this.lit(q)));
            }
          }
          break;
        }
        case 'hold': {
          for (const pv of set.versionsOf(item.name)) if (this.inClosure(pv)) this.clause([this.lit(pv, installed[pv] === 1)]);
          break;
        }
        case 'protect': {
          const versions = Array.from(set.versionsOf(item.name));
          if (!versions.some((pv) => installed[pv] === 1)) break;
          this.clause(versions.filter((pv) => this.inClosure(pv)).map((pv) => this.lit(pv)));
          break;
        }
        case 'pin': {
          const ok = new Set(matchingVersions(set, item));
          for (const pv of set.versionsOf(specName(item))) if (this.inClosure(pv) && !ok.has(pv)) this.clause([this.lit(pv, false)]);
          break;
        }
        case 'upgrade':
          this.encodeUpgrade(specName(item), item);
          break;
        case 'upgrade-all': {
          const names = new Set<number>();
          for (let pv = 0; pv < set.size; pv++) if (installed[pv]) names.add(set.nameIdOf[pv]!);
          for (const id of names) this.encodeUpgrade(set.names[id]!, { name: set.names[id]! });
          break;
        }
      }
    });
  }

  /** CUDF upgrade: some version installed, none older than the newest installed one. */
  private encodeUpgrade(name: string, spec: PackageSpec): void {
    const { set, installed } = this;
    const versions = set.versionsOf(name);
    let floor: number | undefined;
    for (const pv of versions) if (installed[pv] && (floor === undefined || set.comparePvs(pv, floor) > 0)) floor = pv;
    const matching = new Set(spec.op ? matchingVersions(set, spec) : versions);
    const allowed: number[] = [];
    for (const pv of versions) {
      if (!this.inClosure(pv)) continue;
      const ok = matching.has(pv) && (floor === undefined || set.comparePvs(pv, floor) >= 0);
      if (ok) allowed.push(pv);
      else this.clause([this.lit(pv, false)]);
    }
    this.clause(allowed.map((pv) => this.lit(pv)));
    if (this.options.cudf && !this.options.oneVersionPerName) this.atMostOne(allowed.map((pv) => this.lit(pv)));
    if (allowed.length > 0) this.upgradeTargets.push(allowed[0]!);
  }

  private byNameCache: Map<number, number[]> | undefined;

  /** Closure versions grouped by name id. */
  closureByName(): Map<number, number[]> {
    if (this.byNameCache) return this.byNameCache;
    const byName = new Map<number, number[]>();
    for (const pv of this.closure) {
      const id = this.set.nameIdOf[pv]!;
      const l = byName.get(id);
      if (l) l.push(pv);
      else byName.set(id, [pv]);
    }
    this.byNameCache = byName;
    return byName;
  }

  // ------------------------------------------------------------------ objectives
  private auxFor(lits: number[]): number {
    this.clausesRecorded = false;
    // x <=> OR(lits)
    if (lits.length === 1) return lits[0]!;
    const x = this.engine.newVar(false) << 1;
    for (const l of lits) this.engine.addClause([l ^ 1, x]);
    this.engine.addClause([x ^ 1, ...lits]);
    return x;
  }

  /** Literals whose number of true ones is the criterion's value (exact definitions). */
  criterionLits(c: Criterion): number[] {
    this.clausesRecorded = false;
    const { set, installed, engine } = this;
    const out: number[] = [];
    const byName = this.closureByName();
    switch (c.name) {
      case 'removed':
      case 'new':
      case 'changed':
        for (const [, pvs] of byName) {
          const wasInstalled = pvs.some((pv) => installed[pv]);
          if (c.name === 'removed') {
            if (wasInstalled) out.push(this.auxFor(pvs.map((pv) => this.lit(pv))) ^ 1);
          } else if (c.name === 'new') {
            if (!wasInstalled) out.push(this.auxFor(pvs.map((pv) => this.lit(pv))));
          } else {
            out.push(this.auxFor(pvs.map((pv) => this.lit(pv, !installed[pv]))));
          }
        }
        break;
      case 'notuptodate':
        for (const [id, pvs] of byName) {
          const newest = set.versionsOfNameId(id)[0]!;
          const older = pvs.filter((pv) => pv !== newest && set.comparePvs(pv, newest) < 0);
          if (older.length === 0) continue;
          const any = this.auxFor(older.map((pv) => this.lit(pv)));
          const nw = this.lit(newest);
          // x <=> any ∧ ¬newest
          const x = engine.newVar(false) << 1;
          engine.addClause([any ^ 1, nw, x]);
          engine.addClause([x ^ 1, nw ^ 1]);
          engine.addClause([x ^ 1, any]);
          out.push(x);
        }
        break;
      case 'unmet_recommends':
        if (!this.options.followRecommends) break;
        // eslint-disable-next-line no-case-declarations
        const buf2 = [0, 0];
        for (const pv of this.closure) {
          const recs = set.recommends(pv);
          if (recs.length === 0) continue;
          if (this.options.recommendsScope === 'changed' && installed[pv]) continue;
          const p = this.lit(pv);
          const buf: number[] = [];
          for (const cands of recs) {
            const x = engine.newVar(false) << 1;
            buf.length = 0;
            buf.push(p ^ 1, x);
            for (let k = 0; k < cands.length; k++) {
              const v = this.varOfPv[cands[k]!]!;
              if (v >= 0) buf.push(v << 1);
            }
            engine.addClause(buf);
            for (let k = 2; k < buf.length; k++) {
              const l = buf[k]!;
              buf2[0] = x ^ 1;
              buf2[1] = l ^ 1;
              engine.addClause(buf2);
            }
            buf2[0] = x ^ 1;
            buf2[1] = p;
            engine.addClause(buf2);
            out.push(x);
          }
        }
        break;
    }
    return c.sign === '-' ? out : out.map((l) => l ^ 1);
  }

  /** Literals true when an upgrade-requested name is not at its newest allowed version. */
  upgradeLits(): number[] {
    return this.upgradeTargets.map((pv) => this.lit(pv, false));
  }

  /** Selector assumptions for every fact (all facts on). */
  allSelectors(): number[] {
    return this.factSelector.filter((s) => s >= 0).map((s) => s << 1);
  }

  /** Installed versions in the engine's last model. */
  modelPvs(): number[] {
    const out: number[] = [];
    for (const pv of this.closure) if (this.engine.modelValue(this.lit(pv))) out.push(pv);
    return out;
  }
}

export function encodeRequest(set: PackageSet, installed: Uint8Array, request: SolveRequest, policy: SolverPolicy, options: EncodeOptions): Encoding {
  return new Encoding(set, installed, request, policy, options);
}
