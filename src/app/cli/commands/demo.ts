/**
 * `rollwise demo`: the main job on embedded defaults: load the example knowledge base and the
 * Debian 12 index, print what they hold, then plan shopfront 2.0.0 on the example fleet and
 * store the plan for review with its predicted impact; show the impact and the rollback plan of
 * one group, and (with dpkg and apt, as root) rehearse that group's transaction and rollback on a
 * staging root built from the knowledge base. A thin composition of the application services.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { collectFleet, loadInventory } from '../../../fleet/index.js';
import type { PackageRecord } from '../../../kb/index.js';
import { hasErrors } from '../../../kb/index.js';
import { loadKnowledgeBaseWithUniverse } from '../../../universe/index.js';
import { buildRequest, formatRequest, installedFillRecords, type Plan } from '../../../planner/index.js';
import { defaultStorePath } from '../../../store/index.js';
import { isRollwiseError } from '../../../shared/index.js';
import type { PlanImpact } from '../../../analysis/index.js';
import {
  buildStagingRoot, createPlan, DEFAULT_FLEET, DEFAULT_INDEX, DEFAULT_KB, analysePlan, displayPath, knowledgeFrom, openStore, readStatusRecords, rehearsePlanOnStaging, requireIndex, rollbackForPlan, saveAnalysis, type PlanAnalysis,
  stagingPrerequisites, type Knowledge, type StagingRoot,
} from '../../services/index.js';
import { describeStagingRefusal, renderDemo, renderImpact, renderPlan, renderRollback, renderStagingRehearsal } from '../../render/index.js';
import { createProgress, paletteFor } from '../terminal.js';

/**
 * The example fleet's installed versions (with their dpkg status records), read before the
 * knowledge base so the universe is built once with them (versions no layer has become its fill
 * layer). Nothing when the inventory cannot be read: the plan step then reports that, as before.
 */
async function installedHint(inventory: string): Promise<PackageRecord[]> {
  try {
    if (!loadInventory(inventory).ok) return [];
    const fleet = await collectFleet({ inventories: [inventory] });
    return installedFillRecords(fleet.hosts.map((h) => h.installed), readStatusRecords(fleet.hosts));
  } catch {
    return [];
  }
}

/** The plan step: shopfront 2.0.0 on the example fleet with the loaded knowledge base; stored with its impact, then shown for review. */
async function runDemoPlan(knowledge: Knowledge, kbPaths: string[], index: string, inventory: string, write: (s: string) => void): Promise<{ plan: Plan; impact: PlanImpact }> {
  const request = buildRequest({ install: ['shopfront=2.0.0'] });
  const progress = createProgress();
  let created: Plan;
  let impact: PlanImpact;
  let analysis: PlanAnalysis;
  try {
    created = await createPlan({
      kb: kbPaths, index: [index], inventory: [inventory], local: false, sshHost: [], skipUnreachable: false, request,
      knowledge, onProgress: (t) => progress.update(t),
    });
    analysis = await analysePlan(created, knowledge, [], (t) => progress.update(t));
    impact = analysis.impact;
  } finally {
    progress.done();
  }
  const store = await openStore(undefined);
  try {
    await store.savePlan(created);
    await saveAnalysis(store, created, analysis);
  } finally {
    await store.close();
  }
  write(`\nPlanning ${formatRequest(request)} on the example fleet (${inventory}); stored in ${path.relative(process.cwd(), defaultStorePath()) || defaultStorePath()}:\n\n`);
  write(renderPlan(created, paletteFor(), { impact }));
  write(`\nReview it: rollwise plan resolve ${created.id}   (on a terminal: choose among the resolutions; or --choose c1=r1 ...)\n` +
    `Then: rollwise plan show ${created.id}, rollwise plan approve ${created.id}, rollwise plan list\n`);
  write(`\nWhat the plan is predicted to hurt (rollwise impact ${created.id}):\n\n`);
  write(renderImpact(impact, paletteFor(), { maxReasons: 3 }));
  return { plan: created, impact };
}

/** The changing group the demo rehearses: a ready group with the fewest changes (the first such). */
function demoGroup(plan: Plan): { key: string; number: number } | undefined {
  let best: { key: string; number: number; changes: number } | undefined;
  plan.groups.forEach((g, i) => {
    if (g.outcome.kind !== 'transaction' || g.outcome.changes.length === 0) return;
    if (!best || g.outcome.changes.length < best.changes) best = { key: g.key, number: i + 1, changes: g.outcome.changes.length };
  });
  return best && { key: best.key, number: best.number };
}

/** The operator's own edit of the application's conffile, made on the staging root before rehearsing: the rollback must keep it. */
const OPERATOR_EDIT = { '/etc/shopfront/shopfront.toml': '# shopfront configuration, changed by the operator after installing\nworkers = 8\nlisten = "127.0.0.1:8080"\n' };

/**
 * The rollback plan of one group, then (when this machine has dpkg and apt, and runs as root) a
 * small staging root built from the knowledge base for that group, on which the plan and its
 * rollback are rehearsed for real; the rehearsal is recorded with the plan version. A missing
 * tool is said, with the package to install, and the demo goes on.
 */
