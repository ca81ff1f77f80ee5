/**
 * planDeployment: one pass over the fleet's host groups: solve each group once, cluster the
 * conflicts that groups share, evaluate the environment rules, summarise. resolvePlan: apply the
 * operator's chosen resolutions (edits to the request of the groups concerned) and re-solve those
 * groups, giving the body of the next plan version. Pure: the solver is passed in, nothing is stored.
 */
import { RollwiseError, excerpt } from '../shared/index.js';
import {
  groupHosts, evaluateCondition, factsFromValues,
  type Fleet, type FleetFinding, type InstalledPackage, type FactName,
} from '../fleet/index.js';
import type { PackageChange } from '../solver/index.js';
import type { PlanRequest } from './request.js';

import { factsReadByRules, type EnvironmentRules } from './rules.js';
import { checkFunctionalRequirements } from './functional.js';
import { applyPackageChanges } from './rollback-order.js';
import type {
  AppliedChoice, EnvFinding, GroupFinding, Plan, PlanConflict, PlanExplanation, PlanGroup, PlanResolution, PlanResolutionEdit, PlanSummary, PlanStatus,
  ShortfallFinding,
} from './model.js';

export interface GroupSolveInput {
  key: string;
  installed: InstalledPackage[];
  facts: Partial<Record<FactName, string | number>>;
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
  /** Exact versions the request names (`name=1.2`) that no layer has, with the versions there are. */
  unknownVersions?(request: PlanRequest): Array<{ name: string; version: string; available: string[] }>;
  solveGroup(input: GroupSolveInput): GroupSolveOutcome;
}

export type PlanBody = Pick<Plan, 'summary' | 'groups' | 'conflicts' | 'fleetFindings'> & { status: PlanStatus };

export interface PlanDeploymentInput {
  fleet: Fleet;
  request: PlanRequest;
  solver: GroupSolver;
  rules: EnvironmentRules;
  onProgress?: (done: number, total: number) => void;
}



function afterState(installed: InstalledPackage[], changes: PackageChange[]): Map<string, InstalledPackage> {
  const m = new Map(installed.map((p) => [p.name, p]));
  applyPackageChanges(m, changes);
  return m;
}

/** Environment findings of one group: requirements of the versions it installs, known issues of the packages it changes. */
export function evaluateGroupEnvironment(
  group: { installed: InstalledPackage[]; facts: Partial<Record<FactName, string | number>> },
  changes: PackageChange[],
  rules: EnvironmentRules,
): EnvFinding[] {
  const findings: EnvFinding[] = [];
  const subject = factsFromValues(group.facts);
  const touched = new Map(changes.filter((c) => c.action !== 'remove' && c.action !== 'purge').map((c) => [c.name, c]));
  for (const r of rules.requirements) {
    const c = touched.get(r.package);
    if (!c || (r.version !== undefined && c.to !== r.version)) continue;
    const res = evaluateCondition(r.condition, subject);
    if (res.truth === 'true') continue;
    findings.push({
      kind: res.truth === 'false' ? 'requirement-not-met' : 'requirement-unknown',
      rule: `requirement:${r.package}=${c.to ?? ''}`,
      severity: res.truth === 'false' ? 'high' : 'medium',
      package: r.package,
      message: res.truth === 'false'
        ? `${r.package} ${c.to} requires ${r.text}; not met`
        : `${r.package} ${c.to} requires ${r.text}; cannot tell`,
      reason: res.reason,
      source: r.source,
    });
  }
  const changed = new Set(changes.map((c) => c.name));
  if (rules.knownIssues.length > 0) {
    const after = afterState(group.installed, changes);
    for (const k of rules.knownIssues) {
      if (k.packages.length > 0 && !k.packages.some((p) => changed.has(p))) continue;
      const res = evaluateCondition(k.condition, { ...subject, installed: after });
      if (res.truth !== 'true') continue;
      findings.push({
        kind: 'known-issue', rule: k.id, severity: k.severity, ...(k.packages[0] ? { package: k.packages[0] } : {}),
        message: `${k.title}: ${k.description}`, reason: res.reason, source: k.source, ...(k.workaround ? { workaround: k.workaround } : {}),
      });
    }
  }
  return findings;
}

/** A plan group before its conflicts are clustered and its rules evaluated. */
type SolvedGroup = Omit<PlanGroup, 'outcome' | 'findings'> & { outcome: GroupSolveOutcome };

/** Groups whose conflicts have the same facts and the same resolutions share one conflict. */
function conflictSignature(explanation: PlanExplanation, edits: readonly PlanResolutionEdit[]): string {
  const facts = explanation.facts.slice().sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return JSON.stringify([facts, edits]);
}

/**
 * Clusters identical conflicts, evaluates rules, summarises. A conflict the previous version
 * had (the same facts and resolutions) keeps its id there; new ones are numbered after the
 * highest id used so far, so an id never names two different conflicts of one plan.
 */
