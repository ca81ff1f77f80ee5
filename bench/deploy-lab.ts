/**
 * Accuracy and detection on the real lab for `npm run bench:deploy`: each run deploys one kind's
 * plan (healthy, or a version with a fault) to fresh directory-root hosts whose app service is
 * scraped every second by a real Prometheus (src/monitor's launcher); the wave judge is the
 * analysis layer's runAnalysis over the Prometheus provider with the checks below, and every
 * request and measurement the judge makes is recorded for the replays. Healthy runs get a
 * no-data window: one host's target is taken out of Prometheus for a few seconds during a bake.
 *
 * Detection: the fault is visible from the first scrape of the faulty version (its
 * lab_build_info series) or the first failed scrape (`up == 0`), whichever is first; the decision
 * and the restore are the journal's `roll-back` and `rolled-back` entries.
 */
import path from 'node:path';
import {
  createMetricCheck, runAnalysis, systemClock, type Measurement, type MeasureRequest, type MetricCheck, type MetricProvider, type TimeWindow,
} from '../src/analysis/index.js';
import { createPrometheusProvider, startPrometheusServer, type PrometheusServer } from '../src/monitor/index.js';
import type { DecisionBody, WaveJudge } from '../src/deploy/index.js';
import { createHostsLab, newDeployment, TARGET, type RunKind, type World } from './deploy-world.js';
import { runController } from './deploy-controller.js';

export interface RecordedCall {
  wave: number;
  changedHosts: string[];
  controlHosts: string[];
  bakeMs: number;
  baselineWindow?: TimeWindow;
  /** Every request the judge's provider answered, in order. */
  log: Array<{ request: MeasureRequest; measurement: Measurement }>;
  status: string;
  /** Checks that did not pass, with their first reason and the changed hosts' last values. */
  notPassed: string[];
}

export interface LabRun {
  n: number;
  kind: RunKind;
  status: string;
  decision: 'roll-back' | 'pause' | 'promote';
  detectionMs?: number;
  restoredMs?: number;
  calls: RecordedCall[];
  note?: string;
}

const SVC = 'service="app"';

/** The checks of the app service, 1 s apart, named by the `host` label. */
export function benchChecks(): MetricCheck[] {
  const base = { intervalMs: 1000, inconclusiveLimit: 8 } as const;
  const q = (promql: string): { provider: 'prometheus'; promql: string; hostLabel: string } => ({ provider: 'prometheus', promql, hostLabel: 'host' });
  return [
    createMetricCheck({ ...base, name: 'app/up', query: q(`up{${SVC}}`), successCondition: '== 1', failureLimit: 2 }),
    createMetricCheck({ ...base, name: 'app/restarts', query: q(`changes(process_start_time_seconds{${SVC}}[15s])`), successCondition: '< 3', failureLimit: 1 }),
    createMetricCheck({
      ...base, name: 'app/error-ratio', successCondition: '< 0.05', failureLimit: 1, canary: { direction: 'higher-is-worse', minAbsoluteEffect: 0.02 },
      query: q(`sum by (host) (rate(lab_requests_total{${SVC},code="500"}[5s])) / sum by (host) (rate(lab_requests_total{${SVC}}[5s]))`),
    }),
    createMetricCheck({
      ...base, name: 'app/latency', successCondition: '< 0.5', failureLimit: 1, canary: { direction: 'higher-is-worse', minRelativeEffect: 0.05 },
      query: q(`sum by (host) (rate(lab_request_duration_seconds_sum{${SVC}}[5s])) / sum by (host) (rate(lab_request_duration_seconds_count{${SVC}}[5s]))`),
    }),
    createMetricCheck({
      ...base, name: 'app/memory', successCondition: '< 2000000000', failureLimit: 1, canary: { direction: 'higher-is-worse', minRelativeEffect: 0.1 },
      query: q(`process_resident_memory_bytes{${SVC}}`),
    }),
  ];
}

/** The order in which kinds are run on the lab: every fault kind within 10 runs. */
const ORDER: RunKind[] = ['healthy', 'crash-loop', 'error-rate', 'healthy', 'latency', 'memory', 'healthy', 'broken-config', 'maintainer-script', 'healthy'];
export const labKind = (i: number): RunKind => ORDER[i % ORDER.length]!;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function recording(inner: MetricProvider, log: RecordedCall['log']): MetricProvider {
  return {
    kind: inner.kind,
    async measure(request) {
      const measurement = await inner.measure(request);
      log.push({ request, measurement });
      return measurement;
    },
  };
}

async function firstSeen(prom: PrometheusServer, promql: string, hosts: string[], window: TimeWindow): Promise<number | undefined> {
  const provider = createPrometheusProvider({ url: prom.url, hostLabel: 'host', timeoutMs: 5000 });
  const m = await provider.measure({ check: 'visible', query: { provider: 'prometheus', promql }, hosts, range: { ...window, stepMs: 1000 } });
  if (m.kind !== 'value' || m.samples.length === 0) return undefined;
  return Math.min(...m.samples.map((s) => s.at));
}

export interface LabOptions {
  world: World;
  rng: () => number;
  runs: number;
  bakeMs: number;
  onRun?: (r: LabRun) => void | Promise<void>;
  onReport?: (r: LabRun) => void;
}

