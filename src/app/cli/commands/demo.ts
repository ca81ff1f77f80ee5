/**
 * `rollwise demo`: the main job on embedded defaults: load the example knowledge base and the
 * Debian 12 index, print what they hold, then plan shopfront 2.0.0 on the example fleet and
 * store the plan for review with its predicted impact; show the impact and the rollback plan of
 * one group, and (with dpkg and apt, as root) rehearse that group's transaction and rollback on a
 * staging root built from the knowledge base. Then the same job for real on an example lab built
 * here (services/demo-lab.ts: directory-root hosts, runit, Prometheus): plan, impact, rehearsal on
 * a staging root, approval, a deployment whose canary fails on the monitoring, the automatic
 * rollback, and every host compared with its snapshot; the lab is stopped at the end (and on
 * Ctrl-C). A thin composition of the application services.
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
  approvalGates, approvePlan, approverName, demoLabPrerequisites, demoStagingGroup, deployOnDemoLab, planOnDemoLab, startDemoLab, storedRehearsals, DEMO_FROM, DEMO_PLUGIN, DEMO_SERVICE, DEMO_TO,
  type DeployStore, type DemoLab,
} from '../../services/index.js';
import type { DecisionBody } from '../../../deploy/index.js';
import type { Snapshot } from '../../../planner/index.js';
import { describeStagingRefusal, renderDemo, renderImpact, renderPlan, renderRollback, renderStagingRehearsal } from '../../render/index.js';
import { createProgress, paletteFor } from '../terminal.js';
import { renderDeployEvent, renderDeploymentLog, renderEngineResult } from './deploy-render.js';

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
async function runDemoRehearsal(plan: Plan, impact: PlanImpact, knowledge: Knowledge, write: (s: string) => void, onStaging: boolean): Promise<void> {
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

  if (!onStaging) {
    write(`\nA rehearsal on a staging host (rollwise rehearse ${plan.id} --on ROOT) is shown below on the lab; rollwise demo --no-lab rehearses this group on a staging root built from the knowledge base instead.\n`);
    return;
  }
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

// ---- the same job for real, on an example lab built here ---------------------------------------

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function describeHostState(s: Snapshot): string {
  const pkgs = s.packages.filter((p) => p.status.startsWith('ii')).map((p) => `${p.name} ${p.version}`).join(', ');
  const services = s.services.map((x) => `${x.name} ${x.state}`).join(', ');
  return `${pkgs}; ${s.files.length} conffile${s.files.length === 1 ? '' : 's'}; ${services}`;
}

/** Builds the lab, runs plan → impact → rehearsal → approval → deployment → rollback on it, and stops the lab. */
async function runLabDemo(write: (s: string) => void, opts: { labDir: string; bake: string }): Promise<void> {
  const p = paletteFor();
  write(`\n${p.bold('The same job for real, on an example lab built here')} (${displayPath(opts.labDir)}):\n`);
  const needs = demoLabPrerequisites();
  if (needs.missing.length > 0 || !needs.root) {
    if (needs.missing.length > 0) {
      write(`  not done: the lab needs ${needs.missing.map((m) => `${m.tool} (Debian package ${m.package})`).join(', ')}, not installed here.\n` +
        `  Install them with: sudo bash scripts/install-demo-deps.sh   (then run the demo again, as root)\n`);
    }
    if (!needs.root) write('  not done: dpkg installs into the lab\'s directory roots only as root, so the lab cannot be built by this user.\n  Run the demo as root to see the deployment and its rollback (for example: sudo npm start).\n');
    return;
  }
  const progress = createProgress();
  const started = performance.now();
  let lab: DemoLab | undefined;
  const store = await openStore(undefined);
  try {
    lab = await startDemoLab({ dir: opts.labDir, onProgress: (t) => progress.update(t) });
    progress.done();
    const eu = lab.hosts.filter((h) => h.group === 'eu').map((h) => h.name);
    const us = lab.hosts.filter((h) => h.group === 'us').map((h) => h.name);
    write(`  built in ${seconds(performance.now() - started)}: ${lab.hosts.length} directory-root hosts with the real dpkg and apt — ${eu.join(', ')} (group eu: ${DEMO_SERVICE} ${DEMO_FROM}) and ${us.join(', ')} (group us: ${DEMO_SERVICE} ${DEMO_FROM} with ${DEMO_PLUGIN} 1.0);\n` +
      `  ${lab.debs.length} synthetic .debs in a flat repository (${displayPath(lab.repository)}); each host's ${DEMO_SERVICE} supervised by its own runit (runsvdir) and serving metrics on 127.0.0.1;\n` +
      `  Prometheus ${lab.prometheus.url} scraping them every second; inventory ${displayPath(lab.inventory)}; knowledge base ${lab.kb.map(displayPath).join(', ')}\n` +
      `  (${DEMO_SERVICE} ${DEMO_TO} is built to answer a quarter of its requests with errors where ${DEMO_PLUGIN} is installed: the packages allow the upgrade, only the monitoring shows the fault)\n`);

    const deployStore = store as unknown as DeployStore;
    const { plan, knowledge, analysis } = await planOnDemoLab(lab, deployStore, (t) => progress.update(t));
    progress.done();
    write(`\nPlanning install ${DEMO_SERVICE} (= ${DEMO_TO}) on the lab (rollwise plan --inventory ${displayPath(lab.inventory)} --kb ${lab.kb.map(displayPath).join(' --kb ')} --index ${displayPath(lab.index)} --install ${DEMO_SERVICE}=${DEMO_TO}):\n\n`);
    write(renderPlan(plan, p, { impact: analysis.impact, gates: approvalGates(plan, analysis.impact, await storedRehearsals(deployStore, plan), analysis.rollbacks) }));
    write(`\n${renderImpact(analysis.impact, p, { maxReasons: 2 })}`);

    const group = demoStagingGroup(plan);
    write(`\nRehearsal of group ${group.number} (the us hosts) on the staging root ${displayPath(lab.staging)}, in their state (rollwise rehearse ${plan.id} --on ${displayPath(lab.staging)} --group ${group.number}):\n`);
    const rehearsal = await rehearsePlanOnStaging({ store: deployStore, plan, knowledge, impact: analysis.impact, root: lab.staging, name: 'lab-staging', group: group.key, onProgress: (t) => progress.update(t) });
    progress.done();
    if (rehearsal.kind === 'refused') {
      const { message, hint } = describeStagingRefusal(rehearsal);
      write(`  not done: ${message} (hint: ${hint})\n`);
    } else {
      write(renderStagingRehearsal(rehearsal, p));
    }

    const gates = approvalGates(plan, analysis.impact, await storedRehearsals(deployStore, plan), analysis.rollbacks);
    const overrides = gates.map((g) => ({ name: g.name, reason: 'rollwise demo: the lab deployment is judged and rolled back automatically' }));
    write(`\nApproval (rollwise plan approve ${plan.id}${overrides.map((o) => ` --override ${o.name}`).join('')}${overrides.length ? ' --reason TEXT' : ''}):\n`);
    const critical = analysis.impact.groups.some((g) => Object.values(g.risk).some((r) => r.level === 'critical'));
    if (gates.length === 0) write(`  no gate stands in the way: ${critical ? 'the critical impact was rehearsed on the staging root above' : 'no critical impact (a critical one would need the rehearsal above)'}, no requirement unmet across hosts, no risk the rollback plan says a person must accept\n`);
    for (const g of gates) write(`  gate ${g.name} overridden, recorded with the reason "${overrides[0]!.reason}": ${g.detail}\n`);
    const approval = await approvePlan(deployStore, plan.id, approverName(), overrides);
    write(`  ${approval.kind === 'approved' ? `approved by ${approverName()}` : 'already approved'}: plan ${plan.id} v${plan.version}\n`);

    const check = knowledge.kb.layers.flatMap((l) => l.services).find((s) => s.value.name === DEMO_SERVICE)?.value.metrics?.[0];
    write(`\nDeploying (rollwise deploy ${plan.id} --waves 1,100% --bake ${opts.bake}): the canary wave takes one host of each group; each wave is judged on Prometheus by the knowledge base's check ${DEMO_SERVICE}/${check?.name ?? '?'} (${check?.max !== undefined ? `at most ${check.max}` : ''}, every ${check?.interval ?? '10s'}), the changed hosts against the unchanged ones:\n`);
    const events = paletteFor(process.stdout);
    const result = await deployOnDemoLab({
      lab, store: deployStore, plan, bake: opts.bake,
      onEvent: (e) => {
        const line = renderDeployEvent(e, events);
        if (line) write(`  ${line}\n`);
      },
    });
    const verdicts = result.log.filter((e) => e.kind === 'verdict');
    if (verdicts.length > 0) {
      // deploy log's own words for the verdicts (its first line, the deployment's status, is said below)
      write(`\nThe judge's verdict${verdicts.length === 1 ? '' : 's'}, with the evidence (as rollwise deploy log ${result.run.id} shows it):\n`);
      write(renderDeploymentLog({ deployment: { id: result.run.id, status: '' }, entries: verdicts }, p).split('\n').slice(1).map((l) => (l ? `  ${l}` : l)).join('\n'));
    }
    const rolledBack = result.log.map((e) => e.body as DecisionBody).find((b) => b.decision === 'roll-back');
    if (rolledBack) write(`Decision: roll back${rolledBack.hosts?.length ? ` ${rolledBack.hosts.join(', ')}` : ' every changed host'} — ${rolledBack.reason}\n`);
    write(`\n${renderEngineResult(result.run.id, result.run.result, p)}`);

    write('\nEvery lab host against its own snapshot from before the deployment (packages, conffiles, service state):\n');
    let identical = 0;
    for (const h of lab.hosts) {
      const d = result.differences.get(h.name) ?? [];
      if (d.length === 0) identical++;
      write(`  ${h.name}: ${d.length === 0 ? p.green('identical') : p.red(`${d.length} difference${d.length === 1 ? '' : 's'}: ${d.map((x) => x.kind).join(', ')}`)} — ${describeHostState(result.after.get(h.name)!)}\n`);
    }
    write(`  ${identical} of ${lab.hosts.length} hosts identical to their snapshot\n`);
    write(`\nLook further: rollwise deploy log ${result.run.id} (every decision with its evidence; --all for every journal entry), rollwise deploy status ${result.run.id}, rollwise plan show ${plan.id}\n`);
  } finally {
    progress.done();
    const stopping = performance.now();
    if (lab) {
      await lab.stop();
      write(`\nLab stopped in ${seconds(performance.now() - stopping)} (runit, the services and Prometheus; ${lab.processes().length} of its processes left); its hosts stay in ${displayPath(lab.dir)} for a look. The lab part took ${seconds(performance.now() - started)}.\n`);
    }
    await store.close();
  }
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('the main job on embedded defaults: load the example knowledge base (examples/kb) and the Debian 12 index, print what they hold, plan shopfront 2.0.0 on the example fleet (examples/fleet), store the plan in .rollwise/rollwise.db, show its impact and one group\'s rollback plan; then, on an example lab built in .rollwise/lab (directory-root hosts, runit services, Prometheus; needs root, dpkg, apt, runit, prometheus): plan, impact, rehearsal on a staging root, approval, a deployment whose canary fails on the monitoring, the automatic rollback, and every host compared with its snapshot')
    .option('--index <file>', 'Debian Packages index (plain, .gz or .xz)', DEFAULT_INDEX)
    .option('--kb <path>', 'knowledge-base file or directory (repeatable)', (v: string, acc: string[] | undefined) => [...(acc ?? []), v])
    .option('--no-lab', 'skip the deployment on the example lab (which needs root, dpkg, apt, runit and Prometheus)')
    .option('--lab-dir <dir>', 'where the example lab is built, emptied first (default: lab/ beside the store, .rollwise/lab)')
    .option('--bake <duration>', 'how long the lab deployment watches each wave', '10s')
    .action(async (opts: { index: string; kb?: string[]; lab: boolean; labDir?: string; bake: string }) => {
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
        const labRuns = opts.lab && demoLabPrerequisites().missing.length === 0 && demoLabPrerequisites().root;
        await runDemoRehearsal(plan, impact, knowledge, write, !labRuns);
        if (opts.lab) await runLabDemo(write, { labDir: path.resolve(opts.labDir ?? path.join(path.dirname(defaultStorePath()), 'lab')), bake: opts.bake });
      }
    });
}
