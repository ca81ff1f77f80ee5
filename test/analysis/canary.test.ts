/**
 * Mann-Whitney U and the canary judge. Reference p-values were computed independently with
 * scipy.stats.mannwhitneyu 1.17 (exact without ties, asymptotic with continuity otherwise);
 * tiny samples are checked against a brute-force count over every split; properties with fast-check.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_CANARY, hodgesLehmannShift, judgeCanary, mannWhitneyU, type Alternative } from '../../src/analysis/index.js';

describe('mannWhitneyU against scipy', () => {
  const cases: Array<{ x: number[]; y: number[]; alt: Alternative; u1: number; p: number; method: 'exact' | 'normal' }> = [
    { x: [1.1, 2.3, 3.5, 4.2], y: [5.0, 6.1, 7.7], alt: 'less', u1: 0, p: 0.02857142857142857, method: 'exact' },
    { x: [1.1, 2.3, 3.5, 4.2], y: [5.0, 6.1, 7.7], alt: 'two-sided', u1: 0, p: 0.05714285714285714, method: 'exact' },
    { x: [19, 22, 16, 29, 24], y: [20, 11, 17, 12], alt: 'greater', u1: 17, p: 0.05555555555555555, method: 'exact' },
    { x: [19, 22, 16, 29, 24], y: [20, 11, 17, 12], alt: 'less', u1: 17, p: 0.9682539682539683, method: 'exact' },
    { x: [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46], y: [1.15, 0.88, 0.9, 0.74, 1.21], alt: 'greater', u1: 35, p: 0.1272061272061272, method: 'exact' },
    { x: [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46], y: [1.15, 0.88, 0.9, 0.74, 1.21], alt: 'two-sided', u1: 35, p: 0.2544122544122544, method: 'exact' },
    // ties, small: the permutation distribution given the ties, 5 of 924 splits (counted in Python with
    // itertools.combinations; scipy's `exact` ignores ties here and gives 4/924)
    { x: [3, 4, 2, 6, 2, 5], y: [9, 7, 5, 10, 6, 8], alt: 'less', u1: 2, p: 5 / 924, method: 'exact' },
    { x: [0.3, 0.3, 0.3, 0.3, 0.3], y: Array(10).fill(0.01), alt: 'greater', u1: 50, p: 0.000333000333000333, method: 'exact' },
  ];
  for (const c of cases) {
    it(`${c.x.length}x${c.y.length} ${c.alt}`, () => {
      const r = mannWhitneyU(c.x, c.y, c.alt);
      expect(r.u1).toBe(c.u1);
      expect(r.method).toBe(c.method);
      expect(r.pValue).toBeCloseTo(c.p, 12);
    });
  }

  it('uses the normal approximation with tie correction and continuity for large samples with ties', () => {
    const x = [1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 12, 12, 13, 14, 15];
    const y = [3, 4, 4, 5, 6, 6, 7, 8, 9, 9, 10, 11, 12, 13, 13, 14, 15, 16, 17, 18, 19, 20];
    const expected: Record<Alternative, number> = { less: 0.012979327705067224, greater: 0.987812508486139, 'two-sided': 0.025958655410134448 };
    for (const alt of ['less', 'greater', 'two-sided'] as const) {
      const r = mannWhitneyU(x, y, alt);
      expect(r.method).toBe('normal');
      expect(r.u1).toBe(139);
      expect(r.pValue).toBeCloseTo(expected[alt], 6); // erf approximation: |error| < 1.2e-7
    }
  });

  it('gives p = 1 when every value is tied', () => {
    expect(mannWhitneyU(Array(30).fill(1), Array(30).fill(1), 'greater').pValue).toBe(1);
  });

  it('Hodges-Lehmann shift is the median of pairwise differences (numpy: 7.0)', () => {
    expect(hodgesLehmannShift([19, 22, 16, 29, 24], [20, 11, 17, 12])).toBe(7);
  });
});

/** P(U1 >= u) by listing every way to choose which pooled values are the x's. */
function bruteGreater(x: number[], y: number[]): number {
  const pooled = [...x, ...y];
  const n1 = x.length;
  const uOf = (xs: number[], ys: number[]): number => xs.reduce((s, a) => s + ys.reduce((t, b) => t + (a > b ? 1 : a === b ? 0.5 : 0), 0), 0);
  const observed = uOf(x, y);
  let total = 0;
  let ge = 0;
  const idx = pooled.map((_, i) => i);
  const choose = (start: number, picked: number[]): void => {
    if (picked.length === n1) {
      const xs = picked.map((i) => pooled[i]!);
      const ys = idx.filter((i) => !picked.includes(i)).map((i) => pooled[i]!);
      total++;
      if (uOf(xs, ys) >= observed - 1e-9) ge++;
      return;
    }
    for (let i = start; i < pooled.length; i++) choose(i + 1, [...picked, i]);
  };
  choose(0, []);
  return ge / total;
}

