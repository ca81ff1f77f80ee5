/**
 * Rollback plans on small hand-made universes, checked by the real solver: the order of package
 * steps (Breaks, Pre-Depends, Replaces, reinstalls, transactions when no single order exists),
 * where down migrations go, config restores and services, the flags and the safeguards; and the
 * rehearsal in the model, which restores the start state or says which flag announced each
 * difference, and catches plans that were tampered with.
 */
import { describe, expect, it } from 'vitest';
import {
  materializeRollbackStep, planRollback, rehearseInModel, stateAfter,
  type GroupRollback, type RollbackInput, type RollbackKnowledge, type RollbackStep, type Snapshot,
} from '../../src/planner/index.js';
import type { PackageChange } from '../../src/solver/index.js';
import { changes, NO_KNOWLEDGE, pkgs, smallWorld, type SmallWorld } from './rollback-fixture.js';

const packageSteps = (r: GroupRollback) => r.steps.filter((s): s is Extract<RollbackStep, { kind: 'packages' }> => s.kind === 'packages');
const stepNames = (r: GroupRollback) => packageSteps(r).map((s) => s.changes.map((c) => `${c.action} ${c.name}${c.to ? `=${c.to}` : ''}`));
const indexOf = (r: GroupRollback, pred: (s: RollbackStep) => boolean) => r.steps.findIndex(pred);

function plan(world: SmallWorld, installed: string, forward: string, extra: Partial<RollbackInput> = {}): { rollback: GroupRollback; forward: PackageChange[] } {
  const fwd = changes(forward);
  const rollback = planRollback({
    group: { key: 'g1', installed: pkgs(installed), changes: fwd },
    knowledge: NO_KNOWLEDGE,
    check: world.check,
    relations: world.relations,
    availability: () => 'index',
    ...extra,
  });
  return { rollback, forward: fwd };
}

/** Every installed set the rollback passes through, by the independent checker: no problem anywhere. */
function expectEveryStepConsistent(world: SmallWorld, r: GroupRollback): void {
  const state = new Map(r.after.map((p) => [p.name, p]));
  for (const step of packageSteps(r)) {
    for (const c of step.changes) {
      if (c.action === 'remove' || c.action === 'purge') state.delete(c.name);
      else state.set(c.name, { name: c.name, version: c.to!, architecture: c.architecture ?? 'amd64' });
    }
    expect(world.problems([...state.values()])).toEqual([]);
  }
  expect([...state.values()].map((p) => `${p.name}=${p.version}`).sort()).toEqual(r.target.map((p) => `${p.name}=${p.version}`));
}

