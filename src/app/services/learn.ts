/**
 * The learn use cases: after a deployment ends, record its outcome in the deployment history
 * (per host group and package change, so a later plan's impact weighs it), find the culprit of a
 * rollback from the journal, the plan and its impact (src/learn, pure), and record the culprit
 * as a known issue in a learned knowledge-base layer, so the next plan made with that layer
 * flags the hosts it would hit.
 *
 * Which file: `--write FILE`, else the layer the operator configured (env ROLLWISE_LEARNED_KB);
 * without either nothing is written. The file is edited without losing anything it had (comments,
 * other entries; the same deployment's fact is replaced), checked by the knowledge-base loader,
 * written to a temporary file beside it (a dotfile, which a KB folder listing skips) and renamed
 * over it, so a reader sees the old file or the new one, never half of one.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isRollwiseError, RollwiseError } from '../../shared/index.js';
import { loadKnowledgeBase, type KbKnownIssue, type KbProblem } from '../../kb/index.js';
import type { HistoryStore } from '../../analysis/index.js';
import type { DeploymentRecord, DeploymentStore } from '../../deploy/index.js';
import type { PlanStore } from '../../planner/index.js';
import {
  addToLearnedLayer, analyseCulprit, conclusionLine, historyFromDeployment, learnedIssue, LearnedLayerProblem,
  type CulpritAnalysis, type CulpritInput, type CulpritReach, type HistoryRecord,
} from '../../learn/index.js';
import { findPlan } from './planning.js';
import { impactForStoredPlan } from './review.js';

export type LearnStore = PlanStore & DeploymentStore & Partial<HistoryStore>;

/** The environment variable naming the operator's learned layer file. */
export const LEARNED_KB_ENV = 'ROLLWISE_LEARNED_KB';

export interface Learned {
  analysis: CulpritAnalysis;
  /** The one-line conclusion. */
  conclusion: string;
  /** The known issue it teaches (none when it concludes nothing). */
  issue?: KbKnownIssue;
  /** The deployment's outcome as history entries, per group. */
  history: HistoryRecord[];
  /** Services the plan's changes reach, per group (the correlation's input). */
  reach: CulpritReach[];
}

/** The inputs of the analysis for a stored deployment: its journal, its plan's groups, the plan's impact (reach). */
async function culpritInput(store: LearnStore, d: DeploymentRecord, withReach: boolean): Promise<{ input: CulpritInput; planKb: readonly string[] }> {
  const plan = await findPlan(store, d.planId, d.planVersion);
  const journal = await store.readJournal(d.id);
  // the impact recorded with the plan (or predicted again from its knowledge base: only when there is a failure to correlate)
  const impact = withReach ? (await impactForStoredPlan(store, plan)).impact : undefined;
  const reach: CulpritReach[] = (impact?.groups ?? []).flatMap((g) => g.reach.map((r) => ({
    group: g.group, service: r.service, ...(r.criticality ? { criticality: r.criticality } : {}), packages: [...new Set(r.paths.map((p) => p.from))].sort(),
  })));
  const groups = plan.groups.map((g) => ({ key: g.key, hosts: g.hosts, installed: g.installed, changes: g.outcome.kind === 'transaction' ? g.outcome.changes : [] }));
  return {
    input: { deployment: { id: d.id, status: d.status, updatedAt: d.updatedAt, planId: d.planId, planVersion: d.planVersion, spec: d.spec }, journal, groups, ...(impact ? { reach } : {}) },
    planKb: plan.inputs.kb,
  };
}

/**
 * Analyses a stored deployment (finished or not: an unfinished one concludes from what its journal
 * holds so far). A fault of the analysis itself is an RW_LEARN error naming the deployment, never a
 * bare exception: nothing is recorded then, and the deployment is as it was.
 */
export async function learnFromDeployment(store: LearnStore, d: DeploymentRecord, options: { reach?: boolean } = {}): Promise<Learned & { planKb: readonly string[] }> {
  const { input, planKb } = await culpritInput(store, d, options.reach ?? true);
  try {
    const analysis = analyseCulprit(input);
    const issue = learnedIssue(analysis, input.reach);
    return { analysis, conclusion: conclusionLine(analysis), ...(issue ? { issue } : {}), history: historyFromDeployment(input, analysis), reach: [...(input.reach ?? [])], planKb };
  } catch (e) {
    if (isRollwiseError(e)) throw e;
    throw new RollwiseError('RW_LEARN', `the analysis of deployment ${d.id} failed: ${e instanceof Error ? e.message : String(e)}`, {
      hint: `nothing was recorded and the deployment is as it was; rollwise deploy log ${d.id} shows its decisions and evidence (report this with rollwise deploy log ${d.id} --json)`,
      exitCode: 1, cause: e,
    });
  }
}

