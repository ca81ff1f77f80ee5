/**
 * Properties of rollback plans (fast-check) over small random universes (Depends, Pre-Depends,
 * Conflicts, Breaks, Provides, Replaces), a consistent installed set and a forward plan, both
 * made by the real solver, and random knowledge (migrations per version, some irreversible or
 * without a down script; config files; a service graph), undo depths, forward purges and
 * whether the forward safeguards were carried out:
 * - every installed set the rollback passes through is consistent, by the solver's check and
 *   by the independent checker of test/solver/checker.ts, and it ends at its target;
 * - in the model, the rollback restores the start state, and whatever it cannot restore (a
 *   difference at the end, or an incident on the way) was flagged at planning time: nothing is
 *   silent;
 * - with nothing flagged that keeps something (left in place, schema kept, purged), the end
 *   state is the start state (a restored backup's lost writes aside).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEmptyRecord, type PackageAtom, type PackageRecord, type RelationOp } from '../../src/kb/index.js';
import {
  createInstalledSetChecker, createRelationFacts, planRollback, rehearseInModel,
  type DebAvailability, type RollbackKnowledge, type RollbackStep, type UndoDepth,
} from '../../src/planner/index.js';
import { createUniverseProblem, parseCriteria, solveRequest, type RequestItem } from '../../src/solver/index.js';
import { createUniverse } from '../../src/universe/index.js';
import type { InstalledPackage } from '../../src/fleet/index.js';
import { checkRecords } from '../solver/checker.js';

const VERSIONS = ['1', '2', '3'];
const OPS: Array<RelationOp | undefined> = [undefined, undefined, '>=', '<<', '=', '>>'];

const N = 5;

const rawAtom = fc.record({ target: fc.nat(N), op: fc.nat(OPS.length - 1), version: fc.nat(2) });
/** Mostly none, sometimes one or a few (dense random relations make most sets uninstallable). */
const some = <T>(arb: fc.Arbitrary<T>, max: number, weightNone = 2): fc.Arbitrary<T[]> =>
  fc.oneof({ weight: weightNone, arbitrary: fc.constant([] as T[]) }, { weight: 1, arbitrary: fc.array(arb, { minLength: 1, maxLength: max }) });
const rawVersion = fc.record({
  exists: fc.boolean(),
  depends: some(fc.array(rawAtom, { minLength: 1, maxLength: 2 }), 2, 1),
  preDepends: some(rawAtom, 1),
  conflicts: some(rawAtom, 1, 3),
  breaks: some(rawAtom, 1, 3),
  provides: fc.boolean(),
  replaces: some(rawAtom, 1),
  migrations: fc.array(fc.record({ db: fc.nat(1), kind: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }) }), { maxLength: 2 }),
});
const rawName = fc.record({
  versions: fc.array(rawVersion, { minLength: 3, maxLength: 3 }),
  config: fc.boolean(),
  depth: fc.oneof({ weight: 4, arbitrary: fc.constant<UndoDepth>('complete') }, { weight: 1, arbitrary: fc.constantFrom<UndoDepth>('downgrade', 'leave') }),
  availability: fc.constantFrom<DebAvailability>('index', 'index', 'cache', 'none'),
});
const rawRequest = fc.record({ kind: fc.nat(3), target: fc.nat(N - 1), op: fc.nat(OPS.length - 1), version: fc.nat(2) });
const rawCase = fc.record({
  names: fc.array(rawName, { minLength: N, maxLength: N }),
  services: fc.array(fc.record({ packages: fc.uniqueArray(fc.nat(N - 1), { minLength: 1, maxLength: 2 }), dependsOn: fc.array(fc.nat(3), { maxLength: 2 }), health: fc.boolean(), stopped: fc.boolean() }), { maxLength: 3 }),
  initial: fc.array(rawRequest, { minLength: 1, maxLength: 4 }),
  forward: fc.array(rawRequest, { minLength: 1, maxLength: 2 }),
  allowLeave: fc.boolean(),
  purge: fc.boolean(),
  safeguards: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});
type RawCase = typeof rawCase extends fc.Arbitrary<infer T> ? T : never;

interface Case {
  records: PackageRecord[];
  knowledge: RollbackKnowledge;
  initial: RequestItem[];
  forward: RequestItem[];
  raw: RawCase;
}

