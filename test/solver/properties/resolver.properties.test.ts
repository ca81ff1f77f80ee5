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
import type { RequestItem, SolveOutcome } from '../../../src/solver/index.js';
import { countCriteria, enumerateStates, violatedFacts, type CriteriaCounts } from './brute-force.js';
import { buildCase, build, rawCase, type Built } from './universes.js';
import { describeEdits, explanationText } from '../../helpers/words.js';

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
      ? { kind: o.kind, facts: o.explanation.facts.map((f) => f.key), text: explanationText(o.explanation), resolutions: o.resolutions.map((r) => ({ d: r.edits, t: r.transaction })) }
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
          expect(bruteOptimum(b, items, c.criteria), describeEdits(r.edits)).toBeDefined();
          const again = b.solve(items, 0);
          expect(again.kind, describeEdits(r.edits)).toBe('solution');
          if (again.kind === 'solution') {
            expect([...violatedFacts(b.u, stateAfter(b, again), items)], describeEdits(r.edits)).toEqual([]);
            expect(again.transaction, describeEdits(r.edits)).toEqual(r.transaction);
          }
          const key = JSON.stringify(r.transaction);
          expect(seen.has(key), `resolutions are distinct: ${describeEdits(r.edits)}`).toBe(false);
          seen.add(key);
        }
        for (let i = 1; i < out.resolutions.length; i++) {
          const p = out.resolutions[i - 1]!.cost;
          const q = out.resolutions[i]!.cost;
          expect(p.edits < q.edits || (p.edits === q.edits && (p.removed < q.removed || (p.removed === q.removed && p.changed <= q.changed))), 'ranked by cost').toBe(true);
        }
      }),
      { numRuns: Number(process.env.ROLLWISE_PROPERTY_RUNS ?? 300), seed: Number(process.env.ROLLWISE_PROPERTY_SEED ?? 7) },
    );
    // the generator must produce enough unsolvable requests for this property to mean something
    expect(conflicts).toBeGreaterThan(20);
  });
});
