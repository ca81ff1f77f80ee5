/**
 * The Mann-Whitney U test (Wilcoxon rank-sum) and the Hodges-Lehmann shift, for the canary judge.
 *
 * U1 = R1 - n1(n1+1)/2 from the rank sum of the first sample (simple-statistics' wilcoxonRankSum:
 * average ranks for ties), U2 = n1·n2 - U1. The p-value is
 * - exact, without ties and n1+n2 <= 50: the null distribution of U is the coefficient list of the
 *   Gaussian binomial [n1+n2 choose n1]_q, built as prod_{i=1..n1} (1 - q^(n2+i)) / (1 - q^i) in
 *   integer arithmetic (exact in doubles while C(n1+n2, n1) < 2^53);
 * - exact with ties when C(n1+n2, n1) <= 20,000: every split of the pooled mid-ranks is counted
 *   (the permutation distribution conditional on the ties);
 * - otherwise the normal approximation with tie correction
 *   sigma^2 = n1·n2/12 · ((n+1) - sum(t^3 - t)/(n(n-1))) and a continuity correction of 1/2,
 *   Phi from the error function (simple-statistics' errorFunction, not its table).
 * `greater` tests whether the first sample tends to be larger, `less` smaller; `two-sided` doubles
 * the smaller one-sided p-value (at most 1).
 */
import { errorFunction, median, wilcoxonRankSum } from 'simple-statistics';

export type Alternative = 'greater' | 'less' | 'two-sided';

export interface MannWhitneyResult {
  /** U of the first sample: pairs (x, y) with x > y, plus half the ties. */
  u1: number;
  u2: number;
  pValue: number;
  method: 'exact' | 'normal';
  /** Sizes of the groups of tied values (only groups of 2 or more). */
  ties: number[];
}

const EXACT_NO_TIES_MAX_N = 50;
const EXACT_TIES_MAX_SPLITS = 20_000;

export function mannWhitneyU(x: readonly number[], y: readonly number[], alternative: Alternative = 'two-sided'): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new Error('mannWhitneyU needs two non-empty samples');
  if ([...x, ...y].some((v) => !Number.isFinite(v))) throw new Error('mannWhitneyU needs finite values');
  const r1 = wilcoxonRankSum([...x], [...y]);
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const ties = tieGroups([...x, ...y]);
  let pValue: number;
  let method: 'exact' | 'normal';
  if (ties.length === 0 && n1 + n2 <= EXACT_NO_TIES_MAX_N) {
    pValue = fromDistribution(gaussianBinomial(n1, n2), u1, alternative);
    method = 'exact';
  } else if (ties.length > 0 && binomial(n1 + n2, Math.min(n1, n2)) <= EXACT_TIES_MAX_SPLITS) {
    pValue = exactWithTies(x, y, u1, alternative);
    method = 'exact';
  } else {
    pValue = normalP(u1, n1, n2, ties, alternative);
    method = 'normal';
  }
  return { u1, u2, pValue: Math.min(1, Math.max(0, pValue)), method, ties };
}

/** Median of all differences x_i - y_j: the shift estimate that goes with the U test. */
export function hodgesLehmannShift(x: readonly number[], y: readonly number[]): number {
  const d: number[] = [];
  for (const a of x) for (const b of y) d.push(a - b);
  return median(d);
}

function tieGroups(values: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const groups: number[] = [];
  let run = 1;
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && sorted[i] === sorted[i - 1]) run++;
    else {
      if (run > 1) groups.push(run);
      run = 1;
    }
  }
  return groups;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/** counts[u] = number of arrangements of n1 x's and n2 y's with U1 = u (no ties). */
function gaussianBinomial(n1: number, n2: number): number[] {
  const deg = n1 * n2;
  let p = new Array<number>(deg + 1).fill(0);
  p[0] = 1;
  for (let i = 1; i <= n1; i++) {
    // multiply by (1 - q^(n2+i)), then divide by (1 - q^i): stays a polynomial with non-negative integers
    const m = n2 + i;
    const next = p.slice();
    for (let k = deg; k >= m; k--) next[k] = next[k]! - p[k - m]!;
    for (let k = i; k <= deg; k++) next[k] = next[k]! + next[k - i]!;
    p = next;
  }
  return p;
}

function fromDistribution(counts: readonly number[], u1: number, alternative: Alternative): number {
  const total = counts.reduce((a, b) => a + b, 0);
  let ge = 0;
  let le = 0;
  counts.forEach((c, u) => {
    if (u >= u1 - 1e-9) ge += c;
    if (u <= u1 + 1e-9) le += c;
  });
  const greater = ge / total;
  const less = le / total;
  if (alternative === 'greater') return greater;
  if (alternative === 'less') return less;
  return Math.min(1, 2 * Math.min(greater, less));
}

/** The permutation distribution of U1 over every split of the pooled mid-ranks. */
function exactWithTies(x: readonly number[], y: readonly number[], u1: number, alternative: Alternative): number {
  const n1 = x.length;
  const pooled = [...x, ...y];
  const ranks = midRanks(pooled);
  const base = (n1 * (n1 + 1)) / 2;
  let total = 0;
  let ge = 0;
  let le = 0;
  const walk = (start: number, left: number, sum: number): void => {
    if (left === 0) {
      const u = sum - base;
      total++;
      if (u >= u1 - 1e-9) ge++;
      if (u <= u1 + 1e-9) le++;
      return;
    }
    for (let i = start; i <= ranks.length - left; i++) walk(i + 1, left - 1, sum + ranks[i]!);
  };
  walk(0, n1, 0);
  if (alternative === 'greater') return ge / total;
  if (alternative === 'less') return le / total;
  return Math.min(1, (2 * Math.min(ge, le)) / total);
}

function midRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  let k = 0;
  while (k < order.length) {
    let j = k;
    while (j + 1 < order.length && order[j + 1]!.v === order[k]!.v) j++;
    const r = (k + j) / 2 + 1;
    for (let t = k; t <= j; t++) ranks[order[t]!.i] = r;
    k = j + 1;
  }
  return ranks;
}

function normalCdf(z: number): number {
  return 0.5 * (1 + errorFunction(z / Math.SQRT2));
}

function normalP(u1: number, n1: number, n2: number, ties: readonly number[], alternative: Alternative): number {
  const n = n1 + n2;
  const mu = (n1 * n2) / 2;
  const tieTerm = ties.reduce((s, t) => s + (t * t * t - t), 0) / (n * (n - 1));
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm);
  if (variance <= 0) return 1; // every value tied: no evidence either way
  const sigma = Math.sqrt(variance);
  if (alternative === 'greater') return 1 - normalCdf((u1 - mu - 0.5) / sigma);
  if (alternative === 'less') return normalCdf((u1 - mu + 0.5) / sigma);
  const u = Math.max(u1, n1 * n2 - u1);
  return Math.min(1, 2 * (1 - normalCdf((u - mu - 0.5) / sigma)));
}
