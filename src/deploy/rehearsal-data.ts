/**
 * The data of a rehearsal (deploy, then roll back, on a staging host): the rollback plan's
 * placeholder for a config file's recorded state, expected differences, health checks, and the
 * report. The pure helpers here fill placeholders from a snapshot, point package changes at
 * cached .debs, and sort differences into flagged (expected in advance) and silent ones.
 */
import type { CachedDeb, FormerDebSource, KeepOutcome, DebCache } from '../hosts/index.js';
import { restoreFileStep, type ServiceState, type Snapshot, type SnapshotDifference, type Step, type StepOutcome } from '../planner/index.js';

/**
 * A rollback step restoring a config file to the state the "before" snapshot recorded (content,
 * mode, or absence); `fillFromSnapshot` turns it into a `restore-config` step. Rollback plans
 * made before the snapshot exists use it; a plan may also carry `restore-config` steps filled.
 * Unlike the planner's symbolic steps (materializeRollbackStep: absent when the snapshot lacks
 * the path), a path the snapshot does not hold is an input error here, found before any change.
 */
export interface RestoreConfigFromSnapshot {
  kind: 'restore-config-from-snapshot';
  path: string;
}

export type RehearsalRollbackStep = Step | RestoreConfigFromSnapshot;

/**
 * The rollback as a function of the snapshots, called once the forward steps ran: for plans
 * whose steps need the host's state (the planner's symbolic rollback steps, materialized with
 * the pre-deployment snapshot and the current one). `afterForward` is absent when that snapshot
 * failed.
 */
export type RollbackMaterializer = (snapshots: { before: Snapshot; afterForward?: Snapshot }) => readonly Step[];

export interface FilledSteps {
  steps: Step[];
  /** Paths of placeholders the snapshot holds no state for (left out of `steps`). */
  unfilled: string[];
}

/** Replace each placeholder by a `restore-config` step with the state `before` recorded for its path (and the side files beside it). */
export function fillFromSnapshot(steps: readonly RehearsalRollbackStep[], before: Snapshot): FilledSteps {
  const recorded = new Set(before.files.filter((f) => f.source !== 'side').map((f) => f.path));
  const out: Step[] = [];
  const unfilled: string[] = [];
  for (const s of steps) {
    if (s.kind !== 'restore-config-from-snapshot') {
      out.push(s);
      continue;
    }
    if (recorded.has(s.path)) out.push(restoreFileStep(before, s.path));
    else unfilled.push(s.path);
  }
  return { steps: out, unfilled };
}

/** The cached .deb for a package version (same architecture, or `all`), if any. */
export function findCachedDeb(cached: readonly CachedDeb[], name: string, version: string, architecture?: string): CachedDeb | undefined {
  return cached.find((d) => d.name === name && d.version === version && (architecture === undefined || d.architecture === architecture || d.architecture === 'all'));
}

/**
 * Install/upgrade/downgrade changes without a `debPath` get the cached .deb of their target
 * version, when the cache holds it: the step then does not depend on the repository.
 */
export function useCachedDebs(steps: readonly Step[], cached: readonly CachedDeb[]): Step[] {
  return steps.map((s) => {
    if (s.kind !== 'packages') return s;
    return {
      ...s,
      changes: s.changes.map((c) => {
        if (c.debPath !== undefined || c.to === undefined || (c.action !== 'install' && c.action !== 'upgrade' && c.action !== 'downgrade')) return c;
        const deb = findCachedDeb(cached, c.name, c.to, c.architecture);
        return deb ? { ...c, debPath: deb.path } : c;
      }),
    };
  });
}

/**
 * A difference flagged in advance (the rollback plan knows it cannot undo it): its kind, and
 * optionally any of that kind's fields, each of which must be equal to match.
 */
export const DIFFERENCE_KINDS: ReadonlyArray<SnapshotDifference['kind']> = [
  'package-added', 'package-removed', 'package-version-changed', 'package-status-changed',
  'config-changed', 'config-mode-changed', 'config-missing', 'config-appeared',
  'schema-version-changed', 'service-state-changed',
  'tree-entry-appeared', 'tree-entry-missing', 'tree-entry-changed',
];

export type ExpectedDifference = {
  [K in SnapshotDifference['kind']]: { kind: K } & Partial<Omit<Extract<SnapshotDifference, { kind: K }>, 'kind'>>;
}[SnapshotDifference['kind']];

export function matchesExpected(d: SnapshotDifference, e: ExpectedDifference): boolean {
  if (d.kind !== e.kind) return false;
  const fields = d as unknown as Record<string, unknown>;
  return Object.entries(e).every(([k, v]) => v === undefined || fields[k] === v);
}

export interface FlaggedDifference {
  difference: SnapshotDifference;
  /** `flagged`: matches an expected difference; `silent`: nobody said it would happen. */
  flag: 'flagged' | 'silent';
}

export function classifyDifferences(
  differences: readonly SnapshotDifference[],
  expected: readonly ExpectedDifference[],
): { differences: FlaggedDifference[]; expectedNotSeen: ExpectedDifference[] } {
  return {
    differences: differences.map((d) => ({ difference: d, flag: expected.some((e) => matchesExpected(d, e)) ? 'flagged' : 'silent' })),
    expectedNotSeen: expected.filter((e) => !differences.some((d) => matchesExpected(d, e))),
  };
}

