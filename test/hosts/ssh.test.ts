// The SSH driver against lab hosts: sshd in a network namespace, the host a directory root.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDebCache, createDirectoryRootDriver, createSshDriver, type HostDriver } from '../../src/hosts/index.js';
import { snapshotContent, type Step } from '../../src/planner/index.js';
import { createLab, type Lab } from '../lab/index.js';
import { recordMachineDpkg, type MachineDpkgRecord } from './machine-guard.js';

let lab: Lab;
let machine: MachineDpkgRecord;
let ssh0: HostDriver;

beforeAll(async () => {
  machine = recordMachineDpkg();
  lab = await createLab({
    hosts: 3,
    ssh: true,
    packages: [
      { name: 'demo', version: '1.0', conffiles: { '/etc/demo.conf': 'level=1\n' } },
      { name: 'demo', version: '2.0', conffiles: { '/etc/demo.conf': 'level=2\n' } },
      { name: 'flaky', version: '2.0', fail: ['postinst'] },
    ],
  });
  const h = lab.hosts[0]!;
  ssh0 = createSshDriver({ name: h.name, ssh: lab.sshOptionsFor(h), root: h.root, chrootlessScripts: lab.chrootlessScripts });
});

afterAll(async () => {
  await lab?.destroy();
});

const pkg = (name: string, action: 'install' | 'upgrade' | 'downgrade', version: string): Step => ({ kind: 'packages', changes: [{ name, action, to: version }] });

async function installed(d: HostDriver): Promise<Record<string, string>> {
  const r = await d.readInstalled();
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
  return Object.fromEntries(r.value.map((p) => [p.name, `${p.status} ${p.version}`]));
}

