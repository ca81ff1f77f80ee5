/**
 * Rehearsal (job 6): on a staging host, through its driver, snapshot; keep the former .debs of
 * the packages the forward steps change; apply the forward steps (stopping at the first that
 * fails or whose outcome is unknown); run health checks; apply the rollback (the plan's steps,
 * or a restore planned from the snapshots); snapshot again and compare. The report is data:
 * every step's outcome, every remaining difference (flagged when expected in advance, silent
 * otherwise) and the time each phase took.
 *
 * When the snapshots record whole trees (spec `trees`, e.g. /etc), the rollback ends by putting
 * every file under them back as the "before" snapshot has it (planTreeRestore): what maintainer
 * scripts regenerated or left during the forward and rollback steps (a version file, a rebuilt
 * certificate store) is not left behind by a plain downgrade. What those steps cannot restore is
 * listed in `rollback.unresolved`.
 *
 * Everything is checked before the host is touched (steps against the grammar, health checks,
 * expected differences; rollback placeholders against the "before" snapshot): a bad input
 * throws a RollwiseError and applies nothing. Once the forward steps started, the rollback
 * always runs; an error thrown by `onProgress` is rethrown only after it.
 */
import { isRollwiseError, RollwiseError, type ErrorCode } from '../shared/index.js';
import { assertHostPath, assertServiceName, cachePreviousVersions, validateStep, type CachedDeb, type HostDriver, type HostRead, type RunOptions, type RunResult } from '../hosts/index.js';
import { observeCommand } from '../monitor/index.js';
import { compareSnapshots, planRestore, planTreeRestore, type ServiceState, type Snapshot, type SnapshotPackage, type SnapshotSpec, type Step, type StepOutcome } from '../planner/index.js';
import {
  classifyDifferences, DIFFERENCE_KINDS, fillFromSnapshot, findCachedDeb, useCachedDebs,
  type ExpectedDifference, type HealthCheck, type HealthObservation, type HealthResult, type RehearsalDebCache,
  type RehearsalEvent, type RehearsalPhase, type RehearsalReport, type RehearsalRollbackStep, type RollbackMaterializer, type SnapshotFailure,
} from './rehearsal-data.js';

/** A driver that can also run a command on its host (for `command` health checks). */
export interface CommandCapable {
  runCommand(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
}

export interface RehearsalOptions {
  driver: HostDriver & Partial<CommandCapable>;
  /** What the snapshots hold: config files, conffiles, databases, services. */
  snapshotSpec: SnapshotSpec;
  forward: readonly Step[];
  /**
   * The rollback plan's steps (placeholders filled from the "before" snapshot), or a function
   * giving them from the snapshots; undefined: restore the "before" snapshot (planRestore).
   */
  rollback?: readonly RehearsalRollbackStep[] | RollbackMaterializer;
  healthChecks?: readonly HealthCheck[];
  /** Keep the former .debs here; restore and plan steps then install them from the cache. */
  debCache?: RehearsalDebCache;
  expectedDifferences?: readonly ExpectedDifference[];
  /** Called (and awaited) at each phase's start and end and after each step. */
  onProgress?: (event: RehearsalEvent) => void | Promise<void>;
  /** After the rollback's steps, restore the snapshot trees' files from the "before" snapshot (default: true when the spec names trees). */
  restoreTrees?: boolean;
}

const SERVICE_STATES: readonly ServiceState[] = ['running', 'stopped', 'failed', 'absent', 'unsupervised', 'unknown'];
const HEALTH_RETRY_MS = 200;
const HEALTH_COMMAND_TIMEOUT_MS = 30_000;

function stepProblem(e: unknown, where: string): RollwiseError {
  if (isRollwiseError(e)) return new RollwiseError(e.code as ErrorCode, `${where}: ${e.message}`, { hint: e.hint, cause: e });
  return new RollwiseError('RW_HOST', `${where}: ${String(e)}`, { hint: 'steps are those of src/planner/steps.ts', cause: e });
}

const isDuration = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0);

