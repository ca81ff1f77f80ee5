/**
 * What a reviewer needs besides the plan: its predicted impact (src/analysis, stored with the
 * plan version as a record), the approval gates (the plan's own, and a critical impact that no
 * successful rehearsal covers), and the deployment history the impact reads (a file today; the
 * deploy layer will record it in the store).
 */
import { readFileSync } from 'node:fs';
import { RollwiseError, excerpt } from '../../shared/index.js';
import { parseHistory, predictImpact, type DeploymentHistoryEntry, type HistoryProblem, type HistoryStore, type PlanImpact } from '../../analysis/index.js';
import {
  availabilityFromUniverse, createInstalledSetChecker, createRelationFacts, findingGates, installedFillRecords, planRollback, rehearseInModel, rollbackKnowledgeFromKb,
  type ApprovalGate, type GroupRollback, type ModelRehearsal, type Plan, type PlanStore, type RollbackFlag, type UndoDepth,
} from '../../planner/index.js';
import { createUniverseView } from '../../solver/index.js';
import { loadKnowledge, type Knowledge } from './knowledge.js';

function historyProblemText(p: HistoryProblem): string {
  const at = 'path' in p ? `entries[${p.path.join('].')}]`.replace('[]', '') : '';
  switch (p.kind) {
    case 'yaml-syntax': return `YAML syntax (${p.yamlCode})`;
    case 'yaml-aliases': return 'YAML aliases expand too much';
    case 'not-a-history': return 'not a deployment history: expected a list of entries, or `entries:` with one';
    case 'not-an-entry': return `${at}: expected an entry (a mapping)`;
    case 'unknown-key': return `${at}: unknown field '${excerpt(p.key)}'`;
    case 'missing-key': return `${at}: '${p.key}' is missing`;
    case 'invalid-value': return `${at}.${p.key}: expected ${p.expected.join(' | ')}`;
  }
}

