/**
 * A full disk during a save: the user sees the real error (RW_STORE, "disk full", the hint to
 * free space), not "cannot rollback - no transaction is active", and the plan is not stored.
 *
 * The disk is really full: a 2 MiB tmpfs mounted in a private mount namespace (`unshare -m`, as
 * root) and filled with a file, so the kernel answers ENOSPC to SQLite's own writes of the WAL,
 * exactly as on a full disk (SQLite turns ENOSPC into SQLITE_FULL and, on that error, ends the
 * transaction itself, which is what hid the error). `PRAGMA max_page_count` would only imitate
 * it: it stops page allocation inside SQLite before any write reaches the file system.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { createWorld, type World } from '../planner/fixture.js';

let world: World;
let dir: string;
beforeAll(() => {
  world = createWorld();
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-full-'));
});
afterAll(() => {
  world?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

interface Report {
  error?: string;
  largeSave: { code: string; rendered: string; cause: string } | { uncaught: string } | 'ok';
  afterFull: string[];
  smallPlanGroups: number;
  afterFreeing: string[];
  cliFirst: { status: number; stderr: string };
  cliFull: { status: number; stderr: string };
  cliList: { status: number; stdout: string; stderr: string };
}

describe('a full disk while saving a plan', () => {
  it('is reported as disk full (RW_STORE with a hint), the plan is not stored, the store stays usable', () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs root: it mounts a tmpfs in a private mount namespace (unshare -m, from util-linux)');
    const r = spawnSync('unshare', ['-m', '--', process.execPath, '--import', 'tsx', path.join(repoRoot, 'test/store/disk-full-child.ts'), dir, JSON.stringify({ kb: world.kb, index: world.index, inventory: world.inventory })], { cwd: repoRoot, encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.error).toBeUndefined();
    const escaped = dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // the store API: the real error, in words, with what to do
    expect(report.largeSave).toEqual({
      code: 'RW_STORE',
      cause: 'SQLITE_FULL',
      rendered: expect.stringMatching(new RegExp(`^RW_STORE: disk full: saving plan bbbb0002 v1 in the store ${escaped}/rollwise\\.db failed and nothing of it was stored \\(database or disk is full \\[SQLITE_FULL\\]\\) \\(hint: free space on the file system that holds ${escaped} \\(df -h ${escaped}\\), then run the command again\\)$`)) as unknown,
    });
    // nothing of the failed plan; the earlier plan whole; after freeing space the same save works
    expect(report.afterFull).toEqual(['aaaa0001 v1']);
    expect(report.smallPlanGroups).toBe(5);
    expect(report.afterFreeing).toEqual(['aaaa0001 v1', 'bbbb0002 v1']);
    // the CLI: one line, exit status 2, no sign of the rollback that used to hide the error
    expect(report.cliFirst).toEqual({ status: 0, stderr: '' });
    expect(report.cliFull.status).toBe(2);
    expect(report.cliFull.stderr).toMatch(new RegExp(`^rollwise: RW_STORE: disk full: saving plan [0-9a-f]{8} v1 in the store ${escaped}/rollwise\\.db failed and nothing of it was stored \\(database or disk is full \\[SQLITE_FULL\\]\\) \\(hint: free space on the file system that holds ${escaped} `));
    expect(report.cliFull.stderr).not.toMatch(/cannot rollback|internal error/);
    // only the first run's plan is listed
    expect(report.cliList.status, report.cliList.stderr).toBe(0);
    expect(report.cliList.stdout.trim().split('\n')).toHaveLength(1);
    // the tmpfs was private to the child: nothing of it is left here
    expect(readdirSync(dir)).toEqual([]);
  });
});
