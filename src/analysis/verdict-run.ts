/**
 * The analysis run the deploy controller calls for a wave's bake time: every check is measured on
 * its interval (changed and control hosts together, so both groups share the window) through the
 * metric-provider port, judged after each measurement (./verdict.ts), and the run stops early once
 * a check has failed. The clock is a seam: the controller passes the real one, tests and replays a
 * fake. A provider that throws (a bug) is turned into an error measurement too: the run never
 * crashes on a measurement.
 */
import { judgeCheck, describeQuery, type CheckJudgement } from './verdict.js';
import {
  worstStatus, type AnalysisClock, type AnalysisVerdict, type Measurement, type MetricCheck, type MetricProvider, type Providers, type Sample, type TimeWindow,
} from './verdict-model.js';

export interface RunAnalysisInput {
  checks: readonly MetricCheck[];
  providers: Providers;
  /** The hosts the wave just changed. */
  changedHosts: readonly string[];
  /** Hosts not yet changed (may be empty in the last waves). */
  controlHosts: readonly string[];
  /** How long to watch (ms). */
  bakeMs: number;
  clock: AnalysisClock;
  /**
   * When no control host remains: the window before the wave whose values of the same hosts are
   * the canary's reference (a range query, for providers that answer one).
   */
  baselineWindow?: TimeWindow;
  /** Stops the run; the verdict is then judged on what was measured (incomplete: not passed). */
  signal?: AbortSignal;
  onMeasurement?: (m: Measurement) => void | Promise<void>;
}

export interface AnalysisRun extends AnalysisVerdict {
  /** Every measurement taken, in order (for the journal and for replays through judgeCheck). */
  measurements: Measurement[];
}

/** The real clock, for the controller. */
export const systemClock: AnalysisClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted || ms <= 0) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/** Measure once; anything a provider throws becomes an error measurement. */
export async function measureSafely(provider: MetricProvider | undefined, check: MetricCheck, hosts: readonly string[], at: number, range?: TimeWindow & { stepMs: number }): Promise<Measurement> {
  const base = { check: check.name, provider: check.query.provider, query: describeQuery(check), at };
  if (!provider) return { ...base, kind: 'error', reason: 'no-provider', message: `no ${check.query.provider} provider is configured` };
  try {
    return await provider.measure({ check: check.name, query: check.query, hosts, at, ...(range ? { range } : {}) });
  } catch (e) {
    return { ...base, kind: 'error', reason: 'bad-response', message: e instanceof Error ? e.message : String(e) };
  }
}

export async function runAnalysis(input: RunAnalysisInput): Promise<AnalysisRun> {
  const { clock, checks } = input;
  const start = clock.now();
  const end = start + input.bakeMs;
  const hosts = [...new Set([...input.changedHosts, ...input.controlHosts])];
  const all: Measurement[] = [];
  const perCheck = checks.map(() => [] as Measurement[]);
  const judged: Array<CheckJudgement | undefined> = checks.map(() => undefined);
  const baselines: Array<Sample[] | undefined> = checks.map(() => undefined);

  if (input.controlHosts.length === 0 && input.baselineWindow) {
    const w = input.baselineWindow;
    await Promise.all(checks.map(async (c, i) => {
      if (!c.canary) return;
      const m = await measureSafely(input.providers[c.query.provider], c, input.changedHosts, w.end, { ...w, stepMs: c.intervalMs });
      if (m.kind === 'value') baselines[i] = m.samples;
    }));
  }

  const counts = checks.map((c) => c.count ?? Math.max(1, Math.floor(input.bakeMs / c.intervalMs)));
  const taken = checks.map(() => 0);
  const due = (i: number): number => start + (taken[i]! + 1) * checks[i]!.intervalMs;
  const judge = (i: number, complete: boolean, now: number): CheckJudgement =>
    judgeCheck({
      check: checks[i]!, measurements: perCheck[i]!, changedHosts: input.changedHosts, controlHosts: input.controlHosts, complete,
      window: { start, end: Math.max(start, Math.min(now, end)) },
      ...(baselines[i] ? { baseline: baselines[i] } : {}),
    });
  let stoppedEarly = false;

  for (;;) {
    const open = checks.map((_, i) => i).filter((i) => taken[i]! < counts[i]! && !judged[i]?.settled);
    if (open.length === 0) break;
    if (input.signal?.aborted) {
      stoppedEarly = true;
      break;
    }
    const next = Math.min(...open.map(due));
    const wait = next - clock.now();
    if (wait > 0) await clock.sleep(wait, input.signal);
    if (input.signal?.aborted) {
      stoppedEarly = true;
      break;
    }
    const now = clock.now();
    const ready = open.filter((i) => due(i) <= now);
    const results = await Promise.all(ready.map((i) => measureSafely(input.providers[checks[i]!.query.provider], checks[i]!, hosts, now)));
    for (const [k, i] of ready.entries()) {
      const m = results[k]!;
      perCheck[i]!.push(m);
      all.push(m);
      taken[i]!++;
      await input.onMeasurement?.(m);
      judged[i] = judge(i, taken[i]! >= counts[i]!, now);
    }
    if (judged.some((j) => j?.settled && j.verdict.status === 'failed')) {
      stoppedEarly = judged.some((j, i) => !j?.settled && taken[i]! < counts[i]!);
      break;
    }
  }

  const now = clock.now();
  const final = checks.map((_, i) => {
    const j = judged[i];
    if (j?.settled) return j.verdict;
    return judge(i, !stoppedEarly && taken[i]! >= counts[i]!, now).verdict;
  });
  return {
    status: worstStatus(final.map((v) => v.status)),
    checks: final,
    window: { start, end: Math.max(start, Math.min(now, end)) },
    stoppedEarly,
    measurements: all,
  };
}
