/**
 * Rollback plans for the example fleet's shopfront 2.0.0 plan (examples/fleet, examples/kb over the
 * bookworm index), with the agent's removal allowed so one group also reinstalls what the forward
 * plan removed. Needs ../shared/data/debian/bookworm-main-amd64.Packages.xz.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPlan, loadKnowledge, resolveStoredPlan } from '../../src/app/index.js';
import type { InstalledPackage } from '../../src/fleet/index.js';
import {
  availabilityFromUniverse, buildRequest, createInstalledSetChecker, createRelationFacts, installedFillRecords, planRollback, rehearseInModel, rollbackKnowledgeFromKb,
  type RollbackStep,
} from '../../src/planner/index.js';
import { createUniverseView } from '../../src/solver/index.js';
import { repoRoot } from '../helpers/cli.js';
import { checkRecords } from '../solver/checker.js';

const INDEX = path.resolve(repoRoot, '..', 'shared', 'data', 'debian', 'bookworm-main-amd64.Packages.xz');
const INVENTORY = path.join(repoRoot, 'examples', 'fleet', 'inventory.yaml');
const KB = path.join(repoRoot, 'examples', 'kb');

describe('rollback plans of the example fleet', () => {
  it('undo shopfront 2.0.0 on every ready group: consistent steps, the schema restored from the backup, flags and safeguards', async () => {
    if (!existsSync(INDEX)) throw new Error(`the bookworm index is missing: ${INDEX} (the shared data directory beside the repository)`);
    const knowledge = await loadKnowledge({ kb: [KB], indexes: [INDEX] });
    const plan = await createPlan({ kb: [KB], index: [INDEX], inventory: [INVENTORY], local: false, sshHost: [], skipUnreachable: false, request: buildRequest({ install: ['shopfront=2.0.0'] }), knowledge });
    const agent = plan.conflicts.find((c) => plan.groups.some((g) => g.hosts.includes('app-29') && c.groups.includes(g.key)))!;
    const removing = await resolveStoredPlan({ ...plan }, plan.conflicts.map((c) => ({ conflict: c.id, resolution: c === agent ? 'r2' : 'r1' })), undefined, knowledge);
    const universe = await knowledge.universe.withFill(installedFillRecords(removing.groups.map((g) => g.installed)));
    const check = createInstalledSetChecker(universe);
    const relations = createRelationFacts(universe);
    const availability = availabilityFromUniverse(universe);
    const facts = rollbackKnowledgeFromKb(knowledge.kb);
    expect(facts.packages.map((p) => [p.name, p.versions.map((v) => [v.version, v.migrations.map((m) => m.id)])])).toEqual([
      ['shopfront', [['1.8.3', ['0011_add_order_notes']], ['2.0.0', ['0012_add_cart_expiry', '0013_split_customer_name']]]],
    ]);
    const view = createUniverseView(universe);
    const independent = (set: InstalledPackage[]) => checkRecords(set.map((p) => view.record(universe.findInstalledPv(p.name, p.version, p.architecture))));

    let planned = 0;
    for (const g of removing.groups) {
      if (g.outcome.kind !== 'transaction') continue;
      const forward = g.outcome.changes;
      const rollback = planRollback({ group: { key: g.key, installed: g.installed, changes: forward }, knowledge: facts, check, relations, availability });
      // groups kept at shopfront 1.8.3 by the gentlest resolution change nothing
      expect(rollback.kind).toBe(forward.length === 0 ? 'nothing-to-undo' : 'rollback');
      if (forward.length === 0) continue;
      planned++;
      expect(rollback.target).toEqual(rollback.before);
      // every set on the way is consistent (by the records, independently of the solver)
      const state = new Map(rollback.after.map((p) => [p.name, p]));
      for (const step of rollback.steps) {
        if (step.kind !== 'packages') continue;
        for (const c of step.changes) {
          if (c.action === 'purge' || c.action === 'remove') state.delete(c.name);
          else state.set(c.name, { name: c.name, version: c.to!, architecture: c.architecture! });
        }
        expect(independent([...state.values()])).toEqual([]);
      }
      // the shape: stop, restore the database, packages, config, start and check
      const kinds = rollback.steps.map((s) => s.kind);
      expect(rollback.steps[0]).toEqual({ kind: 'service', action: 'stop', service: 'shopfront' });
      expect(rollback.steps[1]).toEqual({
        kind: 'restore-database', database: 'shop', backup: 'backup-database:shop', approval: 'approval:irreversible-migration:shop/0013_split_customer_name',
        undoes: ['0012_add_cart_expiry', '0013_split_customer_name'],
      });
      expect(kinds.slice(-2)).toEqual(['service', 'health']);
      expect(kinds.lastIndexOf('packages')).toBeLessThan(kinds.indexOf('restore-config'));
      expect(rollback.steps).toContainEqual({ kind: 'restore-config', path: '/etc/shopfront/shopfront.toml', package: 'shopfront', state: { kind: 'snapshot' } });
      const shopfront = rollback.steps.findIndex((s) => s.kind === 'packages' && s.changes.some((c) => c.name === 'shopfront'));
      const jemalloc = rollback.steps.findIndex((s) => s.kind === 'packages' && s.changes.some((c) => c.name === 'libjemalloc2'));
      expect(shopfront).toBeLessThan(jemalloc);
      expect((rollback.steps[shopfront] as Extract<RollbackStep, { kind: 'packages' }>).changes).toContainEqual({ action: 'downgrade', name: 'shopfront', architecture: 'amd64', from: '2.0.0', to: '1.8.3' });
      // flags: the irreversible migration (backup and approval), shopfront 1.8.3 only the knowledge base describes
      const ids = rollback.flags.map((f) => f.id);
      expect(ids).toContain('irreversible-migration:shop/0013_split_customer_name');
      expect(ids).toContain('former-version-unavailable:shopfront=1.8.3');
      expect(rollback.forwardSafeguards.map((s) => s.id)).toEqual(expect.arrayContaining(['snapshot', 'backup-database:shop', 'approval:irreversible-migration:shop/0013_split_customer_name', 'keep-deb:shopfront=1.8.3']));
      // in the model: back to the start but for the writes the backup loses, which the flag announced
      const model = rehearseInModel({ rollback, forward, knowledge: facts, check, relations });
      expect(model.silent).toBe(0);
      expect(model.incidents).toEqual([]);
      expect(model.end.packages).toEqual(model.start.packages);
      expect(model.differences).toEqual([{ difference: { kind: 'writes-lost', database: 'shop' }, cause: { kind: 'flagged', flags: ['irreversible-migration:shop/0013_split_customer_name'] } }]);

      if (g.hosts.includes('app-29')) {
        // the agent comes back after libjemalloc2 (which it conflicts with) is gone; nobody holds its .deb
        const reinstall = rollback.steps.findIndex((s) => s.kind === 'packages' && s.changes.some((c) => c.name === 'legacy-shop-agent' && c.action === 'install' && c.to === '0.7-2'));
        expect(reinstall).toBeGreaterThan(jemalloc);
        expect(ids).toContain('former-version-unavailable:legacy-shop-agent=0.7-2');
        expect(rollback.forwardSafeguards).toContainEqual({ kind: 'keep-deb', id: 'keep-deb:legacy-shop-agent=0.7-2', deb: { name: 'legacy-shop-agent', version: '0.7-2', architecture: 'amd64' }, source: 'host' });
      }
    }
    expect(planned).toBe(4);
  });
});