/**
 * A health check after the forward steps (and again after the rollback).
 * - `command`: an argument array run through the driver (one with `runCommand`); passes when it
 *   exits with `exitCode` (default 0).
 * - `service`: passes when the service's state is `state`.
 * `withinMs`: retried until it passes or this long has passed (default: one attempt).
 */
export type HealthCheck =
  | { kind: 'command'; argv: string[]; exitCode?: number; withinMs?: number; timeoutMs?: number }
  | { kind: 'service'; service: string; state: ServiceState; withinMs?: number };

export type HealthObservation =
  | { kind: 'exited'; exitCode: number; output: string }
  | { kind: 'lost'; reason: string; output: string }
  | { kind: 'not-started'; reason: string }
  | { kind: 'service'; state: ServiceState };

export type HealthResult =
  | { check: HealthCheck; status: 'passed' | 'failed'; attempts: number; durationMs: number; observed: HealthObservation }
  | { check: HealthCheck; status: 'not-run'; reason: 'forward-stopped' | 'no-command-runner' };

export type RehearsalPhase =
  | 'snapshot-before'
  | 'keep-debs'
  | 'forward'
  | 'snapshot-forward'
  | 'health'
  | 'rollback'
  | 'snapshot-after'
  | 'health-after-rollback';

export type RehearsalEvent =
  | { kind: 'phase-started'; phase: RehearsalPhase }
  | { kind: 'phase-finished'; phase: RehearsalPhase; durationMs: number }
  | { kind: 'step-finished'; phase: 'forward' | 'rollback'; index: number; outcome: StepOutcome };

/** Where to keep the former .debs of the packages the forward steps change. */
export interface RehearsalDebCache {
  cache: DebCache;
  /** The repository the host installs from, or the host root's own apt cache (the former versions are copied from it). */
  source: FormerDebSource;
}

export type RehearsalOutcome =
  /** The host is back to its former state (every snapshot field equal). */
  | 'identical'
  /** Differences remain, each one expected in advance. */
  | 'flagged-only'
  /** At least one difference nobody expected. */
  | 'different'
  /** The "before" snapshot could not be taken: nothing was applied. */
  | 'not-started'
  /** The last snapshot could not be taken: the host's state is not known. */
  | 'not-compared';

export interface SnapshotFailure {
  phase: 'snapshot-before' | 'snapshot-forward' | 'snapshot-after';
  kind: 'failed' | 'unknown';
  message: string;
}

export interface RehearsalReport {
  host: string;
  outcome: RehearsalOutcome;
  /** Every difference between the snapshots before and after, flagged or silent. */
  differences: FlaggedDifference[];
  /** Expected differences that did not occur. */
  expectedNotSeen: ExpectedDifference[];
  forward: {
    outcomes: StepOutcome[];
    /** Every forward step succeeded. */
    completed: boolean;
    /** Index of the failed or unknown step the forward stopped at. */
    stoppedAt?: number;
    /** Forward steps never applied (after the one it stopped at). */
    notRun: number;
  };
  /** What the forward steps changed (before vs after them); absent when that snapshot failed. */
  forwardChanges?: SnapshotDifference[];
  health: { afterForward: HealthResult[]; afterRollback: HealthResult[] };
  rollback: {
    /** `plan`: the given rollback steps (or their materializer); `restore`: planned from the snapshots (planRestore). */
    source: 'plan' | 'restore';
    /** The steps applied, as applied (placeholders filled, cached .debs named). */
    steps: Step[];
    /** One per step: the rollback goes on after a failed step, so it restores what it can. */
    outcomes: StepOutcome[];
    /** `restore` only: differences no restore step can undo (e.g. a schema version). */
    unresolved: SnapshotDifference[];
    /**
     * No rollback steps: the snapshot after the forward steps failed (a restore needs it), or the
     * materializer threw (its message).
     */
    notPlanned?: { kind: 'snapshot-failed'; failure: SnapshotFailure } | { kind: 'materializer-failed'; message: string };
  };
  debs: {
    /** Former versions kept before the forward steps (one per changed package). */
    kept: Array<{ name: string; version: string; outcome: KeepOutcome }>;
    /** Packages the forward steps changed whose former version is not in the cache (undoing them needs the repository). */
    uncached: Array<{ name: string; version: string; architecture: string }>;
  };
  snapshotFailures: SnapshotFailure[];
  /** Milliseconds per phase (0 for a phase that did not run). */
  timings: {
    snapshotBeforeMs: number;
    keepDebsMs: number;
    forwardMs: number;
    snapshotForwardMs: number;
    healthMs: number;
    rollbackMs: number;
    snapshotAfterMs: number;
    healthAfterRollbackMs: number;
    totalMs: number;
  };
  /** The snapshots taken (config file contents included, as snapshots hold them). */
  snapshots: { before?: Snapshot; afterForward?: Snapshot; after?: Snapshot };
}
