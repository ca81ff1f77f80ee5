// `rollwise demo` as a user runs it (as root, with dpkg, apt, runit and prometheus), from a
// fresh working folder: after the model part on the example fleet, the lab part is built, planned,
// rehearsed, approved and deployed; the canary's verdict fails on the monitoring with its evidence,
// both canary hosts are restored, all six hosts are identical to their snapshots, the deployment
// can be read back with `rollwise deploy log`, and no process of the lab is left.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { requireDebianIndex } from '../kb/helpers.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'rw-demo-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('rollwise demo: the lab part', () => {
  it('prints the plan, the rehearsal, the approval, the failed canary with its evidence, the rollback, six identical hosts and a stopped lab', () => {
    requireDebianIndex();
    const r = runCli(['demo'], { cwd: work });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    // the model part hands the rehearsal to the lab
    expect(out).toMatch(/A rehearsal on a staging host \(rollwise rehearse \w+ --on ROOT\) is shown below on the lab/);
    const lab = out.slice(out.indexOf('The same job for real, on an example lab built here (.rollwise/lab):'));
    expect(lab.length).toBeGreaterThan(100);
    expect(lab).toMatch(/built in [\d.]+ s: 6 directory-root hosts with the real dpkg and apt — shop-01, shop-02, shop-03 \(group eu: shopfront 1\.8\.3\) and shop-04, shop-05, shop-06 \(group us: shopfront 1\.8\.3 with shop-legacy-plugin 1\.0\)/);
    expect(lab).toMatch(/group 1 [0-9a-f]+ ready: 3 hosts \(shop-01, shop-02, shop-03\)/);
    expect(lab).toMatch(/group 2 [0-9a-f]+ ready: 3 hosts \(shop-04, shop-05, shop-06\)/);
    expect(lab).toContain('result: identical: the root is back to its former state');
    expect(lab).toMatch(/approved by \S+: plan \w+ v1/);
    expect(lab).toMatch(/wave 1 \(canary\): 2 hosts — shop-01, shop-04/);
    expect(lab).toMatch(/wave 1 verdict: failed/);
    expect(lab).toMatch(/check shopfront\/error-rate: failed \(failure-limit\)/);
    expect(lab).toMatch(/ {4}hosts: shop-04\n/);
    expect(lab).toMatch(/shop-01: restored/);
    expect(lab).toMatch(/shop-04: restored/);
    expect(lab).toMatch(/Deployment \w+: rolled-back/);
    for (const h of ['shop-01', 'shop-02', 'shop-03', 'shop-04', 'shop-05', 'shop-06']) expect(lab).toMatch(new RegExp(`  ${h}: identical — .*shopfront 1\\.8\\.3; 1 conffile; shopfront running`));
    expect(lab).toContain('6 of 6 hosts identical to their snapshot');
    expect(lab).toMatch(/Lab stopped in [\d.]+ s \(runit, the services and Prometheus; 0 of its processes left\)/);

    // the deployment is in the store the commands read by default
    const id = /rollwise deploy log (\w+)/.exec(lab)![1]!;
    const log = runCli(['deploy', 'log', id], { cwd: work });
    expect(log.status).toBe(0);
    expect(log.stdout).toMatch(new RegExp(`^Deployment ${id}: rolled-back`));
    expect(log.stdout).toMatch(/roll-back: wave 1: the judge's verdict is failed/);
  }, 300_000);
});
