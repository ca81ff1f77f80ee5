/**
 * `rollwise impact PLAN`: what a plan version is predicted to hurt, with every reason;
 * `rollwise rollback-plan PLAN`: the way back of each group; `rollwise rehearse PLAN`: both, in the model,
 * or with `--on ROOT` for real on a staging host (services/staging.ts).
 * Parse, call the review services, render.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { RollwiseError, excerpt } from '../../../shared/index.js';
import { assertStagingRoot, findPlan, impactForStoredPlan, knowledgeOfPlan, loadHistoryFile, openStore, openStoreForReading, rehearseInModelForPlan, rehearsePlanOnStaging, rollbackForPlan, storedRollbacks } from '../../services/index.js';
import { describeStagingRefusal, describeUnchangedGroup, renderImpact, renderModelRehearsal, renderRollback, renderStagingRehearsal } from '../../render/index.js';
import { createProgress, paletteFor } from '../terminal.js';

export function register(program: Command): void {
  registerImpact(program);
  registerRollback(program);
}

function registerImpact(program: Command): void {
  program
    .command('impact')
    .description('the predicted impact of a plan version: services reached (with the path), outage/performance/resource risk with every reason and its weight, blast radius per host group')
    .argument('<plan>', 'plan id (or a unique prefix; ID@N for version N)')
    .option('--history <file>', 'predict again with this deployment history (YAML/JSON list of package, change, outcome, at) instead of showing the recorded impact')
    .option('--reasons <n>', 'reasons shown per risk (default 6; --json has all)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new RollwiseError('RW_USAGE', `--reasons takes a whole number from 1, not '${excerpt(v)}'`, { hint: 'e.g. --reasons 20 (--json has every reason)' });
      return n;
    })
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the impact as JSON (every number with its reasons)')
    .action(async (spec: string, o: { history?: string; reasons?: number; store?: string; json?: boolean }) => {
      const history = o.history ? loadHistoryFile(o.history) : undefined;
      const store = await openStoreForReading(o.store);
      try {
        const plan = await findPlan(store, spec);
        const { impact, recorded } = await impactForStoredPlan(store, plan, history);
        if (o.json) {
          process.stdout.write(JSON.stringify({ plan: plan.id, version: plan.version, recorded, impact }, null, 2) + '\n');
          return;
        }
        process.stdout.write(`Plan ${plan.id} version ${plan.version}${recorded ? '' : ' (predicted now: no impact was recorded with this version, or --history asked for a new prediction)'}\n`);
        process.stdout.write(renderImpact(impact, paletteFor(), { ...(o.reasons && Number.isInteger(o.reasons) && o.reasons > 0 ? { maxReasons: o.reasons } : {}) }));
      } finally {
        await store.close();
      }
    });
}

/**
 * `--group`: a plain number is a group number (as plan show lists them; out of range is an
 * error, never a key); anything else is a key prefix of at least 4 hex digits, written `key:PREFIX`
 * when it is all digits (`key:9066`), so a number can never silently pick a group by its key.
 */
export function selectGroups(plan: { groups: Array<{ key: string }> }, group: string | undefined): string[] | undefined {
  if (group === undefined) return undefined;
  const count = plan.groups.length;
  const range = count === 1 ? 'group 1' : `groups 1-${count}`;
  const keyForm = 'or a group key of at least 4 characters (key:PREFIX when it is all digits, e.g. key:9066)';
  if (/^\d+$/.test(group)) {
    const n = Number(group);
    if (n < 1 || n > count) throw new RollwiseError('RW_USAGE', `no group ${excerpt(group)} in this plan: it has ${range}`, { hint: `give a group number from 1 to ${count} ${keyForm}, as rollwise plan show lists them` });
    return [plan.groups[n - 1]!.key];
  }
  const prefix = group.startsWith('key:') ? group.slice(4) : group;
  if (!/^[0-9a-f]{4,}$/i.test(prefix)) {
    throw new RollwiseError('RW_USAGE', `--group '${excerpt(group)}' is neither a group number nor a group key prefix`, { hint: `give a group number (this plan has ${range}) ${keyForm}` });
  }
  const matches = plan.groups.filter((g) => g.key.startsWith(prefix.toLowerCase()));
  if (matches.length !== 1) {
    throw new RollwiseError('RW_USAGE', matches.length === 0 ? `no group key starts with '${excerpt(prefix)}' in this plan` : `'${excerpt(prefix)}' matches ${matches.length} group keys`, { hint: `give a group number (this plan has ${range}) or more of the key, as rollwise plan show lists them` });
  }
  return [matches[0]!.key];
}

