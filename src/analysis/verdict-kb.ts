/**
 * The knowledge base's services name their own checks: each `metrics` entry becomes a Prometheus
 * check (min/max as the success condition, `for` as the failures tolerated at the interval,
 * `direction`/`minEffect` for the canary judge), and each `health` probe a check whose value is 1
 * when healthy. A deployment may add its own checks with createMetricCheck.
 */
import type { KbService } from '../kb/index.js';
import { DEFAULT_CANARY } from './canary.js';
import { conditionFromBounds, parseCondition, parseDuration } from './verdict-conditions.js';
import type { CanaryOptions, CheckQuery, Condition, Direction, MetricCheck } from './verdict-model.js';
import { RollwiseError } from '../shared/index.js';

export const DEFAULT_INTERVAL_MS = 10_000;
export const DEFAULT_PROBE_INTERVAL_MS = 5_000;
export const DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4;

export interface MetricCheckSpec {
  name: string;
  query: CheckQuery;
  /** Text (`< 0.05`) or a condition. */
  successCondition?: string | Condition;
  failureCondition?: string | Condition;
  intervalMs?: number;
  count?: number;
  failureLimit?: number;
  inconclusiveLimit?: number;
  consecutiveErrorLimit?: number;
  /** Partial options over DEFAULT_CANARY; omitted: thresholds only. */
  canary?: Partial<CanaryOptions>;
  origin?: string;
}

const asCondition = (c: string | Condition | undefined): Condition | undefined => (typeof c === 'string' ? parseCondition(c) : c);

/** A check with the defaults filled in; RW_CHECK when it could never judge anything. */
export function createMetricCheck(spec: MetricCheckSpec): MetricCheck {
  const successCondition = asCondition(spec.successCondition);
  const failureCondition = asCondition(spec.failureCondition);
  const bad = (what: string, hint: string): RollwiseError => new RollwiseError('RW_CHECK', `check ${spec.name}: ${what}`, { hint });
  if (!successCondition && !failureCondition) throw bad('no success or failure condition', 'give successCondition (e.g. `< 0.05`) or failureCondition');
  const intervalMs = spec.intervalMs ?? DEFAULT_INTERVAL_MS;
  if (!(intervalMs > 0)) throw bad('the interval must be positive', 'e.g. intervalMs: 10000');
  for (const [k, v] of [['count', spec.count], ['failureLimit', spec.failureLimit], ['inconclusiveLimit', spec.inconclusiveLimit], ['consecutiveErrorLimit', spec.consecutiveErrorLimit]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw bad(`${k} must be a whole number >= 0`, `e.g. ${k}: 1`);
  }
  return {
    name: spec.name,
    query: spec.query,
    ...(successCondition ? { successCondition } : {}),
    ...(failureCondition ? { failureCondition } : {}),
    intervalMs,
    ...(spec.count !== undefined ? { count: spec.count } : {}),
    failureLimit: spec.failureLimit ?? 0,
    inconclusiveLimit: spec.inconclusiveLimit ?? 0,
    consecutiveErrorLimit: spec.consecutiveErrorLimit ?? DEFAULT_CONSECUTIVE_ERROR_LIMIT,
    ...(spec.canary ? { canary: { ...DEFAULT_CANARY, ...spec.canary } } : {}),
    ...(spec.origin ? { origin: spec.origin } : {}),
  };
}

function directionOf(m: { min?: number; max?: number; direction?: Direction }): Direction {
  if (m.direction) return m.direction;
  if (m.max !== undefined && m.min === undefined) return 'higher-is-worse';
  if (m.min !== undefined && m.max === undefined) return 'lower-is-worse';
  return 'either';
}

export interface ServiceCheckOptions {
  /** Prometheus label naming the host in the service's queries (default: the provider's). */
  hostLabel?: string;
  /** Inconclusive measurements tolerated per host (default 1: one scrape gap is not a verdict). */
  inconclusiveLimit?: number;
}

/** The checks a knowledge-base service names (metrics, then HTTP, then command probes). */
export function checksFromService(service: KbService, options: ServiceCheckOptions = {}): MetricCheck[] {
  const checks: MetricCheck[] = [];
  const inconclusiveLimit = options.inconclusiveLimit ?? 1;
  for (const m of service.metrics ?? []) {
    const intervalMs = m.interval ? parseDuration(m.interval) : DEFAULT_INTERVAL_MS;
    const forMs = m.for ? parseDuration(m.for) : 0;
    checks.push(createMetricCheck({
      name: `${service.name}/${m.name}`,
      query: { provider: 'prometheus', promql: m.promql, ...(options.hostLabel ? { hostLabel: options.hostLabel } : {}) },
      successCondition: conditionFromBounds(m)!,
      intervalMs,
      // a breach lasting `for` yields ceil(for / interval) failed measurements: tolerate one fewer
      failureLimit: Math.max(0, Math.ceil(forMs / intervalMs) - 1),
      inconclusiveLimit,
      ...(m.canary === false ? {} : { canary: { direction: directionOf(m), ...(m.minEffect !== undefined ? { minRelativeEffect: m.minEffect } : {}) } }),
      origin: `service ${service.name} metric ${m.name}`,
    }));
  }
  const healthy = parseCondition('== 1');
  for (const [i, h] of (service.health?.http ?? []).entries()) {
    checks.push(createMetricCheck({
      name: `${service.name}/http-${i + 1}`,
      query: { provider: 'http', url: h.url, expectStatus: h.expectStatus, ...(h.contains !== undefined ? { contains: h.contains } : {}), timeoutMs: h.timeoutMs },
      successCondition: healthy,
      intervalMs: DEFAULT_PROBE_INTERVAL_MS,
      inconclusiveLimit,
      origin: `service ${service.name} health http ${i + 1}`,
    }));
  }
  for (const [i, c] of (service.health?.command ?? []).entries()) {
    checks.push(createMetricCheck({
      name: `${service.name}/command-${i + 1}`,
      query: { provider: 'command', argv: [...c.argv], expectExit: c.expectExit, timeoutMs: c.timeoutMs },
      successCondition: healthy,
      intervalMs: DEFAULT_PROBE_INTERVAL_MS,
      inconclusiveLimit,
      origin: `service ${service.name} health command ${i + 1}`,
    }));
  }
  return checks;
}
