/** The plan: pure data the planner produces, the store keeps and the CLI renders. */
import type { FleetFinding, InstalledPackage, FactName } from '../fleet/index.js';
import type { PlanRequest } from './request.js';

export type PlanStatus = 'needs-review' | 'ready' | 'approved' | 'superseded';
export const PLAN_STATUSES: readonly PlanStatus[] = ['needs-review', 'ready', 'approved', 'superseded'];

export type ChangeAction = 'install' | 'upgrade' | 'downgrade' | 'remove';

export interface PlanChange {
  action: ChangeAction;
  name: string;
  architecture?: string;
  from?: string;
  to?: string;
}

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

export type GroupOutcome =
  | { kind: 'transaction'; changes: PlanChange[] }
  | { kind: 'conflict'; conflict: string };

/** A choice the operator made on a group (recorded in the plan version it made). */
export interface AppliedChoice {
  conflict: string;
  resolution: string;
  description: string;
  /** Plan version the conflict was chosen in. */
  fromVersion: number;
}

export interface PlanGroup {
  key: string;
  hosts: string[];
  facts: Partial<Record<FactName, string | number>>;
  /** The installed set the group was solved against (so review can re-solve without the fleet). */
  installed: InstalledPackage[];
  /** The request for this group (the plan's request with the chosen resolutions applied). */
  request: PlanRequest;
  choices: AppliedChoice[];
  outcome: GroupOutcome;
  findings: EnvFinding[];
}

export interface PlanResolution {
  id: string;
  description: string;
  /** The edit in the solver's words, for programs (opaque JSON). */
  edit?: unknown;
  /** The edited request per group key; each was solved again and succeeded. */
  requests: Record<string, PlanRequest>;
  /** Changes the resolution leads to on the first group (a preview). */
  preview: PlanChange[];
}

export interface PlanConflict {
  id: string;
  groups: string[];
  hosts: number;
  /** Explanation lines (outermost first), words a person can act on. */
  explanation: string[];
  resolutions: PlanResolution[];
}

export interface PlanSummary {
  hosts: number;
  groups: number;
  groupsReady: number;
  groupsInConflict: number;
  hostsReady: number;
  hostsInConflict: number;
  changes: Record<ChangeAction, number>;
  findings: { requirementNotMet: number; requirementUnknown: number; knownIssue: number; unreachable: number };
}

export interface PlanInputs {
  kb: string[];
  indexes: string[];
  inventories: string[];
  local: boolean;
  sshHosts: string[];
  request: PlanRequest;
}

export type PlanOrigin = { kind: 'initial' } | { kind: 'resolution'; parentVersion: number; choices: AppliedChoice[] };

export interface Plan {
  id: string;
  version: number;
  status: PlanStatus;
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
