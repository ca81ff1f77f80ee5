/**
 * The Prometheus provider and the verdicts on a real Prometheus (Debian's package, started by
 * the launcher on loopback with a 1 s scrape interval) scraping one prom-client exporter per host.
 * The exporters' values change during the test: an error ratio up on one host fails that host; the
 * same rise on every host is fleet-wide; a latency rise within thresholds is caught by the canary
 * judge; Prometheus stopped gives error measurements and an inconclusive verdict. Provider errors
 * that Prometheus itself cannot be made to give (a 5xx page, a body that is not JSON, no answer)
 * come from small local HTTP servers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricCheck, runAnalysis, systemClock, type Measurement, type MetricCheck } from '../../src/analysis/index.js';
import { createPrometheusProvider, startPrometheusServer, type PrometheusProvider, type PrometheusServer } from '../../src/monitor/index.js';
import { isRollwiseError } from '../../src/shared/index.js';
import { startTestExporter, type TestExporter } from '../lab/exporter.js';

const HOSTS = ['host-0', 'host-1', 'host-2'];
let exporters: TestExporter[] = [];
let prometheus: PrometheusServer | undefined;
let provider: PrometheusProvider;

const errorCheck = (): MetricCheck =>
  createMetricCheck({ name: 'error-ratio', query: { provider: 'prometheus', promql: 'rollwise_test_error_ratio' }, successCondition: '< 0.05', intervalMs: 1000, canary: {} });
const latencyCheck = (): MetricCheck =>
  createMetricCheck({ name: 'latency', query: { provider: 'prometheus', promql: 'rollwise_test_latency_seconds' }, successCondition: '< 1', intervalMs: 1000, canary: { minRelativeEffect: 0.1 } });

/** Wait until Prometheus reports `want` for every host (a scrape or two after a change). */
async function until(promql: string, want: (byHost: Map<string, number>) => boolean): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const m = await provider.measure({ check: 'wait', query: { provider: 'prometheus', promql }, hosts: HOSTS });
    if (m.kind === 'value' && want(new Map(m.samples.map((s) => [s.host, s.value])))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Prometheus never showed the expected values of ${promql}`);
}

const setAll = (values: Array<{ errorRatio?: number; latencySeconds?: number }>): void => exporters.forEach((e, i) => e.set(values[i] ?? {}));

beforeAll(async () => {
  exporters = await Promise.all(HOSTS.map((h) => startTestExporter(h, { errorRatio: 0.01, latencySeconds: 0.1 })));
  prometheus = await startPrometheusServer({ targets: exporters.map((e) => ({ address: e.address, labels: { host: e.host, service: 'demo' } })), scrapeIntervalMs: 1000 });
  provider = createPrometheusProvider({ url: prometheus.url, hostLabel: 'host', timeoutMs: 3000 });
  await prometheus.waitForTargets(60_000);
  await until('rollwise_test_error_ratio', (v) => HOSTS.every((h) => v.has(h)));
});

afterAll(async () => {
  await prometheus?.stop();
  await Promise.all(exporters.map((e) => e.close()));
});

describe('Prometheus provider on a real server', () => {
  it('instant query: one value per host by the configured label; the instance label works too', async () => {
    const m = await provider.measure({ check: 'c', query: { provider: 'prometheus', promql: 'rollwise_test_error_ratio' }, hosts: HOSTS });
    expect(m.kind).toBe('value');
    if (m.kind !== 'value') return;
    expect(m.samples.map((s) => s.host).sort()).toEqual(HOSTS);
    expect(m.samples.every((s) => s.value === 0.01)).toBe(true);
    const byInstance = await provider.measure({ check: 'c', query: { provider: 'prometheus', promql: 'up', hostLabel: 'instance' }, hosts: [exporters[1]!.address] });
    expect(byInstance).toMatchObject({ kind: 'value', samples: [{ host: exporters[1]!.address, value: 1 }] });
  });

  it('range query: a series per host over the window', async () => {
    await until('count_over_time(rollwise_test_error_ratio[10s])', (v) => (v.get('host-1') ?? 0) >= 4);
    const end = Date.now();
    const m = await provider.measure({ check: 'c', query: { provider: 'prometheus', promql: 'rollwise_test_error_ratio' }, hosts: ['host-1'], range: { start: end - 4000, end, stepMs: 1000 } });
    expect(m.kind).toBe('value');
    if (m.kind !== 'value') return;
    expect(new Set(m.samples.map((s) => s.host))).toEqual(new Set(['host-1']));
    expect(m.samples.length).toBeGreaterThanOrEqual(3); // steps within the window once the series existed
    const times = m.samples.map((x) => x.at);
    expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual(times.slice(1).map(() => 1000));
    expect(m.window).toEqual({ start: end - 4000, end });
  });

  it('no data is its own outcome; a bad query and a scalar are errors', async () => {
    expect((await provider.measure({ check: 'c', query: { provider: 'prometheus', promql: 'no_such_metric_at_all' }, hosts: HOSTS })).kind).toBe('no-data');
    expect((await provider.measure({ check: 'c', query: { provider: 'prometheus', promql: 'rollwise_test_error_ratio' }, hosts: ['host-9'] })).kind).toBe('no-data');
    const bad = await provider.measure({ check: 'c', query: { provider: 'prometheus', promql: 'sum(' }, hosts: HOSTS });
    expect(bad).toMatchObject({ kind: 'error', reason: 'query-error' });
    if (bad.kind === 'error') expect(bad.message).toMatch(/bad_data.*HTTP 400/);
    expect(await provider.measure({ check: 'c', query: { provider: 'prometheus', promql: 'scalar(vector(1))' }, hosts: HOSTS })).toMatchObject({ kind: 'error', reason: 'query-error' });
  });
});

describe('verdicts from real metrics', () => {
  const wave = { changedHosts: ['host-0'], controlHosts: ['host-1', 'host-2'], bakeMs: 6000, clock: systemClock };

  it('a healthy wave passes', async () => {
    setAll([{ errorRatio: 0.01, latencySeconds: 0.1 }, { errorRatio: 0.01, latencySeconds: 0.1 }, { errorRatio: 0.01, latencySeconds: 0.1 }]);
    const run = await runAnalysis({ checks: [errorCheck(), latencyCheck()], providers: { prometheus: provider }, ...wave });
    expect(run.checks.map((c) => c.status)).toEqual(['passed', 'passed']);
    expect(run.status).toBe('passed');
  });

  it('the error ratio up on the changed host fails it, with the host and values as evidence', async () => {
    setAll([{ errorRatio: 0.3 }, { errorRatio: 0.01 }, { errorRatio: 0.01 }]);
    await until('rollwise_test_error_ratio', (v) => v.get('host-0') === 0.3);
    const run = await runAnalysis({ checks: [errorCheck()], providers: { prometheus: provider }, ...wave });
    expect(run.status).toBe('failed');
    const v = run.checks[0]!;
    expect(v.evidence.hosts).toEqual(['host-0']);
    expect(v.reasons[0]).toMatchObject({ kind: 'failure-limit', host: 'host-0' });
    expect(v.evidence.changed[0]!.values).toContain(0.3);
    expect(v.evidence.control.every((t) => t.failed === 0)).toBe(true);
    expect(v.evidence.query).toBe('rollwise_test_error_ratio');
  });

  it('the same rise on every host is fleet-wide: inconclusive, not blamed on the change', async () => {
    setAll([{ errorRatio: 0.3 }, { errorRatio: 0.3 }, { errorRatio: 0.3 }]);
    await until('rollwise_test_error_ratio', (v) => HOSTS.every((h) => v.get(h) === 0.3));
    const run = await runAnalysis({ checks: [errorCheck()], providers: { prometheus: provider }, ...wave });
    expect(run.status).toBe('inconclusive');
    expect(run.checks[0]!.reasons[0]).toMatchObject({ kind: 'fleet-wide', controlHostsFailing: ['host-1', 'host-2'] });
  });

  it('a latency rise within the threshold is caught by the canary judge', async () => {
    setAll([{ errorRatio: 0.01, latencySeconds: 0.15 }, { errorRatio: 0.01, latencySeconds: 0.1 }, { errorRatio: 0.01, latencySeconds: 0.1 }]);
    await until('rollwise_test_latency_seconds', (v) => v.get('host-0') === 0.15);
    const run = await runAnalysis({ checks: [latencyCheck()], providers: { prometheus: provider }, ...wave });
    expect(run.status).toBe('failed');
    expect(run.checks[0]!.reasons[0]).toMatchObject({ kind: 'canary-worse', statistic: { against: 'control', direction: 'higher-is-worse', outcome: 'worse' } });
    expect(run.checks[0]!.evidence.statistic!.shift).toBeCloseTo(0.05, 9);
  });

  it('with Prometheus stopped: error measurements, inconclusive, never passed', async () => {
    setAll([{ errorRatio: 0.01, latencySeconds: 0.1 }, {}, {}]);
    await prometheus!.stop();
    const seen: Measurement[] = [];
    const run = await runAnalysis({ checks: [errorCheck()], providers: { prometheus: provider }, ...wave, onMeasurement: (m) => void seen.push(m) });
    expect(run.status).toBe('inconclusive');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((m) => m.kind === 'error' && m.reason === 'connection' && /ECONNREFUSED/.test(m.message))).toBe(true);
  });
});

describe('provider errors as measurements', () => {
  const servers: Server[] = [];
  const serve = async (handler: Parameters<typeof createServer>[1]): Promise<string> => {
    const s = createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
  const ask = (url: string, timeoutMs = 3000): Promise<Measurement> =>
    createPrometheusProvider({ url, timeoutMs }).measure({ check: 'c', query: { provider: 'prometheus', promql: 'up' }, hosts: [] });

  it('HTTP 5xx, a body that is not JSON, JSON that is not Prometheus, no answer, a closed port', async () => {
    expect(await ask(await serve((_q, r) => r.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>')))).toMatchObject({ kind: 'error', reason: 'http-status', message: 'HTTP 502' });
    expect(await ask(await serve((_q, r) => r.writeHead(200).end('{"status":')))).toMatchObject({ kind: 'error', reason: 'bad-response' });
    expect(await ask(await serve((_q, r) => r.writeHead(200).end('{"hello":1}')))).toMatchObject({ kind: 'error', reason: 'bad-response' });
    expect(await ask(await serve((_q, r) => r.writeHead(422).end('{"status":"error","errorType":"execution","error":"too many samples"}')))).toMatchObject({
      kind: 'error', reason: 'query-error', message: 'execution: too many samples (HTTP 422)',
    });
    expect(await ask(await serve(() => undefined), 300)).toMatchObject({ kind: 'error', reason: 'timeout' });
    const closed = await serve(() => undefined);
    const s = servers.pop()!;
    await new Promise((r) => s.close(r));
    expect(await ask(closed)).toMatchObject({ kind: 'error', reason: 'connection' });
  });

  it('a missing prometheus binary is RW_MONITOR naming the Debian package', async () => {
    try {
      await startPrometheusServer({ targets: [], binary: '/nonexistent/prometheus' });
      expect.unreachable();
    } catch (e) {
      expect(isRollwiseError(e) && e.code).toBe('RW_MONITOR');
      if (isRollwiseError(e)) expect(e.hint).toMatch(/Debian package 'prometheus'/);
    }
  });
});
