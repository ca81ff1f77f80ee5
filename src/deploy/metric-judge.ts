/**
 * The wave judge built on the analysis layer: every check (the knowledge base's services'
 * metrics and probes, plus a deployment's own checks file) is measured through the metric
 * providers during the bake (runAnalysis) and the verdict comes with its evidence per check:
 * metric, query, window, statistic, the values of changed and control hosts. The changed hosts
 * are this wave's and those earlier waves changed (a fault that shows after a while is still
 * caught); control hosts are the hosts not changed yet; when none remains, the window before the
 * wave is the baseline.
 *
 * Also the deployment's checks file (`--checks FILE`), read as YAML and validated with
 * file:line:column:
 *
 *   checks:
 *     - name: error-ratio
 *       prometheus: sum by (host) (rate(errors[30s])) / sum by (host) (rate(requests[30s]))
 *       success: '< 0.05'
 *       interval: 1s
 *       failureLimit: 1
 *       canary: { direction: higher-is-worse, minEffect: 0.2 }
 *     - name: front-page
 *       http: { url: 'http://127.0.0.1:8080/', expectStatus: 200 }
 *     - name: selftest
 *       command: { argv: [shopctl, selftest] }
 *     - name: no-alerts
 *       alerts: { labels: { severity: critical } }   # Alertmanager's webhooks (deploy --alerts-listen)
 */
import { z } from 'zod';
import { RollwiseError, documentData, positionOfPath, readYamlFile, syntaxProblems, wordIssues, type WordedIssue } from '../shared/index.js';
import {
  createMetricCheck, parseCondition, parseDuration, runAnalysis, systemClock,
  type AnalysisClock, type CheckQuery, type Measurement, type MetricCheck, type Providers,
} from '../analysis/index.js';
import type { WaveJudge } from './deployment.js';

const duration = z.string().regex(/^\d+(ms|s|m|h)$/).describe('a duration such as 1s, 500ms or 2m');
const condition = z.string().min(1).describe("a condition such as '< 0.05' or '>= 1 and <= 3'");

const CheckSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/).describe('a name of letters, digits and . _ / -'),
  prometheus: z.string().min(1).optional().describe('a PromQL query returning one value per host'),
  hostLabel: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional().describe('the label naming the host in the query\'s result'),
  http: z.strictObject({
    url: z.string().regex(/^https?:\/\/\S+$/).describe('an http(s) URL'),
    expectStatus: z.number().int().min(100).max(599).default(200),
    contains: z.string().optional(),
    timeout: duration.optional(),
  }).optional(),
  command: z.strictObject({
    argv: z.array(z.string().min(1)).min(1).describe('a program and its arguments, as a list'),
    expectExit: z.number().int().min(0).max(255).default(0),
    timeout: duration.optional(),
  }).optional(),
  alerts: z.strictObject({
    labels: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional().describe('labels an alert must carry to count (e.g. severity: critical)'),
  }).optional().describe('alerts firing for the host, from Alertmanager webhooks received by the controller (deploy --alerts-listen); default success: == 0'),
  success: condition.optional(),
  failure: condition.optional(),
  interval: duration.optional(),
  count: z.number().int().min(1).optional(),
  failureLimit: z.number().int().min(0).optional(),
  inconclusiveLimit: z.number().int().min(0).optional(),
  consecutiveErrorLimit: z.number().int().min(0).optional(),
  canary: z.strictObject({
    direction: z.enum(['higher-is-worse', 'lower-is-worse', 'either']).optional(),
    minEffect: z.number().min(0).optional(),
    minAbsoluteEffect: z.number().min(0).optional(),
    alpha: z.number().gt(0).lt(1).optional(),
    minSamples: z.number().int().min(1).optional(),
  }).optional(),
});

const ChecksFileSchema = z.strictObject({ checks: z.array(CheckSchema).min(1).describe('a list of checks') });

