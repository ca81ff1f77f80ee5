/**
 * The seam between the planner and the resolver: what a group's solve takes and gives, and what
 * the planner needs of a solver (solver-adapter.ts builds one over the real resolver). Apart from
 * plan.ts so that the shared-solve driver and the worker pool use it without an import cycle.
 */
import type { InstalledPackage, FactName, HostAptConfig } from '../fleet/index.js';
import type { PackageChange } from '../solver/index.js';
import type { AppliedChoice, PlanExplanation, PlanResolutionEdit, ShortfallFinding } from './model.js';
import type { SolveSharing } from './projection.js';
import type { PlanRequest } from './request.js';

export interface GroupSolveInput {
  key: string;
  installed: InstalledPackage[];
  facts: Partial<Record<FactName, string | number>>;
  /** The group's apt configuration: the solve sees only its repositories, under apt's candidate policy. */
  apt?: HostAptConfig;
  request: PlanRequest;
  /**
   * The plan's own request (version 1's) when `request` is it edited by chosen resolutions
   * (`choices`): what the group does is also measured against it (ResolvedLessFinding).
   */
  asked?: PlanRequest;
  /** The chosen resolutions that made `request` from `asked`, oldest first. */
  choices?: AppliedChoice[];
}

export interface SolvedResolution {
  edit: PlanResolutionEdit;
  /** The edited request (verified: solving it succeeded). */
  request: PlanRequest;
  changes: PackageChange[];
}

export type GroupSolveOutcome =
  | { kind: 'solution'; changes: PackageChange[]; shortfalls?: ShortfallFinding[] }
  | { kind: 'conflict'; explanation: PlanExplanation; resolutions: SolvedResolution[] };

/** What the planner needs from the resolver (src/planner/solver-adapter.ts builds one over the real solver). */
export interface GroupSolver {
  /** Names in the request that no layer of the knowledge base knows. */
  unknownPackages(request: PlanRequest): string[];
  /** Every package name (real or virtual) the knowledge base knows, for "did you mean …?". */
  knownNames?(): readonly string[];
  /** Exact versions the request names (`name=1.2`) that no layer has, with the versions there are. */
  unknownVersions?(request: PlanRequest): Array<{ name: string; version: string; available: string[] }>;
  solveGroup(input: GroupSolveInput): GroupSolveOutcome;
  /** Groups equal on what the request can touch share one solve (projection.ts); undefined: every group solved on its own. */
  shareSolves?(request: PlanRequest): SolveSharing | undefined;
}
