/**
 * The relation-level consistency check that rollback planning uses (createInstalledSetChecker,
 * over the solver layer's createInstalledSetConsistency), against the solver's own answer
 * (createSolverInstalledSetChecker: the set solved as a request that holds it):
 * - property (fast-check): on random universes (Depends with alternatives, Pre-Depends,
 *   Conflicts, Breaks, versioned and unversioned Provides, `:any`, Multi-Arch, Essential) and
 *   installed sets (mostly the solver's answer to an install request, so consistent as a
 *   planner's are; else random, sometimes with a version the universe does not hold, or a name twice),
 *   the whole-set check and the incremental one (`check.from(base)` asked about several change
 *   sets in turn, as the order search asks: each set found consistent becomes the known prefix
 *   of the next question) say consistent exactly when the solver does, and the incremental
 *   answer's facts are the whole-set answer's, also when the base's own problems were derived
 *   from another base's anchor;
 * - examples: the facts name the relation that fails, and a change set is answered relative to
 *   its base (a removed dependency, a conflict brought in, a Breaks declared by the installed side).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InstalledPackage } from '../../src/fleet/index.js';
import { createEmptyRecord, type PackageAtom, type PackageRecord, type RelationOp } from '../../src/kb/index.js';
import { createInstalledSetChecker, createSolverInstalledSetChecker, orderPackageChanges, stateAfter, type ConsistencyCheck } from '../../src/planner/index.js';
import { createUniverseProblem, parseCriteria, solveRequest, type PackageChange } from '../../src/solver/index.js';
import { createUniverse } from '../../src/universe/index.js';
import { changes, pkgs, smallWorld } from './rollback-fixture.js';

const N = 6;
const VERSIONS = ['1', '2', '3'];
const OPS: Array<RelationOp | undefined> = [undefined, undefined, '>=', '<<', '=', '>>', '<='];
/** p0..p5 real, v0 and v1 virtual. */
const nameOf = (t: number): string => (t < N ? `p${t}` : `v${t - N}`);

const rawAtom = fc.record({ target: fc.nat(N + 1), op: fc.nat(OPS.length - 1), version: fc.nat(2), any: fc.nat(5) });
const some = <T>(arb: fc.Arbitrary<T>, max: number, weightNone = 2): fc.Arbitrary<T[]> =>
  fc.oneof({ weight: weightNone, arbitrary: fc.constant([] as T[]) }, { weight: 1, arbitrary: fc.array(arb, { minLength: 1, maxLength: max }) });
