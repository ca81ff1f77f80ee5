/**
 * Conditions, limits and verdicts (pure), the analysis run with a fake clock and fake providers,
 * and the knowledge base's services as checks.
 */
import { describe, expect, it } from 'vitest';
import {
  checksFromService, createMetricCheck, holds, judgeCheck, parseCondition, parseDuration, runAnalysis,
  type AnalysisClock, type Measurement, type MeasureRequest, type MetricCheck, type MetricProvider,
} from '../../src/analysis/index.js';
import { isRollwiseError } from '../../src/shared/index.js';
import type { KbService } from '../../src/kb/index.js';

const check = (over: Partial<Parameters<typeof createMetricCheck>[0]> = {}): MetricCheck =>
  createMetricCheck({ name: 'errors', query: { provider: 'prometheus', promql: 'error_ratio' }, successCondition: '< 0.05', intervalMs: 1000, ...over });

const at = (i: number): number => 1_000_000 + i * 1000;
const values = (i: number, byHost: Record<string, number>): Measurement => ({
  check: 'errors', provider: 'prometheus', query: 'error_ratio', at: at(i), kind: 'value',
  samples: Object.entries(byHost).map(([host, value]) => ({ host, at: at(i), value })),
});
const error = (i: number): Measurement => ({ check: 'errors', provider: 'prometheus', query: 'error_ratio', at: at(i), kind: 'error', reason: 'connection', message: 'ECONNREFUSED' });
const noData = (i: number): Measurement => ({ check: 'errors', provider: 'prometheus', query: 'error_ratio', at: at(i), kind: 'no-data' });

describe('conditions', () => {
  it('reads comparisons and conjunctions; < is strict', () => {
    expect(holds(parseCondition('< 0.05'), 0.05)).toBe(false);
    expect(holds(parseCondition('<= 0.05'), 0.05)).toBe(true);
    expect(holds(parseCondition('>= 1 and <= 5'), 3)).toBe(true);
    expect(holds(parseCondition('>= 1 and <= 5'), 6)).toBe(false);
    expect(holds(parseCondition('== 1'), 1)).toBe(true);
    expect(holds(parseCondition('!= 0'), NaN)).toBe(false);
    expect(holds(parseCondition('> -1e-3'), 0)).toBe(true);
  });

  it('refuses bad text with RW_CHECK, a hint and the position given', () => {
    for (const bad of ['0.05', '=< 1', '< abc', '< 1 or > 2', '']) {
      try {
        parseCondition(bad, { file: 'deploy.yaml', line: 3, column: 7 });
        expect.unreachable(bad);
      } catch (e) {
        expect(isRollwiseError(e) && e.code).toBe('RW_CHECK');
        if (isRollwiseError(e)) {
          expect(e.hint).toMatch(/< 0.05/);
          expect(e.render()).toContain('deploy.yaml:3:7');
        }
      }
    }
    expect(parseDuration('2m')).toBe(120_000);
    expect(() => parseDuration('2 minutes')).toThrow(/bad duration/);
  });

  it('a check needs a condition and sane limits', () => {
    expect(() => createMetricCheck({ name: 'x', query: { provider: 'alerts' } })).toThrow(/no success or failure condition/);
    expect(() => check({ failureLimit: -1 })).toThrow(/failureLimit/);
  });
});

