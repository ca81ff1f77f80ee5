/**
 * One store, many processes (not threads): every outcome is a stored plan or a clear RollwiseError,
 * never an uncaught error or a lost plan, on SQLite and on PostgreSQL.
 *
 * Each round, every child process at once (the parent starts the round in all of them and waits
 * for all): opens a fresh store (so all of them race to run the first migration), saves a plan
 * there; saves its own plan to the shared store; tries to create the round's shared plan (one
 * wins, the others are told it exists); then, in a second step, all try to resolve that shared
 * plan's v1 into v2 (exactly one wins, the others get RW_STORE "already superseded") and list the
 * store read-only. At the end every plan any child reported saved is in the store, whole.
 * The same races through the real CLI: `rollwise plan` runs on a fresh store, two `plan resolve`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, openPostgresPlanStore, openSqlitePlanStore } from '../../src/store/index.js';
import type { PlanStore } from '../../src/planner/index.js';
import { createPostgresCluster, type PostgresCluster } from '../lab/index.js';
import { CLI_ENTRY, repoRoot, type CliResult } from '../helpers/cli.js';
import { createWorld, type World } from '../planner/fixture.js';

/** Processes × rounds: at least 8 processes on one store for at least 50 rounds, on each back end. */
const PROCESSES = 8;
const ROUNDS = 50;
/** Host groups per plan: enough that a write holds the lock for a while (contention). */
const GROUPS = 30;

type Outcome = 'ok' | { code: string; message: string } | { uncaught: string };
interface CreateReply { op: 'create'; round: number; fresh: Outcome; own: Outcome; shared: Outcome }
interface ResolveReply { op: 'resolve'; round: number; resolve: Outcome; read: Outcome; listed: string[] }

/** A long-lived child process (test/store/write-plans-child.ts --serve) driven one command at a time. */
class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  private waiting: Array<{ resolve: (line: string) => void; reject: (e: Error) => void }> = [];
  private stderr = '';
  private exited = false;

  constructor(readonly name: string) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/store/write-plans-child.ts'), '--serve', name, String(GROUPS)], { cwd: repoRoot });
    readline.createInterface({ input: this.proc.stdout }).on('line', (line) => this.waiting.shift()?.resolve(line));
    this.proc.stderr.on('data', (b: Buffer) => (this.stderr += b.toString()));
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      for (const w of this.waiting.splice(0)) w.reject(new Error(`child ${name} exited (${code ?? signal}): ${this.stderr.slice(-2000)}`));
    });
  }

  request<T>(cmd: object): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`child ${this.name} is gone: ${this.stderr.slice(-2000)}`));
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ resolve: (line) => resolve(JSON.parse(line) as T), reject });
      this.proc.stdin.write(JSON.stringify(cmd) + '\n');
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.proc.once('exit', r));
    this.proc.stdin.end(JSON.stringify({ op: 'exit' }) + '\n');
    await gone;
  }
}

function uncaught(outcomes: Outcome[]): string[] {
  return outcomes.flatMap((o) => (typeof o === 'object' && 'uncaught' in o ? [o.uncaught] : []));
}

function describeOutcomes(outcomes: Outcome[]): string {
  return outcomes.map((o) => (o === 'ok' ? 'ok' : 'code' in o ? `${o.code}: ${o.message}` : `UNCAUGHT ${o.uncaught}`)).join('\n');
}

/**
 * Runs the rounds on `store` with PROCESSES children (`freshStore(r)` names round r's fresh
 * store, if it has one), then checks that every plan reported saved is in `store` (read
 * through `open`) and each fresh store holds every child's plan.
 */