const GROUP_HELP = 'only this group: its number (1, 2, …) or its key (at least 4 characters; key:PREFIX when the prefix is all digits), as plan show lists them';

export function registerRollback(program: Command): void {
  program
    .command('rollback-plan')
    .description('the rollback plan of each host group that changes: ordered package steps (every intermediate set checked by the resolver), database down-migrations or restore, config restores, services in dependency order with health checks; what cannot be undone and the safeguards it needs before deploying')
    .argument('<plan>', 'plan id (or a unique prefix; ID@N for version N)')
    .option('--group <n|key>', GROUP_HELP)
    .option('--allow-leave', 'let low-impact changes stay in place on rollback (the plan says which)', false)
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the rollback plans as JSON')
    .action(async (spec: string, o: { group?: string; allowLeave: boolean; store?: string; json?: boolean }) => {
      const store = await openStoreForReading(o.store);
      const progress = createProgress();
      try {
        const plan = await findPlan(store, spec);
        const groups = selectGroups(plan, o.group);
        progress.update('loading the knowledge base…');
        // the rollback plans recorded with the version (the default policy), else computed now
        const stored = o.allowLeave ? undefined : await storedRollbacks(store, plan);
        const rollbacks = stored
          ? stored.filter((r) => !groups || groups.includes(r.group))
          : await rollbackForPlan(plan, await knowledgeOfPlan(plan), { impact: (await impactForStoredPlan(store, plan)).impact, allowLeave: o.allowLeave, ...(groups ? { groups } : {}), onProgress: (t) => progress.update(t) });
        progress.done();
        // a group that changes nothing has no rollback plan: say so rather than print a bare header
        const unchanged = !o.json && groups && rollbacks.length === 0 ? plan.groups.findIndex((g) => g.key === groups[0]) : -1;
        if (unchanged >= 0) process.stdout.write(`Plan ${plan.id} version ${plan.version}\n${describeUnchangedGroup(plan.groups[unchanged]!, unchanged + 1)}\n`);
        else if (o.json) process.stdout.write(JSON.stringify({ plan: plan.id, version: plan.version, groups: rollbacks }, null, 2) + '\n');
        else process.stdout.write(`Plan ${plan.id} version ${plan.version}\n${renderRollback(rollbacks, paletteFor(), { numbers: rollbacks.map((r) => plan.groups.findIndex((g) => g.key === r.group) + 1) })}`);
      } finally {
        progress.done();
        await store.close();
      }
    });

  program
    .command('rehearse')
    .description('rehearse a plan version: the forward plan then its rollback plan, in the model of each host group (every intermediate state checked, the end compared with the start), or with --on ROOT for real on a staging host (a directory root with dpkg and apt: the group\'s transaction, then its rollback plan, the root compared with its former self); the result is recorded with the version')
    .argument('<plan>', 'plan id (or a unique prefix; ID@N for version N)')
    .option('--on <root>', 'rehearse on this staging host: a directory holding a dpkg database (var/lib/dpkg) with apt configured to a repository that has the plan\'s versions (var/lib/rollwise/apt.conf, as rollwise demo prepares one)')
    .option('--group <n|key>', `${GROUP_HELP} (with --on: the group the root stands for; default: the one whose installed set the root holds)`)
    .option('--name <name>', 'with --on: the staging host\'s name, recorded with the rehearsal (default: the root\'s folder name)')
    .option('--chroot', 'with --on: run apt, dpkg and the maintainer scripts inside the root with chroot (a complete Debian system); without it, packages with maintainer scripts are refused (they would run on this machine)', false)
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the rehearsal as JSON')
    .addHelpText('after', '\nExit status: 0 every group restored (or only flagged differences), 1 a silent difference (with --on: or a step that failed), 2 bad input (with --on: a root that does not stand for a changing group, or a transaction the root refuses before running; nothing changed).\n' +
      'Approving a critical impact needs a successful rehearsal on a staging host (--on); the model\'s is recorded but does not count for it.\n' +
      'With --on, the root must hold, for every package the group\'s transaction changes, the group\'s version, and everything the new versions need; differences elsewhere are listed, not refused. Database steps need a database address and are not rehearsed on a root (said in the report).')
    .action(async (spec: string, o: { on?: string; group?: string; name?: string; chroot: boolean; store?: string; json?: boolean }) => {
      if (!o.on && (o.name !== undefined || o.chroot)) throw new RollwiseError('RW_USAGE', `${o.name !== undefined ? '--name' : '--chroot'} needs --on ROOT`, { hint: 'rehearse on a staging host with --on ROOT; without it the rehearsal runs in the model' });
      if (o.on) await assertStagingRoot(path.resolve(o.on), o.chroot);
      const store = await openStore(o.store, { create: false });
      const progress = createProgress();
      try {
        const plan = await findPlan(store, spec);
        const groups = selectGroups(plan, o.group);
        progress.update('loading the knowledge base…');
        const knowledge = await knowledgeOfPlan(plan);
        if (o.on) {
          const result = await rehearsePlanOnStaging({ store, plan, knowledge, root: o.on, ...(o.name !== undefined ? { name: o.name } : {}), ...(groups ? { group: groups[0]! } : {}), chroot: o.chroot, onProgress: (t) => progress.update(t) });
          progress.done();
          if (result.kind === 'refused') {
            const { message, hint } = describeStagingRefusal(result);
            throw new RollwiseError('RW_HOST', message, { hint });
          }
          if (o.json) {
            // neither the snapshots nor the file contents the restore steps carry (config files may hold secrets)
            const { snapshots: _snapshots, ...report } = result.report;
            process.stdout.write(JSON.stringify({ plan: plan.id, version: plan.version, where: result.where, root: result.root, mode: result.mode, ok: result.ok, recorded: result.recorded, group: result.choice.match, omissions: result.omissions, expected: result.expected, snapshotSpec: result.snapshotSpec, unplannedForwardChanges: result.unplannedForwardChanges, report }, (k, v: unknown) => (k === 'contentBase64' ? undefined : v), 2) + '\n');
          } else process.stdout.write(`Plan ${plan.id} version ${plan.version}\n${renderStagingRehearsal(result, paletteFor())}`);
          process.exitCode = result.ok ? 0 : 1;
          return;
        }
        const impact = (await impactForStoredPlan(store, plan)).impact;
        const rollbacks = await rollbackForPlan(plan, knowledge, { impact, ...(groups ? { groups } : {}), onProgress: (t) => progress.update(t) });
        progress.update('rehearsing in the model…');
        const results = await rehearseInModelForPlan(plan, knowledge, rollbacks);
        progress.done();
        const silent = results.reduce((n, r) => n + r.rehearsal.silent, 0);
        await store.addRecord(plan.id, plan.version, {
          kind: 'rehearsal', createdAt: new Date().toISOString(),
          body: { where: 'model', ok: silent === 0, at: new Date().toISOString(), groups: results.map((r) => ({ group: r.group, restored: r.rehearsal.restored, silent: r.rehearsal.silent, differences: r.rehearsal.differences.length })) },
        });
        if (o.json) process.stdout.write(JSON.stringify({ plan: plan.id, version: plan.version, where: 'model', silent, groups: results }, null, 2) + '\n');
        else process.stdout.write(`Plan ${plan.id} version ${plan.version}\n${renderModelRehearsal(results, paletteFor(), { numbers: results.map((r) => plan.groups.findIndex((g) => g.key === r.group) + 1) })}`);
        process.exitCode = silent > 0 ? 1 : 0;
      } finally {
        progress.done();
        await store.close();
      }
    });
}