describe('judgeCheck', () => {
  const hosts = { changedHosts: ['a', 'b'], controlHosts: [] as string[] };

  it('passes only when complete and every host had successes', () => {
    const ms = [values(1, { a: 0.01, b: 0.02 }), values(2, { a: 0.01, b: 0.0 })];
    expect(judgeCheck({ check: check(), measurements: ms, ...hosts, complete: false }).settled).toBe(false);
    const j = judgeCheck({ check: check(), measurements: ms, ...hosts, complete: true });
    expect(j.verdict.status).toBe('passed');
    expect(j.verdict.evidence.changed.find((t) => t.host === 'a')!.values).toEqual([0.01, 0.01]);
  });

  it('fails the host that breaches beyond the failure limit, with the evidence', () => {
    const ms = [values(1, { a: 0.01, b: 0.3 }), values(2, { a: 0.01, b: 0.4 })];
    expect(judgeCheck({ check: check({ failureLimit: 1 }), measurements: ms.slice(0, 1), ...hosts, complete: false }).verdict.status).not.toBe('failed');
    const j = judgeCheck({ check: check({ failureLimit: 1 }), measurements: ms, ...hosts, complete: false });
    expect(j.settled).toBe(true);
    expect(j.verdict.status).toBe('failed');
    expect(j.verdict.evidence.hosts).toEqual(['b']);
    expect(j.verdict.reasons).toContainEqual({ kind: 'failure-limit', host: 'b', failed: 2, limit: 1 });
    expect(j.verdict.evidence.query).toBe('error_ratio');
    expect(j.verdict.evidence.successCondition).toBe('< 0.05');
  });

  it('failure and success conditions: neither holding is inconclusive', () => {
    const c = check({ successCondition: '< 0.05', failureCondition: '> 0.1' });
    const j = judgeCheck({ check: c, measurements: [values(1, { a: 0.07, b: 0.01 })], ...hosts, complete: true });
    expect(j.verdict.status).toBe('inconclusive');
    expect(j.verdict.reasons[0]).toMatchObject({ kind: 'inconclusive-limit', host: 'a' });
  });

  it('no data never passes: a missing host, or nothing at all', () => {
    const missing = judgeCheck({ check: check({ inconclusiveLimit: 5 }), measurements: [values(1, { a: 0.01 }), noData(2)], ...hosts, complete: true });
    expect(missing.verdict.status).toBe('inconclusive');
    expect(missing.verdict.reasons).toContainEqual({ kind: 'no-data', hosts: ['b'] });
    expect(judgeCheck({ check: check(), measurements: [], ...hosts, complete: true }).verdict.status).toBe('inconclusive');
  });

  it('provider errors are measurements: too many in a row is inconclusive, never passed', () => {
    const c = check({ consecutiveErrorLimit: 2 });
    const few = judgeCheck({ check: c, measurements: [values(1, { a: 0, b: 0 }), error(2), error(3), values(4, { a: 0, b: 0 })], ...hosts, complete: true });
    expect(few.verdict.status).toBe('passed');
    expect(few.verdict.evidence.errors).toBe(2);
    const many = judgeCheck({ check: c, measurements: [error(1), error(2), error(3)], ...hosts, complete: false });
    expect(many.settled).toBe(true);
    expect(many.verdict.status).toBe('inconclusive');
    expect(many.verdict.reasons[0]).toMatchObject({ kind: 'consecutive-errors', errors: 3, limit: 2, lastError: 'connection: ECONNREFUSED' });
    // errors within the limit but nothing else: still no pass
    expect(judgeCheck({ check: check(), measurements: [error(1)], ...hosts, complete: true }).verdict.status).toBe('inconclusive');
  });

  it('a breach the control hosts share is fleet-wide: inconclusive, not failed', () => {
    const c = check({ canary: {} });
    const ms = [1, 2, 3, 4, 5, 6].map((i) => values(i, { a: 0.3 + i / 1000, c1: 0.3 + i / 900, c2: 0.3 - i / 1100 }));
    const j = judgeCheck({ check: c, measurements: ms, changedHosts: ['a'], controlHosts: ['c1', 'c2'], complete: false });
    expect(j.verdict.status).toBe('inconclusive');
    expect(j.verdict.reasons[0]).toMatchObject({ kind: 'fleet-wide', controlHostsFailing: ['c1', 'c2'] });
  });

  it('the canary fails a changed host clearly worse than control hosts, even within thresholds', () => {
    const c = check({ successCondition: '< 1', canary: { minRelativeEffect: 0.1 } });
    const ms = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => values(i, { a: 0.5 + i / 1000, c1: 0.1 + i / 900, c2: 0.1 - i / 1100 }));
    const j = judgeCheck({ check: c, measurements: ms, changedHosts: ['a'], controlHosts: ['c1', 'c2'], complete: true });
    expect(j.verdict.status).toBe('failed');
    expect(j.verdict.reasons[0]).toMatchObject({ kind: 'canary-worse' });
    expect(j.verdict.evidence.statistic).toMatchObject({ against: 'control', outcome: 'worse', changedCount: 8, controlCount: 16 });
  });

  it('with no control host left, compares against the baseline from before the wave', () => {
    const c = check({ successCondition: '< 1', canary: {} });
    const ms = [1, 2, 3, 4, 5, 6].map((i) => values(i, { a: 0.5 + i / 1000 }));
    const baseline = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ host: 'a', at: at(-i), value: 0.1 + i / 1000 }));
    const j = judgeCheck({ check: c, measurements: ms, changedHosts: ['a'], controlHosts: [], baseline, complete: true });
    expect(j.verdict.status).toBe('failed');
    expect(j.verdict.evidence.statistic?.against).toBe('baseline');
  });
});