/** Adds a deployment's history entries to the store (again: nothing added); a store without history adds nothing. */
export async function recordHistory(store: Partial<HistoryStore>, records: readonly HistoryRecord[]): Promise<{ added: number; already: number }> {
  let added = 0;
  let already = 0;
  if (!store.addHistory) return { added, already };
  for (const r of records) {
    const x = await store.addHistory(r.entries, r.source);
    added += x.added;
    already += x.already;
  }
  return { added, already };
}

/** The learned layer to write: the one given, else the operator's (ROLLWISE_LEARNED_KB); undefined: none configured. */
export function learnedLayerFile(given?: string): string | undefined {
  const f = given ?? process.env[LEARNED_KB_ENV];
  return f && f.trim() !== '' ? path.resolve(f) : undefined;
}

/** Problems that matter for one layer file read alone (names defined in other layers are checked when all load together). */
function ownProblems(problems: readonly KbProblem[]): KbProblem[] {
  return problems.filter((p) => p.severity === 'error' && p.code !== 'RW_KB_UNDEFINED_SERVICE' && p.code !== 'RW_KB_UNDEFINED_PACKAGE');
}

async function checkLayerFile(file: string, what: string, shownAs: string): Promise<void> {
  const kb = await loadKnowledgeBase([file]);
  const bad = ownProblems(kb.problems);
  if (bad.length === 0) return;
  const p = bad[0]!;
  throw new RollwiseError('RW_LEARN', `${what} has ${bad.length} problem${bad.length === 1 ? '' : 's'}; first: ${p.code} ${p.message}`, {
    ...(p.line !== undefined ? { position: { file: shownAs, line: p.line, column: p.column ?? 1 } } : {}),
    hint: `rollwise kb validate ${shownAs} lists them; nothing was written`,
  });
}

export interface LayerWrite {
  file: string;
  added: string[];
  replaced: string[];
}

/** Records known issues in a learned layer file: merged, checked, written atomically (see the header). */
export async function writeLearnedLayer(file: string, issues: readonly KbKnownIssue[], header: { date: string; source: string }): Promise<LayerWrite> {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  if (!existsSync(dir)) throw new RollwiseError('RW_IO', `the folder of ${file} does not exist`, { hint: 'create it, or give --write a file in an existing folder (your knowledge base\'s, e.g. kb/learned.yaml)' });
  let existing: string | undefined;
  if (existsSync(target)) {
    try {
      existing = readFileSync(target, 'utf8');
    } catch (e) {
      throw new RollwiseError('RW_IO', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'give a learned layer file this user can read and write' });
    }
    if (existing.trim() !== '') await checkLayerFile(target, file, file);
  }
  let edit;
  try {
    edit = addToLearnedLayer(existing, issues, header);
  } catch (e) {
    if (!(e instanceof LearnedLayerProblem)) throw e;
    throw new RollwiseError('RW_LEARN', `${file} cannot take learned facts: ${e.message}`, {
      position: { file, line: e.line ?? 1, column: e.column ?? 1 },
      hint: e.kind === 'not-learned' ? 'give a file of a layer with trust: learned (a new file gets one), not a layer people maintain' : 'give a knowledge-base layer file (apiVersion, kind: KnowledgeBase, layer:) or a new file',
    });
  }
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, edit.text, { flag: 'wx' });
    await checkLayerFile(tmp, `the edited ${file}`, file);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { file: target, added: edit.added, replaced: edit.replaced };
}

/** Whether a file is among (or inside a folder among) a plan's knowledge-base paths: the next plan with the same --kb reads it. */
export function inKnowledgeBase(file: string, kbPaths: readonly string[]): boolean {
  const f = path.resolve(file);
  return kbPaths.some((k) => {
    const p = path.resolve(k);
    return f === p || f.startsWith(p + path.sep);
  });
}

export interface AfterDeployment {
  history: { added: number; already: number };
  /** Set after an automatic rollback. */
  learned?: Learned;
  written?: LayerWrite;
}

/**
 * What the deployment service does when a deployment ends: its outcome into the history; after an
 * automatic rollback, the culprit analysis, and the learned fact into the configured layer.
 */
export async function afterDeployment(store: LearnStore, d: DeploymentRecord, options: { learnedKb?: string } = {}): Promise<AfterDeployment> {
  const failed = d.status === 'rolled-back' || d.status === 'needs-attention';
  const learned = await learnFromDeployment(store, d, { reach: failed });
  const history = await recordHistory(store, learned.history);
  if (!failed) return { history };
  const file = learnedLayerFile(options.learnedKb);
  if (!file || !learned.issue) return { history, learned };
  const written = await writeLearnedLayer(file, [learned.issue], { date: d.updatedAt.slice(0, 10), source: `rollwise learn (deployment ${d.id})` });
  return { history, learned, written };
}
