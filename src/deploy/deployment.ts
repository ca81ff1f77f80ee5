/**
 * The data of a deployment as the deploy layer defines it: the spec kept with the deployment
 * record (wave layout and settings), the seams the engine calls (a wave judge, a re-resolution
 * of a drifted host), the bodies of its journal entries and its events. Also the pure decision
 * of whether a step whose outcome is not known took effect, read from a fresh snapshot (used
 * after a timeout and when a resumed controller finds a step started and never ended).
 */
import type { PackageChange } from '../solver/index.js';
import type { HostFacts } from '../fleet/index.js';
import type { MetricCheck } from '../analysis/index.js';
import type { Snapshot, SnapshotDifference, SnapshotPackage, SnapshotSpec, Step, WaveLayout } from '../planner/index.js';
import type { HealthCheck, HealthResult } from './rehearsal-data.js';

/** How far a host's re-resolution may stray from what the plan approved without a person. */
export type ResolutionPolicy =
  /** Only the planned versions (a drifted host is re-solved, but any other version pauses). */
  | 'planned-only'
  /** Other Debian revisions of the planned upstream versions. */
  | 'revisions'
  /** Any solution the solver finds. */
  | 'any';

export const RESOLUTION_POLICIES: readonly ResolutionPolicy[] = ['planned-only', 'revisions', 'any'];

export interface DeploymentGroupSpec {
  /** Services to restart after the packages step, in this order (the plan's service order). */
  restart: string[];
  /** Checks after the forward steps. */
  health: HealthCheck[];
  /**
   * The migrations the group's changes add (the knowledge base's, in the order they apply), run
   * after the packages step and before the restarts; their scripts are kept here so a resumed
   * controller runs what the deployment started with. A rollback plan's `migrate ... down` reads
   * its script here too.
   */
  migrations?: DeployMigration[];
}

/** One migration of a deployment, with its scripts' text. */
export interface DeployMigration {
  /** The knowledge base's database name (the inventory maps it to an address per host). */
  database: string;
  /** Its id, the version recorded in the migrations table. */
  id: string;
  up: string;
  /** Absent when the migration has no down script (the rollback restores the backup instead). */
  down?: string;
}

/** What `DeploymentRecord.spec` holds. */
export interface DeploymentSpec {
  format: 1;
  plan: { id: string; version: number };
  layout: WaveLayout;
  /** Hosts worked on at once within a wave. */
  concurrency: number;
  /** A host call taking longer makes its outcome `unknown` (then resolved by a fresh snapshot). */
  hostTimeoutMs: number;
  /** What the pre-deployment snapshot holds besides packages. */
  snapshot: SnapshotSpec;
  groups: Record<string, DeploymentGroupSpec>;
  policy: ResolutionPolicy;
  /** The `--hosts` selector, as given. */
  selector?: string;
  /** What the wave judge measures (absent: the bake time alone). */
  judge?: DeploymentJudgeSpec;
}

/** The checks a deployment's judge measures, kept with it so a resumed controller judges alike. */
export interface DeploymentJudgeSpec {
  checks: MetricCheck[];
  /** Prometheus' base URL when given at the start (a resume may name another). */
  prometheus?: string;
  hostLabel?: string;
  /** Where each check came from: services of the knowledge base the plan's changes reach, a checks file. */
  sources: { services: string[]; checksFile?: string };
}

// ---- seams -----------------------------------------------------------------------------------

export type Verdict = 'passed' | 'failed' | 'inconclusive';

export interface WaveJudgeContext {
  wave: number;
  /** Hosts this wave changed (healthy after their steps). */
  changedHosts: string[];
  /** Hosts not changed yet (later waves): the comparison a canary judge needs. */
  controlHosts: string[];
  /** Hosts earlier waves changed (still healthy): a fault that shows only after a while on them is still caught. */
  earlierHosts?: string[];
  bakeMs: number;
  signal: AbortSignal;
  /** When the wave started (ms since the epoch): the end of the baseline window when no control host remains. */
  startedAt?: number;
}

/** Judges a wave after its bake time (the monitor and analysis layers provide one). */
export type WaveJudge = (ctx: WaveJudgeContext) => Promise<{ verdict: Verdict; evidence: unknown[] }>;

export interface ResolveHostInput {
  host: string;
  group: string;
  /** The host's installed packages now. */
  installed: SnapshotPackage[];
  facts?: HostFacts;
  /** What the plan would do on the group's state. */
  planned: PackageChange[];
}

export type ResolveHostOutcome =
  /** The planned changes still apply as they are. */
  | { kind: 'unchanged' }
  /** Other changes for this host; `withinPolicy` false pauses for a person. */
  | { kind: 'changes'; changes: PackageChange[]; withinPolicy: boolean; reason: string }
  /** No solution on the host's real state: the host is skipped. */
  | { kind: 'conflict'; explanation: unknown };

/** Solves again for a host whose state is not what the plan assumed (the app wires the planner's solver). */
export type ResolveHost = (input: ResolveHostInput) => Promise<ResolveHostOutcome>;

