import { describe, expect, it } from 'vitest';
import { createSatEngine, lit } from '../../src/solver/internal/sat.js';
import { createPrng } from '../helpers/prng.js';


function bruteForceSat(n: number, clauses: number[][], fixed: number[] = []): boolean {
  for (let m = 0; m < 1 << n; m++) {
    const val = (l: number) => (((m >> (l >> 1)) & 1) === 1) === ((l & 1) === 0);
    if (fixed.every(val) && clauses.every((c) => c.some(val))) return true;
  }
  return false;
}

function randomClauses(rnd: () => number, n: number, m: number, k: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m; i++) {
    const c: number[] = [];
    for (let j = 0; j < k; j++) c.push(lit(Math.floor(rnd() * n), rnd() < 0.5));
    out.push(c);
  }
  return out;
}

describe('CDCL engine', () => {
  it('proves pigeonhole 7-into-6 unsatisfiable and finds 6-into-6', () => {
    for (const [pigeons, holes, expected] of [[7, 6, 'unsat'], [6, 6, 'sat']] as const) {
      const s = createSatEngine();
      const x = (p: number, h: number) => p * holes + h;
      s.newVars(pigeons * holes);
      for (let p = 0; p < pigeons; p++) s.addClause(Array.from({ length: holes }, (_, h) => lit(x(p, h), true)));
      for (let h = 0; h < holes; h++)
        for (let p = 0; p < pigeons; p++)
          for (let q = p + 1; q < pigeons; q++) s.addClause([lit(x(p, h), false), lit(x(q, h), false)]);
      expect(s.solve()).toBe(expected);
      if (expected === 'sat') {
        for (let h = 0; h < holes; h++) {
          let used = 0;
          for (let p = 0; p < pigeons; p++) if (s.modelValue(lit(x(p, h), true))) used++;
          expect(used).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('agrees with brute force on 400 random 3-SAT instances, and models satisfy every clause', () => {
    const rnd = createPrng(42);
    let sat = 0;
    let unsat = 0;
    for (let t = 0; t < 400; t++) {
      const n = 4 + Math.floor(rnd() * 9);
      const m = Math.floor(n * (3 + rnd() * 3));
      const clauses = randomClauses(rnd, n, m, 3);
      const s = createSatEngine();
      s.newVars(n);
      for (const c of clauses) s.addClause(c);
      const r = s.solve();
      const expected = bruteForceSat(n, clauses);
      expect(r).toBe(expected ? 'sat' : 'unsat');
      if (r === 'sat') {
        sat++;
        for (const c of clauses) expect(c.some((l) => s.modelValue(l))).toBe(true);
      } else unsat++;
    }
    expect(sat).toBeGreaterThan(50);
    expect(unsat).toBeGreaterThan(50);
  });

  it('solves incrementally under assumptions; every failed core is itself unsatisfiable', () => {
    const rnd = createPrng(7);
    for (let t = 0; t < 150; t++) {
      const n = 10;
      const clauses = randomClauses(rnd, n, 30, 3);
      const s = createSatEngine();
      s.newVars(n);
      for (const c of clauses) s.addClause(c);
      for (let q = 0; q < 5; q++) {
        const assumptions = Array.from({ length: 4 }, () => lit(Math.floor(rnd() * n), rnd() < 0.5));
        const r = s.solve({ assumptions });
        const expected = bruteForceSat(n, clauses, assumptions);
        expect(r).toBe(expected ? 'sat' : 'unsat');
        if (r === 'sat') for (const a of assumptions) expect(s.modelValue(a)).toBe(true);
        if (r === 'unsat' && s.isOk) {
          expect(s.core.every((c) => assumptions.includes(c))).toBe(true);
          expect(bruteForceSat(n, clauses, s.core)).toBe(false);
        }
      }
    }
  });

  it('stops with unknown when the conflict budget runs out, and can continue later', () => {
    const s = createSatEngine();
    const pigeons = 10;
    const holes = 9;
    const x = (p: number, h: number) => p * holes + h;
    s.newVars(pigeons * holes);
    for (let p = 0; p < pigeons; p++) s.addClause(Array.from({ length: holes }, (_, h) => lit(x(p, h), true)));
    for (let h = 0; h < holes; h++)
      for (let p = 0; p < pigeons; p++)
        for (let q = p + 1; q < pigeons; q++) s.addClause([lit(x(p, h), false), lit(x(q, h), false)]);
    expect(s.solve({ conflictLimit: 10 })).toBe('unknown');
  });

  it('accepts clauses and variables added between solves', () => {
    const s = createSatEngine();
    const a = s.newVar();
    const b = s.newVar();
    s.addClause([lit(a, true), lit(b, true)]);
    expect(s.solve({ assumptions: [lit(a, false)] })).toBe('sat');
    expect(s.modelValue(lit(b, true))).toBe(true);
    const c = s.newVar();
    s.addClause([lit(b, false), lit(c, true)]);
    s.addClause([lit(c, false)]);
    expect(s.solve({ assumptions: [lit(a, false)] })).toBe('unsat');
    expect(s.core).toEqual([lit(a, false)]);
    expect(s.solve()).toBe('sat');
    expect(s.modelValue(lit(a, true))).toBe(true);
  });
});
