// Database safeguards of `rollwise deploy` on a real PostgreSQL (a throwaway cluster) and
// directory-root hosts, through the deployment service: the inventory names each host's `shop`
// database; a package upgrade ships migrations (the example knowledge base's scripts, plus one
// that makes a table). (a) forward migrates up after a pg_dump backup; a failed verdict runs the
// down-migrations, the table is gone and the package is back; (b) a migration without a down
// script: the rollback restores the backup, with the approval the plan named; (c) the controller
// killed between a migration's start and end, then resumed: the migrations table settles it, it
// is applied once; (d) a backup that fails stops the host before any change.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileStep, type DecisionBody, type JournalEntry } from '../../src/deploy/index.js';
import { createDirectoryRootDriver, databasePasswordEnv } from '../../src/hosts/index.js';
import { parseInventoryText } from '../../src/fleet/index.js';
import { buildRequest, type Snapshot, type Step } from '../../src/planner/index.js';
import { approvePlan, deploymentLog, openStore, planFleet, resumeDeployment, startDeployment, type DeployStore } from '../../src/app/index.js';
import { createLab, createPostgresCluster, runLabTool, type Lab, type LabHost, type PostgresCluster } from '../lab/index.js';

let lab: Lab;
let pg: PostgresCluster;
let store: DeployStore & { close(): Promise<void> };
const EXAMPLES = path.resolve(__dirname, '../../examples/kb/migrations/shop');

const KB = `apiVersion: rollwise/v1
kind: KnowledgeBase
layer: { name: dbtest, precedence: 50, trust: organisation, author: test, date: 2026-12-04, source: test }
packages:
  - name: shop
    versions:
      - version: "1.0"
      - version: "1.1"
        migrations:
          - id: "0011_add_order_notes"
            database: shop
            up: migrations/shop/0011_add_order_notes.up.sql
            down: migrations/shop/0011_add_order_notes.down.sql
          - id: "0012_order_audit"
            database: shop
            up: migrations/shop/0012_order_audit.up.sql
            down: migrations/shop/0012_order_audit.down.sql
      - version: "2.0"
        migrations:
          - id: "0013_split_customer_name"
            database: shop
            up: migrations/shop/0013_split_customer_name.up.sql
            irreversible: true
# makes the impact critical, so the rollback plans undo every change completely (schema included);
# a moderate impact keeps the schema (undo depth downgrade)
knownIssues:
  - id: KI-DB-1
    title: the new shop needs watching
    when: { packages: ["shop (>= 1.1)"] }
    effect: { impact: outage, description: test issue that makes the change critical }
    severity: critical
    source: test
`;

beforeAll(async () => {
  [lab, pg] = await Promise.all([
    createLab({ hosts: 4, packages: ['1.0', '1.1', '2.0'].map((version) => ({ name: 'shop', version, scripts: false })) }),
    createPostgresCluster(),
  ]);
  const kb = path.join(lab.dir, 'kb');
  await mkdir(path.join(kb, 'migrations', 'shop'), { recursive: true });
  await writeFile(path.join(kb, 'layer.yaml'), KB);
  for (const f of ['0011_add_order_notes.up.sql', '0011_add_order_notes.down.sql', '0013_split_customer_name.up.sql']) await copyFile(path.join(EXAMPLES, f), path.join(kb, 'migrations', 'shop', f));
  await writeFile(path.join(kb, 'migrations', 'shop', '0012_order_audit.up.sql'), 'CREATE TABLE order_audit (order_id int REFERENCES orders (id), note text);\n');
  await writeFile(path.join(kb, 'migrations', 'shop', '0012_order_audit.down.sql'), 'DROP TABLE order_audit;\n');
  store = (await openStore(path.join(lab.dir, 'store', 'rollwise.db'))) as unknown as DeployStore & { close(): Promise<void> };
}, 120_000);

afterAll(async () => {
  await store?.close();
  await Promise.all([lab?.destroy(), pg?.destroy()]);
});

async function sql(database: string, query: string): Promise<string> {
  const r = await runLabTool(['psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', database, '-c', query]);
  if (r.code !== 0) throw new Error(`psql: ${r.stderr}`);
  return r.stdout.trim();
}

/** A database as version 1.0 of the shop knows it: orders, carts, customers with one row each. */
async function shopDatabase(name: string): Promise<string> {
  const db = await pg.createDatabase(name);
  await sql(db, "CREATE TABLE orders (id serial PRIMARY KEY, total int); CREATE TABLE carts (id serial PRIMARY KEY); CREATE TABLE customers (id serial PRIMARY KEY, name text); INSERT INTO orders (total) VALUES (42); INSERT INTO customers (name) VALUES ('Ann Smith')");
  return db;
}