/** Throws a RollwiseError naming the first bad input; the host is not touched. */
export function checkRehearsalOptions(o: RehearsalOptions): void {
  o.forward.forEach((s, i) => {
    try {
      validateStep(s);
    } catch (e) {
      throw stepProblem(e, `forward step ${i + 1}`);
    }
  });
  (typeof o.rollback === 'function' ? [] : o.rollback ?? []).forEach((s, i) => {
    try {
      if (s.kind === 'restore-config-from-snapshot') assertHostPath(s.path);
      else validateStep(s);
    } catch (e) {
      throw stepProblem(e, `rollback step ${i + 1}`);
    }
  });
  (o.healthChecks ?? []).forEach((c, i) => {
    const bad = (what: string, hint: string): RollwiseError => new RollwiseError('RW_USAGE', `health check ${i + 1}: ${what}`, { hint });
    if (!isDuration(c.withinMs)) throw bad('withinMs must be a number of milliseconds', 'e.g. withinMs: 5000');
    if (c.kind === 'command') {
      if (!Array.isArray(c.argv) || c.argv.length === 0 || c.argv.some((a) => typeof a !== 'string')) throw bad('argv must be a non-empty array of strings', "e.g. ['curl', '-sf', 'http://127.0.0.1:8080/health']");
      if (!isDuration(c.timeoutMs)) throw bad('timeoutMs must be a number of milliseconds', 'e.g. timeoutMs: 10000');
      if (c.exitCode !== undefined && !Number.isInteger(c.exitCode)) throw bad('exitCode must be an integer', 'the exit status the command gives when healthy (default 0)');
    } else if (c.kind === 'service') {
      try {
        assertServiceName(c.service);
      } catch (e) {
        throw stepProblem(e, `health check ${i + 1}`);
      }
      if (!SERVICE_STATES.includes(c.state)) throw bad(`unknown service state ${JSON.stringify(c.state)}`, `states are ${SERVICE_STATES.join(', ')}`);
    } else {
      throw bad(`unknown kind ${JSON.stringify((c as { kind?: unknown }).kind)}`, 'health checks are of kind command or service');
    }
  });
  (o.expectedDifferences ?? []).forEach((e, i) => {
    if (!DIFFERENCE_KINDS.includes(e.kind)) {
      throw new RollwiseError('RW_USAGE', `expected difference ${i + 1}: unknown kind ${JSON.stringify(e.kind)}`, { hint: `kinds are ${DIFFERENCE_KINDS.join(', ')}` });
    }
  });
}

const installedLike = (p: SnapshotPackage | undefined): boolean => !!p && p.status.charAt(1) !== 'c' && p.status.charAt(1) !== 'n';
const pkgKey = (p: { name: string; architecture: string }): string => `${p.name}:${p.architecture}`;