async function runRounds(children: Child[], store: string, freshStore: (round: number) => Promise<string | undefined>, open: (s: string) => Promise<PlanStore>): Promise<void> {
  const expected: string[] = [];
  const fresh: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const f = await freshStore(round);
    if (f) fresh.push(f);
    const created = await Promise.all(children.map((c) => c.request<CreateReply>({ op: 'create', round, store, fresh: f })));
    const all = created.flatMap((r) => [r.fresh, r.own, r.shared]);
    expect(uncaught(all), `round ${round}`).toEqual([]);
    // every child's own plans are stored (contention is waited out, not reported)
    expect(created.map((r) => [r.fresh, r.own]).flat(), `round ${round}:\n${describeOutcomes(all)}`).toEqual(Array(2 * PROCESSES).fill('ok'));
    // exactly one child creates the shared plan; the others are told it is there
    const sharedWon = created.filter((r) => r.shared === 'ok');
    expect(sharedWon, `round ${round}:\n${describeOutcomes(created.map((r) => r.shared))}`).toHaveLength(1);
    for (const r of created) if (r.shared !== 'ok') expect(r.shared).toMatchObject({ code: 'RW_STORE', message: `plan s${round} already has version 1` });
    for (const c of children) expected.push(`${c.name}-${round} v1`);
    expected.push(`s${round} v1`);

    const resolved = await Promise.all(children.map((c) => c.request<ResolveReply>({ op: 'resolve', round, store })));
    expect(uncaught(resolved.flatMap((r) => [r.resolve, r.read])), `round ${round}`).toEqual([]);
    const won = resolved.filter((r) => r.resolve === 'ok');
    expect(won, `round ${round}:\n${describeOutcomes(resolved.map((r) => r.resolve))}`).toHaveLength(1);
    for (const r of resolved) {
      if (r.resolve !== 'ok') expect(r.resolve).toMatchObject({ code: 'RW_STORE', message: expect.stringMatching(new RegExp(`^plan s${round} v1 was already superseded by v2 .*; v2 was not stored$`)) as unknown });
      expect(r.read).toBe('ok');
    }
    expected.push(`s${round} v2`);
    // read-only beside the writers, each child sees every plan saved so far (v2 included: it
    // either stored it or was refused because it was there)
    for (const r of resolved) expect(r.listed).toEqual(expect.arrayContaining(expected));
  }
  // no lost plan: everything reported saved is there, whole; the superseded versions are marked
  const s = await open(store);
  try {
    const listed = (await s.listPlans()).map((p) => `${p.id} v${p.version}`);
    expect(listed.sort()).toEqual([...expected].sort());
    for (const entry of await s.listPlans()) {
      const p = (await s.getPlan(entry.id, entry.version))!;
      expect(p.groups).toHaveLength(GROUPS);
      if (entry.id.startsWith('s')) expect(p.status).toBe(entry.version === 1 ? 'superseded' : 'needs-review');
    }
  } finally {
    await s.close();
  }
  // each fresh store holds the plans of every child that used it
  const uses = new Map<string, number>();
  for (const f of fresh) uses.set(f, (uses.get(f) ?? 0) + 1);
  for (const [f, n] of uses) {
    const s2 = await open(f);
    try {
      expect((await s2.listPlans()).length).toBe(n * PROCESSES);
    } finally {
      await s2.close();
    }
  }
}

