// What a directory root may make Rollwise do: paths and links inside a root are resolved inside
// it (snapshots, write-config, restore-config, facts, preparing a root), the root's own apt
// configuration is never loaded, and maintainer scripts run chrootless only for trusted packages.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectoryRootDriver, prepareDirectoryRoot, type HostDriver } from '../../src/hosts/index.js';
import type { Step, StepOutcome } from '../../src/planner/index.js';
import { createLab, type Lab, type LabHost } from '../lab/index.js';
import { recordMachineDpkg, type MachineDpkgRecord } from './machine-guard.js';

let lab: Lab;
let outside: string;
let machine: MachineDpkgRecord;
const SECRET = `TOP-SECRET-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  machine = recordMachineDpkg();
  // a directory outside every root, standing for the machine's own files
  outside = await mkdtemp(path.join(os.tmpdir(), 'rw-outside-'));
  await writeFile(path.join(outside, 'secret'), `${SECRET}\n`, { mode: 0o600 });
  await writeFile(path.join(outside, 'victim.conf'), 'the machine\'s own file\n');
  lab = await createLab({
    hosts: 10,
    packages: [
      { name: 'demo', version: '1.0', conffiles: { '/etc/demo.conf': 'level=1\n' } },
      { name: 'demo', version: '2.0', conffiles: { '/etc/demo.conf': 'level=2\n' } },
      { name: 'plain', version: '1.0', scripts: false, files: { '/usr/share/plain/README': 'no scripts\n' } },
      { name: 'libscripted1', version: '1.0' },
      { name: 'frontend', version: '1.0', scripts: false, depends: 'libscripted1' },
    ],
  });
});

afterAll(async () => {
  await lab?.destroy();
  if (outside) await rm(outside, { recursive: true, force: true });
});

const driverFor = (h: LabHost, trusted = true): HostDriver =>
  createDirectoryRootDriver({ root: h.root, name: h.name, ...(trusted ? { chrootlessScripts: lab.chrootlessScripts } : {}) });

function expectRejected(o: StepOutcome, pattern: RegExp): void {
  expect(o.status, JSON.stringify(o)).toBe('failed');
  if (o.status !== 'failed' || o.failure.kind !== 'rejected') throw new Error(`not rejected: ${JSON.stringify(o)}`);
  expect(o.failure.code).toMatch(/^RW_/);
  expect(o.failure.hint).toBeTruthy();
  expect(o.failure.message).toMatch(pattern);
}

/** Every file under a directory, as paths relative to it. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe('a directory root is confined', () => {
  it('a conffile path with .. in the root\'s dpkg status is not read (the snapshot names it)', async () => {
    const h = lab.hosts[0]!;
    const d = driverFor(h);
    expect((await d.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'install', to: '1.0' }] })).status).toBe('succeeded');
    const fromRoot = path.relative(h.root, path.join(outside, 'secret')); // ../../../rw-outside-x/secret
    for (const conffile of [`/etc/${fromRoot}`, `/${fromRoot}`, fromRoot]) {
      const status = path.join(h.root, 'var/lib/dpkg/status');
      const original = await readFile(status, 'utf8');
      const md5 = createHash('md5').update(`${SECRET}\n`).digest('hex');
      await writeFile(status, original.replace(/^Conffiles:\n/m, `Conffiles:\n ${conffile} ${md5}\n`));
      try {
        const s = await d.takeSnapshot();
        expect(s.kind, JSON.stringify(s)).toBe('failed');
        expect(JSON.stringify(s)).not.toContain(Buffer.from(`${SECRET}\n`).toString('base64'));
        expect(s.kind === 'failed' && s.message).toContain(conffile);
        expect(s.kind === 'failed' && s.message).toContain('demo');
      } finally {
        await writeFile(status, original);
      }
    }
    expect((await d.takeSnapshot()).kind).toBe('ok');
  });

  it('with <root>/etc a link to a directory outside (absolute), write/restore-config and snapshots stay inside the root', async () => {
    const h = lab.hosts[1]!;
    const d = driverFor(h);
    await rename(path.join(h.root, 'etc'), path.join(h.root, 'etc.orig'));
    await symlink(outside, path.join(h.root, 'etc'));
    const before = filesUnder(outside);
    const writes: Step[] = [
      { kind: 'write-config', path: '/etc/app.conf', content: 'written\n', mode: 0o640 },
      { kind: 'write-config', path: '/etc/victim.conf', content: 'overwritten\n' },
      { kind: 'restore-config', path: '/etc/secret', state: { kind: 'present', sha256: createHash('sha256').update('restored\n').digest('hex'), mode: 0o644, contentBase64: Buffer.from('restored\n').toString('base64') } },
    ];
    for (const step of writes) expect((await d.apply(step)).status).toBe('succeeded');
    // the absolute link is read as the root's own system reads it: <root><outside>
    const inside = path.join(h.root, outside);
    expect(readFileSync(path.join(inside, 'app.conf'), 'utf8')).toBe('written\n');
    expect(lstatSync(path.join(inside, 'app.conf')).mode & 0o777).toBe(0o640);
    expect(readFileSync(path.join(inside, 'secret'), 'utf8')).toBe('restored\n');
    expect((await d.apply({ kind: 'restore-config', path: '/etc/victim.conf', state: { kind: 'absent' } })).status).toBe('succeeded');
    expect(existsSync(path.join(inside, 'victim.conf'))).toBe(false);
    // the real outside directory is untouched
    expect(filesUnder(outside)).toEqual(before);
    expect(readFileSync(path.join(outside, 'victim.conf'), 'utf8')).toBe("the machine's own file\n");
    expect(readFileSync(path.join(outside, 'secret'), 'utf8')).toBe(`${SECRET}\n`);
    const s = await d.takeSnapshot({ configFiles: ['/etc/secret', '/etc/victim.conf'], conffiles: false });
    if (s.kind !== 'ok') throw new Error(JSON.stringify(s));
    expect(s.value.files.map((f) => `${f.path} ${f.state.kind}`)).toEqual(['/etc/secret present', '/etc/victim.conf absent']);
    expect(JSON.stringify(s)).not.toContain(Buffer.from(`${SECRET}\n`).toString('base64'));
  });

  it('a relative link that climbs out of the root is refused: a rejected step, a failed snapshot, nothing outside touched', async () => {
    const h = lab.hosts[2]!;
    const d = driverFor(h);
    await rename(path.join(h.root, 'etc'), path.join(h.root, 'etc.orig'));
    await symlink(path.relative(h.root, outside), path.join(h.root, 'etc'));
    const before = filesUnder(outside);
    expectRejected(await d.apply({ kind: 'write-config', path: '/etc/app.conf', content: 'x\n' }), /leads out of the root/);
    expectRejected(await d.apply({ kind: 'write-config', path: '/etc/secret', content: 'x\n', mode: 0o644 }), /leads out of the root/);
    expectRejected(await d.apply({ kind: 'restore-config', path: '/etc/victim.conf', state: { kind: 'absent' } }), /leads out of the root/);
    const s = await d.takeSnapshot({ configFiles: ['/etc/secret'] });
    expect(s.kind === 'failed' && s.message).toMatch(/\/etc\/secret.*leads out of the root/);
    expect(JSON.stringify(s)).not.toContain(Buffer.from(`${SECRET}\n`).toString('base64'));
    expect(filesUnder(outside)).toEqual(before);
    expect(readFileSync(path.join(outside, 'victim.conf'), 'utf8')).toBe("the machine's own file\n");
  });

  it('a link deeper in the path is resolved inside the root too', async () => {
    const h = lab.hosts[3]!;
    const d = driverFor(h);
    await mkdir(path.join(h.root, 'etc/app'), { recursive: true });
    await symlink(outside, path.join(h.root, 'etc/app/conf.d')); // absolute: re-rooted
    await mkdir(path.join(h.root, 'etc/other'), { recursive: true });
    await symlink('../../../' + path.relative(path.dirname(h.root), outside), path.join(h.root, 'etc/other/conf.d')); // climbs out
    await symlink('../app/conf.d', path.join(h.root, 'etc/other/alias')); // a link to a link
    const before = filesUnder(outside);
    expect((await d.apply({ kind: 'write-config', path: '/etc/app/conf.d/x.conf', content: 'x\n' })).status).toBe('succeeded');
    expect(readFileSync(path.join(h.root, outside, 'x.conf'), 'utf8')).toBe('x\n');
    expect((await d.apply({ kind: 'write-config', path: '/etc/other/alias/y.conf', content: 'y\n' })).status).toBe('succeeded');
    expect(readFileSync(path.join(h.root, outside, 'y.conf'), 'utf8')).toBe('y\n');
    expectRejected(await d.apply({ kind: 'write-config', path: '/etc/other/conf.d/secret', content: 'z\n' }), /leads out of the root/);
    expect(filesUnder(outside)).toEqual(before);
  });

  it('an absolute link such as /var/run -> /run resolves inside the root', async () => {
    const h = lab.hosts[4]!;
    const d = driverFor(h);
    await mkdir(path.join(h.root, 'run'), { recursive: true });
    await mkdir(path.join(h.root, 'var'), { recursive: true });
    await symlink('/run', path.join(h.root, 'var/run'));
    const name = `rollwise-confine-${process.pid}`;
    const o = await d.apply({ kind: 'write-config', path: `/var/run/${name}/app.pid`, content: '42\n' });
    expect(o.status, JSON.stringify(o)).toBe('succeeded');
    expect(readFileSync(path.join(h.root, 'run', name, 'app.pid'), 'utf8')).toBe('42\n');
    expect(existsSync(`/run/${name}`)).toBe(false);
    const s = await d.takeSnapshot({ configFiles: [`/var/run/${name}/app.pid`], conffiles: false });
    expect(s.kind === 'ok' && s.value.files[0]!.state.kind).toBe('present');
    expect((await d.apply({ kind: 'restore-config', path: `/var/run/${name}/app.pid`, state: { kind: 'absent' } })).status).toBe('succeeded');
    expect(existsSync(path.join(h.root, 'run', name, 'app.pid'))).toBe(false);
  });

  it('preparing a root and reading its facts follow its links inside it', async () => {
    const root = path.join(lab.dir, 'linked-root');
    await mkdir(root, { recursive: true });
    await symlink(outside, path.join(root, 'etc'));
    const before = filesUnder(outside);
    await prepareDirectoryRoot(root, { facts: { cpus: 3 } });
    expect(filesUnder(outside)).toEqual(before);
    expect(existsSync(path.join(root, outside, 'os-release'))).toBe(true);
    const f = await createDirectoryRootDriver({ root }).readFacts();
    expect(f.kind === 'ok' && f.value.cpus).toBe(3);
    expect(f.kind === 'ok' && f.value.os?.id).toBe('debian');
  });

  it('a service directory linked out of the root (/etc/service/web -> /etc/sv/web) is refused: sv never runs on it', async () => {
    const h = lab.hosts[9]!;
    const d = driverFor(h);
    await mkdir(path.join(outside, 'sv/web/supervise'), { recursive: true });
    await mkdir(path.join(h.root, 'etc/service'), { recursive: true });
    await symlink(path.join(outside, 'sv/web'), path.join(h.root, 'etc/service/web')); // the kernel follows it out
    const before = filesUnder(outside);
    expectRejected(await d.apply({ kind: 'service', action: 'restart', service: 'web' }), /etc\/service\/web.*out of the root/);
    expect(await d.readServiceState('web')).toBe('unknown');
    expect(filesUnder(outside)).toEqual(before);
    // the same layout inside the root (a relative link) is the root's own business
    await rm(path.join(h.root, 'etc/service/web'));
    await mkdir(path.join(h.root, 'etc/sv/web'), { recursive: true });
    await symlink('../sv/web', path.join(h.root, 'etc/service/web'));
    expect(await d.readServiceState('web')).toBe('unsupervised');
    await rm(path.join(outside, 'sv'), { recursive: true });
  });

  it("never loads the root's own apt configuration (its hooks would run on this machine)", async () => {
    const h = lab.hosts[5]!;
    const marker = path.join(outside, `hook-ran-${process.pid}`);
    await writeFile(path.join(h.root, 'etc/apt/apt.conf.d/99hook'), `DPkg::Pre-Invoke { "touch ${marker}"; };\nAPT::Update::Pre-Invoke { "touch ${marker}"; };\n`);
    await writeFile(path.join(h.root, 'etc/apt/apt.conf'), `DPkg::Post-Invoke { "touch ${marker}"; };\n`);
    const d = driverFor(h);
    expect((await d.apply({ kind: 'refresh-index' })).status).toBe('succeeded');
    expect((await d.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'install', to: '1.0' }] })).status).toBe('succeeded');
    expect(existsSync(marker)).toBe(false);
  });
});

describe('maintainer scripts run chrootless only for packages the driver trusts', () => {
  const scriptLog = (h: LabHost, pkg: string): string => path.join(h.root, 'var/lib/lab-scripts', `${pkg}.log`);
  const installedSet = async (d: HostDriver): Promise<Record<string, string>> => {
    const r = await d.readInstalled();
    if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
    return Object.fromEntries(r.value.map((p) => [p.name, `${p.status} ${p.version}`]));
  };

  it('refuses a package with maintainer scripts before dpkg runs, unless trusted; one without scripts installs', async () => {
    const h = lab.hosts[6]!;
    const untrusted = driverFor(h, false);
    const o = await untrusted.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'install', to: '1.0' }] });
    expectRejected(o, /demo 1\.0 \(postinst, postrm, preinst, prerm\)/);
    expect(await installedSet(untrusted)).toEqual({});
    expect(existsSync(scriptLog(h, 'demo'))).toBe(false);
    expect(existsSync(path.join(h.root, 'etc/demo.conf'))).toBe(false);
    // a dependency's scripts count as well
    expectRejected(await untrusted.apply({ kind: 'packages', changes: [{ name: 'frontend', action: 'install', to: '1.0' }] }), /libscripted1 1\.0/);
    expect(await installedSet(untrusted)).toEqual({});
    // no scripts: nothing runs outside dpkg itself
    const plain = await untrusted.apply({ kind: 'packages', changes: [{ name: 'plain', action: 'install', to: '1.0' }] });
    expect(plain.status, JSON.stringify(plain)).toBe('succeeded');
    expect(await installedSet(untrusted)).toEqual({ plain: 'ii 1.0' });
    // trusted: the same step goes through
    const trusted = await driverFor(h).apply({ kind: 'packages', changes: [{ name: 'demo', action: 'install', to: '1.0' }] });
    expect(trusted.status, JSON.stringify(trusted)).toBe('succeeded');
    expect(readFileSync(scriptLog(h, 'demo'), 'utf8')).toContain('postinst configure');
  });

  it("counts the installed package's prerm/postrm for removals and upgrades, and checks each version", async () => {
    const h = lab.hosts[7]!;
    expect((await driverFor(h).apply({ kind: 'packages', changes: [{ name: 'demo', action: 'install', to: '1.0' }] })).status).toBe('succeeded');
    const log = readFileSync(scriptLog(h, 'demo'), 'utf8');
    const untrusted = driverFor(h, false);
    expectRejected(await untrusted.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'remove' }] }), /demo 1\.0 \(installed prerm, installed postrm\)/);
    expectRejected(await untrusted.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'purge' }] }), /demo 1\.0/);
    // trusting 1.0 only: the upgrade would run 2.0's scripts
    const onlyOne = createDirectoryRootDriver({ root: h.root, chrootlessScripts: { trusted: (n, v) => n === 'demo' && v === '1.0' } });
    expectRejected(await onlyOne.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'upgrade', to: '2.0' }] }), /demo 2\.0 \(postinst, postrm, preinst, prerm\)/);
    expect(await installedSet(untrusted)).toEqual({ demo: 'ii 1.0' });
    expect(readFileSync(scriptLog(h, 'demo'), 'utf8')).toBe(log);
    expect((await driverFor(h).apply({ kind: 'packages', changes: [{ name: 'demo', action: 'purge' }] })).status).toBe('succeeded');
    expect(await installedSet(untrusted)).toEqual({});
  });

  it('counts packages awaiting triggers: their postinst may run in any transaction', async () => {
    const h = lab.hosts[8]!;
    const d = driverFor(h);
    expect((await d.apply({ kind: 'packages', changes: [{ name: 'libscripted1', action: 'install', to: '1.0' }] })).status).toBe('succeeded');
    await writeFile(path.join(h.root, 'var/lib/dpkg/info/libscripted1.triggers'), 'interest-noawait /usr/share/plain\n');
    await chmod(path.join(h.root, 'var/lib/dpkg/info/libscripted1.triggers'), 0o644);
    expectRejected(await driverFor(h, false).apply({ kind: 'packages', changes: [{ name: 'plain', action: 'install', to: '1.0' }] }), /libscripted1 1\.0 \(postinst, run by triggers\)/);
    await rm(path.join(h.root, 'var/lib/dpkg/info/libscripted1.triggers'));
    expect((await driverFor(h, false).apply({ kind: 'packages', changes: [{ name: 'plain', action: 'install', to: '1.0' }] })).status).toBe('succeeded');
  });

  it("left the machine's own dpkg database and log untouched", () => {
    expect(recordMachineDpkg()).toEqual(machine);
  });
});
