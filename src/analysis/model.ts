/**
 * Impact prediction as data: what a plan's changes reach (services, with the path that leads
 * there), the predicted risk of an outage, a performance regression or a resource shortfall
 * (each with its typed reasons and their weights), and the blast radius of each host group.
 * Everything here is JSON-serialisable and holds no sentences: the render layer makes the words.
 * The model that fills these in is documented at the top of ./risk.ts.
 */
import type { Criticality } from '../kb/index.js';

/** The three ways a change can hurt. */
export type ImpactKind = 'outage' | 'performance' | 'resources';
export const IMPACT_KINDS: readonly ImpactKind[] = ['outage', 'performance', 'resources'];

export type RiskLevel = 'critical' | 'moderate' | 'low';
export const RISK_LEVELS: readonly RiskLevel[] = ['critical', 'moderate', 'low'];

export type { Criticality };

/** A package change as the history counts it (a purge counts as a removal). */
export type ChangeKind = 'install' | 'upgrade' | 'downgrade' | 'remove';

/**
 * How far a version moves, largest first: the epoch, the first upstream component (major), the
 * second (minor), the rest of upstream (patch), the packaging revision only (revision), or only a
 * Debian stable/security update (`+debNuM`, `~debNuM`; see ./jump.ts).
 */
export type VersionJump = 'epoch' | 'major' | 'minor' | 'patch' | 'revision' | 'security';
export const VERSION_JUMPS: readonly VersionJump[] = ['epoch', 'major', 'minor', 'patch', 'revision', 'security'];

/** One step of a path from a changed package to a service. */
export type ReachHop =
  /** The start: the package the plan changes. */
  | { kind: 'changed'; package: string; action: ChangeKind }
  /** `package` (at `version`, installed after the plan) Depends or Pre-Depends on the previous hop's package, or on `via`, a name that package provides. */
  | { kind: 'depends'; package: string; version: string; on: string; relation: 'depends' | 'pre-depends'; via?: string }
  /** The service lists the previous hop's package among its packages. */
  | { kind: 'service-package'; service: string; package: string }
  /** A functional impact of the knowledge base (`functional.impacts`): changing `package` affects `service`. */
  | { kind: 'functional-impact'; service: string; package: string; impact: ImpactKind; layer: string }
  /** A known issue that applies to the group (a planner finding) names the service in its effect. */
  | { kind: 'known-issue'; service: string; issue: string; impact: ImpactKind }
  /** `service` depends on the previous hop's service (`dependsOn` followed backwards). */
  | { kind: 'service-depends'; service: string; dependsOn: string };

export interface ReachPath {
  /** The changed package the path starts from. */
  from: string;
  /** How the service is expected to suffer along this path. */
  impact: ImpactKind;
  /** From the changed package (first hop) to the service (last hop). */
  hops: ReachHop[];
}

export interface ServiceReach {
  service: string;
  criticality?: Criticality;
  /** The kinds of impact the service is reached with (outage, performance, resources order). */
  impacts: ImpactKind[];
  /** True when one of the service's packages is installed on the group's hosts (the service runs there). */
  onGroupHosts: boolean;
  /** The shortest path per changed package and kind of impact, shortest first. */
  paths: ReachPath[];
}

/** Why a risk is what it is: typed data, each with the probability it adds on its own. */
export type ImpactReason =
  /** The smoothed failure rate of earlier deployments of this package and change kind: (failures + a) / (runs + a + b). */
  | { kind: 'history'; package: string; change: ChangeKind; runs: number; failures: number; priorFailures: number; priorSuccesses: number; weight: number }
  | { kind: 'version-jump'; package: string; from: string; to: string; jump: VersionJump; weight: number }
  /** Installing, removing or downgrading (an upgrade's risk is its version jump). */
  | { kind: 'change-action'; package: string; action: 'install' | 'remove' | 'downgrade'; weight: number }
  /** A database migration the change runs (up on the way forward, down on a downgrade). */
  | { kind: 'migration'; package: string; version: string; migration: string; database: string; direction: 'up' | 'down'; irreversible: boolean; weight: number }
  /** A known issue the planner found for the group (`effect` as the KB writes it). */
  | { kind: 'known-issue'; issue: string; package?: string; severity: Criticality; effect: string; weight: number }
  /** An environment requirement finding of the planner. */
  | { kind: 'requirement'; rule: string; finding: 'requirement-not-met' | 'requirement-unknown'; package?: string; weight: number }
  /**
   * The KB resource profiles of the new versions against the group's headroom: `added` by the
   * change, `inUse` by what is installed (as far as the KB knows), `available` on the host
   * (undefined when the group's facts do not say). MiB for memory and disk, percent of one core for cpu.
   */
  | { kind: 'resource'; resource: 'memory' | 'disk' | 'cpu'; unit: 'MiB' | 'percent'; added: number; inUse: number; available?: number; shortfall: boolean; packages: string[]; weight: number }
  /** A service the change reaches in this kind of impact (`distance`: hops of its shortest path). */
  | { kind: 'service-reached'; service: string; criticality?: Criticality; impact: ImpactKind; distance: number; weight: number }
  /** Plan level: a group's risk. */
  | { kind: 'group'; group: string; level: RiskLevel; probability: number; weight: number };

export type ImpactReasonKind = ImpactReason['kind'];

/** Which rule of the level mapping decided the level (see ./risk.ts). */
export type LevelRule = 'probability' | 'critical-service' | 'resource-shortfall' | 'worst-group';

export interface Risk {
  level: RiskLevel;
  /** Probability in [0, 1]: the noisy-OR of the reasons' weights. */
  probability: number;
  levelRule: LevelRule;
  /** Heaviest first. */
  reasons: ImpactReason[];
}

export type RiskByKind = Record<ImpactKind, Risk>;

/** A change of the group's transaction, with the size of its version jump. */
export interface ChangeSummary {
  package: string;
  action: ChangeKind;
  from?: string;
  to?: string;
  jump?: VersionJump;
}

/** What fails if the group's change fails: its hosts, and the services reached. */
export interface BlastRadius {
  hosts: string[];
  /** The group's hosts as a share of the plan's hosts. */
  fleetShare: number;
  services: Array<{ service: string; criticality?: Criticality; onGroupHosts: boolean }>;
  criticalServices: number;
}

export interface GroupImpact {
  group: string;
  hosts: string[];
  /** False for a group in conflict: nothing changes there, so nothing is predicted. */
  planned: boolean;
  changes: ChangeSummary[];
  /** Critical services first, then by name. */
  reach: ServiceReach[];
  risk: RiskByKind;
  blastRadius: BlastRadius;
  /** True when a reverse-dependency walk stopped at the depth bound. */
  truncated: boolean;
}

export interface PlanServiceReach {
  service: string;
  criticality?: Criticality;
  impacts: ImpactKind[];
  /** Groups that reach the service, and their hosts. */
  groups: string[];
  hosts: number;
  onGroupHosts: boolean;
  /** The shortest path over all groups. */
  path: ReachPath;
}

export interface PlanImpact {
  /** The model's version (./risk.ts), so stored predictions say which rules made them. */
  model: number;
  groups: GroupImpact[];
  reach: PlanServiceReach[];
  /** Per kind, the worst group's risk (reasons: the groups). */
  risk: RiskByKind;
}
