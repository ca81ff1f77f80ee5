/**
 * Properties of multi-edit resolutions (minimal correction sets, src/solver/repair.ts) on small
 * random universes with up to five request items, against a brute-force enumeration of every
 * subset of the relaxable items (each request item, each installed Essential package):
 * - every resolution is valid: its request is solvable by brute force, solving it again gives
 *   its transaction, and that transaction leads to a valid state;
 * - every resolution is minimal: its items corrected are a correction set, and with any one of
 *   them restored (or, on the request itself, with any one edit left out) there is no solution;
 * - resolutions are distinct by edit set and by transaction, and ranked by cost;
 * - the first resolution needs as few edits as the cheapest brute-force correction set;
 * - with at most 8 relaxable items and a generous budget, the correction sets returned are
 *   exactly the brute-force minimal correction sets (one whose transaction equals that of a
 *   resolution listed before it is shown once), and the search says it is complete.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RequestItem, Resolution, ResolutionEdit } from '../../../src/solver/index.js';
import { enumerateStates, violatedFacts } from './brute-force.js';
import { buildCase, build, rawCaseWith, type Built, type Case } from './universes.js';
import { describeEdits } from '../../helpers/words.js';

/** The relaxable items of a case, as fact keys: request items and installed Essential names (not removed). */
function relaxableKeys(b: Built, c: Case): string[] {
  const removed = new Set(c.items.flatMap((i) => (i.kind === 'remove' ? [i.name] : [])));
  const keys = c.items.map((_, i) => `request:${i}`);
  for (const [id, pvs] of b.u.pvsOfName) {
    const was = pvs.filter((pv) => b.u.before.has(pv));
    if (was.length === 0 || removed.has(b.u.universe.names[id]!)) continue;
    if (was.some((pv) => b.u.records[pv]!.essential || b.u.records[pv]!.priority === 'required')) keys.push(`essential:${b.u.universe.names[id]}`);
  }
  return keys;
}

/** Every minimal correction set by brute force: the minimal sets of relaxable facts some state violates alone. */
function bruteMcses(b: Built, c: Case, relaxable: readonly string[]): string[][] {
  const soft = new Set(relaxable);
  const sets = new Map<string, string[]>();
  for (const s of enumerateStates(b.u)) {
    const v = [...violatedFacts(b.u, s, c.items)];
    if (v.every((k) => soft.has(k))) sets.set(v.slice().sort().join(' '), v.slice().sort());
  }
  const all = [...sets.values()];
  return all.filter((x) => !all.some((y) => y.length < x.length && y.every((k) => x.includes(k))));
}

function solvableRelaxing(b: Built, c: Case, relaxed: ReadonlySet<string>): boolean {
  return enumerateStates(b.u).some((s) => [...violatedFacts(b.u, s, c.items)].every((k) => relaxed.has(k)));
}

/**
 * The request with the edits of `res` except the one at `leaveOut` (an independent reading of
 * what each edit means: the oracle for "with any one edit left out, there is no solution").
 */
function requestWithout(items: readonly RequestItem[], res: Resolution, leaveOut: number): RequestItem[] {
  const out: Array<RequestItem | null> = items.slice();
  const appended: RequestItem[] = [];
  res.edits.forEach((e: ResolutionEdit, k) => {
    if (k === leaveOut) return;
    const key = res.corrects[k]!;
    if (key.startsWith('essential:')) {
      appended.push({ kind: 'remove', name: key.slice('essential:'.length) });
      return;
    }
    const i = Number(key.slice('request:'.length));
    const item = items[i]!;
    switch (e.kind) {
      case 'skip':
      case 'lift':
        out[i] = null;
        break;
      case 'choose-version':
      case 'alternative':
        out[i] = { kind: 'install', name: e.name, op: '=', version: e.version };
        break;
      case 'relax':
        out[i] = { kind: item.kind as 'install', name: (item as { name: string }).name };
        break;
      case 'allow-downgrade':
        out[i] = { kind: 'install', name: e.name };
        break;
      case 'allow-removal':
        out[i] = { kind: 'remove', name: e.names[0]! };
        break;
    }
  });
  return [...out.filter((x): x is RequestItem => x !== null), ...appended];
}

const bruteSolvable = (b: Built, items: readonly RequestItem[]): boolean => enumerateStates(b.u).some((s) => violatedFacts(b.u, s, items).size === 0);

