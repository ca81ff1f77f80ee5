/**
 * `rollwise rehearse PLAN --on ROOT`: a stored plan (the example knowledge base and fleet over the
 * real Debian 12 index) rehearsed for real on staging hosts the lab builds (directory roots with
 * dpkg and apt, synthetic packages standing in for the group's versions): the group is found by
 * the root's installed set, the transaction and its rollback plan run, the root is compared with
 * its former self, and a success is recorded so `plan approve` passes the rehearsal gate without
 * an override. A root that does not stand for any group, and a transaction whose maintainer
 * scripts would run on this machine, are refused before anything changes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectoryRootDriver, type HostDriver } from '../../src/hosts/index.js';
import type { Step } from '../../src/planner/index.js';
import { createLab, type DebSpec, type Lab, type LabHost } from '../lab/index.js';
import { recordMachineState, type MachineStateRecord } from '../hosts/machine-guard.js';
import { runCli } from '../helpers/cli.js';
import { requireDebianIndex } from '../kb/helpers.js';

// What a package's files would change if dpkg wrote them on the machine itself.
const MARKERS = ['/etc/shopfront', '/usr/share/shopfront', '/usr/share/libjemalloc2'];
const CONF = '/etc/shopfront/shopfront.toml';
const OPERATOR = '# changed by the operator\nworkers = 8\n';

/** The packages group 2 of the example plan has (and the two shopfront versions), without maintainer scripts unless asked. */
function shopPackages(options: { scriptedUpgrade?: boolean; fileClash?: boolean } = {}): DebSpec[] {
  // a file nodejs already ships: dpkg refuses to overwrite it (no Replaces), so the upgrade fails half-way
  const clash: Record<string, string> = options.fileClash ? { '/usr/share/nodejs/shared.txt': 'shopfront 2.0.0\n' } : {};
  const conf = (v: string): Record<string, string> => ({ [CONF]: `# shipped by shopfront ${v}\nworkers = 2\n` });
  return [
    { name: 'shopfront', version: '1.8.3', architecture: 'amd64', depends: 'nodejs (>= 18), libssl3 (>= 3.0.0), adduser', conffiles: conf('1.8.3'), files: { '/usr/share/shopfront/VERSION': '1.8.3\n' }, scripts: false },
    {
      name: 'shopfront', version: '2.0.0', architecture: 'amd64', depends: 'nodejs (>= 18.19), libssl3 (>= 3.0.11), libjemalloc2, adduser', breaks: 'shop-lb-config (<< 1.5-1)', provides: 'shop-http-backend (= 2.0.0)',
      conffiles: conf('2.0.0'), files: { '/usr/share/shopfront/VERSION': '2.0.0\n', ...clash }, ...(options.scriptedUpgrade ? {} : { scripts: false }),
    },
    { name: 'libjemalloc2', version: '5.3.0-1', architecture: 'amd64', files: { '/usr/share/libjemalloc2/VERSION': '5.3.0-1\n' }, scripts: false },
    { name: 'nodejs', version: '18.20.4+dfsg-1~deb12u2', architecture: 'amd64', files: { '/usr/share/nodejs/shared.txt': 'nodejs\n' }, scripts: false },
    { name: 'libssl3', version: '3.0.20-1~deb12u2', architecture: 'amd64', scripts: false },
    { name: 'adduser', version: '3.134', scripts: false },
    { name: 'postgresql-client-15', version: '15.18-0+deb12u1', architecture: 'amd64', scripts: false },
    { name: 'postgresql-client-common', version: '248+deb12u1', scripts: false },
  ];
}

const GROUP_2 = ['adduser=3.134', 'libssl3=3.0.20-1~deb12u2', 'nodejs=18.20.4+dfsg-1~deb12u2', 'postgresql-client-15=15.18-0+deb12u1', 'postgresql-client-common=248+deb12u1', 'shopfront=1.8.3'];

