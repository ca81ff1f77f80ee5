/**
 * planDeployment: one pass over the fleet's host groups: solve each group once, cluster the
 * conflicts that groups share, evaluate the environment rules, summarise. resolvePlan: apply the
 * operator's chosen resolutions (edits to the request of the groups concerned) and re-solve those
 * groups, giving the body of the next plan version. Pure: the solver is passed in, nothing is stored.
 */
import { RollwiseError, didYouMean, excerpt } from '../shared/index.js';
import {
  groupHosts, evaluateCondition, factsFromValues,
  type Fleet, type FleetFinding, type HostGroup, type InstalledPackage, type FactName,
} from '../fleet/index.js';
import type { PackageChange, RequestItem } from '../solver/index.js';
import { requestItemPosition, type PlanRequest } from './request.js';

import { factsReadByRules, type EnvironmentRules } from './rules.js';
import { checkFunctionalRequirements, type FunctionalGroup, type FunctionalUnmet } from './functional.js';
import { runSolvesAsync, runSolvesSync, solveGroupsShared, type SharedSolveStats } from './shared-solves.js';
import type { GroupSolvePool } from './solve-pool.js';
import { applyPackageChanges } from './rollback-order.js';
import type {
  AppliedChoice, EnvFinding, GroupFinding, Plan, PlanConflict, PlanExplanation, PlanGroup, PlanResolution, PlanResolutionEdit, PlanSummary, PlanStatus,
  ShortfallFinding,
} from './model.js';

export type { GroupSolveInput, SolvedResolution, GroupSolveOutcome, GroupSolver } from './group-solver.js';
import type { GroupSolveOutcome, GroupSolver } from './group-solver.js';

export type PlanBody = Pick<Plan, 'summary' | 'groups' | 'conflicts' | 'fleetFindings'> & { status: PlanStatus };

export interface PlanDeploymentInput {
  fleet: Fleet;
  request: PlanRequest;
  solver: GroupSolver;
  rules: EnvironmentRules;
  onProgress?: (done: number, total: number) => void;
  /** How the solves were shared (shared-solves.ts), once they are done. */
  onSolveStats?: (stats: SharedSolveStats) => void;
  /** Said about the request before solving (a hold of a package no host has installed). */
  onWarning?: (message: string) => void;
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
function assemble(solved: SolvedGroup[], rules: EnvironmentRules, fleetFindings: FleetFinding[], solver: GroupSolver, previous: readonly PlanConflict[] = []): PlanBody {
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
    groups.push({ key: g.key, hosts: g.hosts, facts: g.facts, installed: g.installed, ...(g.apt ? { apt: g.apt } : {}), request: g.request, choices: g.choices, outcome, findings });
  }
  // functional requirements across hosts: on the state every group is left in
  const functional = checkFunctionalRequirements(groups.map((g) => functionalGroup(g)), rules.functional ?? []);
  for (const g of groups) {
    const more = functional.findings.get(g.key);
    if (more) g.findings.push(...more);
    const order = functional.ordering.get(g.key);
    if (order) g.ordering = order;
  }
  // an unmet one is a conflict of the groups that need it, with resolutions verified on every group
  const verified = functional.unmet.map((u) => ({ u, resolutions: functionalResolutions(u, groups, solver) }));
  const byKey = new Map(groups.map((g) => [g.key, g]));
  for (const { u, resolutions } of verified) {
    const explanation: PlanExplanation = { facts: [u.fact], minimal: true };
    const sig = conflictSignature(explanation, resolutions.map((r) => r.edit));
    const c: PlanConflict = { id: idBefore.get(sig) ?? `c${nextId++}`, groups: [], hosts: 0, explanation, resolutions: resolutions.map((r, i) => ({ ...r, id: `r${i + 1}` })) };
    for (const r of u.fact.requiring) {
      const g = byKey.get(r.group)!;
      c.groups.push(g.key);
      c.hosts += g.hosts.length;
      // the group's own solve is kept with the conflict: a later version solves it again only when a choice edits it
      if (g.outcome.kind === 'transaction') g.outcome = { kind: 'conflict', conflict: c.id, changes: g.outcome.changes };
    }
    conflicts.push(c);
  }
  conflicts.sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
  const summary = summarise(groups, conflicts, fleetFindings);
  return { status: conflicts.length > 0 ? 'needs-review' : 'ready', summary, groups, conflicts, fleetFindings };
}

