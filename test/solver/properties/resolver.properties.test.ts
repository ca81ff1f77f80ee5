/**
 * Properties of the resolver on small random Debian universes (fast-check; names may be
 * installed, Essential or Priority: required; requests install, remove and hold), against the
 * brute-force resolver of ./brute-force.ts:
 * - solvability agrees with brute force, and the optimal criteria values are the brute-force
 *   optimum (lexicographic, for several criteria lists);
 * - the same answer on repeated runs, also over a universe built again from the same records;
 * - a returned solution is valid (no violated fact);
 * - an explanation is a minimal unsatisfiable set of facts: with only its facts the request
 *   is unsolvable, and taking away any one of them makes it solvable;
 * - every resolution shown solves: its request is solvable by brute force and its transaction
 *   leads to a valid state for it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PackageAtom, PackageRecord, Provision, RelationOp } from '../../../src/kb/index.js';
import { createEmptyRecord } from '../../../src/kb/index.js';
import { createUniverse } from '../../../src/universe/index.js';
import { createUniverseProblem, parseCriteria, solveRequest, type RequestItem, type SolveOutcome } from '../../../src/solver/index.js';
import { countCriteria, createBruteUniverse, enumerateStates, violatedFacts, type BruteUniverse, type CriteriaCounts } from './brute-force.js';
import { describeEdit, explanationText } from '../../helpers/words.js';

const VERSIONS = ['1', '2', '3'];
const OPS: Array<RelationOp | undefined> = [undefined, undefined, '>=', '<<', '=', '>>'];
const CRITERIA = ['-removed,-changed', '-removed,-changed,-notuptodate', '-removed,-notuptodate,-new', '-new,-removed,-changed'];

interface RawAtom { target: number; op: number; version: number }
interface RawVersion { depends: RawAtom[][]; conflicts: RawAtom[]; provides: Array<{ target: number; version: number }> }
interface RawName { versions: boolean[]; rels: RawVersion[]; installed: number; essential: number }
interface RawCase { names: RawName[]; request: Array<{ kind: number; target: number; op: number; version: number }>; criteria: number }

const rawAtom = fc.record({ target: fc.nat(7), op: fc.nat(OPS.length - 1), version: fc.nat(2) });
const rawVersion = fc.record({
  depends: fc.array(fc.array(rawAtom, { minLength: 1, maxLength: 2 }), { maxLength: 2 }),
  conflicts: fc.array(rawAtom, { maxLength: 1 }),
  provides: fc.array(fc.record({ target: fc.nat(1), version: fc.nat(3) }), { maxLength: 1 }),
});
const rawName = fc.record({
  versions: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  rels: fc.array(rawVersion, { minLength: 3, maxLength: 3 }),
  installed: fc.nat(3),
  /** 0: plain; 1: Essential: yes; 2: Priority: required (only for installed names, mostly plain). */
  essential: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
});
const rawCase: fc.Arbitrary<RawCase> = fc.record({
  names: fc.array(rawName, { minLength: 3, maxLength: 6 }),
  request: fc.array(fc.record({ kind: fc.nat(4), target: fc.nat(7), op: fc.nat(OPS.length - 1), version: fc.nat(2) }), { minLength: 1, maxLength: 2 }),
  criteria: fc.nat(CRITERIA.length - 1),
});

interface Case {
  records: PackageRecord[];
  installed: Array<{ name: string; version: string }>;
  items: RequestItem[];
  criteria: string;
}

