/**
 * Whole-archive installability, with dose-distcheck's meaning: a package version is
 * installable when some set of the archive's package versions containing it and the Essential
 * packages satisfies every Depends/Pre-Depends, no Conflicts/Breaks, and holds one version per
 * name.
 *
 * Technique: one incremental CDCL engine over the whole archive (one variable per version, all
 * rules as clauses, Essential packages as hard clauses). Then:
 * 1. One solve with no assumption and the phase of every variable set to *true*: the engine
 *    builds a large consistent set, and every version in the model is certified installable.
 * 2. Each remaining version is checked by one solve under the assumption that it is installed,
 *    deciding only the dependency closure of that version, of the Essential set and of the next
 *    32 unsettled versions (which ride along with phase true: one model certifies many of them;
 *    825 solves on bookworm became 42). Depends clauses of installed versions whose candidates
 *    were left undecided grow the scope and the solve is repeated, so the partial model extends
 *    to a full one (everything undecided not installed). A model certifies every version in it; an UNSAT answer
 *    proves the version broken and its negation is added as a unit clause, so versions that
 *    depend only on broken ones are settled by propagation at level 0, without search.
 * Learnt clauses are kept across checks (they are consequences of the archive's rules).
 *
 * Explanations: a broken version with a dependency that nothing can satisfy, or whose every
 * candidate is itself broken, is explained by that dependency and the chain to a root cause
 * (summarised when long); a root cause that is not a plain missing dependency gets a minimal
 * set of facts (MUS) from a selector encoding of its closure (explain.ts).
 */
import { encodeRequest } from './encode.js';
import { buildExplanation, computeMus, type ExplanationFact } from './explain.js';
import { createSatEngine } from './internal/sat.js';
import type { PackageSet } from './universe-view.js';

export interface BrokenPackage {
  pv: number;
  package: string;
  version: string;
  architecture: string;
  /** Why: the chain of broken dependencies down to a root cause (a minimal set of facts). */
  explanation: ExplanationFact[];
}

export interface InstallabilityReport {
  broken: BrokenPackage[];
  checked: number;
  /** SAT calls made (one per uncertified version at most). */
  solves: number;
  ms: number;
  /** False when the time budget stopped the check (broken then lists only what was proven). */
  complete: boolean;
}

export interface CheckInstallableOptions {
  /** Only these versions are reported on (default: every version of the set). */
  only?: ArrayLike<number>;
  /** Essential packages installed together with each checked package (default true, as dose-distcheck). */
  withEssential?: boolean;
  /** Compute explanations (default true). */
  explain?: boolean;
  timeBudgetMs?: number;
}

