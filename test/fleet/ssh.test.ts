/**
 * The SSH inventory source against real OpenSSH servers in network namespaces (test/lab).
 * The lab's sshd shares this machine's filesystem (own mount namespace, tmpfs /run), so what a
 * lab host reports over SSH must equal what dpkg-query and uname say here.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, requireTool, type Lab } from '../lab/index.js';
import { collectSshHosts, type FleetHost } from '../../src/fleet/index.js';
import { runCli } from '../helpers/cli.js';

let lab: Lab;

const target = (name: string): FleetHost => ({ name, source: 'ssh', groups: [], labels: { from: 'inventory' }, facts: { memoryMiB: 1 }, installed: [], installedFrom: '', ssh: { host: name } });

beforeAll(async () => {
  requireTool('ssh'); // names the Debian package when the OpenSSH client is missing
  lab = await createLab({ hosts: 3, ssh: true, packages: [], updateIndex: false });
});
afterAll(async () => {
  await lab?.destroy();
});

describe('hosts over SSH (OpenSSH in network namespaces)', () => {
  it('collects facts and the installed set with batch mode and strict host keys, in parallel', async () => {
    const ssh = lab.ssh!;
    const progress: string[] = [];
    const r = await collectSshHosts([target('host-0'), target('host-1'), target('host-2')], {
      configFile: ssh.configFile, knownHosts: ssh.knownHostsFile, identity: ssh.identityFile, connectTimeout: 5, parallel: 2,
      onProgress: (done, total, host) => progress.push(`${done}/${total} ${host}`),
    });
    expect(r.findings.filter((f) => f.kind !== 'partial-facts')).toEqual([]);
    expect(r.hosts.map((h) => h.name)).toEqual(['host-0', 'host-1', 'host-2']);
    expect(progress).toHaveLength(3);
    const out = execFileSync('dpkg-query', ['-W', '-f=${Package}=${Version} ${db:Status-Abbrev}\n'], { encoding: 'utf8' });
    const expected = out.split('\n').filter((l) => / i[iUFWt]/.test(l)).map((l) => l.split(' ')[0]).sort();
    for (const h of r.hosts) {
      expect(h.source).toBe('ssh');
      expect(h.installed.map((p) => `${p.name}=${p.version}`).sort()).toEqual(expected);
      expect(h.facts.kernel).toBe(os.release());
      expect(h.facts.architecture).toBe(execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim());
      expect(h.facts.memoryMiB).toBeGreaterThan(1); // collected facts override the inventory's
      expect(h.facts.cpus).toBe(Number(execFileSync('nproc', { encoding: 'utf8' }).trim()));
      expect(h.labels).toEqual({ from: 'inventory' });
    }
  });

  it('reports a host with an unknown host key as unreachable (strict checking, no prompt)', async () => {
    const ssh = lab.ssh!;
    const empty = path.join(lab.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const r = await collectSshHosts([target('host-0')], { configFile: ssh.configFile, knownHosts: empty, identity: ssh.identityFile, connectTimeout: 5 });
    expect(r.hosts).toEqual([]);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]!.kind).toBe('unreachable');
    expect(r.findings[0]!.message).toMatch(/host key verification failed/i);
  });

  it('combines an inventory (status-file host + SSH hosts with inventory SSH defaults) and the local host', async () => {
    const ssh = lab.ssh!;
    const statusFile = path.join(lab.dir, 'web.status');
    writeFileSync(statusFile, 'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n');
    const inv = path.join(lab.dir, 'inventory.yaml');
    writeFileSync(inv, [
      'ssh:',
      `  knownHosts: ${ssh.knownHostsFile}`,
      `  identity: ${ssh.identityFile}`,
      `  config: ${ssh.configFile}`,
      '  connectTimeout: 5',
      'hosts:',
      '  - name: web-1',
      `    status: ${statusFile}`,
      '  - name: lab-a',
      '    ssh: { host: host-0 }',
      '    labels: { role: lab }',
      '  - name: lab-b',
      '    ssh: { host: host-1 }',
    ].join('\n'));
    const { collectFleet } = await import('../../src/fleet/index.js');
    const fleet = await collectFleet({ inventories: [inv], local: { name: 'me' } });
    expect(fleet.hosts.map((h) => [h.name, h.source])).toEqual([['web-1', 'inventory'], ['me', 'local'], ['lab-a', 'ssh'], ['lab-b', 'ssh']]);
    expect(fleet.hosts.find((h) => h.name === 'lab-a')!.labels).toEqual({ role: 'lab' });
    expect(fleet.hosts.find((h) => h.name === 'lab-b')!.installed.length).toBe(fleet.hosts.find((h) => h.name === 'me')!.installed.length);
    expect(fleet.findings.filter((f) => f.kind !== 'partial-facts')).toEqual([]);
  });

  it('reports a stopped host as unreachable and still collects the others; fleet show lists both', async () => {
    const ssh = lab.ssh!;
    await lab.stopSshd(lab.hosts[2]!);
    const r = await collectSshHosts([target('host-0'), target('host-2')], { configFile: ssh.configFile, knownHosts: ssh.knownHostsFile, identity: ssh.identityFile, connectTimeout: 5 });
    expect(r.hosts.map((h) => h.name)).toEqual(['host-0']);
    expect(r.findings.filter((f) => f.kind === 'unreachable').map((f) => f.host)).toEqual(['host-2']);

    const cli = runCli(['fleet', 'show', '--ssh-host', 'host-0', '--ssh-host', 'host-2', '--ssh-config', ssh.configFile, '--known-hosts', ssh.knownHostsFile, '--ssh-identity', ssh.identityFile, '--json']);
    expect(cli.status).toBe(0);
    const shown = JSON.parse(cli.stdout) as { hosts: Array<{ name: string; source: string; packages: number }>; findings: Array<{ kind: string; host: string }>; groups: unknown[] };
    expect(shown.hosts.map((h) => [h.name, h.source])).toEqual([['host-0', 'ssh']]);
    expect(shown.hosts[0]!.packages).toBeGreaterThan(10);
    expect(shown.findings.filter((f) => f.kind === 'unreachable').map((f) => f.host)).toEqual(['host-2']);
    expect(cli.stderr).toMatch(/1 host could not be collected/);
  });
});
