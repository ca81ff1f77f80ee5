// A deployment judged by Alertmanager's alerts: the deployment's checks file has an `alerts`
// check, the controller receives Alertmanager's webhooks on the address `alertsListen` names, and
// a real Alertmanager (Debian's prometheus-alertmanager on loopback) forwards an alert fired
// through its API for the canary host during the bake: the verdict fails and the canary is rolled
// back. Without a receiver address such a check is refused before anything is deployed.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadChecksFile } from '../../src/deploy/index.js';
import { createDirectoryRootDriver } from '../../src/hosts/index.js';
import { buildRequest } from '../../src/planner/index.js';
import { freeLoopbackPort, startAlertmanagerServer, type RunningServer } from '../../src/monitor/index.js';
import { approvePlan, deploymentLog, openStore, parseAlertsListen, planFleet, startDeployment, type DeployStore } from '../../src/app/index.js';
import { createLab, type Lab, type LabHost } from '../lab/index.js';
import { KIT_PACKAGES, writeRootsFleet } from './roots-fleet.js';

let lab: Lab;
let store: DeployStore & { close(): Promise<void> };
let am: RunningServer | undefined;

beforeAll(async () => {
  lab = await createLab({
    hosts: 2,
    packages: KIT_PACKAGES,
  });
  store = (await openStore(path.join(lab.dir, 'store', 'rollwise.db'))) as unknown as DeployStore & { close(): Promise<void> };
});

afterAll(async () => {
  await am?.stop();
  await store?.close();
  await lab?.destroy();
});

async function kitOf(h: LabHost): Promise<string | undefined> {
  const r = await createDirectoryRootDriver({ root: h.root, name: h.name }).readInstalled();
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
  return r.value.find((p) => p.name === 'kit')?.version;
}

async function approvedPlan(): Promise<string> {
  await Promise.all(lab.hosts.map(async (h) => {
    const o = await createDirectoryRootDriver({ root: h.root, name: h.name }).apply({ kind: 'packages', changes: [{ name: 'kit', action: 'install', to: '1.0' }] });
    if (o.status !== 'succeeded') throw new Error(JSON.stringify(o).slice(0, 1000));
  }));
  const { kb, inventory } = await writeRootsFleet(lab);
  const { plan } = await planFleet({ inventory: [inventory], local: false, sshHost: [], kb: [kb], index: [path.join(lab.repository.dir, 'Packages')], skipUnreachable: false, request: buildRequest({ install: ['kit=2.0'] }) });
  await store.savePlan(plan);
  await approvePlan(store, plan.id, 'tester');
  return plan.id;
}

describe('a deployment judged by Alertmanager alerts', () => {
  it('reads --alerts-listen as PORT or a loopback ADDRESS:PORT, and says what is wrong otherwise', () => {
    expect(parseAlertsListen('9095')).toEqual({ hostname: '127.0.0.1', port: 9095 });
    expect(parseAlertsListen('127.0.0.2:9095')).toEqual({ hostname: '127.0.0.2', port: 9095 });
    expect(parseAlertsListen('[::1]:9095')).toEqual({ hostname: '::1', port: 9095 });
    expect(() => parseAlertsListen('99999')).toThrow(/port 99999 is out of range/);
    expect(() => parseAlertsListen('0.0.0.0:9099')).toThrow(/0\.0\.0\.0 is not a loopback address/);
    expect(() => parseAlertsListen('foo')).toThrow(/is not PORT or ADDRESS:PORT/);
  });

  it('reads an alerts check (default success: no alert firing) and refuses one that names two sources, with its position', async () => {
    const file = path.join(lab.dir, 'alerts-checks.yaml');
    await writeFile(file, 'checks:\n  - name: quiet\n    alerts: { labels: { severity: page } }\n');
    const [check] = loadChecksFile(file);
    expect(check).toMatchObject({ name: 'quiet', query: { provider: 'alerts', labels: { severity: 'page' } } });
    expect(JSON.stringify(check!.successCondition)).toMatch(/"==".*0|0.*"=="/);
    await writeFile(file, 'checks:\n  - name: both\n    alerts: {}\n    prometheus: up\n');
    expect(() => loadChecksFile(file)).toThrow(/give exactly one of prometheus, http, command, alerts/);
  });


  it('is refused without a receiver address; with one, an alert Alertmanager forwards for the canary fails the wave and rolls it back', async () => {
    const planId = await approvedPlan();
    const checks = path.join(lab.dir, 'checks.yaml');
    await writeFile(checks, 'checks:\n  - name: no-critical-alerts\n    alerts: { labels: { severity: critical } }\n    interval: 1s\n');
    const debCacheDir = path.join(lab.dir, 'debs');

    const saved = process.env.ROLLWISE_ALERTS_LISTEN;
    delete process.env.ROLLWISE_ALERTS_LISTEN;
    try {
      await expect(startDeployment({ store, plan: planId, waves: '1,100%', bake: '2s', checks, debCacheDir })).rejects.toMatchObject({ code: 'RW_MONITOR', message: expect.stringMatching(/no-critical-alerts.*no receiver address/) });
      await expect(startDeployment({ store, plan: planId, waves: '1,100%', bake: '2s', checks, debCacheDir, alertsListen: '10.0.0.1:9095' })).rejects.toMatchObject({ code: 'RW_USAGE' });
    } finally {
      if (saved !== undefined) process.env.ROLLWISE_ALERTS_LISTEN = saved;
    }
    expect(await Promise.all(lab.hosts.map(kitOf))).toEqual(['1.0', '1.0']);

    const port = await freeLoopbackPort();
    am = await startAlertmanagerServer({ webhookUrls: [`http://127.0.0.1:${port}/alertmanager`], groupWait: '0s', groupInterval: '1s' });
    const canary = lab.hosts[0]!;
    let fired = false;
    const progress: string[] = [];
    const run = await startDeployment({
      store, plan: planId, waves: '1,100%', bake: '20s', checks, debCacheDir, alertsListen: String(port),
      onProgress: (t) => progress.push(t),
      onEvent: (e) => {
        if (e.kind !== 'baking' || fired) return;
        fired = true;
        // a critical alert for the canary and a warning for the other host (the check counts only critical ones)
        void fetch(`${am!.url}/api/v2/alerts`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify([
            { labels: { alertname: 'KitErrors', instance: `${canary.name}:9100`, severity: 'critical' }, annotations: { summary: 'kit answers 500' }, startsAt: new Date().toISOString() },
            { labels: { alertname: 'KitSlow', instance: `${lab.hosts[1]!.name}:9100`, severity: 'warning' }, startsAt: new Date().toISOString() },
          ]),
        });
      },
    });
    expect(fired).toBe(true);
    expect(progress.some((t) => t.includes(`receiving Alertmanager's webhooks at http://127.0.0.1:${port}/alertmanager`))).toBe(true);
    expect(run.result).toMatchObject({ kind: 'finished', status: 'rolled-back' });
    expect(await Promise.all(lab.hosts.map(kitOf))).toEqual(['1.0', '1.0']);
    const log = await deploymentLog(store, run.id);
    const verdict = log.entries.find((e) => e.kind === 'verdict')!.body as { verdict: string; evidence: Array<{ check?: string; status?: string; hosts?: string[] }> };
    expect(verdict.verdict).toBe('failed');
    expect(verdict.evidence.find((c) => c.check === 'no-critical-alerts')).toMatchObject({ status: 'failed', hosts: [canary.name] });
  }, 240_000);
});
