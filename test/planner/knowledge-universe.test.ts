import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { collectFleet, type Fleet } from '../../src/fleet/index.js';
import { computeStats, describePackage, loadKnowledgeBase, type KnowledgeBase, type PackageRecord } from '../../src/kb/index.js';
import { buildRequest, createFleetSolver, environmentRulesFromKb, installedFillRecords, planDeployment, type FleetSolver, type PlanRequest } from '../../src/planner/index.js';
import { createEmptyRecord } from '../../src/kb/index.js';
import { loadKnowledgeBaseWithUniverse, UniverseBuilder } from '../../src/universe/index.js';
import type { UniverseView } from '../../src/solver/index.js';
import { createSolverFor, knowledgeFrom, readStatusRecords, type Knowledge } from '../../src/app/index.js';
import { createWorld, INVENTORY, type World } from './fixture.js';

/**
 * The same layers built from the record importer's records (lowest precedence first, ties: the
 * name sorting later first, as the fast path orders them), plus the fill layer: the reference the
 * byte fast path must agree with.
 */
function solverFromRecords(kb: KnowledgeBase, fill: readonly PackageRecord[]): FleetSolver {
  const b = new UniverseBuilder();
  const layers = kb.layers.slice().sort((x, y) => x.precedence - y.precedence || (x.name < y.name ? 1 : x.name > y.name ? -1 : 0));
  for (const l of layers) b.addRecords({ name: l.name, source: l.source, trust: l.trust }, l.records);
  b.addRecords({ name: 'installed', trust: 'observed', mode: 'fill' }, fill);
  return createFleetSolver({ universe: b.build(), rules: environmentRulesFromKb(kb) });
}

// A layer above the index that redefines libfoo1 2.0-1 (same name, version, architecture), and
// one below it that redefines helper 3.1-2 (the index must win there).
const OVERRIDE = `apiVersion: rollwise/v1
kind: KnowledgeBase
layer:
  name: org-override
  precedence: 60
  trust: organisation
packages:
  - name: libfoo1
    architecture: amd64
    versions:
      - version: "2.0-1"
        depends: ["libc6 (>= 2.36)", "helper"]
`;
const BELOW = `apiVersion: rollwise/v1
kind: KnowledgeBase
layer:
  name: org-below
  precedence: 5
  trust: organisation
packages:
  - name: helper
    architecture: all
    versions:
      - version: "3.1-2"
        depends: ["legacy-tool"]
`;
// one more host whose dpkg status has a package no layer has (site-local): the fill layer
const INVENTORY_LOCAL = `${INVENTORY}  - name: local-1
    groups: [bookworm]
    status: status/local
`;

let world: World;
let fleet: Fleet;
let fast: Knowledge;
let records: { kb: KnowledgeBase };

beforeAll(async () => {
  world = createWorld({ inventory: INVENTORY_LOCAL });
  writeFileSync(path.join(world.kb, 'override.yaml'), OVERRIDE);
  writeFileSync(path.join(world.kb, 'below.yaml'), BELOW);
  fleet = await collectFleet({ inventories: [world.inventory] });
  const loaded = await loadKnowledgeBaseWithUniverse([world.kb], { indexes: [world.index] });
  fast = knowledgeFrom(loaded.kb, loaded.universe, [world.kb]);
  records = { kb: await loadKnowledgeBase([world.kb], { indexes: [world.index] }) };
});
afterAll(() => world?.cleanup());