/** A clock that jumps instead of waiting. */
function fakeClock(start = 1_000_000): AnalysisClock & { slept: number[] } {
  let t = start;
  const slept: number[] = [];
  return { slept, now: () => t, sleep: async (ms) => { slept.push(ms); t += ms; } };
}

function scriptedProvider(valueAt: (host: string, i: number) => number | 'error' | 'throw'): MetricProvider & { calls: MeasureRequest[] } {
  const calls: MeasureRequest[] = [];
  return {
    kind: 'prometheus',
    calls,
    async measure(r) {
      calls.push(r);
      const i = calls.length;
      const head = { check: r.check, provider: 'prometheus' as const, query: 'q', at: r.at ?? 0 };
      if (r.range) return { ...head, kind: 'value', samples: r.hosts.flatMap((host) => [1, 2, 3, 4, 5, 6].map((k) => ({ host, at: r.range!.start + k, value: 0.01 }))) };
      const vs = r.hosts.map((h) => [h, valueAt(h, i)] as const);
      if (vs.some(([, v]) => v === 'throw')) throw new Error('provider bug');
      if (vs.some(([, v]) => v === 'error')) return { ...head, kind: 'error', reason: 'timeout', message: 'no answer within 5000 ms' };
      return { ...head, kind: 'value', samples: vs.map(([host, v]) => ({ host, at: r.at ?? 0, value: v as number })) };
    },
  };
}

