/**
 * Shared solves (src/planner/projection.ts, shared-solves.ts): planning a fleet whose groups share
 * the solve of what the request can touch gives every host the outcome it gets when it is solved
 * alone. Property-style on random small universes and fleets (versions, alternatives, Provides,
 * Conflicts, Recommends, Essential and required packages; hosts that differ in packages the
 * request reaches and in packages it does not, some of them inconsistent), and on the real
 * bookworm index with a few hosts. Also: the worker-thread pool gives the same plan as one thread.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RollwiseError } from '../../src/shared/index.js';
import { createEmptyRecord, type PackageAtom, type PackageRecord } from '../../src/kb/index.js';
import { createUniverse, loadDebianUniverse, type Universe } from '../../src/universe/index.js';
import type { Fleet, FleetHost, InstalledPackage } from '../../src/fleet/index.js';
import {
  createEmptyRules, createFleetSolver, createGroupSolvePool, planDeployment, planDeploymentAsync, requestReach,
  type GroupSolveOutcome, type PlanGroup, type SharedSolveStats, type SolverRequestItem,
} from '../../src/planner/index.js';
import { createInstalledSetConsistency, createUniverseView } from '../../src/solver/index.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const BOOKWORM = path.resolve(repoRoot, '..', 'shared', 'data', 'debian', 'bookworm-main-amd64.Packages.xz');
const PROV = { layer: 'test', source: 'plan-projection.test.ts' };
const FACTS = { os: { id: 'debian', versionId: '12', codename: 'bookworm' }, architecture: 'amd64' };

/** A host's changes (sorted), or `conflict`. */
function outcomeOf(o: GroupSolveOutcome | PlanGroup['outcome']): string[] {
  if (o.kind === 'solution' || o.kind === 'transaction') return o.changes.map((c) => `${c.action} ${c.name} ${c.from ?? ''}>${c.to ?? ''}`).sort();
  return ['conflict'];
}

function host(name: string, installed: InstalledPackage[]): FleetHost {
  return { name, source: 'inventory', groups: [], labels: {}, facts: FACTS, installed, installedFrom: 'generated' };
}

/**
 * The default criteria's values of a host's changes, in their order (removed, requested upgrades
 * not at their newest allowed version, unmet Recommends of what is new when they count, changed,
 * not up to date), or undefined when the state after them breaks a dependency or a conflict.
 */
function criteriaOf(universe: Universe, installed: readonly InstalledPackage[], changes: ReadonlyArray<{ action: string; name: string; to?: string }>, items: readonly SolverRequestItem[], recommends: boolean): number[] | undefined {
  const set = createUniverseView(universe);
  const pvOf = (name: string, version: string): number => universe.findPv(name, version);
  const before = new Map(installed.map((p) => [p.name, p.version]));
  const after = new Map(before);
  for (const c of changes) {
    if (c.action === 'remove' || c.action === 'purge') after.delete(c.name);
    else after.set(c.name, c.to!);
  }
  const afterPvs = [...after].map(([n, v]) => pvOf(n, v));
  if (!createInstalledSetConsistency(universe, set).check(afterPvs).consistent) return undefined;
  const inAfter = new Set(afterPvs);
  const removed = [...before.keys()].filter((n) => !after.has(n)).length;
  const upgrades = items.filter((i): i is Extract<SolverRequestItem, { kind: 'upgrade' }> => i.kind === 'upgrade').filter((i) => {
    const floor = before.get(i.name);
    const allowed = Array.from(set.versionsOf(i.name)).filter((pv) => set.satisfies(pv, i.op, i.version) && (floor === undefined || set.comparePvs(pv, pvOf(i.name, floor)) >= 0));
    return allowed.length > 0 && after.get(i.name) !== set.versionOf(allowed[0]!);
  }).length;
  let unmet = 0;
  if (recommends) {
    for (const pv of afterPvs) {
      if (before.get(set.nameOf(pv)) === set.versionOf(pv)) continue;
      for (const c of set.recommends(pv)) if (!c.some((q) => inAfter.has(q))) unmet++;
    }
  }
  const changed = new Set([...before.keys(), ...after.keys()]);
  const changedCount = [...changed].filter((n) => before.get(n) !== after.get(n)).length;
  const notUpToDate = afterPvs.filter((pv) => set.versionsOf(set.nameOf(pv))[0] !== pv).length;
  return [removed, upgrades, ...(recommends ? [unmet] : []), changedCount, notUpToDate];
}

interface Tally extends SharedSolveStats {
  /** Hosts whose planned changes differ from their own solve's but cost the same (a tie between optimal answers). */
  ties: number;
  hosts: number;
}

