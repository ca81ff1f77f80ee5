// Real dpkg and apt-get on directory-root hosts of the lab.
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachePreviousVersions, createDebCache, createDirectoryRootDriver, type HostDriver } from '../../src/hosts/index.js';
import { compareSnapshots, planRestore, snapshotContent, type Snapshot, type SnapshotSpec, type Step } from '../../src/planner/index.js';
import { createLab, type Lab } from '../lab/index.js';
import { recordMachineDpkg, type MachineDpkgRecord } from './machine-guard.js';

let lab: Lab;
let machine: MachineDpkgRecord;
const drivers: HostDriver[] = [];

beforeAll(async () => {
  machine = recordMachineDpkg();
  lab = await createLab({
    hosts: 8,
    packages: [
      { name: 'demo', version: '1.0', conffiles: { '/etc/demo.conf': 'level=1\n' }, files: { '/usr/share/demo/VERSION': '1.0\n' } },
      { name: 'demo', version: '2.0', conffiles: { '/etc/demo.conf': 'level=2\n' }, files: { '/usr/share/demo/VERSION': '2.0\n' } },
      { name: 'demo', version: '3.0', conffiles: { '/etc/demo.conf': 'level=3\n' } },
      { name: 'libdemo1', version: '1.0' },
      { name: 'app', version: '1.0', depends: 'libdemo1 (>= 1.0)' },
      { name: 'rival', version: '1.0', conflicts: 'demo' },
      { name: 'mta-one', version: '1.0', provides: 'mail-transport-agent' },
      { name: 'mailer', version: '1.0', depends: 'mail-transport-agent' },
      { name: 'flaky', version: '1.0' },
      { name: 'flaky', version: '2.0', fail: ['postinst'] },
    ],
  });
  for (const h of lab.hosts) drivers.push(createDirectoryRootDriver({ root: h.root, name: h.name, chrootlessScripts: lab.chrootlessScripts }));
});

afterAll(async () => {
  await lab?.destroy();
});

const install = (name: string, version: string, action: 'install' | 'upgrade' | 'downgrade' = 'install'): Step => ({
  kind: 'packages',
  changes: [{ name, action, to: version }],
});

async function installed(d: HostDriver): Promise<Record<string, string>> {
  const r = await d.readInstalled();
  if (r.kind !== 'ok') throw new Error(`cannot read installed set: ${JSON.stringify(r)}`);
  return Object.fromEntries(r.value.map((p) => [p.name, `${p.status} ${p.version}`]));
}

async function snapshot(d: HostDriver, spec?: SnapshotSpec): Promise<Snapshot> {
  const r = await d.takeSnapshot(spec);
  if (r.kind !== 'ok') throw new Error(`snapshot failed: ${JSON.stringify(r)}`);
  return r.value;
}

