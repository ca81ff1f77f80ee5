/**
 * A plan's life as pure rules: how a version is assembled from a planning pass, which versions
 * may be resolved or approved, and what an approval means for the fleet. The application
 * services (src/app/services) call these; the CLI and the HTTP server only render the answers.
 *
 *   needs-review ──resolve──▶ (new version) … ──▶ ready ──approve──▶ approved
 *         └──────────── a later version makes the earlier one superseded ────────────┘
 */
import { RollwiseError } from '../shared/index.js';
import type { AppliedChoice, Plan, PlanInputs, PlanOrigin, PlanStatus } from './model.js';
import type { PlanBody, ResolutionChoice } from './plan.js';

/** A plan version from a planning pass's body. */
export function assemblePlan(id: string, version: number, body: PlanBody, origin: PlanOrigin, inputs: PlanInputs, createdAt = new Date().toISOString()): Plan {
  return { id, version, status: body.status, createdAt, origin, inputs, summary: body.summary, groups: body.groups, conflicts: body.conflicts, fleetFindings: body.fleetFindings };
}

/** The choices as the next version records them (what was chosen, in which version). */
export function appliedChoices(plan: Plan, choices: readonly ResolutionChoice[]): AppliedChoice[] {
  return choices.map((c) => {
    const conflict = plan.conflicts.find((x) => x.id === c.conflict);
    const res = conflict?.resolutions.find((x) => x.id === c.resolution);
    if (!res) throw new Error(`choice ${c.conflict}=${c.resolution} was not validated against plan ${plan.id} v${plan.version}`);
    return { conflict: c.conflict, resolution: c.resolution, edit: res.edit, fromVersion: plan.version };
  });
}

/** Only the latest version, not yet approved, may be resolved. */
export function assertCanResolve(plan: Plan): void {
  if (plan.status === 'superseded') throw new RollwiseError('RW_USAGE', `plan ${plan.id} v${plan.version} is superseded by a later version`, { hint: `resolve the latest version: rollwise plan resolve ${plan.id} (rollwise plan show ${plan.id} shows it)` });
  if (plan.status === 'approved') throw new RollwiseError('RW_USAGE', `plan ${plan.id} v${plan.version} is already approved`, { hint: 'plan the change again to make a new plan' });
}

/** Only a ready version (the latest, no conflict left) may be approved. */
export function assertCanApprove(plan: Plan): void {
  if (plan.status === 'ready') return;
  if (plan.status === 'superseded') throw new RollwiseError('RW_USAGE', `plan ${plan.id} v${plan.version} is superseded by a later version`, { hint: `approve the latest version: rollwise plan approve ${plan.id} (rollwise plan show ${plan.id} shows it)` });
  const n = plan.conflicts.length;
  throw new RollwiseError('RW_USAGE', `plan ${plan.id} v${plan.version} is ${plan.status}${n ? ` with ${n} conflict${n === 1 ? '' : 's'}` : ''}`, {
    hint: n ? `review them first: rollwise plan resolve ${plan.id}` : 'only the latest, ready version can be approved',
  });
}

export function isFinal(status: PlanStatus): boolean {
  return status === 'approved' || status === 'superseded';
}

/** What approving a version means for the fleet: hosts that change, of them those a chosen resolution changes, and those left alone. */
export interface ApprovalSummary {
  hosts: number;
  hostsChanging: number;
  /** Hosts that change as a chosen resolution says (not as the request alone said). */
  hostsAsResolved: number;
  hostsUnchanged: number;
}

export function summariseApproval(plan: Plan): ApprovalSummary {
  const changing = plan.groups.filter((g) => g.outcome.kind === 'transaction' && g.outcome.changes.length > 0);
  const hostsChanging = changing.reduce((n, g) => n + g.hosts.length, 0);
  const hostsAsResolved = changing.filter((g) => g.choices.length > 0).reduce((n, g) => n + g.hosts.length, 0);
  return { hosts: plan.summary.hosts, hostsChanging, hostsAsResolved, hostsUnchanged: plan.summary.hosts - hostsChanging };
}