/**
 * Plans with shared solves and checks every host against its own solve: the same changes, or
 * (a tie between optimal answers) changes valid for the host with the same criteria values; a
 * conflict for both, where every resolution the plan offers the host's group solves on the host
 * alone. (A conflict's explanation is a minimal set of facts and a problem can have several: the
 * projection's is one of the host's, not always the one solving the host alone finds; the
 * resolutions searched from it may differ the same way.)
 */
function checkEveryHost(universe: Universe, fleet: Fleet, items: SolverRequestItem[], policy: { recommends?: boolean; timeBudgetMs?: number } = {}): Tally {
  let stats: SharedSolveStats | undefined;
  const body = planDeployment({ fleet, request: { items }, solver: createFleetSolver({ universe, policy }), rules: createEmptyRules(), onSolveStats: (s) => (stats = s) });
  const alone = createFleetSolver({ universe, policy });
  const groupOf = new Map(body.groups.flatMap((g) => g.hosts.map((h) => [h, g] as const)));
  let ties = 0;
  for (const h of fleet.hosts) {
    const g = groupOf.get(h.name)!;
    const own = alone.solveGroup({ key: h.name, installed: h.installed, facts: g.facts, request: { items } });
    const what = `${h.name}: ${h.installed.map((p) => `${p.name}=${p.version}`).join(' ')}`;
    const planned = outcomeOf(g.outcome);
    const solved = outcomeOf(own);
    if (JSON.stringify(planned) !== JSON.stringify(solved) && g.outcome.kind === 'transaction' && own.kind === 'solution') {
      const recommends = policy.recommends !== false;
      const mine = criteriaOf(universe, h.installed, g.outcome.changes, items, recommends);
      expect(mine, `${what}: the planned changes ${planned.join(', ')} are not valid for the host`).toBeDefined();
      expect(mine, `${what}: planned ${planned.join(', ')}, alone ${solved.join(', ')}`).toEqual(criteriaOf(universe, h.installed, own.changes, items, recommends));
      ties++;
      continue;
    }
    expect(planned, what).toEqual(solved);
    if (g.outcome.kind !== 'conflict') continue;
    const id = g.outcome.conflict;
    for (const r of body.conflicts.find((c) => c.id === id)!.resolutions) {
      const request = r.requests[g.key];
      if (!request) continue;
      expect(alone.solveGroup({ key: h.name, installed: h.installed, facts: g.facts, request }).kind, `${what}: resolution ${JSON.stringify(r.edit)}`).toBe('solution');
    }
  }
  return { ...stats!, ties, hosts: fleet.hosts.length };
}

// ---------------------------------------------------------------------------------------------
// random small universes: a related part (r*, what the request names and reaches) and an
// unrelated part (u*), with relations that cross from the unrelated part into the related one

const VERSIONS = ['1', '2', '3'];
const OPS = [undefined, undefined, '>=', '<<', '='] as const;
const atom = fc.record({ target: fc.nat(11), op: fc.nat(OPS.length - 1), version: fc.nat(2) });
const version = fc.record({
  depends: fc.array(fc.array(atom, { minLength: 1, maxLength: 2 }), { maxLength: 2 }),
  recommends: fc.array(atom, { maxLength: 1 }),
  conflicts: fc.array(atom, { maxLength: 1 }),
  provides: fc.boolean(),
});
const pkg = fc.record({ versions: fc.integer({ min: 1, max: 3 }), rels: fc.array(version, { minLength: 3, maxLength: 3 }), essential: fc.nat(9) });
const world = fc.record({
  packages: fc.array(pkg, { minLength: 12, maxLength: 12 }),
  request: fc.array(fc.record({ kind: fc.nat(5), target: fc.nat(3), op: fc.nat(OPS.length - 1), version: fc.nat(2) }), { minLength: 1, maxLength: 2 }),
  bases: fc.array(fc.array(fc.nat(3), { minLength: 12, maxLength: 12 }), { minLength: 1, maxLength: 3 }),
  extras: fc.array(fc.array(fc.integer({ min: 0, max: 11 }), { maxLength: 3 }), { minLength: 4, maxLength: 8 }),
});

/** Names 0-3: r0..r3 (the request names them); 4-11: u0..u7. Virtual `mta` provided by some. */
const nameOf = (i: number): string => (i < 4 ? `r${i}` : `u${i - 4}`);

type World = typeof world extends fc.Arbitrary<infer T> ? T : never;

