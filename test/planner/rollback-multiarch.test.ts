/**
 * Rollback plans on a multiarch host (amd64 with i386 enabled): packages are keyed by the
 * resolver's name (`libc6` is the amd64 copy, `libc6:i386` the i386 one), so the rollback of an
 * upgrade of both copies downgrades each, and the rollback of an i386-only install removes only
 * the i386 copies. Checked by the real consistency check and the model rehearsal.
 */
import { describe, expect, it } from 'vitest';
import { createUniverse } from '../../src/universe/index.js';
import type { InstalledPackage } from '../../src/fleet/index.js';
import type { PackageChange } from '../../src/solver/index.js';
import {
  createInstalledSetChecker, createRelationFacts, materializeRollbackStep, planRollback, rehearseInModel,
  type GroupRollback, type RollbackInput, type RollbackStep, type Snapshot,
} from '../../src/planner/index.js';
import { recordsFromYaml } from '../solver/helpers.js';
import { MULTIARCH_LIBC } from './multiarch-fleet.js';
import { NO_KNOWLEDGE } from './rollback-fixture.js';

const RECORDS = recordsFromYaml([
  ...MULTIARCH_LIBC,
  { name: 'tool', version: '1', depends: 'libc6' },
]);
const universe = createUniverse(RECORDS, { hostArch: 'amd64', foreignArchs: ['i386'] });
const check = createInstalledSetChecker(universe);
const relations = createRelationFacts(universe);

const pkg = (name: string, version: string, architecture = 'amd64'): InstalledPackage => ({ name, version, architecture });
const BASE = [pkg('libc6', '2.36-9'), pkg('libgcc-s1', '12'), pkg('tool', '1')];
const WITH_I386 = [...BASE, pkg('libc6', '2.36-9', 'i386'), pkg('libgcc-s1', '12', 'i386')];

const packageSteps = (r: GroupRollback) => r.steps.filter((s): s is Extract<RollbackStep, { kind: 'packages' }> => s.kind === 'packages');
const undoneChanges = (r: GroupRollback): string[] =>
  packageSteps(r).flatMap((s) => s.changes.map((c) => `${c.action} ${c.name} ${c.architecture ?? ''} ${c.to ?? ''}`.trim())).sort();
const asText = (ps: readonly InstalledPackage[]): string[] => ps.map((p) => `${p.name} ${p.architecture} ${p.version}`).sort();

function rollbackOf(installed: InstalledPackage[], changes: PackageChange[], extra: Partial<RollbackInput> = {}): GroupRollback {
  return planRollback({
    group: { key: 'g1', installed, changes }, knowledge: NO_KNOWLEDGE, check, relations, availability: () => 'index',
    foreignArchs: universe.foreignArchs, ...extra,
  });
}