const columns = (db: string, table: string): Promise<string> => sql(db, `SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = '${table}'`);
const tableExists = async (db: string, table: string): Promise<boolean> => (await sql(db, `SELECT to_regclass('${table}') IS NOT NULL`)) === 't';
const applied = async (db: string): Promise<string[]> => ((await sql(db, "SELECT to_regclass('schema_migrations') IS NOT NULL")) === 't' ? (await sql(db, 'SELECT version FROM schema_migrations ORDER BY version')).split('\n').filter(Boolean) : []);

async function installed(h: LabHost): Promise<string | undefined> {
  const r = await createDirectoryRootDriver({ root: h.root, name: h.name }).readInstalled();
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
  const p = r.value.find((x) => x.name === 'shop');
  return p ? `${p.status.trim()} ${p.version}` : undefined;
}

async function prepareHost(h: LabHost, version: string): Promise<void> {
  const now = (await installed(h))?.split(' ')[1];
  if (now === version) return;
  const action = now === undefined ? 'install' : now > version ? 'downgrade' : 'upgrade';
  const o = await createDirectoryRootDriver({ root: h.root, name: h.name }).apply({ kind: 'packages', changes: [{ name: 'shop', action, to: version }] });
  if (o.status !== 'succeeded') throw new Error(JSON.stringify(o).slice(0, 1500));
}

/** A plan to install shop=VERSION on one host whose `shop` database is `database` (port: the cluster's unless given). */
async function planFor(h: LabHost, database: string, install: string, o: { port?: number; overrides?: string[] } = {}): Promise<string> {
  const inventory = path.join(lab.dir, `inventory-${h.name}.yaml`);
  await writeFile(inventory, [
    'databases:',
    '  shop:',
    `    host: ${pg.host}`,
    `    port: ${o.port ?? pg.port}`,
    `    user: ${pg.user}`,
    `    database: ${database}`,
    'groups:',
    '  fleet: {}',
    'hosts:',
    `  - name: ${h.name}`,
    '    groups: [fleet]',
    `    root: ${path.relative(lab.dir, h.root)}`,
    '',
  ].join('\n'));
  const { plan } = await planFleet({ inventory: [inventory], local: false, sshHost: [], kb: [path.join(lab.dir, 'kb')], index: [path.join(lab.repository.dir, 'Packages')], skipUnreachable: false, request: buildRequest({ install: [install] }) });
  await store.savePlan(plan);
  // the known issue that makes the impact critical is a gate: overridden by name
  await approvePlan(store, plan.id, 'tester', ['KI-DB-1', ...(o.overrides ?? [])].map((name) => ({ name, reason: 'the test accepts it' })));
  return plan.id;
}

const failed = async (): Promise<{ verdict: 'failed'; evidence: unknown[] }> => ({ verdict: 'failed', evidence: [{ note: 'test: the wave fails' }] });
const passed = async (): Promise<{ verdict: 'passed'; evidence: unknown[] }> => ({ verdict: 'passed', evidence: [] });
const debs = (): string => path.join(lab.dir, 'debs');
const hostState = (entries: readonly JournalEntry[], host: string): Record<string, unknown> | undefined =>
  entries.filter((e) => e.kind === 'host' && e.host === host).map((e) => e.body as Record<string, unknown>).at(-1);

