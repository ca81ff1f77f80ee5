/**
 * Fleet collection over SSH (the fleet's HostCollector port, implemented by src/hosts) against
 * real OpenSSH servers in network namespaces (test/lab). The lab's sshd shares this machine's
 * filesystem (own mount namespace, tmpfs /run), so what a lab host reports over SSH must equal
 * what dpkg-query and uname say here. The lab hosts are reached through an ssh config file the
 * operator gives (`--ssh-config`: host aliases and the ProxyCommand into the namespaces); known
 * hosts and the key come from rollwise's own options.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, requireTool, type Lab } from '../lab/index.js';
import { collectFleet, type CollectTarget, type SshCollectSettings } from '../../src/fleet/index.js';
import { createHostCollector } from '../../src/hosts/index.js';
import { runCli } from '../helpers/cli.js';

let lab: Lab;
/** Programs the loud host (host-3) finds first on its PATH: a dpkg-query that answers 64 MiB. */
let loudBin: string;
/** The operator's ssh config: only how to reach each lab host (no keys, no known_hosts). */
let operatorConfig: string;
/** A script that leaves a marker file when anything runs it. */
let evil: string;
let marker: string;

const collector = createHostCollector();
const target = (name: string): CollectTarget => ({ name, ssh: { host: name } });
const settings = (): SshCollectSettings => ({ configFile: operatorConfig, knownHosts: lab.ssh!.knownHostsFile, identity: lab.ssh!.identityFile, connectTimeout: 5 });
const sshArgs = (): string[] => ['--ssh-config', operatorConfig, '--ssh-identity', lab.ssh!.identityFile];

beforeAll(async () => {
  requireTool('ssh'); // names the Debian package when the OpenSSH client is missing
  loudBin = mkdtempSync(path.join(os.tmpdir(), 'rw-loud-'));
  writeFileSync(path.join(loudBin, 'dpkg-query'), "#!/bin/sh\nyes \"$(printf 'loud\\t1.0\\tamd64\\tii ')\" | head -c 67108864\n");
  chmodSync(path.join(loudBin, 'dpkg-query'), 0o755);
  lab = await createLab({
    hosts: 4, ssh: true, packages: [], updateIndex: false,
    sshdConfig: (h) => (h.index === 3 ? [`SetEnv PATH=${loudBin}:/usr/sbin:/usr/bin:/sbin:/bin`] : []),
  });
  operatorConfig = path.join(lab.dir, 'operator_ssh_config');
  writeFileSync(operatorConfig, lab.hosts.map((h) => `Host ${h.name}\n  HostName ${h.address}\n  Port ${h.sshPort}\n  User root\n  ProxyCommand ${lab.ssh!.proxyCommand}\n`).join(''));
  marker = path.join(lab.dir, 'evil-ran');
  evil = path.join(lab.dir, 'evil.sh');
  writeFileSync(evil, `#!/bin/sh\ntouch ${marker}\nexit 1\n`);
  chmodSync(evil, 0o755);
});
afterAll(async () => {
  await lab?.destroy();
  if (loudBin) rmSync(loudBin, { recursive: true, force: true });
});