describe('ssh driver (OpenSSH client -> sshd in a network namespace)', () => {
  it('the lab ssh_config works for plain ssh from the machine (for inventory tests)', () => {
    const r = spawnSync('ssh', ['-F', lab.ssh!.configFile, 'host-1', 'ip', '-4', '-o', 'addr', 'show', 'eth0'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(lab.hosts[1]!.address);
    // the lab subnet exists only inside the lab's namespaces: no address or route for it here
    expect(spawnSync('ip', ['-4', 'addr'], { encoding: 'utf8' }).stdout).not.toContain('10.77.0.');
    expect(spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout).not.toContain('10.77.0.');
    // and no default route inside a host's namespace
    const inside = spawnSync('ip', ['-n', lab.hosts[1]!.namespace!, '-4', 'route'], { encoding: 'utf8' }).stdout;
    expect(inside).toContain('10.77.0.0/24');
    expect(inside).not.toContain('default');
  });

  it('reads facts and the installed set remotely', async () => {
    const f = await ssh0.readFacts();
    expect(f).toEqual({ kind: 'ok', value: expect.objectContaining({ architecture: 'amd64', os: expect.objectContaining({ id: 'debian' }) }) });
    expect(await installed(ssh0)).toEqual({});
  });

  it('a remote root refuses a package whose maintainer scripts it was not told are safe to run chrootless', async () => {
    const h = lab.hosts[1]!;
    const untrusting = createSshDriver({ name: h.name, ssh: lab.sshOptionsFor(h), root: h.root });
    const o = await untrusting.apply(pkg('demo', 'install', '1.0'));
    if (o.status !== 'failed' || o.failure.kind !== 'rejected') throw new Error(`not rejected: ${JSON.stringify(o)}`);
    expect(o.failure.message).toMatch(/maintainer scripts/);
    expect(await installed(untrusting)).toEqual({});
  });

  it('installs, upgrades, downgrades and removes over ssh, seen identically by the local directory-root driver', async () => {
    expect((await ssh0.apply(pkg('demo', 'install', '1.0'))).status).toBe('succeeded');
    const up = await ssh0.apply(pkg('demo', 'upgrade', '2.0'));
    expect(up.status === 'succeeded' && up.packages).toEqual([{ name: 'demo', architecture: 'all', before: { version: '1.0', status: 'ii' }, after: { version: '2.0', status: 'ii' } }]);
    expect((await ssh0.apply(pkg('demo', 'downgrade', '1.0'))).status).toBe('succeeded');
    expect(await installed(ssh0)).toEqual({ demo: 'ii 1.0' });
    const local = createDirectoryRootDriver({ root: lab.hosts[0]!.root, name: 'host-0', chrootlessScripts: lab.chrootlessScripts });
    const a = await ssh0.takeSnapshot({ configFiles: ['/etc/os-release'] });
    const b = await local.takeSnapshot({ configFiles: ['/etc/os-release'] });
    if (a.kind !== 'ok' || b.kind !== 'ok') throw new Error('snapshot');
    expect(snapshotContent(a.value)).toEqual(snapshotContent(b.value));
    expect((await ssh0.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'remove' }] })).status).toBe('succeeded');
    expect(await installed(ssh0)).toEqual({ demo: 'rc 1.0' });
  });

  it('reports a failing maintainer script over ssh as failed with the remote output', async () => {
    const o = await ssh0.apply(pkg('flaky', 'install', '2.0'));
    expect(o.status === 'failed' && o.failure.kind === 'command' && o.failure.exitCode).toBe(100);
    expect(o.status === 'failed' && o.failure.kind === 'command' && o.failure.output).toContain('flaky postinst: built to fail');
  });

  it('passes hostile-looking content and paths through the remote shell byte for byte, running nothing', async () => {
    const marker = path.join(lab.dir, 'pwned');
    const content = `a='b'; $(touch ${marker}) \`touch ${marker}\` "x" \\ ; | & \n\ttab\n`;
    const p = "/etc/app/it's a \"file\" $(x).conf";
    const o = await ssh0.apply({ kind: 'write-config', path: p, content, mode: 0o600 });
    expect(o.status, JSON.stringify(o)).toBe('succeeded');
    expect(readFileSync(`${lab.hosts[0]!.root}${p}`, 'utf8')).toBe(content);
    expect(existsSync(marker)).toBe(false);
    const snap = await ssh0.takeSnapshot({ configFiles: [p], conffiles: false });
    expect(snap.kind === 'ok' && snap.value.files[0]?.state.kind === 'present' && snap.value.files[0].state.mode).toBe(0o600);
  });

  it('refuses a host whose key does not match known_hosts (strict checking): outcome unknown, nothing done', async () => {
    const h = lab.hosts[2]!;
    const wrongKnownHosts = path.join(lab.dir, 'wrong_known_hosts');
    const other = readFileSync(lab.ssh!.knownHostsFile, 'utf8').split('\n').find((l) => l.startsWith(`${lab.hosts[0]!.address} `))!;
    await writeFile(wrongKnownHosts, `${h.address} ${other.split(' ').slice(1).join(' ')}\n`);
    const d = createSshDriver({ name: h.name, ssh: { ...lab.sshOptionsFor(h), knownHostsFile: wrongKnownHosts, controlPath: path.join(lab.ssh!.controlDir, 'wrongkey.sock') }, root: h.root });
    const o = await d.apply(pkg('demo', 'install', '1.0'));
    expect(o.status).toBe('unknown');
    expect(o.status === 'unknown' && o.reason).toMatch(/host key/i);
    expect(await installed(createDirectoryRootDriver({ root: h.root }))).toEqual({});
  });

  it('a host whose connection is gone gives unknown outcomes, not exceptions', async () => {
    const h = lab.hosts[1]!;
    const d = createSshDriver({ name: h.name, ssh: { ...lab.sshOptionsFor(h), connectTimeoutSeconds: 3 }, root: h.root });
    expect((await d.apply({ kind: 'refresh-index' })).status).toBe('succeeded');
    await lab.stopSshd(h);
    const o = await d.apply(pkg('demo', 'install', '1.0'));
    expect(o.status).toBe('unknown');
    expect(await d.readInstalled()).toMatchObject({ kind: 'unknown' });
    expect(await d.readFacts()).toMatchObject({ kind: 'unknown' });
  });

  it('downgrades over ssh from a .deb cached here, after the repository dropped it (the file is copied to the host)', async () => {
    const h = lab.hosts[2]!;
    const d = createSshDriver({ name: h.name, ssh: lab.sshOptionsFor(h), root: h.root, chrootlessScripts: lab.chrootlessScripts });
    expect((await d.apply(pkg('demo', 'install', '2.0'))).status).toBe('succeeded');
    const cache = createDebCache(path.join(lab.dir, 'cache'));
    const kept = await cache.keepFromRepository({ baseUrl: `file:${lab.repository.dir}` }, 'demo', '1.0');
    if (kept.kind !== 'kept') throw new Error(JSON.stringify(kept));
    await lab.repository.drop('demo', '1.0');
    expect((await d.apply({ kind: 'refresh-index' })).status).toBe('succeeded');
    expect((await d.apply(pkg('demo', 'downgrade', '1.0'))).status).toBe('failed');
    const o = await d.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'downgrade', to: '1.0', debPath: kept.deb.path }] });
    expect(o.status, JSON.stringify(o)).toBe('succeeded');
    expect(await installed(d)).toMatchObject({ demo: 'ii 1.0' });
    expect(existsSync(`${h.root}/var/cache/rollwise/debs/${kept.deb.sha256}.deb`)).toBe(true);
  });

  it("left the machine's own dpkg database and log untouched", () => {
    expect(recordMachineDpkg()).toEqual(machine);
  });
});
