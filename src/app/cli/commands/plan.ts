/**
 * `rollwise plan`: plan a request over a fleet, store it, show it, review its conflicts
 * (--choose / --file, or interactively on a terminal), approve it. Parse, call the planning
 * services (src/app/services), render (src/app/render).
 */
import type { Command } from 'commander';
import { RollwiseError, escapeControls, excerpt } from '../../../shared/index.js';
import { assertCanResolve, buildRequest, formatRequest, loadRequestFile, parseChoice, solveThreads, type ApprovalGate, type Plan, type ResolutionChoice } from '../../../planner/index.js';
import {
  analysePlan, approvalGatesOfStoredPlan, approvePlan, checkStoreWritable, findPlan, indexInputs, loadHistoryFile, loadResolutionsFile, openStore, openStoreForReading, planFleet, resolvePlanVersion,
  saveAnalysis, storedImpact, storedRollbacks, type Knowledge,
} from '../../services/index.js';
import { describeEdit, planToJson, removesPackages, renderPlan, renderPlanExplanation, type Palette } from '../../render/index.js';
import type { PlanImpact } from '../../../analysis/index.js';
import type { RollwiseStore } from '../../../store/index.js';
import { collect, createProgress, paletteFor, unguarded, warn } from '../terminal.js';
import { addFleetOptions, addIndexOptions, type FleetOptionValues, type IndexChoice } from '../options.js';

/** One question: its choices, and the one the cursor starts on (never a resolution that removes a package). */
export type AskResolution = (question: { message: string; choices: Array<{ name: string; value: string | null; description?: string }>; default: string | null }) => Promise<string | null>;

/** The interactive review: one question per conflict; returns the choices made (possibly none). */
export async function askChoices(plan: Plan, ask: AskResolution): Promise<ResolutionChoice[]> {
  const out: ResolutionChoice[] = [];
  for (const c of plan.conflicts) {
    if (c.resolutions.length === 0) continue;
    const hosts = plan.groups.filter((g) => c.groups.includes(g.key)).flatMap((g) => g.hosts);
    const why = renderPlanExplanation(c.explanation);
    const message = `${c.id} (${c.hosts} host${c.hosts === 1 ? '' : 's'}: ${hosts.slice(0, 3).join(', ')}${hosts.length > 3 ? ', …' : ''}): ${why.at(-1) ?? ''}`;
    const answer = await ask({
      message,
      choices: [
        ...c.resolutions.map((r) => ({ name: `${r.id}  ${describeEdit(r.edit)}${removesPackages(r) ? ' (removes a package)' : ''}`, value: r.id, description: why.join('\n') })),
        { name: 'decide later', value: null },
      ],
      // Enter alone never removes a package: the gentlest resolution that removes nothing, or "decide later"
      default: c.resolutions.find((r) => !removesPackages(r))?.id ?? null,
    });
    if (answer) out.push({ conflict: c.id, resolution: answer });
  }
  return out;
}

async function inquirerAsk(q: Parameters<AskResolution>[0]): Promise<string | null> {
  const { select } = await import('@inquirer/prompts');
  // the prompt draws with cursor movements of its own, so it writes unguarded: its text is escaped here
  return select<string | null>(
    { message: escapeControls(q.message), default: q.default, choices: q.choices.map((c) => ({ name: escapeControls(c.name), value: c.value, ...(c.description ? { description: escapeControls(c.description) } : {}) })) },
    { output: unguarded(process.stdout) },
  );
}

/** Interactive loop: choose, re-solve at once, store, and ask again while conflicts remain. */
export async function reviewInteractively(store: RollwiseStore, plan: Plan, ask: AskResolution, write: (s: string) => void, palette: Palette, onProgress?: (text: string) => void): Promise<Plan> {
  let current = plan;
  for (let round = 0; round < 10 && current.conflicts.length > 0; round++) {
    const choices = await askChoices(current, ask);
    if (choices.length === 0) break;
    const { plan: next, knowledge } = await resolvePlanVersion(current, choices, onProgress);
    const analysis = await analysePlan(next, knowledge, await store.getHistory(), onProgress);
    await store.savePlan(next, { supersede: { id: current.id, version: current.version } });
    await saveAnalysis(store, next, analysis);
    current = next;
    write(renderPlan(current, palette, { impact: analysis.impact, gates: await approvalGatesOfStoredPlan(store, current) }));
  }
  return current;
}

