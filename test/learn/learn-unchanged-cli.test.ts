// Issue 11 through `rollwise learn` on a real SQLite store: a deployment whose hosts were re-solved
// to no change (they already had what the plan installs) and that a failed alerts check rolled
// back. It used to exit 1 with a raw TypeError; now it prints that the failing hosts had no change
// from this deployment, exits 0, records no history and writes no learned fact. A journal the
// analysis cannot read is an RW_LEARN error with a hint, not a stack trace.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/app/index.js';
import type { HistoryStore } from '../../src/analysis/index.js';
import type { DeploymentStore, JournalEntryInput } from '../../src/deploy/index.js';
import type { PlanStore } from '../../src/planner/index.js';
import { createSamplePlan } from '../store/sample-plan.js';
import { runCliInProcess } from '../app/cli-in-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rw-learn-unchanged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rollwise learn on a deployment that changed nothing', () => {
  it('says the fault is not its doing, exits 0, records nothing', async () => {
    const db = path.join(dir, 'rollwise.db');
    const kb = path.join(dir, 'kb');
    mkdirSync(kb);
    writeFileSync(path.join(kb, 'org.yaml'), ['apiVersion: rollwise/v1', 'kind: KnowledgeBase', 'layer:', '  name: org', '  precedence: 50', '  trust: organisation', ''].join('\n'));
    const plan = createSamplePlan('f00d', 1, 1);
    plan.status = 'approved';
    const index = path.join(dir, 'Packages');
    writeFileSync(index, 'Package: nginx\nVersion: 1.22.1-9\nArchitecture: amd64\n\n');
    plan.inputs = { ...plan.inputs, kb: [kb], indexes: [index], inventories: [] };
    const group = plan.groups[0]!;
    const [h1, h2] = group.hosts as [string, string];
    const store = (await openStore(db)) as unknown as PlanStore & DeploymentStore & HistoryStore & { close(): Promise<void> };
    try {
      await store.savePlan(plan);
      const at = '2026-12-04T12:00:00.000Z';
      const spec = { plan: { id: plan.id, version: 1 }, layout: { waves: [{ number: 1, hosts: [{ host: h1, group: group.key }, { host: h2, group: group.key }] }] } };
      await store.createDeployment({ id: 'beef0011', planId: plan.id, planVersion: 1, createdAt: at, createdBy: 'tester', status: 'pending', updatedAt: at, spec });
      const lease = await store.acquireLease('beef0011', 'test', 60_000);
      if (lease.kind !== 'acquired') throw new Error('lease not acquired');
      const entries: JournalEntryInput[] = [];
      for (const host of [h1, h2]) {
        entries.push(
          { kind: 'decision', key: `d/${host}`, phase: 'event', host, wave: 1, body: { decision: 're-solve', reason: `${host} drifted; re-solved: the host already has what the plan installs`, wave: 1, hosts: [host], evidence: { drift: [], changes: [] } } },
          { kind: 'host', key: `h/${host}/resolved`, phase: 'event', host, wave: 1, body: { state: 'resolved', changes: [] } },
          { kind: 'host', key: `h/${host}/healthy`, phase: 'event', host, wave: 1, body: { state: 'healthy' } },
        );
      }
      entries.push({
        kind: 'verdict', key: 'w1/verdict', phase: 'event', wave: 1,
        body: { verdict: 'failed', changedHosts: [h1, h2], controlHosts: [], evidence: [{ kind: 'check', check: 'shop/alerts', status: 'failed', hosts: [h1, h2], changed: [{ host: h1, values: [1] }, { host: h2, values: [1] }] }] },
      });
      await store.appendJournal('beef0011', entries, lease.fence);
      await store.setDeploymentStatus('beef0011', 'rolled-back', lease.fence, 'wave 1: the judge\'s verdict is failed');
      await store.releaseLease('beef0011', lease.fence);
    } finally {
      await store.close();
    }

    const learned = path.join(dir, 'learned.yaml');
    const r = await runCliInProcess(['learn', 'beef0011', '--store', db, '--write', learned]);
    expect(r.stderr).not.toContain('TypeError');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`the failing host(s) ${h1}, ${h2} had no change from this deployment`);
    expect(r.stdout).toContain('the fault is not its doing');
    expect(r.stdout).toContain(`failed with no change from this deployment (already had what the plan installs): ${h1}, ${h2}`);
    expect(r.stdout).toContain('History: 0 entries for this deployment (0 added, 0 already there); 2 host(s) it did not change are no outcome of a change and are not recorded.');
    expect(existsSync(learned)).toBe(false);
    const again = (await openStore(db, { create: false })) as unknown as HistoryStore & DeploymentStore & { close(): Promise<void> };
    try {
      expect(await again.getHistory()).toEqual([]);
      // a journal the analysis cannot read (a verdict whose evidence is no list): RW_LEARN with a hint, not a stack trace
      const at = '2026-12-04T13:00:00.000Z';
      const d = await again.getDeployment('beef0011');
      await again.createDeployment({ ...d!, id: 'beef0022', createdAt: at, updatedAt: at, status: 'pending' });
      const lease = await again.acquireLease('beef0022', 'test', 60_000);
      if (lease.kind !== 'acquired') throw new Error('lease not acquired');
      await again.appendJournal('beef0022', [{ kind: 'verdict', key: 'w1/verdict', phase: 'event', wave: 1, body: { verdict: 'failed', evidence: 42 } }], lease.fence);
      await again.setDeploymentStatus('beef0022', 'rolled-back', lease.fence, 'test');
      await again.releaseLease('beef0022', lease.fence);
    } finally {
      await again.close();
    }
    const bad = await runCliInProcess(['learn', 'beef0022', '--store', db]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^rollwise: RW_LEARN: the analysis of deployment beef0022 failed: .+ \(hint: nothing was recorded and the deployment is as it was; rollwise deploy log beef0022 /m);
    expect(bad.stderr).not.toContain('internal error');
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });
});