export async function runLabAccuracy(o: LabOptions): Promise<LabRun[]> {
  if (o.runs === 0) return [];
  const prom = await startPrometheusServer({ targets: [], scrapeIntervalMs: 1000 });
  const runs: LabRun[] = [];
  try {
    const provider = createPrometheusProvider({ url: prom.url, hostLabel: 'host', timeoutMs: 3000 });
    const checks = benchChecks();
    for (let i = 0; i < o.runs; i++) {
      const kind = labKind(i);
      const names = Array.from({ length: o.world.hosts }, (_, k) => `host-${k}`);
      const hl = await createHostsLab(o.world);
      try {
        const targets = hl.lab.hosts.map((h) => ({ address: `127.0.0.1:${hl.ports.get(h.name)}`, labels: { host: h.name, service: 'app' } }));
        await prom.setTargets(targets);
        await prom.waitForTargets(60_000);
        // history for the rate windows and for a baseline before the last wave
        await sleep(Math.max(8000, o.bakeMs));
        const runStart = Date.now();
        const id = `lab-${process.pid}-${i}`;
        await newDeployment(o.world, kind, id, o.bakeMs);
        const plan = o.world.plans[kind];
        const calls: RecordedCall[] = [];
        const waveStart = new Map<number, number>();
        const gapHost = kind === 'healthy' ? names[Math.floor(o.rng() * names.length)]! : undefined;
        const gapAfterMs = 2000 + Math.floor(o.rng() * 4000);
        let gapDone = false;
        const judge: WaveJudge = async (ctx) => {
          const log: RecordedCall['log'] = [];
          const start = waveStart.get(ctx.wave) ?? Date.now();
          const baselineWindow = ctx.controlHosts.length === 0 ? { start: start - 8000, end: start } : undefined;
          if (gapHost && !gapDone) {
            gapDone = true;
            // a no-data window: the host's target out of Prometheus for 3 s
            setTimeout(() => void prom.setTargets(targets.filter((t) => t.labels.host !== gapHost)).then(() => sleep(3000)).then(() => prom.setTargets(targets)), gapAfterMs);
          }
          const run = await runAnalysis({
            checks, providers: { prometheus: recording(provider, log) }, changedHosts: ctx.changedHosts, controlHosts: ctx.controlHosts, bakeMs: ctx.bakeMs, clock: systemClock, signal: ctx.signal,
            ...(baselineWindow ? { baselineWindow } : {}),
          });
          calls.push({ wave: ctx.wave, changedHosts: [...ctx.changedHosts], controlHosts: [...ctx.controlHosts], bakeMs: ctx.bakeMs, ...(baselineWindow ? { baselineWindow } : {}), log, status: run.status,
            notPassed: run.checks.filter((c) => c.status !== 'passed').map((c) => `w${ctx.wave} ${c.check} ${c.status}: ${JSON.stringify(c.reasons[0] ?? {}).slice(0, 220)} changed=${JSON.stringify(c.evidence.changed.map((t) => t.values.slice(-4).map((v) => Number(v.toPrecision(4)))))} control=${JSON.stringify(c.evidence.control.map((t) => t.values.slice(-4).map((v) => Number(v.toPrecision(4)))))}`) });
          return { verdict: run.status, evidence: run.checks.map((c) => ({ check: c.check, status: c.status, reasons: c.reasons })) };
        };
        const result = await runController({
          storeFile: o.world.storeFile, deployment: id, planId: plan.id, planVersion: plan.version,
          roots: Object.fromEntries(hl.lab.hosts.map((h) => [h.name, h.root])), repoDir: o.world.repository.dir, debDir: path.join(o.world.dir, 'debs'),
          trusted: o.world.repository.built.map((d) => `${d.name}=${d.version}`),
        }, { store: o.world.store, judge, onEvent: (e) => { if (e.kind === 'wave-started') waveStart.set(e.wave, Date.now()); } });
        const status = result.kind === 'finished' ? result.status : `halted: ${result.reason}`;
        const journal = await o.world.store.readJournal(id);
        const decided = journal.find((e) => e.kind === 'decision' && (e.body as DecisionBody).decision === 'roll-back');
        const restored = journal.find((e) => e.kind === 'decision' && (e.body as DecisionBody).decision === 'rolled-back');
        const decision: LabRun['decision'] = status === 'succeeded' ? 'promote' : status === 'paused' ? 'pause' : 'roll-back';
        const r: LabRun = { n: i + 1, kind, status, decision, calls };
        if (kind !== 'healthy' && kind !== 'maintainer-script' && decided) {
          await sleep(1500);
          const window = { start: runStart, end: Date.now() };
          const seen = [
            await firstSeen(prom, `lab_build_info{${SVC},version="${TARGET[kind]}"}`, names, window),
            await firstSeen(prom, `up{${SVC}} == 0`, names, window),
          ].filter((x): x is number => x !== undefined);
          if (seen.length > 0) {
            const visible = Math.min(...seen);
            r.detectionMs = Date.parse(decided.at) - visible;
            if (restored) r.restoredMs = Date.parse(restored.at) - visible;
          } else r.note = 'the fault never showed in Prometheus';
        }
        if (kind === 'maintainer-script' && decided) {
          const failedStep = journal.find((e) => e.kind === 'step' && e.phase === 'ended' && e.outcome === 'failed');
          if (failedStep) r.note = `decided ${((Date.parse(decided.at) - Date.parse(failedStep.at)) / 1000).toFixed(1)} s after the failed step (no metric involved)`;
        }
        if (decided) r.note = `${r.note ? `${r.note}; ` : ''}${(decided.body as DecisionBody).reason.slice(0, 160)}`;
        const why = calls.flatMap((c) => c.notPassed);
        if (why.length > 0) r.note = `${r.note ?? ''}\n      ${why.join('\n      ')}`;
        runs.push(r);
        o.onReport?.(r);
        await o.onRun?.(r);
      } finally {
        await hl.lab.destroy();
      }
    }
  } finally {
    await prom.stop();
  }
  return runs;
}
