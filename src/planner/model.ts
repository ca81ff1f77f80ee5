/** The plan: pure data the planner produces, the store keeps and the CLI renders. */
import type { FleetFinding, HostAptConfig, InstalledPackage, FactName } from '../fleet/index.js';
import type { ChangeAction, ExplanationFact, PackageChange, PackageRef, RequestItem as SolverRequestItem, ResolutionEdit } from '../solver/index.js';
import type { PlanRequest } from './request.js';

export type PlanStatus = 'needs-review' | 'ready' | 'approved' | 'superseded';
export const PLAN_STATUSES: readonly PlanStatus[] = ['needs-review', 'ready', 'approved', 'superseded'];

/** The actions a solve produces, which a plan's summary counts (a purge, from restore planning, counts as a removal). */
export type SolvedAction = Exclude<ChangeAction, 'purge'>;

export type EnvFindingKind = 'requirement-not-met' | 'requirement-unknown' | 'known-issue';

/** An environment finding on one host group: a requirement not met, or a known issue that applies. */
export interface EnvFinding {
  kind: EnvFindingKind;
  /** Rule id: `requirement:PKG=VERSION` or the known issue's id. */
  rule: string;
  severity: 'critical' | 'high' | 'medium' | 'low';
  package?: string;
  message: string;
  /** What was compared (e.g. `kernel 5.10.0-28-amd64 >= 6.1 is false`). */
  reason: string;
  source: string;
  workaround?: string;
}

/**
 * A host group where the plan does less than was asked: a requested package kept back at its
 * installed version, or installed/upgraded to a version older than the newest that matches the
 * request; under an upgrade-all, any installed package left behind its candidate. `because` says why (the facts that stop the newest one), like apt's "kept back" but
 * with the reason.
 */
export interface HeldBackFinding {
  kind: 'held-back';
  /** `held-back:NAME` */
  rule: string;
  severity: 'medium';
  package: string;
  /** The version the group keeps (kept back) or gets (an older one); undefined when none. */
  version?: string;
  installed?: string;
  /** The newest version matching the request (for an upgrade-all: the group's candidate). */
  newest: string;
  /** Why; absent when it was not worked out (an upgrade-all explains a bounded number per group). */
  because?: PlanExplanation;
}

/**
 * A host group where the plan does less than the plan's request (version 1's) asked because a
 * resolution the operator chose edited that request for the group: another version chosen, the
 * constraint relaxed, the item skipped, another provider installed, a downgrade allowed (when
 * what the group ends up with no longer satisfies the item as the solver reads it). `choices`
 * say why (the chosen resolutions that edited this item). A resolution that does what was asked
 * (allow-removal, or an edit whose outcome still satisfies the item) gives none.
 */
export interface ResolvedLessFinding {
  kind: 'resolved-less';
  /** `resolved-less:NAME` */
  rule: string;
  severity: 'medium';
  package: string;
  /** The item of the plan's request that is not met. */
  asked: SolverRequestItem;
  /** The version of `package` the group has after the plan; undefined when none. */
  version?: string;
  installed?: string;
  /** The chosen resolutions that edited the item (oldest first). */
  choices: AppliedChoice[];
  /** When the edited item still reaches for more than the group gets (e.g. after relax): why it stops there. */
  because?: PlanExplanation;
}

/** Where the plan does less than was asked (kept back, or by a chosen resolution). */
export type ShortfallFinding = HeldBackFinding | ResolvedLessFinding;

export type GroupFinding = EnvFinding | ShortfallFinding;

export type GroupOutcome =
  | { kind: 'transaction'; changes: PackageChange[] }
  /**
   * `changes`: what the group's own solve found, held back because a requirement across hosts
   * is not met (a functional conflict); absent for the solver's conflicts.
   */
  | { kind: 'conflict'; conflict: string; changes?: PackageChange[] };

/** A fact of a plan conflict: the solver's, or the planner's own (a removal nobody asked for, no answer in time). */
export type PlanFact =
  | ExplanationFact
  | { kind: 'no-answer'; key: string; message: string }
  /** The newest version could be installed, but costs more changes than the criteria accept. */
  | { kind: 'costlier'; key: string; package: { name: string; version: string }; changes: number; chosenChanges: number }
  /** The request's own hold or pin keeps the package from its newest version (an upgrade-all's left-behind package). */
  | { kind: 'kept-by-request'; key: string; requestIndex: number; item: SolverRequestItem; package: { name: string; version: string } }
  /** A line of a plan stored before explanations were data (read back as it was). */
  | { kind: 'text'; key: string; text: string }
  /**
   * A functional requirement across hosts (`package` requires `requires` on the hosts that run
   * it) that the plan leaves unmet: `requiring` are the groups whose new state needs it, `short`
   * the groups running the required package that fall short after the plan.
   */
  | {
    kind: 'requirement-unmet'; key: string; rule: string; package: string; requires: string; reason?: string; source: string;
    requiring: Array<{ group: string; hosts: string[]; package: PackageRef }>;
    short: Array<{ group: string; hosts: string[]; installed?: PackageRef }>;
  };

export interface PlanExplanation {
  /** Facts ordered as a chain from the request (the application words them). */
  facts: PlanFact[];
  /** True when the set of facts was proven minimal. */
  minimal: boolean;
}

