/**
 * Requests on the real bookworm index, compared with apt-get -s (package apt) on a throwaway
 * directory root holding the same index as its list:
 * - large installs (task-gnome-desktop, kde-full) with and without Recommends, on an empty
 *   system and on a base system (what apt installs for the Priority required/important set);
 * - a removal on the base system; impossible requests (two conflicting mail servers; a package
 *   dose-distcheck reports as broken).
 * Every solution of the resolver and every transaction apt picks is checked by the independent
 * checker (./checker.ts) on the importer's records; both sides must agree on installability,
 * and on what a removal takes away. Every resolution offered for an impossible request is
 * solved again and checked the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PackageRecord } from '../../../src/kb/index.js';
import { solveRequest, type RequestItem, type SolveOutcome, type SolutionOutcome } from '../../../src/solver/index.js';
import { createAptRoot, ensureBaseStatus, runAptSimulate, type AptRoot, type AptSimulation } from '../../helpers/peers.js';
import { checkInstalledSet } from './checker.js';
import { loadIndexRecords, loadProblem, recordKey, type LoadedIndex, type LoadedProblem } from './fixture.js';
import { describeEdits, explanationText } from '../../helpers/words.js';

let index: LoadedIndex;
let empty: LoadedProblem;
let base: LoadedProblem;
let baseNames: string[];
let emptyRoot: AptRoot | undefined;
let baseRoot: AptRoot | undefined;

beforeAll(async () => {
  index = loadIndexRecords();
  const b = await ensureBaseStatus(index.file);
  baseNames = b.names;
  empty = loadProblem(index);
  base = loadProblem(index, b.status);
  emptyRoot = createAptRoot(index.file);
  baseRoot = createAptRoot(index.file, b.status);
}, 600_000);

afterAll(() => {
  emptyRoot?.dispose();
  baseRoot?.dispose();
});

function recordsAfter(p: LoadedProblem, out: SolutionOutcome): PackageRecord[] {
  return out.installedAfter.map((pv) => p.recordOf(pv));
}

/** The installed set after apt's simulated transaction, as index records. */
function aptAfter(sim: AptSimulation, before: readonly string[]): PackageRecord[] {
  const names = new Map<string, string>();
  for (const n of before) {
    const r = index.byName.get(n)?.[0];
    if (r) names.set(n, r.version);
  }
  for (const s of sim.steps) {
    if (s.action === 'remove') names.delete(s.name);
    else names.set(s.name, s.to!);
  }
  return [...names].map(([n, v]) => {
    const r = index.byName.get(n)?.find((x) => x.version === v);
    if (!r) throw new Error(`apt picked ${n} ${v}, which is not in the index`);
    return r;
  });
}

function essentialBefore(p: LoadedProblem): PackageRecord[] {
  const out: PackageRecord[] = [];
  for (let pv = 0; pv < p.problem.installed.length; pv++) if (p.problem.installed[pv] && p.universe.isEssential(pv)) out.push(p.recordOf(pv));
  return out;
}

function expectSolution(p: LoadedProblem, items: RequestItem[], recommends: boolean): SolutionOutcome {
  const out: SolveOutcome = solveRequest(p.problem, { items }, { recommends, timeBudgetMs: 60_000 });
  if (out.kind !== 'solution') throw new Error(`no solution for ${JSON.stringify(items)}: ${out.kind === 'conflict' ? explanationText(out.explanation) : out.message}`);
  const after = recordsAfter(p, out);
  expect(checkInstalledSet(after, { essentialFrom: essentialBefore(p) })).toEqual([]);
  const names = new Set(after.map((r) => r.name));
  for (const it of items) {
    if (it.kind === 'install') expect(names.has(it.name), `${it.name} installed`).toBe(true);
    if (it.kind === 'remove') expect(names.has(it.name), `${it.name} removed`).toBe(false);
  }
  return out;
}

const cases: Array<{ title: string; on: 'empty' | 'base'; install: string; recommends: boolean }> = [
  { title: 'task-gnome-desktop with Recommends on an empty system', on: 'empty', install: 'task-gnome-desktop', recommends: true },
  { title: 'task-gnome-desktop without Recommends on an empty system', on: 'empty', install: 'task-gnome-desktop', recommends: false },
  { title: 'kde-full with Recommends on an empty system', on: 'empty', install: 'kde-full', recommends: true },
  { title: 'kde-full without Recommends on an empty system', on: 'empty', install: 'kde-full', recommends: false },
  { title: 'task-gnome-desktop with Recommends on the base system', on: 'base', install: 'task-gnome-desktop', recommends: true },
];