// ---- journal bodies and host states ----------------------------------------------------------

/** Where a host is, as the journal records it (`host` entries). */
export type HostState =
  | 'skipped'
  /** Re-solved beyond the policy: waits for a person (`deploy resume --accept-resolutions`). */
  | 'held'
  | 'resolved'
  | 'healthy'
  | 'failed'
  | 'restored'
  | 'needs-attention';

export type Decision =
  | 'start-wave' | 'promote' | 'pause' | 'roll-back' | 'skip-host' | 'hold-host' | 're-solve' | 'reconcile' | 'succeeded' | 'rolled-back' | 'needs-attention' | 'gate';

export interface DecisionBody {
  decision: Decision;
  reason: string;
  wave?: number;
  hosts?: string[];
  evidence?: unknown;
}

/** What became of a step whose outcome was not known, judged from a fresh snapshot. */
export type StepReconciliation = 'happened' | 'not-happened' | 'cannot-tell';

export interface ReconcileInput {
  step: Step;
  /** The host before the deployment touched it. */
  before: Snapshot;
  now: Snapshot;
}

const installedLike = (p: SnapshotPackage | undefined): boolean => !!p && p.status.charAt(1) !== 'c' && p.status.charAt(1) !== 'n';

/**
 * Whether a step took effect, from what the host shows now. A packages step happened when every
 * change is in place (target versions installed and configured, removed packages gone), did not
 * when every package is as before the deployment, and otherwise (half-configured, some changes
 * only) cannot be told apart from a partial run. A service step happened when the service is in
 * the state the action leads to; a config write when the file is as written. A migration
 * happened when the migrations table of its database (in the snapshot) has its version (up) or
 * lacks it (down): it runs in one transaction with that row.
 */
export function reconcileStep(input: ReconcileInput): StepReconciliation {
  const { step, before, now } = input;
  if (step.kind === 'packages') {
    const cur = new Map(now.packages.map((p) => [p.name, p]));
    const was = new Map(before.packages.map((p) => [p.name, p]));
    const done = step.changes.map((c) => {
      const p = cur.get(c.name);
      if (c.action === 'remove') return !installedLike(p);
      if (c.action === 'purge') return !p || p.status.charAt(1) === 'n';
      return !!p && p.version === c.to && p.status.startsWith('ii');
    });
    if (done.every(Boolean)) return 'happened';
    const untouched = step.changes.every((c) => {
      const p = cur.get(c.name);
      const b = was.get(c.name);
      return (!installedLike(b) && !installedLike(p)) || (!!p && !!b && p.version === b.version && p.status === b.status);
    });
    return untouched ? 'not-happened' : 'cannot-tell';
  }
  if (step.kind === 'service') {
    const s = now.services.find((x) => x.name === step.service)?.state;
    if (s === undefined || s === 'unknown') return 'cannot-tell';
    return (step.action === 'stop' ? s === 'stopped' : s === 'running') ? 'happened' : 'not-happened';
  }
  if (step.kind === 'write-config' || step.kind === 'restore-config') {
    const f = now.files.find((x) => x.path === step.path)?.state;
    if (!f) return 'cannot-tell';
    if (step.kind === 'restore-config') return JSON.stringify(f) === JSON.stringify(step.state) ? 'happened' : 'not-happened';
    return f.kind === 'present' && Buffer.from(f.contentBase64, 'base64').toString('utf8') === step.content ? 'happened' : 'not-happened';
  }
  if (step.kind === 'refresh-index') return 'not-happened';
  if (step.kind === 'migrate') {
    // a migration runs in one transaction with its row in the migrations table: the table tells
    const d = now.databases.find((x) => x.name === step.database.name);
    if (!d || d.state === 'unreachable') return 'cannot-tell';
    const applied = d.state === 'ok' && d.applied.includes(step.migration.version);
    return applied === (step.migration.direction === 'up') ? 'happened' : 'not-happened';
  }
  return 'cannot-tell';
}

// ---- results and events ----------------------------------------------------------------------

export interface HostReport {
  host: string;
  group: string;
  wave: number;
  state: HostState | 'pending' | 'in-progress';
  /** For needs-attention: what still differs from the pre-deployment snapshot. */
  differences?: SnapshotDifference[];
  reason?: string;
}

export type DeployEvent =
  | { kind: 'wave-started'; wave: number; hosts: string[]; canary: boolean }
  | { kind: 'host-started'; wave: number; host: string }
  | { kind: 'host-step'; wave: number; host: string; phase: 'forward' | 'rollback'; index: number; total: number; step: Step; status: string }
  | { kind: 'host-finished'; wave: number; host: string; state: HostState; reason?: string }
  | { kind: 'health'; wave: number; host: string; results: HealthResult[] }
  | { kind: 'baking'; wave: number; bakeMs: number }
  | { kind: 'verdict'; wave: number; verdict: Verdict }
  | { kind: 'decision'; body: DecisionBody }
  | { kind: 'finished'; status: string; reason?: string };
