/**
 * A conflict whose way out needs two edits, on the real Debian 12 (bookworm) main index:
 * postfix, exim4-daemon-light and exim4-daemon-heavy are mail transport agents that conflict
 * pairwise, so asking for all three is solved only by leaving out two of them. Each resolution is
 * checked here as a user would rely on it: solved again (same transaction), valid for the
 * independent checker (checker.ts), minimal (with either edit left out there is no solution),
 * distinct; and `rollwise solve` / `why-not` print them in words.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDebianUniverse } from '../../src/universe/index.js';
import { createUniverseProblem, solveRequest, type ConflictOutcome, type Problem, type RequestItem } from '../../src/solver/index.js';
import { checkSolution } from './checker.js';
import { runCliInProcess } from '../app/cli-in-process.js';
import { describeEdits } from '../helpers/words.js';

const INDEX = new URL('../../../shared/data/debian/bookworm-main-amd64.Packages.xz', import.meta.url).pathname;
const MTAS = ['postfix', 'exim4-daemon-light', 'exim4-daemon-heavy'];

let empty: Problem;

beforeAll(async () => {
  if (!existsSync(INDEX)) throw new Error(`missing ${INDEX}: the shared Debian index (../shared/data/debian) is needed`);
  const { universe } = await loadDebianUniverse([INDEX]);
  empty = createUniverseProblem(universe, []);
}, 180_000);

describe('three mail transport agents at once (bookworm)', () => {
  it('has three resolutions of two edits each, every one verified, minimal and distinct', () => {
    const items: RequestItem[] = MTAS.map((name) => ({ kind: 'install', name }));
    const out = solveRequest(empty, { items }, { recommends: false, maxResolutions: 10 });
    expect(out.kind).toBe('conflict');
    const { resolutions, resolutionSearch } = out as ConflictOutcome;
    expect(resolutionSearch?.stopped).toBe('complete');
    expect(resolutions.length).toBeGreaterThanOrEqual(3);
    // which two are left out: each pair exactly once
    const left = resolutions.map((r) => r.edits.map((e) => (e.kind === 'skip' && 'name' in e.item ? e.item.name : '?')).sort().join('+'));
    expect(left.sort()).toEqual(['exim4-daemon-heavy+exim4-daemon-light', 'exim4-daemon-heavy+postfix', 'exim4-daemon-light+postfix']);
    const transactions = new Set<string>();
    for (const r of resolutions) {
      const what = describeEdits(r.edits);
      expect(r.edits.length, what).toBe(2);
      const again = solveRequest(empty, r.request, { recommends: false, maxResolutions: 0 });
      expect(again.kind, what).toBe('solution');
      if (again.kind !== 'solution') continue;
      expect(again.transaction, what).toEqual(r.transaction);
      expect(checkSolution(empty, r.request.items, again.installedAfter), what).toEqual([]);
      // the one agent kept is installed
      const kept = MTAS.filter((n) => !r.edits.some((e) => e.kind === 'skip' && 'name' in e.item && e.item.name === n));
      expect(kept.length, what).toBe(1);
      expect(r.transaction.some((s) => s.name === kept[0] && s.action === 'install'), what).toBe(true);
      // minimal: with either edit left out, there is no solution
      for (const e of r.edits) {
        const restored = r.request.items.concat(e.kind === 'skip' ? [e.item] : []);
        expect(solveRequest(empty, { items: restored }, { recommends: false, maxResolutions: 0 }).kind, `${what} without ${describeEdits([e])}`).toBe('conflict');
      }
      transactions.add(JSON.stringify(r.transaction));
    }
    expect(transactions.size).toBe(resolutions.length);
    // ranked: fewest edits, then removals, then changes
    const changes = resolutions.map((r) => r.cost.changed);
    expect(changes).toEqual(changes.slice().sort((a, b) => a - b));
  });

  it('reports which budget ended the search: the number asked for, or the largest set allowed', () => {
    const items: RequestItem[] = MTAS.map((name) => ({ kind: 'install', name }));
    const two = solveRequest(empty, { items }, { recommends: false, maxResolutions: 2 }) as ConflictOutcome;
    expect(two.resolutions.map((r) => r.edits.length)).toEqual([2, 2]);
    expect(two.resolutionSearch?.stopped).toBe('count');
    const single = solveRequest(empty, { items }, { recommends: false, maxResolutionEdits: 1 }) as ConflictOutcome;
    expect(single.resolutions).toEqual([]);
    expect(single.resolutionSearch?.stopped).toBe('size');
    expect(single.resolutionSearch?.correctionSets).toBe(0);
  });

  it('rollwise solve prints the resolutions in words; --json gives the edits as data', async () => {
    const args = ['solve', '--index', INDEX, '--no-recommends', ...MTAS.flatMap((n) => ['--install', n])];
    const r = await runCliInProcess(args);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^No solution:/);
    expect(r.stdout).toMatch(/1\. skip install \S+, and skip install \S+ \(2 edits, 0 removals, \d+ changes\)/);
    expect(r.stdout).toMatch(/3\. skip install \S+, and skip install \S+ \(2 edits/);
    const j = await runCliInProcess([...args, '--json']);
    const out = JSON.parse(j.stdout) as { kind: string; resolutions: Array<{ edits: Array<{ kind: string }>; description: string; cost: { edits: number } }>; resolutionSearch: { stopped: string } };
    expect(out.kind).toBe('conflict');
    expect(out.resolutions.length).toBe(3);
    for (const res of out.resolutions) {
      expect(res.edits.map((e) => e.kind)).toEqual(['skip', 'skip']);
      expect(res.cost.edits).toBe(2);
      expect(res.description).toMatch(/^skip install \S+, and skip install \S+$/);
    }
    expect(out.resolutionSearch.stopped).toBe('complete');
  });

  it('rollwise why-not says the request plus the package has no solution, with its resolutions', async () => {
    const r = await runCliInProcess(['why-not', 'exim4-daemon-heavy', '--index', INDEX, '--no-recommends', '--install', 'postfix']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('exim4-daemon-heavy cannot be part of the solution.');
    expect(r.stdout).toContain('The request plus exim4-daemon-heavy has no solution:');
    expect(r.stdout).not.toMatch(/^No solution/m);
    expect(r.stdout).toMatch(/1\. skip install (postfix|exim4-daemon-heavy) \(0 removals/);
    // when the request alone has no solution either, it says so, and the way out needs two edits
    const both = await runCliInProcess(['why-not', 'exim4-daemon-heavy', '--index', INDEX, '--no-recommends', '--install', 'postfix', '--install', 'exim4-daemon-light']);
    expect(both.stdout).toContain('The request has no solution, with or without exim4-daemon-heavy:');
    expect(both.stdout).toMatch(/skip install \S+, and skip install \S+ \(2 edits/);
  });
});