/** What the functional check reads of a group: its changes when it has a transaction (or one held by a conflict across hosts). */
function functionalGroup(g: Pick<PlanGroup, 'key' | 'hosts' | 'installed' | 'outcome'>, changes = changesOf(g)): FunctionalGroup {
  return { key: g.key, hosts: g.hosts, installed: g.installed, ...(changes ? { changes } : {}) };
}

function changesOf(g: Pick<PlanGroup, 'outcome'>): PackageChange[] | undefined {
  return g.outcome.kind === 'transaction' ? g.outcome.changes : g.outcome.changes;
}

/** The request item that brings `rule`'s required package up to the rule on a group: the alternative the group runs (else the first). */
function requiredItem(u: FunctionalUnmet, installed?: { name: string }): RequestItem {
  const atom = u.rule.requires.find((a) => a.name === installed?.name) ?? u.rule.requires[0]!;
  return { kind: 'install', name: atom.name, ...(atom.archQualifier ? { archQualifier: atom.archQualifier } : {}), ...(atom.op ? { op: atom.op, version: atom.version! } : {}) };
}

/**
 * The resolutions of an unmet requirement across hosts, each verified like the solver's: every
 * group it edits solved again with success, then the requirement checked again on the state all
 * groups are left in (met, at most as an ordering constraint).
 * - upgrade first: the groups running the required package that fall short get it at a version
 *   that meets the rule (added to their request);
 * - hold: the requiring groups skip the request items naming the requiring package (or, when
 *   none does, hold it at its installed version).
 */
function functionalResolutions(u: FunctionalUnmet, groups: readonly PlanGroup[], solver: GroupSolver): Array<Omit<PlanResolution, 'id'>> {
  const byKey = new Map(groups.map((g) => [g.key, g]));
  const out: Array<Omit<PlanResolution, 'id'>> = [];
  const attempt = (edits: ReadonlyMap<string, PlanRequest>): { requests: Record<string, PlanRequest>; preview: PackageChange[] } | undefined => {
    const changed = new Map<string, PackageChange[]>();
    for (const [key, request] of edits) {
      const g = byKey.get(key)!;
      const r = solver.solveGroup({ key, installed: g.installed, facts: g.facts, ...(g.apt ? { apt: g.apt } : {}), request });
      if (r.kind !== 'solution') return undefined;
      changed.set(key, r.changes);
    }
    const again = checkFunctionalRequirements(groups.map((g) => functionalGroup(g, changed.get(g.key) ?? changesOf(g))), [u.rule]);
    if (again.unmet.length > 0) return undefined;
    return { requests: Object.fromEntries(edits), preview: changed.values().next().value ?? [] };
  };
  const short = u.fact.short.map((s) => ({ s, g: byKey.get(s.group)! }));
  const upgrades = new Map(short.map(({ s, g }) => [g.key, { items: [...g.request.items, requiredItem(u, s.installed)] }]));
  const up = attempt(upgrades);
  if (up) {
    out.push({
      edit: { kind: 'upgrade-first', rule: u.fact.rule, item: requiredItem(u, u.fact.short[0]?.installed), groups: [...upgrades.keys()], hosts: short.reduce((n, x) => n + x.g.hosts.length, 0) },
      ...up,
    });
  }
  const names = new Set(u.rule.package.map((a) => a.name));
  const requiring = u.fact.requiring.map((r) => byKey.get(r.group)!);
  const named = (item: RequestItem): boolean => 'name' in item && names.has(item.name) && (item.kind === 'install' || item.kind === 'upgrade');
  const skipped = requiring[0]?.request.items.find(named);
  const holds = new Map(requiring.map((g) => [g.key, g.request.items.some(named)
    ? { items: g.request.items.filter((i) => !named(i)) }
    : { items: [...g.request.items, { kind: 'hold' as const, name: u.rule.package[0]!.name }] }]));
  const held = attempt(holds);
  if (held) out.push({ edit: skipped ? { kind: 'skip', item: skipped } : { kind: 'hold', rule: u.fact.rule, name: u.rule.package[0]!.name }, ...held });
  return out;
}

