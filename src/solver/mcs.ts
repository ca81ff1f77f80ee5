/**
 * Minimal correction sets (MCSes) over the soft facts of an encoding with selectors, smallest
 * first: the raw material of multi-edit resolutions (repair.ts).
 *
 * Technique: every fact of the encoding has a selector literal (encode.ts); the soft facts'
 * selectors may be switched off, all others are assumed on. A totalizer over the negated soft
 * selectors, truncated at `maxSize + 1`, gives outputs `o_j` ("at least j soft facts are off");
 * assuming `¬o_{k+1}` allows at most k. For k = 1, 2, ...: every model names a correction set
 * (the soft facts whose selector is off), and a blocking clause (at least one of them on) is
 * added before the next call; when size k answers unsatisfiable, every correction set of size
 * ≤ k has been listed. A set found at size k is minimal: a smaller correction set inside it would
 * not be blocked (a blocked set inside it would block it too), so it would have been found at its
 * own, smaller size. One engine, incremental; the caller stops the enumeration when it has enough.
 */
import type { Encoding } from './encode.js';

export type McsStop = 'complete' | 'size' | 'time' | 'caller';

export interface McsEnumeration {
  /** Why the enumeration ended: every set listed, the size limit, the deadline, or the caller. */
  stopped: McsStop;
  /** Sets listed (indices into `soft`). */
  listed: number;
}

export interface McsOptions {
  /** Largest correction set to look for. */
  maxSize: number;
  deadline: number;
}

/**
 * Calls `onSet(indices into soft, size)` for each minimal correction set, smallest first; a
 * `false` return stops the enumeration. `soft` lists fact indices of `enc` (selectors needed).
 */
export function enumerateCorrectionSets(enc: Encoding, soft: readonly number[], options: McsOptions, onSet: (set: number[]) => boolean): McsEnumeration {
  const engine = enc.engine;
  const softSet = new Set(soft);
  const hard: number[] = [];
  enc.factSelector.forEach((s, i) => {
    if (s >= 0 && !softSet.has(i)) hard.push(s << 1);
  });
  const sel = soft.map((i) => enc.factSelector[i]!);
  if (sel.some((s) => s < 0)) throw new Error('enumerateCorrectionSets needs an encoding with selectors');
  const maxSize = Math.min(options.maxSize, soft.length);
  // "selector off" literals; outputs[j-1] is forced true when at least j of them are true
  const outputs = truncatedTotalizer(enc, sel.map((s) => (s << 1) | 1), maxSize + 1);
  let listed = 0;
  for (let k = 1; k <= maxSize; k++) {
    const bound = outputs[k];
    for (;;) {
      if (performance.now() > options.deadline) return { stopped: 'time', listed };
      const assumptions = bound === undefined ? hard : [...hard, bound ^ 1];
      const r = engine.solve({ assumptions, deadline: options.deadline });
      if (r === 'unknown') return { stopped: 'time', listed };
      if (r === 'unsat') break;
      const set: number[] = [];
      sel.forEach((s, i) => {
        if (!engine.modelValue(s << 1)) set.push(i);
      });
      // block this set (and so every superset of it)
      engine.addClause(set.map((i) => sel[i]! << 1));
      listed++;
      if (!onSet(set)) return { stopped: 'caller', listed };
    }
  }
  if (maxSize >= soft.length) return { stopped: 'complete', listed };
  // a larger correction set exists only if, with every set listed blocked, the soft facts can
  // still be switched off somehow
  const rest = engine.solve({ assumptions: hard, deadline: options.deadline });
  return { stopped: rest === 'unsat' ? 'complete' : rest === 'sat' ? 'size' : 'time', listed };
}

/** Totalizer over `inputs` keeping only the first `limit` outputs (`at least j` for j ≤ limit). */
function truncatedTotalizer(enc: Encoding, inputs: number[], limit: number): number[] {
  const engine = enc.engine;
  const build = (lo: number, hi: number): number[] => {
    if (hi - lo === 1) return [inputs[lo]!];
    const mid = (lo + hi) >> 1;
    const a = build(lo, mid);
    const b = build(mid, hi);
    const n = Math.min(a.length + b.length, limit);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(engine.newVar(false) << 1);
    for (let i = 0; i < a.length && i < n; i++) engine.addClause([a[i]! ^ 1, out[i]!]);
    for (let j = 0; j < b.length && j < n; j++) engine.addClause([b[j]! ^ 1, out[j]!]);
    for (let i = 0; i < a.length; i++) {
      for (let j = 0; j < b.length && i + j + 1 < n; j++) engine.addClause([a[i]! ^ 1, b[j]! ^ 1, out[i + j + 1]!]);
    }
    return out;
  };
  return inputs.length === 0 ? [] : build(0, inputs.length);
}