/** Real names p0..p4 (each with some of the versions 1, 2, 3) and a virtual name v0 (target N). */
function buildCase(raw: RawCase): Case {
  const nameOf = (t: number) => (t < N ? `p${t}` : 'v0');
  const atomOf = (a: { target: number; op: number; version: number }): PackageAtom => {
    const op = OPS[a.op];
    return op ? { name: nameOf(a.target), op, version: VERSIONS[a.version]! } : { name: nameOf(a.target) };
  };
  const records: PackageRecord[] = [];
  const packages: RollbackKnowledge['packages'] = [];
  raw.names.forEach((rn, i) => {
    const name = `p${i}`;
    const versions: RollbackKnowledge['packages'][number]['versions'] = [];
    rn.versions.forEach((rv, k) => {
      if (!rv.exists && !(k === 0 && !rn.versions.some((x) => x.exists))) return;
      const r = createEmptyRecord(name, VERSIONS[k]!, 'amd64', { layer: 'property', source: 'fast-check' });
      r.depends = rv.depends.map((alts) => alts.map(atomOf));
      // a pre-dependency names another real package (dpkg cannot order one on itself or on what it provides)
      r.preDepends = rv.preDepends.filter((a) => a.target < N && a.target !== i).map((a) => [atomOf(a)]);
      r.conflicts = rv.conflicts.map(atomOf).filter((a) => a.name !== name);
      r.breaks = rv.breaks.map(atomOf).filter((a) => a.name !== name);
      r.provides = rv.provides ? [{ name: 'v0' }] : [];
      r.replaces = rv.replaces.filter((a) => a.target < N && a.target !== i).map(atomOf);
      records.push(r);
      versions.push({
        version: VERSIONS[k]!,
        migrations: rv.migrations.map((m, j) => ({
          id: `${name}-${VERSIONS[k]}-${j}`, database: `d${m.db}`,
          ...(m.kind === 0 ? { down: `${name}-${VERSIONS[k]}-${j}.down.sql` } : m.kind === 1 ? { irreversible: true } : {}),
        })),
      });
    });
    if (versions.some((v) => v.migrations.length > 0)) packages.push({ name, scheme: 'deb', versions });
  });
  const configFiles = raw.names.flatMap((rn, i) => (rn.config ? [{ path: `/etc/p${i}.conf`, package: `p${i}`, ...(i % 2 === 0 && raw.services.length > 0 ? { reload: 's0' } : {}) }] : []));
  const services = raw.services.map((s, k) => ({
    name: `s${k}`,
    packages: s.packages.map((p) => `p${p}`),
    dependsOn: [...new Set(s.dependsOn.filter((d) => d < k).map((d) => `s${d}`))],
    health: s.health,
  }));
  // forward: remove, upgrade, or install an existing version exactly (another version than installed, mostly)
  const itemOf = (q: RawCase['initial'][number]): RequestItem => {
    const name = `p${q.target}`;
    const versions = records.filter((r) => r.name === name).map((r) => r.version);
    const version = versions[q.version % versions.length]!;
    return q.kind === 0 ? { kind: 'remove', name } : q.kind === 3 ? { kind: 'upgrade', name } : { kind: 'install', name, op: '=', version };
  };
  return { records, knowledge: { packages, configFiles, services }, initial: raw.initial.map((q) => ({ kind: 'install', name: `p${q.target}` })), forward: raw.forward.map(itemOf), raw };
}

/** What the generated cases exercised (the generator must reach the interesting cases, or the property proves little). */
const STATS = { planned: 0, transactions: 0, multiStep: 0, multiDown: 0, restoreDb: 0, flags: {} as Record<string, number>, restored: 0 };
/** Flags that announce something the rollback leaves different or cannot do cleanly (the others' safeguards make them whole). */
const KEEPS = new Set(['left-in-place', 'schema-kept', 'configuration-purged', 'unpack-order-loop', 'former-state-inconsistent']);

