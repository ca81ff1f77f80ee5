/**
 * Judging a metric check from its measurements (pure; replays of recorded series use it as the
 * live run does). Each value of each host is a success, a failure or inconclusive by the
 * check's conditions (failure condition first, as Argo Rollouts reads them); a host missing from
 * a measurement has no data there. Per host, more failures than `failureLimit` fail the check,
 * more inconclusive or no-data measurements than `inconclusiveLimit` make it inconclusive; more
 * consecutive provider errors than `consecutiveErrorLimit` make it inconclusive. A host that never
 * had a successful measurement by the end does not pass ("no data" never passes).
 *
 * With a canary, the changed hosts' values are compared with the control hosts' (./canary.ts):
 * significantly worse fails the check even within thresholds; a threshold breach that the control
 * hosts share (they breach too, or the judge finds the groups similar) is fleet-wide: inconclusive,
 * a person decides, nothing is rolled back for it.
 */
import { judgeCanary } from './canary.js';
import { holds } from './verdict-conditions.js';
import type {
  CanaryStatistic, CheckEvidence, CheckVerdict, HostTally, Measurement, MeasurementPhase, MetricCheck, Sample, TimeWindow, VerdictReason, VerdictStatus,
} from './verdict-model.js';

export interface CheckInput {
  check: MetricCheck;
  /** In the order they were taken. */
  measurements: readonly Measurement[];
  changedHosts: readonly string[];
  /** Hosts not yet changed, measured over the same window. */
  controlHosts: readonly string[];
  /** Values of the changed hosts from before the wave: the canary's reference when no control host remains. */
  baseline?: readonly Sample[];
  /** The bake time is over: a check can pass only then. */
  complete: boolean;
  /** The analysis window (default: first to last measurement). */
  window?: TimeWindow;
}

export interface CheckJudgement {
  verdict: CheckVerdict;
  /** Nothing later can change the status (failed, or inconclusive beyond recovery), or the run is complete. */
  settled: boolean;
}

const KEEP_VALUES = 10;

/** A value's phase by the check's conditions. */
export function judgeValue(check: MetricCheck, value: number): MeasurementPhase {
  if (Number.isNaN(value)) return 'inconclusive';
  if (check.failureCondition && holds(check.failureCondition, value)) return 'failed';
  if (check.successCondition) return holds(check.successCondition, value) ? 'successful' : check.failureCondition ? 'inconclusive' : 'failed';
  return 'successful';
}

function tallyHosts(check: MetricCheck, hosts: readonly string[], measurements: readonly Measurement[]): HostTally[] {
  const tallies = new Map(hosts.map((h) => [h, { host: h, successful: 0, failed: 0, inconclusive: 0, noData: 0, values: [] as number[] }]));
  for (const m of measurements) {
    if (m.kind === 'error') continue;
    const byHost = new Map<string, Sample[]>();
    if (m.kind === 'value') for (const s of m.samples) byHost.set(s.host, [...(byHost.get(s.host) ?? []), s]);
    for (const t of tallies.values()) {
      const samples = byHost.get(t.host) ?? [];
      if (samples.length === 0) {
        t.noData++;
        continue;
      }
      for (const s of samples) {
        const phase = judgeValue(check, s.value);
        if (phase === 'successful') t.successful++;
        else if (phase === 'failed') t.failed++;
        else t.inconclusive++;
        t.values.push(s.value);
        if (t.values.length > KEEP_VALUES) t.values.shift();
      }
    }
  }
  return [...tallies.values()];
}

function consecutiveErrors(measurements: readonly Measurement[]): { count: number; last?: string } {
  let count = 0;
  let last: string | undefined;
  for (let i = measurements.length - 1; i >= 0; i--) {
    const m = measurements[i]!;
    if (m.kind !== 'error') break;
    count++;
    last ??= `${m.reason}: ${m.message}`;
  }
  return last === undefined ? { count } : { count, last };
}

function valuesOf(measurements: readonly Measurement[], hosts: ReadonlySet<string>): number[] {
  const out: number[] = [];
  for (const m of measurements) if (m.kind === 'value') for (const s of m.samples) if (hosts.has(s.host) && Number.isFinite(s.value)) out.push(s.value);
  return out;
}

