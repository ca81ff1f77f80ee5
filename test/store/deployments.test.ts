/**
 * The DeploymentStore contract (src/deploy/store-port.ts), the same suite against the in-memory
 * store, SQLite (a temp file) and a real PostgreSQL (a throwaway cluster): deployments, fenced
 * leases (handed over, expired and taken over, host scopes), the write-ahead journal (seqs,
 * started/ended once, all-or-nothing batches) and operator requests; and read-only opening of a
 * store from before the deployment tables.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryPlanStore, MIGRATIONS, openPostgresPlanStore, openSqlitePlanStore, type RollwiseStore, type StoreMigration } from '../../src/store/index.js';
import type { DeploymentRecord, JournalEntryInput, LeaseAcquisition, LeaseFence } from '../../src/deploy/index.js';
import { createPostgresCluster, type PostgresCluster } from '../lab/index.js';

let dir: string;
let pg: PostgresCluster | undefined;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-deploy-store-'));
  pg = await createPostgresCluster();
});
afterAll(async () => {
  await pg?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
const implementations: Array<[string, () => Promise<RollwiseStore>]> = [
  ['memory', async () => createMemoryPlanStore()],
  ['sqlite', async () => openSqlitePlanStore(path.join(dir, `deployments-${++counter}.db`))],
  ['postgresql', async () => openPostgresPlanStore(pg!.connectionString(await pg!.createDatabase(`rw_deployments_${++counter}`)))],
];

function sampleDeployment(id: string, planId = 'aa11', createdAt = '2026-12-04T10:00:00.000Z'): DeploymentRecord {
  return { id, planId, planVersion: 2, createdAt, createdBy: 'ops@example', status: 'pending', updatedAt: createdAt, spec: { waves: [{ hosts: ['app-01'] }, { percent: 50 }], bakeSeconds: 60 } };
}

function fenceOf(a: LeaseAcquisition): LeaseFence {
  if (a.kind !== 'acquired') throw new Error(`expected the lease, got ${JSON.stringify(a)}`);
  return a.fence;
}

const step = (key: string, phase: JournalEntryInput['phase'], more: Partial<JournalEntryInput> = {}): JournalEntryInput => ({ kind: 'step', key, phase, host: 'app-01', wave: 1, body: { step: key }, ...more });
const MINUTE = 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each(implementations)('the DeploymentStore contract: %s', (_name, open) => {
  let store: RollwiseStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('stores deployments once, finds them by prefix, lists them by creation time (of one plan when asked)', async () => {
    const a = sampleDeployment('d1a1', 'aa11', '2026-12-04T10:00:00.000Z');
    const b = { ...sampleDeployment('d1b2', 'bb22', '2026-12-04T09:00:00.000Z'), statusReason: 'made by a test' };
    await store.createDeployment(a);
    await store.createDeployment(b);
    expect(await store.getDeployment('d1a1')).toEqual(a);
    expect(await store.getDeployment('d1b2')).toEqual(b);
    expect(await store.getDeployment('nope')).toBeUndefined();
    await expect(store.createDeployment({ ...a, planVersion: 9 })).rejects.toMatchObject({ code: 'RW_STORE', message: 'deployment d1a1 already exists; nothing was stored' });
    expect((await store.getDeployment('d1a1'))!.planVersion).toBe(2);
    expect(await store.findDeploymentIds('d1')).toEqual(['d1a1', 'd1b2']);
    expect(await store.findDeploymentIds('d1a')).toEqual(['d1a1']);
    expect(await store.findDeploymentIds('%')).toEqual([]);
    expect(await store.findDeploymentIds('D1')).toEqual([]);
    expect(await store.findDeploymentIds('')).toEqual(expect.arrayContaining(['d1a1', 'd1b2']));
    expect((await store.listDeployments()).filter((d) => d.id.startsWith('d1'))).toEqual([
      { id: 'd1b2', planId: 'bb22', planVersion: 2, createdAt: '2026-12-04T09:00:00.000Z', status: 'pending' },
      { id: 'd1a1', planId: 'aa11', planVersion: 2, createdAt: '2026-12-04T10:00:00.000Z', status: 'pending' },
    ]);
    expect((await store.listDeployments('bb22')).map((d) => d.id)).toEqual(['d1b2']);
    await expect(store.acquireLease('nope', 'c1', MINUTE)).rejects.toMatchObject({ code: 'RW_NOT_FOUND', message: 'no deployment nope' });
    await expect(store.appendJournal('nope', [step('k', 'event')], { holder: 'c1', token: 1 })).rejects.toMatchObject({ code: 'RW_NOT_FOUND' });
    await expect(store.requestControl('nope', 'pause', 'ops')).rejects.toMatchObject({ code: 'RW_NOT_FOUND' });
  });

  it('hands the lease to one holder at a time; the token grows when it changes hands and fences every write', async () => {
    await store.createDeployment(sampleDeployment('d2'));
    const first = await store.acquireLease('d2', 'ctl-a', MINUTE);
    const a = fenceOf(first);
    expect(a).toEqual({ holder: 'ctl-a', token: 1 });
    // another controller is told who holds it and until when
    const refused = await store.acquireLease('d2', 'ctl-b', MINUTE);
    expect(refused).toEqual({ kind: 'held', holder: 'ctl-a', expiresAt: first.expiresAt });
    // the holder acquiring again renews: same token
    expect(fenceOf(await store.acquireLease('d2', 'ctl-a', MINUTE))).toEqual(a);
    expect(await store.renewLease('d2', a, MINUTE)).toBe(true);
    await store.setDeploymentStatus('d2', 'running', a);
    await store.appendJournal('d2', [step('w1/app-01/forward/1', 'started')], a);
    // handed over: released by a, taken by b with token 2
    await store.releaseLease('d2', a);
    const b = fenceOf(await store.acquireLease('d2', 'ctl-b', MINUTE));
    expect(b).toEqual({ holder: 'ctl-b', token: 2 });
    // a's writes are refused now, and change nothing
    const bUntil = await leaseEnd(store, 'd2');
    await expect(store.appendJournal('d2', [step('w1/app-01/forward/1', 'ended', { outcome: 'succeeded' })], a)).rejects.toMatchObject({
      code: 'RW_LEASE',
      message: 'appending 1 journal entry of deployment d2 was refused: the deployment lease is not held by ctl-a with token 1; ctl-b holds it (token 2, until ' + bUntil + ')',
    });
    await expect(store.setDeploymentStatus('d2', 'succeeded', a)).rejects.toMatchObject({ code: 'RW_LEASE' });
    await expect(store.clearControl('d2', a)).rejects.toMatchObject({ code: 'RW_LEASE' });
    expect(await store.renewLease('d2', a, MINUTE)).toBe(false);
    await store.releaseLease('d2', a); // not a's to release: nothing happens
    expect(await store.acquireLease('d2', 'ctl-a', MINUTE)).toMatchObject({ kind: 'held', holder: 'ctl-b' });
    expect((await store.getDeployment('d2'))!.status).toBe('running');
    expect((await store.readJournal('d2')).map((e) => `${e.seq} ${e.phase} ${e.key}`)).toEqual(['1 started w1/app-01/forward/1']);
    // b writes; a fence with b's holder but a made-up token does not
    await store.appendJournal('d2', [step('w1/app-01/forward/1', 'ended', { outcome: 'succeeded' })], b);
    await expect(store.appendJournal('d2', [step('x', 'event')], { holder: 'ctl-b', token: 3 })).rejects.toMatchObject({ code: 'RW_LEASE' });
    await store.setDeploymentStatus('d2', 'paused', b, 'inconclusive verdict on wave 1');
    const d = (await store.getDeployment('d2'))!;
    expect(d).toMatchObject({ status: 'paused', statusReason: 'inconclusive verdict on wave 1' });
    expect(d.updatedAt >= d.createdAt).toBe(true);
    await store.setDeploymentStatus('d2', 'running', b);
    expect((await store.getDeployment('d2'))!.statusReason).toBeUndefined();
    // released, it is free; the same holder taking it again starts a new tenure (token 3)
    await store.releaseLease('d2', b);
    await expect(store.appendJournal('d2', [step('y', 'event')], b)).rejects.toMatchObject({ code: 'RW_LEASE', message: expect.stringMatching(/it was released \(token 2\)$/) as unknown });
    expect(fenceOf(await store.acquireLease('d2', 'ctl-b', MINUTE))).toEqual({ holder: 'ctl-b', token: 3 });
    await expect(store.setDeploymentStatus('d2', 'done' as never, { holder: 'ctl-b', token: 3 })).rejects.toMatchObject({ code: 'RW_USAGE' });
    await expect(store.acquireLease('d2', 'ctl-b', 0)).rejects.toMatchObject({ code: 'RW_USAGE' });
  });

  it('lets another holder take an expired lease over; the former holder\'s writes are then refused', async () => {
    await store.createDeployment(sampleDeployment('d3'));
    const a = fenceOf(await store.acquireLease('d3', 'ctl-a', 1));
    // expired, but nobody took it: the token still proves that no one else wrote
    await sleep(30);
    await store.appendJournal('d3', [step('s1', 'started')], a);
    const taken = await store.acquireLease('d3', 'ctl-b', MINUTE);
    const b = fenceOf(taken);
    expect(b).toEqual({ holder: 'ctl-b', token: 2 });
    expect(taken.expiresAt > new Date(Date.now() - MINUTE).toISOString()).toBe(true);
    await expect(store.appendJournal('d3', [step('s1', 'ended', { outcome: 'succeeded' })], a)).rejects.toMatchObject({ code: 'RW_LEASE', message: expect.stringContaining('ctl-b holds it (token 2') as unknown });
    expect(await store.renewLease('d3', a, MINUTE)).toBe(false);
    // the holder of an expired lease that acquires it again gets a new token: its old fence is dead
    const c = fenceOf(await store.acquireLease('d3', 'ctl-c', 1, 'host:app-02'));
    await sleep(30);
    const c2 = fenceOf(await store.acquireLease('d3', 'ctl-c', MINUTE, 'host:app-02'));
    expect([c.token, c2.token]).toEqual([1, 2]);
    await expect(store.appendJournal('d3', [step('h', 'event')], c, 'host:app-02')).rejects.toMatchObject({ code: 'RW_LEASE' });
    await store.appendJournal('d3', [step('s1', 'ended', { outcome: 'unknown' })], b);
    expect((await store.readJournal('d3')).map((e) => `${e.seq} ${e.phase} ${e.key} ${e.outcome ?? ''}`)).toEqual(['1 started s1 ', '2 ended s1 unknown']);
  });

  it('journals in order with seqs and times from the store; started and ended once per key, events as often as they come', async () => {
    await store.createDeployment(sampleDeployment('d4'));
    const f = fenceOf(await store.acquireLease('d4', 'ctl', MINUTE));
    const before = new Date(Date.now() - MINUTE).toISOString();
    const stored = await store.appendJournal('d4', [
      { kind: 'wave', key: 'w1', phase: 'started', wave: 1, body: { hosts: ['app-01', 'app-02'] } },
      step('w1/app-01/forward/1', 'started', { body: { change: { package: 'nginx', from: '1.22', to: '1.24' }, nested: [1, [2, null], 'ü'] } }),
    ], f);
    expect(stored.map((e) => e.seq)).toEqual([1, 2]);
    expect(stored[0]).toEqual({ deployment: 'd4', seq: 1, at: stored[0]!.at, kind: 'wave', key: 'w1', phase: 'started', wave: 1, body: { hosts: ['app-01', 'app-02'] } });
    expect(stored[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(stored[0]!.at > before).toBe(true);
    await store.appendJournal('d4', [
      { kind: 'verdict', key: 'w1/latency', phase: 'event', body: { p: 0.2 } },
      { kind: 'verdict', key: 'w1/latency', phase: 'event', body: { p: 0.01 } },
      step('w1/app-01/forward/1', 'ended', { outcome: 'succeeded', body: undefined }),
      step('w1/app-02/forward/1', 'started', { host: 'app-02' }),
    ], f);
    const all = await store.readJournal('d4');
    expect(all).toEqual([...stored, ...all.slice(2)]);
    expect(all.map((e) => `${e.seq} ${e.kind} ${e.phase} ${e.key}`)).toEqual([
      '1 wave started w1', '2 step started w1/app-01/forward/1', '3 verdict event w1/latency', '4 verdict event w1/latency', '5 step ended w1/app-01/forward/1', '6 step started w1/app-02/forward/1',
    ]);
    expect(all[4]).toMatchObject({ outcome: 'succeeded', body: null, host: 'app-01' });
    expect(all.every((e, i) => i === 0 || e.at >= all[i - 1]!.at)).toBe(true);
    expect((await store.readJournal('d4', { afterSeq: 4 })).map((e) => e.seq)).toEqual([5, 6]);
    expect((await store.readJournal('d4', { host: 'app-02' })).map((e) => e.seq)).toEqual([6]);
    expect((await store.readJournal('d4', { host: 'app-01', afterSeq: 2 })).map((e) => e.seq)).toEqual([5]);
    expect(await store.readJournal('nope')).toEqual([]);
    // a second started (or ended) for a key is refused with what is there
    await expect(store.appendJournal('d4', [step('w1/app-01/forward/1', 'started')], f)).rejects.toMatchObject({
      code: 'RW_STORE',
      message: "deployment d4: the journal has a 'started' entry for w1/app-01/forward/1 already (seq 2); a key is started once, so none of the 1 entries were stored",
    });
    await expect(store.appendJournal('d4', [step('w1/app-01/forward/1', 'ended', { outcome: 'failed' })], f)).rejects.toMatchObject({ code: 'RW_STORE', message: expect.stringContaining("'ended' entry for w1/app-01/forward/1 already (seq 5)") as unknown });
    expect(await store.appendJournal('d4', [], f)).toEqual([]);
  });

  it('appends a batch all or nothing: one refused entry stores none of it and uses no seq', async () => {
    await store.createDeployment(sampleDeployment('d5'));
    const f = fenceOf(await store.acquireLease('d5', 'ctl', MINUTE));
    await store.appendJournal('d5', [step('a', 'started')], f);
    // the duplicate comes last: the entries before it must not remain
    await expect(store.appendJournal('d5', [step('b', 'started'), step('a', 'ended', { outcome: 'succeeded' }), step('c', 'event'), step('a', 'started')], f)).rejects.toMatchObject({ code: 'RW_STORE', message: expect.stringContaining('none of the 4 entries were stored') as unknown });
    // the same key twice in one batch
    await expect(store.appendJournal('d5', [step('d', 'started'), step('d', 'started')], f)).rejects.toMatchObject({ code: 'RW_STORE', message: expect.stringContaining("'started' entry for d twice in this batch") as unknown });
    // an entry of an unknown kind
    await expect(store.appendJournal('d5', [step('e', 'started'), { ...step('f', 'event'), kind: 'reboot' as never }], f)).rejects.toMatchObject({ code: 'RW_STORE', message: expect.stringMatching(/^journal entry 2 of 2 for deployment d5 has kind 'reboot'/) as unknown });
    // a stale fence, after the lease changed hands, with a valid batch
    await store.releaseLease('d5', f);
    const g = fenceOf(await store.acquireLease('d5', 'ctl-2', MINUTE));
    await expect(store.appendJournal('d5', [step('b', 'started')], f)).rejects.toMatchObject({ code: 'RW_LEASE' });
    expect((await store.readJournal('d5')).map((e) => `${e.seq} ${e.phase} ${e.key}`)).toEqual(['1 started a']);
    // nothing refused used a seq
    expect((await store.appendJournal('d5', [step('b', 'started'), step('a', 'ended', { outcome: 'succeeded' })], g)).map((e) => e.seq)).toEqual([2, 3]);
  });

  it('fences host work by host-scoped leases, sharing the deployment\'s seqs', async () => {
    await store.createDeployment(sampleDeployment('d6'));
    const ctl = fenceOf(await store.acquireLease('d6', 'ctl', MINUTE));
    const w1 = fenceOf(await store.acquireLease('d6', 'worker-1', MINUTE, 'host:app-01'));
    const w2 = fenceOf(await store.acquireLease('d6', 'worker-2', MINUTE, 'host:app-02'));
    // the scopes are independent: each starts at token 1
    expect([ctl.token, w1.token, w2.token]).toEqual([1, 1, 1]);
    expect(await store.acquireLease('d6', 'worker-2', MINUTE, 'host:app-01')).toMatchObject({ kind: 'held', holder: 'worker-1' });
    await store.appendJournal('d6', [{ kind: 'wave', key: 'w1', phase: 'started', wave: 1, body: {} }], ctl);
    await store.appendJournal('d6', [step('w1/app-01/forward/1', 'started')], w1, 'host:app-01');
    await store.appendJournal('d6', [step('w1/app-02/forward/1', 'started', { host: 'app-02' })], w2, 'host:app-02');
    // a fence is good for its own scope only
    await expect(store.appendJournal('d6', [step('x', 'event')], w1, 'host:app-02')).rejects.toMatchObject({ code: 'RW_LEASE', message: expect.stringContaining('the host:app-02 lease is not held by worker-1') as unknown });
    await expect(store.appendJournal('d6', [step('x', 'event')], w1)).rejects.toMatchObject({ code: 'RW_LEASE' });
    await expect(store.appendJournal('d6', [step('x', 'event')], ctl, 'host:app-03')).rejects.toMatchObject({ code: 'RW_LEASE', message: expect.stringMatching(/it was never acquired$/) as unknown });
    // started/ended once per key holds across scopes
    await expect(store.appendJournal('d6', [step('w1/app-01/forward/1', 'started')], ctl)).rejects.toMatchObject({ code: 'RW_STORE' });
    expect((await store.readJournal('d6')).map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('keeps one pending operator request: abort is not replaced by pause; the controller clears what it read', async () => {
    await store.createDeployment(sampleDeployment('d7'));
    const f = fenceOf(await store.acquireLease('d7', 'ctl', MINUTE));
    expect(await store.readControl('d7')).toBeUndefined();
    await store.requestControl('d7', 'pause', 'alice');
    const pause = (await store.readControl('d7'))!;
    expect(pause).toMatchObject({ action: 'pause', by: 'alice' });
    expect(pause.at).toMatch(/Z$/);
    // an abort arrives after the controller read the pause: clearing what it read keeps the abort
    await store.requestControl('d7', 'abort', 'bob');
    await store.clearControl('d7', f, pause);
    expect(await store.readControl('d7')).toMatchObject({ action: 'abort', by: 'bob' });
    await store.requestControl('d7', 'pause', 'carol');
    const abort = (await store.readControl('d7'))!;
    expect(abort).toMatchObject({ action: 'abort', by: 'bob' });
    await expect(store.clearControl('d7', { holder: 'someone', token: 1 })).rejects.toMatchObject({ code: 'RW_LEASE' });
    await store.clearControl('d7', f, abort);
    expect(await store.readControl('d7')).toBeUndefined();
    await store.requestControl('d7', 'pause', 'dave');
    await store.clearControl('d7', f);
    expect(await store.readControl('d7')).toBeUndefined();
  });
});

/** When the deployment lease of `id` ends, as the store says to someone refused it. */
async function leaseEnd(store: RollwiseStore, id: string): Promise<string> {
  const r = await store.acquireLease(id, 'probe', MINUTE);
  if (r.kind !== 'held') throw new Error('the lease should be held');
  return r.expiresAt;
}