function checkCase(c: Case): void {
  const universe = createUniverse(c.records.map((r) => structuredClone(r)));
  const policy = { criteria: parseCriteria('-removed,-changed,-notuptodate'), recommends: false, maxResolutions: 0, timeBudgetMs: 20_000 };
  const toInstalled = (pvs: readonly number[]): InstalledPackage[] => pvs.map((pv) => ({ name: universe.nameOfPv(pv), version: universe.versionOf(pv), architecture: 'amd64' }));
  // the installed set: each initial request in turn, when it can be met
  let pvs: number[] = [];
  for (const item of c.initial) {
    const r = solveRequest(createUniverseProblem(universe, pvs), { items: [item] }, policy);
    if (r.kind === 'solution') pvs = r.installedAfter;
  }
  if (pvs.length === 0) return;
  const installed = toInstalled(pvs);
  const s1 = solveRequest(createUniverseProblem(universe, pvs), { items: c.forward }, policy);
  if (s1.kind !== 'solution' || s1.transaction.length === 0) return;
  const forward = s1.transaction.map((ch) => (c.raw.purge && ch.action === 'remove' ? { ...ch, action: 'purge' as const } : ch));
  const check = createInstalledSetChecker(universe);
  const relations = createRelationFacts(universe);
  const recordOf = (p: InstalledPackage) => c.records.find((r) => r.name === p.name && r.version === p.version)!;
  expect(checkRecords(installed.map(recordOf))).toEqual([]);
  const availability = (d: { name: string }): DebAvailability => c.raw.names[Number(d.name.slice(1))]!.availability;
  const undoDepth = Object.fromEntries(c.raw.names.map((n, i) => [`p${i}`, n.depth]));

  const rollback = planRollback({ group: { key: 'g', installed, changes: forward }, knowledge: c.knowledge, check, relations, availability, undoDepth, allowLeave: c.raw.allowLeave });
  STATS.planned++;
  if (rollback.steps.some((s) => s.kind === 'packages' && s.transaction)) STATS.transactions++;
  if (rollback.steps.filter((s) => s.kind === 'packages').length > 1) STATS.multiStep++;
  if (rollback.steps.filter((s) => s.kind === 'migrate').length > 1) STATS.multiDown++;
  if (rollback.steps.some((s) => s.kind === 'restore-database')) STATS.restoreDb++;
  for (const f of rollback.flags) STATS.flags[f.kind] = (STATS.flags[f.kind] ?? 0) + 1;
  const context = () => JSON.stringify({ installed, forward, steps: rollback.steps, flags: rollback.flags, knowledge: c.knowledge }, null, 0);

  // every intermediate set consistent (the solver's check and the independent one), ending at the target
  const state = new Map(rollback.after.map((p) => [p.name, p]));
  for (const step of rollback.steps.filter((s): s is Extract<RollbackStep, { kind: 'packages' }> => s.kind === 'packages')) {
    for (const ch of step.changes) {
      if (ch.action === 'remove' || ch.action === 'purge') state.delete(ch.name);
      else state.set(ch.name, { name: ch.name, version: ch.to!, architecture: 'amd64' });
    }
    const now = [...state.values()];
    expect(check(now).ok, context()).toBe(true);
    expect(checkRecords(now.map(recordOf)), context()).toEqual([]);
  }
  expect([...state.values()].map((p) => `${p.name}=${p.version}`).sort(), context()).toEqual(rollback.target.map((p) => `${p.name}=${p.version}`));

  // in the model: nothing silent; restored unless a flag says what stays
  const services = Object.fromEntries(c.raw.services.map((s, k) => [`s${k}`, s.stopped ? 'stopped' as const : 'running' as const]).filter(([name]) => c.knowledge.services.find((s) => s.name === name)!.packages.some((p) => installed.some((i) => i.name === p))));
  const model = rehearseInModel({ rollback, forward, knowledge: c.knowledge, check, relations, services, safeguardsTaken: c.raw.safeguards, availability });
  if (model.restored) STATS.restored++;
  const silent = [...model.differences, ...model.incidents].filter((x) => x.cause.kind === 'silent');
  expect(silent, context()).toEqual([]);
  if (c.raw.safeguards) {
    expect(model.incidents.filter((i) => i.incident.kind === 'inconsistent'), context()).toEqual([]);
    expect(model.end.packages, context()).toEqual(rollback.target);
    if (!rollback.flags.some((f) => KEEPS.has(f.kind) || (f.kind === 'irreversible-migration' && f.undo === 'kept'))) {
      expect(model.differences.map((d) => d.difference).filter((d) => d.kind !== 'writes-lost'), context()).toEqual([]);
      expect(model.incidents, context()).toEqual([]);
    }
  }
}

describe('rollback plans on random universes', () => {
  it('pass only through consistent sets, restore the start in the model, and flag whatever they cannot restore', () => {
    fc.assert(fc.property(rawCase, (raw) => checkCase(buildCase(raw))), { numRuns: Number(process.env.FC_RUNS ?? 800), seed: Number(process.env.FC_SEED ?? 20261102) });
    expect(STATS.planned).toBeGreaterThan(200);
    expect(Math.min(STATS.transactions, STATS.multiDown, STATS.restoreDb)).toBeGreaterThan(5);
    expect(STATS.restored).toBeGreaterThan(STATS.planned / 3);
    for (const kind of ['left-in-place', 'schema-kept', 'irreversible-migration', 'configuration-purged', 'former-version-unavailable']) expect(STATS.flags[kind], kind).toBeGreaterThan(5);
  });
});