/** Reads a deployment history file (YAML or JSON list of entries); every problem with file:line:column. */
export function loadHistoryFile(file: string): DeploymentHistoryEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RollwiseError('RW_IO', `cannot read the history file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'give a YAML or JSON file listing deployments (package, change, outcome, at)' });
  }
  const r = parseHistory(text, file);
  if (r.problems.length > 0) {
    const p = r.problems[0]!;
    throw new RollwiseError('RW_HISTORY', `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} in the history file; first: ${historyProblemText(p)}`, {
      position: p.position,
      hint: 'each entry has package, change (install|upgrade|downgrade|remove), outcome (succeeded|failed|rolled-back) and at (ISO 8601)',
    });
  }
  return r.entries;
}

/** The impact of a plan version over the knowledge base it was planned with. */
export function impactOf(plan: Plan, knowledge: Knowledge, history: readonly DeploymentHistoryEntry[] = []): PlanImpact {
  return predictImpact({ plan, kb: knowledge.kb, universe: knowledge.universe.universe, history });
}

export async function saveImpact(store: PlanStore, plan: Plan, impact: PlanImpact): Promise<void> {
  await store.addRecord(plan.id, plan.version, { kind: 'impact', createdAt: new Date().toISOString(), body: impact });
}

/** The latest impact recorded for a version; undefined when none was (a plan stored before impacts). */
export async function storedImpact(store: PlanStore, plan: Plan): Promise<PlanImpact | undefined> {
  const records = await store.getRecords(plan.id, plan.version, 'impact');
  return records.at(-1)?.body as PlanImpact | undefined;
}

/** A rehearsal's outcome as the approval gate reads it (the deploy layer's report keeps the rest). */
export interface RehearsalSummary {
  /** `model` or the staging host's name. */
  where: string;
  ok: boolean;
  at: string;
}

export async function storedRehearsals(store: PlanStore, plan: Plan): Promise<RehearsalSummary[]> {
  return (await store.getRecords(plan.id, plan.version, 'rehearsal')).map((r) => r.body as RehearsalSummary);
}

/**
 * Every gate of a version: the plan's own (critical requirements not met across hosts), and
 * `rehearsal` when its impact is critical somewhere and no rehearsal of this version succeeded.
 */
export function approvalGates(plan: Plan, impact: PlanImpact | undefined, rehearsals: readonly RehearsalSummary[], rollbacks: readonly PlanRollback[] = []): ApprovalGate[] {
  const gates = findingGates(plan);
  // what the rollback cannot undo and says a person must accept by name (an irreversible migration)
  const risks = new Map<string, ApprovalGate>();
  for (const r of rollbacks) {
    for (const s of r.rollback.forwardSafeguards) {
      if (s.kind !== 'approval') continue;
      const flag = r.rollback.flags.find((f) => f.id === s.flag);
      const gate = risks.get(s.flag) ?? { name: s.flag, kind: 'risk-approval' as const, groups: [], detail: flag ? describeFlagShort(flag) : s.risk };
      gate.groups.push(r.group);
      risks.set(s.flag, gate);
    }
  }
  gates.push(...risks.values());
  // only a rehearsal on a staging host counts: the model's proves the plan's logic, not the packages
  if (impact && !rehearsals.some((r) => r.ok && r.where !== 'model')) {
    const critical = impact.groups.filter((g) => Object.values(g.risk).some((r) => r.level === 'critical'));
    if (critical.length > 0) {
      const kinds = [...new Set(critical.flatMap((g) => Object.entries(g.risk).filter(([, r]) => r.level === 'critical').map(([k]) => k)))];
      gates.push({
        name: 'rehearsal', kind: 'unrehearsed-critical-impact', groups: critical.map((g) => g.group),
        detail: `critical ${kinds.join('/')} risk on ${critical.length} group${critical.length === 1 ? '' : 's'} and no successful rehearsal of this version on a staging host (rollwise rehearse ${plan.id} --on ROOT)`,
      });
    }
  }
  return gates;
}

/** The gates `plan approve` checks for a stored version: its recorded impact, rehearsals and rollback plans. */
export async function approvalGatesOfStoredPlan(store: PlanStore & Partial<HistoryStore>, plan: Plan): Promise<ApprovalGate[]> {
  return approvalGates(plan, await storedImpact(store, plan), await storedRehearsals(store, plan), await rollbacksOfStoredPlan(store, plan));
}

/** The knowledge base a stored plan was made with (its recorded kb paths and indexes). */
export async function knowledgeOfPlan(plan: Plan): Promise<Knowledge> {
  return loadKnowledge({ kb: plan.inputs.kb, indexes: plan.inputs.indexes, allowOutsidePaths: true });
}

/**
 * The impact of a stored version: the one recorded with it, or (a plan stored before impacts
 * were, or `history` given) predicted now from the knowledge base it was made with.
 */
export async function impactForStoredPlan(store: PlanStore & Partial<HistoryStore>, plan: Plan, history?: readonly DeploymentHistoryEntry[]): Promise<{ impact: PlanImpact; recorded: boolean }> {
  const stored = history === undefined ? await storedImpact(store, plan) : undefined;
  if (stored) return { impact: stored, recorded: true };
  return { impact: impactOf(plan, await knowledgeOfPlan(plan), [...(store.getHistory ? await store.getHistory() : []), ...(history ?? [])]), recorded: false };
}

/** What a group's rollback does with each change, from its predicted impact: critical undone completely, moderate by a downgrade, low left in place when the policy allows. */
export function undoDepthsFromImpact(impact: PlanImpact | undefined, groupKey: string, changes: readonly { name: string }[]): Record<string, UndoDepth> {
  const g = impact?.groups.find((x) => x.group === groupKey);
  if (!g) return {};
  const levels = Object.values(g.risk).map((r) => r.level);
  const depth: UndoDepth = levels.includes('critical') ? 'complete' : levels.includes('moderate') ? 'downgrade' : 'leave';
  return Object.fromEntries(changes.map((c) => [c.name, depth]));
}

/** What rollback planning and the model rehearsal check against: the plan's universe (installed versions filled in), the resolver's consistency check, package relations, the KB's rollback facts. */
async function rollbackOracles(plan: Plan, knowledge: Knowledge) {
  const universe = await knowledge.universe.withFill(installedFillRecords(plan.groups.map((g) => g.installed), []));
  return {
    universe,
    check: createInstalledSetChecker(universe, { set: createUniverseView(universe) }),
    relations: createRelationFacts(universe),
    facts: rollbackKnowledgeFromKb(knowledge.kb),
  };
}

export interface PlanRollback {
  group: string;
  hosts: string[];
  rollback: GroupRollback;
}

/**
 * The rollback plan of every group that changes, over the knowledge base the plan was made with:
 * each intermediate installed set checked against the same universe (src/solver/consistency.ts, incrementally: what the step changed).
 */
export async function rollbackForPlan(plan: Plan, knowledge: Knowledge, options: { impact?: PlanImpact; allowLeave?: boolean; groups?: readonly string[]; onProgress?: (text: string) => void } = {}): Promise<PlanRollback[]> {
  const groups = plan.groups.filter((g) => g.outcome.kind === 'transaction' && g.outcome.changes.length > 0 && (!options.groups || options.groups.includes(g.key)));
  const { universe, check, relations, facts } = await rollbackOracles(plan, knowledge);
  const availability = availabilityFromUniverse(universe);
  return groups.map((g, i) => {
    options.onProgress?.(`rollback plans ${i + 1}/${groups.length}`);
    const changes = g.outcome.kind === 'transaction' ? g.outcome.changes : [];
    const rollback = planRollback({
      group: { key: g.key, installed: g.installed, changes }, knowledge: facts, check, relations, availability,
      undoDepth: undoDepthsFromImpact(options.impact, g.key, changes), allowLeave: options.allowLeave === true,
      foreignArchs: universe.foreignArchs,
    });
    return { group: g.key, hosts: g.hosts, rollback };
  });
}

export interface ModelRehearsalResult {
  group: string;
  hosts: string[];
  rehearsal: ModelRehearsal;
}

/** Forward plan then rollback plan, in the model of each group: every intermediate state checked, the end compared with the start. */
export async function rehearseInModelForPlan(plan: Plan, knowledge: Knowledge, rollbacks: readonly PlanRollback[]): Promise<ModelRehearsalResult[]> {
  const { check, relations, facts } = await rollbackOracles(plan, knowledge);
  return rollbacks.map((r) => {
    const g = plan.groups.find((x) => x.key === r.group)!;
    const forward = g.outcome.kind === 'transaction' ? g.outcome.changes : [];
    return { group: r.group, hosts: r.hosts, rehearsal: rehearseInModel({ rollback: r.rollback, forward, knowledge: facts, check, relations }) };
  });
}

function describeFlagShort(f: RollbackFlag): string {
  if (f.kind === 'irreversible-migration') return `migration ${f.migration} on ${f.database} cannot be undone (${f.cause === 'marked-irreversible' ? 'declared irreversible' : 'no down script'}); the rollback restores the backup and loses writes made since`;
  return f.kind;
}

export async function saveRollbacks(store: PlanStore, plan: Plan, rollbacks: readonly PlanRollback[]): Promise<void> {
  await store.addRecord(plan.id, plan.version, { kind: 'rollback', createdAt: new Date().toISOString(), body: rollbacks });
}

/** The rollback plans recorded with a version; undefined for a version stored before they were. */
export async function storedRollbacks(store: PlanStore, plan: Plan): Promise<PlanRollback[] | undefined> {
  const records = await store.getRecords(plan.id, plan.version, 'rollback');
  return records.at(-1)?.body as PlanRollback[] | undefined;
}

/** What is computed and recorded with every plan version: its impact and its groups' rollback plans. */
export interface PlanAnalysis {
  impact: PlanImpact;
  rollbacks: PlanRollback[];
}

/**
 * Impact and the rollback plan of every changing group, with every plan: the consistency checks
 * of rollback ordering are incremental (bench:rollback: impact + rollback planning of the
 * 10,000-host, 195-group plan about +45 % of plan time).
 */
export async function analysePlan(plan: Plan, knowledge: Knowledge, history: readonly DeploymentHistoryEntry[] = [], onProgress?: (text: string) => void): Promise<PlanAnalysis> {
  onProgress?.('predicting the impact…');
  const impact = impactOf(plan, knowledge, history);
  const rollbacks = await rollbackForPlan(plan, knowledge, { impact, ...(onProgress ? { onProgress } : {}) });
  return { impact, rollbacks };
}

/** Records the analysis with a stored version (after savePlan). */
export async function saveAnalysis(store: PlanStore, plan: Plan, analysis: PlanAnalysis): Promise<void> {
  await saveImpact(store, plan, analysis.impact);
  await saveRollbacks(store, plan, analysis.rollbacks);
}

/** The rollback plans of a stored version: recorded with it, or computed now from the knowledge base it was made with. */
export async function rollbacksOfStoredPlan(store: PlanStore & Partial<HistoryStore>, plan: Plan): Promise<PlanRollback[]> {
  const stored = await storedRollbacks(store, plan);
  if (stored) return stored;
  if (!plan.groups.some((g) => g.outcome.kind === 'transaction' && g.outcome.changes.length > 0)) return [];
  return rollbackForPlan(plan, await knowledgeOfPlan(plan), { impact: (await impactForStoredPlan(store, plan)).impact });
}