const rawVersion = fc.record({
  exists: fc.nat(3),
  all: fc.boolean(),
  multiArchAllowed: fc.boolean(),
  essential: fc.nat(9),
  depends: some(fc.array(rawAtom, { minLength: 1, maxLength: 3 }), 3, 1),
  preDepends: some(rawAtom, 1),
  conflicts: some(rawAtom, 2, 2),
  breaks: some(rawAtom, 2, 2),
  provides: some(fc.record({ target: fc.integer({ min: N, max: N + 1 }), version: fc.nat(3) }), 2),
});
const rawState = fc.array(fc.nat(4), { minLength: N, maxLength: N });
const rawChange = fc.record({ target: fc.nat(N - 1), kind: fc.nat(5) });
const rawCase = fc.record({
  names: fc.array(fc.array(rawVersion, { minLength: 3, maxLength: 3 }), { minLength: N, maxLength: N }),
  base: rawState,
  oddity: fc.nat(9),
  queries: fc.array(fc.array(rawChange, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
});
type RawCase = typeof rawCase extends fc.Arbitrary<infer T> ? T : never;

function recordsOf(raw: RawCase): PackageRecord[] {
  const atomOf = (a: { target: number; op: number; version: number; any: number }): PackageAtom => {
    const op = OPS[a.op];
    return { name: nameOf(a.target), ...(op ? { op, version: VERSIONS[a.version]! } : {}), ...(a.any === 0 ? { archQualifier: 'any' } : {}) };
  };
  const records: PackageRecord[] = [];
  raw.names.forEach((versions, i) => {
    const name = `p${i}`;
    versions.forEach((rv, k) => {
      if (rv.exists === 0 && !(k === 0 && versions.every((x) => x.exists === 0))) return;
      const r = createEmptyRecord(name, VERSIONS[k]!, rv.all ? 'all' : 'amd64', { layer: 'property', source: 'fast-check' });
      r.depends = rv.depends.map((alts) => alts.map(atomOf));
      r.preDepends = rv.preDepends.map((a) => [atomOf(a)]);
      r.conflicts = rv.conflicts.map(atomOf);
      r.breaks = rv.breaks.map(atomOf);
      r.provides = rv.provides.map((p) => (p.version < 3 ? { name: nameOf(p.target), version: VERSIONS[p.version]! } : { name: nameOf(p.target) }));
      if (rv.multiArchAllowed) r.multiArch = 'allowed';
      r.essential = rv.essential === 0;
      records.push(r);
    });
  });
  return records;
}

/** A name's k-th version (0 = absent): the existing versions, in turn. */
function versionPick(records: PackageRecord[], name: string, k: number): PackageRecord | undefined {
  const own = records.filter((r) => r.name === name);
  return k === 0 || own.length === 0 ? undefined : own[(k - 1) % own.length];
}

/** One change per name (none on a name `prefix` changes already). */
function changesOf(q: RawCase['queries'][number], base: readonly InstalledPackage[], records: PackageRecord[], oddity: number, prefix: readonly PackageChange[]): PackageChange[] {
  const cs: PackageChange[] = [];
  const seen = new Set<number>();
  for (const c of q) {
    const name = `p${c.target}`;
    if (seen.has(c.target) || prefix.some((p) => p.name === name)) continue;
    seen.add(c.target);
    const from = base.find((b) => b.name === name)?.version;
    if (c.kind === 0) cs.push({ action: 'remove', name, ...(from ? { from } : {}) });
    else if (c.kind === 1) cs.push({ action: 'purge', name, ...(from ? { from } : {}) });
    else if (c.kind === 5 && oddity === 2) cs.push({ action: 'install', name, to: '9', architecture: 'amd64' });
    else {
      const r = versionPick(records, name, c.kind - 1);
      if (r) cs.push({ action: from === undefined ? 'install' : 'upgrade', name, to: r.version, architecture: r.architecture, ...(from ? { from } : {}) });
    }
  }
  return cs;
}

/** `check.from(base, changes)` asked about all of `changes`, the first `known` of them known consistent. */
function askFrom(check: ConsistencyCheck, base: readonly InstalledPackage[]): (changes: PackageChange[], known?: number) => { ok: boolean; facts?: unknown } {
  return (cs, known = 0) => check.from!(base, cs)(cs.map(() => 1), known > 0 ? cs.map((_, i) => (i < known ? 1 : 0)) : undefined);
}

const POLICY = { criteria: parseCriteria('-removed,-changed,-notuptodate'), recommends: false, maxResolutions: 0, timeBudgetMs: 20_000 };
const STATS = { cases: 0, queries: 0, stepwise: 0, consistentQueries: 0, inconsistentQueries: 0, consistentBases: 0, oddities: 0 };
const verdictKeys = (v: { ok: boolean; facts?: unknown }): string[] => (v.ok ? [] : (v.facts as Array<{ key: string }>).map((f) => f.key));

function checkCase(raw: RawCase): void {
  const records = recordsOf(raw);
  const universe = createUniverse(records.map((r) => structuredClone(r)));
  const check = createInstalledSetChecker(universe);
  const solver = createSolverInstalledSetChecker(universe);
  const installedOf = (r: PackageRecord): InstalledPackage => ({ name: r.name, version: r.version, architecture: r.architecture });
  let base: InstalledPackage[] = [];
  if (raw.oddity >= 4) {
    // mostly a consistent base, as the planner's are: the solver's answer to installing some names in turn
    let pvs: number[] = [];
    raw.base.forEach((k, i) => {
      if (k === 0) return;
      const r = solveRequest(createUniverseProblem(universe, pvs), { items: [{ kind: 'install', name: `p${i}` }] }, POLICY);
      if (r.kind === 'solution') pvs = r.installedAfter;
    });
    base = pvs.map((pv) => ({ name: universe.nameOfPv(pv), version: universe.versionOf(pv), architecture: universe.archOf(pv) }));
  } else {
    raw.base.forEach((k, i) => {
      const r = versionPick(records, `p${i}`, k);
      if (r) base.push(installedOf(r));
    });
  }
  // sometimes a version the universe does not hold, or a name twice (outside what a dpkg status holds, but the check must still agree)
  if (raw.oddity === 0) base.push({ name: 'p0', version: '9', architecture: 'amd64' });
  if (raw.oddity === 1) {
    const r = records.find((x) => x.name === 'p1' && !base.some((b) => b.name === 'p1' && b.version === x.version));
    if (r) base.push(installedOf(r));
  }
  if (raw.oddity <= 1) STATS.oddities++;
  STATS.cases++;
  const context = (extra: unknown) => JSON.stringify({ records: records.map((r) => ({ ...r, provenance: undefined })), base, extra });

  const whole = check(base);
  expect(whole.ok, context('base')).toBe(solver(base).ok);
  if (whole.ok) STATS.consistentBases++;
  // the base's anchor derived from another one (as a plan's groups derive theirs from the last group's), half the time
  if (raw.queries.length % 2 === 0) check.from!(stateAfter(base, changesOf(raw.queries[0]!, base, records, raw.oddity, [])), []);
  const anchored = askFrom(check, base);
  // the queries walk as the order search does: a set found consistent becomes the known prefix of the next query
  let prefix: PackageChange[] = [];
  for (const q of raw.queries) {
    const cs = changesOf(q, base, records, raw.oddity, prefix);
    const all = [...prefix, ...cs];
    const after = stateAfter(base, all);
    const ref = solver(after);
    const full = check(after);
    const inc = anchored(all);
    const where = context({ prefix, changes: cs, after });
    expect(inc.ok, where).toBe(ref.ok);
    expect(full.ok, where).toBe(ref.ok);
    expect(verdictKeys(inc), where).toEqual(verdictKeys(full));
    if (prefix.length > 0) {
      const stepwise = anchored(all, prefix.length);
      expect(stepwise.ok, where).toBe(ref.ok);
      expect(verdictKeys(stepwise), where).toEqual(verdictKeys(full));
      STATS.stepwise++;
    }
    STATS.queries++;
    if (ref.ok) STATS.consistentQueries++;
    else STATS.inconsistentQueries++;
    if (ref.ok && cs.length > 0) prefix = all;
  }
}

describe('the incremental consistency check', () => {
  it('agrees with the solver on random universes, installed sets and change sets', () => {
    fc.assert(fc.property(rawCase, checkCase), { numRuns: Number(process.env.FC_RUNS ?? 400), seed: Number(process.env.FC_SEED ?? 20261110) });
    // the generator reaches both answers, and odd sets
    expect(STATS.consistentBases).toBeGreaterThan(STATS.cases / 3);
    expect(Math.min(STATS.consistentQueries, STATS.inconsistentQueries)).toBeGreaterThan(STATS.queries / 10);
    expect(STATS.oddities).toBeGreaterThan(20);
    expect(STATS.stepwise).toBeGreaterThan(STATS.queries / 10);
  });

  const world = smallWorld([
    { name: 'app', version: '1', depends: 'libx (>= 1) | libalt', conflicts: 'legacy' },
    { name: 'app', version: '2', depends: 'libx (>= 2)', 'pre-depends': 'tool' },
    { name: 'libx', version: '1' },
    { name: 'libx', version: '2', breaks: 'app (<< 2)' },
    { name: 'libalt', version: '1', provides: 'libx (= 1)' },
    { name: 'legacy', version: '1' },
    { name: 'tool', version: '1' },
  ]);
  const check = createInstalledSetChecker(world.universe);

  it('names the relation that fails, as the solver names it', () => {
    expect(check(pkgs('app=1 libx=1'))).toEqual({ ok: true });
    const v = check(pkgs('app=2 libx=1'));
    expect(v.ok).toBe(false);
    expect((v as { facts: unknown }).facts).toEqual([
      { kind: 'depends', key: 'depends:app=2:0', package: { name: 'app', version: '2' }, field: 'depends', relation: 'libx (>= 2)', satisfiable: true },
      { kind: 'depends', key: 'pre-depends:app=2:0', package: { name: 'app', version: '2' }, field: 'pre-depends', relation: 'tool', satisfiable: true },
    ]);
    const u = check([...pkgs('app=1'), { name: 'libx', version: '7', architecture: 'amd64' }]);
    expect(u).toEqual({ ok: false, facts: [{ kind: 'unknown-version', key: 'unknown-version:libx=7', package: { name: 'libx', version: '7', architecture: 'amd64' } }] });
  });

  it('answers a change set relative to its base: a dependency removed, an alternative, a conflict, a Breaks of the other side', () => {
    const from = askFrom(check, pkgs('app=1 libx=1 tool=1'));
    expect(from(changes('-libx=1')).ok).toBe(false);
    expect(from(changes('-libx=1 +libalt=1')).ok).toBe(true);
    expect(from(changes('+legacy=1'))).toMatchObject({ ok: false, facts: [{ kind: 'conflict', key: 'conflict:app=1|legacy=1', field: 'conflicts', relation: 'legacy' }] });
    // libx 2 breaks app << 2: the installed app 1 is the one hit
    expect(from(changes('libx=1>2'))).toMatchObject({ ok: false, facts: [{ kind: 'conflict', key: 'conflict:app=1|libx=2', field: 'breaks' }] });
    expect(from(changes('libx=1>2 app=1>2')).ok).toBe(true);
    // nothing changed: the base's own answer
    expect(from([]).ok).toBe(true);
  });

  it('orders a rollback with the incremental check exactly as with the solver', () => {
    const start = pkgs('app=2 libx=2 tool=1');
    const back = changes('app=2>1 libx=2>1 -tool=1');
    const fast = orderPackageChanges(start, back, { check, relations: world.relations });
    const slow = orderPackageChanges(start, back, { check: createSolverInstalledSetChecker(world.universe), relations: world.relations });
    expect(fast.steps.map((s) => s.changes.map((c) => `${c.action} ${c.name}`))).toEqual(slow.steps.map((s) => s.changes.map((c) => `${c.action} ${c.name}`)));
    expect(fast.checks).toBe(slow.checks);
    expect(fast.steps.length).toBeGreaterThan(1);
  });
});
