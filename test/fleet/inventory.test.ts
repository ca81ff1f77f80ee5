import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadInventory, collectFleet, inventoryError, parseSshSpec, type InventoryProblem } from '../../src/fleet/index.js';
import { createHostCollector, createRecordingRunner } from '../../src/hosts/index.js';

let dir: string;
const STATUS = 'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n\nPackage: old\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0\n';

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

function problems(text: string): InventoryProblem[] {
  const r = loadInventory(write('inv.yaml', text));
  if (r.ok) throw new Error('expected problems');
  return r.problems;
}

function where(p: InventoryProblem): string {
  return `${path.basename(p.position.file)}:${p.position.line}:${p.position.column}: ${p.message}`;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-inv-'));
  mkdirSync(path.join(dir, 'status'));
  writeFileSync(path.join(dir, 'status', 'web'), STATUS);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('YAML inventory', () => {
  it('loads hosts with facts merged from defaults, groups and the host, and their installed sets', () => {
    const r = loadInventory(write('inv.yaml', [
      'defaults:',
      '  facts: { architecture: amd64, memoryMiB: 1024 }',
      '  labels: { env: prod }',
      'groups:',
      '  web:',
      '    facts: { os: { id: debian, versionId: "12" }, kernel: 6.1.0-18-amd64 }',
      '    labels: { role: web }',
      'hosts:',
      '  - name: web-1',
      '    groups: [web]',
      '    status: status/web',
      '    facts: { memoryMiB: 4096, os: { id: debian, codename: bookworm } }',
      '  - name: db-1',
      '    installed: ["postgresql-15=15.6-0+deb12u1", { name: libpq5, version: "15.6-0+deb12u1", architecture: amd64 }]',
      '    labels: { role: db }',
    ].join('\n')));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const [web, db] = r.inventory.hosts;
    expect(web!.facts).toEqual({ architecture: 'amd64', memoryMiB: 4096, os: { id: 'debian', versionId: '12', codename: 'bookworm' }, kernel: '6.1.0-18-amd64' });
    expect(web!.labels).toEqual({ env: 'prod', role: 'web' });
    expect(web!.installed).toEqual([{ name: 'bash', version: '5.2.15-2+b2', architecture: 'amd64' }]);
    expect(web!.installedFrom).toBe(path.join(dir, 'status', 'web'));
    expect(db!.installed).toEqual([
      { name: 'postgresql-15', version: '15.6-0+deb12u1', architecture: 'amd64' },
      { name: 'libpq5', version: '15.6-0+deb12u1', architecture: 'amd64' },
    ]);
  });

  it('reports duplicate host names at the second definition, pointing at the first', () => {
    const p = problems('hosts:\n  - name: a\n    installed: []\n  - name: b\n    installed: []\n  - name: a\n    installed: []\n');
    expect(p.map(where)).toEqual(["inv.yaml:6:11: duplicate host name 'a' (first defined at " + path.join(dir, 'inv.yaml') + ':2:11)']);
  });

  it('reports unknown keys, bad versions, bad facts and missing status files, all at once, with positions', () => {
    const p = problems([
      'hosts:',
      '  - name: a',
      '    statsu: status/web',
      '    installed: []',
      '  - name: b',
      '    installed: ["bash=5.2 15"]',
      '  - name: c',
      '    installed: ["bash=:1.0"]',
      '  - name: d',
      '    status: status/missing',
      '  - name: e',
      '    facts: { kernel: "-bad", cpus: 0 }',
      '    installed: []',
    ].join('\n'));
    const text = p.map(where).join('\n');
    expect(text).toMatch(/inv\.yaml:3:5: hosts\[0\]: unknown field 'statsu' \(did you mean 'status'\?\)/);
    expect(text).toMatch(/inv\.yaml:6:17: hosts\[1\]\.installed\[0\]: expected an entry NAME\[:ARCH\]=VERSION, got "bash=5\.2 15"/);
    expect(text).toMatch(/inv\.yaml:12:22: hosts\[4\]\.facts\.kernel: expected a kernel release/);
    expect(text).toMatch(/inv\.yaml:12:36: hosts\[4\]\.facts\.cpus: expected a whole number 1 or more, got 0/);
    // schema problems come first; the file-level checks run once the structure is valid
    const p2 = problems('hosts:\n  - name: c\n    installed: ["bash=:1.0"]\n  - name: d\n    status: status/missing\n  - name: e\n    groups: [nope]\n    installed: []\n');
    expect(p2.map(where)).toEqual([
      "inv.yaml:3:17: malformed version ':1.0' of bash",
      `inv.yaml:5:13: status file not found: ${path.join(dir, 'status', 'missing')}`,
      "inv.yaml:7:14: unknown group 'nope'",
    ]);
  });

  it('reports YAML syntax errors and problems inside status files with their own positions', () => {
    expect(problems('hosts:\n  - name: a\n   bad: [\n').map(where)[0]).toMatch(/^inv\.yaml:\d+:\d+: /);
    write('status/broken', 'Package: ok1\nStatus: install ok installed\nVersion: 1.0\n\nPackage: bad\nStatus: install ok installed\nVersion: 1.0 beta\n');
    const p = problems('hosts:\n  - name: a\n    status: status/broken\n');
    expect(p.map(where)).toEqual(["broken:7:10: malformed version '1.0 beta' of bad"]);
    const err = inventoryError(p);
    expect(err.code).toBe('RW_INVENTORY');
    expect(err.render()).toMatch(/RW_INVENTORY: .*broken:7:10: malformed version/);
  });

  it("refuses 'ssh.config' with its position: an inventory is data, and an ssh config can run commands here", () => {
    const p = problems(['ssh:', '  knownHosts: kh', '  config: evil_ssh_config', 'hosts:', '  - name: a', '    ssh: { host: a }', ''].join('\n'));
    expect(p.map(where)).toEqual(["inv.yaml:3:3: 'ssh.config' is no longer accepted: an inventory is data, and an ssh config file can run commands on this machine (ProxyCommand, LocalCommand, Match exec)"]);
    const err = inventoryError(p);
    expect(err.render()).toMatch(/RW_INVENTORY: .*inv\.yaml:3:3: 'ssh\.config' is no longer accepted.*hint: .*pass --ssh-config FILE on the command line/);
  });

  it('rejects a host without any source of state, and one with two', () => {
    const p = problems('hosts:\n  - name: a\n  - name: b\n    status: status/web\n    installed: []\n');
    expect(p.map((x) => x.message)).toEqual([
      "host 'a' needs 'status' (a dpkg status file), 'installed' (a list), 'root' (a directory root) or 'ssh' (collect over SSH)",
      "host 'b' has both 'status' and 'installed'; give one",
    ]);
  });
});

describe('combining sources', () => {
  it('refuses the same host name from two inventories', async () => {
    const a = write('a.yaml', 'hosts:\n  - name: web-1\n    installed: []\n');
    const b = write('b.yaml', 'hosts:\n  - name: web-1\n    installed: []\n');
    await expect(collectFleet({ inventories: [a, b] })).rejects.toThrow(/duplicate host name 'web-1' \(from .*a\.yaml and .*b\.yaml\)/);
  });

  it('adds the local host beside an inventory', async () => {
    const a = write('a.yaml', 'hosts:\n  - name: web-1\n    installed: []\n');
    const f = await collectFleet({ inventories: [a], local: { name: 'this-machine' } }, createHostCollector());
    expect(f.hosts.map((h) => [h.name, h.source])).toEqual([['web-1', 'inventory'], ['this-machine', 'local']]);
  });

  it('needs a known_hosts file before any SSH host is contacted, falling back to ~/.ssh/known_hosts', async () => {
    const runner = createRecordingRunner();
    const collector = createHostCollector({ runner });
    const missing = path.join(dir, 'home', '.ssh', 'known_hosts');
    await expect(collectFleet({ sshHosts: ['10.255.255.1'], userKnownHosts: missing }, collector)).rejects.toThrow(
      `SSH hosts need a known_hosts file: no --known-hosts given, no ssh.knownHosts in the inventory, and the fallback ~/.ssh/known_hosts (${missing}) does not exist`,
    );
    await expect(collectFleet({ sshHosts: ['10.255.255.1'], ssh: { knownHosts: path.join(dir, 'nope') } }, collector)).rejects.toThrow(/known_hosts file .*nope does not exist/);
    await expect(collectFleet({ sshHosts: ['-oProxyCommand=x'] }, collector)).rejects.toThrow(/bad SSH host/);
    expect(runner.calls).toEqual([]);
    // the fallback, when it exists, is what ssh checks host keys against
    const home = write('known_hosts', '');
    const f = await collectFleet({ sshHosts: ['10.255.255.1'], userKnownHosts: home }, collector);
    expect(runner.calls[0]!.argv).toContain(`UserKnownHostsFile="${home}"`);
    expect(f.findings.map((x) => [x.host, x.kind])).toEqual([['10.255.255.1', 'collection-failed']]);
  });

  it('parses [user@]host[:port] with the same host and user patterns as inventories', () => {
    expect(parseSshSpec('deploy@web_1.example:2222')).toEqual({ host: 'web_1.example', user: 'deploy', port: 2222 });
    expect(parseSshSpec('2001:db8::10')).toEqual({ host: '2001:db8::10' });
    expect(parseSshSpec('root@[2001:db8::10]:22')).toEqual({ host: '2001:db8::10', user: 'root', port: 22 });
    expect(parseSshSpec('Admin@10.0.0.1')).toEqual({ host: '10.0.0.1', user: 'Admin' });
    for (const bad of ['-oProxyCommand=x', 'a b', 'host:99999', '-l@host', 'x@-host', '[web]:22', 'host%h', 'a@b@c', '', 'host:']) {
      expect(() => parseSshSpec(bad), bad).toThrow(/bad (SSH host|SSH user|port)/);
    }
  });
});