let dir: string;
let store: string;
let id: string;
let lab: Lab;
let scriptedLab: Lab;
let clashLab: Lab;
let machine: MachineStateRecord;

function driverFor(l: Lab, h: LabHost): HostDriver {
  return createDirectoryRootDriver({ root: h.root, name: h.name, chrootlessScripts: l.chrootlessScripts });
}

async function must(d: HostDriver, step: Step): Promise<void> {
  const o = await d.apply(step);
  if (o.status !== 'succeeded') throw new Error(`setup step failed: ${JSON.stringify(o).slice(0, 2000)}`);
}

const install = (specs: string[]): Step => ({ kind: 'packages', changes: specs.map((s) => ({ action: 'install' as const, name: s.split('=')[0]!, to: s.split('=')[1]! })) });

async function installed(d: HostDriver): Promise<Record<string, string>> {
  const r = await d.readInstalled();
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
  return Object.fromEntries(r.value.map((p) => [p.name, `${p.status.trim()} ${p.version}`]));
}

function rehearsals(): Array<{ where: string; ok: boolean; outcome?: string; group?: string }> {
  const shown = runCli(['plan', 'show', id, '--store', store, '--json']);
  expect(shown.status, shown.stderr).toBe(0);
  return (JSON.parse(shown.stdout) as { records: Array<{ kind: string; body: { where: string; ok: boolean; outcome?: string; group?: string } }> }).records.filter((r) => r.kind === 'rehearsal').map((r) => r.body);
}

beforeAll(async () => {
  machine = recordMachineState(MARKERS);
  const index = requireDebianIndex();
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-staging-'));
  store = path.join(dir, 'store.db');
  [lab, scriptedLab, clashLab] = await Promise.all([
    createLab({ hosts: 2, packages: shopPackages() }),
    createLab({ hosts: 1, packages: shopPackages({ scriptedUpgrade: true }) }),
    createLab({ hosts: 1, packages: shopPackages({ fileClash: true }) }),
  ]);
  const planned = runCli(['plan', '--kb', 'examples/kb', '--index', index, '--inventory', 'examples/fleet/inventory.yaml', '--install', 'shopfront=2.0.0', '--store', store, '--json']);
  expect(planned.status, planned.stderr).toBe(1); // conflicts to review
  id = (JSON.parse(planned.stdout) as { id: string }).id;
  const resolved = runCli(['plan', 'resolve', id, '--choose', 'c1=r1', '--choose', 'c2=r1', '--choose', 'c3=r2', '--choose', 'c4=r1', '--store', store]);
  expect(resolved.status, resolved.stderr).toBe(0);
});

