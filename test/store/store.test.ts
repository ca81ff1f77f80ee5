import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlitePlanStore, openPostgresPlanStore, createMemoryPlanStore } from '../../src/store/index.js';
import type { RollwiseStore } from '../../src/store/index.js';
import { createPostgresCluster, type PostgresCluster } from '../lab/index.js';
import { repoRoot } from '../helpers/cli.js';
import { createSamplePlan } from './sample-plan.js';

let dir: string;
let pg: PostgresCluster | undefined;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-store-'));
  pg = await createPostgresCluster();
});
afterAll(async () => {
  await pg?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

let dbCounter = 0;
const implementations: Array<[string, () => Promise<RollwiseStore>]> = [
  ['memory', async () => createMemoryPlanStore()],
  ['sqlite', async () => openSqlitePlanStore(path.join(dir, `contract-${++dbCounter}.db`))],
  ['postgresql', async () => {
    const name = `rw_contract_${++dbCounter}`;
    await pg!.createDatabase(name);
    return openPostgresPlanStore(pg!.connectionString(name));
  }],
];

describe.each(implementations)('the PlanStore contract: %s', (_name, open) => {
  it('keeps versions, supersedes the parent in the same write, and changes status', async () => {
    const store = await open();
    try {
      const v1 = createSamplePlan('aa11', 1, 10);
      await store.savePlan(v1);
      expect(await store.getPlan('aa11')).toEqual(v1);
      const v2 = createSamplePlan('aa11', 2, 10);
      await store.savePlan(v2, { supersede: { id: 'aa11', version: 1 } });
      expect((await store.getPlan('aa11'))!.version).toBe(2);
      expect((await store.getPlan('aa11', 1))!.status).toBe('superseded');
      await expect(store.savePlan(createSamplePlan('aa11', 2, 1))).rejects.toThrow(/already has version 2/);
      await store.setStatus('aa11', 2, 'approved');
      expect((await store.getPlan('aa11'))!.status).toBe('approved');
      await store.savePlan(createSamplePlan('bb22', 1, 3));
      expect(await store.findPlanIds('a')).toEqual(['aa11']);
      expect(await store.findPlanIds('')).toEqual(['aa11', 'bb22']);
      // listed by creation time, then id, then version
      expect((await store.listPlans()).map((r) => `${r.id} v${r.version} ${r.status} ${r.groups}`)).toEqual(['aa11 v1 superseded 10', 'bb22 v1 ready 3', 'aa11 v2 approved 10']);
      expect(await store.getPlan('cc33')).toBeUndefined();
      await expect(store.setStatus('cc33', 1, 'approved')).rejects.toThrow(/no plan cc33/);
    } finally {
      await store.close();
    }
  });

  it('keeps records about a version in order, by kind, and refuses them for a version it does not have', async () => {
    const store = await open();
    try {
      await store.savePlan(createSamplePlan('ff66', 1, 2));
      await store.addRecord('ff66', 1, { kind: 'impact', createdAt: '2026-12-04T10:00:00.000Z', body: { risk: 0.25, reasons: ['a'] } });
      await store.addRecord('ff66', 1, { kind: 'rehearsal', createdAt: '2026-12-04T10:05:00.000Z', body: { identical: true } });
      await store.addRecord('ff66', 1, { kind: 'rehearsal', createdAt: '2026-12-04T10:09:00.000Z', body: { identical: false } });
      expect((await store.getRecords('ff66', 1)).map((r) => r.kind)).toEqual(['impact', 'rehearsal', 'rehearsal']);
      expect((await store.getRecords('ff66', 1, 'rehearsal')).map((r) => r.body)).toEqual([{ identical: true }, { identical: false }]);
      expect(await store.getRecords('ff66', 1, 'impact')).toEqual([{ kind: 'impact', createdAt: '2026-12-04T10:00:00.000Z', body: { risk: 0.25, reasons: ['a'] } }]);
      expect(await store.getRecords('ff66', 2)).toEqual([]);
      await expect(store.addRecord('ff66', 2, { kind: 'impact', createdAt: '2026-12-04T10:00:00.000Z', body: {} })).rejects.toMatchObject({ code: 'RW_NOT_FOUND' });
    } finally {
      await store.close();
    }
  });

  it('keeps deployment history once per entry, by package, oldest first', async () => {
    const store = await open();
    try {
      expect(await store.getHistory()).toEqual([]);
      const a = { package: 'shopfront', change: 'upgrade' as const, jump: 'major' as const, outcome: 'rolled-back' as const, at: '2026-10-14T09:12:00Z', host: 'app-03' };
      const b = { package: 'libjemalloc2', change: 'install' as const, outcome: 'failed' as const, at: '2026-09-01' };
      expect(await store.addHistory([a, b], 'h.yaml')).toEqual({ added: 2, already: 0 });
      expect(await store.addHistory([a], 'h.yaml')).toEqual({ added: 0, already: 1 });
      expect(await store.getHistory()).toEqual([b, a]);
      expect(await store.getHistory(['shopfront'])).toEqual([a]);
      expect(await store.getHistory([])).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('supersedes a version once: a second resolve of it is refused inside its write and stores nothing', async () => {
    const store = await open();
    try {
      await store.savePlan(createSamplePlan('ee55', 1, 4));
      await store.savePlan(createSamplePlan('ee55', 2, 4), { supersede: { id: 'ee55', version: 1 } });
      // another process made v2 from v1 too, and saves it as v3: v1 is superseded already
      const late = store.savePlan(createSamplePlan('ee55', 3, 4), { supersede: { id: 'ee55', version: 1 } });
      await expect(late).rejects.toMatchObject({ code: 'RW_STORE', message: expect.stringMatching(/^plan ee55 v1 was already superseded by v2\b.*v3 was not stored$/) as unknown });
      expect((await store.listPlans()).filter((p) => p.id === 'ee55').map((p) => `v${p.version} ${p.status}`)).toEqual(['v1 superseded', 'v2 needs-review']);
      await expect(store.savePlan(createSamplePlan('ee55', 3, 4), { supersede: { id: 'ee55', version: 7 } })).rejects.toMatchObject({ code: 'RW_NOT_FOUND' });
      // a superseded version cannot be approved (an approve that read it before the resolve saved)
      await expect(store.setStatus('ee55', 1, 'approved')).rejects.toMatchObject({ code: 'RW_STORE', message: expect.stringMatching(/^plan ee55 v1 was superseded/) as unknown });
      expect((await store.getPlan('ee55', 1))!.status).toBe('superseded');
    } finally {
      await store.close();
    }
  });

  it('reads a plan stored before explanations and resolutions were data (lines and descriptions) in today\'s shape', async () => {
    if (_name === 'memory') return; // the memory store keeps objects, not stored JSON
    const store = await open();
    try {
      const v2 = createSamplePlan('dd44', 2, 4);
      const legacy = JSON.parse(JSON.stringify(v2)) as Record<string, unknown> & { conflicts: Array<Record<string, unknown>>; origin: { choices: Array<Record<string, unknown>> } };
      for (const c of legacy.conflicts) {
        c.explanation = ['the request asks to install nginx', 'so it cannot be satisfied'];
        c.resolutions = (c.resolutions as Array<Record<string, unknown>>).map(({ edit: _e, ...r }) => ({ ...r, description: 'skip install nginx' }));
      }
      legacy.origin.choices = legacy.origin.choices.map(({ edit: _e, ...c }) => ({ ...c, description: 'skip install nginx' }));
      await store.savePlan(legacy as unknown as typeof v2);
      const back = (await store.getPlan('dd44'))!;
      expect(back.conflicts[0]!.explanation).toEqual({ facts: [
        { kind: 'text', key: 'text:0:the request asks to install nginx', text: 'the request asks to install nginx' },
        { kind: 'text', key: 'text:1:so it cannot be satisfied', text: 'so it cannot be satisfied' },
      ], minimal: true });
      expect(back.conflicts[0]!.resolutions[0]!.edit).toEqual({ kind: 'described', description: 'skip install nginx' });
      expect(back.origin.kind === 'resolution' && back.origin.choices[0]!.edit).toEqual({ kind: 'described', description: 'skip install nginx' });
    } finally {
      await store.close();
    }
  });
});

describe('the SQLite store', () => {
  it('creates .rollwise/rollwise.db with WAL and recorded schema migrations', async () => {
    const file = path.join(dir, 'cwd', '.rollwise', 'rollwise.db');
    const store = await openSqlitePlanStore(file);
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect((db.prepare('select name from kysely_migration order by name').all() as Array<{ name: string }>).map((r) => r.name)).toEqual(['0001_plans', '0002_approval', '0003_plan_records', '0004_deployment_history', '0005_deployments']);
    } finally {
      db.close();
    }
    // opening again applies nothing twice
    await (await openSqlitePlanStore(file)).close();
  });

  it('survives a process killed in the middle of writing a plan: each plan is fully there or absent', async () => {
    const file = path.join(dir, 'crash.db');
    const GROUPS = 1000;
    let killedMidWrite = 0;
    for (let round = 0; round < 5; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/store/write-plans-child.ts'), file, `${round}f`, String(GROUPS)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          // kill once the second plan is being written, after a varying delay
          if ((out.match(/^writing /gm) ?? []).length >= 2) resolve();
        });
        child.on('exit', () => reject(new Error(`child exited early: ${out}`)));
      });
      await new Promise((r) => setTimeout(r, 20 + round * 37));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const lines = out.trim().split('\n');
      if (/^writing /.test(lines.at(-1) ?? '')) killedMidWrite++;
      const saved = new Set(lines.filter((l) => l.startsWith('saved ')).map((l) => l.slice(6)));
      const store = await openSqlitePlanStore(file);
      try {
        for (const entry of await store.listPlans()) {
          const p = (await store.getPlan(entry.id))!;
          expect(p.groups).toHaveLength(GROUPS);
          expect(p.groups.at(-1)!.installed).toHaveLength(40);
          expect(p.summary.groups).toBe(GROUPS);
        }
        const present = new Set((await store.listPlans()).map((r) => r.id));
        for (const id of saved) expect(present.has(id)).toBe(true);
        const db = new Database(file, { readonly: true });
        try {
          const orphans = db.prepare('select count(*) as n from plan_groups g where not exists (select 1 from plan_versions v where v.plan_id = g.plan_id and v.version = g.version)').get() as { n: number };
          expect(orphans.n).toBe(0);
        } finally {
          db.close();
        }
      } finally {
        await store.close();
      }
    }
    // the kills did land inside writes (not only between them)
    expect(killedMidWrite).toBeGreaterThan(0);
    expect(existsSync(file)).toBe(true);
  });
});