describe('directory-root host with the real dpkg and apt', () => {
  it('reads facts from files under the root', async () => {
    const f = await drivers[0]!.readFacts();
    expect(f).toEqual({ kind: 'ok', value: expect.objectContaining({ os: { id: 'debian', versionId: '12', codename: 'bookworm' }, architecture: 'amd64', cpus: 2, memoryMiB: 2048 }) });
  });

  it('installs at an exact version, pulling dependencies (also through Provides), and reports what changed', async () => {
    const d = drivers[0]!;
    const o = await d.apply(install('app', '1.0'));
    expect(o.status, JSON.stringify(o)).toBe('succeeded');
    expect(o.status === 'succeeded' && o.packages?.map((p) => `${p.name} ${p.after?.version}`)).toEqual(['app 1.0', 'libdemo1 1.0']);
    const m = await d.apply(install('mailer', '1.0'));
    expect(m.status).toBe('succeeded');
    expect(await installed(d)).toEqual({ app: 'ii 1.0', libdemo1: 'ii 1.0', mailer: 'ii 1.0', 'mta-one': 'ii 1.0' });
    // dpkg logged into the root, not the machine's log
    expect(readFileSync(path.join(lab.hosts[0]!.root, 'var/log/dpkg.log'), 'utf8')).toContain('install app:all');
  });

  it('upgrades, downgrades, removes and purges', async () => {
    const d = drivers[1]!;
    const root = lab.hosts[1]!.root;
    expect((await d.apply(install('demo', '1.0'))).status).toBe('succeeded');
    expect(readFileSync(`${root}/usr/share/demo/VERSION`, 'utf8')).toBe('1.0\n');
    const up = await d.apply(install('demo', '2.0', 'upgrade'));
    expect(up.status === 'succeeded' && up.packages).toEqual([{ name: 'demo', architecture: 'all', before: { version: '1.0', status: 'ii' }, after: { version: '2.0', status: 'ii' } }]);
    expect(readFileSync(`${root}/etc/demo.conf`, 'utf8')).toBe('level=2\n'); // unchanged conffile follows the package
    const down = await d.apply(install('demo', '1.0', 'downgrade'));
    expect(down.status).toBe('succeeded');
    expect(await installed(d)).toEqual({ demo: 'ii 1.0' });
    expect(readFileSync(`${root}/usr/share/demo/VERSION`, 'utf8')).toBe('1.0\n');
    const rm = await d.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'remove' }] });
    expect(rm.status).toBe('succeeded');
    expect(await installed(d)).toEqual({ demo: 'rc 1.0' });
    expect(existsSync(`${root}/etc/demo.conf`)).toBe(true);
    expect(existsSync(`${root}/usr/share/demo/VERSION`)).toBe(false);
    const purge = await d.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'purge' }] });
    expect(purge.status).toBe('succeeded');
    expect(await installed(d)).toEqual({});
    expect(existsSync(`${root}/etc/demo.conf`)).toBe(false);
  });

  it("keeps a conffile the operator changed across an upgrade (--force-confold), the package's version beside it", async () => {
    const d = drivers[2]!;
    const root = lab.hosts[2]!.root;
    expect((await d.apply(install('demo', '1.0'))).status).toBe('succeeded');
    expect((await d.apply({ kind: 'write-config', path: '/etc/demo.conf', content: 'level=operator\n' })).status).toBe('succeeded');
    const up = await d.apply(install('demo', '2.0', 'upgrade'));
    expect(up.status, JSON.stringify(up)).toBe('succeeded');
    expect(readFileSync(`${root}/etc/demo.conf`, 'utf8')).toBe('level=operator\n');
    expect(readFileSync(`${root}/etc/demo.conf.dpkg-dist`, 'utf8')).toBe('level=2\n');
  });

  it('reports a failing maintainer script as a failed step with apt/dpkg output and the half-configured state', async () => {
    const d = drivers[3]!;
    const o = await d.apply(install('flaky', '2.0'));
    expect(o.status).toBe('failed');
    if (o.status !== 'failed' || o.failure.kind !== 'command') throw new Error(JSON.stringify(o));
    expect(o.failure.exitCode).toBe(100);
    expect(o.failure.output).toContain('flaky postinst: built to fail');
    expect(o.failure.output).toMatch(/^E: /m);
    expect(o.packages).toEqual([{ name: 'flaky', architecture: 'all', after: { version: '2.0', status: 'iF' } }]);
  });

  it('a maintainer script told to fail at run time fails, and the same step succeeds once it is fixed', async () => {
    const d = drivers[4]!;
    const root = lab.hosts[4]!.root;
    await mkdir(`${root}/etc/lab-fail`, { recursive: true });
    await writeFile(`${root}/etc/lab-fail/flaky.postinst`, '');
    const first = await d.apply(install('flaky', '1.0'));
    expect(first.status === 'failed' && first.failure.kind === 'command' && first.failure.output).toContain('flaky postinst: told to fail');
    expect(await installed(d)).toEqual({ flaky: 'iF 1.0' });
    await rm(`${root}/etc/lab-fail/flaky.postinst`);
    const again = await d.apply(install('flaky', '1.0'));
    expect(again.status, JSON.stringify(again)).toBe('succeeded');
    expect(await installed(d)).toEqual({ flaky: 'ii 1.0' });
  });

  it('never removes a conflicting package unless removal was planned (--no-remove)', async () => {
    const d = drivers[4]!;
    expect((await d.apply(install('demo', '1.0'))).status).toBe('succeeded');
    const before = await installed(d);
    const o = await d.apply(install('rival', '1.0'));
    expect(o.status).toBe('failed');
    expect(o.status === 'failed' && o.failure.kind === 'command' && o.failure.output).toMatch(/remove is disabled|Conflicts/);
    expect(await installed(d)).toEqual(before);
    // with the removal planned, the same change goes through
    const planned = await d.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'remove' }, { name: 'rival', action: 'install', to: '1.0' }] });
    expect(planned.status, JSON.stringify(planned)).toBe('succeeded');
    expect(await installed(d)).toMatchObject({ rival: 'ii 1.0', demo: 'rc 1.0' });
  });

  it('fails cleanly for a version the repository does not have', async () => {
    const o = await drivers[5]!.apply(install('demo', '9.9'));
    expect(o.status === 'failed' && o.failure.kind === 'command' && o.failure.output).toMatch(/Version '9.9' for 'demo' was not found/);
    expect(await installed(drivers[5]!)).toEqual({});
  });

  it('snapshot -> change -> restore gives an identical snapshot', async () => {
    const d = drivers[6]!;
    const root = lab.hosts[6]!.root;
    expect((await d.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'install', to: '1.0' }, { name: 'mailer', action: 'install', to: '1.0' }] })).status).toBe('succeeded');
    await mkdir(`${root}/etc/app`, { recursive: true });
    await writeFile(`${root}/etc/app/settings.ini`, 'threads=4\n');
    await chmod(`${root}/etc/app/settings.ini`, 0o640);
    const spec: SnapshotSpec = { configFiles: ['/etc/app/settings.ini', '/etc/app/optional.ini'] };
    const s0 = await snapshot(d, spec);
    expect(s0.files.map((f) => `${f.path} ${f.source} ${f.state.kind}`)).toEqual([
      '/etc/app/optional.ini config absent',
      '/etc/app/settings.ini config present',
      '/etc/demo.conf conffile present',
    ]);
    // change packages, a named config (content and mode), a conffile, and add a file that was absent
    const steps: Step[] = [
      { kind: 'packages', changes: [{ name: 'demo', action: 'upgrade', to: '2.0' }, { name: 'app', action: 'install', to: '1.0' }, { name: 'mailer', action: 'remove' }] },
      { kind: 'write-config', path: '/etc/app/settings.ini', content: 'threads=64\n', mode: 0o600 },
      { kind: 'write-config', path: '/etc/demo.conf', content: 'level=changed\n' },
      { kind: 'write-config', path: '/etc/app/optional.ini', content: 'x=1\n' },
    ];
    for (const s of steps) expect((await d.apply(s)).status).toBe('succeeded');
    const s1 = await snapshot(d, spec);
    const kinds = new Set(compareSnapshots(s0, s1).map((x) => x.kind));
    expect([...kinds].sort()).toEqual(['config-appeared', 'config-changed', 'config-mode-changed', 'package-added', 'package-status-changed', 'package-version-changed']);
    const plan = planRestore(s1, s0);
    expect(plan.unresolved).toEqual([]);
    for (const s of plan.steps) {
      const o = await d.apply(s);
      expect(o.status, JSON.stringify(o)).toBe('succeeded');
    }
    const s2 = await snapshot(d, spec);
    expect(compareSnapshots(s0, s2)).toEqual([]);
    expect(snapshotContent(s2)).toEqual(snapshotContent(s0));
  });

  it('downgrades from the .deb cache after the repository dropped the old version', async () => {
    const d = drivers[7]!;
    expect((await d.apply(install('demo', '3.0'))).status).toBe('succeeded');
    const cache = createDebCache(path.join(lab.dir, 'deb-cache'));
    const before = await d.readInstalled();
    if (before.kind !== 'ok') throw new Error('installed set');
    // the plan: demo 3.0 -> 2.0; keep 3.0 (what the plan changes) and 2.0 (the target) locally
    const kept = await cachePreviousVersions(cache, { baseUrl: lab.repository.dir }, before.value, [{ name: 'demo', action: 'downgrade', to: '2.0' }]);
    expect(kept.map((k) => `${k.name} ${k.version} ${k.outcome.kind}`)).toEqual(['demo 3.0 kept']);
    const expectedSha = lab.repository.debs.find((x) => x.name === 'demo' && x.version === '3.0')!.sha256;
    expect(kept[0]!.outcome.kind === 'kept' && kept[0]!.outcome.deb.sha256).toBe(expectedSha);
    expect((await d.apply(install('demo', '2.0', 'downgrade'))).status).toBe('succeeded');
    // the repository loses 3.0; rolling back to it through apt alone is now impossible...
    await lab.repository.drop('demo', '3.0');
    expect((await d.apply({ kind: 'refresh-index' })).status).toBe('succeeded');
    const viaRepo = await d.apply(install('demo', '3.0', 'upgrade'));
    expect(viaRepo.status).toBe('failed');
    // ...but the cached .deb makes it work
    const cached = await cache.find('demo', '3.0', 'all');
    expect(cached?.sha256).toBe(expectedSha);
    const viaCache = await d.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'upgrade', to: '3.0', debPath: cached!.path }] });
    expect(viaCache.status, JSON.stringify(viaCache)).toBe('succeeded');
    expect(await installed(d)).toEqual({ demo: 'ii 3.0' });
    expect((await cache.keepFromRepository({ baseUrl: lab.repository.dir }, 'demo', '3.0')).kind).toBe('not-found');
  });

  it('refuses to run apt on a directory that is not a prepared root', async () => {
    const bare = path.join(lab.dir, 'not-a-root');
    await mkdir(bare, { recursive: true });
    const o = await createDirectoryRootDriver({ root: bare }).apply(install('demo', '1.0'));
    expect(o.status === 'failed' && o.failure.kind).toBe('precondition');
  });

  it("left the machine's own dpkg database and log untouched", () => {
    expect(recordMachineDpkg()).toEqual(machine);
  });
});
