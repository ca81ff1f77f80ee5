/**
 * The Alertmanager webhook receiver: version-4 payloads written as Alertmanager documents them,
 * the bearer token, refused bodies; then a real Alertmanager (Debian's prometheus-alertmanager on
 * loopback) with a webhook receiver pointed at ours: an alert fired and resolved through its API
 * reaches the receiver and shows up as a measurement for its host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertReceiver, startAlertmanagerServer, type AlertReceiver, type RunningServer } from '../../src/monitor/index.js';
import { isRollwiseError } from '../../src/shared/index.js';

const TOKEN = 's3cret-token';
let receiver: AlertReceiver;

function payload(status: 'firing' | 'resolved', host: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const labels = { alertname: 'HighErrorRate', instance: `${host}:9100`, service: 'shopfront', severity: 'page' };
  return {
    version: '4',
    groupKey: '{}:{alertname="HighErrorRate"}',
    truncatedAlerts: 0,
    status,
    receiver: 'rollwise',
    groupLabels: { alertname: 'HighErrorRate' },
    commonLabels: labels,
    commonAnnotations: { summary: 'error ratio above 5%' },
    externalURL: 'http://alertmanager.example:9093',
    alerts: [{
      status,
      labels,
      annotations: { summary: 'error ratio above 5%' },
      startsAt: '2026-11-02T10:00:00.000Z',
      endsAt: status === 'resolved' ? '2026-11-02T10:05:00.000Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example:9090/graph?g0.expr=x',
      fingerprint: 'c4f1a9b2d3e5f607',
    }],
    ...extra,
  };
}

const post = (body: unknown, token: string = TOKEN): Promise<Response> =>
  fetch(receiver.url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });

const alertsOf = async (hosts: string[], labels?: Record<string, string>): Promise<Record<string, number>> => {
  const m = await receiver.measure({ check: 'alerts', query: { provider: 'alerts', ...(labels ? { labels } : {}) }, hosts });
  if (m.kind !== 'value') throw new Error(`unexpected ${m.kind}`);
  return Object.fromEntries(m.samples.map((s) => [s.host, s.value]));
};

beforeAll(async () => {
  receiver = await startAlertReceiver({ token: TOKEN });
});
afterAll(() => receiver?.close());

describe('alert receiver', () => {
  it('turns firing and resolved alerts into per-host measurements', async () => {
    const r = await post(payload('firing', 'host-1'));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok', alerts: 1 });
    expect(await alertsOf(['host-0', 'host-1'])).toEqual({ 'host-0': 0, 'host-1': 1 });
    expect(await alertsOf(['host-1'], { service: 'shopfront' })).toEqual({ 'host-1': 1 });
    expect(await alertsOf(['host-1'], { service: 'other' })).toEqual({ 'host-1': 0 });
    expect((await post(payload('resolved', 'host-1'))).status).toBe(200);
    expect(await alertsOf(['host-1'])).toEqual({ 'host-1': 0 });
    expect(receiver.alerts()[0]).toMatchObject({ status: 'resolved', host: 'host-1:9100', fingerprint: 'c4f1a9b2d3e5f607' });
  });

  it('requires the bearer token', async () => {
    expect((await post(payload('firing', 'host-2'), '')).status).toBe(401);
    expect((await post(payload('firing', 'host-2'), 'wrong')).status).toBe(401);
    expect(await alertsOf(['host-2'])).toEqual({ 'host-2': 0 });
  });

  it('refuses what is not a version-4 payload, saying which field', async () => {
    const v3 = await post(payload('firing', 'host-2', { version: '3' }));
    expect(v3.status).toBe(400);
    expect(((await v3.json()) as { error: string }).error).toMatch(/version/);
    const noAlerts = await post({ ...payload('firing', 'host-2'), alerts: [{ status: 'burning', labels: {} }] });
    expect(noAlerts.status).toBe(400);
    expect(((await noAlerts.json()) as { error: string }).error).toMatch(/alerts\.0\.status/);
    const notJson = await fetch(receiver.url, { method: 'POST', body: '{"version":', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(notJson.status).toBe(400);
    const huge = await post({ ...payload('firing', 'host-2'), padding: 'x'.repeat(2 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(await alertsOf(['host-2'])).toEqual({ 'host-2': 0 });
  });

  it('listens on loopback only', async () => {
    try {
      await startAlertReceiver({ hostname: '0.0.0.0' });
      expect.unreachable();
    } catch (e) {
      expect(isRollwiseError(e) && e.code).toBe('RW_MONITOR');
    }
  });
});

describe('with a real Alertmanager', () => {
  let am: RunningServer | undefined;
  beforeAll(async () => {
    am = await startAlertmanagerServer({ webhookUrls: [receiver.url], webhookToken: TOKEN });
  });
  afterAll(() => am?.stop());

  async function fire(endsAt?: string): Promise<void> {
    const res = await fetch(`${am!.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{
        labels: { alertname: 'LabCrashLoop', instance: 'host-7', service: 'demo' },
        annotations: { summary: 'the demo service restarts' },
        startsAt: new Date(Date.now() - 1000).toISOString(),
        ...(endsAt ? { endsAt } : {}),
      }]),
    });
    expect(res.status).toBe(200);
  }
  async function waitFor(host: string, firing: number): Promise<void> {
    for (let i = 0; i < 300; i++) {
      if ((await alertsOf([host]))[host] === firing && receiver.alerts().some((a) => a.labels.alertname === 'LabCrashLoop')) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the receiver never saw ${firing} firing alert(s) for ${host}; Alertmanager said: ${am!.log().slice(-500)}`);
  }

  it('an alert fired and resolved through Alertmanager reaches the receiver', async () => {
    const before = receiver.received;
    await fire();
    await waitFor('host-7', 1);
    expect(receiver.firing('host-7')[0]).toMatchObject({ labels: { alertname: 'LabCrashLoop', service: 'demo' }, annotations: { summary: 'the demo service restarts' } });
    await fire(new Date().toISOString());
    await waitFor('host-7', 0);
    expect(receiver.received).toBeGreaterThanOrEqual(before + 2);
  });
});
