/**
 * Child process for the disk-full test, run by the test as `unshare -m -- node --import tsx
 * disk-full-child.ts DIR WORLD_JSON`: in its own mount namespace it mounts a 2 MiB tmpfs on DIR
 * (gone when the process ends, never visible outside), so the kernel itself answers ENOSPC.
 * Prints one JSON report on stdout.
 *
 * 1. The store API: a store on the tmpfs, one small plan saved; the file system filled up to
 *    64 KiB (a filler file); a large plan saved: it must fail with RW_STORE "disk full", and the
 *    store must still hold exactly the small plan, whole. The filler removed, the large plan
 *    saves: the store is not left broken.
 * 2. The CLI (bin/rollwise.js): the file system filled again leaving only the WAL index's 32 KiB
 *    and a page, a `rollwise plan` run: its save is what runs out of space, and the user must
 *    see that.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, rmSync, statSync, statfsSync, truncateSync, writeSync } from 'node:fs';
import path from 'node:path';
import { openSqlitePlanStore } from '../../src/store/index.js';
import { isRollwiseError } from '../../src/shared/index.js';
import { CLI_ENTRY, repoRoot } from '../helpers/cli.js';
import { createSamplePlan } from './sample-plan.js';

const [dir, worldJson] = process.argv.slice(2);
const world = JSON.parse(worldJson!) as { kb: string; index: string; inventory: string };
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', dir!]);

const store = path.join(dir!, 'rollwise.db');
const filler = path.join(dir!, 'filler');
const report: Record<string, unknown> = {};

/** Fills the file system with `filler`, then gives back `leaveBytes`. */
function fill(leaveBytes: number): number {
  const fd = openSync(filler, 'a');
  const block = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  truncateSync(filler, Math.max(0, statSync(filler).size - leaveBytes));
  const s = statfsSync(dir!);
  return s.bavail * s.bsize;
}

try {
  const s = await openSqlitePlanStore(store);
  await s.savePlan(createSamplePlan('aaaa0001', 1, 5, 10));
  report.freeBeforeLargeSave = fill(64 * 1024);
  try {
    await s.savePlan(createSamplePlan('bbbb0002', 1, 400, 40));
    report.largeSave = 'ok';
  } catch (e) {
    report.largeSave = isRollwiseError(e) ? { code: e.code, rendered: e.render(), cause: (e.cause as { code?: string } | undefined)?.code } : { uncaught: String(e) };
  }
  // the store as any later reader sees it
  report.afterFull = (await s.listPlans()).map((p) => `${p.id} v${p.version}`);
  report.smallPlanGroups = (await s.getPlan('aaaa0001'))?.groups.length;
  rmSync(filler);
  await s.savePlan(createSamplePlan('bbbb0002', 1, 400, 40));
  report.afterFreeing = (await s.listPlans()).map((p) => `${p.id} v${p.version}`);
  await s.close();

  // the CLI: its plan is small, so leave room for the WAL index only (32 KiB) and one page
  rmSync(store);
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI_ENTRY, ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ROLLWISE_DIST_CHECKED: '1' } });
  const planArgs = ['plan', '--kb', world.kb, '--index', world.index, '--inventory', world.inventory, '--store', store, '--install', 'helper'];
  const first = cli(planArgs);
  report.cliFirst = { status: first.status, stderr: first.stderr };
  report.freeBeforeCli = fill(36 * 1024);
  const full = cli(planArgs);
  report.cliFull = { status: full.status, stderr: full.stderr };
  rmSync(filler);
  const list = cli(['plan', 'list', '--store', store]);
  report.cliList = { status: list.status, stdout: list.stdout, stderr: list.stderr };
} catch (e) {
  report.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
}
process.stdout.write(JSON.stringify(report) + '\n');