let dir: string;
let pgCluster: PostgresCluster | undefined;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-conc-'));
  pgCluster = await createPostgresCluster();
});
afterAll(async () => {
  await pgCluster?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe(`one store, ${PROCESSES} processes, ${ROUNDS} rounds`, () => {
  // the same processes serve both back ends (starting them is most of a short run's time)
  let children: Child[] = [];
  beforeAll(() => {
    children = Array.from({ length: PROCESSES }, (_, i) => new Child(`c${i}`));
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
  });

  it('SQLite: no lost plan, no uncaught error; one winner per race; fresh stores migrated once', { timeout: 600_000 }, async () => {
    const started = Date.now();
    const store = path.join(dir, 'shared.db');
    await runRounds(children, store, async (r) => path.join(dir, `fresh-${r}.db`), (s) => openSqlitePlanStore(s, { access: 'read' }));
    // each migration ran once in each fresh store, which is in WAL mode
    for (let r = 0; r < ROUNDS; r++) {
      const db = new Database(path.join(dir, `fresh-${r}.db`), { readonly: true });
      try {
        expect(db.prepare('select name from kysely_migration order by name').all()).toEqual(Object.keys(MIGRATIONS).sort().map((name) => ({ name })));
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      } finally {
        db.close();
      }
    }
    console.info(`SQLite: ${PROCESSES} processes × ${ROUNDS} rounds in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it('PostgreSQL: no lost plan, no uncaught error; one winner per race; fresh databases migrated once', { timeout: 600_000 }, async () => {
    const started = Date.now();
    await pgCluster!.createDatabase('rw_conc_shared');
    // a fresh database every 5th round (creating one takes a while): 10 first-migration races
    await runRounds(children, pgCluster!.connectionString('rw_conc_shared'), async (r) => (r % 5 === 0 ? pgCluster!.connectionString(await pgCluster!.createDatabase(`rw_conc_fresh_${r}`)) : undefined), (s) => openPostgresPlanStore(s, { access: 'read' }));
    // each migration ran once in each fresh database
    for (let r = 0; r < ROUNDS; r += 5) {
      const client = new pg.Client({ connectionString: pgCluster!.connectionString(`rw_conc_fresh_${r}`) });
      await client.connect();
      try {
        expect((await client.query('select name from kysely_migration order by name')).rows).toEqual(Object.keys(MIGRATIONS).sort().map((name) => ({ name })));
      } finally {
        await client.end();
      }
    }
    console.info(`PostgreSQL: ${PROCESSES} processes × ${ROUNDS} rounds in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});

/** The shipped CLI (bin/rollwise.js) in a child process, without blocking the test process (so runs overlap). */
function runCliAsync(args: string[], onStart?: (pid: number) => void): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ROLLWISE_DIST_CHECKED: '1' } });
    if (child.pid) onStart?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

describe('the same races through the CLI', () => {
  let world: World;
  beforeAll(() => {
    world = createWorld();
  });
  afterAll(() => world?.cleanup());

  it('concurrent `rollwise plan` runs on a fresh store each store their plan', { timeout: 300_000 }, async () => {
    for (let round = 0; round < 2; round++) {
      const store = path.join(world.dir, `fresh-${round}`, 'rollwise.db');
      const runs = await Promise.all(Array.from({ length: 4 }, () => runCliAsync(['plan', '--kb', world.kb, '--index', world.index, '--inventory', world.inventory, '--store', store, '--install', 'helper'])));
      for (const r of runs) {
        expect(r.stderr, r.stderr).toBe('');
        expect(r.status).toBe(0);
      }
      const ids = runs.map((r) => /^Plan ([0-9a-f]{8}) version 1/m.exec(r.stdout)![1]!);
      const list = await runCliAsync(['plan', 'list', '--store', store]);
      expect(list.status, list.stderr).toBe(0);
      for (const id of ids) expect(list.stdout).toMatch(new RegExp(`^${id} v1 `, 'm'));
    }
  });

  it('two concurrent `plan resolve` of the same version: exactly one wins, the other gets a clear RW_ error and stores nothing', { timeout: 300_000 }, async () => {
    const store = path.join(world.dir, 'resolve', 'rollwise.db');
    for (let round = 0; round < 2; round++) {
      const created = await runCliAsync(['plan', '--kb', world.kb, '--index', world.index, '--inventory', world.inventory, '--store', store, '--install', 'app-a=2.0-1']);
      expect(created.status, created.stderr).toBe(1); // stored, with conflicts to review
      const id = /^Plan ([0-9a-f]{8}) version 1/m.exec(created.stdout)![1]!;
      // In round 0 this test holds the write lock until both runs have read v1 and wait to write
      // (longer than the old 5 s timeout, which gave an uncaught "database is locked"): the
      // loser must find v1 superseded inside its write. In round 1 they simply run side by side.
      const holder = round === 0 ? new Database(store) : undefined;
      holder?.exec('begin immediate');
      const pids: number[] = [];
      const runs = Promise.all([
        runCliAsync(['plan', 'resolve', `${id}@1`, '--choose', 'c2=r1', '--store', store], (pid) => pids.push(pid)),
        runCliAsync(['plan', 'resolve', `${id}@1`, '--choose', 'c1=r1', '--store', store], (pid) => pids.push(pid)),
      ]);
      if (holder) {
        // SQLite's busy handler sleeps between attempts: both runs are waiting for the lock
        // (having read v1 and solved) when both sleep there
        const sleeping = (pid: number): boolean => {
          try {
            return readFileSync(`/proc/${pid}/wchan`, 'utf8').includes('nanosleep');
          } catch {
            return false;
          }
        };
        const deadline = Date.now() + 90_000;
        let ended = false;
        void runs.then(() => (ended = true));
        while (!pids.every(sleeping) && !ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        const bothWaiting = pids.every(sleeping);
        holder.exec('rollback');
        holder.close();
        expect(bothWaiting, 'both resolve runs should be waiting for the write lock').toBe(true);
      }
      const results = await runs;
      // a winner stores v2 (exit 1: the other conflict remains to review); the loser is refused (exit 2)
      const won = results.filter((r) => r.status === 1 && /Plan [0-9a-f]{8} version 2/.test(r.stdout));
      const lost = results.filter((r) => r.status === 2);
      expect(won, results.map((r) => r.stderr).join('\n')).toHaveLength(1);
      expect(lost[0]!.status).toBe(2);
      // overlapping runs: refused inside the write; a run that started after the other saved: refused when it reads v1
      const inWrite = new RegExp(`^rollwise: RW_STORE: plan ${id} v1 was already superseded by v2 \\(another resolve or review saved first\\); v2 was not stored \\(hint: rollwise plan show ${id} shows v2`, 'm');
      const atRead = new RegExp(`^rollwise: RW_USAGE: plan ${id} v1 is superseded`, 'm');
      if (round === 0) expect(lost[0]!.stderr).toMatch(inWrite);
      else expect(lost[0]!.stderr).toMatch(new RegExp(`${inWrite.source}|${atRead.source}`, 'm'));
      const list = await runCliAsync(['plan', 'list', '--store', store]);
      expect(list.stdout.match(new RegExp(`^${id} v\\d`, 'gm'))).toEqual([`${id} v1`, `${id} v2`]);
      expect(list.stdout).toMatch(new RegExp(`^${id} v1  superseded`, 'm'));
    }
  });
});
