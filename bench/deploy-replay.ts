/**
 * Accuracy by replay for `npm run bench:deploy`: deployments judged again from the metric series
 * recorded on the real lab (bench/deploy-lab.ts), through the same verdict code the live judge
 * ran: runAnalysis with a provider that answers from the recording and a clock that only moves
 * when the analysis sleeps. Each replay picks a recorded run of its kind (seeded) and perturbs it:
 * every value of a continuous metric (error ratio, latency, memory) times (1 + 3% gaussian noise), now and then a provider error, and a no-data window
 * (one host missing from 2-5 consecutive measurements). Where the live run stopped early (a failed
 * check), the replay holds each series at its last recorded value: the fault goes on.
 *
 * The failing maintainer script is caught by the host step, not by metrics, so it is not replayed
 * (its live runs are counted).
 */
import { runAnalysis, type AnalysisClock, type Measurement, type MeasureRequest, type MetricProvider } from '../src/analysis/index.js';
import { benchChecks, type LabRun, type RecordedCall } from './deploy-lab.js';
import { FAULTS, type RunKind } from './deploy-world.js';

export interface ReplayRun {
  n: number;
  kind: RunKind;
  decision: 'roll-back' | 'pause' | 'promote';
  /** The lab run replayed. */
  from: number;
}

function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Checks of continuous values get noise; indicators and counts (up, restarts) keep theirs. */
const NOISY = new Set(['app/error-ratio', 'app/latency', 'app/memory']);

interface Perturbation {
  noise: number;
  errorRate: number;
  gap?: { host: string; from: number; length: number };
}

/** Answers each check's requests from the recording, in order, perturbed. */
function replayProvider(call: RecordedCall, rng: () => number, p: Perturbation): MetricProvider {
  const byCheck = new Map<string, Array<{ request: MeasureRequest; measurement: Measurement }>>();
  for (const e of call.log) byCheck.set(`${e.request.check}/${e.request.range ? 'range' : 'instant'}`, [...(byCheck.get(`${e.request.check}/${e.request.range ? 'range' : 'instant'}`) ?? []), e]);
  const next = new Map<string, number>();
  const lastValues = new Map<string, Measurement>();
  return {
    kind: 'prometheus',
    async measure(request) {
      const key = `${request.check}/${request.range ? 'range' : 'instant'}`;
      const list = byCheck.get(key) ?? [];
      const i = next.get(key) ?? 0;
      next.set(key, i + 1);
      const base = { check: request.check, provider: 'prometheus' as const, query: list[0]?.measurement.query ?? '', at: request.at ?? 0 };
      let m: Measurement | undefined = list[i]?.measurement;
      if (!m) m = lastValues.get(key) ?? { ...base, kind: 'no-data' };
      else if (m.kind === 'value') lastValues.set(key, m);
      if (!request.range && rng() < p.errorRate) return { ...base, kind: 'error', reason: 'timeout', message: 'replayed provider error' };
      if (m.kind !== 'value') return { ...m, at: base.at };
      const noisy = NOISY.has(request.check);
      const samples = m.samples
        .filter((s) => !(p.gap && !request.range && s.host === p.gap.host && i >= p.gap.from && i < p.gap.from + p.gap.length))
        .map((s) => (noisy ? { ...s, value: s.value * (1 + p.noise * gaussian(rng)) } : s));
      return samples.length === 0 ? { ...base, kind: 'no-data' } : { ...m, at: base.at, samples };
    },
  };
}

function fakeClock(start: number): AnalysisClock {
  let t = start;
  return { now: () => t, sleep: async (ms) => void (t += Math.max(0, ms)) };
}

/** Unperturbed replays of every recorded judge call: how many reach the live verdict (the replay's own check). */
export async function replayFidelity(recorded: readonly LabRun[]): Promise<{ agree: number; calls: number; differ: string[] }> {
  const checks = benchChecks();
  let agree = 0;
  let calls = 0;
  const differ: string[] = [];
  for (const r of recorded) {
    for (const call of r.calls) {
      calls++;
      const start = call.log.find((e) => !e.request.range)?.measurement.at ?? 0;
      const run = await runAnalysis({
        checks, providers: { prometheus: replayProvider(call, () => 0.5, { noise: 0, errorRate: 0 }) }, changedHosts: call.changedHosts, controlHosts: call.controlHosts, bakeMs: call.bakeMs,
        clock: fakeClock(start - 1000), ...(call.baselineWindow ? { baselineWindow: call.baselineWindow } : {}),
      });
      if (run.status === call.status) agree++;
      else differ.push(`lab ${r.n} wave ${call.wave}: live ${call.status}, replayed ${run.status}`);
    }
  }
  return { agree, calls, differ };
}

export interface ReplayOptions {
  recorded: readonly LabRun[];
  rng: () => number;
  runs: number;
}

/** Replays `runs` deployments so that, with the lab runs, half of all deployments are faulty. */
export async function runReplays(o: ReplayOptions): Promise<ReplayRun[]> {
  const checks = benchChecks();
  const usable = o.recorded.filter((r) => r.calls.length > 0 && r.kind !== 'maintainer-script');
  const faultKinds = FAULTS.filter((k) => k !== 'maintainer-script' && usable.some((r) => r.kind === k));
  const labBad = o.recorded.filter((r) => r.kind !== 'healthy').length;
  const total = o.recorded.length + o.runs;
  let wantBad = Math.max(0, Math.round(total / 2) - labBad);
  const out: ReplayRun[] = [];
  for (let n = 1; n <= o.runs; n++) {
    const bad = faultKinds.length > 0 && wantBad > 0 && (o.runs - n + 1 <= wantBad || o.rng() < 0.5);
    if (bad) wantBad--;
    const kind: RunKind = bad ? faultKinds[Math.floor(o.rng() * faultKinds.length)]! : 'healthy';
    const pool = usable.filter((r) => r.kind === kind);
    if (pool.length === 0) continue;
    const from = pool[Math.floor(o.rng() * pool.length)]!;
    let decision: ReplayRun['decision'] = 'promote';
    let gapUsed = false;
    for (const call of from.calls) {
      const hosts = [...call.changedHosts, ...call.controlHosts];
      const p: Perturbation = { noise: 0.03, errorRate: 0.03 };
      if (!gapUsed) {
        gapUsed = true;
        p.gap = { host: hosts[Math.floor(o.rng() * hosts.length)]!, from: Math.floor(o.rng() * 6), length: 2 + Math.floor(o.rng() * 4) };
      }
      const start = call.log.find((e) => !e.request.range)?.measurement.at ?? 0;
      const run = await runAnalysis({
        checks, providers: { prometheus: replayProvider(call, o.rng, p) }, changedHosts: call.changedHosts, controlHosts: call.controlHosts, bakeMs: call.bakeMs,
        clock: fakeClock(start - 1000), ...(call.baselineWindow ? { baselineWindow: call.baselineWindow } : {}),
      });
      if (run.status === 'failed') {
        decision = 'roll-back';
        break;
      }
      if (run.status === 'inconclusive') {
        decision = 'pause';
        break;
      }
    }
    out.push({ n, kind, decision, from: from.n });
  }
  return out;
}