describe('multi-edit resolutions: minimal correction sets against brute force', () => {
  it('valid, minimal, distinct, ranked; cheapest first; with a generous budget exactly the minimal correction sets', () => {
    let conflicts = 0;
    let multiEdit = 0;
    let compared = 0;
    fc.assert(
      fc.property(rawCaseWith({ maxItems: 5 }), (raw) => {
        const c = buildCase(raw);
        const b = build(c);
        const out = b.solve(c.items, 1000, { maxResolutionEdits: 8 });
        expect(out.kind).not.toBe('timeout');
        if (out.kind !== 'conflict') return;
        conflicts++;
        const relaxable = relaxableKeys(b, c);
        const mcses = bruteMcses(b, c, relaxable);
        const editKeys = new Set<string>();
        const txKeys = new Set<string>();
        for (const r of out.resolutions) {
          const what = describeEdits(r.edits);
          if (r.edits.length > 1) multiEdit++;
          expect(r.edits.length, what).toBe(r.corrects.length);
          expect(r.cost.edits, what).toBe(r.edits.length);
          // valid
          expect(bruteSolvable(b, r.request.items), what).toBe(true);
          const again = b.solve(r.request.items, 0);
          expect(again.kind, what).toBe('solution');
          if (again.kind === 'solution') {
            expect([...violatedFacts(b.u, again.installedAfter, r.request.items)], what).toEqual([]);
            expect(again.transaction, what).toEqual(r.transaction);
          }
          // minimal, over the relaxable items and on the request itself
          expect(solvableRelaxing(b, c, new Set(r.corrects)), what).toBe(true);
          for (let i = 0; i < r.edits.length; i++) {
            expect(solvableRelaxing(b, c, new Set(r.corrects.filter((_, j) => j !== i))), `${what} without ${r.corrects[i]}`).toBe(false);
            expect(bruteSolvable(b, requestWithout(c.items, r, i)), `${what} without edit ${i + 1}`).toBe(false);
          }
          // distinct
          const ek = JSON.stringify(r.edits);
          const tk = JSON.stringify(r.transaction);
          expect(editKeys.has(ek), `distinct edits: ${what}`).toBe(false);
          expect(txKeys.has(tk), `distinct transactions: ${what}`).toBe(false);
          editKeys.add(ek);
          txKeys.add(tk);
        }
        for (let i = 1; i < out.resolutions.length; i++) {
          const p = out.resolutions[i - 1]!.cost;
          const q = out.resolutions[i]!.cost;
          expect(p.edits < q.edits || (p.edits === q.edits && (p.removed < q.removed || (p.removed === q.removed && p.changed <= q.changed))), 'ranked by cost').toBe(true);
        }
        // cheapest first
        const cheapest = Math.min(...mcses.map((m) => m.length));
        expect(out.resolutions.length, `brute force finds correction sets of ${cheapest}`).toBeGreaterThan(0);
        expect(out.resolutions[0]!.edits.length).toBe(cheapest);
        // with a generous budget: exactly the brute-force minimal correction sets
        if (relaxable.length > 8) return;
        compared++;
        expect(out.resolutionSearch?.stopped).toBe('complete');
        const returned = new Set(out.resolutions.map((r) => r.corrects.slice().sort().join(' ')));
        const brute = new Set(mcses.map((m) => m.join(' ')));
        for (const k of returned) expect(brute.has(k), `returned ${k} is a brute-force MCS (${[...brute].join(' / ')})`).toBe(true);
        for (const m of mcses) {
          const k = m.join(' ');
          if (returned.has(k)) continue;
          // not shown: its loosest edits give the transaction of a resolution shown before it
          const drop = requestWithout(c.items.concat(), { edits: m.map((key) => (key.startsWith('essential:') ? { kind: 'allow-removal', names: [key.slice(10)] } : { kind: 'skip', item: c.items[Number(key.slice(8))]! })), corrects: m } as Resolution, -1);
          const again = b.solve(drop, 0);
          expect(again.kind, `brute-force MCS ${k} is missing and has no solution as a request`).toBe('solution');
          if (again.kind === 'solution') expect(txKeys.has(JSON.stringify(again.transaction)), `brute-force MCS ${k} is missing (returned: ${[...returned].join(' / ')})`).toBe(true);
        }
      }),
      { numRuns: Number(process.env.ROLLWISE_PROPERTY_RUNS ?? 250), seed: Number(process.env.ROLLWISE_PROPERTY_SEED ?? 20261204) },
    );
    if (process.env.ROLLWISE_PROPERTY_DEBUG) console.log({ conflicts, multiEdit, compared });
    // the generator must make the property mean something: conflicts, several of them needing more than one edit
    expect(conflicts).toBeGreaterThan(40);
    expect(multiEdit).toBeGreaterThan(10);
    expect(compared).toBeGreaterThan(40);
  });
});