function buildWorld(w: World): { universe: Universe; fleet: Fleet; items: SolverRequestItem[] } {
  const records: PackageRecord[] = [];
  const toAtom = (a: { target: number; op: number; version: number }): PackageAtom => {
    const op = OPS[a.op];
    return a.target === 11 && a.op === 0 ? { name: 'mta' } : op ? { name: nameOf(a.target), op, version: VERSIONS[a.version]! } : { name: nameOf(a.target) };
  };
  w.packages.forEach((p, i) => {
    for (let k = 0; k < p.versions; k++) {
      const rel = p.rels[k]!;
      const r = createEmptyRecord(nameOf(i), VERSIONS[k]!, 'amd64', PROV);
      r.depends = rel.depends.map((alts) => alts.map(toAtom));
      r.recommends = rel.recommends.map((a) => [toAtom(a)]);
      r.conflicts = rel.conflicts.map(toAtom).filter((a) => a.name !== r.name);
      if (rel.provides) r.provides = [{ name: 'mta' }];
      if (p.essential === 0) r.essential = true;
      if (p.essential === 1) r.priority = 'required';
      records.push(r);
    }
  });
  const universe = createUniverse(records);
  const versionsOf = (i: number): number => w.packages[i]!.versions;
  const hosts: FleetHost[] = [];
  w.extras.forEach((extra, h) => {
    const base = w.bases[h % w.bases.length]!;
    const installed = new Map<string, InstalledPackage>();
    base.forEach((v, i) => {
      if (v > 0 && v <= versionsOf(i)) installed.set(nameOf(i), { name: nameOf(i), version: VERSIONS[v - 1]!, architecture: 'amd64' });
    });
    for (const i of extra) installed.set(nameOf(i), { name: nameOf(i), version: VERSIONS[versionsOf(i) - 1]!, architecture: 'amd64' });
    hosts.push(host(`h${h}`, [...installed.values()].sort((a, b) => (a.name < b.name ? -1 : 1))));
  });
  const items: SolverRequestItem[] = w.request.map((q) => {
    const name = nameOf(q.target);
    const op = OPS[q.op];
    const spec = op ? { name, op, version: VERSIONS[q.version]! } : { name };
    switch (q.kind) {
      case 0: return { kind: 'remove', name };
      case 1: return { kind: 'hold', name };
      case 2: return { kind: 'upgrade', name };
      case 3: return { kind: 'pin', name, op: op ?? '>=', version: VERSIONS[q.version]! };
      default: return { kind: 'install', ...spec };
    }
  });
  return { universe, fleet: { hosts, findings: [] }, items };
}

describe('shared solves: every host gets what solving it alone gives', () => {
  it('on random small universes and fleets', () => {
    let groups = 0;
    let shared = 0;
    let own = 0;
    let ties = 0;
    let hosts = 0;
    fc.assert(
      fc.property(world, (w) => {
        const { universe, fleet, items } = buildWorld(w);
        for (const recommends of [true, false]) {
          let s: Tally;
          try {
            s = checkEveryHost(universe, fleet, items, { recommends, timeBudgetMs: 20_000 });
          } catch (e) {
            // a request naming a version no package has is refused before anything is solved
            if (e instanceof RollwiseError && e.code === 'RW_UNKNOWN_PACKAGE') return;
            throw e;
          }
          groups += s.groups;
          shared += s.sharedSolves;
          own += s.ownSolves;
          ties += s.ties;
          hosts += s.hosts;
        }
      }),
      { numRuns: 300, seed: 1207 },
    );
    console.log(`shared-solve property: ${groups} groups, ${shared} shared solves, ${own} solved on their own, ${ties} ties in ${hosts} hosts`);
    // the projection did merge groups, and the fit check did send groups back to their own solve
    expect(shared).toBeLessThan(groups);
    expect(own).toBeGreaterThan(0);
    // ties are the exception: most hosts get exactly their own solve's changes
    expect(ties).toBeLessThan(hosts / 20);
  });

  it('the projection leaves out what the request cannot reach and keeps what it can', () => {
    const records = [
      Object.assign(createEmptyRecord('web', '2', 'amd64', PROV), { depends: [[{ name: 'libssl' }]] }),
      createEmptyRecord('libssl', '1', 'amd64', PROV),
      Object.assign(createEmptyRecord('libssl', '3', 'amd64', PROV), { depends: [[{ name: 'libc' }]] }),
      createEmptyRecord('libc', '1', 'amd64', PROV),
      Object.assign(createEmptyRecord('tool', '1', 'amd64', PROV), { depends: [[{ name: 'libssl', op: '<<' as const, version: '2' }]] }),
      Object.assign(createEmptyRecord('editor', '1', 'amd64', PROV), { depends: [[{ name: 'libc' }]] }),
    ];
    const universe = createUniverse(records);
    const set = createUniverseView(universe);
    const reach = requestReach(set, [{ kind: 'install', name: 'web' }], true)!;
    const reached = set.names.filter((_, id) => reach[id]).sort();
    expect(reached).toEqual(['libc', 'libssl', 'web']);
    expect(requestReach(set, [{ kind: 'upgrade-all' }], true)).toBeUndefined();
    // tool (outside) needs libssl << 2: a host with it cannot take the shared upgrade of libssl and is solved alone
    const i = (name: string, v: string): InstalledPackage => ({ name, version: v, architecture: 'amd64' });
    const fleet: Fleet = {
      hosts: [
        host('a', [i('editor', '1'), i('libc', '1'), i('libssl', '1')]),
        host('b', [i('libc', '1'), i('libssl', '1')]),
        host('c', [i('libc', '1'), i('libssl', '1'), i('tool', '1')]),
      ],
      findings: [],
    };
    const s = checkEveryHost(universe, fleet, [{ kind: 'upgrade', name: 'libssl' }]);
    expect(s).toEqual({ groups: 3, sharedSolves: 1, ownSolves: 1, projectionNames: 2, ties: 0, hosts: 3 });
  });
});