describe('requests on bookworm: valid solutions, and apt-get -s agrees on installability', () => {
  it('the base system (apt\'s install of the required/important set) is itself consistent', () => {
    expect(baseNames.length).toBeGreaterThan(100);
    const recs = baseNames.map((n) => index.byName.get(n)![0]!);
    expect(checkInstalledSet(recs)).toEqual([]);
  });

  for (const c of cases) {
    it(c.title, async () => {
      const p = c.on === 'empty' ? empty : base;
      const ours = expectSolution(p, [{ kind: 'install', name: c.install }], c.recommends);
      expect(ours.transaction.filter((s) => s.action === 'remove')).toEqual([]);
      const sim = await runAptSimulate(c.on === 'empty' ? emptyRoot! : baseRoot!, 'install', [c.install], { recommends: c.recommends });
      expect(sim.errors).toEqual([]);
      expect(sim.ok).toBe(true);
      // apt's own pick passes the same checker (the checker and apt agree on the rules)
      const aptSet = aptAfter(sim, c.on === 'empty' ? [] : baseNames);
      expect(checkInstalledSet(aptSet)).toEqual([]);
      const oursNames = new Set(recordsAfter(p, ours).map((r) => recordKey(r.name, r.version, r.architecture)));
      const aptNames = new Set(aptSet.map((r) => recordKey(r.name, r.version, r.architecture)));
      const common = [...oursNames].filter((k) => aptNames.has(k)).length;
      console.log(`${c.title}: rollwise ${oursNames.size} installed after (${ours.stats.ms} ms), apt ${aptNames.size} (${Math.round(sim.run.wallMs)} ms), ${common} in common`);
      if (!c.recommends) {
        // without Recommends, both install a close set: neither should be more than twice the other
        expect(oursNames.size).toBeLessThan(aptNames.size * 2);
        expect(aptNames.size).toBeLessThan(oursNames.size * 2);
      }
    }, 600_000);
  }

  it('a removal on the base system: removing libnftables1 takes away the same packages as apt', async () => {
    const ours = expectSolution(base, [{ kind: 'remove', name: 'libnftables1' }], false);
    const oursRemoved = ours.transaction.filter((s) => s.action === 'remove').map((s) => s.name).sort();
    expect(ours.transaction.filter((s) => s.action !== 'remove')).toEqual([]);
    const sim = await runAptSimulate(baseRoot!, 'remove', ['libnftables1'], { allowRemovals: true });
    expect(sim.ok).toBe(true);
    const aptRemoved = sim.steps.filter((s) => s.action === 'remove').map((s) => s.name).sort();
    expect(oursRemoved).toEqual(aptRemoved);
    expect(oursRemoved).toContain('libnftables1');
    expect(checkInstalledSet(aptAfter(sim, baseNames))).toEqual([]);
  }, 600_000);

  for (const c of [
    { title: 'two conflicting mail servers (postfix and exim4-daemon-heavy)', install: ['postfix', 'exim4-daemon-heavy'] },
    { title: 'a package dose-distcheck reports broken (webext-tbsync)', install: ['webext-tbsync'] },
  ]) {
    it(`impossible: ${c.title}; apt fails too; every resolution solves and is valid`, async () => {
      const items: RequestItem[] = c.install.map((name) => ({ kind: 'install', name }));
      const out = solveRequest(empty.problem, { items }, { recommends: false, timeBudgetMs: 60_000 });
      expect(out.kind).toBe('conflict');
      if (out.kind !== 'conflict') return;
      expect(out.explanation.facts.length).toBeGreaterThan(0);
      expect(out.explanation.minimal).toBe(true);
      for (const name of c.install) expect(explanationText(out.explanation)).toContain(name);
      expect(out.resolutions.length).toBeGreaterThan(0);
      for (const r of out.resolutions) {
        const again = solveRequest(empty.problem, r.request, { recommends: false, timeBudgetMs: 60_000 });
        expect(again.kind, describeEdits(r.edits)).toBe('solution');
        if (again.kind === 'solution') expect(checkInstalledSet(recordsAfter(empty, again)), describeEdits(r.edits)).toEqual([]);
      }
      const sim = await runAptSimulate(emptyRoot!, 'install', c.install, { recommends: false });
      expect(sim.ok).toBe(false);
      expect(sim.errors.length).toBeGreaterThan(0);
    }, 600_000);
  }
});
