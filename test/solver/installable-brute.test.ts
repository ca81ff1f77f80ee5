/**
 * Whole-archive installability against brute force on small random archives (including
 * Essential packages, alternatives, versioned dependencies, conflicts and several versions of a
 * name), and the time budget's honesty on a real request.
 */
import { describe, expect, it } from 'vitest';
import type { PackageAtom, PackageRecord } from '../../src/kb/index.js';
import { createEmptyRecord } from '../../src/kb/index.js';
import { checkInstallable, createProblem, solveRequest } from '../../src/solver/index.js';
import { checkRecords } from './checker.js';
import { createPrng } from '../helpers/prng.js';


function randomArchive(rnd: () => number): PackageRecord[] {
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  const recs: PackageRecord[] = [];
  for (const name of names) {
    const versions = rnd() < 0.3 ? ['1', '2'] : ['1'];
    for (const version of versions) recs.push(createEmptyRecord(name, version, 'amd64', { layer: 't', source: 't' }));
  }
  const atom = (): PackageAtom => {
    const name = rnd() < 0.1 ? 'missing' : names[Math.floor(rnd() * names.length)]!;
    return rnd() < 0.3 ? { name, op: rnd() < 0.5 ? '>=' : '<<', version: '2' } : { name };
  };
  for (const r of recs) {
    const nd = Math.floor(rnd() * 3);
    for (let i = 0; i < nd; i++) r.depends.push(rnd() < 0.3 ? [atom(), atom()] : [atom()]);
    if (rnd() < 0.35) r.conflicts.push(atom());
    if (rnd() < 0.1) r.breaks.push(atom());
    if (rnd() < 0.15) r.provides.push({ name: 'virt' });
    if (rnd() < 0.15) r.depends.push([{ name: 'virt' }]);
    r.essential = rnd() < 0.06;
  }
  return recs;
}

function bruteInstallable(recs: PackageRecord[]): boolean[] {
  const n = recs.length;
  const ok = new Array<boolean>(n).fill(false);
  const essentialNames = new Set(recs.filter((r) => r.essential).map((r) => r.name));
  for (let m = 0; m < 1 << n; m++) {
    const chosen = recs.filter((_, i) => (m >> i) & 1);
    if ([...essentialNames].some((name) => !chosen.some((r) => r.name === name && r.essential))) continue;
    if (checkRecords(chosen).length > 0) continue;
    for (let i = 0; i < n; i++) if ((m >> i) & 1) ok[i] = true;
  }
  return ok;
}

describe('checkInstallable vs brute force', () => {
  it('agrees on 250 random archives', () => {
    const rnd = createPrng(2026);
    let brokenSeen = 0;
    let fineSeen = 0;
    for (let t = 0; t < 250; t++) {
      const recs = randomArchive(rnd);
      const expected = bruteInstallable(recs);
      const report = checkInstallable(createProblem(recs).set);
      const got = recs.map((_, i) => !report.broken.some((b) => b.pv === i));
      expect(got, JSON.stringify(recs.map((r) => [r.name, r.version, r.depends, r.conflicts, r.breaks, r.provides, r.essential]))).toEqual(expected);
      for (const b of report.broken) expect(b.explanation.length).toBeGreaterThan(0);
      brokenSeen += report.broken.length;
      fineSeen += recs.length - report.broken.length;
    }
    expect(brokenSeen).toBeGreaterThan(100);
    expect(fineSeen).toBeGreaterThan(100);
  });
});

describe('time budget', () => {
  it('a request stopped by its budget says so: a timeout, or a solution marked not optimal', () => {
    // a chain of choices: many alternatives so that optimisation needs several solver calls
    const recs: PackageRecord[] = [];
    const top = createEmptyRecord('top', '1', 'amd64', { layer: 't', source: 't' });
    for (let i = 0; i < 60; i++) {
      top.depends.push([{ name: `x${i}` }, { name: `y${i}` }]);
      const x = createEmptyRecord(`x${i}`, '1', 'amd64', { layer: 't', source: 't' });
      x.depends.push([{ name: `dep${i}` }]);
      recs.push(x, createEmptyRecord(`y${i}`, '1', 'amd64', { layer: 't', source: 't' }), createEmptyRecord(`dep${i}`, '1', 'amd64', { layer: 't', source: 't' }));
    }
    recs.push(top);
    const problem = createProblem(recs);
    const full = solveRequest(problem, { items: [{ kind: 'install', name: 'top' }] }, { recommends: false });
    expect(full.kind).toBe('solution');
    if (full.kind === 'solution') {
      expect(full.optimal).toBe(true);
      expect(full.criteria.find((c) => c.name === 'changed')?.value).toBe(61);
    }
    const cut = solveRequest(problem, { items: [{ kind: 'install', name: 'top' }] }, { recommends: false, timeBudgetMs: 0.0001 });
    if (cut.kind === 'solution') expect(cut.optimal).toBe(false);
    else expect(cut.kind).toBe('timeout');
  });
});