export function checkInstallable(set: PackageSet, options: CheckInstallableOptions = {}): InstallabilityReport {
  const t0 = performance.now();
  const deadline = t0 + (options.timeBudgetMs ?? 600_000);
  const n = set.size;
  const engine = createSatEngine();
  engine.newVars(n, true);
  const pos = (pv: number) => pv << 1;
  const neg = (pv: number) => (pv << 1) | 1;
  const lits: number[] = [];
  for (let pv = 0; pv < n; pv++) {
    for (const field of [set.preDepends(pv), set.depends(pv)]) {
      for (const cands of field) {
        lits.length = 0;
        lits.push(neg(pv));
        for (let i = 0; i < cands.length; i++) lits.push(pos(cands[i]!));
        engine.addClause(lits);
      }
    }
    const cs = set.conflicts(pv);
    for (let i = 0; i < cs.length; i++) {
      const q = cs[i]!;
      if (set.nameIdOf[q] === set.nameIdOf[pv]) continue;
      engine.addClause([neg(pv), neg(q)]);
    }
  }
  const seenName = new Uint8Array(set.names.length);
  for (let pv = 0; pv < n; pv++) {
    const id = set.nameIdOf[pv]!;
    if (seenName[id]) continue;
    seenName[id] = 1;
    const vs = set.versionsOfNameId(id);
    if (vs.length < 2) continue;
    // pairwise at-most-one (archives rarely hold more than a few versions of a name)
    for (let i = 0; i < vs.length; i++) for (let j = i + 1; j < vs.length; j++) engine.addClause([neg(vs[i]!), neg(vs[j]!)]);
  }
  const essentialPvs: number[] = [];
  if (options.withEssential !== false) {
    const byName = new Map<number, number[]>();
    for (let pv = 0; pv < n; pv++) {
      if (!set.isEssential(pv)) continue;
      essentialPvs.push(pv);
      const id = set.nameIdOf[pv]!;
      const l = byName.get(id);
      if (l) l.push(pv);
      else byName.set(id, [pv]);
    }
    for (const [, pvs] of byName) engine.addClause(pvs.map(pos));
  }
  const tBuilt = performance.now();
  const targets: number[] = options.only ? Array.from(options.only) : Array.from({ length: n }, (_, i) => i);
  const certified = new Uint8Array(n);
  const broken = new Uint8Array(n);
  let complete = true;
  const certify = () => {
    for (const pv of engine.trueVars) certified[pv] = 1;
  };
  if (engine.isOk) {
    const r = engine.solve({ deadline, trueVarsOnly: true });
    if (r === 'sat') certify();
    else if (r === 'unknown') complete = false;
  }
  let firstCertified = 0;
  for (let pv = 0; pv < n; pv++) firstCertified += certified[pv]!;
  // per-package checks decide only the dependency closure of the package and of the Essential set
  const stamp = new Int32Array(n);
  let epoch = 0;
  const scope: number[] = [];
  const grow = (start: number[]) => {
    const queue = start.filter((q) => stamp[q] !== epoch);
    for (const q of queue) stamp[q] = epoch;
    for (let i = 0; i < queue.length; i++) {
      const q = queue[i]!;
      scope.push(q);
      for (const field of [set.preDepends(q), set.depends(q)]) {
        for (const cands of field) {
          for (let k = 0; k < cands.length; k++) {
            const c = cands[k]!;
            if (stamp[c] !== epoch && engine.valueOfLit(neg(c)) !== 1) {
              stamp[c] = epoch;
              queue.push(c);
            }
          }
        }
      }
    }
  };
  /** Depends clauses of installed versions whose candidates were all left undecided (outside the scope). */
  const isTrue = new Int32Array(n);
  let trueEpoch = 0;
  const undecidedNeeds = (): number[] => {
    trueEpoch++;
    const tv = engine.trueVars;
    for (const q of tv) isTrue[q] = trueEpoch;
    const need: number[] = [];
    for (const q of tv) {
      for (const field of [set.preDepends(q), set.depends(q)]) {
        for (const cands of field) {
          let ok = false;
          for (let k = 0; k < cands.length && !ok; k++) if (isTrue[cands[k]!] === trueEpoch) ok = true;
          if (!ok) for (let k = 0; k < cands.length; k++) if (stamp[cands[k]!] !== epoch) need.push(cands[k]!);
        }
      }
    }
    return need;
  };
  const COMPANIONS = 32;
  for (let ti = 0; ti < targets.length; ti++) {
    const pv = targets[ti]!;
    if (!complete) break;
    if (certified[pv] || broken[pv]) continue;
    if (!engine.isOk || engine.valueOfLit(pos(pv)) === -1) {
      broken[pv] = 1;
      continue;
    }
    epoch++;
    scope.length = 0;
    // the next unsettled versions ride along (decided true when they fit): one model can certify several
    const start = [pv];
    for (let tj = ti + 1; tj < targets.length && start.length <= COMPANIONS; tj++) {
      const q = targets[tj]!;
      if (!certified[q] && !broken[q] && engine.valueOfLit(pos(q)) !== -1) start.push(q);
    }
    grow([...start, ...essentialPvs]);
    // try to install the whole scope: each model then certifies as many versions as possible
    for (const q of scope) engine.setPhase(q, true);
    for (;;) {
      const r = engine.solve({ assumptions: [pos(pv)], deadline, scope, trueVarsOnly: true });
      if (r === 'sat') {
        const need = undecidedNeeds();
        if (need.length > 0) {
          grow(need);
          continue;
        }
        certify();
      } else if (r === 'unsat') {
        broken[pv] = 1;
        if (engine.isOk) engine.addClause([neg(pv)]);
      } else complete = false;
      break;
    }
  }
  const tSolved = performance.now();
  if (process.env.ROLLWISE_SOLVER_DEBUG) console.error(`installable: build ${Math.round(tBuilt - t0)} ms, solve ${Math.round(tSolved - tBuilt)} ms, conflicts ${engine.conflicts}, decisions ${engine.decisions}, props ${engine.propagations}, certified-first ${firstCertified}`);
  const brokenList: BrokenPackage[] = [];
  const explainer = options.explain === false ? undefined : createBrokenExplainer(set, broken, essentialPvs, deadline);
  for (const pv of targets) {
    if (!broken[pv]) continue;
    brokenList.push({
      pv,
      package: set.nameOf(pv),
      version: set.versionOf(pv),
      architecture: set.archOf(pv),
      explanation: explainer ? explainer(pv) : [],
    });
  }
  return { broken: brokenList, checked: targets.length, solves: engine.solves, ms: Math.round(performance.now() - t0), complete };
}

