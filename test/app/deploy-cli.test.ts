// `rollwise deploy` as a user runs it (the compiled CLI in a child process) on a lab of directory
// roots: an unapproved plan, an unknown deployment, bad --waves, a bad checks file and checks that
// need a Prometheus nobody configured are refused before any host is touched; then a deployment
// runs, and status, log, list show it; a deployment baking is paused from another process (the
// bake stops at once), then aborted: its hosts are rolled back to their former versions.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectoryRootDriver } from '../../src/hosts/index.js';
import { CLI_ENTRY, repoRoot, runCli } from '../helpers/cli.js';
import { createLab, type Lab, type LabHost } from '../lab/index.js';

let lab: Lab;
let store: string;
let planId: string;
let debs: string;

async function version(h: LabHost): Promise<string | undefined> {
  const r = await createDirectoryRootDriver({ root: h.root, name: h.name }).readInstalled();
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
  return r.value.find((p) => p.name === 'kit')?.version;
}

beforeAll(async () => {
  lab = await createLab({
    hosts: 3,
    packages: [
      { name: 'kit', version: '1.0', scripts: false, conffiles: { '/etc/kit.conf': 'v=1\n' } },
      { name: 'kit', version: '2.0', scripts: false, conffiles: { '/etc/kit.conf': 'v=2\n' } },
    ],
  });
  for (const h of lab.hosts) {
    const o = await createDirectoryRootDriver({ root: h.root, name: h.name }).apply({ kind: 'packages', changes: [{ name: 'kit', action: 'install', to: '1.0' }] });
    if (o.status !== 'succeeded') throw new Error(JSON.stringify(o).slice(0, 1000));
  }
  store = path.join(lab.dir, 'store.db');
  debs = path.join(lab.dir, 'debs');
  await mkdir(path.join(lab.dir, 'kb'), { recursive: true });
  await writeFile(path.join(lab.dir, 'kb', 'layer.yaml'), 'apiVersion: rollwise/v1\nkind: KnowledgeBase\nlayer: { name: t, precedence: 50, trust: organisation, author: t, date: 2026-12-04, source: t }\n');
  await writeFile(path.join(lab.dir, 'inventory.yaml'), `groups:\n  web: {}\nhosts:\n${lab.hosts.map((h) => `  - name: ${h.name}\n    groups: [web]\n    root: ${path.relative(lab.dir, h.root)}\n`).join('')}`);
  const r = runCli(['plan', '--kb', path.join(lab.dir, 'kb'), '--index', path.join(lab.repository.dir, 'Packages'), '--inventory', path.join(lab.dir, 'inventory.yaml'), '--install', 'kit=2.0', '--store', store, '--json']);
  if (r.status !== 0) throw new Error(r.stderr);
  planId = (JSON.parse(r.stdout) as { id: string }).id;
}, 120_000);

afterAll(async () => {
  await lab?.destroy();
});

const deploy = (...args: string[]): ReturnType<typeof runCli> => runCli(['deploy', ...args, '--store', store]);