describe('ordering package steps', () => {
  it('reverts a breaker before what it breaks', () => {
    const w = smallWorld([
      { name: 'a-victim', version: '1' }, { name: 'a-victim', version: '2' },
      { name: 'z-breaker', version: '1' }, { name: 'z-breaker', version: '2', breaks: 'a-victim (<< 2)' },
    ]);
    // the order by name alone would break: a-victim 1 beside z-breaker 2
    expect(w.check(pkgs('a-victim=1 z-breaker=2')).ok).toBe(false);
    const { rollback, forward } = plan(w, 'a-victim=1 z-breaker=1', 'a-victim=1>2 z-breaker=1>2');
    expect(stepNames(rollback)).toEqual([['downgrade z-breaker=1'], ['downgrade a-victim=1']]);
    expectEveryStepConsistent(w, rollback);
    const model = rehearseInModel({ rollback, forward, knowledge: NO_KNOWLEDGE, check: w.check, relations: w.relations });
    expect(model.restored).toBe(true);
    expect(model.incidents).toEqual([]);
  });

  it('keeps a pre-dependency at a satisfying version until its dependant is back', () => {
    const w = smallWorld([
      { name: 'aaa-lib', version: '1' }, { name: 'aaa-lib', version: '2' },
      { name: 'zapp', version: '1', depends: 'aaa-lib (>= 1)' }, { name: 'zapp', version: '2', 'pre-depends': 'aaa-lib (>= 2)' },
    ]);
    const { rollback } = plan(w, 'aaa-lib=1 zapp=1', 'aaa-lib=1>2 zapp=1>2');
    expect(stepNames(rollback)).toEqual([['downgrade zapp=1'], ['downgrade aaa-lib=1']]);
    expect(packageSteps(rollback).every((s) => s.transaction === undefined)).toBe(true);
    expectEveryStepConsistent(w, rollback);
  });

  it('groups changes into one transaction when no single order works, pre-dependencies listed first, and says why', () => {
    const w = smallWorld([
      { name: 'lib', version: '1' }, { name: 'lib', version: '2' },
      { name: 'app', version: '1', 'pre-depends': 'lib (<< 2)' }, { name: 'app', version: '2', 'pre-depends': 'lib (>= 2)' },
    ]);
    const { rollback, forward } = plan(w, 'app=1 lib=1', 'app=1>2 lib=1>2');
    expect(stepNames(rollback)).toEqual([['downgrade lib=1', 'downgrade app=1']]);
    const [step] = packageSteps(rollback);
    expect(step!.transaction?.kind).toBe('no-single-order');
    expect(step!.transaction?.alone.map((a) => a.name).sort()).toEqual(['app', 'lib']);
    expect(rollback.flags).toEqual([]);
    const model = rehearseInModel({ rollback, forward, knowledge: NO_KNOWLEDGE, check: w.check, relations: w.relations });
    expect(model.restored).toBe(true);
    expect(model.incidents).toEqual([]);
  });

  it('reinstalls what the forward plan removed, in a transaction only where needed, and flags a former version nobody holds', () => {
    const w = smallWorld([
      { name: 'app', version: '1', depends: 'libold' }, { name: 'app', version: '2', depends: 'libnew' },
      { name: 'libold', version: '1', conflicts: 'libnew' }, { name: 'libnew', version: '1' },
      { name: 'agent', version: '1', depends: 'libold' },
    ]);
    const { rollback, forward } = plan(w, 'agent=1 app=1 libold=1', 'app=1>2 +libnew=1 -libold=1 -agent=1', {
      availability: (d) => (d.name === 'agent' ? 'none' : d.name === 'libold' ? 'cache' : 'index'),
    });
    expect(stepNames(rollback)).toEqual([['purge libnew', 'downgrade app=1', 'install libold=1'], ['install agent=1']]);
    expect(packageSteps(rollback)[0]!.transaction?.kind).toBe('no-single-order');
    expect(packageSteps(rollback).flatMap((s) => s.debs).map((d) => `${d.name}=${d.version}`)).toEqual(['app=1', 'libold=1', 'agent=1']);
    expectEveryStepConsistent(w, rollback);
    expect(rollback.flags).toEqual([{ kind: 'former-version-unavailable', id: 'former-version-unavailable:agent=1', deb: { name: 'agent', version: '1', architecture: 'amd64' }, safeguards: ['keep-deb:agent=1'] }]);
    expect(rollback.forwardSafeguards.filter((g) => g.kind === 'keep-deb')).toEqual([
      { kind: 'keep-deb', id: 'keep-deb:app=1', deb: { name: 'app', version: '1', architecture: 'amd64' }, source: 'repository' },
      { kind: 'keep-deb', id: 'keep-deb:agent=1', deb: { name: 'agent', version: '1', architecture: 'amd64' }, source: 'host' },
    ]);
    // with the safeguards taken the model comes back; without them the agent cannot come back, as flagged
    expect(rehearseInModel({ rollback, forward, knowledge: NO_KNOWLEDGE, check: w.check, relations: w.relations }).restored).toBe(true);
    const bare = rehearseInModel({ rollback, forward, knowledge: NO_KNOWLEDGE, check: w.check, relations: w.relations, safeguardsTaken: false, availability: (d) => (d.name === 'agent' ? 'none' : 'index') });
    expect(bare.restored).toBe(false);
    expect(bare.differences.map((d) => d.difference)).toContainEqual({ kind: 'package', name: 'agent', before: '1' });
    expect(bare.silent).toBe(0);
  });

  it('reverts a package that took over files (Replaces) before the one it took them from', () => {
    const w = smallWorld([
      { name: 'a-old', version: '1' }, { name: 'a-old', version: '2' },
      { name: 'z-new', version: '1' }, { name: 'z-new', version: '2', replaces: 'a-old (<< 2)' },
    ]);
    const withRelations = plan(w, 'a-old=1 z-new=1', 'a-old=1>2 z-new=1>2');
    expect(stepNames(withRelations.rollback)).toEqual([['downgrade z-new=1'], ['downgrade a-old=1']]);
    // the consistency check alone cannot see it; the rehearsal does
    const blind = planRollback({ group: { key: 'g1', installed: pkgs('a-old=1 z-new=1'), changes: withRelations.forward }, knowledge: NO_KNOWLEDGE, check: w.check, availability: () => 'index' });
    expect(stepNames(blind)).toEqual([['downgrade a-old=1'], ['downgrade z-new=1']]);
    const model = rehearseInModel({ rollback: blind, forward: withRelations.forward, knowledge: NO_KNOWLEDGE, check: w.check, relations: w.relations });
    expect(model.incidents.map((i) => i.incident.kind)).toEqual(['files-replaced']);
    expect(model.silent).toBe(1);
  });

  it('goes at once when the former state itself is not consistent, and flags it', () => {
    const w = smallWorld([{ name: 'a', version: '1', depends: 'missing' }, { name: 'a', version: '2' }, { name: 'b', version: '1' }, { name: 'b', version: '2' }]);
    const { rollback } = plan(w, 'a=1 b=1', 'a=1>2 b=1>2');
    expect(stepNames(rollback)).toEqual([['downgrade a=1', 'downgrade b=1']]);
    expect(packageSteps(rollback)[0]!.transaction?.kind).toBe('former-state-inconsistent');
    expect(rollback.flags.map((f) => f.kind)).toEqual(['former-state-inconsistent']);
  });
});

