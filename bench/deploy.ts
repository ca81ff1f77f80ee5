/**
 * `npm run bench:deploy` (issue 11): the deployment engine measured on the lab, seeded.
 * - crash safety (bench/deploy-crash.ts): the controller killed with SIGKILL at seeded points of
 *   deployments and rollbacks, then resumed; hosts left in an unknown state, steps done twice;
 * - accuracy and detection on the real lab (bench/deploy-lab.ts): directory-root hosts running
 *   the lab's metrics service under runit, a real Prometheus scraping it every second, the
 *   analysis judge (runAnalysis over the Prometheus provider) deciding each wave; faults injected
 *   by the version deployed; every measurement recorded;
 * - accuracy by replay (bench/deploy-replay.ts): the recorded series, with seeded noise and
 *   no-data windows, judged again by the same verdict code (runAnalysis with a replay provider).
 * Every figure is printed against its target. `--quick` for a run of a few minutes.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createWorld, type World } from './deploy-world.js';
import { runCrashSafety, type CrashTrial } from './deploy-crash.js';
import { runLabAccuracy, type LabRun } from './deploy-lab.js';
import { replayFidelity, runReplays, type ReplayRun } from './deploy-replay.js';

interface Options {
  seed: number;
  quick: boolean;
  only?: 'crash' | 'accuracy';
  kills: number;
  labRuns: number;
  total: number;
  hosts: number;
  bakeMs: number;
  verbose: boolean;
  /** Write the lab runs (with every recorded measurement) here as JSON. */
  record?: string;
  /** Replay the lab runs recorded in this file instead of running the lab. */
  replay?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seed: 42, quick: false, kills: 50, labRuns: 20, total: 120, hosts: 3, bakeMs: 12_000, verbose: false };
  const quickDefaults = { kills: 4, labRuns: 4, total: 100 };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} takes a number`);
      given.add(a);
      return v;
    };
    if (a === '--seed') o.seed = num();
    else if (a === '--quick') o.quick = true;
    else if (a === '--kills') o.kills = num();
    else if (a === '--lab-runs') o.labRuns = num();
    else if (a === '--runs') o.total = num();
    else if (a === '--hosts') o.hosts = Math.max(2, num());
    else if (a === '--bake') o.bakeMs = num() * 1000;
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--record') o.record = argv[++i];
    else if (a === '--replay') o.replay = argv[++i];
    else if (a === '--only') {
      const v = argv[++i];
      if (v !== 'crash' && v !== 'accuracy') throw new Error('--only takes crash or accuracy');
      o.only = v;
    } else throw new Error(`unknown option ${a} (--seed N, --quick, --only crash|accuracy, --kills N, --lab-runs N, --runs N, --hosts N, --bake SECONDS, --record FILE, --replay FILE, --verbose)`);
  }
  if (o.quick) {
    if (!given.has('--kills')) o.kills = quickDefaults.kills;
    if (!given.has('--lab-runs')) o.labRuns = quickDefaults.labRuns;
    if (!given.has('--runs')) o.total = quickDefaults.total;
  }
  return o;
}

/** mulberry32: a small seeded PRNG. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pct = (a: number, b: number): string => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)}%`);
const secs = (ms: number | undefined): string => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
function quantile(xs: readonly number[], q: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}
const met = (ok: boolean): string => (ok ? 'yes' : '**no**');

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`).join('\n');
}

function crashLine(t: CrashTrial): string {
  const where = t.killed ? `killed after ${t.journalAtKill} entries (${t.lastKey}${t.openSteps.length ? `; open: ${t.openSteps.join(', ')}` : ''}${t.inRollback ? '; rolling back' : ''})` : 'not killed';
  return `  ${t.n === 0 ? 'reference' : `#${t.n}`} ${t.kind}: ${where}; ${t.resumes} resume(s) → ${t.status}${t.skippedHosts.length ? ` (skipped: ${t.skippedHosts.join(', ')})` : ''}; unknown ${t.unknownHosts.length}, twice ${t.twiceJournal.length + t.twiceHostLog.length} (${secs(t.wallMs)}: set-up ${secs(t.phasesMs.setup)}, controller ${secs(t.phasesMs.run)}, checks ${secs(t.phasesMs.verify)})${[...t.unknownHosts, ...t.twiceJournal, ...t.twiceHostLog].map((x) => `\n      ${x}`).join('')}`;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rw-bench-deploy-'));
  let world: World | undefined;
  const out: string[] = [];
  try {
    process.stderr.write(`bench:deploy seed ${o.seed}${o.quick ? ' (quick)' : ''}\n`);
    if (!(o.only === 'accuracy' && o.replay)) world = await createWorld(dir, o.hosts);
    const rng = seeded(o.seed);

    if (o.only !== 'accuracy') {
      const crash = await runCrashSafety({
        world: world!, rng: seeded(o.seed ^ 0x5eed), kills: o.kills,
        onTrial: (t) => process.stderr.write(crashLine(t) + '\n'),
      });
      const killed = crash.trials.filter((t) => t.killed);
      const unknown = killed.reduce((a, t) => a + t.unknownHosts.length, 0);
      const twice = killed.reduce((a, t) => a + t.twiceJournal.length + t.twiceHostLog.length, 0);
      const refBad = crash.references.reduce((a, t) => a + t.unknownHosts.length + t.twiceJournal.length + t.twiceHostLog.length, 0);
      out.push(
        `## Crash safety: ${killed.length} SIGKILLs of the controller (${killed.filter((t) => t.kind === 'deploy').length} in deployments that succeed, ${killed.filter((t) => t.kind === 'rollback').length} in deployments that roll back; ${killed.filter((t) => t.inRollback).length} landed after the roll-back decision, ${killed.filter((t) => t.openSteps.length > 0).length} with a step started and not ended), ${o.hosts} hosts each`,
        '',
        table([
          ['figure', 'measured', 'target', 'met'],
          ['hosts left in an unknown state', String(unknown), '0', met(unknown === 0)],
          ['steps done twice (journal + hosts\' logs)', String(twice), '0', met(twice === 0)],
          ['hosts skipped by the engine (nothing applied, found as before)', String(killed.reduce((a, t) => a + t.skippedHosts.length, 0)), '–', '–'],
          ['deployments finished after resume', `${killed.filter((t) => ['succeeded', 'rolled-back'].includes(t.status)).length} / ${killed.length}`, 'all', met(killed.every((t) => ['succeeded', 'rolled-back'].includes(t.status)))],
          ['uncrashed references clean', refBad === 0 ? 'yes' : `${refBad} problem(s)`, 'yes', met(refBad === 0)],
        ]),
        '',
        `Outcomes: ${['succeeded', 'rolled-back', 'needs-attention'].map((s) => `${s} ${killed.filter((t) => t.status === s).length}`).join(', ')}; resumes per kill: median ${quantile(killed.map((t) => t.resumes), 0.5) ?? 'n/a'}; wall per trial median ${secs(quantile(killed.map((t) => t.wallMs), 0.5))}.`,
        '',
      );
    }

    if (o.only !== 'crash') {
      const recorded: LabRun[] = [];
      const labRuns: LabRun[] = o.replay ? (JSON.parse(await readFile(o.replay, 'utf8')) as LabRun[]) : await runLabAccuracy({ world: world!, rng, runs: o.labRuns, bakeMs: o.bakeMs, onRun: async (r) => {
        recorded.push(r);
        if (o.record) await writeFile(o.record, JSON.stringify(recorded));
      }, onReport: (r) => process.stderr.write(`  lab ${r.n} ${r.kind}: ${r.status} (${r.decision})${r.detectionMs !== undefined ? `, decided ${secs(r.detectionMs)} after the fault showed, restored ${secs(r.restoredMs)}` : ''}${r.note ? ` — ${r.note}` : ''}\n`) });
      const replays: ReplayRun[] = await runReplays({ recorded: labRuns, rng, runs: Math.max(0, o.total - labRuns.length) });
      const fidelity = await replayFidelity(labRuns);
      const all = [...labRuns.map((r) => ({ kind: r.kind, decision: r.decision, source: 'lab' })), ...replays.map((r) => ({ kind: r.kind, decision: r.decision, source: 'replay' }))];
      const bad = all.filter((r) => r.kind !== 'healthy');
      const good = all.filter((r) => r.kind === 'healthy');
      const caught = bad.filter((r) => r.decision === 'roll-back').length;
      const paused = bad.filter((r) => r.decision === 'pause').length;
      const falseRb = good.filter((r) => r.decision === 'roll-back').length;
      const goodPaused = good.filter((r) => r.decision === 'pause').length;
      const det = labRuns.filter((r) => r.detectionMs !== undefined);
      const detD = det.map((r) => r.detectionMs!);
      const detR = det.filter((r) => r.restoredMs !== undefined).map((r) => r.restoredMs!);
      const kinds = [...new Set(bad.map((r) => r.kind))];
      out.push(
        `## Accuracy: ${all.length} deployments (${labRuns.length} on the real lab, ${replays.length} replayed from their recorded series), ${bad.length} with faults, ${good.length} healthy (noise, a no-data window)`,
        '',
        table([
          ['figure', 'measured', 'target', 'met'],
          ['bad deployments caught (rolled back)', `${caught} / ${bad.length} = ${pct(caught, bad.length)}`, '>= 95%', met(bad.length > 0 && caught / bad.length >= 0.95)],
          ['false rollbacks (healthy rolled back)', `${falseRb} / ${good.length} = ${pct(falseRb, good.length)}`, '<= 0.5%', met(good.length > 0 && falseRb / good.length <= 0.005)],
          ['detection: fault visible → roll-back decision, p50', secs(quantile(detD, 0.5)), '< 20 s', met((quantile(detD, 0.5) ?? Infinity) < 20_000)],
          ['detection: fault visible → roll-back decision, p95', secs(quantile(detD, 0.95)), '< 45 s', met((quantile(detD, 0.95) ?? Infinity) < 45_000)],
          ['fault visible → every host restored and verified, p50', secs(quantile(detR, 0.5)), '< 20 s', met((quantile(detR, 0.5) ?? Infinity) < 20_000)],
          ['fault visible → every host restored and verified, p95', secs(quantile(detR, 0.95)), '< 45 s', met((quantile(detR, 0.95) ?? Infinity) < 45_000)],
        ]),
        '',
        `Replay check: the ${fidelity.calls} recorded judge calls replayed without noise reach the live verdict in ${fidelity.agree}${fidelity.differ.length ? ` (${fidelity.differ.join('; ')})` : ''}. Faulty deployments paused (inconclusive) instead: ${paused}; healthy deployments paused: ${goodPaused} of ${good.length}. Detection over ${det.length} lab runs with a metric fault (1 s scrape interval, ${o.bakeMs / 1000} s bake).`,
        '',
        table([
          ['kind', 'lab: runs / rolled back / paused', 'replay: runs / rolled back / paused', 'detection p50 (lab)'],
          ...['healthy', ...kinds].map((k) => {
            const l = all.filter((r) => r.kind === k && r.source === 'lab');
            const rp = all.filter((r) => r.kind === k && r.source === 'replay');
            const f = (xs: typeof all): string => `${xs.length} / ${xs.filter((x) => x.decision === 'roll-back').length} / ${xs.filter((x) => x.decision === 'pause').length}`;
            return [k, f(l), f(rp), secs(quantile(det.filter((r) => r.kind === k).map((r) => r.detectionMs!), 0.5))];
          }),
        ]),
        '',
      );
    }
    out.push(`Wall time: ${secs(performance.now() - t0)} (seed ${o.seed}${o.quick ? ', --quick' : ''}).`);
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    await world?.store.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