describe('rollwise deploy', () => {
  it('refuses bad input before touching a host', async () => {
    const unapproved = deploy(planId, '--deb-cache', debs);
    expect(unapproved.status).not.toBe(0);
    expect(unapproved.stderr).toMatch(/RW_APPROVAL_GATE: plan \w+ v1 is draft|RW_APPROVAL_GATE: plan \w+ v1 is \w+, not approved/);
    expect(runCli(['plan', 'approve', planId, '--store', store]).status).toBe(0);

    const waves = deploy(planId, '--waves', '0,abc');
    expect(waves.status).toBe(2);
    expect(waves.stderr).toMatch(/^rollwise: RW_USAGE: .*--waves/m);

    const unknown = deploy('status', 'ffffffff');
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/RW_NOT_FOUND: no deployment 'ffffffff'.*hint: rollwise deploy list/);
    expect(deploy('pause', 'not an id').stderr).toMatch(/RW_USAGE: not a deployment id/);

    const checks = path.join(lab.dir, 'checks.yaml');
    await writeFile(checks, 'checks:\n  - name: errors\n    prometheus: rate(errors[1m])\n    success: "< 0.1"\n    interval: often\n');
    const bad = deploy(planId, '--checks', checks);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/RW_CHECK: \S*checks\.yaml:5:15: checks\[0\]\.interval: expected a duration such as 1s, 500ms or 2m, got "often"/);

    // a file of another kind given by mistake (a private key): named, its content never quoted
    const key = path.join(lab.dir, 'id_test');
    await writeFile(key, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n');
    const notChecks = deploy(planId, '--checks', key);
    expect(notChecks.status).toBe(2);
    expect(notChecks.stderr).toMatch(/RW_CHECK: \S*id_test:1:1: not a checks file: it has no checks: key at the top \(its content is not shown\)/);
    expect(notChecks.stderr).not.toMatch(/BEGIN|b3Bl/);

    await writeFile(checks, 'checks:\n  - name: errors\n    prometheus: rate(errors[1m])\n    success: "< 0.1"\n    interval: 1s\n');
    const noPrometheus = runCli(['deploy', planId, '--checks', checks, '--store', store, '--deb-cache', debs], { env: { ROLLWISE_PROMETHEUS_URL: '' } });
    expect(noPrometheus.status).not.toBe(0);
    expect(noPrometheus.stderr).toMatch(/RW_MONITOR: 1 check\(s\) read Prometheus \(errors\) and no Prometheus is configured; nothing was deployed.*--prometheus/);
    // an unreachable Prometheus is found before any host is touched, with its URL and error
    const unreachable = runCli(['deploy', planId, '--checks', checks, '--prometheus', 'http://127.0.0.1:1', '--store', store, '--deb-cache', debs]);
    expect(unreachable.status).not.toBe(0);
    expect(unreachable.stderr).toMatch(/RW_MONITOR: Prometheus at http:\/\/127\.0\.0\.1:1 does not answer the query vector\(1\) \(\S+: .+\); nothing was deployed/);
    const zero = deploy(planId, '--host-timeout', '0', '--deb-cache', debs);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toMatch(/RW_USAGE: --host-timeout: must be longer than 0/);
    const gateBeyond = deploy(planId, '--waves', '1,100%', '--gate-after', '5', '--deb-cache', debs);
    expect(gateBeyond.status).toBe(2);
    expect(gateBeyond.stderr).toMatch(/RW_USAGE: --gate-after 5: this deployment has 2 wave\(s\) \(\d+, \d+ host\(s\)\); nothing was deployed/);
    expect(deploy('list').stdout).toMatch(/No deployments yet/);
    for (const h of lab.hosts) expect(await version(h)).toBe('1.0');
  }, 240_000);

  it('deploys in waves; status, log and list show it; a finished deployment cannot be paused', async () => {
    const r = deploy(planId, '--waves', '1,100%', '--hosts', `name=${lab.hosts[0]!.name}`, '--deb-cache', debs, '--json');
    expect(r.status, r.stderr).toBe(0);
    const id = (JSON.parse(r.stdout) as { deployment: string; result: { status: string } }).deployment;
    expect((JSON.parse(r.stdout) as { result: { status: string } }).result.status).toBe('succeeded');
    expect(await version(lab.hosts[0]!)).toBe('2.0');
    expect(await version(lab.hosts[1]!)).toBe('1.0');
    expect(deploy('status', id).stdout).toMatch(new RegExp(`Deployment ${id} of plan \\w+ v1: succeeded[\\s\\S]*${lab.hosts[0]!.name} \\(group \\w+\\): healthy`));
    const log = deploy('log', id);
    expect(log.stdout).toMatch(/verdict \(wave 1\): passed/);
    expect(log.stdout).toMatch(/succeeded: every wave passed/);
    expect(deploy('list').stdout).toContain(id);
    const late = deploy('pause', id);
    expect(late.status).not.toBe(0);
    expect(late.stderr).toMatch(/RW_DEPLOY: deployment \w+ is succeeded: it cannot be paused/);
  }, 240_000);

  it('pause during a bake from another process stops the bake; abort then rolls the hosts back', async () => {
    const hosts = [lab.hosts[1]!, lab.hosts[2]!];
    const child = spawn(process.execPath, [CLI_ENTRY, 'deploy', planId, '--waves', '100%', '--hosts', `!name=${lab.hosts[0]!.name}`, '--bake', '10m', '--deb-cache', debs, '--store', store, '--json'], {
      cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ROLLWISE_DIST_CHECKED: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    try {
      // wait until it bakes (a progress line says so)
      for (let i = 0; i < 600 && !err.includes('baking wave 1'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(err).toContain('baking wave 1');
      for (const h of hosts) expect(await version(h)).toBe('2.0');
      const list = JSON.parse(deploy('list', '--json').stdout) as Array<{ id: string; status: string }>;
      const id = list.find((d) => d.status === 'running')!.id;
      const paused = deploy('pause', id);
      expect(paused.status, paused.stderr).toBe(0);
      expect(paused.stdout).toMatch(/pause requested/);
      expect(await exited).toBe(0);
      expect((JSON.parse(out) as { result: { status: string; reason: string } }).result).toMatchObject({ status: 'paused', reason: expect.stringContaining('during the bake of wave 1') });
      // a second deployment of hosts the paused one changed is refused (its snapshot would hold the new version)
      const overlap = deploy(planId, '--waves', '100%', '--hosts', `name=${hosts[0]!.name}`, '--deb-cache', debs);
      expect(overlap.status).not.toBe(0);
      expect(overlap.stderr).toMatch(new RegExp(`RW_DEPLOY: deployment ${id} \\(plan \\w+ v1\\) is paused and selects 1 of the same host\\(s\\): ${hosts[0]!.name}; nothing was deployed.*rollwise deploy resume ${id} continues it, rollwise deploy abort ${id} rolls it back`));
      expect((JSON.parse(deploy('list', '--json').stdout) as unknown[]).length).toBe(list.length);
      const aborted = deploy('abort', id, '--deb-cache', debs);
      expect(aborted.status).toBe(1);
      expect(aborted.stdout).toMatch(new RegExp(`Deployment ${id}: aborted`));
      for (const h of hosts) expect(await version(h)).toBe('1.0');
      expect(deploy('log', id).stdout).toMatch(/rolled-back: every changed host verified identical/);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});