export function summarise(groups: PlanGroup[], _conflicts: PlanConflict[], fleetFindings: FleetFinding[]): PlanSummary {
  const s: PlanSummary = {
    hosts: 0, groups: groups.length, groupsReady: 0, groupsInConflict: 0, hostsReady: 0, hostsInConflict: 0,
    changes: { install: 0, upgrade: 0, downgrade: 0, remove: 0 },
    findings: { requirementNotMet: 0, requirementUnknown: 0, knownIssue: 0, heldBack: 0, heldBackPackages: 0, resolvedLess: 0, unreachable: fleetFindings.filter((f) => f.kind === 'unreachable').length },
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
    s.findings.heldBackPackages = (s.findings.heldBackPackages ?? 0) + n * g.findings.filter((f) => f.kind === 'held-back').length;
    if (kinds.has('resolved-less')) s.findings.resolvedLess = (s.findings.resolvedLess ?? 0) + n;
  }
  return s;
}

/** Refuses a request naming what no layer has, and an empty fleet (before anything is solved). */
function checkPlanInput(input: PlanDeploymentInput): void {
  const unknown = input.solver.unknownPackages(input.request);
  if (unknown.length > 0) {
    const known = input.solver.knownNames?.() ?? [];
    const item = input.request.items.find((i) => 'name' in i && i.name === unknown[0]);
    const position = item ? requestItemPosition(item) : undefined;
    throw new RollwiseError('RW_UNKNOWN_PACKAGE', unknown.map((n) => `no package ${n}${didYouMean(n, known)}`).join('; '), { hint: 'no layer of the knowledge base (--kb, --index) has it; check the spelling', ...(position ? { position } : {}) });
  }
  // an exact pin is checked like an exact install: a version no layer has is bad input, not a conflict
  const exact = input.request.items.map((i) => (i.kind === 'pin' && i.op === '=' ? { ...i, kind: 'install' as const } : i));
  const missing = input.solver.unknownVersions?.({ items: exact }) ?? [];
  if (missing.length > 0) {
    const m = missing[0]!;
    const item = input.request.items.find((i) => 'name' in i && i.name === m.name && 'version' in i && i.version === m.version);
    const position = item ? requestItemPosition(item) : undefined;
    throw new RollwiseError('RW_UNKNOWN_PACKAGE', `no version ${m.version} of ${m.name} in any layer${item?.kind === 'pin' ? ' (pinned)' : ''}${missing.length > 1 ? ` (and ${missing.length - 1} more requested versions)` : ''}`, {
      hint: m.available.length ? `available: ${m.available.slice(0, 6).join(', ')}${m.available.length > 6 ? ', ...' : ''}` : 'check the version',
      ...(position ? { position } : {}),
    });
  }
  if (input.fleet.hosts.length === 0) throw new RollwiseError('RW_INVENTORY', 'the fleet has no reachable host', { hint: 'check the inventory and the SSH findings (rollwise fleet show)' });
  // a hold keeps the installed version; where nothing is installed it keeps the package off the host
  for (const item of input.request.items) {
    if (item.kind !== 'hold' || input.fleet.hosts.some((h) => h.installed.some((p) => p.name === item.name || `${p.name}:${p.architecture}` === item.name))) continue;
    input.onWarning?.(`hold ${item.name}: no host of the fleet has ${item.name} installed, so the hold keeps nothing; it only keeps ${item.name} from being installed`);
  }
}

function solvedGroups(groups: readonly HostGroup[], outcomes: readonly GroupSolveOutcome[], request: PlanRequest): SolvedGroup[] {
  return groups.map((g, i) => ({ key: g.key, hosts: g.hosts, facts: g.facts, installed: g.installed, ...(g.apt ? { apt: g.apt } : {}), request, choices: [], outcome: outcomes[i]! }));
}

/**
 * Plans a request over a fleet: every group solved once, every conflict found in this one pass.
 * Groups equal on what the request can touch share one solve (shared-solves.ts).
 */
export function planDeployment(input: PlanDeploymentInput): PlanBody {
  checkPlanInput(input);
  const groups = groupHosts(input.fleet.hosts, factsReadByRules(input.rules));
  let done = 0;
  let total = 0;
  const gen = solveGroupsShared(groups, input.request, input.solver, input.onSolveStats);
  // the total grows when groups the shared solve did not fit are solved on their own
  const outcomes = runSolvesSync(gen, (tasks) => {
    total += tasks.length;
    return tasks.map((t) => {
      const o = input.solver.solveGroup(t);
      input.onProgress?.(++done, total);
      return o;
    });
  });
  return assemble(solvedGroups(groups, outcomes, input.request), input.rules, input.fleet.findings, input.solver);
}

