// Rehearsal (deploy, then roll back) on real directory-root hosts of the lab: dpkg and apt on a
// root, runit services, a throwaway PostgreSQL; the machine's own dpkg database is never touched.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rehearseOnHost, type CommandCapable, type RehearsalEvent, type RehearsalReport } from '../../src/deploy/index.js';
import { createDebCache, createDirectoryRootDriver, createLocalRunner, type HostDriver } from '../../src/hosts/index.js';
import type { DatabaseRef, ServiceState, Snapshot, Step } from '../../src/planner/index.js';
import { createLab, createPostgresCluster, freePort, runLabTool, type Lab, type LabHost, type PostgresCluster } from '../lab/index.js';
import { recordMachineState, type MachineStateRecord } from '../hosts/machine-guard.js';

// Paths a lab package's maintainer script would write if it ran on the machine itself.
const MARKERS = ['/etc/demo.conf', '/etc/demo.conf.dpkg-dist', '/etc/flaky.conf', '/var/lib/lab-scripts', '/etc/sv/web', '/etc/service/web', '/etc/lab', '/etc/app'];

let lab: Lab;
let pg: PostgresCluster;
let machine: MachineStateRecord;
const runner = createLocalRunner();

beforeAll(async () => {
  machine = recordMachineState(MARKERS);
  [lab, pg] = await Promise.all([
    createLab({
      hosts: 7,
      packages: [
        { name: 'demo', version: '1.0', conffiles: { '/etc/demo.conf': 'level=1\n' }, files: { '/usr/share/demo/VERSION': '1.0\n' } },
        { name: 'demo', version: '2.0', conffiles: { '/etc/demo.conf': 'level=2\n' }, files: { '/usr/share/demo/VERSION': '2.0\n' } },
        { name: 'web', version: '1.0', service: { name: 'web', restartOnUpgrade: false } },
        { name: 'web', version: '2.0', service: { name: 'web', restartOnUpgrade: false, behaviour: { latencyMs: 50 } } },
        { name: 'flaky', version: '1.0', conffiles: { '/etc/flaky.conf': 'mode=1\n' } },
        { name: 'flaky', version: '2.0', conffiles: { '/etc/flaky.conf': 'mode=2\n' }, fail: ['postinst'] },
      ],
    }),
    createPostgresCluster(),
  ]);
});

afterAll(async () => {
  await Promise.all([lab?.destroy(), pg?.destroy()]);
});

function driverFor(h: LabHost): HostDriver & CommandCapable {
  const d = createDirectoryRootDriver({ root: h.root, name: h.name, chrootlessScripts: lab.chrootlessScripts });
  return { ...d, runCommand: (argv, o) => runner.run(argv, o) };
}

async function must(d: HostDriver, step: Step): Promise<void> {
  const o = await d.apply(step);
  if (o.status !== 'succeeded') throw new Error(`setup step failed: ${JSON.stringify(o)}`);
}

/** The report without snapshots and tool output: what a failing assertion should print. */
function brief(r: RehearsalReport): string {
  const step = (o: RehearsalReport['forward']['outcomes'][number]): string =>
    `${o.step.kind} ${o.status}${o.status === 'failed' ? ` ${JSON.stringify(o.failure).slice(0, 400)}` : o.status === 'unknown' ? ` ${o.reason}` : ''}`;
  return JSON.stringify(
    {
      outcome: r.outcome,
      differences: r.differences,
      forward: r.forward.outcomes.map(step),
      rollback: r.rollback.outcomes.map(step),
      unresolved: r.rollback.unresolved,
      snapshotFailures: r.snapshotFailures,
      health: r.health,
    },
    null,
    1,
  );
}

const installed = async (d: HostDriver): Promise<Record<string, string>> => {
  const r = await d.readInstalled();
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
  return Object.fromEntries(r.value.map((p) => [p.name, `${p.status} ${p.version}`]));
};