describe('database safeguards during a deployment (PostgreSQL)', () => {
  it('migrates up after a backup; a failed verdict runs the down-migrations: table gone, column gone, package back', async () => {
    const h = lab.hosts[0]!;
    await prepareHost(h, '1.0');
    const db = await shopDatabase('shop_a');
    const planId = await planFor(h, db, 'shop=1.1');
    const forwardSeen: string[] = [];
    const run = await startDeployment({
      store, plan: planId, debCacheDir: debs(), judge: async () => {
        // while the wave bakes: the forward migrated up
        forwardSeen.push(...(await applied(db)), `audit:${await tableExists(db, 'order_audit')}`, `orders:${await columns(db, 'orders')}`);
        return failed();
      },
    });
    expect(run.result).toMatchObject({ kind: 'finished', status: 'rolled-back' });
    expect(forwardSeen).toEqual(['0011_add_order_notes', '0012_order_audit', 'audit:true', 'orders:id,notes,total']);
    // rolled back: down-migrations run (newest first), the table and the column gone, the package back
    expect(await applied(db)).toEqual([]);
    expect(await tableExists(db, 'order_audit')).toBe(false);
    expect(await columns(db, 'orders')).toBe('id,total');
    expect(await sql(db, 'SELECT total FROM orders')).toBe('42');
    expect(await installed(h)).toBe('ii 1.0');
    const all = (await deploymentLog(store, run.id, true)).entries;
    expect(hostState(all, h.name)).toMatchObject({ state: 'restored', source: 'plan' });
    // the backup: taken before the first forward step, its checksum that of the file
    const backup = all.find((e) => e.key.includes('/backup/shop') && e.phase === 'ended')!;
    const b = backup.body as { file: string; sha256: string; before: { applied: string[] | null; tables: string[] } };
    expect(createHash('sha256').update(await readFile(b.file)).digest('hex')).toBe(b.sha256);
    expect(b.before).toEqual({ applied: null, tables: ['public.carts', 'public.customers', 'public.orders'] });
    const firstForward = all.findIndex((e) => e.key.includes('/forward/') && e.phase === 'started');
    expect(all.indexOf(backup)).toBeLessThan(firstForward);
    // forward and rollback migrations journaled like every step: started, then ended
    const migrations = all.filter((e) => e.kind === 'step' && (e.body as { step?: { kind: string } }).step?.kind === 'migrate');
    expect(migrations.map((e) => { const s = (e.body as { step: { migration: { version: string; direction: string } } }).step.migration; return `${s.direction} ${s.version}`; }))
      .toEqual(['up 0011_add_order_notes', 'up 0012_order_audit', 'down 0012_order_audit', 'down 0011_add_order_notes']);
    for (const m of migrations) expect(all.some((e) => e.key === m.key && e.phase === 'ended' && e.outcome === 'succeeded')).toBe(true);
  });

  it('a migration without a down script: the rollback restores the backup (the plan\'s approval given), tables made since dropped', async () => {
    const h = lab.hosts[1]!;
    await prepareHost(h, '1.0');
    const db = await shopDatabase('shop_b');
    const planId = await planFor(h, db, 'shop=2.0', { overrides: ['irreversible-migration:shop/0013_split_customer_name'] });
    let during = '';
    const run = await startDeployment({
      store, plan: planId, debCacheDir: debs(), judge: async () => {
        during = `${await columns(db, 'customers')} ${(await applied(db)).length}`;
        return failed();
      },
    });
    expect(during).toBe('family_name,given_name,id 3');
    expect(run.result).toMatchObject({ kind: 'finished', status: 'rolled-back' });
    expect(await columns(db, 'customers')).toBe('id,name');
    expect(await sql(db, 'SELECT name FROM customers')).toBe('Ann Smith');
    expect(await tableExists(db, 'order_audit')).toBe(false);
    expect(await applied(db)).toEqual([]);
    expect(await installed(h)).toBe('ii 1.0');
    const all = (await deploymentLog(store, run.id, true)).entries;
    expect(hostState(all, h.name)).toMatchObject({ state: 'restored', source: 'plan' });
    const restore = all.filter((e) => e.key.endsWith('/restore-database'));
    expect(restore.map((e) => `${e.phase}:${e.outcome ?? ''}`)).toEqual(['started:', 'ended:succeeded']);
    // the safeguard the plan asked for is journaled as taken, with the dump's checksum
    const safeguards = all.find((e) => e.key.includes('/safeguards/'))!.body as { safeguards: Array<{ kind: string; taken: boolean; sha256?: string }> };
    expect(safeguards.safeguards.find((g) => g.kind === 'backup-database')).toMatchObject({ taken: true, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('a kill between a migration\'s start and end, then resume: the migrations table settles it, applied once', async () => {
    const h = lab.hosts[2]!;
    await prepareHost(h, '1.0');
    const db = await shopDatabase('shop_c');
    const planId = await planFor(h, db, 'shop=1.1');
    // killed after the first migration ran, before its end was journaled
    const first = await startDeployment({ store, plan: planId, debCacheDir: debs(), judge: passed, crashBefore: (e) => e.kind === 'step' && e.phase === 'ended' && /\/forward\/1$/.test(e.key) });
    expect(first.result).toMatchObject({ kind: 'halted', reason: 'crash seam' });
    expect(await applied(db)).toEqual(['0011_add_order_notes']);
    const resumed = await resumeDeployment({ store, deployment: first.id, debCacheDir: debs(), judge: passed });
    expect(resumed.result).toMatchObject({ kind: 'finished', status: 'succeeded' });
    expect(await applied(db)).toEqual(['0011_add_order_notes', '0012_order_audit']);
    expect(await columns(db, 'orders')).toBe('id,notes,total');
    const all = (await deploymentLog(store, first.id, true)).entries;
    // started once, ended by the reconciliation (happened), never retried
    expect(all.filter((e) => /\/forward\/1(\/retry)?$/.test(e.key)).map((e) => `${e.key.replace(/^.*\/forward\//, '')} ${e.phase} ${e.outcome ?? ''}`.trim())).toEqual(['1 started', '1 ended succeeded']);
    const reconcile = all.map((e) => e.body as DecisionBody).find((b) => b.decision === 'reconcile');
    expect(reconcile?.evidence).toMatchObject({ result: 'happened' });
    expect(await installed(h)).toBe('ii 1.1');
  });

  it('a kill after a migration\'s start was journaled but before it ran: resumed, it runs once', async () => {
    const h = lab.hosts[2]!;
    const db = await shopDatabase('shop_c2');
    await prepareHost(h, '1.0');
    const planId = await planFor(h, db, 'shop=1.1');
    const first = await startDeployment({ store, plan: planId, debCacheDir: debs(), judge: passed, crashBefore: (e) => e.kind === 'step' && e.phase === 'started' && /\/forward\/2$/.test(e.key) });
    expect(first.result).toMatchObject({ kind: 'halted' });
    expect(await applied(db)).toEqual(['0011_add_order_notes']);
    const resumed = await resumeDeployment({ store, deployment: first.id, debCacheDir: debs(), judge: passed });
    expect(resumed.result).toMatchObject({ kind: 'finished', status: 'succeeded' });
    expect(await applied(db)).toEqual(['0011_add_order_notes', '0012_order_audit']);
  });

  it('a backup that fails stops the host before any change (needs a person, with the reason)', async () => {
    const h = lab.hosts[3]!;
    await prepareHost(h, '1.0');
    const db = await shopDatabase('shop_d');
    // nothing listens on port 1: pg_dump cannot connect
    const planId = await planFor(h, db, 'shop=1.1', { port: 1 });
    const run = await startDeployment({ store, plan: planId, debCacheDir: debs(), judge: passed });
    expect(run.result).toMatchObject({ kind: 'finished', status: 'needs-attention' });
    expect(await installed(h)).toBe('ii 1.0');
    expect(await applied(db)).toEqual([]);
    const all = (await deploymentLog(store, run.id, true)).entries;
    expect(hostState(all, h.name)).toMatchObject({ state: 'needs-attention', reason: expect.stringMatching(/backup of database shop failed .*nothing was applied/s) });
    expect(all.some((e) => e.kind === 'step')).toBe(false);
  });

  it('a plan that migrates a database the inventory gives no address for is refused before anything runs', async () => {
    const h = lab.hosts[3]!;
    const inventory = path.join(lab.dir, 'inventory-none.yaml');
    await writeFile(inventory, `hosts:\n  - name: ${h.name}\n    root: ${path.relative(lab.dir, h.root)}\n`);
    const { plan } = await planFleet({ inventory: [inventory], local: false, sshHost: [], kb: [path.join(lab.dir, 'kb')], index: [path.join(lab.repository.dir, 'Packages')], skipUnreachable: false, request: buildRequest({ install: ['shop=1.1'] }) });
    await store.savePlan(plan);
    await approvePlan(store, plan.id, 'tester', [{ name: 'KI-DB-1', reason: 'the test accepts it' }]);
    await expect(startDeployment({ store, plan: plan.id, debCacheDir: debs(), judge: passed })).rejects.toMatchObject({ code: 'RW_DEPLOY', message: expect.stringContaining(`${h.name} (shop)`) });
    expect(await installed(h)).toBe('ii 1.0');
  });
});

describe('a migration whose outcome is unknown is settled by its migrations table', () => {
  const ref = { name: 'shop', host: '127.0.0.1', port: 5432, user: 'shop', database: 'shop' };
  const snap = (state: 'ok' | 'no-table' | 'unreachable', applied: string[]): Snapshot => ({ host: 'h', takenAt: '', packages: [], files: [], services: [], databases: [{ name: 'shop', state, schemaVersion: applied.at(-1) ?? null, applied }] });
  const up: Step = { kind: 'migrate', database: ref, migration: { version: '0011', direction: 'up', sql: 'SELECT 1' } };
  const down: Step = { kind: 'migrate', database: ref, migration: { version: '0011', direction: 'down', sql: 'SELECT 1' } };
  it('up: happened when its version is in the table, not when it is not; down the other way round; unreachable cannot tell', () => {
    const before = snap('no-table', []);
    expect(reconcileStep({ step: up, before, now: snap('ok', ['0011']) })).toBe('happened');
    expect(reconcileStep({ step: up, before, now: snap('no-table', []) })).toBe('not-happened');
    expect(reconcileStep({ step: down, before, now: snap('ok', []) })).toBe('happened');
    expect(reconcileStep({ step: down, before, now: snap('ok', ['0011']) })).toBe('not-happened');
    expect(reconcileStep({ step: up, before, now: snap('unreachable', []) })).toBe('cannot-tell');
    expect(reconcileStep({ step: up, before, now: { ...snap('ok', []), databases: [] } })).toBe('cannot-tell');
  });
});

describe('the inventory\'s databases', () => {
  const file = '/srv/fleet/inventory.yaml';
  it('top level, group and host entries, the nearer one winning; the password only by reference', () => {
    const r = parseInventoryText([
      'databases:',
      '  shop: { host: db1, user: shop, database: shop, password: { env: SHOP_PW } }',
      '  stock: { host: db1, port: 5433, user: stock, database: stock }',
      'groups:',
      '  eu:',
      '    databases:',
      '      shop: { host: db-eu, user: shop, database: shop, password: { file: secrets/shop.pw } }',
      'hosts:',
      '  - { name: a, installed: [] }',
      '  - { name: b, groups: [eu], installed: [] }',
      '  - name: c',
      '    groups: [eu]',
      '    installed: []',
      '    databases: { shop: { host: /run/postgresql, user: shop, database: shop_c, table: migrations } }',
      '',
    ].join('\n'), file);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const d = r.inventory.databases;
    expect(d.a).toEqual({ shop: { name: 'shop', host: 'db1', port: 5432, user: 'shop', database: 'shop', password: { env: 'SHOP_PW' } }, stock: { name: 'stock', host: 'db1', port: 5433, user: 'stock', database: 'stock' } });
    expect(d.b!.shop).toEqual({ name: 'shop', host: 'db-eu', port: 5432, user: 'shop', database: 'shop', password: { file: '/srv/fleet/secrets/shop.pw' } });
    expect(d.c!.shop).toEqual({ name: 'shop', host: '/run/postgresql', port: 5432, user: 'shop', database: 'shop_c', table: 'migrations' });
    expect(d.c!.stock?.port).toBe(5433);
  });

  it('a password written out is refused without being quoted; a password file outside the folder and bad fields with their positions', () => {
    const r = parseInventoryText([
      'databases:',
      '  shop: { host: db1, user: shop, database: shop, password: hunter2-secret }',
      '  far: { host: db1, user: shop, database: shop, password: { file: ../../etc/shop.pw } }',
      'hosts:',
      '  - { name: a, installed: [] }',
      '',
    ].join('\n'), file);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(JSON.stringify(r.problems)).not.toContain('hunter2');
    expect(r.problems.map((p) => [`${p.position.line}:${p.position.column}`, p.message])).toEqual([
      ['2:60', "the password of database 'shop' must be given by reference (its value is not shown)"],
      ['3:67', "password file of database 'far' is outside the inventory's folder"],
    ]);
    const bad = parseInventoryText('databases:\n  shop: { host: db1, port: 99999, user: "x; drop", database: shop }\nhosts: []\n', file);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.map((p) => `${p.position.line}:${p.position.column}`)).toEqual(['2:28', '2:41']);
  });

  it('the password is read when a tool connects, and never put in a message', async () => {
    const dir = path.join(lab.dir, 'pw');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'shop.pw'), 's3cret-value\n');
    const ref = { name: 'shop', host: '127.0.0.1', port: 5432, user: 'shop', database: 'shop' };
    expect(await databasePasswordEnv({ ...ref, password: { file: path.join(dir, 'shop.pw') } })).toEqual({ ok: true, env: { PGPASSWORD: 's3cret-value' } });
    process.env.RW_TEST_DB_PW = 'from-env';
    expect(await databasePasswordEnv({ ...ref, password: { env: 'RW_TEST_DB_PW' } })).toEqual({ ok: true, env: { PGPASSWORD: 'from-env' } });
    delete process.env.RW_TEST_DB_PW;
    const unset = await databasePasswordEnv({ ...ref, password: { env: 'RW_TEST_DB_PW' } });
    expect(unset).toMatchObject({ ok: false, message: expect.stringContaining('RW_TEST_DB_PW, which is not set') });
    const missing = await databasePasswordEnv({ ...ref, password: { file: path.join(dir, 'none.pw') } });
    expect(missing).toMatchObject({ ok: false, message: expect.stringContaining('ENOENT') });
  });
});