describe('runAnalysis', () => {
  it('a healthy wave passes after the whole bake time, measuring changed and control hosts together', async () => {
    const clock = fakeClock();
    const p = scriptedProvider(() => 0.01);
    const run = await runAnalysis({ checks: [check()], providers: { prometheus: p }, changedHosts: ['a'], controlHosts: ['b'], bakeMs: 10_000, clock });
    expect(run.status).toBe('passed');
    expect(run.stoppedEarly).toBe(false);
    expect(p.calls).toHaveLength(10);
    expect(p.calls[0]!.hosts).toEqual(['a', 'b']);
    expect(run.window).toEqual({ start: 1_000_000, end: 1_010_000 });
    expect(run.measurements).toHaveLength(10);
  });

  it('stops at the first failed check and names the host', async () => {
    const clock = fakeClock();
    const p = scriptedProvider((h, i) => (h === 'a' && i >= 3 ? 0.4 : 0.01));
    const run = await runAnalysis({ checks: [check({ failureLimit: 1 })], providers: { prometheus: p }, changedHosts: ['a'], controlHosts: ['b'], bakeMs: 60_000, clock });
    expect(run.status).toBe('failed');
    expect(run.stoppedEarly).toBe(false); // the only check is settled
    expect(p.calls).toHaveLength(4);
    expect(run.checks[0]!.evidence.hosts).toEqual(['a']);
    expect(clock.now() - 1_000_000).toBe(4000);
  });

  it('a provider that errors or throws gives error measurements and an inconclusive verdict, never passed', async () => {
    for (const kind of ['error', 'throw'] as const) {
      const run = await runAnalysis({ checks: [check()], providers: { prometheus: scriptedProvider(() => kind) }, changedHosts: ['a'], controlHosts: [], bakeMs: 10_000, clock: fakeClock() });
      expect(run.status).toBe('inconclusive');
      expect(run.measurements.length).toBe(5); // consecutive error limit 4: the fifth settles it
      expect(run.checks[0]!.reasons[0]).toMatchObject({ kind: 'consecutive-errors' });
    }
    const none = await runAnalysis({ checks: [check()], providers: {}, changedHosts: ['a'], controlHosts: [], bakeMs: 3000, clock: fakeClock() });
    expect(none.status).toBe('inconclusive');
    expect(none.measurements[0]).toMatchObject({ kind: 'error', reason: 'no-provider' });
  });

  it('fetches a pre-wave baseline when no control host remains', async () => {
    const p = scriptedProvider(() => 0.5);
    const run = await runAnalysis({
      checks: [check({ successCondition: '< 1', canary: {} })], providers: { prometheus: p }, changedHosts: ['a'], controlHosts: [], bakeMs: 8000, clock: fakeClock(),
      baselineWindow: { start: 900_000, end: 1_000_000 },
    });
    expect(p.calls[0]!.range).toEqual({ start: 900_000, end: 1_000_000, stepMs: 1000 });
    expect(run.status).toBe('failed');
    expect(run.checks[0]!.evidence.statistic).toMatchObject({ against: 'baseline', outcome: 'worse' });
  });

  it('an aborted run is judged on what it saw and does not pass', async () => {
    const ac = new AbortController();
    const clock = fakeClock();
    const run = await runAnalysis({
      checks: [check()], providers: { prometheus: scriptedProvider(() => 0.01) }, changedHosts: ['a'], controlHosts: [], bakeMs: 10_000, clock, signal: ac.signal,
      onMeasurement: () => ac.abort(),
    });
    expect(run.stoppedEarly).toBe(true);
    expect(run.status).toBe('inconclusive');
  });
});

describe('checksFromService', () => {
  const service: KbService = {
    name: 'shopfront', criticality: 'critical',
    metrics: [
      { name: 'error-rate', promql: 'sum by (instance) (rate(errors[1m]))', max: 0.01, for: '30s', interval: '10s' },
      { name: 'throughput', promql: 'sum by (instance) (rate(requests[1m]))', min: 100, minEffect: 0.2 },
      { name: 'queue', promql: 'queue_depth', max: 50, canary: false },
    ],
    health: {
      http: [{ url: 'http://127.0.0.1:8080/healthz', expectStatus: 200, contains: 'ok', timeoutMs: 1500 }],
      command: [{ argv: ['pg_isready', '-q'], expectExit: 0, timeoutMs: 5000 }],
    },
  };

  it('maps metrics (thresholds, for, direction) and probes to checks', () => {
    const [errors, throughput, queue, http, command] = checksFromService(service, { hostLabel: 'host' });
    expect(errors).toMatchObject({ name: 'shopfront/error-rate', intervalMs: 10_000, failureLimit: 2, query: { provider: 'prometheus', hostLabel: 'host' } });
    expect(errors!.successCondition!.text).toBe('<= 0.01');
    expect(errors!.canary).toMatchObject({ direction: 'higher-is-worse', minRelativeEffect: 0.1 });
    expect(throughput!.canary).toMatchObject({ direction: 'lower-is-worse', minRelativeEffect: 0.2 });
    expect(throughput!.failureLimit).toBe(0);
    expect(queue!.canary).toBeUndefined();
    expect(http).toMatchObject({ name: 'shopfront/http-1', query: { provider: 'http', url: 'http://127.0.0.1:8080/healthz', contains: 'ok' } });
    expect(command).toMatchObject({ query: { provider: 'command', argv: ['pg_isready', '-q'], expectExit: 0 } });
    expect(holds(http!.successCondition!, 1)).toBe(true);
    expect(holds(http!.successCondition!, 0)).toBe(false);
  });
});
