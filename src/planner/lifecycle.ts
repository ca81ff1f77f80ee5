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

/**
 * A rule an approval must pass, or that the operator overrides by name with a reason (recorded
 * with the approval): a critical functional requirement not met on the hosts that run it, or a
 * critical known issue (both from the plan), a critical impact without a successful rehearsal
 * (added by the application, which reads the impact and the rehearsals), a risk the rollback plan cannot undo that its `approval`
 * safeguard says a person must accept by name (an irreversible migration).
 */
export interface ApprovalGate {
  /** What an override names: the finding's rule, or `rehearsal`. */
  name: string;
  kind: 'requirement-not-met' | 'known-issue' | 'unrehearsed-critical-impact' | 'risk-approval';
  /** Host groups concerned. */
  groups: string[];
  /** What fails the gate (the finding's message, or the impact's reasons in short). */
  detail: string;
}

export interface ApprovalOverride {
  name: string;
  reason: string;
}

/**
 * The gates the plan's own findings make: critical requirements not met across hosts, and
 * critical known issues the plan's changes would hit (a culprit `rollwise learn` recorded after a
 * rollback of a critical service is one).
 */
export function findingGates(plan: Plan): ApprovalGate[] {
  const byRule = new Map<string, ApprovalGate>();
  for (const g of plan.groups) {
    for (const f of g.findings) {
      if ((f.kind !== 'requirement-not-met' && f.kind !== 'known-issue') || f.severity !== 'critical') continue;
      const gate = byRule.get(f.rule) ?? { name: f.rule, kind: f.kind, groups: [], detail: `${f.message} (${f.reason})` };
      gate.groups.push(g.key);
      byRule.set(f.rule, gate);
    }
  }
  return [...byRule.values()];
}

/**
 * Refuses an approval while a gate is neither passed nor overridden (RW_APPROVAL_GATE, exit 1:
 * an outcome to act on); an override naming no gate is refused too (a typo must not pass as
 * consent). Returns the overrides that were used.
 */
export function assertGatesPassed(plan: Plan, gates: readonly ApprovalGate[], overrides: readonly ApprovalOverride[]): ApprovalOverride[] {
  const names = new Set(gates.map((g) => g.name));
  const stray = overrides.filter((o) => !names.has(o.name));
  if (stray.length > 0) {
    throw new RollwiseError('RW_USAGE', `--override ${stray.map((o) => `'${o.name}'`).join(', ')} names no gate of plan ${plan.id} v${plan.version}`, {
      hint: gates.length ? `gates of this version: ${gates.map((g) => `'${g.name}'`).join(', ')}` : 'this version has no gates: approve it without --override',
    });
  }
  for (const o of overrides) {
    if (o.reason.trim().length < 3) throw new RollwiseError('RW_USAGE', `the override of '${o.name}' needs a reason`, { hint: 'give --reason TEXT: why approving despite it is right (it is recorded with the approval)' });
  }
  const open = gates.filter((g) => !overrides.some((o) => o.name === g.name));
  if (open.length > 0) {
    throw new RollwiseError('RW_APPROVAL_GATE', `plan ${plan.id} v${plan.version} cannot be approved: ${open.map((g) => `${g.name}: ${g.detail}`).join('; ')}`, {
      hint: `fix it and plan again, or override by name with a reason: ${open.map((g) => `--override '${g.name}'`).join(' ')} --reason TEXT`,
      exitCode: 1,
    });
  }
  return overrides.filter((o) => names.has(o.name));
}