async function runDemoRehearsal(plan: Plan, impact: PlanImpact, knowledge: Knowledge, write: (s: string) => void): Promise<void> {
  const chosen = demoGroup(plan);
  if (!chosen) {
    write('\nNo group of the plan changes anything: there is no rollback plan to show or rehearse.\n');
    return;
  }
  const progress = createProgress();
  let rollbacks;
  try {
    rollbacks = await rollbackForPlan(plan, knowledge, { impact, groups: [chosen.key], onProgress: (t) => progress.update(t) });
  } finally {
    progress.done();
  }
  write(`\nThe way back for group ${chosen.number} (rollwise rollback-plan ${plan.id} --group ${chosen.number}; every group: without --group):\n\n`);
  write(renderRollback(rollbacks, paletteFor(), { numbers: [chosen.number] }));

  write(`\nRehearsal of group ${chosen.number} on a staging host (rollwise rehearse ${plan.id} --on ROOT):\n`);
  const needs = stagingPrerequisites();
  if (needs.missing.length > 0) {
    const pkgs = [...new Set(needs.missing.map((m) => m.package))];
    write(`  not done: building and using a staging root needs ${needs.missing.map((m) => `${m.tool} (Debian package ${m.package})`).join(', ')}, not installed here.\n` +
      `  Install with: sudo apt-get install ${pkgs.join(' ')}   (then run the demo again, as root)\n` +
      `  Meanwhile: rollwise rehearse ${plan.id} rehearses it in the model.\n`);
    return;
  }
  if (!needs.root) {
    write('  not done: dpkg installs into a directory root only as root (it refuses other users), so the staging root cannot be built or used by this user.\n' +
      '  Run the demo as root to see it (for example: sudo node bin/rollwise.js demo).\n' +
      `  Meanwhile: rollwise rehearse ${plan.id} rehearses it in the model.\n`);
    return;
  }
  const dir = path.join(path.dirname(defaultStorePath()), 'staging');
  const started = performance.now();
  let root: StagingRoot;
  try {
    root = await buildStagingRoot({ dir, plan, group: chosen.key, knowledge, extra: [{ name: 'shop-lb-config' }], operatorEdits: OPERATOR_EDIT, onProgress: (t) => progress.update(t) });
  } catch (e) {
    progress.done();
    if (!isRollwiseError(e)) throw e;
    write(`  not done: the staging root could not be built: ${e.render()}\n`);
    return;
  }
  progress.done();
  write(`  built ${displayPath(root.root)} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${root.debs.length} synthetic .debs without maintainer scripts in a flat repository (${displayPath(root.repository)}); ` +
    `installed ${root.installed.map((p) => `${p.name} ${p.version}`).join(', ')}; ${root.standIns.length ? `${root.standIns.join(', ')} stand in without their own dependencies; ` : ''}` +
    `the operator then edited ${Object.keys(OPERATOR_EDIT).join(', ')}\n\n`);
  const store = await openStore(undefined);
  try {
    const result = await rehearsePlanOnStaging({ store, plan, knowledge, impact, root: root.root, name: 'demo-staging', group: chosen.key, onProgress: (t) => progress.update(t) });
    progress.done();
    if (result.kind === 'refused') {
      const { message, hint } = describeStagingRefusal(result);
      write(`  not done: ${message} (hint: ${hint})\n`);
      return;
    }
    write(renderStagingRehearsal(result, paletteFor()));
    write(`\nRehearse it again: rollwise rehearse ${plan.id} --on ${displayPath(root.root)} --group ${chosen.number}\n`);
  } finally {
    progress.done();
    await store.close();
  }
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('the main job on embedded defaults: load the example knowledge base (examples/kb) and the Debian 12 index, print what they hold, plan shopfront 2.0.0 on the example fleet (examples/fleet) and store the plan for review in .rollwise/rollwise.db; then its predicted impact, the rollback plan of one group, and (with dpkg and apt, as root) a rehearsal of that group\'s plan and rollback on a staging root built in .rollwise/staging')
    .option('--index <file>', 'Debian Packages index (plain, .gz or .xz)', DEFAULT_INDEX)
    .option('--kb <path>', 'knowledge-base file or directory (repeatable)', (v: string, acc: string[] | undefined) => [...(acc ?? []), v])
    .action(async (opts: { index: string; kb?: string[] }) => {
      const index = requireIndex(opts.index);
      const kbPaths = opts.kb ?? [displayPath(DEFAULT_KB)];
      // the index by the universe fast path; the YAML layers on top (the plan step solves on it)
      const installed = await installedHint(displayPath(DEFAULT_FLEET));
      const { kb, universe } = await loadKnowledgeBaseWithUniverse(kbPaths, { indexes: [displayPath(index)], installed });
      process.stdout.write(renderDemo(kb));
      if (hasErrors(kb.problems)) process.exitCode = 2;
      else {
        const knowledge = knowledgeFrom(kb, universe, kbPaths);
        const write = (s: string): boolean => process.stdout.write(s);
        const { plan, impact } = await runDemoPlan(knowledge, kbPaths, displayPath(index), displayPath(DEFAULT_FLEET), write);
        await runDemoRehearsal(plan, impact, knowledge, write);
      }
    });
}