describe('mannWhitneyU properties', () => {
  const sample = fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 6 });
  const big = fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 40 });

  it('exact p equals a brute-force count over every split (ties included)', () => {
    fc.assert(fc.property(sample, sample, (x, y) => {
      expect(mannWhitneyU(x, y, 'greater').pValue).toBeCloseTo(bruteGreater(x, y), 12);
    }), { numRuns: 200 });
  });

  it('U1 + U2 = n1 n2, p in [0, 1], and swapping samples swaps the sides', () => {
    fc.assert(fc.property(big, big, (x, y) => {
      const a = mannWhitneyU(x, y, 'greater');
      const b = mannWhitneyU(y, x, 'less');
      expect(a.u1 + a.u2).toBeCloseTo(x.length * y.length, 9);
      expect(a.pValue).toBeGreaterThanOrEqual(0);
      expect(a.pValue).toBeLessThanOrEqual(1);
      expect(b.u1).toBeCloseTo(a.u2, 9);
      expect(b.pValue).toBeCloseTo(a.pValue, 12);
      const t1 = mannWhitneyU(x, y, 'two-sided').pValue;
      const t2 = mannWhitneyU(y, x, 'two-sided').pValue;
      expect(t1).toBeCloseTo(t2, 12);
    }), { numRuns: 200 });
  });

  it('is invariant under a strictly increasing transform', () => {
    fc.assert(fc.property(big, big, (x, y) => {
      const f = (v: number): number => Math.exp(v / 300) * 7 + 3;
      const a = mannWhitneyU(x, y, 'greater');
      const b = mannWhitneyU(x.map(f), y.map(f), 'greater');
      // exp may merge values that differ by less than a double's step: compare only when the order is kept
      const keepsOrder = [...x, ...y].every((u) => [...x, ...y].every((v) => (u < v) === (f(u) < f(v))));
      if (!keepsOrder) return;
      expect(b.u1).toBe(a.u1);
      expect(b.pValue).toBeCloseTo(a.pValue, 12);
    }), { numRuns: 200 });
  });
});

describe('judgeCanary', () => {
  const noisy = (base: number, n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => base * (1 + 0.02 * Math.sin(seed + i * 1.7)));

  it('blames a changed host that is clearly worse, in the direction that hurts', () => {
    const s = judgeCanary(noisy(0.3, 10, 1), noisy(0.01, 20, 2), DEFAULT_CANARY);
    expect(s.outcome).toBe('worse');
    expect(s.shift).toBeGreaterThan(0.28);
    expect(s.pValue).toBeLessThan(0.001);
    // lower error rate is no harm when higher is worse
    expect(judgeCanary(noisy(0.01, 10, 1), noisy(0.3, 20, 2), DEFAULT_CANARY).outcome).toBe('similar');
    expect(judgeCanary(noisy(0.01, 10, 1), noisy(0.3, 20, 2), { ...DEFAULT_CANARY, direction: 'lower-is-worse' }).outcome).toBe('worse');
  });

  it('does not blame a fleet-wide dip: both groups moved together', () => {
    expect(judgeCanary(noisy(0.3, 10, 1), noisy(0.3, 20, 5), DEFAULT_CANARY).outcome).toBe('similar');
  });

  it('needs the minimum effect: a significant 3% shift is not worse at a 10% minimum', () => {
    const s = judgeCanary(noisy(1.03, 30, 1).map((v) => v * 1), Array.from({ length: 30 }, (_, i) => 1 + 0.001 * (i % 3)), DEFAULT_CANARY);
    expect(s.pValue).toBeLessThan(0.01);
    expect(s.outcome).toBe('similar');
    expect(judgeCanary(noisy(1.15, 30, 1), Array.from({ length: 30 }, (_, i) => 1 + 0.001 * (i % 3)), DEFAULT_CANARY).outcome).toBe('worse');
  });

  it('abstains with too few samples and says against what it compared', () => {
    const s = judgeCanary([1, 2], [1, 2, 3, 4, 5], DEFAULT_CANARY, 'baseline');
    expect(s.outcome).toBe('insufficient');
    expect(s.against).toBe('baseline');
  });
});