/** Real names p0..pN-1 (each with 1–3 of the versions 1, 2, 3) and virtual names v0, v1. */
function buildCase(raw: RawCase): Case {
  const n = raw.names.length;
  const nameOf = (t: number) => (t % (n + 2) < n ? `p${t % (n + 2)}` : `v${(t % (n + 2)) - n}`);
  const atomOf = (a: RawAtom): PackageAtom => {
    const op = OPS[a.op];
    return op ? { name: nameOf(a.target), op, version: VERSIONS[a.version]! } : { name: nameOf(a.target) };
  };
  const records: PackageRecord[] = [];
  const installed: Array<{ name: string; version: string }> = [];
  raw.names.forEach((rn, i) => {
    const versions = VERSIONS.filter((_, k) => rn.versions[k]);
    if (versions.length === 0) versions.push(VERSIONS[i % 3]!);
    versions.forEach((v, k) => {
      const rel = rn.rels[k]!;
      const r = createEmptyRecord(`p${i}`, v, 'amd64', { layer: 'property', source: 'fast-check' });
      r.depends = rel.depends.map((alts) => alts.map(atomOf));
      r.conflicts = rel.conflicts.map(atomOf).filter((a) => a.name !== r.name || a.op !== undefined);
      r.provides = rel.provides.map((p): Provision => (p.version === 3 ? { name: `v${p.target}` } : { name: `v${p.target}`, version: VERSIONS[p.version]! }));
      if (rn.essential === 1) r.essential = true;
      if (rn.essential === 2) r.priority = 'required';
      records.push(r);
    });
    if (rn.installed > 0 && rn.installed <= versions.length) installed.push({ name: `p${i}`, version: versions[rn.installed - 1]! });
  });
  const items: RequestItem[] = raw.request.map((q) => {
    const name = `p${q.target % n}`;
    const op = OPS[q.op];
    const spec = op ? { name, op, version: VERSIONS[q.version]! } : { name };
    return q.kind === 0 ? { kind: 'remove', name } : q.kind === 4 ? { kind: 'hold', name } : { kind: 'install', ...spec };
  });
  return { records, installed, items, criteria: CRITERIA[raw.criteria]! };
}

interface Built {
  u: BruteUniverse;
  before: number[];
  solve: (items: RequestItem[], maxResolutions?: number) => SolveOutcome;
}

function build(c: Case): Built {
  const universe = createUniverse(c.records.map((r) => structuredClone(r)));
  const before = c.installed.map((e) => universe.findPv(e.name, e.version, 'amd64'));
  const u = createBruteUniverse(universe, c.records, before);
  const problem = createUniverseProblem(universe, before);
  const criteria = parseCriteria(c.criteria);
  return { u, before, solve: (items, maxResolutions = 3) => solveRequest(problem, { items }, { criteria, recommends: false, timeBudgetMs: 20_000, maxResolutions }) };
}

const vectorOf = (c: CriteriaCounts, list: string): number[] => list.split(',').map((x) => c[x.slice(1) as keyof CriteriaCounts]);
const compareLex = (a: readonly number[], b: readonly number[]): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
};

/** Brute-force optimum: the best criteria vector over every valid state, or undefined when none. */
function bruteOptimum(b: Built, items: RequestItem[], list: string, skip: ReadonlySet<string> = new Set()): number[] | undefined {
  let best: number[] | undefined;
  for (const s of enumerateStates(b.u)) {
    const v = violatedFacts(b.u, s, items);
    if ([...v].some((k) => !skip.has(k))) continue;
    const vec = vectorOf(countCriteria(b.u, b.before, s), list);
    if (!best || compareLex(vec, best) < 0) best = vec;
  }
  return best;
}

/** Whether some installed set violates only facts in `skip` (one-version facts in it lift that rule). */
function solvableSkipping(b: Built, items: RequestItem[], skip: ReadonlySet<string>): boolean {
  const multi = new Set([...skip].filter((k) => k.startsWith('one-version:')).map((k) => b.u.universe.nameId(k.slice('one-version:'.length))));
  for (const s of enumerateStates(b.u, multi)) {
    if ([...violatedFacts(b.u, s, items)].every((k) => skip.has(k))) return true;
  }
  return false;
}

function stateAfter(b: Built, out: Extract<SolveOutcome, { kind: 'solution' }>): number[] {
  return out.installedAfter.slice().sort((x, y) => x - y);
}

const comparable = (o: SolveOutcome) =>
  o.kind === 'solution'
    ? { kind: o.kind, transaction: o.transaction, criteria: o.criteria, reasons: o.reasons }
    : o.kind === 'conflict'
      ? { kind: o.kind, facts: o.explanation.facts.map((f) => f.key), text: explanationText(o.explanation), resolutions: o.resolutions.map((r) => ({ d: r.edit, t: r.transaction })) }
      : { kind: o.kind };