const SHOP: RollbackKnowledge = {
  packages: [{
    name: 'shop', scheme: 'deb', versions: [
      { version: '1', migrations: [{ id: 'm1', database: 'shopdb', down: 'm1.down.sql' }] },
      { version: '2', migrations: [{ id: 'm2', database: 'shopdb', down: 'm2.down.sql' }, { id: 'm3', database: 'shopdb', down: 'm3.down.sql' }] },
      { version: '3', migrations: [{ id: 'm4', database: 'shopdb', irreversible: true }] },
    ],
  }],
  configFiles: [{ path: '/etc/shop/shop.conf', package: 'shop', reload: 'shop' }, { path: '/etc/lb/lb.cfg', package: 'lbconf', reload: 'lb' }],
  services: [
    { name: 'lb', packages: ['lbconf'], dependsOn: ['shop'], health: true },
    { name: 'shop', packages: ['shop'], dependsOn: ['db'], health: true },
    { name: 'db', packages: ['dbserver'], dependsOn: [], health: false },
  ],
};
const shopWorld = () => smallWorld([
  { name: 'shop', version: '1', depends: 'dbserver' }, { name: 'shop', version: '2', depends: 'dbserver' }, { name: 'shop', version: '3', depends: 'dbserver' },
  { name: 'lbconf', version: '1' }, { name: 'lbconf', version: '2' },
  { name: 'dbserver', version: '1' }, { name: 'dbserver', version: '2' },
]);

