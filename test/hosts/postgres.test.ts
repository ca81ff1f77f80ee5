// Migrations as steps against a real, throwaway PostgreSQL cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectoryRootDriver, type HostDriver } from '../../src/hosts/index.js';
import type { DatabaseRef, Step } from '../../src/planner/index.js';
import { recordMachineDpkg } from './machine-guard.js';
import { createLab, createPostgresCluster, runLabTool, type Lab, type PostgresCluster } from '../lab/index.js';

let lab: Lab;
let machine: ReturnType<typeof recordMachineDpkg>;
let pg: PostgresCluster;
let d: HostDriver;
let db: DatabaseRef;

beforeAll(async () => {
  machine = recordMachineDpkg();
  [lab, pg] = await Promise.all([createLab({ hosts: 1, updateIndex: false }), createPostgresCluster()]);
  d = createDirectoryRootDriver({ root: lab.hosts[0]!.root, name: 'db-host', chrootlessScripts: lab.chrootlessScripts });
  db = { name: 'main', host: pg.host, port: pg.port, user: pg.user, database: await pg.createDatabase('app') };
});

afterAll(async () => {
  await Promise.all([lab?.destroy(), pg?.destroy()]);
});

const migrate = (version: string, direction: 'up' | 'down', sql: string): Step => ({ kind: 'migrate', database: db, migration: { version, direction, sql } });

async function sql(query: string): Promise<string> {
  const r = await runLabTool(['psql', '-X', '-A', '-t', '-h', pg.host, '-p', String(pg.port), '-U', 'postgres', '-d', db.database, '-c', query]);
  return r.stdout.trim();
}

async function schema(): Promise<{ state: string; schemaVersion: string | null; applied: string[] }> {
  const s = await d.takeSnapshot({ databases: [db], conffiles: false });
  if (s.kind !== 'ok') throw new Error(JSON.stringify(s));
  const x = s.value.databases[0]!;
  return { state: x.state, schemaVersion: x.schemaVersion, applied: x.applied };
}

describe('database migrations against PostgreSQL', () => {
  it('has no schema version before the first migration', async () => {
    expect(await schema()).toEqual({ state: 'no-table', schemaVersion: null, applied: [] });
  });

  it('applies migrations up and records each version', async () => {
    expect((await d.apply(migrate('0001', 'up', 'CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL)'))).status).toBe('succeeded');
    expect((await d.apply(migrate('0002', 'up', "ALTER TABLE users ADD COLUMN email text; INSERT INTO users (name, email) VALUES ('ann', 'a@x')"))).status).toBe('succeeded');
    expect(await schema()).toEqual({ state: 'ok', schemaVersion: '0002', applied: ['0001', '0002'] });
    expect(await sql('SELECT name || email FROM users')).toBe('anna@x');
  });

  it('rolls a migration back down', async () => {
    expect((await d.apply(migrate('0002', 'down', 'ALTER TABLE users DROP COLUMN email'))).status).toBe('succeeded');
    expect(await schema()).toEqual({ state: 'ok', schemaVersion: '0001', applied: ['0001'] });
    expect(await sql("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email'")).toBe('0');
  });

  it('a failing migration changes nothing (one transaction) and reports psql output', async () => {
    const o = await d.apply(migrate('0003', 'up', 'CREATE TABLE half (x int); SELECT no_such_column FROM users'));
    expect(o.status).toBe('failed');
    expect(o.status === 'failed' && o.failure.kind === 'command' && o.failure.output).toMatch(/no_such_column/);
    expect(await sql("SELECT to_regclass('half') IS NULL")).toBe('t');
    expect(await schema()).toEqual({ state: 'ok', schemaVersion: '0001', applied: ['0001'] });
  });

  it('refuses to apply a migration twice or to undo one that is not applied', async () => {
    const twice = await d.apply(migrate('0001', 'up', 'CREATE TABLE users (id int)'));
    expect(twice.status === 'failed' && twice.failure.kind).toBe('precondition');
    const notApplied = await d.apply(migrate('0009', 'down', 'SELECT 1'));
    expect(notApplied.status === 'failed' && notApplied.failure.kind).toBe('precondition');
  });

  it('an unreachable database is reported as such, not thrown', async () => {
    const gone: DatabaseRef = { ...db, port: 1 };
    const s = await d.takeSnapshot({ databases: [gone], conffiles: false });
    expect(s.kind === 'ok' && s.value.databases[0]!.state).toBe('unreachable');
    const o = await d.apply({ kind: 'migrate', database: gone, migration: { version: '0004', direction: 'up', sql: 'SELECT 1' } });
    expect(o.status === 'failed' && o.failure.kind).toBe('precondition');
  });

  it("left the machine's own dpkg database and log untouched", () => {
    expect(recordMachineDpkg()).toEqual(machine);
  });
});