describe('a store from before the deployment tables (migration 0005)', () => {
  const before0005: Record<string, StoreMigration> = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < '0005'));

  const check = async (openOld: () => Promise<RollwiseStore>, openRead: () => Promise<RollwiseStore>, openWrite: () => Promise<RollwiseStore>): Promise<void> => {
    await (await openOld()).close();
    // read-only commands read it as it is: no deployments
    const ro = await openRead();
    try {
      expect(await ro.listDeployments()).toEqual([]);
      expect(await ro.findDeploymentIds('')).toEqual([]);
      expect(await ro.getDeployment('d1')).toBeUndefined();
      expect(await ro.readJournal('d1')).toEqual([]);
      expect(await ro.readControl('d1')).toBeUndefined();
      await expect(ro.createDeployment(sampleDeployment('d1'))).rejects.toMatchObject({ code: 'RW_STORE', message: expect.stringMatching(/was opened read-only$/) as unknown });
      await expect(ro.acquireLease('d1', 'ctl', MINUTE)).rejects.toMatchObject({ code: 'RW_STORE' });
    } finally {
      await ro.close();
    }
    // a writer upgrades it
    const rw = await openWrite();
    try {
      await rw.createDeployment(sampleDeployment('d1'));
      expect(fenceOf(await rw.acquireLease('d1', 'ctl', MINUTE)).token).toBe(1);
    } finally {
      await rw.close();
    }
    const ro2 = await openRead();
    try {
      expect((await ro2.listDeployments()).map((d) => d.id)).toEqual(['d1']);
    } finally {
      await ro2.close();
    }
  };

  it('SQLite: read-only opening reads it (no deployments) and refuses writes; a writer upgrades it', async () => {
    const file = path.join(dir, 'before-0005.db');
    await check(() => openSqlitePlanStore(file, { migrations: before0005 }), () => openSqlitePlanStore(file, { access: 'read' }), () => openSqlitePlanStore(file));
  });

  it('PostgreSQL: the same', async () => {
    const url = pg!.connectionString(await pg!.createDatabase('rw_before_0005'));
    await check(() => openPostgresPlanStore(url, { migrations: before0005 }), () => openPostgresPlanStore(url, { access: 'read' }), () => openPostgresPlanStore(url));
  });
});