describe('databases, configuration and services', () => {
  it('puts the schema back between stopping the new version and installing the old one, newest migration first', () => {
    const w = shopWorld();
    const { rollback, forward } = plan(w, 'dbserver=1 lbconf=1 shop=1', 'shop=1>2', { knowledge: SHOP });
    expect(rollback.steps).toEqual([
      { kind: 'service', action: 'stop', service: 'shop' },
      { kind: 'migrate', database: 'shopdb', migration: { id: 'm3', direction: 'down', script: 'm3.down.sql' }, package: { name: 'shop', version: '2' } },
      { kind: 'migrate', database: 'shopdb', migration: { id: 'm2', direction: 'down', script: 'm2.down.sql' }, package: { name: 'shop', version: '2' } },
      { kind: 'packages', changes: [{ action: 'downgrade', name: 'shop', architecture: 'amd64', from: '2', to: '1' }], debs: [{ name: 'shop', version: '1', architecture: 'amd64' }] },
      { kind: 'restore-config', path: '/etc/shop/shop.conf', package: 'shop', state: { kind: 'snapshot' } },
      { kind: 'restore-conffiles', package: 'shop', state: { kind: 'snapshot' } },
      { kind: 'service', action: 'start', service: 'shop', when: 'running-in-snapshot' },
      { kind: 'health', service: 'shop', when: 'running-in-snapshot' },
    ]);
    expect(rollback.flags).toEqual([]);
    expect(rollback.forwardSafeguards[0]).toEqual({ kind: 'snapshot', id: 'snapshot', configFiles: ['/etc/shop/shop.conf'], conffilesOf: ['shop'], databases: ['shopdb'], services: ['shop'] });
    const model = rehearseInModel({ rollback, forward, knowledge: SHOP, check: w.check, relations: w.relations });
    expect(model.forward.databases).toEqual({ shopdb: ['m1', 'm2', 'm3'] });
    expect(model.restored).toBe(true);
    expect(model.incidents).toEqual([]);
  });

  it('catches a plan whose schema goes back after the old version starts, or whose config is not restored', () => {
    const w = shopWorld();
    const { rollback, forward } = plan(w, 'dbserver=1 lbconf=1 shop=1', 'shop=1>2', { knowledge: SHOP });
    const migrations = rollback.steps.filter((s) => s.kind === 'migrate');
    const late = { ...rollback, steps: [...rollback.steps.filter((s) => s.kind !== 'migrate'), ...migrations] };
    const m1 = rehearseInModel({ rollback: late, forward, knowledge: SHOP, check: w.check });
    expect(m1.restored).toBe(true);
    // shop 1 starts against m2 and m3, and still runs against m2 after m3 goes
    expect(m1.incidents.map((i) => [i.incident.kind, i.cause.kind])).toEqual([['schema-unknown', 'silent'], ['schema-unknown', 'silent']]);
    const noConfig = { ...rollback, steps: rollback.steps.filter((s) => s.kind !== 'restore-config' && s.kind !== 'restore-conffiles') };
    const m2 = rehearseInModel({ rollback: noConfig, forward, knowledge: SHOP, check: w.check });
    expect(m2.differences.map((d) => [d.difference.kind, d.difference.kind === 'file' ? d.difference.path : '', d.cause.kind])).toEqual([
      ['file', '/etc/shop/shop.conf', 'silent'], ['file', 'conffiles:shop', 'silent'],
    ]);
  });

  it('stops dependants first and starts dependencies first, each start followed by its health check', () => {
    const w = shopWorld();
    const { rollback } = plan(w, 'dbserver=1 lbconf=1 shop=1', 'dbserver=1>2 lbconf=1>2 shop=1>2', { knowledge: SHOP });
    const services = rollback.steps.filter((s) => s.kind === 'service' || s.kind === 'health').map((s) => `${s.kind === 'service' ? s.action : 'health'} ${(s as { service: string }).service}`);
    expect(services).toEqual(['stop lb', 'stop shop', 'stop db', 'start db', 'start shop', 'health shop', 'start lb', 'health lb']);
    expect(indexOf(rollback, (s) => s.kind === 'migrate')).toBeGreaterThan(indexOf(rollback, (s) => s.kind === 'service' && s.action === 'stop' && s.service === 'shop'));
    expect(indexOf(rollback, (s) => s.kind === 'migrate')).toBeLessThan(indexOf(rollback, (s) => s.kind === 'packages'));
  });

  it('flags an irreversible migration: a backup before the forward migrations, an approval, and a restore in the rollback', () => {
    const w = shopWorld();
    const { rollback, forward } = plan(w, 'dbserver=1 lbconf=1 shop=1', 'shop=1>3', { knowledge: SHOP });
    expect(rollback.flags).toEqual([{
      kind: 'irreversible-migration', id: 'irreversible-migration:shopdb/m4', package: 'shop', version: '3', database: 'shopdb', migration: 'm4',
      cause: 'marked-irreversible', undo: 'restore-backup', safeguards: ['backup-database:shopdb', 'approval:irreversible-migration:shopdb/m4'],
    }]);
    expect(rollback.forwardSafeguards.filter((g) => g.kind === 'backup-database' || g.kind === 'approval')).toEqual([
      { kind: 'backup-database', id: 'backup-database:shopdb', database: 'shopdb', before: 'm2', flags: ['irreversible-migration:shopdb/m4'] },
      { kind: 'approval', id: 'approval:irreversible-migration:shopdb/m4', flag: 'irreversible-migration:shopdb/m4', risk: 'irreversible-migration' },
    ]);
    expect(rollback.steps.filter((s) => s.kind === 'migrate')).toEqual([]);
    expect(rollback.steps[1]).toEqual({ kind: 'restore-database', database: 'shopdb', backup: 'backup-database:shopdb', approval: 'approval:irreversible-migration:shopdb/m4', undoes: ['m2', 'm3', 'm4'] });
    const model = rehearseInModel({ rollback, forward, knowledge: SHOP, check: w.check });
    expect(model.end.databases).toEqual(model.start.databases);
    expect(model.differences).toEqual([{ difference: { kind: 'writes-lost', database: 'shopdb' }, cause: { kind: 'flagged', flags: ['irreversible-migration:shopdb/m4'] } }]);
    // without the backup the schema stays new: announced by the same flag
    const bare = rehearseInModel({ rollback, forward, knowledge: SHOP, check: w.check, safeguardsTaken: false, availability: () => 'index' });
    expect(bare.silent).toBe(0);
    expect(bare.incidents.map((i) => i.incident.kind)).toEqual(['backup-missing', 'schema-unknown']);
  });

  it('names a migration without a down script as irreversible too', () => {
    const knowledge: RollbackKnowledge = { ...SHOP, packages: [{ name: 'shop', scheme: 'deb', versions: [{ version: '1', migrations: [] }, { version: '2', migrations: [{ id: 'x1', database: 'shopdb' }] }] }] };
    const { rollback } = plan(shopWorld(), 'dbserver=1 lbconf=1 shop=1', 'shop=1>2', { knowledge });
    expect(rollback.flags.map((f) => f.kind === 'irreversible-migration' && f.cause)).toEqual(['no-down-script']);
  });

  it('undo depth downgrade keeps the schema (flagged), leave keeps the package (only when allowed)', () => {
    const w = shopWorld();
    const down = plan(w, 'dbserver=1 lbconf=1 shop=1', 'shop=1>2', { knowledge: SHOP, undoDepth: { shop: 'downgrade' } });
    expect(down.rollback.steps.some((s) => s.kind === 'migrate')).toBe(false);
    expect(down.rollback.flags).toEqual([{ kind: 'schema-kept', id: 'schema-kept:shop/shopdb', package: 'shop', database: 'shopdb', migrations: ['m2', 'm3'] }]);
    const m = rehearseInModel({ ...down, knowledge: SHOP, check: w.check });
    expect(m.restored).toBe(false);
    expect(m.silent).toBe(0);
    expect(m.differences.map((d) => d.difference.kind)).toEqual(['schema']);

    const refused = plan(w, 'dbserver=1 lbconf=1 shop=1', 'lbconf=1>2 shop=1>2', { knowledge: SHOP, undoDepth: { lbconf: 'leave' } });
    expect(refused.rollback.depths.find((d) => d.package === 'lbconf')).toEqual({ package: 'lbconf', asked: 'leave', used: 'complete', because: 'leave-not-allowed' });
    const left = plan(w, 'dbserver=1 lbconf=1 shop=1', 'lbconf=1>2 shop=1>2', { knowledge: SHOP, undoDepth: { lbconf: 'leave' }, allowLeave: true });
    expect(left.rollback.target.map((p) => `${p.name}=${p.version}`)).toEqual(['dbserver=1', 'lbconf=2', 'shop=1']);
    expect(left.rollback.flags).toEqual([{ kind: 'left-in-place', id: 'left-in-place:lbconf', package: 'lbconf', version: '2', former: '1' }]);
    const lm = rehearseInModel({ ...left, knowledge: SHOP, check: w.check });
    expect(lm.silent).toBe(0);
    expect(lm.differences.map((d) => d.difference.kind === 'package' ? d.difference.name : d.difference.kind === 'file' ? d.difference.path : d.difference.kind).sort())
      .toEqual(['/etc/lb/lb.cfg', 'conffiles:lbconf', 'lbconf']);
  });

  it('refuses to leave a package when the rest of the rollback cannot live beside it', () => {
    const w = smallWorld([{ name: 'lib', version: '1' }, { name: 'lib', version: '2' }, { name: 'app', version: '1', depends: 'lib' }, { name: 'app', version: '2', depends: 'lib (>= 2)' }]);
    const { rollback } = plan(w, 'app=1 lib=1', 'app=1>2 lib=1>2', { undoDepth: { app: 'leave' }, allowLeave: true });
    expect(rollback.depths.find((d) => d.package === 'app')).toMatchObject({ asked: 'leave', used: 'complete', because: 'left-state-inconsistent' });
    expect(rollback.target).toEqual(pkgs('app=1 lib=1'));
  });

  it('flags a forward purge: maintainer-made configuration does not come back', () => {
    const w = smallWorld([{ name: 'a', version: '1' }, { name: 'b', version: '1' }]);
    const { rollback, forward } = plan(w, 'a=1 b=1', '!b=1');
    expect(stepNames(rollback)).toEqual([['install b=1']]);
    expect(rollback.flags).toEqual([{ kind: 'configuration-purged', id: 'configuration-purged:b', package: 'b', version: '1', safeguards: ['snapshot'] }]);
    const m = rehearseInModel({ rollback, forward, knowledge: NO_KNOWLEDGE, check: w.check });
    expect(m.differences).toEqual([{ difference: { kind: 'file', path: 'state:b', before: 'orig:state:b', after: 'created:state:b=1' }, cause: { kind: 'flagged', flags: ['configuration-purged:b'] } }]);
  });

  it('has nothing to undo when the group does not change', () => {
    const w = smallWorld([{ name: 'a', version: '1' }]);
    const r = planRollback({ group: { key: 'g', installed: pkgs('a=1'), changes: [] }, knowledge: NO_KNOWLEDGE, check: w.check, availability: () => 'index' });
    expect(r.kind).toBe('nothing-to-undo');
    expect(stateAfter(pkgs('a=1'), changes('a=1>2'))).toEqual(pkgs('a=2'));
  });
});

