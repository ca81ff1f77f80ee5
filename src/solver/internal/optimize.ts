/**
 * Lexicographic optimisation over the CDCL engine, core-guided (OLL).
 *
 * Each criterion is a list of objective literals whose number of true ones is to be minimised.
 * Levels are optimised in order; when a level reaches its optimum its final assumptions become
 * hard unit clauses, so later levels only choose among the earlier levels' optima.
 *
 * Per level (unweighted OLL, after Morgado et al. and Andres et al.): assume every objective
 * literal false. An unsatisfiable answer yields a core (a set of those assumptions that cannot
 * all hold): the lower bound rises by one, the core's assumptions are dropped, and a totalizer
 * over the core's literals is added whose output `o_k` is forced true when at least k of them
 * are; assuming `¬o_2` allows exactly one. When `¬o_k` itself appears in a later core it is
 * replaced by `¬o_{k+1}`. The first satisfiable answer is optimal. Why this technique: package
 * objectives are mostly fixed by propagation (counted at level 0 without search) and the rest
 * come in small disjoint choices (which mail transport agent, which provider), where cores are
 * small and few; a model-improving linear search would instead have to encode bounds over
 * thousands of literals.
 *
 * Budget: an 'unknown' answer ends the optimisation; the result then carries the best model
 * found so far (each level starts from a model of the previous levels) and `optimal: false`.
 */
import type { SatEngine } from './sat.js';

interface Totalizer {
  /** outputs[k-1] is forced true when at least k inputs are true */
  outputs: number[];
}

function buildTotalizer(engine: SatEngine, inputs: number[]): Totalizer {
  const build = (lo: number, hi: number): number[] => {
    if (hi - lo === 1) return [inputs[lo]!];
    const mid = (lo + hi) >> 1;
    const a = build(lo, mid);
    const b = build(mid, hi);
    const n = a.length + b.length;
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(engine.newVar(false) << 1);
    for (let i = 0; i < a.length; i++) engine.addClause([a[i]! ^ 1, out[i]!]);
    for (let j = 0; j < b.length; j++) engine.addClause([b[j]! ^ 1, out[j]!]);
    for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) engine.addClause([a[i]! ^ 1, b[j]! ^ 1, out[i + j + 1]!]);
    return out;
  };
  return { outputs: build(0, inputs.length) };
}

export interface LevelResult {
  cost: number;
  optimal: boolean;
}

export interface LexResult {
  status: 'optimal' | 'feasible' | 'unsat' | 'unknown';
  costs: LevelResult[];
  /** engine.model copy of the best model found */
  model: Int8Array | undefined;
}

export interface LexOptions {
  deadline: number;
  /** Hard assumptions valid for every call (e.g. none, normally). */
  assumptions?: number[];
  isCancelled?: () => boolean;
}

function countTrue(engine: SatEngine, lits: number[]): number {
  let n = 0;
  for (const l of lits) if (engine.modelValue(l)) n++;
  return n;
}

/**
 * Minimises the levels lexicographically. The engine must hold the hard clauses; objective
 * literal definitions are added by the caller before each level is reached (via `levels` as
 * thunks, so aux variables are only created when needed).
 */
export function minimizeLexicographic(engine: SatEngine, levels: Array<() => number[]>, options: LexOptions): LexResult {
  const hard = options.assumptions ?? [];
  const first = engine.solve({ assumptions: hard, deadline: options.deadline });
  if (first === 'unsat') return { status: 'unsat', costs: [], model: undefined };
  if (first === 'unknown') return { status: 'unknown', costs: [], model: undefined };
  let best: Int8Array = engine.model.slice();
  const costs: LevelResult[] = [];
  let allOptimal = true;
  for (const makeLits of levels) {
    const lits = makeLits();
    if (!allOptimal) {
      costs.push({ cost: countLits(best, lits), optimal: false });
      continue;
    }
    const s0 = engine.solves;
    const tl = performance.now();
    const r = minimizeLevel(engine, lits, hard, options);
    if (process.env.ROLLWISE_SOLVER_DEBUG === '1') console.error(`optimise: level ${costs.length}: ${lits.length} literals, ${engine.solves - s0} solves, ${(performance.now() - tl).toFixed(1)} ms`);
    if (r.model) best = r.model;
    costs.push({ cost: r.model ? countLits(best, lits) : countLits(best, lits), optimal: r.optimal });
    if (!r.optimal) allOptimal = false;
  }
  return { status: allOptimal ? 'optimal' : 'feasible', costs, model: best };
}

function countLits(model: Int8Array, lits: number[]): number {
  let n = 0;
  for (const l of lits) {
    const v = model[l >> 1]!;
    if ((l & 1) === 0 ? v === 1 : v === -1) n++;
  }
  return n;
}

function minimizeLevel(engine: SatEngine, objLits: number[], hard: number[], options: LexOptions): { optimal: boolean; model: Int8Array | undefined } {
  // assumption literal -> what to do when it appears in a core
  const next = new Map<number, { tot: Totalizer; k: number } | null>();
  for (const l of objLits) {
    if (engine.valueOfLit(l) === -1 && engine.isFixedTrue(l ^ 1)) continue; // fixed false: costs nothing
    if (engine.isFixedTrue(l)) continue; // fixed true: unavoidable cost
    next.set(l ^ 1, null);
  }
  // Cores read off the clauses: an open clause made only of objective literals (each assumed
  // false) is a core without any search. Disjoint ones are relaxed up front, one totalizer each.
  const used = new Set<number>();
  const structural: number[][] = [];
  engine.forEachOpenClause((lits) => {
    if (lits.length < 2 || lits.length > 64) return;
    for (const l of lits) if (used.has(l)) return;
    for (const l of lits) used.add(l);
    structural.push(lits);
  }, (l) => next.get(l ^ 1) === null);
  for (const lits of structural) {
    for (const l of lits) next.delete(l ^ 1);
    const tot = buildTotalizer(engine, lits);
    next.set(tot.outputs[1]! ^ 1, { tot, k: 2 });
  }
  for (;;) {
    if (options.isCancelled?.() || performance.now() > options.deadline) return { optimal: false, model: undefined };
    const assumptions = hard.concat(Array.from(next.keys()));
    const r = engine.solve({ assumptions, deadline: options.deadline });
    if (r === 'unknown') return { optimal: false, model: undefined };
    if (r === 'sat') {
      const model = engine.model.slice();
      // the level is settled: its assumptions become hard
      for (const a of next.keys()) engine.addClause([a]);
      void countTrue;
      return { optimal: true, model };
    }
    const core = engine.core.filter((a) => next.has(a));
    if (core.length === 0) return { optimal: true, model: undefined }; // cannot happen after a first model
    const relaxed: number[] = [];
    for (const a of core) {
      const info = next.get(a)!;
      next.delete(a);
      relaxed.push(a ^ 1);
      if (info && info.k < info.tot.outputs.length) {
        next.set(info.tot.outputs[info.k]! ^ 1, { tot: info.tot, k: info.k + 1 });
      }
    }
    if (relaxed.length > 1) {
      const tot = buildTotalizer(engine, relaxed);
      // at least one of the core is true; allow exactly one for now: assume ¬o_2
      next.set(tot.outputs[1]! ^ 1, { tot, k: 2 });
    }
  }
}