function assemble(solved: SolvedGroup[], rules: EnvironmentRules, fleetFindings: FleetFinding[], previous: readonly PlanConflict[] = []): PlanBody {
  const conflicts: PlanConflict[] = [];
  const bySignature = new Map<string, PlanConflict>();
  const groups: PlanGroup[] = [];
  const idBefore = new Map(previous.map((c) => [conflictSignature(c.explanation, c.resolutions.map((r) => r.edit)), c.id]));
  let nextId = Math.max(0, ...previous.map((c) => Number(/^c(\d+)$/.exec(c.id)?.[1] ?? 0))) + 1;
  for (const g of solved) {
    let outcome: PlanGroup['outcome'];
    let findings: GroupFinding[] = [];
    if (g.outcome.kind === 'solution') {
      outcome = { kind: 'transaction', changes: g.outcome.changes };
      findings = [...evaluateGroupEnvironment(g, g.outcome.changes, rules), ...(g.outcome.shortfalls ?? [])];
    } else {
      const sig = conflictSignature(g.outcome.explanation, g.outcome.resolutions.map((r) => r.edit));
      let c = bySignature.get(sig);
      if (!c) {
        c = {
          id: idBefore.get(sig) ?? `c${nextId++}`, groups: [], hosts: 0, explanation: g.outcome.explanation,
          resolutions: g.outcome.resolutions.map((r, i): PlanResolution => ({ id: `r${i + 1}`, edit: r.edit, requests: {}, preview: r.changes })),
        };
        bySignature.set(sig, c);
        conflicts.push(c);
      }
      c.groups.push(g.key);
      c.hosts += g.hosts.length;
      g.outcome.resolutions.forEach((r, i) => {
        c.resolutions[i]!.requests[g.key] = r.request;
      });
      outcome = { kind: 'conflict', conflict: c.id };
    }
    groups.push({ key: g.key, hosts: g.hosts, facts: g.facts, installed: g.installed, request: g.request, choices: g.choices, outcome, findings });
  }
  conflicts.sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
  // functional requirements across hosts: on the state every group is left in
  const functional = checkFunctionalRequirements(
    groups.map((g) => ({ key: g.key, hosts: g.hosts, installed: g.installed, ...(g.outcome.kind === 'transaction' ? { changes: g.outcome.changes } : {}) })),
    rules.functional ?? [],
  );
  for (const g of groups) {
    const more = functional.findings.get(g.key);
    if (more) g.findings.push(...more);
    const order = functional.ordering.get(g.key);
    if (order) g.ordering = order;
  }
  const summary = summarise(groups, conflicts, fleetFindings);
  return { status: conflicts.length > 0 ? 'needs-review' : 'ready', summary, groups, conflicts, fleetFindings };
}

export function summarise(groups: PlanGroup[], _conflicts: PlanConflict[], fleetFindings: FleetFinding[]): PlanSummary {
  const s: PlanSummary = {
    hosts: 0, groups: groups.length, groupsReady: 0, groupsInConflict: 0, hostsReady: 0, hostsInConflict: 0,
    changes: { install: 0, upgrade: 0, downgrade: 0, remove: 0 },
    findings: { requirementNotMet: 0, requirementUnknown: 0, knownIssue: 0, heldBack: 0, resolvedLess: 0, unreachable: fleetFindings.filter((f) => f.kind === 'unreachable').length },
  };
  for (const g of groups) {
    const n = g.hosts.length;
    s.hosts += n;
    if (g.outcome.kind === 'transaction') {
      s.groupsReady++;
      s.hostsReady += n;
      for (const c of g.outcome.changes) s.changes[c.action === 'purge' ? 'remove' : c.action] += n;
    } else {
      s.groupsInConflict++;
      s.hostsInConflict += n;
    }
    const kinds = new Set(g.findings.map((f) => f.kind));
    if (kinds.has('requirement-not-met')) s.findings.requirementNotMet += n;
    if (kinds.has('requirement-unknown')) s.findings.requirementUnknown += n;
    if (kinds.has('known-issue')) s.findings.knownIssue += n;
    if (kinds.has('held-back')) s.findings.heldBack += n;
    if (kinds.has('resolved-less')) s.findings.resolvedLess = (s.findings.resolvedLess ?? 0) + n;
  }
  return s;
}

