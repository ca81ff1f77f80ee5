/**
 * `rollwise demo`: the main job on embedded defaults: load the example knowledge base and the
 * Debian 12 index, print what they hold, then plan shopfront 2.0.0 on the example fleet and
 * store the plan for review. A thin composition of the application services.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { collectFleet, loadInventory } from '../../../fleet/index.js';
import type { PackageRecord } from '../../../kb/index.js';
import { hasErrors } from '../../../kb/index.js';
import { loadKnowledgeBaseWithUniverse } from '../../../universe/index.js';
import { buildRequest, formatRequest, installedFillRecords, type Plan } from '../../../planner/index.js';
import { defaultStorePath } from '../../../store/index.js';
import {
  createPlan, DEFAULT_FLEET, DEFAULT_INDEX, DEFAULT_KB, displayPath, knowledgeFrom, openStore, readStatusRecords, requireIndex, type Knowledge,
} from '../../services/index.js';
import { renderDemo, renderPlan } from '../../render/index.js';
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

/** The plan step: shopfront 2.0.0 on the example fleet with the loaded knowledge base; stored, then shown for review. */
async function runDemoPlan(knowledge: Knowledge, kbPaths: string[], index: string, inventory: string, write: (s: string) => void): Promise<Plan> {
  const request = buildRequest({ install: ['shopfront=2.0.0'] });
  const progress = createProgress();
  let created: Plan;
  try {
    created = await createPlan({
      kb: kbPaths, index: [index], inventory: [inventory], local: false, sshHost: [], skipUnreachable: false, request,
      knowledge, onProgress: (t) => progress.update(t),
    });
  } finally {
    progress.done();
  }
  const store = await openStore(undefined);
  try {
    await store.savePlan(created);
  } finally {
    await store.close();
  }
  write(`\nPlanning ${formatRequest(request)} on the example fleet (${inventory}); stored in ${path.relative(process.cwd(), defaultStorePath()) || defaultStorePath()}:\n\n`);
  write(renderPlan(created, paletteFor()));
  write(`\nReview it: rollwise plan resolve ${created.id}   (on a terminal: choose among the resolutions; or --choose c1=r1 ...)\n` +
    `Then: rollwise plan show ${created.id}, rollwise plan approve ${created.id}, rollwise plan list\n`);
  return created;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('the main job on embedded defaults: load the example knowledge base (examples/kb) and the Debian 12 index, print what they hold, then plan shopfront 2.0.0 on the example fleet (examples/fleet) and store the plan for review in .rollwise/rollwise.db')
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
      else await runDemoPlan(knowledgeFrom(kb, universe, kbPaths), kbPaths, displayPath(index), displayPath(DEFAULT_FLEET), (s) => process.stdout.write(s));
    });
}
