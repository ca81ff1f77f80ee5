/**
 * Multiarch through the planner: a request for a foreign-architecture package (`libc6:i386`) on a
 * fleet whose universe enables i386. Installed packages are keyed by the resolver's names
 * (`libc6` amd64 and `libc6:i386` are two entries), request items by their spec's name, so the
 * request's reach, held-back and resolved-less findings and shared solves name the right package.
 */
import { describe, expect, it } from 'vitest';
import { createUniverse } from '../../src/universe/index.js';
import { createUniverseView, parseRequestSpec, type PackageChange, type RequestItem } from '../../src/solver/index.js';
import type { Fleet, FleetHost, InstalledPackage } from '../../src/fleet/index.js';
import { createEmptyRules, createFleetSolver, parseRequestItem, planDeployment, requestReach, type SharedSolveStats } from '../../src/planner/index.js';
import { recordsFromYaml } from '../solver/helpers.js';
import { MULTIARCH_LIBC } from './multiarch-fleet.js';

const RECORDS = recordsFromYaml([
  ...MULTIARCH_LIBC,
  { name: 'tool', version: '1', depends: 'libc6' },
  { name: 'other', version: '1' },
]);
const universe = createUniverse(RECORDS, { hostArch: 'amd64', foreignArchs: ['i386'] });
const FACTS = { os: { id: 'debian', versionId: '12', codename: 'bookworm' }, architecture: 'amd64' };

const pkg = (name: string, version: string, architecture = 'amd64'): InstalledPackage => ({ name, version, architecture });
const BASE = [pkg('libc6', '2.36-9'), pkg('libgcc-s1', '12'), pkg('tool', '1')];
const WITH_I386 = [...BASE, pkg('libc6', '2.36-9', 'i386'), pkg('libgcc-s1', '12', 'i386')];

function host(name: string, installed: InstalledPackage[]): FleetHost {
  return { name, source: 'inventory', groups: [], labels: {}, facts: FACTS, installed, installedFrom: 'generated' };
}

const installI386 = (): RequestItem => parseRequestItem('install', 'libc6:i386', 'install');
const changesOf = (changes: ReadonlyArray<{ action: string; name: string; architecture?: string; to?: string }>): string[] =>
  changes.map((c) => `${c.action} ${c.name} ${c.architecture ?? ''} ${c.to ?? ''}`).sort();