async function waitState(d: HostDriver, service: string, want: ServiceState): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await d.readServiceState(service)) !== want) {
    if (Date.now() > deadline) throw new Error(`${service} never became ${want}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function psql(db: DatabaseRef, query: string): Promise<string> {
  const r = await runLabTool(['psql', '-X', '-A', '-t', '-h', pg.host, '-p', String(pg.port), '-U', 'postgres', '-d', db.database, '-c', query]);
  return r.stdout.trim();
}

async function database(name: string): Promise<DatabaseRef> {
  return { name: 'main', host: pg.host, port: pg.port, user: pg.user, database: await pg.createDatabase(name) };
}

const migrate = (db: DatabaseRef, version: string, direction: 'up' | 'down', sql: string): Step => ({ kind: 'migrate', database: db, migration: { version, direction, sql } });

describe('rehearsing a deployment and its rollback on a staging host', () => {
  it("(a) an upgrade over a conffile the operator changed: restored from the snapshot and the .deb cache, host identical (content and mode)", async () => {
    const h = lab.hosts[0]!;
    const d = driverFor(h);
    await must(d, { kind: 'packages', changes: [{ name: 'demo', action: 'install', to: '1.0' }] });
    await must(d, { kind: 'write-config', path: '/etc/demo.conf', content: 'level=operator\n', mode: 0o600 });
    const cacheDir = path.join(lab.dir, 'deb-cache-a');
    const events: RehearsalEvent[] = [];
    const report = await rehearseOnHost({
      driver: d,
      // the upgrade leaves the package's own version beside the operator's: watched too
      snapshotSpec: { configFiles: ['/etc/demo.conf.dpkg-dist'] },
      forward: [{ kind: 'packages', changes: [{ name: 'demo', action: 'upgrade', to: '2.0' }] }],
      debCache: { cache: createDebCache(cacheDir), source: { baseUrl: lab.repository.dir } },
      async onProgress(e) {
        events.push(e);
        // once deployed, the repository loses the former version: the rollback must not need it
        if (e.kind === 'phase-finished' && e.phase === 'forward') await lab.repository.drop('demo', '1.0');
      },
    });
    expect(report.outcome, brief(report)).toBe('identical');
    expect(report.differences).toEqual([]);
    expect(report.forward).toMatchObject({ completed: true, notRun: 0 });
    expect(report.forward.outcomes.map((o) => o.status)).toEqual(['succeeded']);
    // the forward really changed the host: version, and dpkg's copy of the new conffile beside the operator's
    expect(report.forwardChanges).toEqual(
      expect.arrayContaining([
        { kind: 'package-version-changed', name: 'demo', architecture: 'all', before: '1.0', after: '2.0' },
        { kind: 'config-appeared', path: '/etc/demo.conf.dpkg-dist' },
      ]),
    );
    expect(report.forwardChanges?.some((x) => x.kind === 'config-changed' && x.path === '/etc/demo.conf')).toBe(false);
    // the former .deb was kept, and the restore installed it from the cache
    expect(report.debs.kept.map((k) => `${k.name} ${k.version} ${k.outcome.kind}`)).toEqual(['demo 1.0 kept']);
    expect(report.debs.uncached).toEqual([]);
    expect(report.rollback.source).toBe('restore');
    const pkgStep = report.rollback.steps.find((s) => s.kind === 'packages');
    expect(pkgStep?.kind === 'packages' && pkgStep.changes).toEqual([{ name: 'demo', action: 'downgrade', to: '1.0', debPath: expect.stringContaining(cacheDir) }]);
    expect(report.rollback.outcomes.map((o) => o.status)).toEqual(report.rollback.steps.map(() => 'succeeded'));
    expect(report.rollback.unresolved).toEqual([]);
    // the host itself, read directly
    expect(await installed(d)).toEqual({ demo: 'ii 1.0' });
    expect(readFileSync(`${h.root}/etc/demo.conf`, 'utf8')).toBe('level=operator\n');
    expect(statSync(`${h.root}/etc/demo.conf`).mode & 0o7777).toBe(0o600);
    expect(existsSync(`${h.root}/etc/demo.conf.dpkg-dist`)).toBe(false);
    expect(readFileSync(`${h.root}/usr/share/demo/VERSION`, 'utf8')).toBe('1.0\n');
    // phases in order, each timed
    const phases = events.filter((e) => e.kind === 'phase-started').map((e) => (e.kind === 'phase-started' ? e.phase : ''));
    expect(phases).toEqual(['snapshot-before', 'keep-debs', 'forward', 'snapshot-forward', 'health', 'rollback', 'snapshot-after', 'health-after-rollback']);
    expect(report.timings.forwardMs).toBeGreaterThan(0);
    expect(report.timings.rollbackMs).toBeGreaterThan(0);
    expect(report.timings.totalMs).toBeGreaterThanOrEqual(report.timings.forwardMs + report.timings.rollbackMs);
  });

  describe('(b) a runit service stopped and started around an upgrade', () => {
    async function serviceHost(i: number): Promise<{ d: HostDriver & CommandCapable; port: number }> {
      const h = lab.hosts[i]!;
      const port = await freePort();
      await lab.setServicePort(h, 'web', port);
      const d = driverFor(h);
      await must(d, { kind: 'packages', changes: [{ name: 'web', action: 'install', to: '1.0' }] });
      // runsvdir finds a new service at once when it starts, and only every 5 s after that
      lab.startSupervisor(h);
      await waitState(d, 'web', 'running');
      return { d, port };
    }
    const around = (action: 'upgrade' | 'downgrade', to: string): Step[] => [
      { kind: 'service', action: 'stop', service: 'web' },
      { kind: 'packages', changes: [{ name: 'web', action, to }] },
      { kind: 'service', action: 'start', service: 'web' },
    ];

    it('is back to running at the former version; health checks pass after each phase', async () => {
      const { d, port } = await serviceHost(1);
      const url = `http://127.0.0.1:${port}/metrics`;
      const report = await rehearseOnHost({
        driver: d,
        snapshotSpec: { services: ['web'] },
        forward: around('upgrade', '2.0'),
        rollback: around('downgrade', '1.0'),
        healthChecks: [
          { kind: 'service', service: 'web', state: 'running', withinMs: 5000 },
          { kind: 'command', argv: ['curl', '-sf', '--max-time', '2', url], withinMs: 10_000 },
        ],
      });
      expect(report.outcome, brief(report)).toBe('identical');
      expect(report.forward.outcomes.map((o) => `${o.step.kind} ${o.status}`)).toEqual(['service succeeded', 'packages succeeded', 'service succeeded']);
      expect(report.rollback.source).toBe('plan');
      expect(report.rollback.outcomes.map((o) => `${o.step.kind} ${o.status}`)).toEqual(['service succeeded', 'packages succeeded', 'service succeeded']);
      expect(report.forwardChanges).toEqual([{ kind: 'package-version-changed', name: 'web', architecture: 'all', before: '1.0', after: '2.0' }]);
      // without a .deb cache, undoing the upgrade needed the repository: said so
      expect(report.debs).toEqual({ kept: [], uncached: [{ name: 'web', version: '1.0', architecture: 'all' }] });
      expect(report.health.afterForward.map((x) => x.status)).toEqual(['passed', 'passed']);
      expect(report.health.afterRollback.map((x) => x.status)).toEqual(['passed', 'passed']);
      // the service that answered was the deployed version, then the former one
      const answered = (r: RehearsalReport['health']['afterForward'][number]): string => (r.status !== 'not-run' && r.observed.kind === 'exited' ? r.observed.output : '');
      expect(answered(report.health.afterForward[1]!)).toContain('version="2.0"');
      expect(answered(report.health.afterRollback[1]!)).toContain('version="1.0"');
      expect(await d.readServiceState('web')).toBe('running');
      expect(await installed(d)).toEqual({ web: 'ii 1.0' });
    });

    it('a rollback that forgets to start the service again leaves a silent difference, named', async () => {
      const { d } = await serviceHost(5);
      const report = await rehearseOnHost({
        driver: d,
        snapshotSpec: { services: ['web'] },
        forward: around('upgrade', '2.0'),
        rollback: around('downgrade', '1.0').slice(0, 2),
        healthChecks: [{ kind: 'service', service: 'web', state: 'running' }],
      });
      expect(report.outcome, brief(report)).toBe('different');
      expect(report.differences).toEqual([{ difference: { kind: 'service-state-changed', service: 'web', before: 'running', after: 'stopped' }, flag: 'silent' }]);
      expect(report.health.afterRollback.map((x) => x.status)).toEqual(['failed']);
      expect(report.health.afterRollback[0]).toMatchObject({ observed: { kind: 'service', state: 'stopped' } });
    });
  });

  it('(c) a PostgreSQL migration up in the forward steps and down in the rollback: schema version restored', async () => {
    const d = driverFor(lab.hosts[2]!);
    const db = await database('rehearse_c');
    await must(d, migrate(db, '0001', 'up', 'CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL)'));
    const report = await rehearseOnHost({
      driver: d,
      snapshotSpec: { databases: [db], conffiles: false },
      forward: [migrate(db, '0002', 'up', 'ALTER TABLE users ADD COLUMN email text')],
      rollback: [migrate(db, '0002', 'down', 'ALTER TABLE users DROP COLUMN email')],
    });
    expect(report.outcome, brief(report)).toBe('identical');
    expect(report.forwardChanges).toEqual([{ kind: 'schema-version-changed', database: 'main', before: '0001', after: '0002' }]);
    expect(report.snapshots.after?.databases).toEqual([{ name: 'main', state: 'ok', schemaVersion: '0001', applied: ['0001'] }]);
    expect(await psql(db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email'")).toBe('0');
  });

  describe('(d) an irreversible migration (no down)', () => {
    it('fails the rehearsal: the schema difference is named, silent', async () => {
      const d = driverFor(lab.hosts[3]!);
      const db = await database('rehearse_d1');
      await must(d, migrate(db, '0001', 'up', 'CREATE TABLE users (id serial PRIMARY KEY)'));
      const report = await rehearseOnHost({
        driver: d,
        snapshotSpec: { databases: [db], conffiles: false },
        forward: [migrate(db, '0002', 'up', 'DROP TABLE users; CREATE TABLE accounts (id serial PRIMARY KEY)')],
        rollback: [],
      });
      expect(report.outcome, brief(report)).toBe('different');
      expect(report.differences).toEqual([{ difference: { kind: 'schema-version-changed', database: 'main', before: '0001', after: '0002' }, flag: 'silent' }]);
      expect(report.rollback).toMatchObject({ source: 'plan', steps: [], outcomes: [] });
    });

    it('flagged in advance: the same difference is marked flagged, and an expectation that did not happen is listed', async () => {
      const d = driverFor(lab.hosts[3]!);
      const db = await database('rehearse_d2');
      await must(d, migrate(db, '0001', 'up', 'CREATE TABLE users (id serial PRIMARY KEY)'));
      const report = await rehearseOnHost({
        driver: d,
        snapshotSpec: { databases: [db], conffiles: false },
        forward: [migrate(db, '0002', 'up', 'CREATE TABLE accounts (id serial PRIMARY KEY)')],
        // rollback undefined: a restore planned from the snapshots, which cannot undo a schema
        expectedDifferences: [{ kind: 'schema-version-changed', database: 'main' }, { kind: 'config-missing', path: '/etc/app.conf' }],
      });
      expect(report.outcome, brief(report)).toBe('flagged-only');
      expect(report.differences).toEqual([{ difference: { kind: 'schema-version-changed', database: 'main', before: '0001', after: '0002' }, flag: 'flagged' }]);
      expect(report.expectedNotSeen).toEqual([{ kind: 'config-missing', path: '/etc/app.conf' }]);
      expect(report.rollback.source).toBe('restore');
      expect(report.rollback.steps).toEqual([]);
      expect(report.rollback.unresolved).toEqual([{ kind: 'schema-version-changed', database: 'main', before: '0002', after: '0001' }]);
    });
  });

  it('(e) a forward step whose postinst fails: the forward stops there, the rollback still brings the host back', async () => {
    const h = lab.hosts[4]!;
    const d = driverFor(h);
    await must(d, { kind: 'packages', changes: [{ name: 'flaky', action: 'install', to: '1.0' }] });
    const report = await rehearseOnHost({
      driver: d,
      snapshotSpec: {},
      forward: [
        { kind: 'packages', changes: [{ name: 'flaky', action: 'upgrade', to: '2.0' }] },
        { kind: 'write-config', path: '/etc/flaky.d/extra.conf', content: 'never=written\n' },
      ],
      healthChecks: [{ kind: 'service', service: 'flaky', state: 'running' }],
      debCache: { cache: createDebCache(path.join(lab.dir, 'deb-cache-e')), source: { baseUrl: lab.repository.dir } },
    });
    expect(report.forward).toMatchObject({ completed: false, stoppedAt: 0, notRun: 1 });
    const failed = report.forward.outcomes[0]!;
    expect(failed.status === 'failed' && failed.failure.kind === 'command' && failed.failure.output).toContain('flaky postinst: built to fail');
    expect(report.forwardChanges).toEqual([
      { kind: 'package-version-changed', name: 'flaky', architecture: 'all', before: '1.0', after: '2.0' },
      { kind: 'package-status-changed', name: 'flaky', architecture: 'all', before: 'ii', after: 'iF' },
      { kind: 'config-changed', path: '/etc/flaky.conf', before: expect.any(String), after: expect.any(String) },
    ]);
    expect(report.health.afterForward).toEqual([{ check: { kind: 'service', service: 'flaky', state: 'running' }, status: 'not-run', reason: 'forward-stopped' }]);
    expect(report.rollback.outcomes.length).toBeGreaterThan(0);
    expect(report.rollback.outcomes.map((o) => o.status), brief(report)).toEqual(report.rollback.steps.map(() => 'succeeded'));
    expect(report.outcome, brief(report)).toBe('identical');
    expect(await installed(d)).toEqual({ flaky: 'ii 1.0' });
    expect(readFileSync(`${h.root}/etc/flaky.conf`, 'utf8')).toBe('mode=1\n');
    expect(existsSync(`${h.root}/etc/flaky.d/extra.conf`)).toBe(false);
  });

  describe('inputs', () => {
    it('a config file restored from the "before" snapshot by a placeholder step', async () => {
      const h = lab.hosts[6]!;
      const d = driverFor(h);
      await mkdir(`${h.root}/etc/app`, { recursive: true });
      await writeFile(`${h.root}/etc/app/settings.ini`, 'threads=4\n');
      await chmod(`${h.root}/etc/app/settings.ini`, 0o640);
      const report = await rehearseOnHost({
        driver: d,
        snapshotSpec: { configFiles: ['/etc/app/settings.ini', '/etc/app/new.ini'] },
        forward: [
          { kind: 'write-config', path: '/etc/app/settings.ini', content: 'threads=64\n', mode: 0o600 },
          { kind: 'write-config', path: '/etc/app/new.ini', content: 'x=1\n' },
        ],
        rollback: [
          { kind: 'restore-config-from-snapshot', path: '/etc/app/settings.ini' },
          { kind: 'restore-config-from-snapshot', path: '/etc/app/new.ini' },
        ],
      });
      expect(report.outcome, brief(report)).toBe('identical');
      expect(report.rollback.steps.map((s) => (s.kind === 'restore-config' ? `${s.path} ${s.state.kind}` : s.kind))).toEqual(['/etc/app/settings.ini present', '/etc/app/new.ini absent']);
      expect(readFileSync(`${h.root}/etc/app/settings.ini`, 'utf8')).toBe('threads=4\n');
      expect(statSync(`${h.root}/etc/app/settings.ini`).mode & 0o7777).toBe(0o640);
      expect(existsSync(`${h.root}/etc/app/new.ini`)).toBe(false);
    });

    it('a rollback given as a function of the snapshots (how symbolic plans are materialized), and one that throws', async () => {
      const h = lab.hosts[6]!;
      const d = driverFor(h);
      const seen: Array<{ before: Snapshot; afterForward?: Snapshot }> = [];
      const forward: Step[] = [{ kind: 'write-config', path: '/etc/app/settings.ini', content: 'threads=8\n' }];
      const report = await rehearseOnHost({
        driver: d,
        snapshotSpec: { configFiles: ['/etc/app/settings.ini'] },
        forward,
        rollback(snapshots) {
          seen.push(snapshots);
          return snapshots.before.files.map((f): Step => ({ kind: 'restore-config', path: f.path, state: f.state }));
        },
      });
      expect(report.outcome, brief(report)).toBe('identical');
      expect(report.rollback.source).toBe('plan');
      expect(seen).toHaveLength(1);
      expect(seen[0]!.afterForward).toBe(report.snapshots.afterForward);
      expect(report.forwardChanges?.map((x) => x.kind)).toEqual(['config-changed']);
      const broken = await rehearseOnHost({
        driver: d,
        snapshotSpec: { configFiles: ['/etc/app/settings.ini'] },
        forward,
        rollback() {
          throw new Error('no database address for main');
        },
      });
      expect(broken.rollback.notPlanned).toEqual({ kind: 'materializer-failed', message: 'Error: no database address for main' });
      expect(broken.outcome).toBe('different');
      expect(broken.differences.map((x) => `${x.difference.kind} ${x.flag}`)).toEqual(['config-changed silent']);
      expect(readFileSync(`${h.root}/etc/app/settings.ini`, 'utf8')).toBe('threads=8\n');
    });

    it('bad input is refused before the host is touched', async () => {
      const h = lab.hosts[6]!;
      const d = driverFor(h);
      const forward: Step[] = [{ kind: 'write-config', path: '/etc/app/touched.ini', content: 'x\n' }];
      await expect(rehearseOnHost({ driver: d, snapshotSpec: {}, forward, rollback: [{ kind: 'service', action: 'start', service: 'bad name' }] })).rejects.toThrow(/^rollback step 1: "bad name" is not a valid service name/);
      await expect(rehearseOnHost({ driver: d, snapshotSpec: {}, forward, healthChecks: [{ kind: 'command', argv: [] }] })).rejects.toMatchObject({ code: 'RW_USAGE', hint: expect.any(String) });
      // a placeholder the snapshot has no state for is found after the snapshot, still before any step
      await expect(rehearseOnHost({ driver: d, snapshotSpec: {}, forward, rollback: [{ kind: 'restore-config-from-snapshot', path: '/etc/app/unknown.ini' }] })).rejects.toMatchObject({
        code: 'RW_USAGE',
        message: expect.stringContaining('/etc/app/unknown.ini'),
      });
      expect(existsSync(`${h.root}/etc/app/touched.ini`)).toBe(false);
    });

    it('a command health check on a driver that cannot run commands is reported not run', async () => {
      const plain = createDirectoryRootDriver({ root: lab.hosts[6]!.root, name: 'plain', chrootlessScripts: lab.chrootlessScripts });
      const report = await rehearseOnHost({ driver: plain, snapshotSpec: { conffiles: false }, forward: [], healthChecks: [{ kind: 'command', argv: ['true'] }] });
      expect(report.outcome).toBe('identical');
      expect(report.health.afterForward).toEqual([{ check: { kind: 'command', argv: ['true'] }, status: 'not-run', reason: 'no-command-runner' }]);
    });
  });

  it("left the machine's own dpkg database, its log and the marker paths untouched", () => {
    expect(recordMachineState(MARKERS)).toEqual(machine);
  });
});

