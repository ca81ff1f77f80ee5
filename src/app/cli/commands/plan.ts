/**
 * `rollwise plan`: plan a request over a fleet, store it, show it, review its conflicts
 * (--choose / --file, or interactively on a terminal), approve it. Everything is validated before
 * the store is opened, so bad input leaves the store exactly as it was.
 */
import { readFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { parseDocument, LineCounter } from 'yaml';
import { RollwiseError } from '../../../shared/errors.js';
import { formatProblem, hasErrors, type KnowledgeBase, type PackageRecord } from '../../../kb/index.js';
import { parseDebianPackages } from '../../../kb/importers/index.js';
import { collectFleet, loadInventory, inventoryError, type Fleet, type FleetHost, type InstalledPackage } from '../../../fleet/index.js';
import {
  buildRequest, loadRequestFile, planDeployment, resolvePlan, parseChoice, validateChoices, createFleetSolver, environmentRulesFromKb,
  installedFillRecords, loadKnowledgeBaseWithUniverse, type KbUniverse,
  renderPlan, planToJson, formatRequest, PLAIN,
  type EnvironmentRules, type Plan, type PlanBody, type PlanRequest, type PlanStore, type ResolutionChoice, type Palette, type KnowledgeBaseLike, type FleetSolver,
} from '../../../planner/index.js';
import { openSqlitePlanStore, defaultStorePath } from '../../../store/index.js';

// ---------------------------------------------------------------------------------------------
// Terminal helpers

export function paletteFor(stream: NodeJS.WriteStream = process.stdout): Palette {
  const on = pc.isColorSupported && stream.isTTY === true && !('NO_COLOR' in process.env);
  if (!on) return PLAIN;
  const c = pc.createColors(true);
  return { bold: c.bold, dim: c.dim, red: c.red, green: c.green, yellow: c.yellow, cyan: c.cyan };
}

/** Progress on a terminal's stderr (one rewritten line); silent in pipes. */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): { update(text: string): void; done(): void } {
  const on = stream.isTTY === true;
  let shown = false;
  return {
    update(text) {
      if (!on) return;
      stream.write(`\r\x1b[2K${text}`);
      shown = true;
    },
    done() {
      if (on && shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

// ---------------------------------------------------------------------------------------------
// Loading the knowledge base and the fleet

export interface PlanningContext {
  kb: KnowledgeBase;
  /** Every layer's records, highest layer first (index layers: light records over the universe when it is loaded). */
  records: PackageRecord[];
  rules: EnvironmentRules;
  /** The layers as a universe (indexes by the fast path); absent without an index, then the solver uses `records`. */
  universe?: KbUniverse;
}

/** Loads the KB layers and indexes; errors (RW_KB_INVALID / RW_IO) carry the first problem's position. */
/**
 * `installed`: the fleet's installed versions when known before loading (records from
 * installedFillRecords): those no layer has are built into the universe at once (no second build).
 */
export async function loadPlanningContext(kbPaths: string[], indexes: string[], installed?: readonly PackageRecord[]): Promise<PlanningContext> {
  if (kbPaths.length + indexes.length === 0) throw new RollwiseError('RW_USAGE', 'no knowledge base given', { hint: 'pass --kb PATH (YAML layers) and/or --index FILE (a Debian Packages index)' });
  for (const i of indexes) if (!existsSync(i)) throw new RollwiseError('RW_IO', `index not found: ${i}`, { hint: 'give a Debian Packages index (plain, .gz or .xz)' });
  for (const k of kbPaths) if (!existsSync(k)) throw new RollwiseError('RW_IO', `knowledge base path not found: ${k}`);
  const { kb, universe } = await loadKnowledgeBaseWithUniverse(kbPaths, { indexes, ...(installed ? { installed } : {}) });
  return planningContextFrom(kb, kbPaths, universe);
}

/** Records (highest layer first wins) and environment rules of a loaded knowledge base. */
export function planningContextFrom(kb: KnowledgeBase, kbPaths: string[] = [], universe?: KbUniverse): PlanningContext {
  if (hasErrors(kb.problems)) {
    const errors = kb.problems.filter((p) => p.severity === 'error');
    const first = errors[0]!;
    throw new RollwiseError('RW_KB_INVALID', `the knowledge base has ${errors.length} problem${errors.length === 1 ? '' : 's'}; first: ${formatProblem(first)}`, {
      ...(first.line !== undefined ? { position: { file: first.file, line: first.line, column: first.column ?? 1 } } : {}),
      hint: `rollwise kb validate ${kbPaths.join(' ')} lists them all`,
    });
  }
  const seen = new Set<string>();
  const records: PackageRecord[] = [];
  for (const layer of kb.layers) {
    for (const r of layer.records) {
      const k = `${r.name}\u0000${r.version}\u0000${r.architecture}`;
      if (seen.has(k)) continue;
      seen.add(k);
      records.push(r);
    }
  }
  return { kb, records, rules: environmentRulesFromKb(kb as unknown as KnowledgeBaseLike), ...(universe ? { universe } : {}) };
}

/** Records (with relations) of installed versions, read from the hosts' dpkg status files. */
export function readStatusRecords(hosts: readonly FleetHost[]): PackageRecord[] {
  const files = new Set(hosts.map((h) => h.installedFrom).filter((f) => f.startsWith('/') && existsSync(f)));
  const out: PackageRecord[] = [];
  for (const f of files) {
    try {
      out.push(...parseDebianPackages(readFileSync(f), f, { layer: `installed:${path.basename(f)}`, trust: 'observed' }).records);
    } catch (_e) {
      /* the fleet loader already reported unreadable status files; relations are a refinement */
    }
  }
  return out;
}

export async function createSolverFor(ctx: PlanningContext, installedSets: Iterable<readonly InstalledPackage[]>, statusRecords: PackageRecord[]): Promise<FleetSolver> {
  const policy = { timeBudgetMs: 20_000 };
  if (!ctx.universe) return createFleetSolver({ records: ctx.records, installedSets, installedRecords: statusRecords, rules: ctx.rules, policy });
  const base = ctx.universe.universe;
  const fill = installedFillRecords((name, version) => base.findPv(name, version) >= 0, installedSets, statusRecords);
  return createFleetSolver({ universe: await ctx.universe.withFill(fill), rules: ctx.rules, policy });
}

export function newPlanId(): string {
  return randomBytes(4).toString('hex');
}

export async function openStore(file: string | undefined): Promise<PlanStore> {
  return openSqlitePlanStore(file ?? defaultStorePath());
}

/** Finds a plan by id or unique id prefix (latest version, or `ID@N` / --version). */
export async function findPlan(store: PlanStore, spec: string, version?: number): Promise<Plan> {
  const m = /^([0-9a-f]{1,32})(?:@v?(\d+))?$/.exec(spec.trim());
  if (!m) throw new RollwiseError('RW_USAGE', `not a plan id '${spec}'`, { hint: 'plan ids are hexadecimal (rollwise plan list); ID@N names version N' });
  const ids = await store.findPlanIds(m[1]!);
  if (ids.length === 0) throw new RollwiseError('RW_NOT_FOUND', `no plan '${m[1]}'`, { hint: 'rollwise plan list shows the stored plans' });
  if (ids.length > 1) throw new RollwiseError('RW_USAGE', `'${m[1]}' matches ${ids.length} plans (${ids.slice(0, 5).join(', ')})`, { hint: 'give more characters of the id' });
  const v = version ?? (m[2] ? Number(m[2]) : undefined);
  const plan = await store.getPlan(ids[0]!, v);
  if (!plan) throw new RollwiseError('RW_NOT_FOUND', `plan ${ids[0]} has no version ${v}`);
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Creating a plan

export interface CreatePlanOptions {
  kb: string[];
  index: string[];
  inventory: string[];
  local: boolean;
  sshHost: string[];
  knownHosts?: string;
  sshIdentity?: string;
  sshConfig?: string;
  skipUnreachable: boolean;
  request: PlanRequest;
  onProgress?: (text: string) => void;
  /** An already loaded knowledge base (the demo has one); otherwise kb/index are loaded. */
  context?: PlanningContext;
}

/** Validates and plans; returns the plan (not yet stored). Throws on bad input before anything is written. */
export async function createPlan(o: CreatePlanOptions): Promise<Plan> {
  if (o.inventory.length === 0 && !o.local && o.sshHost.length === 0) throw new RollwiseError('RW_USAGE', 'no fleet given', { hint: 'pass --inventory FILE, --local or --ssh-host HOST' });
  // Inventory problems first: they are the cheapest to find and need no index.
  let sshInInventory = false;
  for (const f of o.inventory) {
    const r = loadInventory(f);
    if (!r.ok) throw inventoryError(r.problems);
    if (r.inventory.sshHosts.length > 0) sshInInventory = true;
  }
  const collect = (): Promise<Fleet> => collectFleet({
    inventories: o.inventory, local: o.local, sshHosts: o.sshHost,
    ssh: { ...(o.knownHosts ? { knownHosts: path.resolve(o.knownHosts) } : {}), ...(o.sshIdentity ? { identity: path.resolve(o.sshIdentity) } : {}), ...(o.sshConfig ? { configFile: o.sshConfig } : {}) },
    onProgress: (e) => o.onProgress?.(e.phase === 'ssh' ? `collecting hosts over SSH ${e.done}/${e.total}` : `inventory: ${e.done} hosts`),
  });
  // A fleet read from files only (no SSH, no local host) is read first: cheap and without side
  // effects, and its installed versions let the universe be built once. Otherwise the knowledge
  // base is loaded (and its errors reported) before any host is contacted.
  const filesOnly = !o.context && !o.local && o.sshHost.length === 0 && !sshInInventory;
  const early = filesOnly ? await collect() : undefined;
  o.onProgress?.('loading the knowledge base…');
  const hint = early ? installedFillRecords(() => false, early.hosts.map((h) => h.installed), readStatusRecords(early.hosts)) : undefined;
  const ctx = o.context ?? (await loadPlanningContext(o.kb, o.index, hint));
  const fleet: Fleet = early ?? (await collect());
  const unreachable = fleet.findings.filter((f) => f.kind === 'unreachable' || f.kind === 'collection-failed');
  if (unreachable.length > 0 && !o.skipUnreachable) {
    throw new RollwiseError('RW_HOST', `${unreachable.length} host${unreachable.length === 1 ? '' : 's'} could not be collected: ${unreachable.map((f) => `${f.host} (${f.message})`).join('; ')}`, {
      hint: 'fix access (rollwise fleet show) or pass --skip-unreachable to plan the other hosts (they are recorded in the plan)',
    });
  }
  const solver = await createSolverFor(ctx, fleet.hosts.map((h) => h.installed), readStatusRecords(fleet.hosts));
  const body = planDeployment({ fleet, request: o.request, solver, rules: ctx.rules, onProgress: (d, t) => o.onProgress?.(`solving host groups ${d}/${t}`) });
  return assemblePlan(newPlanId(), 1, body, { kind: 'initial' }, {
    kb: o.kb.map((p) => path.resolve(p)), indexes: o.index.map((p) => path.resolve(p)), inventories: o.inventory.map((p) => path.resolve(p)),
    local: o.local, sshHosts: o.sshHost, request: o.request,
  });
}

export function assemblePlan(id: string, version: number, body: PlanBody, origin: Plan['origin'], inputs: Plan['inputs']): Plan {
  return { id, version, status: body.status, createdAt: new Date().toISOString(), origin, inputs, summary: body.summary, groups: body.groups, conflicts: body.conflicts, fleetFindings: body.fleetFindings };
}

/**
 * The main job's plan step (`rollwise demo`): plan shopfront 2.0.0 for the example fleet with an
 * already loaded knowledge base, store it and show the review.
 */
export async function runDemoPlan(kb: KnowledgeBase, kbPaths: string[], index: string, inventory: string, write: (s: string) => void, universe?: KbUniverse): Promise<Plan> {
  const request = buildRequest({ install: ['shopfront=2.0.0'] });
  const progress = createProgress();
  let created: Plan;
  try {
    created = await createPlan({
      kb: kbPaths, index: [index], inventory: [inventory], local: false, sshHost: [], skipUnreachable: false, request,
      context: planningContextFrom(kb, kbPaths, universe), onProgress: (t) => progress.update(t),
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

// ---------------------------------------------------------------------------------------------
// Review

/** Reads a resolutions file: `c1: r2` lines (a map), optionally under `choices:`. */
export function loadResolutionsFile(file: string): ResolutionChoice[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RollwiseError('RW_IO', `cannot read ${file}: ${(e as Error).message}`);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const at = (offset: number) => {
    const p = lc.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
  if (doc.errors.length) throw new RollwiseError('RW_USAGE', doc.errors[0]!.message.split('\n')[0]!, { position: at(doc.errors[0]!.pos[0]) });
  let data = doc.toJS() as unknown;
  if (data && typeof data === 'object' && !Array.isArray(data) && 'choices' in data) data = (data as { choices: unknown }).choices;
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new RollwiseError('RW_USAGE', 'expected a map CONFLICT: RESOLUTION (e.g. `c1: r2`)', { position: { file, line: 1, column: 1 } });
  return Object.entries(data as Record<string, unknown>).map(([k, v]) => {
    if (typeof v !== 'string') {
      const node = doc.getIn(Object.keys(doc.toJS() as object).includes('choices') ? ['choices', k] : [k], true) as { range?: [number, number, number] } | undefined;
      throw new RollwiseError('RW_USAGE', `resolution for ${k} must be an id such as r1`, { position: at(node?.range?.[0] ?? 0) });
    }
    return parseChoice(`${k}=${v}`);
  });
}

/** Re-solves a plan with the chosen resolutions: the next version (not yet stored). */
export async function resolveStoredPlan(plan: Plan, choices: ResolutionChoice[], onProgress?: (text: string) => void, context?: PlanningContext): Promise<Plan> {
  if (plan.status === 'superseded') throw new RollwiseError('RW_USAGE', `plan ${plan.id} v${plan.version} is superseded`, { hint: 'resolve the latest version' });
  if (plan.status === 'approved') throw new RollwiseError('RW_USAGE', `plan ${plan.id} v${plan.version} is already approved`);
  // Check the choices against the plan before the (slow) loading.
  validateChoices(plan, choices);
  const hosts: FleetHost[] = [];
  for (const f of plan.inputs.inventories) {
    const r = existsSync(f) ? loadInventory(f) : undefined;
    if (r?.ok) hosts.push(...r.inventory.hosts);
  }
  // the local host's status (read-only) when the plan included it; SSH hosts' sets are in the plan
  if (plan.inputs.local) hosts.push({ name: 'local', source: 'local', groups: [], labels: {}, facts: {}, installed: [], installedFrom: '/var/lib/dpkg/status' });
  const statusRecords = readStatusRecords(hosts);
  onProgress?.('loading the knowledge base…');
  const ctx = context ?? (await loadPlanningContext(plan.inputs.kb, plan.inputs.indexes, installedFillRecords(() => false, plan.groups.map((g) => g.installed), statusRecords)));
  const solver = await createSolverFor(ctx, plan.groups.map((g) => g.installed), statusRecords);
  const body = resolvePlan(plan, choices, solver, ctx.rules, (d, t) => onProgress?.(`re-solving host groups ${d}/${t}`));
  const applied = choices.map((c) => {
    const conflict = plan.conflicts.find((x) => x.id === c.conflict)!;
    const res = conflict.resolutions.find((x) => x.id === c.resolution)!;
    return { conflict: c.conflict, resolution: c.resolution, description: res.description, fromVersion: plan.version };
  });
  return assemblePlan(plan.id, plan.version + 1, body, { kind: 'resolution', parentVersion: plan.version, choices: applied }, plan.inputs);
}

export type AskResolution = (question: { message: string; choices: Array<{ name: string; value: string | null; description?: string }> }) => Promise<string | null>;

/** The interactive review: one question per conflict; returns the choices made (possibly none). */
export async function askChoices(plan: Plan, ask: AskResolution): Promise<ResolutionChoice[]> {
  const out: ResolutionChoice[] = [];
  for (const c of plan.conflicts) {
    if (c.resolutions.length === 0) continue;
    const hosts = plan.groups.filter((g) => c.groups.includes(g.key)).flatMap((g) => g.hosts);
    const message = `${c.id} (${c.hosts} host${c.hosts === 1 ? '' : 's'}: ${hosts.slice(0, 3).join(', ')}${hosts.length > 3 ? ', …' : ''}): ${c.explanation.at(-1) ?? ''}`;
    const answer = await ask({
      message,
      choices: [
        ...c.resolutions.map((r) => ({ name: `${r.id}  ${r.description}`, value: r.id, description: c.explanation.join('\n') })),
        { name: 'decide later', value: null },
      ],
    });
    if (answer) out.push({ conflict: c.id, resolution: answer });
  }
  return out;
}

async function inquirerAsk(q: Parameters<AskResolution>[0]): Promise<string | null> {
  const { select } = await import('@inquirer/prompts');
  return select<string | null>({ message: q.message, choices: q.choices.map((c) => ({ name: c.name, value: c.value, ...(c.description ? { description: c.description } : {}) })) });
}

/** Interactive loop: choose, re-solve at once, store, and ask again while conflicts remain. */
export async function reviewInteractively(store: PlanStore, plan: Plan, ask: AskResolution, write: (s: string) => void, palette: Palette, onProgress?: (text: string) => void): Promise<Plan> {
  let current = plan;
  for (let round = 0; round < 10 && current.conflicts.length > 0; round++) {
    const choices = await askChoices(current, ask);
    if (choices.length === 0) break;
    const next = await resolveStoredPlan(current, choices, onProgress);
    await store.savePlan(next, { supersede: { id: current.id, version: current.version } });
    current = next;
    write(renderPlan(current, palette));
  }
  return current;
}

// ---------------------------------------------------------------------------------------------
// Commands

function intOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new RollwiseError('RW_USAGE', `not a version number '${v}'`);
  return n;
}

export function register(program: Command): void {
  const plan = program.command('plan').description('plan a package change over a fleet, review its conflicts, approve it (plans are stored in .rollwise/rollwise.db)');

  plan
    .command('create', { isDefault: true })
    .description('plan a request for every host group (the default: `rollwise plan --kb ... --inventory ... --install ...`)')
    .option('--kb <path>', 'knowledge-base YAML file or directory (repeatable)', collect, [])
    .option('--index <file>', 'Debian Packages index, plain/.gz/.xz (repeatable)', collect, [])
    .option('--inventory <file>', 'YAML inventory (repeatable)', collect, [])
    .option('--local', 'include this machine (its dpkg status, read-only)', false)
    .option('--ssh-host <[user@]host[:port]>', 'collect a host over SSH (repeatable)', collect, [])
    .option('--known-hosts <file>', 'known_hosts file for SSH (host keys are always checked)')
    .option('--ssh-identity <file>', 'SSH private key')
    .option('--ssh-config <file>', 'ssh config file (-F)')
    .option('--skip-unreachable', 'plan the reachable hosts and record the others as findings', false)
    .option('--install <spec>', 'NAME, NAME=VERSION, NAME>=VERSION or "NAME (>= VERSION)" (repeatable)', collect, [])
    .option('--remove <spec>', 'package to remove (repeatable)', collect, [])
    .option('--upgrade <spec>', 'package to upgrade (repeatable)', collect, [])
    .option('--request <file>', 'request file (install:/remove:/upgrade: lists)')
    .option('--store <file>', 'SQLite store (default .rollwise/rollwise.db under the working directory)')
    .option('--json', 'print the plan as JSON')
    .action(async (o: { kb: string[]; index: string[]; inventory: string[]; local: boolean; sshHost: string[]; knownHosts?: string; sshIdentity?: string; sshConfig?: string; skipUnreachable: boolean; install: string[]; remove: string[]; upgrade: string[]; request?: string; store?: string; json?: boolean }) => {
      if (o.request && o.install.length + o.remove.length + o.upgrade.length > 0) throw new RollwiseError('RW_USAGE', 'give either --request FILE or --install/--remove/--upgrade, not both');
      const request = o.request ? loadRequestFile(o.request) : buildRequest({ install: o.install, remove: o.remove, upgrade: o.upgrade });
      const progress = createProgress();
      let created: Plan;
      try {
        created = await createPlan({
          kb: o.kb, index: o.index, inventory: o.inventory, local: o.local, sshHost: o.sshHost, skipUnreachable: o.skipUnreachable, request,
          ...(o.knownHosts ? { knownHosts: o.knownHosts } : {}), ...(o.sshIdentity ? { sshIdentity: o.sshIdentity } : {}), ...(o.sshConfig ? { sshConfig: o.sshConfig } : {}),
          onProgress: (t) => progress.update(t),
        });
      } finally {
        progress.done();
      }
      const store = await openStore(o.store);
      try {
        await store.savePlan(created);
      } finally {
        await store.close();
      }
      if (o.json) process.stdout.write(JSON.stringify(planToJson(created), null, 2) + '\n');
      else process.stdout.write(renderPlan(created, paletteFor()));
    });

  plan
    .command('show')
    .description('render a stored plan (grouped, summarised); --json for programs')
    .argument('<plan>', 'plan id (or a unique prefix; ID@N for version N)')
    .option('--version <n>', 'a given version (default: the latest)', intOption)
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the plan as JSON')
    .action(async (spec: string, o: { version?: number; store?: string; json?: boolean }) => {
      const store = await openStore(o.store);
      try {
        const p = await findPlan(store, spec, o.version);
        if (o.json) process.stdout.write(JSON.stringify(planToJson(p), null, 2) + '\n');
        else process.stdout.write(renderPlan(p, paletteFor()));
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
      const store = await openStore(o.store);
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
          process.stdout.write(`${r.id} v${r.version}  ${st.padEnd(12)}  ${r.createdAt}  ${r.hosts} hosts, ${r.groups} groups, ${r.conflicts} conflicts  ${r.request}\n`);
        }
      } finally {
        await store.close();
      }
    });

  plan
    .command('resolve')
    .description('choose resolutions for conflicts and re-solve (a new plan version); on a terminal without --choose, asks interactively')
    .argument('<plan>', 'plan id (or a unique prefix)')
    .option('--choose <conflict=resolution>', 'e.g. c1=r2 (repeatable)', collect, [])
    .option('--file <resolutions.yaml>', 'a map of choices, e.g. `c1: r2`')
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the new version as JSON')
    .action(async (spec: string, o: { choose: string[]; file?: string; store?: string; json?: boolean }) => {
      const choices = [...o.choose.map(parseChoice), ...(o.file ? loadResolutionsFile(o.file) : [])];
      const store = await openStore(o.store);
      const progress = createProgress();
      try {
        const current = await findPlan(store, spec);
        if (choices.length === 0) {
          if (!(process.stdin.isTTY && process.stdout.isTTY)) {
            throw new RollwiseError('RW_USAGE', 'no terminal to ask on: give --choose CONFLICT=RESOLUTION or --file resolutions.yaml', { hint: `rollwise plan show ${current.id} lists the conflicts and their resolutions` });
          }
          if (current.conflicts.length === 0) {
            process.stdout.write(`plan ${current.id} v${current.version} has no conflicts to review\n`);
            return;
          }
          process.stdout.write(renderPlan(current, paletteFor()));
          const final = await reviewInteractively(store, current, inquirerAsk, (s) => process.stdout.write(s), paletteFor(), (t) => progress.update(t));
          progress.done();
          if (final === current) process.stdout.write('nothing chosen; the plan is unchanged\n');
          return;
        }
        const next = await resolveStoredPlan(current, choices, (t) => progress.update(t));
        progress.done();
        await store.savePlan(next, { supersede: { id: current.id, version: current.version } });
        if (o.json) process.stdout.write(JSON.stringify(planToJson(next), null, 2) + '\n');
        else process.stdout.write(renderPlan(next, paletteFor()));
      } finally {
        progress.done();
        await store.close();
      }
    });

  plan
    .command('approve')
    .description('approve the latest version of a plan (it must have no conflicts left)')
    .argument('<plan>', 'plan id (or a unique prefix)')
    .option('--store <file>', 'SQLite store')
    .action(async (spec: string, o: { store?: string }) => {
      const store = await openStore(o.store);
      try {
        const p = await findPlan(store, spec);
        if (p.status === 'approved') {
          process.stdout.write(`plan ${p.id} v${p.version} is already approved\n`);
          return;
        }
        if (p.status !== 'ready') {
          throw new RollwiseError('RW_USAGE', `plan ${p.id} v${p.version} is ${p.status}${p.conflicts.length ? ` with ${p.conflicts.length} conflict${p.conflicts.length === 1 ? '' : 's'}` : ''}`, {
            hint: p.conflicts.length ? `review them first: rollwise plan resolve ${p.id}` : 'only the latest, ready version can be approved',
          });
        }
        await store.setStatus(p.id, p.version, 'approved');
        // Say what will really happen: resolutions may leave some hosts unchanged or change them differently.
        const changing = p.groups.filter((g) => g.outcome.kind === 'transaction' && g.outcome.changes.length > 0);
        const hostsChanging = changing.reduce((n, g) => n + g.hosts.length, 0);
        const altered = changing.filter((g) => g.choices.length > 0).reduce((n, g) => n + g.hosts.length, 0);
        process.stdout.write(
          `approved plan ${p.id} v${p.version}: ${formatRequest(p.inputs.request)}; ${hostsChanging} of ${p.summary.hosts} hosts change` +
            (altered ? ` (${altered} of them as a chosen resolution says)` : '') +
            (p.summary.hosts - hostsChanging ? `, ${p.summary.hosts - hostsChanging} stay as they are` : '') +
            '\n',
        );
      } finally {
        await store.close();
      }
    });
}