/** Plans a request over a fleet: every group solved once, every conflict found in this one pass. */
export function planDeployment(input: PlanDeploymentInput): PlanBody {
  const unknown = input.solver.unknownPackages(input.request);
  if (unknown.length > 0) {
    throw new RollwiseError('RW_UNKNOWN_PACKAGE', `unknown package${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, { hint: 'no layer of the knowledge base (--kb, --index) has it; check the spelling' });
  }
  const missing = input.solver.unknownVersions?.(input.request) ?? [];
  if (missing.length > 0) {
    const m = missing[0]!;
    throw new RollwiseError('RW_UNKNOWN_PACKAGE', `no version ${m.version} of ${m.name} in any layer${missing.length > 1 ? ` (and ${missing.length - 1} more requested versions)` : ''}`, {
      hint: m.available.length ? `available: ${m.available.slice(0, 6).join(', ')}${m.available.length > 6 ? ', ...' : ''}` : 'check the version',
    });
  }
  if (input.fleet.hosts.length === 0) throw new RollwiseError('RW_INVENTORY', 'the fleet has no reachable host', { hint: 'check the inventory and the SSH findings (rollwise fleet show)' });
  const groups = groupHosts(input.fleet.hosts, factsReadByRules(input.rules));
  const solved: SolvedGroup[] = [];
  let done = 0;
  for (const g of groups) {
    const outcome = input.solver.solveGroup({ key: g.key, installed: g.installed, facts: g.facts, request: input.request });
    solved.push({ key: g.key, hosts: g.hosts, facts: g.facts, installed: g.installed, request: input.request, choices: [], outcome });
    input.onProgress?.(++done, groups.length);
  }
  return assemble(solved, input.rules, input.fleet.findings);
}

export interface ResolutionChoice {
  conflict: string;
  resolution: string;
}

/** Parses `CONFLICT=RESOLUTION` (e.g. `c1=r2`). */
export function parseChoice(text: string): ResolutionChoice {
  const m = /^\s*([A-Za-z0-9_-]+)\s*=\s*([A-Za-z0-9_-]+)\s*$/.exec(text);
  if (!m) throw new RollwiseError('RW_USAGE', `cannot read choice '${excerpt(text)}'`, { hint: 'write CONFLICT=RESOLUTION, e.g. c1=r2 (see rollwise plan show)' });
  return { conflict: m[1]!, resolution: m[2]! };
}

/** Checks the choices against the plan's conflicts (every problem is bad input, RW_USAGE). */
export function validateChoices(plan: Plan, choices: readonly ResolutionChoice[]): Map<string, { conflict: PlanConflict; resolution: PlanResolution }> {
  if (choices.length === 0) throw new RollwiseError('RW_USAGE', 'no resolution chosen', { hint: 'give --choose CONFLICT=RESOLUTION or --file' });
  const chosen = new Map<string, { conflict: PlanConflict; resolution: PlanResolution }>();
  for (const ch of choices) {
    const c = plan.conflicts.find((x) => x.id === ch.conflict);
    if (!c) {
      const ids = plan.conflicts.map((x) => x.id).join(', ') || 'none';
      throw new RollwiseError('RW_USAGE', `plan ${plan.id} v${plan.version} has no conflict '${ch.conflict}'`, { hint: `its conflicts: ${ids}` });
    }
    const r = c.resolutions.find((x) => x.id === ch.resolution);
    if (!r) {
      throw new RollwiseError('RW_USAGE', `conflict ${c.id} has no resolution '${ch.resolution}'`, { hint: c.resolutions.length ? `choose one of ${c.resolutions.map((x) => x.id).join(', ')}` : 'this conflict has no verified resolution; change the request' });
    }
    if (chosen.has(c.id)) throw new RollwiseError('RW_USAGE', `conflict ${c.id} chosen twice`, { hint: 'choose one resolution per conflict' });
    chosen.set(c.id, { conflict: c, resolution: r });
  }
  return chosen;
}

/**
 * The next version's body: each chosen resolution's edited request replaces the request of the
 * groups in that conflict, and those groups are solved again; other groups keep their outcome.
 */
export function resolvePlan(plan: Plan, choices: readonly ResolutionChoice[], solver: GroupSolver, rules: EnvironmentRules, onProgress?: (done: number, total: number) => void): PlanBody {
  const chosen = validateChoices(plan, choices);
  const conflictsById = new Map(plan.conflicts.map((c) => [c.id, c]));
  const affected = plan.groups.filter((g) => g.outcome.kind === 'conflict' && chosen.has(g.outcome.conflict));
  let done = 0;
  const solved: SolvedGroup[] = plan.groups.map((g) => {
    const base = { key: g.key, hosts: g.hosts, facts: g.facts, installed: g.installed };
    if (g.outcome.kind === 'transaction') {
      const shortfalls = g.findings.filter((f): f is ShortfallFinding => f.kind === 'held-back' || f.kind === 'resolved-less');
      return { ...base, request: g.request, choices: g.choices, outcome: { kind: 'solution', changes: g.outcome.changes, shortfalls } };
    }
    const c = conflictsById.get(g.outcome.conflict)!;
    const pick = chosen.get(c.id);
    if (!pick) {
      return {
        ...base, request: g.request, choices: g.choices,
        outcome: { kind: 'conflict', explanation: c.explanation, resolutions: c.resolutions.filter((r) => r.requests[g.key]).map((r) => ({ edit: r.edit, request: r.requests[g.key]!, changes: r.preview })) },
      };
    }
    const request = pick.resolution.requests[g.key]!;
    const choice: AppliedChoice = { conflict: c.id, resolution: pick.resolution.id, edit: pick.resolution.edit, fromVersion: plan.version };
    const groupChoices = [...g.choices, choice];
    // measured against the plan's request too: a chosen resolution may do less than it asked
    const outcome = solver.solveGroup({ key: g.key, installed: g.installed, facts: g.facts, request, asked: plan.inputs.request, choices: groupChoices });
    onProgress?.(++done, affected.length);
    return { ...base, request, choices: groupChoices, outcome };
  });
  return assemble(solved, rules, plan.fleetFindings, plan.conflicts);
}