/** Batches smaller than this are solved on the main thread (starting workers costs more). */
const POOL_MIN_BATCH = 24;

/** planDeployment with the solves of large batches spread over a pool of worker threads (solve-pool.ts). */
export async function planDeploymentAsync(input: PlanDeploymentInput & { pool?: GroupSolvePool; poolMinBatch?: number }): Promise<PlanBody> {
  checkPlanInput(input);
  const groups = groupHosts(input.fleet.hosts, factsReadByRules(input.rules));
  const pool = input.pool;
  let before = 0;
  const gen = solveGroupsShared(groups, input.request, input.solver, input.onSolveStats);
  const outcomes = await runSolvesAsync(gen, async (tasks) => {
    const base = before;
    before += tasks.length;
    if (pool && pool.threads > 1 && tasks.length >= (input.poolMinBatch ?? POOL_MIN_BATCH)) return pool.solveMany(tasks, (d) => input.onProgress?.(base + d, before));
    return tasks.map((t, k) => {
      const o = input.solver.solveGroup(t);
      input.onProgress?.(base + k + 1, before);
      return o;
    });
  });
  return assemble(solvedGroups(groups, outcomes, input.request), input.rules, input.fleet.findings, input.solver);
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
 * groups it names (the conflict's groups; for a conflict across hosts maybe others: the groups
 * running the required package), and those groups are solved again. Other groups keep their
 * outcome; a group held by a conflict across hosts goes back to its own solve, and the
 * requirement is checked again on the new state (so it is gone, an ordering constraint, or the
 * same conflict again when nothing chosen changed it).
 */
export function resolvePlan(plan: Plan, choices: readonly ResolutionChoice[], solver: GroupSolver, rules: EnvironmentRules, onProgress?: (done: number, total: number) => void): PlanBody {
  const chosen = validateChoices(plan, choices);
  const conflictsById = new Map(plan.conflicts.map((c) => [c.id, c]));
  // the group each chosen resolution edits, at most one choice per group
  const edits = new Map<string, { conflict: PlanConflict; resolution: PlanResolution }>();
  for (const pick of chosen.values()) {
    for (const key of Object.keys(pick.resolution.requests)) {
      const other = edits.get(key);
      if (other) {
        throw new RollwiseError('RW_USAGE', `${other.conflict.id}=${other.resolution.id} and ${pick.conflict.id}=${pick.resolution.id} both edit the request of group ${key}`, {
          hint: `choose one of them, resolve, then review the next version (rollwise plan resolve ${plan.id} --choose ${other.conflict.id}=${other.resolution.id})`,
        });
      }
      edits.set(key, pick);
    }
  }
  const affected = plan.groups.filter((g) => edits.has(g.key));
  let done = 0;
  const solved: SolvedGroup[] = plan.groups.map((g) => {
    const base = { key: g.key, hosts: g.hosts, facts: g.facts, installed: g.installed, ...(g.apt ? { apt: g.apt } : {}) };
    const pick = edits.get(g.key);
    if (!pick) {
      const o = g.outcome;
      if (o.kind === 'transaction' || o.changes) {
        const shortfalls = g.findings.filter((f): f is ShortfallFinding => f.kind === 'held-back' || f.kind === 'resolved-less');
        return { ...base, request: g.request, choices: g.choices, outcome: { kind: 'solution', changes: o.changes ?? [], shortfalls } };
      }
      const c = conflictsById.get(o.conflict)!;
      return {
        ...base, request: g.request, choices: g.choices,
        outcome: { kind: 'conflict', explanation: c.explanation, resolutions: c.resolutions.filter((r) => r.requests[g.key]).map((r) => ({ edit: r.edit, request: r.requests[g.key]!, changes: r.preview })) },
      };
    }
    const request = pick.resolution.requests[g.key]!;
    const choice: AppliedChoice = { conflict: pick.conflict.id, resolution: pick.resolution.id, edit: pick.resolution.edit, fromVersion: plan.version };
    const groupChoices = [...g.choices, choice];
    // measured against the plan's request too: a chosen resolution may do less than it asked
    const outcome = solver.solveGroup({ key: g.key, installed: g.installed, facts: g.facts, ...(g.apt ? { apt: g.apt } : {}), request, asked: plan.inputs.request, choices: groupChoices });
    onProgress?.(++done, affected.length);
    return { ...base, request, choices: groupChoices, outcome };
  });
  return assemble(solved, rules, plan.fleetFindings, solver, plan.conflicts);
}