afterAll(async () => {
  await Promise.all([lab?.destroy(), scriptedLab?.destroy(), clashLab?.destroy()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rollwise rehearse --on ROOT (a staging host)', () => {
  it('finds the group by the root\'s installed set, rehearses the upgrade over a conffile the operator changed, ends identical, records it; plan approve then passes the rehearsal gate', async () => {
    const h = lab.hosts[0]!;
    const d = driverFor(lab, h);
    await must(d, install(GROUP_2));
    await must(d, { kind: 'write-config', path: CONF, content: OPERATOR, mode: 0o640 });
    const before = await installed(d);
    // nobody rehearsed this version on a staging host yet: the gate holds
    const refused = runCli(['plan', 'approve', id, '--store', store]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/RW_APPROVAL_GATE: .*rehearsal: critical/);

    const r = runCli(['rehearse', id, '--on', h.root, '--store', store]);
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^Plan \w+ version 2\nRehearsal on the staging host host-0 \(/);
    expect(out).toMatch(/ {2}group 2 [0-9a-f]+: 4 hosts; its installed set is the root's/);
    expect(out).toMatch(/every package the plan changes at the group's version, every relation of the new versions met; \d+ packages of the group not on the root/);
    // the forward step ran for real: dpkg kept the operator's file and put its own beside it
    expect(out).toMatch(/ {2}forward 1\. upgrade shopfront=2\.0\.0, install libjemalloc2=5\.3\.0-1: succeeded/);
    expect(out).toContain('config appeared: /etc/shopfront/shopfront.toml.dpkg-dist');
    expect(out).toMatch(/former \.debs kept from .*: shopfront 1\.8\.3 \(kept\)/);
    // the rollback plan's steps, filled from the snapshots, each with its outcome
    expect(out).toMatch(/ {2}rollback: \d+ host steps from the 9 steps of the rollback plan/);
    expect(out).toMatch(/\d\. downgrade shopfront=1\.8\.3: succeeded/);
    expect(out).toMatch(/\d\. purge libjemalloc2: succeeded/);
    expect(out).toMatch(/\d\. restore \/etc\/shopfront\/shopfront\.toml, removing dpkg's other side files \(\.dpkg-dist, \.dpkg-old, \.\.\.\): succeeded/);
    // what a root cannot show is said
    expect(out).toContain('not rehearsed: shopfront is not supervised on the root (absent): its stop, start and health checks did not run');
    expect(out).toContain('not rehearsed: the schema of shop is not compared (no database address is known for the staging root)');
    expect(out).toMatch(/not rehearsed: restore shop: restore from the backup \(undoes 0012_add_cart_expiry, 0013_split_customer_name\)/);
    expect(out).toContain('result: identical: the root is back to its former state');
    expect(out).toMatch(/timings: snapshot [\d.]+ m?s, keep \.debs [\d.]+ m?s, plan [\d.]+ m?s.*total [\d.]+ m?s/);
    expect(out).toMatch(/rehearsal succeeded; recorded with plan \w+ version 2/);

    // the root itself, read directly: the former versions, the operator's file, nothing of dpkg's left
    expect(await installed(d)).toEqual(before);
    expect(readFileSync(path.join(h.root, CONF), 'utf8')).toBe(OPERATOR);
    expect(existsSync(path.join(h.root, `${CONF}.dpkg-dist`))).toBe(false);
    expect(rehearsals()).toEqual([expect.objectContaining({ where: 'host-0', ok: true, outcome: 'identical', group: expect.stringMatching(/^[0-9a-f]+$/) })]);

    // the rehearsal gate is passed; the irreversible migration still needs a person to accept it by name
    const risk = runCli(['plan', 'approve', id, '--store', store, '--by', 'alice']);
    expect(risk.status).toBe(1);
    expect(risk.stderr).toMatch(/RW_APPROVAL_GATE: .*irreversible-migration:shop\/0013_split_customer_name: /);
    expect(risk.stderr).not.toMatch(/rehearsal: critical/);
    const approved = runCli(['plan', 'approve', id, '--store', store, '--by', 'alice', '--override', 'irreversible-migration:shop/0013_split_customer_name', '--reason', 'backup taken and verified']);
    expect(approved.status, approved.stderr).toBe(0);
    expect(approved.stdout).not.toMatch(/overriding rehearsal/);
    expect(approved.stdout).toMatch(/overriding irreversible-migration:shop\/0013_split_customer_name: backup taken and verified/);
    const shown = JSON.parse(runCli(['plan', 'show', id, '--store', store, '--json']).stdout) as { status: string };
    expect(shown.status).toBe('approved');
  });

  it('refuses a root that stands for no changing group, listing what differs; nothing changes, nothing is recorded', async () => {
    const h = lab.hosts[1]!;
    const d = driverFor(lab, h);
    // already upgraded: the plan's upgrade and install would not be what runs here
    await must(d, install(['adduser=3.134', 'libssl3=3.0.20-1~deb12u2', 'nodejs=18.20.4+dfsg-1~deb12u2', 'shopfront=2.0.0', 'libjemalloc2=5.3.0-1']));
    const before = await installed(d);
    const recorded = rehearsals().length;
    const r = runCli(['rehearse', id, '--on', h.root, '--store', store]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^rollwise: RW_HOST: the staging root \S+host-1 does not stand for any changing group of the plan: group 2 \([0-9a-f]+\): shopfront \(the plan's upgrade\): 1\.8\.3 in the group, 2\.0\.0 on the root; libjemalloc2 \(the plan's install\): not installed in the group, 5\.3\.0-1 on the root \| group \d/);
    expect(r.stderr).toMatch(/is in none of the root's repositories/); // the other groups' versions
    expect(r.stderr).toMatch(/\(hint: the root needs the group's version of every package the plan changes/);
    expect(await installed(d)).toEqual(before);
    expect(rehearsals().length).toBe(recorded);

    // --group asks for one group: the same differences, for that group only
    const g = runCli(['rehearse', id, '--on', h.root, '--group', '2', '--store', store]);
    expect(g.status).toBe(2);
    expect(g.stderr).toMatch(/RW_HOST: the staging root \S+ does not stand for the group: group 2 \([0-9a-f]+\): shopfront/);
    expect(await installed(d)).toEqual(before);
  });

  it('refuses a transaction whose maintainer scripts would run on this machine (a directory root runs them chrootless); nothing changes, nothing is recorded', async () => {
    const h = scriptedLab.hosts[0]!;
    const d = driverFor(scriptedLab, h);
    await must(d, install(GROUP_2));
    const before = await installed(d);
    const recorded = rehearsals().length;
    const r = runCli(['rehearse', id, '--on', h.root, '--store', store]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rollwise: RW_HOST: the staging root \S+ refused the plan's transaction before anything ran: RW_HOST: maintainer scripts of shopfront 2\.0\.0[^\n]* would run chrootless/);
    expect(r.stderr).toMatch(/rollwise rehearse --chroot runs apt, dpkg and the maintainer scripts inside a complete Debian root/);
    expect(await installed(d)).toEqual(before);
    expect(existsSync(path.join(h.root, 'var/lib/lab-scripts'))).toBe(false);
    expect(rehearsals().length).toBe(recorded);
  });

  it('a transaction that fails on the root: the rollback still runs, the rehearsal is recorded as failed, exit 1', async () => {
    const h = clashLab.hosts[0]!;
    const d = driverFor(clashLab, h);
    await must(d, install(GROUP_2));
    const recorded = rehearsals().length;
    const r = runCli(['rehearse', id, '--on', h.root, '--name', 'staging-clash', '--store', store]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/forward 1\. upgrade shopfront=2\.0\.0, install libjemalloc2=5\.3\.0-1: failed: apt-get exited \d+: .*(shared\.txt|overwrite)/);
    expect(r.stdout).toMatch(/ {2}rollback: \d+ host steps from the 9 steps of the rollback plan/);
    expect(r.stdout).toMatch(/rehearsal failed \(the plan did not complete/);
    expect(r.stdout).toMatch(/recorded with plan \w+ version 2\n/);
    const now = rehearsals();
    expect(now.length).toBe(recorded + 1);
    expect(now.at(-1)).toMatchObject({ where: 'staging-clash', ok: false });
    // a failed rehearsal does not undo a successful one: the version stays approvable
    expect(now.some((x) => x.ok)).toBe(true);
  });

  it('is not a staging root: a missing folder, or one without a dpkg database', () => {
    const missing = runCli(['rehearse', id, '--on', path.join(dir, 'nowhere'), '--store', store]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/RW_NOT_FOUND: staging root \S+nowhere does not exist \(hint: a staging root is a directory holding a dpkg database/);
    const empty = runCli(['rehearse', id, '--on', dir, '--store', store]);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/RW_HOST: \S+ holds no dpkg database \(var\/lib\/dpkg\/status\)/);
    expect(runCli(['rehearse', id, '--name', 'x', '--store', store]).stderr).toMatch(/RW_USAGE: --name needs --on ROOT/);
  });

  it('touched nothing of this machine', () => {
    expect(recordMachineState(MARKERS)).toEqual(machine);
  });
});