export async function rehearseOnHost(options: RehearsalOptions): Promise<RehearsalReport> {
  checkRehearsalOptions(options);
  const { driver, snapshotSpec } = options;
  const started = performance.now();
  const since = (t: number): number => Math.round(performance.now() - t);
  let callbackFailed = false;
  let callbackError: unknown;
  const emit = async (event: RehearsalEvent): Promise<void> => {
    if (!options.onProgress) return;
    try {
      await options.onProgress(event);
    } catch (e) {
      if (!callbackFailed) [callbackFailed, callbackError] = [true, e];
    }
  };
  async function phase<T>(name: RehearsalPhase, work: () => Promise<T>): Promise<{ value: T; ms: number }> {
    const t = performance.now();
    await emit({ kind: 'phase-started', phase: name });
    const value = await work();
    const ms = since(t);
    await emit({ kind: 'phase-finished', phase: name, durationMs: ms });
    return { value, ms };
  }
  const snapshotFailures: SnapshotFailure[] = [];
  const snapshot = async (name: SnapshotFailure['phase']): Promise<{ snap: Snapshot | undefined; ms: number }> => {
    const { value, ms } = await phase(name, (): Promise<HostRead<Snapshot>> => driver.takeSnapshot(snapshotSpec));
    if (value.kind === 'ok') return { snap: value.value, ms };
    snapshotFailures.push({ phase: name, kind: value.kind, message: value.kind === 'failed' ? value.message : value.reason });
    return { snap: undefined, ms };
  };

  const report: RehearsalReport = {
    host: driver.name,
    outcome: 'not-started',
    differences: [],
    expectedNotSeen: [],
    forward: { outcomes: [], completed: false, notRun: options.forward.length },
    health: { afterForward: [], afterRollback: [] },
    rollback: { source: options.rollback ? 'plan' : 'restore', steps: [], outcomes: [], unresolved: [] },
    debs: { kept: [], uncached: [] },
    snapshotFailures,
    timings: { snapshotBeforeMs: 0, keepDebsMs: 0, forwardMs: 0, snapshotForwardMs: 0, healthMs: 0, rollbackMs: 0, snapshotAfterMs: 0, healthAfterRollbackMs: 0, totalMs: 0 },
    snapshots: {},
  };
  const finish = (): RehearsalReport => {
    report.timings.totalMs = since(started);
    if (callbackFailed) throw callbackError;
    return report;
  };

  // 1. the state to come back to, and the former .debs
  const b = await snapshot('snapshot-before');
  report.timings.snapshotBeforeMs = b.ms;
  const before = b.snap;
  if (!before) return finish();
  report.snapshots.before = before;
  let planned: Step[] | undefined;
  const materialize = typeof options.rollback === 'function' ? options.rollback : undefined;
  if (options.rollback && !materialize) {
    const filled = fillFromSnapshot(options.rollback as readonly RehearsalRollbackStep[], before);
    if (filled.unfilled.length > 0) {
      throw new RollwiseError('RW_USAGE', `the "before" snapshot holds no state for ${filled.unfilled.join(', ')} (restore-config-from-snapshot in the rollback steps)`, {
        hint: 'name each such file in the snapshot spec (configFiles), or give the rollback a restore-config step with its state',
      });
    }
    planned = filled.steps;
  }
  const cache = options.debCache;
  if (cache) {
    // one change per package (its former version is kept once, however many steps change it)
    const changed = options.forward.flatMap((s) => (s.kind === 'packages' ? s.changes : [])).filter((c) => c.action !== 'install');
    const changes = new Map(changed.map((c) => [c.name, c]));
    const k = await phase('keep-debs', () => cachePreviousVersions(cache.cache, cache.source, before.packages, [...changes.values()]));
    report.debs.kept = k.value;
    report.timings.keepDebsMs = k.ms;
  }

  // 2. forward, stopping at the first step that did not succeed
  const f = await phase('forward', async () => {
    for (const [i, step] of options.forward.entries()) {
      const o = await driver.apply(step);
      report.forward.outcomes.push(o);
      await emit({ kind: 'step-finished', phase: 'forward', index: i, outcome: o });
      if (o.status !== 'succeeded') {
        report.forward.stoppedAt = i;
        break;
      }
    }
  });
  report.timings.forwardMs = f.ms;
  report.forward.notRun = options.forward.length - report.forward.outcomes.length;
  report.forward.completed = report.forward.stoppedAt === undefined;
  const m = await snapshot('snapshot-forward');
  report.timings.snapshotForwardMs = m.ms;
  const mid = m.snap;
  let cached: CachedDeb[] = [];
  if (cache) {
    try {
      cached = await cache.cache.list();
    } catch {
      cached = [];
    }
  }
  if (mid) {
    report.snapshots.afterForward = mid;
    report.forwardChanges = compareSnapshots(before, mid);
    const now = new Map(mid.packages.map((p) => [pkgKey(p), p]));
    for (const p of before.packages) {
      if (!installedLike(p)) continue;
      const q = now.get(pkgKey(p));
      if (q && q.version === p.version && q.status === p.status) continue;
      if (!findCachedDeb(cached, p.name, p.version, p.architecture)) report.debs.uncached.push({ name: p.name, version: p.version, architecture: p.architecture });
    }
  }

  // 3. health
  const h = await phase('health', () => runHealthChecks(driver, options.healthChecks ?? [], report.forward.completed));
  report.health.afterForward = h.value;
  report.timings.healthMs = h.ms;

  // 4. rollback: every step is applied, whatever the outcome of the one before
  let steps: Step[] = [];
  if (materialize) {
    try {
      steps = useCachedDebs(materialize({ before, ...(mid ? { afterForward: mid } : {}) }), cached);
    } catch (e) {
      report.rollback.notPlanned = { kind: 'materializer-failed', message: isRollwiseError(e) ? e.render() : String(e) };
    }
  } else if (planned) {
    steps = useCachedDebs(planned, cached);
  } else if (mid) {
    const restore = planRestore(mid, before, (name, version, architecture) => findCachedDeb(cached, name, version, architecture)?.path);
    steps = restore.steps;
    report.rollback.unresolved = restore.unresolved;
  } else {
    const failure = snapshotFailures.find((x) => x.phase === 'snapshot-forward');
    if (failure) report.rollback.notPlanned = { kind: 'snapshot-failed', failure };
  }
  report.rollback.steps = steps;
  const r = await phase('rollback', async () => {
    for (const [i, step] of steps.entries()) {
      const o: StepOutcome = await driver.apply(step);
      report.rollback.outcomes.push(o);
      await emit({ kind: 'step-finished', phase: 'rollback', index: i, outcome: o });
    }
    if (options.restoreTrees === false || !snapshotSpec.trees?.length || !before.trees) return;
    const now = await driver.takeSnapshot({ trees: snapshotSpec.trees, conffiles: false });
    if (now.kind !== 'ok') {
      snapshotFailures.push({ phase: 'snapshot-after', kind: now.kind, message: `before restoring the trees: ${now.kind === 'failed' ? now.message : now.reason}` });
      return;
    }
    // paths the "before" snapshot compares as files stay with the plan's own steps
    const restore = planTreeRestore({ ...now.value, files: before.files }, before);
    report.rollback.unresolved.push(...restore.unresolved);
    for (const step of restore.steps) {
      report.rollback.steps.push(step);
      const o = await driver.apply(step);
      report.rollback.outcomes.push(o);
      await emit({ kind: 'step-finished', phase: 'rollback', index: report.rollback.steps.length - 1, outcome: o });
    }
  });
  report.timings.rollbackMs = r.ms;

  // 5. compare
  const a = await snapshot('snapshot-after');
  report.timings.snapshotAfterMs = a.ms;
  const ha = await phase('health-after-rollback', () => runHealthChecks(driver, options.healthChecks ?? [], true));
  report.health.afterRollback = ha.value;
  report.timings.healthAfterRollbackMs = ha.ms;
  if (!a.snap) {
    report.outcome = 'not-compared';
    return finish();
  }
  report.snapshots.after = a.snap;
  const sorted = classifyDifferences(compareSnapshots(before, a.snap), options.expectedDifferences ?? []);
  report.differences = sorted.differences;
  report.expectedNotSeen = sorted.expectedNotSeen;
  report.outcome = sorted.differences.length === 0 ? 'identical' : sorted.differences.every((d) => d.flag === 'flagged') ? 'flagged-only' : 'different';
  return finish();
}