describe('multiarch rollback plans', () => {
  const upgradeBoth: PackageChange[] = [
    { action: 'upgrade', name: 'libc6', architecture: 'amd64', from: '2.36-9', to: '2.36-10' },
    { action: 'upgrade', name: 'libc6:i386', architecture: 'i386', from: '2.36-9', to: '2.36-10' },
  ];

  it('downgrades both copies of libc6 after an upgrade of both, and keeps every other package', () => {
    const r = rollbackOf(WITH_I386, upgradeBoth);
    expect(r.kind).toBe('rollback');
    expect(undoneChanges(r)).toEqual(['downgrade libc6 amd64 2.36-9', 'downgrade libc6:i386 i386 2.36-9']);
    expect(asText(r.after)).toEqual(['libc6 amd64 2.36-10', 'libc6:i386 i386 2.36-10', 'libgcc-s1 amd64 12', 'libgcc-s1:i386 i386 12', 'tool amd64 1']);
    expect(asText(r.target)).toEqual(asText(r.before));
    expect(asText(r.before)).toEqual(['libc6 amd64 2.36-9', 'libc6:i386 i386 2.36-9', 'libgcc-s1 amd64 12', 'libgcc-s1:i386 i386 12', 'tool amd64 1']);
    expect(r.flags).toEqual([]);
    expect(r.depths.map((d) => d.package).sort()).toEqual(['libc6', 'libc6:i386']);
    // the .debs it needs, one per architecture
    expect(packageSteps(r).flatMap((s) => s.debs).map((d) => `${d.name} ${d.architecture} ${d.version}`).sort()).toEqual(['libc6 amd64 2.36-9', 'libc6:i386 i386 2.36-9']);
    const model = rehearseInModel({ rollback: r, forward: upgradeBoth, knowledge: NO_KNOWLEDGE, check, relations });
    expect(model.incidents).toEqual([]);
    expect(model.restored).toBe(true);
  });

  it('the same without being told the foreign architectures: the change names say i386 is foreign', () => {
    const r = rollbackOf(WITH_I386, upgradeBoth, { foreignArchs: undefined });
    expect(undoneChanges(r)).toEqual(['downgrade libc6 amd64 2.36-9', 'downgrade libc6:i386 i386 2.36-9']);
  });

  it('an upgrade of the amd64 copy alone downgrades only it; the i386 copy stays', () => {
    const forward: PackageChange[] = [{ action: 'upgrade', name: 'libc6', architecture: 'amd64', from: '2.36-9', to: '2.36-10' }];
    const r = rollbackOf(WITH_I386, forward);
    expect(undoneChanges(r)).toEqual(['downgrade libc6 amd64 2.36-9']);
    expect(asText(r.after)).toContain('libc6:i386 i386 2.36-9');
  });

  it('an install of libc6:i386 alone rolls back to removing only the i386 copies', () => {
    const forward: PackageChange[] = [
      { action: 'install', name: 'libc6:i386', architecture: 'i386', to: '2.36-9' },
      { action: 'install', name: 'libgcc-s1:i386', architecture: 'i386', to: '12' },
    ];
    const r = rollbackOf(BASE, forward);
    expect(undoneChanges(r)).toEqual(['purge libc6:i386 i386', 'purge libgcc-s1:i386 i386']);
    // libc6:i386 goes before what it depends on
    expect(packageSteps(r).flatMap((s) => s.changes.map((c) => c.name))).toEqual(['libc6:i386', 'libgcc-s1:i386']);
    expect(asText(r.target)).toEqual(asText(BASE));
    const model = rehearseInModel({ rollback: r, forward, knowledge: NO_KNOWLEDGE, check, relations });
    expect(model.incidents).toEqual([]);
    expect(model.restored).toBe(true);
  });

  it("a purge of libc6:i386 becomes a remove only when the snapshot holds the i386 copy's config files", () => {
    const step: RollbackStep = { kind: 'packages', changes: [{ action: 'purge', name: 'libc6:i386', architecture: 'i386', from: '2.36-9' }], debs: [] };
    const snapshot = (architecture: string): Snapshot => ({
      host: 'h', takenAt: '2026-01-01T00:00:00Z', files: [], databases: [], services: [],
      packages: [{ name: 'libc6', version: '2.36-9', architecture, status: 'rc', state: 'config-files' }],
    });
    const actionOf = (s: Snapshot) => materializeRollbackStep(step, s)!.flatMap((x) => (x.kind === 'packages' ? x.changes.map((c) => c.action) : []));
    expect(actionOf(snapshot('i386'))).toEqual(['remove']);
    expect(actionOf(snapshot('amd64'))).toEqual(['purge']);
  });

  it('finds an installed foreign version however it is named', () => {
    const pv = universe.findInstalledPv('libc6:i386', '2.36-9', 'i386');
    expect(pv).toBeGreaterThanOrEqual(0);
    expect(universe.findInstalledPv('libc6', '2.36-9', 'i386')).toBe(pv);
    expect(universe.archOf(pv)).toBe('i386');
    expect(universe.findInstalledPv('libc6:i386', '2.36-9', 'amd64')).toBeLessThan(0);
  });
});