// ---------------------------------------------------------------------------------------------
// Commands

function intOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new RollwiseError('RW_USAGE', `not a version number '${excerpt(v)}'`, { hint: 'plan versions are 1, 2, 3, …; rollwise plan list shows them' });
  return n;
}

export function register(program: Command): void {
  const plan = program.command('plan').description('plan a package change over a fleet, review its conflicts, approve it (plans are stored in .rollwise/rollwise.db)');

  addFleetOptions(addIndexOptions(plan
    .command('create', { isDefault: true })
    .description('plan a request for every host group (the default: `rollwise plan --kb ... --inventory ... --install ...`); exit 0 when the plan is ready, 1 when conflicts remain to review or hosts could not be collected, 2 for bad input')
    .option('--kb <path>', 'knowledge-base YAML file or directory (repeatable)', collect, [])
    , 'Debian Packages index, plain/.gz/.xz (repeatable; default: the Debian 12 index beside the repository, when there and no --kb path is an index)'))
    .option('--skip-unreachable', 'plan the reachable hosts and record the others as findings', false)
    .option('--install <spec>', 'NAME, NAME=VERSION, NAME>=VERSION or "NAME (>= VERSION)"; NAME:ARCH for a foreign architecture (zlib1g:i386), NAME/RELEASE for the version apt selects from a release (nginx/bookworm-backports) (repeatable)', collect, [])
    .option('--remove <spec>', 'package to remove (repeatable)', collect, [])
    .option('--upgrade <spec>', 'package to upgrade (repeatable)', collect, [])
    .option('--upgrade-all', 'upgrade every installed package (a patch day: each group upgrades what it can)')
    .option('--hold <name>', 'keep a package exactly as installed on every host (repeatable)', collect, [])
    .option('--pin <spec>', "allow only matching versions, e.g. 'libssl3=3.0.11-1' (repeatable)", collect, [])
    .option('--request <file>', 'request file (install:/remove:/upgrade:/hold:/pin: lists, upgrade-all: true)')
    .option('--threads <n>', 'worker threads that solve host groups (default: ROLLWISE_THREADS, else the CPUs, at most 4; 1: the main thread only)')
    .option('--no-recommends', 'solve without Recommends: add no package for them (as apt-get --no-install-recommends; a security upgrade then changes only what it upgrades)')
    .option('--store <file>', 'SQLite store (default .rollwise/rollwise.db under the working directory)')
    .option('--history <file>', 'earlier deployments (YAML/JSON list of package, change, outcome, at) that the impact prediction weighs')
    .option('--json', 'print the plan as JSON (with its impact)')
    .action(async (o: FleetOptionValues & { kb: string[]; index?: IndexChoice; skipUnreachable: boolean; install: string[]; remove: string[]; upgrade: string[]; upgradeAll?: boolean; hold: string[]; pin: string[]; request?: string; threads?: string; recommends: boolean; store?: string; history?: string; json?: boolean }) => {
      if (o.request && (o.install.length + o.remove.length + o.upgrade.length + o.hold.length + o.pin.length > 0 || o.upgradeAll)) {
        throw new RollwiseError('RW_USAGE', 'give either --request FILE or --install/--remove/--upgrade/--upgrade-all/--hold/--pin, not both', { hint: 'put every item in the request file, or give them all as options' });
      }
      const threads = solveThreads(o.threads);
      const request = o.request ? loadRequestFile(o.request, warn) : buildRequest({ install: o.install, remove: o.remove, upgrade: o.upgrade, upgradeAll: o.upgradeAll === true, hold: o.hold, pin: o.pin }, warn);
      const requestFile = o.request;
      // a store that cannot take the plan is reported before the (slow) planning
      await checkStoreWritable(o.store);
      const history = o.history ? loadHistoryFile(o.history) : [];
      const progress = createProgress();
      let created: Plan;
      let knowledge: Knowledge;
      try {
        ({ plan: created, knowledge } = await planFleet({
          ...(requestFile ? { requestFile } : {}),
          kb: o.kb, index: indexInputs(o.index).indexes, fallbackIndexes: indexInputs(o.index).fallbackIndexes, inventory: o.inventory, local: o.local, sshHost: o.sshHost, skipUnreachable: o.skipUnreachable, request,
          ...(o.knownHosts ? { knownHosts: o.knownHosts } : {}), ...(o.sshIdentity ? { sshIdentity: o.sshIdentity } : {}), ...(o.sshConfig ? { sshConfig: o.sshConfig } : {}), allowOutsidePaths: o.allowOutsidePaths === true,
          ...(o.recommends === false ? { recommends: false } : {}), threads,
          onProgress: (t) => progress.update(t), onWarning: (m) => { progress.done(); warn(m); },
        }));
      } finally {
        progress.done();
      }
      const store = await openStore(o.store);
      let impact: PlanImpact;
      let gates: ApprovalGate[];
      try {
        // the history the store keeps (rollwise history import), and the file's when given
        const analysis = await analysePlan(created, knowledge, [...await store.getHistory(), ...history], (t) => progress.update(t));
        progress.done();
        impact = analysis.impact;
        await store.savePlan(created);
        await saveAnalysis(store, created, analysis);
        gates = await approvalGatesOfStoredPlan(store, created);
      } finally {
        await store.close();
      }
      if (o.json) process.stdout.write(JSON.stringify({ ...(planToJson(created) as object), impact }, null, 2) + '\n');
      else process.stdout.write(renderPlan(created, paletteFor(), { impact, gates }));
      process.exitCode = created.status === 'needs-review' ? 1 : 0;
    });

  plan
    .command('show')
    .description('render a stored plan (grouped, summarised); --json for programs')
    .argument('<plan>', 'plan id (or a unique prefix; ID@N for version N)')
    .option('--version <n>', 'a given version (default: the latest)', intOption)
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the plan as JSON')
    .action(async (spec: string, o: { version?: number; store?: string; json?: boolean }) => {
      const store = await openStoreForReading(o.store);
      try {
        const p = await findPlan(store, spec, o.version);
        const impact = await storedImpact(store, p);
        const rollback = await storedRollbacks(store, p);
        if (o.json) {
          const records = (await store.getRecords(p.id, p.version)).filter((r) => r.kind !== 'impact' && r.kind !== 'rollback');
          process.stdout.write(JSON.stringify({ ...(planToJson(p) as object), ...(impact ? { impact } : {}), ...(rollback ? { rollback } : {}), records }, null, 2) + '\n');
        }
        else process.stdout.write(renderPlan(p, paletteFor(), { ...(impact ? { impact } : {}), ...(p.status === 'ready' ? { gates: await approvalGatesOfStoredPlan(store, p) } : {}) }));
      } finally {
        await store.close();
      }
    });

  plan
    .command('list')
    .description('stored plans and their versions')
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print as JSON')
    .action(async (o: { store?: string; json?: boolean }) => {
      const store = await openStoreForReading(o.store);
      try {
        const rows = await store.listPlans();
        if (o.json) {
          process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
          return;
        }
        if (rows.length === 0) {
          process.stdout.write('no plans yet (rollwise plan --help)\n');
          return;
        }
        const p = paletteFor();
        for (const r of rows) {
          const st = r.status === 'needs-review' ? p.yellow(r.status) : r.status === 'superseded' ? p.dim(r.status) : p.green(r.status);
          process.stdout.write(`${r.id} v${r.version}  ${st.padEnd(12)}  ${r.createdAt}  ${r.hosts} host${r.hosts === 1 ? '' : 's'}, ${r.groups} group${r.groups === 1 ? '' : 's'}, ${r.conflicts} conflict${r.conflicts === 1 ? '' : 's'}  ${r.request}\n`);
        }
      } finally {
        await store.close();
      }
    });

  plan
    .command('resolve')
    .description('choose resolutions for conflicts and re-solve (a new plan version); on a terminal without --choose, asks interactively; exit 1 when conflicts remain')
    .argument('<plan>', 'plan id (or a unique prefix)')
    .option('--choose <conflict=resolution>', 'e.g. c1=r2 (repeatable)', collect, [])
    .option('--file <resolutions.yaml>', 'a map of choices, e.g. `c1: r2`')
    .option('--store <file>', 'SQLite store')
    .option('--history <file>', 'earlier deployments the impact prediction weighs (as for plan create)')
    .option('--json', 'print the new version as JSON')
    .action(async (spec: string, o: { choose: string[]; file?: string; store?: string; history?: string; json?: boolean }) => {
      const choices = [...o.choose.map(parseChoice), ...(o.file ? loadResolutionsFile(o.file) : [])];
      const store = await openStore(o.store, { create: false });
      const progress = createProgress();
      try {
        const current = await findPlan(store, spec);
        // what the plan's state says first (approved, superseded), then what this run lacks
        assertCanResolve(current);
        if (choices.length === 0) {
          if (current.conflicts.length === 0) {
            process.stdout.write(`plan ${current.id} v${current.version} has no conflicts to review\n`);
            return;
          }
          if (!(process.stdin.isTTY && process.stdout.isTTY)) {
            throw new RollwiseError('RW_USAGE', 'no terminal to ask on: give --choose CONFLICT=RESOLUTION or --file resolutions.yaml', { hint: `rollwise plan show ${current.id} lists the conflicts and their resolutions` });
          }
          process.stdout.write(renderPlan(current, paletteFor()));
          const final = await reviewInteractively(store, current, inquirerAsk, (s) => process.stdout.write(s), paletteFor(), (t) => progress.update(t));
          progress.done();
          if (final === current) process.stdout.write('nothing chosen; the plan is unchanged\n');
          return;
        }
        const { plan: next, knowledge } = await resolvePlanVersion(current, choices, (t) => progress.update(t), undefined, () => {
          process.stderr.write(`rollwise: resolving plan ${current.id} version ${current.version} into version ${current.version + 1}\n`);
        });
        const analysis = await analysePlan(next, knowledge, [...await store.getHistory(), ...(o.history ? loadHistoryFile(o.history) : [])], (t) => progress.update(t));
        const impact = analysis.impact;
        progress.done();
        await store.savePlan(next, { supersede: { id: current.id, version: current.version } });
        await saveAnalysis(store, next, analysis);
        if (o.json) process.stdout.write(JSON.stringify({ ...(planToJson(next) as object), impact }, null, 2) + '\n');
        else process.stdout.write(renderPlan(next, paletteFor(), { impact, gates: await approvalGatesOfStoredPlan(store, next) }));
        process.exitCode = next.status === 'needs-review' ? 1 : 0;
      } finally {
        progress.done();
        await store.close();
      }
    });

  plan
    .command('approve')
    .description('approve the latest version of a plan: it must have no conflicts left, and every file it was computed from (knowledge base, indexes, inventories, status and request files) must be as it was (else RW_INPUTS_CHANGED); the approval records who and when')
    .argument('<plan>', 'plan id (or a unique prefix)')
    .option('--by <name>', 'who approves (default: the user running rollwise)')
    .option('--override <gate>', 'approve despite a gate, named as the refusal names it (repeatable; needs --reason): a critical requirement not met across hosts, or `rehearsal` for a critical impact without a successful rehearsal', collect, [])
    .option('--reason <text>', 'why approving despite the gates is right (recorded with the approval)')
    .option('--store <file>', 'SQLite store')
    .addHelpText('after', '\nExit status:\n  0  approved (or already approved)\n  1  a gate refused it (RW_APPROVAL_GATE: fix it, rehearse, or --override NAME --reason TEXT)\n  2  bad input: not ready, superseded, inputs changed, unknown plan')
    .action(async (spec: string, o: { store?: string; by?: string; override: string[]; reason?: string }) => {
      if (o.override.length > 0 && !o.reason) throw new RollwiseError('RW_USAGE', '--override needs --reason', { hint: 'say why approving despite the gate is right: --reason TEXT (it is recorded)' });
      const store = await openStore(o.store, { create: false });
      try {
        const r = await approvePlan(store, spec, o.by, o.override.map((name) => ({ name, reason: o.reason! })));
        const p = r.plan;
        if (r.kind === 'already-approved') {
          process.stdout.write(`plan ${p.id} v${p.version} is already approved${p.approval ? ` (by ${p.approval.by} at ${p.approval.at})` : ''}\n`);
          return;
        }
        // Say what will really happen: resolutions may leave some hosts unchanged or change them differently.
        const a = r.summary;
        process.stdout.write(
          `approved plan ${p.id} v${p.version}: ${formatRequest(p.inputs.request)}; ${a.hostsChanging} of ${a.hosts} hosts change` +
            (a.hostsAsResolved ? ` (${a.hostsAsResolved} of them as a chosen resolution says)` : '') +
            (a.hostsUnchanged ? `, ${a.hostsUnchanged} stay as they are` : '') +
            (p.approval ? `; approved by ${p.approval.by} at ${p.approval.at}` : '') +
            '\n' +
            r.overrides.map((x) => `  overriding ${x.name}: ${x.reason}\n`).join(''),
        );
      } finally {
        await store.close();
      }
    });
}