describe('materializing snapshot-backed steps', () => {
  const snapshot: Snapshot = {
    host: 'h', takenAt: '2026-01-01T00:00:00Z',
    packages: [{ name: 'old', version: '1', architecture: 'amd64', status: 'rc', state: 'config-files' }],
    files: [
      { path: '/etc/shop/shop.conf', source: 'config', state: { kind: 'present', sha256: 'aa', mode: 0o640, contentBase64: 'eA==' } },
      { path: '/etc/shop/default', source: 'conffile', owner: 'shop', state: { kind: 'present', sha256: 'bb', mode: 0o644, contentBase64: 'eQ==' } },
    ],
    databases: [],
    services: [{ name: 'shop', state: 'running' }, { name: 'lb', state: 'stopped' }],
  };
  it('fills config and conffile content from the snapshot, absent when it has none, and purges only what was not there', () => {
    expect(materializeRollbackStep({ kind: 'restore-config', path: '/etc/shop/shop.conf', package: 'shop', state: { kind: 'snapshot' } }, snapshot)).toEqual([
      { kind: 'restore-config', path: '/etc/shop/shop.conf', state: snapshot.files[0]!.state, sides: [] },
    ]);
    expect(materializeRollbackStep({ kind: 'restore-config', path: '/etc/new.conf', package: 'new', state: { kind: 'snapshot' } }, snapshot)).toEqual([
      { kind: 'restore-config', path: '/etc/new.conf', state: { kind: 'absent' }, sides: [] },
    ]);
    const current: Snapshot = { ...snapshot, files: [{ path: '/etc/shop/extra', source: 'conffile', owner: 'shop', state: { kind: 'present', sha256: 'cc', mode: 0o644, contentBase64: '' } }] };
    expect(materializeRollbackStep({ kind: 'restore-conffiles', package: 'shop', state: { kind: 'snapshot' } }, snapshot, current)).toEqual([
      { kind: 'restore-config', path: '/etc/shop/default', state: snapshot.files[1]!.state, sides: [] },
      { kind: 'restore-config', path: '/etc/shop/extra', state: { kind: 'absent' }, sides: [] },
    ]);
    expect(materializeRollbackStep({ kind: 'packages', changes: [{ action: 'purge', name: 'old' }, { action: 'purge', name: 'new' }], debs: [] }, snapshot)).toEqual([
      { kind: 'packages', changes: [{ action: 'remove', name: 'old' }, { action: 'purge', name: 'new' }] },
    ]);
    expect(materializeRollbackStep({ kind: 'service', action: 'start', service: 'lb', when: 'running-in-snapshot' }, snapshot)).toEqual([]);
    expect(materializeRollbackStep({ kind: 'service', action: 'start', service: 'shop', when: 'running-in-snapshot' }, snapshot)).toEqual([{ kind: 'service', action: 'start', service: 'shop' }]);
    expect(materializeRollbackStep({ kind: 'health', service: 'shop', when: 'running-in-snapshot' }, snapshot)).toBeUndefined();
  });
});
