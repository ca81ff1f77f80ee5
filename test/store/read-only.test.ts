/**
 * Read-only commands (`plan list`, `plan show`) open the store read-only: they never create,
 * migrate or otherwise change anything, work on a read-only store, say clearly when there is no
 * store, and refuse a file that is not a Rollwise store. Writing commands find an unwritable
 * store before they plan.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, openSqlitePlanStore, type StoreMigration } from '../../src/store/index.js';
import { repoRoot } from '../helpers/cli.js';
import { createWorld, type World } from '../planner/fixture.js';
import { createSamplePlan } from './sample-plan.js';

interface Result { status: number; stdout: string; stderr: string }

/** Runs CLI commands in one child process (test/store/cli-runner-child.ts); `readOnly` needs root. */
function runCommands(commands: string[][], options: { cwd?: string; readOnly?: string; env?: NodeJS.ProcessEnv } = {}): Result[] {
  const { env, ...spec } = options;
  const argv = [process.execPath, '--import', 'tsx', path.join(repoRoot, 'test/store/cli-runner-child.ts'), JSON.stringify({ commands, ...spec })];
  const run = { cwd: repoRoot, encoding: 'utf8' as const, env: { ...process.env, ...env, NO_COLOR: '1' } };
  const r = options.readOnly ? spawnSync('unshare', ['-m', '--', ...argv], run) : spawnSync(argv[0]!, argv.slice(1), run);
  if (r.status !== 0) throw new Error(`the CLI runner failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Result[];
}

function needRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('this test needs root: it bind-mounts a folder read-only in a private mount namespace (unshare -m, from util-linux)');
}

/**
 * Every file of a folder with its bytes' hash: what "unchanged" means. A read-only SQLite
 * connection to a WAL store leaves an empty WAL and its index beside it when it cannot remove
 * them; they hold nothing, so they are left out.
 */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) {
    const bytes = readFileSync(path.join(dir, f));
    if (f.endsWith('-shm') || (f.endsWith('-wal') && bytes.length === 0)) continue;
    out[f] = createHash('sha256').update(bytes).digest('hex');
  }
  return out;
}

let world: World;
let dir: string;
beforeAll(() => {
  world = createWorld();
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-ro-'));
});
afterAll(() => {
  world?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const planArgs = (store: string, ...more: string[]): string[] => ['plan', '--kb', world.kb, '--index', world.index, '--inventory', world.inventory, '--store', store, ...more];

describe('read-only commands', () => {
  it('on a missing store say there is none (RW_NOT_FOUND with a hint) and create nothing, not even a folder', () => {
    const cwd = path.join(dir, 'empty-cwd');
    mkdirSync(cwd);
    const typo = path.join(dir, 'typo', 'sub', 'rollwise.db');
    const [list, show, listDefault, showDefault] = runCommands([
      ['plan', 'list', '--store', typo],
      ['plan', 'show', 'abcd', '--store', typo],
      ['plan', 'list'],
      ['plan', 'show', 'abcd', '--json'],
    ], { cwd });
    for (const r of [list!, show!]) {
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`rollwise: RW_NOT_FOUND: no store at ${typo}: no plan has been stored there yet (hint: rollwise plan --kb ... --inventory ... --install ... creates it; --store FILE names another store)\n`);
    }
    for (const r of [listDefault!, showDefault!]) {
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^rollwise: RW_NOT_FOUND: no store at ${cwd.replace(/[.]/g, '\\.')}/\\.rollwise/rollwise\\.db: no plan has been stored there yet \\(hint: `));
    }
    expect(existsSync(path.join(dir, 'typo'))).toBe(false);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('refuse another program\'s SQLite file (RW_STORE with a hint) and leave it exactly as it was; so do writing commands', () => {
    const other = path.join(dir, 'other');
    mkdirSync(other);
    const file = path.join(other, 'app.db');
    const db = new Database(file);
    db.exec("create table users (id integer primary key, name text); insert into users (name) values ('ada')");
    db.close();
    const text = path.join(other, 'notes.txt');
    writeFileSync(text, 'not a database at all, but long enough to have a header of a hundred bytes or so........................................\n');
    const before = snapshot(other);
    const [list, show, plan, approve, listText, showText] = runCommands([
      ['plan', 'list', '--store', file],
      ['plan', 'show', 'abcd', '--store', file],
      planArgs(file, '--install', 'helper'),
      ['plan', 'approve', 'abcd', '--store', file],
      ['plan', 'list', '--store', text],
      ['plan', 'show', 'abcd', '--store', text],
    ]);
    for (const r of [list!, show!, plan!, approve!]) {
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^rollwise: RW_STORE: ${file.replace(/[.]/g, '\\.')} is not a Rollwise store: it holds other tables \\(users\\) and no plans \\(hint: --store names the database rollwise writes its plans to .*never changes another program's database\\)\\n$`));
    }
    for (const r of [listText!, showText!]) {
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^rollwise: RW_STORE: .*notes\.txt is not a Rollwise store: it is not a SQLite database \(file is not a database \[SQLITE_NOTADB\]\) \(hint: /);
    }
    // no table added, no switch to WAL (no -wal or -shm file), not a byte changed
    expect(readdirSync(other).sort()).toEqual(['app.db', 'notes.txt']);
    expect(snapshot(other)).toEqual(before);
    const again = new Database(file, { readonly: true });
    try {
      expect(again.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(again.prepare("select name from sqlite_master where type = 'table'").all()).toEqual([{ name: 'users' }]);
    } finally {
      again.close();
    }
  });

  it('on an existing empty file: plan list says "no plans yet", plan show finds no plan, the file stays empty', () => {
    const file = path.join(dir, 'empty.db');
    writeFileSync(file, '');
    const [list, show] = runCommands([['plan', 'list', '--store', file], ['plan', 'show', 'abcd', '--store', file]]);
    expect(list).toEqual({ status: 0, stdout: 'no plans yet (rollwise plan --help)\n', stderr: '' });
    expect(show!.status).toBe(2);
    expect(show!.stderr).toMatch(/^rollwise: RW_NOT_FOUND: no plan 'abcd' \(hint: /);
    expect(readFileSync(file).length).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith('empty.db'))).toEqual(['empty.db']);
  });

  it('work on a read-only store (a read-only mount); writing commands fail there with RW_STORE before planning', () => {
    needRoot();
    const ro = path.join(dir, 'ro');
    const store = path.join(ro, 'rollwise.db');
    const [created] = runCommands([planArgs(store, '--install', 'app-a=2.0-1')]);
    expect(created!.status, created!.stderr).toBe(1); // stored, with conflicts to review
    const id = /^Plan ([0-9a-f]{8}) version 1/m.exec(created!.stdout)![1]!;
    const before = snapshot(ro);
    const [list, show, planUnknown, plan, resolve, approve, planNew] = runCommands([
      ['plan', 'list', '--store', store],
      ['plan', 'show', id, '--store', store, '--json'],
      // an unknown package would be found while planning: the store is found unwritable first
      planArgs(store, '--install', 'no-such-package'),
      planArgs(store, '--install', 'helper'),
      ['plan', 'resolve', id, '--choose', 'c2=r1', '--store', store],
      ['plan', 'approve', id, '--store', store],
      planArgs(path.join(ro, 'new', 'rollwise.db'), '--install', 'helper'),
    ], { readOnly: ro });
    expect(list!.status, list!.stderr).toBe(0);
    expect(list!.stdout).toMatch(new RegExp(`^${id} v1  needs-review .* 8 hosts, 4 groups, 2 conflicts  install app-a`, 'm'));
    expect(show!.status, show!.stderr).toBe(0);
    expect((JSON.parse(show!.stdout) as { id: string }).id).toBe(id);
    for (const r of [planUnknown!, plan!, resolve!, approve!]) {
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^rollwise: RW_STORE: the store ${store.replace(/[.]/g, '\\.')} cannot be written \\(EROFS: read-only file system, access '${store.replace(/[.]/g, '\\.')}' \\[EROFS\\]\\) \\(hint: writing commands need write access to the store file and its folder .*plan list and plan show work on a read-only store\\)\\n$`));
    }
    expect(planNew!.status).toBe(2);
    expect(planNew!.stderr).toMatch(/^rollwise: RW_STORE: the store .*\/ro\/new\/rollwise\.db cannot be written \(EROFS: read-only file system, access '.*\/ro' \[EROFS\]\) \(hint: /);
    // the same reads where SQLite's URI file names are off (`?immutable=1` unavailable): read from a copy in memory
    const [listCopy, showCopy] = runCommands([['plan', 'list', '--store', store], ['plan', 'show', id, '--store', store, '--json']], { readOnly: ro, env: { SQLITE_USE_URI: '0' } });
    expect(listCopy).toEqual(list);
    expect(showCopy).toEqual(show);
    expect(snapshot(ro)).toEqual(before);
  });
});

describe('a store whose schema is older (or newer) than the code', () => {
  // a later migration, as a future version would add it
  const addIndex = (requiredForReading: boolean): Record<string, StoreMigration> => ({
    ...MIGRATIONS,
    '0099_created_index': {
      requiredForReading,
      async up(db: Kysely<unknown>) {
        await sql`create index plan_versions_created on plan_versions (created_at)`.execute(db);
      },
    },
  });

  it('read-only opening refuses it with a hint to run a writing command, never migrates it; a writer upgrades it', async () => {
    const file = path.join(dir, 'older', 'rollwise.db');
    const s = await openSqlitePlanStore(file);
    await s.savePlan(createSamplePlan('aa11', 1, 3));
    await s.close();
    const before = snapshot(path.dirname(file));
    await expect(openSqlitePlanStore(file, { access: 'read', migrations: addIndex(true) })).rejects.toThrow(
      /^the store .*older\/rollwise\.db has an older schema \(missing 0099_created_index\); read-only commands do not upgrade it$/,
    );
    await expect(openSqlitePlanStore(file, { access: 'read', migrations: addIndex(true) })).rejects.toMatchObject({ code: 'RW_STORE', hint: expect.stringMatching(/^run a writing command on it once/) as unknown });
    // a migration reads do not need: the older store is read as it is
    const compatible = await openSqlitePlanStore(file, { access: 'read', migrations: addIndex(false) });
    expect((await compatible.listPlans()).map((p) => p.id)).toEqual(['aa11']);
    await compatible.close();
    expect(snapshot(path.dirname(file))).toEqual(before);
    // a writing open migrates; then reading works
    await (await openSqlitePlanStore(file, { migrations: addIndex(true) })).close();
    const upgraded = await openSqlitePlanStore(file, { access: 'read', migrations: addIndex(true) });
    expect((await upgraded.getPlan('aa11'))!.groups).toHaveLength(3);
    await upgraded.close();
    // and this version of the code, which does not know 0099, refuses the newer store both ways
    await expect(openSqlitePlanStore(file, { access: 'read' })).rejects.toThrow(/was written by a newer rollwise \(schema migrations this version does not know: 0099_created_index\)/);
    await expect(openSqlitePlanStore(file)).rejects.toMatchObject({ code: 'RW_STORE', message: expect.stringMatching(/newer rollwise/) as unknown });
  });
});