describe('a rehearsal test that dies half-way', () => {
  const fixture = fileURLToPath(new URL('./fixtures/dying-rehearsal.ts', import.meta.url));

  /** Processes whose command line names `dir`, after giving signalled ones up to 10 s to exit. */
  async function survivors(dir: string): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const out = spawnSync('pgrep', ['-af', dir], { encoding: 'utf8' }).stdout.trim();
      if (out === '' || Date.now() > deadline) return out;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('leaves no lab behind: roots, supervisor and the deployed service are gone', async () => {
    const { info, code, stderr } = await new Promise<{ info: { dir: string; servicePid: number }; code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('error', reject);
      child.on('close', (c) => {
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (!line) reject(new Error(`the fixture printed nothing (${c}): ${err}`));
        else resolve({ info: JSON.parse(line), code: c, stderr: err });
      });
    });
    // it died of an uncaught failure while the deployed service was running
    expect(code).toBe(1);
    expect(stderr).toContain('assertion failed half-way');
    expect(info.servicePid).toBeGreaterThan(0);
    expect(existsSync(info.dir)).toBe(false);
    expect(await survivors(info.dir)).toBe('');
    let alive = true;
    try {
      process.kill(info.servicePid, 0);
    } catch {
      alive = false;
    }
    expect(alive).toBe(false);
  });
});