describe('hosts over SSH (OpenSSH in network namespaces)', () => {
  it('collects facts and the installed set with batch mode and strict host keys, in parallel', async () => {
    const progress: string[] = [];
    const r = await collector.collectSsh([target('host-0'), target('host-1'), target('host-2')], { ...settings(), parallel: 2 }, (done, total, host) => progress.push(`${done}/${total} ${host}`));
    expect(r.map((a) => [a.name, a.kind])).toEqual([['host-0', 'collected'], ['host-1', 'collected'], ['host-2', 'collected']]);
    expect(progress).toHaveLength(3);
    const out = execFileSync('dpkg-query', ['-W', '-f=${Package}=${Version} ${db:Status-Abbrev}\n'], { encoding: 'utf8' });
    const expected = out.split('\n').filter((l) => / i[iUFWt]/.test(l)).map((l) => l.split(' ')[0]).sort();
    for (const h of r) {
      if (h.kind !== 'collected') throw new Error(JSON.stringify(h));
      expect(h.findings.filter((f) => f.kind !== 'partial-facts')).toEqual([]);
      expect(h.installed.map((p) => `${p.name}=${p.version}`).sort()).toEqual(expected);
      expect(h.installedFrom).toBe(`dpkg-query over ssh (${h.name})`);
      expect(h.facts.kernel).toBe(os.release());
      expect(h.facts.architecture).toBe(execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim());
      expect(h.facts.cpus).toBe(Number(execFileSync('nproc', { encoding: 'utf8' }).trim()));
    }
  });

  it('reports a host with an unknown host key as unreachable (strict checking, no prompt)', async () => {
    const empty = path.join(lab.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const [a] = await collector.collectSsh([target('host-0')], { ...settings(), knownHosts: empty });
    expect(a).toEqual({ kind: 'not-collected', name: 'host-0', finding: { kind: 'unreachable', host: 'host-0', message: expect.stringMatching(/host key verification failed/i) } });
  });

  it('combines an inventory (status-file host + SSH hosts with inventory SSH defaults), the operator ssh config and the local host', async () => {
    const statusFile = path.join(lab.dir, 'web.status');
    writeFileSync(statusFile, 'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n');
    const inv = path.join(lab.dir, 'inventory.yaml');
    writeFileSync(inv, [
      'ssh:',
      `  knownHosts: ${lab.ssh!.knownHostsFile}`,
      `  identity: ${lab.ssh!.identityFile}`,
      '  connectTimeout: 5',
      'hosts:',
      '  - name: web-1',
      `    status: ${statusFile}`,
      '  - name: lab-a',
      '    ssh: { host: host-0 }',
      '    labels: { role: lab }',
      '    facts: { memoryMiB: 1 }',
      '  - name: lab-b',
      '    ssh: { host: host-1 }',
    ].join('\n'));
    const fleet = await collectFleet({ inventories: [inv], local: { name: 'me' }, ssh: { configFile: operatorConfig } }, collector);
    expect(fleet.hosts.map((h) => [h.name, h.source])).toEqual([['web-1', 'inventory'], ['me', 'local'], ['lab-a', 'ssh'], ['lab-b', 'ssh']]);
    const labA = fleet.hosts.find((h) => h.name === 'lab-a')!;
    expect(labA.labels).toEqual({ role: 'lab' });
    expect(labA.facts.memoryMiB).toBeGreaterThan(1); // collected facts override the inventory's
    expect(fleet.hosts.find((h) => h.name === 'lab-b')!.installed.length).toBe(fleet.hosts.find((h) => h.name === 'me')!.installed.length);
    expect(fleet.findings.filter((f) => f.kind !== 'partial-facts')).toEqual([]);
  });
});

describe('security of fleet collection', () => {
  it('refuses an inventory that names an ssh config file, with its position, before its ProxyCommand can run', async () => {
    const cfg = path.join(lab.dir, 'inventory_ssh_config');
    writeFileSync(cfg, `Host *\n  ProxyCommand ${evil}\n`);
    const inv = path.join(lab.dir, 'config-inventory.yaml');
    writeFileSync(inv, ['ssh:', `  knownHosts: ${lab.ssh!.knownHostsFile}`, `  config: ${cfg}`, 'hosts:', '  - name: lab-a', '    ssh: { host: host-0 }', ''].join('\n'));
    await expect(collectFleet({ inventories: [inv] }, collector)).rejects.toThrow(/'ssh\.config' is no longer accepted/);
    const cli = runCli(['fleet', 'show', '--inventory', inv]);
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain(`RW_INVENTORY: ${inv}:3:3: 'ssh.config' is no longer accepted: an inventory is data, and an ssh config file can run commands on this machine`);
    expect(cli.stderr).toMatch(/hint: .*pass --ssh-config FILE on the command line/);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses extra ssh options that run programs, whatever their case, before any host is contacted', async () => {
    for (const x of [`ProxyCommand=${evil}`, `knownhostscommand=${evil}`, `LOCALCOMMAND=${evil}`, 'PermitLocalCommand=yes', `Include=${evil}`, 'ProxyJump=host-1']) {
      await expect(collectFleet({ sshHosts: ['host-0'], ssh: { ...settings(), extraOptions: [x] } }, collector), x).rejects.toThrow(/RW_USAGE|is refused/);
    }
    expect(existsSync(marker)).toBe(false);
    const ok = await collectFleet({ sshHosts: ['host-0'], ssh: { ...settings(), extraOptions: ['ServerAliveInterval=2'] } }, collector);
    expect(ok.hosts.map((h) => h.name)).toEqual(['host-0']);
  });

  it('makes a host that answers too much a finding (answer larger than 4 MiB) and still collects the others', async () => {
    const fleet = await collectFleet({ sshHosts: ['host-3', 'host-0'], ssh: settings() }, collector);
    expect(fleet.hosts.map((h) => h.name)).toEqual(['host-0']);
    expect(fleet.findings.filter((f) => f.kind !== 'partial-facts')).toEqual([{ kind: 'collection-failed', host: 'host-3', message: expect.stringMatching(/^answer larger than 4 MiB/) }]);
    const cli = runCli(['fleet', 'show', '--ssh-host', 'host-3', '--ssh-host', 'host-1', '--known-hosts', lab.ssh!.knownHostsFile, ...sshArgs(), '--json']);
    expect(cli.status, cli.stderr).toBe(1);
    const shown = JSON.parse(cli.stdout) as { hosts: Array<{ name: string }>; findings: Array<{ kind: string; host: string; message: string }> };
    expect(shown.hosts.map((h) => h.name)).toEqual(['host-1']);
    expect(shown.findings.filter((f) => f.kind !== 'partial-facts')).toEqual([{ kind: 'collection-failed', host: 'host-3', message: expect.stringMatching(/^answer larger than 4 MiB/) }]);
  });

  it('reads known_hosts and keys from paths with spaces and % (quoted for ssh, % escaped)', async () => {
    const dir = path.join(lab.dir, 'keys with space %d 100%');
    mkdirSync(dir);
    const kh = path.join(dir, 'known hosts %h');
    const id = path.join(dir, "it's key %u");
    copyFileSync(lab.ssh!.knownHostsFile, kh);
    copyFileSync(lab.ssh!.identityFile, id);
    chmodSync(id, 0o600);
    const [a] = await collector.collectSsh([target('host-0')], { ...settings(), knownHosts: kh, identity: id });
    expect(a!.kind, JSON.stringify(a)).toBe('collected');
  });

  it('falls back to ~/.ssh/known_hosts without --known-hosts, and says so when that file is missing too', () => {
    const home = path.join(lab.dir, 'home-with-known-hosts');
    mkdirSync(path.join(home, '.ssh'), { recursive: true });
    copyFileSync(lab.ssh!.knownHostsFile, path.join(home, '.ssh', 'known_hosts'));
    const ok = runCli(['fleet', 'show', '--ssh-host', 'host-0', ...sshArgs(), '--json'], { env: { HOME: home } });
    expect(ok.status, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { hosts: Array<{ name: string }> }).hosts.map((h) => h.name)).toEqual(['host-0']);
    const bare = path.join(lab.dir, 'home-without-known-hosts');
    mkdirSync(bare);
    const missing = runCli(['fleet', 'show', '--ssh-host', 'host-0', ...sshArgs()], { env: { HOME: bare } });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`RW_USAGE: SSH hosts need a known_hosts file: no --known-hosts given, no ssh.knownHosts in the inventory, and the fallback ~/.ssh/known_hosts (${bare}/.ssh/known_hosts) does not exist`);
    const help = runCli(['fleet', 'show', '--help']).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('else ~/.ssh/known_hosts');
    expect(help).toContain('(-F none)');
    expect(help).toMatch(/it may run commands on this machine \(ProxyCommand/);
    expect(help).toMatch(/Exit status: 0 every host was collected .* 1 some hosts could not be reached or collected/);
  });

  it('fleet show lists a stopped host with the reachable ones and exits 1', async () => {
    await lab.stopSshd(lab.hosts[2]!);
    const r = await collector.collectSsh([target('host-0'), target('host-2')], settings());
    expect(r.map((a) => [a.name, a.kind])).toEqual([['host-0', 'collected'], ['host-2', 'not-collected']]);
    expect(r[1]!.kind === 'not-collected' && r[1]!.finding.kind).toBe('unreachable');

    const args = ['fleet', 'show', '--ssh-host', 'host-0', '--ssh-host', 'host-2', '--known-hosts', lab.ssh!.knownHostsFile, ...sshArgs()];
    const cli = runCli([...args, '--json']);
    expect(cli.status).toBe(1);
    const shown = JSON.parse(cli.stdout) as { hosts: Array<{ name: string; source: string; packages: number }>; findings: Array<{ kind: string; host: string }>; groups: unknown[] };
    expect(shown.hosts.map((h) => [h.name, h.source])).toEqual([['host-0', 'ssh']]);
    expect(shown.hosts[0]!.packages).toBeGreaterThan(10);
    expect(shown.findings.filter((f) => f.kind === 'unreachable').map((f) => f.host)).toEqual(['host-2']);
    expect(cli.stderr).toMatch(/1 host could not be collected/);
    const text = runCli(args);
    expect(text.status).toBe(1);
    expect(text.stdout).toContain('host-2');
  });
});
