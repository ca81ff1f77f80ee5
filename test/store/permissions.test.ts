/**
 * Plans name hosts, packages and versions: the store is readable by its owner only. The store
 * file and its WAL files are created 0600, the default `.rollwise/` folder 0700, whatever the
 * umask; a folder the user gave (`--store`) that exists keeps its mode.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlitePlanStore } from '../../src/store/index.js';
import { repoRoot } from '../helpers/cli.js';
import { createWorld, type World } from '../planner/fixture.js';
import { createSamplePlan } from './sample-plan.js';

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8).padStart(4, '0');

let world: World;
let dir: string;
beforeAll(() => {
  world = createWorld();
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-perm-'));
});
afterAll(() => {
  world?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** CLI commands in one child process with umask 000 (nothing masked: the modes are the code's own). */
function runWithUmask0(commands: string[][], cwd: string): Array<{ status: number; stdout: string; stderr: string }> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/store/cli-runner-child.ts'), JSON.stringify({ commands, cwd, umask: 0 })], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0) throw new Error(`the CLI runner failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Array<{ status: number; stdout: string; stderr: string }>;
}

describe('store permissions', () => {
  it('the default store: .rollwise/ 0700, rollwise.db 0600, even with umask 000', () => {
    const cwd = path.join(dir, 'project');
    mkdirSync(cwd);
    const [r] = runWithUmask0([['plan', '--kb', world.kb, '--index', world.index, '--inventory', world.inventory, '--install', 'helper']], cwd);
    expect(r!.status, r!.stderr).toBe(0);
    expect(mode(path.join(cwd, '.rollwise'))).toBe('0700');
    expect(mode(path.join(cwd, '.rollwise', 'rollwise.db'))).toBe('0600');
  });

  it('a --store in an existing folder: the file 0600, the folder left as it was; missing folders 0700', () => {
    const shared = path.join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o755);
    const nested = path.join(dir, 'new-a', 'new-b', 'rollwise.db');
    const results = runWithUmask0([
      ['plan', '--kb', world.kb, '--index', world.index, '--inventory', world.inventory, '--store', path.join(shared, 'plans.db'), '--install', 'helper'],
      ['plan', '--kb', world.kb, '--index', world.index, '--inventory', world.inventory, '--store', nested, '--install', 'helper'],
    ], dir);
    for (const r of results) expect(r.status, r.stderr).toBe(0);
    expect(mode(shared)).toBe('0755');
    expect(mode(path.join(shared, 'plans.db'))).toBe('0600');
    expect(mode(path.join(dir, 'new-a'))).toBe('0700');
    expect(mode(path.join(dir, 'new-a', 'new-b'))).toBe('0700');
    expect(mode(nested)).toBe('0600');
  });

  it('the WAL and its index, which hold the latest plans, are 0600 like the store', async () => {
    const saved = process.umask(0);
    try {
      const file = path.join(dir, 'wal', 'rollwise.db');
      const store = await openSqlitePlanStore(file);
      try {
        await store.savePlan(createSamplePlan('aa11', 1, 5));
        // while the store is open the WAL files exist
        expect([mode(file), mode(`${file}-wal`), mode(`${file}-shm`), mode(path.dirname(file))]).toEqual(['0600', '0600', '0600', '0700']);
      } finally {
        await store.close();
      }
    } finally {
      process.umask(saved);
    }
  });
});