describe('the knowledge base over the universe fast path', () => {
  it('builds a universe whose layering follows the KB precedence, provenance kept', () => {
    const u = fast.universe.universe;
    const foo = u.findPv('libfoo1', '2.0-1', 'amd64');
    expect(u.provenanceOf(foo).layer).toBe('org-override');
    expect(u.overriddenLayersOf(foo).map((l) => l.name)).toContain('debian:packages');
    expect(u.clausesOf(foo, 0).map((c) => Array.from(c, (a) => u.formatAtom(a)).join(' | '))).toEqual(['libc6 (>= 2.36)', 'helper']);
    const helper = u.findPv('helper', '3.1-2', 'all');
    expect(u.provenanceOf(helper).layer).toBe('debian:packages');
    expect(u.provenanceOf(helper).line).toBe(records.kb.layers.find((l) => l.origin === 'index')!.records.find((r) => r.name === 'helper')!.provenance.line);
    expect(u.overriddenLayersOf(helper).map((l) => l.name)).toContain('org-below');
    expect(u.findPv('app-a', '2.0-1')).toBeGreaterThanOrEqual(0);
  });

  it('gives the knowledge base the same layers, counts and versions as the record importer', () => {
    expect(fast.kb.problems).toEqual(records.kb.problems);
    expect(computeStats(fast.kb)).toEqual(computeStats(records.kb));
    for (const name of ['libfoo1', 'helper', 'app-a', 'libc6']) {
      const a = describePackage(fast.kb, name).versions.map((v) => [v.version, v.effective.provenance.layer, v.shadowed.map((s) => s.provenance.layer)]);
      const b = describePackage(records.kb, name).versions.map((v) => [v.version, v.effective.provenance.layer, v.shadowed.map((s) => s.provenance.layer)]);
      expect(a).toEqual(b);
    }
    const legacyOf = (c: { kb: KnowledgeBase }) => c.kb.layers.find((l) => l.origin === 'index')!.records.find((r) => r.name === 'legacy-tool')!;
    const [x, y] = [legacyOf(fast), legacyOf(records)];
    expect([x.version, x.architecture, x.provenance.layer, x.provenance.line, x.depends, x.provides]).toEqual([y.version, y.architecture, y.provenance.layer, y.provenance.line, y.depends, y.provides]);
    expect(x.provenance.line).toBe(19);
  });

  it('plans the same transactions and conflicts as a universe built from the record importer (fill layer included)', async () => {
    const requests: PlanRequest[] = [buildRequest({ install: ['app-a=2.0-1'] }), buildRequest({ install: ['helper'] }), buildRequest({ upgrade: ['libfoo1'] })];
    const viaRecords = solverFromRecords(records.kb, installedFillRecords(fleet.hosts.map((h) => h.installed), readStatusRecords(fleet.hosts)));
    const recordRules = environmentRulesFromKb(records.kb);
    const viaUniverse = await createSolverFor(fast, fleet.hosts.map((h) => h.installed), readStatusRecords(fleet.hosts));
    expect(viaUniverse.addedInstalled).toBe(1); // site-local
    expect(viaRecords.addedInstalled).toBe(1);
    for (const request of requests) {
      const a = planDeployment({ fleet, request, solver: viaRecords, rules: recordRules });
      const b = planDeployment({ fleet, request, solver: viaUniverse, rules: fast.rules });
      expect(b.groups).toEqual(a.groups);
      // the same facts explain each conflict; their order may differ (the solver orders a core by its ids)
      const norm = (cs: typeof a.conflicts) => cs.map((c) => ({ ...c, explanation: { ...c.explanation, facts: [...c.explanation.facts].sort((x, y) => (x.key < y.key ? -1 : 1)) } }));
      expect(norm(b.conflicts)).toEqual(norm(a.conflicts));
    }
    // the override is what is solved: installing libfoo1 2.0-1 brings helper along
    const body = planDeployment({ fleet, request: buildRequest({ upgrade: ['libfoo1'] }), solver: viaUniverse, rules: fast.rules });
    const ok1 = body.groups.find((g) => g.hosts.includes('ok-1'))!;
    expect(ok1.outcome.kind === 'transaction' ? ok1.outcome.changes.map((c) => c.name).sort() : ok1.outcome).toEqual(['helper', 'libfoo1']);
  });

  it('builds the universe once when the installed versions are known before loading (the demo), also when one names an arch:all package as amd64', async () => {
    const sets = fleet.hosts.map((h) => h.installed);
    const hint = [
      ...installedFillRecords(sets, readStatusRecords(fleet.hosts)),
      createEmptyRecord('helper', '3.1-2', 'amd64', { layer: 'installed', source: 'test', trust: 'observed' }),
    ];
    const loaded = await loadKnowledgeBaseWithUniverse([world.kb], { indexes: [world.index], installed: hint });
    const ctx = knowledgeFrom(loaded.kb, loaded.universe, [world.kb]);
    const u = ctx.universe.universe;
    expect(u.provenanceOf(u.findPv('site-local', '0.1')).layer).toBe('installed');
    expect(Array.from(u.versionsOf(u.nameId('helper')), (pv) => `${u.versionOf(pv)} ${u.archOf(pv)}`)).toEqual(['3.1-2 all']);
    expect(computeStats(ctx.kb)).toEqual(computeStats(records.kb));
    const solver = await createSolverFor(ctx, sets, readStatusRecords(fleet.hosts));
    expect((solver.set as UniverseView).universe).toBe(u);
    expect(solver.addedInstalled).toBe(1);
    const viaRecords = solverFromRecords(records.kb, installedFillRecords(sets, readStatusRecords(fleet.hosts)));
    const request = buildRequest({ install: ['app-a=2.0-1'] });
    expect(planDeployment({ fleet, request, solver, rules: ctx.rules }).groups).toEqual(planDeployment({ fleet, request, solver: viaRecords, rules: environmentRulesFromKb(records.kb) }).groups);
  });

  it('reports a broken index as the record importer does, and leaves that layer out', async () => {
    const bad = path.join(world.dir, 'Broken-Packages');
    writeFileSync(bad, 'Package: ok\nVersion: 1.0\nArchitecture: all\n\nPackage: broken\nVersion: not a version!\nArchitecture: all\n');
    const a = await loadKnowledgeBaseWithUniverse([world.kb], { indexes: [world.index, bad] });
    const b = { kb: await loadKnowledgeBase([world.kb], { indexes: [world.index, bad] }) };
    expect(a.kb.problems).toEqual(b.kb.problems);
    expect(a.kb.problems.some((p) => p.code === 'RW_KB_INDEX' && p.file === bad)).toBe(true);
    expect(a.kb.layers.map((l) => l.name)).toEqual(b.kb.layers.map((l) => l.name));
    expect(a.universe.universe.findPv('ok', '1.0')).toBe(-1);
    expect(a.universe.universe.findPv('legacy-tool', '1.0-1')).toBeGreaterThanOrEqual(0);
  });
});