export function judgeCheck(input: CheckInput): CheckJudgement {
  const { check, measurements, complete } = input;
  const changed = tallyHosts(check, input.changedHosts, measurements);
  const control = tallyHosts(check, input.controlHosts, measurements);
  const reasons: VerdictReason[] = [];
  const failing = changed.filter((t) => t.failed > check.failureLimit);
  for (const t of failing) reasons.push({ kind: 'failure-limit', host: t.host, failed: t.failed, limit: check.failureLimit });
  const controlFailing = control.filter((t) => t.failed > check.failureLimit).map((t) => t.host);

  const inconclusiveReasons: VerdictReason[] = [];
  let unrecoverable = false;
  const errors = consecutiveErrors(measurements);
  if (errors.count > check.consecutiveErrorLimit) {
    inconclusiveReasons.push({ kind: 'consecutive-errors', errors: errors.count, limit: check.consecutiveErrorLimit, lastError: errors.last ?? '' });
    unrecoverable = true;
  }
  for (const t of changed) {
    if (t.inconclusive + t.noData > check.inconclusiveLimit) {
      inconclusiveReasons.push({ kind: 'inconclusive-limit', host: t.host, inconclusive: t.inconclusive + t.noData, limit: check.inconclusiveLimit });
      unrecoverable = true;
    }
  }
  if (complete) {
    const never = changed.filter((t) => t.successful === 0 && t.failed === 0).map((t) => t.host);
    if (measurements.length === 0) inconclusiveReasons.push({ kind: 'no-measurement' });
    else if (never.length > 0) inconclusiveReasons.push({ kind: 'no-data', hosts: never });
  }

  let statistic: CanaryStatistic | undefined;
  if (check.canary && (complete || failing.length > 0)) {
    const x = valuesOf(measurements, new Set(input.changedHosts));
    if (input.controlHosts.length > 0) statistic = judgeCanary(x, valuesOf(measurements, new Set(input.controlHosts)), check.canary, 'control');
    else if (input.baseline) statistic = judgeCanary(x, input.baseline.map((s) => s.value), check.canary, 'baseline');
  }

  let status: VerdictStatus;
  let hosts: string[] = [...input.changedHosts];
  let settled: boolean;
  if (statistic?.outcome === 'worse') {
    status = 'failed';
    reasons.unshift({ kind: 'canary-worse', statistic });
    settled = true;
  } else if (failing.length > 0) {
    const fleetWide = controlFailing.length > 0 || statistic?.outcome === 'similar';
    if (fleetWide) {
      status = 'inconclusive';
      reasons.unshift({ kind: 'fleet-wide', controlHostsFailing: controlFailing, ...(statistic ? { statistic } : {}) });
    } else {
      status = 'failed';
      hosts = failing.map((t) => t.host);
    }
    settled = true;
  } else if (inconclusiveReasons.length > 0) {
    status = 'inconclusive';
    reasons.push(...inconclusiveReasons);
    settled = complete || unrecoverable;
  } else {
    status = complete ? 'passed' : 'inconclusive';
    if (complete) reasons.push({ kind: 'within-limits' });
    settled = complete;
  }

  // a check that did not pass keeps what its provider said when it failed (first few distinct messages)
  const errorMessages = [...new Set(measurements.flatMap((m) => (m.kind === 'error' ? [`${m.reason}: ${m.message}`] : [])))];
  if (status !== 'passed' && errorMessages.length > 0) {
    reasons.push({ kind: 'provider-errors', errors: measurements.filter((m) => m.kind === 'error').length, messages: errorMessages.slice(0, 3) });
  }

  const times = measurements.map((m) => m.at);
  const window = input.window ?? { start: times.length > 0 ? Math.min(...times) : 0, end: times.length > 0 ? Math.max(...times) : 0 };
  const first = measurements[0];
  const evidence: CheckEvidence = {
    metric: check.name,
    provider: check.query.provider,
    query: first?.query ?? describeQuery(check),
    window,
    ...(check.successCondition ? { successCondition: check.successCondition.text } : {}),
    ...(check.failureCondition ? { failureCondition: check.failureCondition.text } : {}),
    measurements: measurements.length,
    errors: measurements.filter((m) => m.kind === 'error').length,
    changed,
    control,
    ...(statistic ? { statistic } : {}),
    hosts,
  };
  return { verdict: { check: check.name, status, reasons, evidence }, settled };
}

/** The query of a check as text (as measurements carry it). */
export function describeQuery(check: Pick<MetricCheck, 'query'>): string {
  const q = check.query;
  switch (q.provider) {
    case 'prometheus': return q.promql;
    case 'http': return q.url;
    case 'command': return q.argv.join(' ');
    case 'alerts': return Object.entries(q.labels ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');
  }
}