describe('multiarch plans', () => {
  it('reads `libc6:i386` as libc6 qualified i386', () => {
    expect(installI386()).toMatchObject({ kind: 'install', name: 'libc6', archQualifier: 'i386' });
  });

  it("a request's reach holds the foreign name and its foreign dependencies, not the native one", () => {
    const set = createUniverseView(universe);
    const reach = requestReach(set, [installI386()], true)!;
    const reached = set.names.filter((_, id) => reach[id] === 1).sort();
    expect(reached).toEqual(['libc6:i386', 'libgcc-s1:i386']);
  });

  it('installs the i386 twin beside the amd64 one, and says it is held back under its own name', () => {
    const solver = createFleetSolver({ universe });
    const out = solver.solveGroup({ key: 'a', installed: BASE, facts: FACTS, request: { items: [installI386()] } });
    expect(out.kind).toBe('solution');
    if (out.kind !== 'solution') return;
    expect(changesOf(out.changes)).toEqual(['install libc6:i386 i386 2.36-9', 'install libgcc-s1:i386 i386 12']);
    // the newest i386 version needs the amd64 one upgraded too (Multi-Arch: same, one version): costlier
    expect(out.shortfalls).toHaveLength(1);
    const f = out.shortfalls![0]!;
    expect(f).toMatchObject({ kind: 'held-back', package: 'libc6:i386', version: '2.36-9', newest: '2.36-10' });
    // not installed before: the amd64 libc6 is another package
    expect(f).not.toHaveProperty('installed');
  });

  it('an item the edited request no longer meets is found though the native twin is installed at that version', () => {
    const solver = createFleetSolver({ universe });
    const asked = { items: [parseRequestItem('install', 'libc6:i386=2.36-9', 'install')] };
    const choices = [{ conflict: 'c1', resolution: 'r1', edit: { kind: 'skip' as const, item: asked.items[0]! }, fromVersion: 1 }];
    const out = solver.solveGroup({ key: 'a', installed: BASE, facts: FACTS, request: { items: [] }, asked, choices });
    expect(out.kind).toBe('solution');
    if (out.kind !== 'solution') return;
    expect(out.shortfalls?.map((f) => [f.kind, f.package, 'installed' in f ? f.installed : undefined])).toEqual([['resolved-less', 'libc6:i386', undefined]]);
  });

  it('a hold of libc6:i386 keeps the i386 package (absent here), not the amd64 twin', () => {
    const hold = parseRequestItem('hold', 'libc6:i386', 'hold');
    expect(hold).toEqual({ kind: 'hold', name: 'libc6:i386' });
    const solver = createFleetSolver({ universe });
    expect(solver.solveGroup({ key: 'a', installed: BASE, facts: FACTS, request: { items: [installI386(), hold] } }).kind).toBe('conflict');
    // the amd64 twin held: the i386 one still installs at its version
    const amd64Held = solver.solveGroup({ key: 'a', installed: BASE, facts: FACTS, request: { items: [installI386(), parseRequestItem('hold', 'libc6', 'hold')] } });
    expect(amd64Held.kind === 'solution' && changesOf(amd64Held.changes)).toEqual(['install libc6:i386 i386 2.36-9', 'install libgcc-s1:i386 i386 12']);
    // no warning that no host has it: one does
    const warnings: string[] = [];
    planDeployment({ fleet: { hosts: [host('c', WITH_I386)], findings: [] }, request: { items: [hold] }, solver, rules: createEmptyRules(), onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);
    planDeployment({ fleet: { hosts: [host('a', BASE)], findings: [] }, request: { items: [hold] }, solver, rules: createEmptyRules(), onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([expect.stringMatching(/^hold libc6:i386: no host of the fleet has libc6:i386 installed/)]);
  });

  it('unknown packages and versions are named as the request names them', () => {
    const solver = createFleetSolver({ universe });
    expect(solver.unknownPackages({ items: [parseRequestItem('install', 'other:i386', 'install')] })).toEqual(['other:i386']);
    expect(solver.unknownPackages({ items: [installI386()] })).toEqual([]);
    const bad = solver.unknownVersions!({ items: [{ kind: 'install', ...parseRequestSpec('libc6:i386=2.36-8') }] as RequestItem[] });
    expect(bad).toEqual([{ name: 'libc6:i386', version: '2.36-8', available: ['2.36-10', '2.36-9'] }]);
  });

  it('a fleet plan shares solves only between hosts the change fits: a host that has the i386 twin gets nothing to do', () => {
    const fleet: Fleet = {
      hosts: [host('a', BASE), host('b', [...BASE, pkg('other', '1')]), host('c', WITH_I386), host('d', [...WITH_I386, pkg('other', '1')])],
      findings: [],
    };
    let stats: SharedSolveStats | undefined;
    const items = [installI386()];
    const body = planDeployment({ fleet, request: { items }, solver: createFleetSolver({ universe }), rules: createEmptyRules(), onSolveStats: (s) => (stats = s) });
    const alone = createFleetSolver({ universe });
    for (const h of fleet.hosts) {
      const g = body.groups.find((x) => x.hosts.includes(h.name))!;
      const own = alone.solveGroup({ key: h.name, installed: h.installed, facts: FACTS, request: { items } });
      expect(own.kind).toBe('solution');
      if (own.kind !== 'solution' || g.outcome.kind !== 'transaction') throw new Error(`host ${h.name}: ${g.outcome.kind}`);
      expect(changesOf(g.outcome.changes), h.name).toEqual(changesOf(own.changes));
    }
    const byHost = (name: string) => body.groups.find((x) => x.hosts.includes(name))!.outcome;
    expect(byHost('c')).toMatchObject({ changes: [] });
    expect(changesOf((byHost('a') as { changes: PackageChange[] }).changes)).toEqual(['install libc6:i386 i386 2.36-9', 'install libgcc-s1:i386 i386 12']);
    // a and b share one solve, c and d another (their projections differ by the i386 twin)
    expect(stats).toMatchObject({ sharedSolves: 2, projectionNames: 2 });
  });
});
