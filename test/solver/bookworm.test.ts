/**
 * The resolver on the real Debian 12 (bookworm) main amd64 index: large requests, a base
 * system, a removal, an impossible request, and whole-archive installability. Every solution is
 * checked by the independent checker (checker.ts) on records read by the kb importer, never
 * through the solver's own candidate index.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PackageRecord } from '../../src/kb/index.js';
import { loadDebianIndex } from '../../src/kb/index.js';
import { loadDebianUniverse } from '../../src/universe/index.js';
import {
  checkInstallable,
  createUniverseProblem,
  solveRequest,
  type Problem,
  type RequestItem,
  type SolutionOutcome,
} from '../../src/solver/index.js';
import { checkRecords, checkSolution, satisfies } from './checker.js';
import { explanationText, renderBrokenChain } from '../helpers/words.js';

const INDEX = new URL('../../../shared/data/debian/bookworm-main-amd64.Packages.xz', import.meta.url).pathname;

let empty: Problem;
let recordOf: (pv: number) => PackageRecord;
let byName: Map<string, PackageRecord[]>;

beforeAll(async () => {
  if (!existsSync(INDEX)) throw new Error(`missing ${INDEX}: the shared Debian index (../shared/data/debian) is needed`);
  const { universe } = await loadDebianUniverse([INDEX]);
  empty = createUniverseProblem(universe, []);
  const { records } = await loadDebianIndex(INDEX);
  const byKey = new Map(records.map((r) => [`${r.name}\u0000${r.version}\u0000${r.architecture}`, r]));
  byName = new Map();
  for (const r of records) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  recordOf = (pv) => {
    const r = byKey.get(`${universe.nameOfPv(pv)}\u0000${universe.versionOf(pv)}\u0000${universe.archOf(pv)}`);
    if (!r) throw new Error(`no record for pv ${pv}`);
    return r;
  };
}, 180_000);

function expectValid(problem: Problem, items: RequestItem[], out: SolutionOutcome): void {
  const recs = out.installedAfter.map(recordOf);
  expect(checkRecords(recs)).toEqual([]);
  expect(checkSolution(problem, items, out.installedAfter)).toEqual([]);
}

function solveOk(problem: Problem, items: RequestItem[], recommends: boolean): SolutionOutcome {
  const out = solveRequest(problem, { items }, { recommends, timeBudgetMs: 60_000 });
  expect(out.kind, out.kind === 'conflict' ? explanationText(out.explanation) : '').toBe('solution');
  return out as SolutionOutcome;
}

describe('bookworm: large requests on an empty system', () => {
  for (const [name, recommends] of [['task-gnome-desktop', false], ['task-gnome-desktop', true], ['kde-full', false], ['kde-full', true]] as const) {
    it(`install ${name} ${recommends ? 'with' : 'without'} recommends: valid, optimal, with a reason chain for every package`, () => {
      const items: RequestItem[] = [{ kind: 'install', name }];
      const out = solveOk(empty, items, recommends);
      expectValid(empty, items, out);
      expect(out.optimal).toBe(true);
      expect(out.transaction.every((s) => s.action === 'install')).toBe(true);
      expect(out.transaction.some((s) => s.name === name)).toBe(true);
      // -changed on an empty system counts exactly the installed packages
      expect(out.criteria.find((c) => c.name === 'changed')?.value).toBe(out.transaction.length);
      for (const s of out.transaction) {
        const chain = out.reasons[`${s.name}=${s.to}`]!;
        expect(chain[0], s.name).toMatch(/^requested: install /);
      }
    });
  }

  it('with recommends installs a superset of the hard closure, and meets more recommends', () => {
    const items: RequestItem[] = [{ kind: 'install', name: 'task-gnome-desktop' }];
    const hard = solveOk(empty, items, false);
    const soft = solveOk(empty, items, true);
    expect(soft.transaction.length).toBeGreaterThan(hard.transaction.length);
  });
});

describe('bookworm: from a base system', () => {
  let base: Problem;
  beforeAll(() => {
    // the base system: every Priority required/important package, resolved
    const names = new Set<string>();
    for (const [n, rs] of byName) if (rs.some((r) => r.priority === 'required' || r.priority === 'important' || r.essential)) names.add(n);
    const items: RequestItem[] = [...names].map((name) => ({ kind: 'install', name }));
    const out = solveOk(empty, items, false);
    expectValid(empty, items, out);
    base = { set: empty.set, installed: new Uint8Array(empty.set.size) };
    for (const pv of out.installedAfter) base.installed[pv] = 1;
  });

  it('installs task-gnome-desktop without removing anything, keeping every installed version', () => {
    const items: RequestItem[] = [{ kind: 'install', name: 'task-gnome-desktop' }];
    const out = solveOk(base, items, true);
    expectValid(base, items, out);
    expect(out.transaction.filter((s) => s.action !== 'install')).toEqual([]);
    expect(out.criteria.find((c) => c.name === 'removed')?.value).toBe(0);
  });

  it('removes a required package on request, with exactly the packages that need it', () => {
    const items: RequestItem[] = [{ kind: 'remove', name: 'apt' }];
    const out = solveOk(base, items, false);
    expectValid(base, items, out);
    const removed = out.transaction.filter((s) => s.action === 'remove').map((s) => s.name);
    expect(removed).toContain('apt');
    expect(out.transaction.every((s) => s.action === 'remove')).toBe(true);
    // every other removed package depends (directly or not) on something removed: keeping it alone would break
    for (const name of removed.filter((n) => n !== 'apt')) {
      const was = Array.from(empty.set.versionsOf(name)).filter((pv) => base.installed[pv] === 1).map(recordOf);
      const keep = out.installedAfter.map(recordOf).concat(was);
      expect(checkRecords(keep).length, name).toBeGreaterThan(0);
    }
  });

  it('an impossible request gets a minimal explanation and verified resolutions', () => {
    const items: RequestItem[] = [
      { kind: 'install', name: 'postfix' },
      { kind: 'install', name: 'exim4-daemon-light' },
    ];
    const out = solveRequest(base, { items }, { recommends: false });
    expect(out.kind).toBe('conflict');
    if (out.kind !== 'conflict') return;
    expect(out.explanation.minimal).toBe(true);
    expect(out.explanation.facts.filter((f) => f.kind === 'request').length).toBe(2);
    expect(explanationText(out.explanation)).toMatch(/postfix/);
    expect(explanationText(out.explanation)).toMatch(/exim4/);
    expect(out.explanation.facts.length).toBeLessThanOrEqual(6);
    expect(out.resolutions.length).toBeGreaterThanOrEqual(2);
    for (const r of out.resolutions) {
      const again = solveRequest(base, r.request, { recommends: false });
      expect(again.kind).toBe('solution');
      if (again.kind === 'solution') expectValid(base, r.request.items, again);
    }
  });
});

describe('bookworm: whole-archive installability', () => {
  it('every broken package is really broken where the reason is a missing dependency; a sample of the rest installs with the Essential set', () => {
    const set = empty.set;
    const report = checkInstallable(set);
    expect(report.complete).toBe(true);
    expect(report.broken.length).toBeGreaterThan(0);
    expect(report.broken.length).toBeLessThan(200);
    const brokenPvs = new Set(report.broken.map((b) => b.pv));
    const all = [...byName.values()].flat();
    for (const b of report.broken) {
      expect(b.explanation.length).toBeGreaterThan(0);
      // the root cause quoted at the end of the chain is checked on the records
      const last = b.explanation.at(-1)!;
      const text = renderBrokenChain(b.explanation);
      if (last.kind === 'depends' && !last.satisfiable) {
        const rec = byName.get(last.package.name)!.find((r) => r.version === last.package.version)!;
        const group = [...rec.depends, ...rec.preDepends].find((g) => g.map((a) => (a.archQualifier ? `${a.name}:${a.archQualifier}` : a.name) + (a.op ? ` (${a.op} ${a.version})` : '')).join(' | ') === last.relation);
        expect(group, text).toBeDefined();
        for (const atom of group!) {
          for (const r of all) {
            // `:any` needs Multi-Arch: allowed on a real package (dpkg's rule); the checker is permissive there
            if (atom.archQualifier === 'any' && r.name === atom.name && r.multiArch !== 'allowed') continue;
            expect(satisfies(r, atom), `${r.name} ${r.version} satisfies ${atom.name}`).toBe(false);
          }
        }
      }
    }
    // a sample of installable packages: each really installs together with the Essential packages
    const essentials = all.filter((r) => r.essential).map((r) => r.name);
    let sampled = 0;
    for (let pv = 7; pv < set.size && sampled < 25; pv += 2503) {
      if (brokenPvs.has(pv)) continue;
      sampled++;
      const items: RequestItem[] = [{ kind: 'install', name: set.nameOf(pv), op: '=', version: set.versionOf(pv) }, ...essentials.map((name) => ({ kind: 'install' as const, name }))];
      const out = solveOk(empty, items, false);
      expectValid(empty, items, out);
    }
    expect(sampled).toBe(25);
  }, 300_000);
});