describe('shared solves on the real bookworm index', () => {
  it('a few hosts: each one planned as it would be solved alone; threads give the same plan', async () => {
    if (!existsSync(BOOKWORM)) throw new Error(`missing ${BOOKWORM}: the shared Debian data (../shared/data/debian) is needed`);
    const universe = (await loadDebianUniverse([BOOKWORM])).universe;
    const set = createUniverseView(universe);
    const alone = createFleetSolver({ universe, policy: { recommends: false } });
    const items: SolverRequestItem[] = [{ kind: 'install', name: 'nginx' }, { kind: 'install', name: 'postfix' }, { kind: 'upgrade', name: 'libssl3' }];
    const reach = requestReach(set, items, true)!;
    // a small base system, then hosts that add packages the request cannot reach, one that it can, one with an MTA postfix replaces
    const baseOut = alone.solveGroup({ key: 'base', installed: [], facts: {}, request: { items: ['base-files', 'bash', 'coreutils', 'dpkg', 'apt', 'libc6', 'openssl'].map((name) => ({ kind: 'install' as const, name })) } });
    expect(baseOut.kind).toBe('solution');
    const add = (set0: InstalledPackage[], changes: GroupSolveOutcome): InstalledPackage[] => {
      if (changes.kind !== 'solution') throw new Error('cannot build the host');
      const m = new Map(set0.map((p) => [p.name, p]));
      for (const c of changes.changes) if (c.to) m.set(c.name, { name: c.name, version: c.to, architecture: c.architecture ?? 'amd64' });
      return [...m.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    };
    const base = add([], baseOut);
    // add-ons whose packages the request cannot reach, and some that bring packages it can (nano: libncursesw6; exim4: an MTA postfix replaces)
    const unrelated = ['jq', 'tree', 'less', 'vim-tiny'];
    const related = ['nano', 'ssl-cert', 'exim4-daemon-light'];
    const hosts: FleetHost[] = [host('base', base)];
    for (let k = 0; k < 9; k++) {
      const pick = [unrelated[k % 4]!, unrelated[(k + 1 + (k >> 2)) % 4]!, ...(k % 3 === 2 ? [related[(k / 3) | 0]!] : [])];
      const out = alone.solveGroup({ key: `h${k}`, installed: base, facts: {}, request: { items: pick.map((name) => ({ kind: 'install' as const, name })) } });
      hosts.push(host(`h${k}`, add(base, out)));
    }
    // some hosts differ only in what the request cannot reach
    expect(hosts.some((h) => h.installed.some((p) => !reach[set.nameId(p.name)!]))).toBe(true);
    const fleet: Fleet = { hosts, findings: [] };
    const s = checkEveryHost(universe, fleet, items);
    expect(s.sharedSolves + s.ownSolves).toBeLessThan(s.groups);
    // worker threads: the same plan as one thread
    const one = planDeployment({ fleet, request: { items }, solver: createFleetSolver({ universe }), rules: createEmptyRules() });
    const pool = createGroupSolvePool({ universe, policy: {}, threads: 2 });
    try {
      const solveMany = pool.solveMany.bind(pool);
      let viaPool = 0;
      const counting = { ...pool, threads: pool.threads, solveMany: (inputs: Parameters<typeof solveMany>[0]) => ((viaPool += inputs.length), solveMany(inputs)), close: () => pool.close() };
      const two = await planDeploymentAsync({ fleet, request: { items }, solver: createFleetSolver({ universe }), rules: createEmptyRules(), pool: counting, poolMinBatch: 1 });
      expect(viaPool).toBeGreaterThan(0);
      expect(JSON.stringify(two.groups)).toBe(JSON.stringify(one.groups));
      expect(JSON.stringify(two.conflicts)).toBe(JSON.stringify(one.conflicts));
    } finally {
      await pool.close();
    }
  });
});