/** Reads a deployment's checks file; a bad file is RW_CHECK with file:line:column, nothing deployed. */
export function loadChecksFile(file: string): MetricCheck[] {
  const hint = 'a checks file has checks: a list of { name, prometheus | http | command | alerts, success | failure, interval, ... }';
  const src = readYamlFile(file, 'checks file', 'RW_CHECK');
  const syntax = syntaxProblems(src);
  if (syntax.length) throw new RollwiseError('RW_CHECK', `YAML syntax: ${syntax[0]!.message}`, { position: syntax[0]!.position, hint });
  const data = documentData(src);
  if (!data.ok) throw new RollwiseError('RW_CHECK', data.problem.message, { position: data.problem.position, hint });
  // a file of another kind (a private key given by mistake) is named as such, its content never quoted
  const top = data.data;
  if (top === null || typeof top !== 'object' || Array.isArray(top) || !('checks' in top)) {
    throw new RollwiseError('RW_CHECK', 'not a checks file: it has no checks: key at the top (its content is not shown)', { position: { file, line: 1, column: 1 }, hint });
  }
  const parsed = ChecksFileSchema.safeParse(data.data);
  if (!parsed.success) {
    const w: WordedIssue = wordIssues(parsed.error.issues, { schema: ChecksFileSchema, data: data.data })[0] ?? { kind: 'type', path: [], message: 'top level: not a checks file' };
    throw new RollwiseError('RW_CHECK', w.message, { position: positionOfPath(src, w.path, w.key === undefined ? {} : { key: w.key }), hint: w.hint ?? hint });
  }
  const names = new Set<string>();
  return parsed.data.checks.map((c, i) => {
    const at = (key?: string): ReturnType<typeof positionOfPath> => positionOfPath(src, ['checks', i], key ? { key } : {});
    const sources = [c.prometheus !== undefined, c.http !== undefined, c.command !== undefined, c.alerts !== undefined].filter(Boolean).length;
    if (sources !== 1) throw new RollwiseError('RW_CHECK', `checks[${i}] (${c.name}): give exactly one of prometheus, http, command, alerts`, { position: at(), hint });
    if (names.has(c.name)) throw new RollwiseError('RW_CHECK', `checks[${i}]: a second check named ${c.name}`, { position: at('name'), hint: 'each check has its own name' });
    names.add(c.name);
    try {
      const query: CheckQuery = c.prometheus !== undefined
        ? { provider: 'prometheus', promql: c.prometheus, ...(c.hostLabel ? { hostLabel: c.hostLabel } : {}) }
        : c.alerts
        ? { provider: 'alerts', ...(c.alerts.labels ? { labels: c.alerts.labels } : {}) }
        : c.http
        ? { provider: 'http', url: c.http.url, expectStatus: c.http.expectStatus, ...(c.http.contains !== undefined ? { contains: c.http.contains } : {}), timeoutMs: c.http.timeout ? parseDuration(c.http.timeout) : 2000 }
        : { provider: 'command', argv: [...c.command!.argv], expectExit: c.command!.expectExit, timeoutMs: c.command!.timeout ? parseDuration(c.command!.timeout) : 5000 };
      const probe = query.provider !== 'prometheus';
      const success = c.success ?? (c.failure !== undefined ? undefined : query.provider === 'alerts' ? '== 0' : probe ? '== 1' : undefined);
      return createMetricCheck({
        name: c.name, query,
        ...(success ? { successCondition: parseCondition(success) } : {}),
        ...(c.failure ? { failureCondition: parseCondition(c.failure) } : {}),
        ...(c.interval ? { intervalMs: parseDuration(c.interval) } : {}),
        ...(c.count !== undefined ? { count: c.count } : {}),
        ...(c.failureLimit !== undefined ? { failureLimit: c.failureLimit } : {}),
        ...(c.inconclusiveLimit !== undefined ? { inconclusiveLimit: c.inconclusiveLimit } : {}),
        ...(c.consecutiveErrorLimit !== undefined ? { consecutiveErrorLimit: c.consecutiveErrorLimit } : {}),
        ...(c.canary ? {
          canary: {
            ...(c.canary.direction ? { direction: c.canary.direction } : {}), ...(c.canary.minEffect !== undefined ? { minRelativeEffect: c.canary.minEffect } : {}),
            ...(c.canary.minAbsoluteEffect !== undefined ? { minAbsoluteEffect: c.canary.minAbsoluteEffect } : {}), ...(c.canary.alpha !== undefined ? { alpha: c.canary.alpha } : {}),
            ...(c.canary.minSamples !== undefined ? { minSamples: c.canary.minSamples } : {}),
          },
        } : {}),
        origin: `${file} checks[${i}]`,
      });
    } catch (e) {
      if (e instanceof RollwiseError) throw new RollwiseError('RW_CHECK', `checks[${i}] (${c.name}): ${e.message}`, { position: at(), hint: e.hint ?? hint });
      throw e;
    }
  });
}

export interface MetricJudgeOptions {
  checks: readonly MetricCheck[];
  providers: Providers;
  clock?: AnalysisClock;
  /** How far back the baseline window reaches when no control host remains (default: the bake time, at least 30 s). */
  baselineMs?: number;
  onMeasurement?: (m: Measurement) => void;
}

/** A wave judge measuring the checks over the bake time; no check: the bake passes on the hosts' health checks alone, and says so. */
export function createMetricJudge(options: MetricJudgeOptions): WaveJudge {
  const clock = options.clock ?? systemClock;
  return async (ctx) => {
    if (options.checks.length === 0) {
      await clock.sleep(ctx.bakeMs, ctx.signal);
      return { verdict: 'passed', evidence: [{ kind: 'no-checks', bakeMs: ctx.bakeMs, note: 'no service the plan changes names a check, and no checks file was given' }] };
    }
    const startedAt = ctx.startedAt ?? clock.now();
    const span = options.baselineMs ?? Math.max(ctx.bakeMs, 30_000);
    // hosts of earlier waves stay watched (judged with this wave's; the canary comparison is against hosts not changed yet)
    const changedHosts = [...ctx.changedHosts, ...(ctx.earlierHosts ?? []).filter((h) => !ctx.changedHosts.includes(h))];
    const run = await runAnalysis({
      checks: options.checks, providers: options.providers, changedHosts, controlHosts: ctx.controlHosts, bakeMs: ctx.bakeMs, clock, signal: ctx.signal,
      ...(ctx.controlHosts.length === 0 ? { baselineWindow: { start: startedAt - span, end: startedAt } } : {}),
      ...(options.onMeasurement ? { onMeasurement: options.onMeasurement } : {}),
    });
    // a bake cut short (an operator's request) never passes
    const verdict = run.status === 'passed' && ctx.signal.aborted ? 'inconclusive' : run.status;
    return {
      verdict,
      evidence: run.checks.map((c) => ({
        kind: 'check', check: c.check, status: c.status, reasons: c.reasons,
        metric: c.evidence.metric, provider: c.evidence.provider, query: c.evidence.query, window: c.evidence.window,
        ...(c.evidence.successCondition ? { successCondition: c.evidence.successCondition } : {}), ...(c.evidence.failureCondition ? { failureCondition: c.evidence.failureCondition } : {}),
        measurements: c.evidence.measurements, errors: c.evidence.errors, ...(c.evidence.statistic ? { statistic: c.evidence.statistic } : {}),
        hosts: c.evidence.hosts, changed: c.evidence.changed, control: c.evidence.control,
      })),
    };
  };
}
