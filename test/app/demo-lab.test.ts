// `rollwise demo`'s deployment part, through the services the command composes: the example lab
// is built for real (directory roots with dpkg and apt, runit, Prometheus), the plan made from its
// inventory is rehearsed on its staging root, approved and deployed; shopfront 2.0.0 fails only on
// the hosts with the legacy plugin, so the canary's verdict (measured on Prometheus) fails, both
// canary hosts are rolled back, and every host's snapshot equals its snapshot from before. Then
// every process the lab started is gone, after stop() and after Ctrl-C (SIGINT) in a process
// running a lab. Needs root, dpkg, apt, runit and prometheus (a missing one fails naming its
// Debian package).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DecisionBody } from '../../src/deploy/index.js';
import {
  approvePlan, demoStagingGroup, deployOnDemoLab, openStore, planOnDemoLab, rehearsePlanOnStaging, startDemoLab,
  type DemoLab, type DeployStore,
} from '../../src/app/index.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'rw-demo-lab-'));
let lab: DemoLab | undefined;
afterAll(async () => {
  await lab?.stop();
  // also after a failure half-way: no process of this test's labs outlives it (the Ctrl-C test's child lab included)
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(work) && Number(pid) !== process.pid) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  rmSync(work, { recursive: true, force: true });
});

/** Running, not a zombie waiting to be reaped (this container's init reaps orphans late). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
};

describe('the demo lab: plan, rehearse, approve, deploy, automatic rollback', () => {
  it('the canary fails on the legacy-plugin host by the Prometheus check, both canary hosts are rolled back, every host equals its snapshot, and stop() ends every process', async () => {
    lab = await startDemoLab({ dir: path.join(work, 'lab') });
    const started = lab.processes();
    // per host: runsvdir, runsv and the service; and Prometheus
    expect(started.length).toBe(lab.hosts.length * 3 + 1);
    expect(lab.hosts.map((h) => `${h.name}:${h.group}`)).toEqual(['shop-01:eu', 'shop-02:eu', 'shop-03:eu', 'shop-04:us', 'shop-05:us', 'shop-06:us']);

    const store = (await openStore(path.join(work, 'store', 'rollwise.db'))) as unknown as DeployStore & { close(): Promise<void> };
    try {
      const { plan, knowledge, analysis } = await planOnDemoLab(lab, store);
      // the installed sets were read from each root's dpkg database: two states, the same upgrade
      expect(plan.status).toBe('ready');
      expect(plan.groups.map((g) => [g.hosts.join(','), g.installed.map((p) => `${p.name}=${p.version}`).join(','), g.outcome.kind === 'transaction' ? g.outcome.changes.map((c) => `${c.action} ${c.name} ${c.from}->${c.to}`).join(',') : g.outcome.kind]))
        .toEqual([
          ['shop-01,shop-02,shop-03', 'shopfront=1.8.3', 'upgrade shopfront 1.8.3->2.0.0'],
          ['shop-04,shop-05,shop-06', 'shop-legacy-plugin=1.0,shopfront=1.8.3', 'upgrade shopfront 1.8.3->2.0.0'],
        ]);
      expect(analysis.impact.reach.map((r) => r.service)).toEqual(['shopfront']);

      const group = demoStagingGroup(plan);
      expect(group.number).toBe(2);
      const rehearsal = await rehearsePlanOnStaging({ store, plan, knowledge, impact: analysis.impact, root: lab.staging, name: 'lab-staging', group: group.key });
      expect(rehearsal.kind).toBe('rehearsed');
      if (rehearsal.kind === 'rehearsed') expect(rehearsal.ok).toBe(true);
      expect((await approvePlan(store, plan.id, 'tester')).kind).toBe('approved');

      const result = await deployOnDemoLab({ lab, store, plan, bake: '10s' });
      expect(result.run.result).toMatchObject({ kind: 'finished', status: 'rolled-back' });
      const states = result.run.result.kind === 'finished' ? result.run.result.hosts.map((h) => `${h.host}:${h.state}`) : [];
      expect(states.sort()).toEqual(['shop-01:restored', 'shop-02:pending', 'shop-03:pending', 'shop-04:restored', 'shop-05:pending', 'shop-06:pending']);

      // the verdict: the error-rate check failed on the us canary only, measured against the unchanged hosts
      const verdict = result.log.find((e) => e.kind === 'verdict');
      const body = verdict?.body as { verdict: string; evidence: Array<{ check: string; status: string; hosts: string[]; query: string; changed: Array<{ host: string; failed: number }>; control: Array<{ host: string }> }> };
      expect(body.verdict).toBe('failed');
      const check = body.evidence.find((e) => e.check === 'shopfront/error-rate')!;
      expect(check.status).toBe('failed');
      expect(check.query).toContain('lab_requests_total');
      expect(check.hosts).toEqual(['shop-04']);
      expect(check.changed.find((h) => h.host === 'shop-04')!.failed).toBeGreaterThan(0);
      expect(check.changed.find((h) => h.host === 'shop-01')!.failed).toBe(0);
      expect(check.control.map((h) => h.host).sort()).toEqual(['shop-02', 'shop-03', 'shop-05', 'shop-06']);
      const decisions = result.log.filter((e) => e.kind === 'decision').map((e) => (e.body as DecisionBody).decision);
      expect(decisions).toContain('roll-back');
      expect(decisions).toContain('rolled-back');

      // every host, by its own snapshot: as before the deployment (packages, conffiles, the service running)
      for (const h of lab.hosts) {
        expect(result.differences.get(h.name), h.name).toEqual([]);
        const after = result.after.get(h.name)!;
        expect(after.packages.find((p) => p.name === 'shopfront')?.version).toBe('1.8.3');
        expect(after.services).toEqual([{ name: 'shopfront', state: 'running' }]);
      }
    } finally {
      await store.close();
    }

    await lab.stop();
    expect(started.filter(alive)).toEqual([]);
    expect(lab.processes()).toEqual([]);
  }, 300_000);

  it('Ctrl-C in a process running a lab ends every process the lab started', async () => {
    const script = path.join(work, 'run-lab.mts');
    const services = new URL('../../src/app/services/demo-lab.ts', import.meta.url).pathname;
    writeFileSync(script, [
      `import { startDemoLab } from ${JSON.stringify(services)};`,
      `const lab = await startDemoLab({ dir: ${JSON.stringify(path.join(work, 'lab-sigint'))}, hostsPerGroup: 1 });`,
      'process.stdout.write(JSON.stringify(lab.processes()) + "\\n");',
      'setInterval(() => undefined, 1000);',
      '',
    ].join('\n'));
    const tsx = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
    const child = spawn(tsx, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const pids = await new Promise<number[]>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as number[]);
      });
      child.once('exit', (code) => reject(new Error(`the lab process ended (${code}) before it was ready: ${err.slice(-2000)}`)));
    });
    // runsvdir, runsv and the service of two hosts, and Prometheus
    expect(pids.length).toBe(7);
    const exited = new Promise<string>((r) => child.once('exit', (code, signal) => r(signal ?? `exit ${code}`)));
    // tsx passes the signal on to the node process running the script, and ends as it did (130: killed by SIGINT)
    child.kill('SIGINT');
    expect(['SIGINT', 'exit 130']).toContain(await exited);
    // Prometheus got SIGTERM and ends on its own; the supervisors and services were killed at once
    for (let i = 0; i < 100 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter(alive)).toEqual([]);
  }, 180_000);
});