/**
 * The planner's own edits, for requirements across hosts: the solver's edits change one group's
 * request, these name the groups they change.
 * - `upgrade-first`: add `item` (the required package at a version that meets the requirement)
 *   to the request of `groups`, the groups running it that fall short; they then go first.
 * - `hold`: keep `name` at its installed version on the requiring groups (when no request item
 *   names it, so there is nothing to skip: it came in as a dependency).
 */
export type FunctionalEdit =
  | { kind: 'upgrade-first'; rule: string; item: SolverRequestItem; groups: string[]; hosts: number }
  | { kind: 'hold'; rule: string; name: string };

/**
 * A resolution's edit: the solver's typed edit, several of them applied together (`all-of`: a
 * resolution that needs more than one edit), the planner's, or (plans stored before edits were
 * data) its description.
 */
export type PlanResolutionEdit = ResolutionEdit | { kind: 'all-of'; edits: ResolutionEdit[] } | FunctionalEdit | { kind: 'described'; description: string };

/** A choice the operator made on a group (recorded in the plan version it made). */
export interface AppliedChoice {
  conflict: string;
  resolution: string;
  edit: PlanResolutionEdit;
  /** Plan version the conflict was chosen in. */
  fromVersion: number;
}

/**
 * This group goes after `after` (group keys) going forward, and before them going back: a
 * functional requirement its new versions have is met on those groups' hosts only once the plan
 * has changed them (database before application).
 */
export interface GroupOrdering {
  after: string[];
  /** The rule: `functional:PKG requires REQ`. */
  rule: string;
  reason: string;
}

export interface PlanGroup {
  key: string;
  hosts: string[];
  facts: Partial<Record<FactName, string | number>>;
  /** The installed set the group was solved against (so review can re-solve without the fleet). */
  installed: InstalledPackage[];
  /** The group's apt sources, preferences and architectures, when known (its solves see only those). */
  apt?: HostAptConfig;
  /** The request for this group (the plan's request with the chosen resolutions applied). */
  request: PlanRequest;
  choices: AppliedChoice[];
  outcome: GroupOutcome;
  findings: GroupFinding[];
  /** Ordering constraints between host groups (absent when none). */
  ordering?: GroupOrdering[];
}

export interface PlanResolution {
  id: string;
  /** What the resolution changes in the request (typed data). */
  edit: PlanResolutionEdit;
  /**
   * The edited request per group key; each was solved again and succeeded. For a conflict
   * across hosts these may be other groups than the conflict's (upgrade-first edits the groups
   * running the required package; the conflict's groups are then solved again as they were).
   */
  requests: Record<string, PlanRequest>;
  /** Changes the resolution leads to on the first group (a preview). */
  preview: PackageChange[];
}

export interface PlanConflict {
  id: string;
  groups: string[];
  hosts: number;
  /** Why: the facts (the same for every group of the conflict, which is how groups are clustered). */
  explanation: PlanExplanation;
  resolutions: PlanResolution[];
}

export interface PlanSummary {
  hosts: number;
  groups: number;
  groupsReady: number;
  groupsInConflict: number;
  hostsReady: number;
  hostsInConflict: number;
  changes: Record<SolvedAction, number>;
  /**
   * Hosts per kind of finding (`heldBack`: hosts where a requested package stays behind the
   * newest; `resolvedLess`: hosts that do less than the plan's request by a chosen resolution,
   * absent in plans stored before it was counted; `heldBackPackages`: the held-back packages
   * counted once per host, as changes are, absent in plans stored before it was counted).
   */
  findings: { requirementNotMet: number; requirementUnknown: number; knownIssue: number; heldBack: number; heldBackPackages?: number; resolvedLess?: number; unreachable: number };
}

export interface PlanInputs {
  kb: string[];
  indexes: string[];
  inventories: string[];
  local: boolean;
  sshHosts: string[];
  request: PlanRequest;
  /** false: the groups were solved without Recommends (`rollwise plan --no-recommends`); a resolve keeps it. Absent: Recommends count. */
  recommends?: false;
  /** The request file the request was read from, when there was one. */
  requestFile?: string;
  /**
   * sha256 of every file the version was computed from (knowledge-base files, indexes,
   * inventories, dpkg status files, the request file), by absolute path: resolving or approving
   * against changed inputs stops and says what changed. Absent in plans made before it was kept.
   */
  digests?: Record<string, string>;
}

export type PlanOrigin = { kind: 'initial' } | { kind: 'resolution'; parentVersion: number; choices: AppliedChoice[] };

/** Who approved a version, and when (ISO 8601). */
export interface PlanApproval {
  by: string;
  at: string;
}

export interface Plan {
  id: string;
  version: number;
  status: PlanStatus;
  /** Set when the version is approved. */
  approval?: PlanApproval;
  createdAt: string;
  origin: PlanOrigin;
  inputs: PlanInputs;
  summary: PlanSummary;
  groups: PlanGroup[];
  conflicts: PlanConflict[];
  fleetFindings: FleetFinding[];
}

/** One line per stored plan version, for `plan list`. */
export interface PlanListEntry {
  id: string;
  version: number;
  status: PlanStatus;
  createdAt: string;
  request: string;
  hosts: number;
  groups: number;
  conflicts: number;
}