export async function runHealthChecks(driver: HostDriver & Partial<CommandCapable>, checks: readonly HealthCheck[], forwardCompleted: boolean): Promise<HealthResult[]> {
  const out: HealthResult[] = [];
  for (const check of checks) {
    if (!forwardCompleted) {
      out.push({ check, status: 'not-run', reason: 'forward-stopped' });
      continue;
    }
    if (check.kind === 'command' && typeof driver.runCommand !== 'function') {
      out.push({ check, status: 'not-run', reason: 'no-command-runner' });
      continue;
    }
    const t = performance.now();
    const deadline = Date.now() + (check.withinMs ?? 0);
    let attempts = 0;
    for (;;) {
      attempts++;
      const observed = await observe(driver, check);
      const passed = check.kind === 'command'
        ? observed.kind === 'exited' && observed.exitCode === (check.exitCode ?? 0)
        : observed.kind === 'service' && observed.state === check.state;
      if (passed || Date.now() + HEALTH_RETRY_MS > deadline) {
        out.push({ check, status: passed ? 'passed' : 'failed', attempts, durationMs: Math.round(performance.now() - t), observed });
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, HEALTH_RETRY_MS));
    }
  }
  return out;
}

async function observe(driver: HostDriver & Partial<CommandCapable>, check: HealthCheck): Promise<HealthObservation> {
  if (check.kind === 'service') return { kind: 'service', state: await driver.readServiceState(check.service) };
  // one way a command check is observed: the monitor layer's command probe
  return observeCommand({ run: (argv, o) => driver.runCommand!(argv, o) }, check.argv, check.timeoutMs ?? HEALTH_COMMAND_TIMEOUT_MS);
}
