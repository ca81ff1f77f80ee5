/**
 * Several processes race for one deployment's lease on one store (SQLite file, real PostgreSQL):
 * every acquisition got a token no other acquisition got (one holder at a time), the writes
 * fenced by the deployment lease appear in the journal in token order (no stale holder wrote
 * after its successor, although some held a lease past its end on purpose), and the journal's
 * seqs run 1..N with no duplicate or gap while host-scoped writers append beside them. Every
 * entry a process was told was stored is there with that seq; nothing else is.
 * Children: test/store/lease-race-child.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresPlanStore, openSqlitePlanStore, type RollwiseStore } from '../../src/store/index.js';
import { createPostgresCluster, type PostgresCluster } from '../lab/index.js';
import { repoRoot } from '../helpers/cli.js';

const PROCESSES = 6;
const ITERATIONS = 40;

interface Report { name: string; tokens: number[]; stored: Array<{ key: string; phase: string; seq: number }>; refused: number; held: number; uncaught: string[] }

/** Starts the children, lets them go at once, and collects their reports. */
async function race(where: string, deployment: string): Promise<Report[]> {
  const children = Array.from({ length: PROCESSES }, (_, i) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/store/lease-race-child.ts'), where, deployment, `ctl-${i}`, String(ITERATIONS)], { cwd: repoRoot });
    let stderr = '';
    proc.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const lines: string[] = [];
    const waiters: Array<() => void> = [];
    readline.createInterface({ input: proc.stdout }).on('line', (l) => {
      lines.push(l);
      waiters.shift()?.();
    });
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const line = async (n: number): Promise<string> => {
      while (lines.length < n) {
        const more = new Promise<void>((r) => waiters.push(r));
        const code = await Promise.race([more.then(() => undefined), exited.then((c) => c ?? -1)]);
        if (code !== undefined && lines.length < n) throw new Error(`child ctl-${i} exited (${code}): ${stderr.slice(-3000)}`);
      }
      return lines[n - 1]!;
    };
    return { proc, line, exited };
  });
  try {
    for (const c of children) expect(await c.line(1)).toBe('ready');
    for (const c of children) c.proc.stdin.write('go\n');
    const reports = await Promise.all(children.map(async (c) => JSON.parse(await c.line(2)) as Report));
    await Promise.all(children.map((c) => c.exited));
    return reports;
  } finally {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  }
}

async function check(store: RollwiseStore, deployment: string, reports: Report[]): Promise<string> {
  expect(reports.flatMap((r) => r.uncaught)).toEqual([]);
  // one holder at a time: every acquisition got its own token, and the tokens run 1..K
  const tokens = reports.flatMap((r) => r.tokens).sort((a, b) => a - b);
  expect(tokens).toEqual(tokens.map((_, i) => i + 1));
  // the journal: seqs 1..N, no duplicate or gap; exactly the entries reported stored, with their seqs
  const journal = await store.readJournal(deployment);
  expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
  const reported = reports.flatMap((r) => r.stored).map((s) => `${s.seq} ${s.phase} ${s.key}`).sort();
  expect(journal.map((e) => `${e.seq} ${e.phase} ${e.key}`).sort()).toEqual(reported);
  // fenced writes in token order: none from a holder after the lease passed to the next
  const fenced = journal.filter((e) => e.kind !== 'host').map((e) => e.body as { holder: string; token: number });
  for (let i = 1; i < fenced.length; i++) expect(fenced[i]!.token, `seq order of tokens at ${i}`).toBeGreaterThanOrEqual(fenced[i - 1]!.token);
  const holderOf = new Map<number, string>();
  for (const b of fenced) {
    expect(holderOf.get(b.token) ?? b.holder).toBe(b.holder);
    holderOf.set(b.token, b.holder);
  }
  // the race happened: processes found the lease held
  const held = reports.reduce((n, r) => n + r.held, 0);
  expect(held).toBeGreaterThan(0);
  const refused = reports.reduce((n, r) => n + r.refused, 0);
  return `${PROCESSES} processes × ${ITERATIONS} iterations: ${tokens.length} acquisitions, ${held} found it held, ${refused} stale writes refused, ${journal.length} journal entries`;
}

let dir: string;
let pg: PostgresCluster | undefined;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-lease-race-'));
  pg = await createPostgresCluster();
});
afterAll(async () => {
  await pg?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const deploymentRecord = { id: 'race1', planId: 'aa11', planVersion: 1, createdAt: '2026-12-04T10:00:00.000Z', createdBy: 'test', status: 'pending' as const, updatedAt: '2026-12-04T10:00:00.000Z', spec: {} };

describe(`${PROCESSES} processes race for one deployment's lease`, () => {
  it('SQLite: one holder at a time, stale writes refused, journal seqs without duplicate or gap', { timeout: 300_000 }, async () => {
    const file = path.join(dir, 'race.db');
    const store = await openSqlitePlanStore(file);
    try {
      await store.createDeployment(deploymentRecord);
      console.info(`SQLite: ${await check(store, 'race1', await race(file, 'race1'))}`);
    } finally {
      await store.close();
    }
  });

  it('PostgreSQL: the same', { timeout: 300_000 }, async () => {
    const url = pg!.connectionString(await pg!.createDatabase('rw_lease_race'));
    const store = await openPostgresPlanStore(url);
    try {
      await store.createDeployment(deploymentRecord);
      console.info(`PostgreSQL: ${await check(store, 'race1', await race(url, 'race1'))}`);
    } finally {
      await store.close();
    }
  });
});