describe('resolver properties on small random universes', () => {
  it('agrees with brute force on solvability and optimal criteria; solutions are valid; answers repeat', () => {
    fc.assert(
      fc.property(rawCase, (raw) => {
        const c = buildCase(raw);
        const b = build(c);
        const out = b.solve(c.items);
        const optimum = bruteOptimum(b, c.items, c.criteria);
        expect(out.kind).not.toBe('timeout');
        expect(out.kind === 'solution', `solvable per brute force: ${optimum !== undefined}`).toBe(optimum !== undefined);
        if (out.kind === 'solution') {
          const after = stateAfter(b, out);
          expect([...violatedFacts(b.u, after, c.items)]).toEqual([]);
          expect(out.optimal).toBe(true);
          const reported = c.criteria.split(',').map((x) => out.criteria.find((v) => v.name === x.slice(1))?.value);
          const counted = vectorOf(countCriteria(b.u, b.before, after), c.criteria);
          expect(reported).toEqual(counted);
          expect(counted).toEqual(optimum);
        }
        // the same answer twice on the same problem, and once more over a universe built again
        expect(comparable(b.solve(c.items))).toEqual(comparable(out));
        expect(comparable(build(c).solve(c.items))).toEqual(comparable(out));
      }),
      { numRuns: Number(process.env.ROLLWISE_PROPERTY_RUNS ?? 200), seed: Number(process.env.ROLLWISE_PROPERTY_SEED ?? 20261127) },
    );
  });

  it('explanations are minimal unsatisfiable sets of facts, and every resolution solves', () => {
    let conflicts = 0;
    fc.assert(
      fc.property(rawCase, (raw) => {
        const c = buildCase(raw);
        const b = build(c);
        const out = b.solve(c.items);
        if (out.kind !== 'conflict') return;
        conflicts++;
        const facts = out.explanation.facts.map((f) => f.key);
        expect(facts.length).toBeGreaterThan(0);
        expect(out.explanation.minimal).toBe(true);
        expect(explanationText(out.explanation).length).toBeGreaterThan(0);
        // the facts alone are unsolvable: switch off every other rule (one-version rules included)
        const all = new Set<string>();
        for (const id of b.u.pvsOfName.keys()) all.add(`one-version:${b.u.universe.names[id]}`);
        for (const s of enumerateStates(b.u)) for (const k of violatedFacts(b.u, s, c.items)) all.add(k);
        const others = new Set([...all].filter((k) => !facts.includes(k)));
        expect(solvableSkipping(b, c.items, others), `facts ${facts.join(' ')} alone are unsolvable`).toBe(false);
        // ... and taking any one away makes the request solvable
        for (const f of facts) {
          expect(solvableSkipping(b, c.items, new Set([...others, f])), `without ${f} (of ${facts.join(' ')}) the request is solvable`).toBe(true);
        }
        // every resolution shown solves, and its transaction is a valid state for its request
        const seen = new Set<string>();
        for (const r of out.resolutions) {
          const items = r.request.items;
          expect(bruteOptimum(b, items, c.criteria), describeEdit(r.edit)).toBeDefined();
          const again = b.solve(items, 0);
          expect(again.kind, describeEdit(r.edit)).toBe('solution');
          if (again.kind === 'solution') {
            expect([...violatedFacts(b.u, stateAfter(b, again), items)], describeEdit(r.edit)).toEqual([]);
            expect(again.transaction, describeEdit(r.edit)).toEqual(r.transaction);
          }
          const key = JSON.stringify(r.transaction);
          expect(seen.has(key), `resolutions are distinct: ${describeEdit(r.edit)}`).toBe(false);
          seen.add(key);
        }
        for (let i = 1; i < out.resolutions.length; i++) {
          const p = out.resolutions[i - 1]!.cost;
          const q = out.resolutions[i]!.cost;
          expect(p.removed < q.removed || (p.removed === q.removed && p.changed <= q.changed), 'ranked by cost').toBe(true);
        }
      }),
      { numRuns: Number(process.env.ROLLWISE_PROPERTY_RUNS ?? 300), seed: Number(process.env.ROLLWISE_PROPERTY_SEED ?? 7) },
    );
    // the generator must produce enough unsolvable requests for this property to mean something
    expect(conflicts).toBeGreaterThan(20);
  });
});