function createBrokenExplainer(set: PackageSet, broken: Uint8Array, essentialPvs: number[], deadline: number): (pv: number) => ExplanationFact[] {
  const cache = new Map<number, ExplanationFact[]>();
  const installedEssential = new Uint8Array(set.size);
  for (const pv of essentialPvs) installedEssential[pv] = 1;
  const ref = (pv: number) => ({ name: set.nameOf(pv), version: set.versionOf(pv) });
  const rootCause = (pv: number): ExplanationFact[] => {
    const enc = encodeRequest(
      set,
      installedEssential,
      { items: [{ kind: 'install', name: set.nameOf(pv), op: '=', version: set.versionOf(pv) }] },
      {},
      { selectors: true, oneVersionPerName: true, keepEssential: true },
    );
    const mus = computeMus(enc, deadline);
    const pkg = ref(pv);
    if (mus.facts.length === 0) return [{ kind: 'not-with-essential', key: `not-with-essential:${pkg.name}=${pkg.version}`, package: pkg }];
    return buildExplanation(enc, mus.facts, mus.minimal).facts.filter((f) => f.kind !== 'request');
  };
  const chainOf = (pv: number, visiting: Set<number>): ExplanationFact[] => {
    const hit = cache.get(pv);
    if (hit) return hit;
    visiting.add(pv);
    let out: ExplanationFact[] | undefined;
    for (const field of ['pre-depends', 'depends'] as const) {
      const clauses = field === 'depends' ? set.depends(pv) : set.preDepends(pv);
      for (let i = 0; i < clauses.length && !out; i++) {
        const cands = clauses[i]!;
        const pkg = ref(pv);
        const key = `${field}:${pkg.name}=${pkg.version}:${i}`;
        if (cands.length === 0) {
          out = [{ kind: 'depends', key, package: pkg, field, relation: set.clauseText(pv, field, i), satisfiable: false }];
        } else if (Array.from(cands).every((q) => broken[q] && !visiting.has(q))) {
          const head: ExplanationFact = { kind: 'broken-dependency', key: `broken-${key}`, package: pkg, field, relation: set.clauseText(pv, field, i), candidates: Array.from(cands, ref) };
          out = [head, ...chainOf(cands[0]!, visiting)];
        }
      }
      if (out) break;
    }
    visiting.delete(pv);
    out ??= rootCause(pv);
    cache.set(pv, out);
    return out;
  };
  return (pv) => chainOf(pv, new Set());
}
