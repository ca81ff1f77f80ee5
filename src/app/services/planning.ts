/**
 * The planning use cases every front end calls (the CLI today, the HTTP server next): create a
 * plan over a fleet, resolve a stored plan's conflicts into the next version, approve it; find
 * plans in the store. They read files and open stores; the rules themselves are the planner's
 * (src/planner: planDeployment, resolvePlan, lifecycle.ts). Everything is validated before the
 * store is opened, so bad input leaves the store as it was.
 */
import { createReadStream, existsSync } from 'node:fs';
import os from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { RollwiseError, documentData, excerpt, positionAt, readYamlFile, syntaxProblems, locatePath } from '../../shared/index.js';
import type { PackageRecord } from '../../kb/index.js';
import { loadInventory, inventoryError, type Fleet, type FleetHost, type InstalledPackage, type InventoryLoadResult } from '../../fleet/index.js';
import {
  appliedChoices, assemblePlan, assertCanApprove, assertGatesPassed, assertCanResolve, createFleetSolver, createGroupSolvePool, installedFillRecords, parseChoice, planDeploymentAsync,
  resolvePlan, solveThreads, summariseApproval, validateChoices,
  type ApprovalOverride, type ApprovalSummary, type FleetSolver, type FleetSolverOptions, type Plan, type PlanBody, type PlanRequest, type PlanStore, type PoolPolicy, type ResolutionChoice,
} from '../../planner/index.js';
import { checkSqliteStoreWritable, openSqlitePlanStore, defaultStorePath, type RollwiseStore } from '../../store/index.js';
import { loadKnowledge, type Knowledge } from './knowledge.js';
import { readFleet, readStatusRecords, type FleetInputs } from './fleet.js';
import { approvalGatesOfStoredPlan } from './review.js';

/**
 * The solver over the knowledge base's universe with the fleet's installed versions filled in;
 * `recommends: false` solves without Recommends (no package is added for them).
 */
export async function createSolverFor(knowledge: Knowledge, installedSets: Iterable<readonly InstalledPackage[]>, statusRecords: readonly PackageRecord[] = [], options: { recommends?: boolean } = {}): Promise<FleetSolver> {
  return createFleetSolver(await solverOptionsFor(knowledge, installedSets, statusRecords, options));
}

/** What createSolverFor builds its solver from (a solve pool's workers build the same one). */
async function solverOptionsFor(knowledge: Knowledge, installedSets: Iterable<readonly InstalledPackage[]>, statusRecords: readonly PackageRecord[], options: { recommends?: boolean }): Promise<FleetSolverOptions & { policy: PoolPolicy }> {
  const universe = await knowledge.universe.withFill(installedFillRecords(installedSets, statusRecords));
  return { universe, rules: knowledge.rules, policy: { timeBudgetMs: 20_000, ...(options.recommends === false ? { recommends: false } : {}) } };
}

export function newPlanId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * The store for writing commands (`--store FILE`, default .rollwise/rollwise.db): migrated to
 * the newest schema; created when absent unless `create` is false (resolve and approve need an
 * existing store: RW_NOT_FOUND otherwise). Fails with RW_STORE when it cannot be written.
 */
export async function openStore(file: string | undefined, options: { create?: boolean } = {}): Promise<RollwiseStore> {
  return openSqlitePlanStore(file ?? defaultStorePath(), { access: 'write', create: options.create ?? true });
}

/**
 * The store for read-only commands: opened read-only, never created or migrated (RW_NOT_FOUND
 * when there is none; RW_STORE for a file that is not a Rollwise store or an older schema).
 */
export async function openStoreForReading(file: string | undefined): Promise<RollwiseStore> {
  return openSqlitePlanStore(file ?? defaultStorePath(), { access: 'read' });
}

/**
 * Checks, before any slow work and without creating anything, that the result can be stored:
 * RW_STORE for a read-only store, folder or mount, or a file that is not a Rollwise store.
 */
export async function checkStoreWritable(file: string | undefined): Promise<void> {
  await checkSqliteStoreWritable(file ?? defaultStorePath());
}

/** Finds a plan by id or unique id prefix (latest version, or `ID@N` / `version`). */
export async function findPlan(store: PlanStore, spec: string, version?: number): Promise<Plan> {
  const m = /^([0-9a-f]{1,32})(?:@v?(\d+))?$/.exec(spec.trim());
  if (!m) throw new RollwiseError('RW_USAGE', `not a plan id '${spec}'`, { hint: 'plan ids are hexadecimal (rollwise plan list); ID@N names version N' });
  const ids = await store.findPlanIds(m[1]!);
  if (ids.length === 0) throw new RollwiseError('RW_NOT_FOUND', `no plan '${m[1]}'`, { hint: 'rollwise plan list shows the stored plans' });
  if (ids.length > 1) throw new RollwiseError('RW_USAGE', `'${m[1]}' matches ${ids.length} plans (${ids.slice(0, 5).join(', ')})`, { hint: 'give more characters of the id' });
  const v = version ?? (m[2] ? Number(m[2]) : undefined);
  const plan = await store.getPlan(ids[0]!, v);
  if (!plan) throw new RollwiseError('RW_NOT_FOUND', `plan ${ids[0]} has no version ${v}`, { hint: `rollwise plan show ${ids[0]} shows the latest version` });
  return plan;
}

/** sha256 of each file (absolute paths); a file that cannot be read has no digest. */
export async function digestFiles(paths: Iterable<string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of [...new Set([...paths].map((x) => path.resolve(x)))].sort()) {
    try {
      const h = createHash('sha256');
      for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
      out[p] = h.digest('hex');
    } catch {
      /* unreadable now: recorded as absent, so a later check says it went missing */
    }
  }
  return out;
}

/** The files a plan version is computed from: KB files and indexes, inventories, status files, the request file. */
function inputFiles(knowledge: Knowledge, inventories: readonly string[], hosts: readonly FleetHost[], requestFile?: string): string[] {
  const files = [...knowledge.kb.layers.flatMap((l) => l.files), ...inventories];
  for (const h of hosts) if (path.isAbsolute(h.installedFrom) && existsSync(h.installedFrom)) files.push(h.installedFrom);
  if (requestFile) files.push(requestFile);
  return files;
}

/**
 * What is approved is what was reviewed: the files a version was computed from must be as they
 * were. RW_INPUTS_CHANGED names every file that changed or went missing.
 */
export async function assertInputsUnchanged(plan: Plan, doing: string): Promise<void> {
  const recorded = plan.inputs.digests;
  if (!recorded) return;
  const now = await digestFiles(Object.keys(recorded));
  const changed = Object.keys(recorded).filter((f) => now[f] !== recorded[f]).map((f) => `${f} (${now[f] === undefined ? 'missing' : 'changed'})`);
  if (changed.length === 0) return;
  throw new RollwiseError('RW_INPUTS_CHANGED', `cannot ${doing} plan ${plan.id} v${plan.version}: ${changed.length} of its inputs changed since it was made: ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? `, and ${changed.length - 5} more` : ''}`, {
    hint: 'plan the request again to see what the change does (rollwise plan ...); a plan is approved against the inputs it was reviewed with',
  });
}

export interface CreatePlanInputs extends FleetInputs {
  kb: string[];
  index: string[];
  /** Indexes loaded only when no index is given and no KB path is one (the embedded default). */
  fallbackIndexes?: string[];
  skipUnreachable: boolean;
  request: PlanRequest;
  /** The request file the request was read from (its digest is recorded). */
  requestFile?: string;
  onProgress?: (text: string) => void;
  /** Warnings about the request found before solving (a hold of a package no host has installed). */
  onWarning?: (message: string) => void;
  /** An already loaded knowledge base (the demo has one); otherwise kb/index are loaded. */
  knowledge?: Knowledge;
  /** false: solve without Recommends (recorded in the plan's inputs, so a resolve does the same). Default: Recommends count. */
  recommends?: boolean;
  /** Worker threads that solve host groups (solveThreads(): ROLLWISE_THREADS, else the CPUs, at most 4); 1: the main thread only. */
  threads?: number;
}

/** Validates and plans; returns the plan (not yet stored). Throws on bad input before anything is written. */
export async function createPlan(o: CreatePlanInputs): Promise<Plan> {
  return (await planFleet(o)).plan;
}

/** createPlan, with the knowledge base it loaded (for what is computed from both: impact, rollback). */
export async function planFleet(o: CreatePlanInputs): Promise<{ plan: Plan; knowledge: Knowledge }> {
  if (o.inventory.length === 0 && !o.local && o.sshHost.length === 0) throw new RollwiseError('RW_USAGE', 'no fleet given', { hint: 'pass --inventory FILE, --local or --ssh-host HOST' });
  // Inventory problems first: they are the cheapest to find and need no index.
  let sshInInventory = false;
  const loaded = new Map<string, InventoryLoadResult>();
  for (const f of o.inventory) {
    const r = loadInventory(f, { allowOutsidePaths: o.allowOutsidePaths === true });
    if (!r.ok) throw inventoryError(r.problems, f);
    if (r.inventory.sshHosts.length > 0) sshInInventory = true;
    loaded.set(f, r);
  }
  // A fleet read from files only (no SSH, no local host) is read first: cheap and without side
  // effects, and its installed versions let the universe be built once. Otherwise the knowledge
  // base is loaded (and its errors reported) before any host is contacted.
  const filesOnly = !o.knowledge && !o.local && o.sshHost.length === 0 && !sshInInventory;
  const early = filesOnly ? await readFleet(o, o.onProgress, undefined, loaded) : undefined;
  o.onProgress?.('loading the knowledge base…');
  const hint = early ? installedFillRecords(early.hosts.map((h) => h.installed), readStatusRecords(early.hosts)) : undefined;
  const knowledge = o.knowledge ?? (await loadKnowledge({ kb: o.kb, indexes: o.index, ...(o.fallbackIndexes ? { fallbackIndexes: o.fallbackIndexes } : {}), ...(hint ? { installed: hint } : {}), allowOutsidePaths: o.allowOutsidePaths === true }));
  const fleet: Fleet = early ?? (await readFleet(o, o.onProgress, undefined, loaded));
  const unreachable = fleet.findings.filter((f) => f.kind === 'unreachable' || f.kind === 'collection-failed');
  if (unreachable.length > 0 && !o.skipUnreachable) {
    throw new RollwiseError('RW_HOST', `${unreachable.length} host${unreachable.length === 1 ? '' : 's'} could not be collected: ${unreachable.map((f) => `${f.host} (${f.message})`).join('; ')}`, {
      hint: 'fix access (rollwise fleet show) or pass --skip-unreachable to plan the other hosts (they are recorded in the plan)',
      // an outcome to act on (the input was fine; hosts were not there), like fleet show's
      exitCode: 1,
    });
  }
  const options = await solverOptionsFor(knowledge, fleet.hosts.map((h) => h.installed), readStatusRecords(fleet.hosts), { recommends: o.recommends !== false });
  const solver = createFleetSolver(options);
  // worker threads for large fleets (they start only when a batch of solves is large enough)
  const threads = o.threads ?? solveThreads();
  const pool = threads > 1 ? createGroupSolvePool({ ...options, threads }) : undefined;
  let body: PlanBody;
  try {
    body = await planDeploymentAsync({ fleet, request: o.request, solver, rules: knowledge.rules, ...(pool ? { pool } : {}), ...(o.onWarning ? { onWarning: o.onWarning } : {}), onProgress: (d, t) => o.onProgress?.(`solving host groups ${d}/${t}`) });
  } finally {
    await pool?.close();
  }
  const digests = await digestFiles(inputFiles(knowledge, o.inventory, fleet.hosts, o.requestFile));
  const plan = assemblePlan(newPlanId(), 1, body, { kind: 'initial' }, {
    ...(o.requestFile ? { requestFile: path.resolve(o.requestFile) } : {}), digests,
    // the indexes really loaded (the default one too), so a later resolve loads the same
    kb: o.kb.map((p) => path.resolve(p)), indexes: loadedIndexes(knowledge, o.index), inventories: o.inventory.map((p) => path.resolve(p)),
    local: o.local, sshHosts: [...o.sshHost], request: o.request, ...(o.recommends === false ? { recommends: false as const } : {}),
  });
  return { plan, knowledge };
}

/** The index files a knowledge base loaded as layers, absolute (those given, when it was loaded elsewhere without any). */
function loadedIndexes(knowledge: Knowledge, given: readonly string[]): string[] {
  const loaded = knowledge.kb.layers.filter((l) => l.origin === 'index').map((l) => path.resolve(l.source));
  return loaded.length > 0 ? loaded : given.map((p) => path.resolve(p));
}

/** Re-solves a plan with the chosen resolutions: the next version (not yet stored). */
export async function resolveStoredPlan(plan: Plan, choices: readonly ResolutionChoice[], onProgress?: (text: string) => void, knowledge?: Knowledge, onChecked?: () => void): Promise<Plan> {
  return (await resolvePlanVersion(plan, choices, onProgress, knowledge, onChecked)).plan;
}

/** resolveStoredPlan, with the knowledge base it loaded. */
export async function resolvePlanVersion(plan: Plan, choices: readonly ResolutionChoice[], onProgress?: (text: string) => void, knowledge?: Knowledge, onChecked?: () => void): Promise<{ plan: Plan; knowledge: Knowledge }> {
  assertCanResolve(plan);
  // Check the choices against the plan before the (slow) loading.
  validateChoices(plan, choices);
  await assertInputsUnchanged(plan, 'resolve');
  onChecked?.();
  const hosts: FleetHost[] = [];
  for (const f of plan.inputs.inventories) {
    // the files these inputs name were accepted when the plan was made, and their digests are unchanged
    const r = existsSync(f) ? loadInventory(f, { allowOutsidePaths: true }) : undefined;
    if (r?.ok) hosts.push(...r.inventory.hosts);
  }
  // the local host's status (read-only) when the plan included it; SSH hosts' sets are in the plan
  if (plan.inputs.local) hosts.push({ name: 'local', source: 'local', groups: [], labels: {}, facts: {}, installed: [], installedFrom: '/var/lib/dpkg/status' });
  const statusRecords = readStatusRecords(hosts);
  const installedSets = plan.groups.map((g) => g.installed);
  onProgress?.('loading the knowledge base…');
  const k = knowledge ?? (await loadKnowledge({ kb: plan.inputs.kb, indexes: plan.inputs.indexes, installed: installedFillRecords(installedSets, statusRecords), allowOutsidePaths: true }));
  const solver = await createSolverFor(k, installedSets, statusRecords, { recommends: plan.inputs.recommends !== false });
  const body = resolvePlan(plan, choices, solver, k.rules, (d, t) => onProgress?.(`re-solving host groups ${d}/${t}`));
  return { plan: assemblePlan(plan.id, plan.version + 1, body, { kind: 'resolution', parentVersion: plan.version, choices: appliedChoices(plan, choices) }, plan.inputs), knowledge: k };
}

export type ApprovalOutcome = { kind: 'approved'; plan: Plan; summary: ApprovalSummary; overrides: ApprovalOverride[] } | { kind: 'already-approved'; plan: Plan };

/** Approves the latest version of a plan when the planner's rules allow it. */
export async function approvePlan(store: PlanStore, spec: string, by: string = approverName(), overrides: readonly ApprovalOverride[] = []): Promise<ApprovalOutcome> {
  const plan = await findPlan(store, spec);
  if (plan.status === 'approved') return { kind: 'already-approved', plan };
  assertCanApprove(plan);
  await assertInputsUnchanged(plan, 'approve');
  // gates: critical requirements not met across hosts; a critical impact nobody rehearsed
  const gates = await approvalGatesOfStoredPlan(store, plan);
  const used = assertGatesPassed(plan, gates, overrides);
  const approval = { by, at: new Date().toISOString() };
  for (const o of used) await store.addRecord(plan.id, plan.version, { kind: 'override', createdAt: approval.at, body: { ...o, by } });
  await store.setStatus(plan.id, plan.version, 'approved', approval);
  return { kind: 'approved', plan: { ...plan, status: 'approved', approval }, summary: summariseApproval(plan), overrides: used };
}

/** Who approves, when not said: the user this runs as (SUDO_USER when run through sudo). */
export function approverName(): string {
  return process.env.SUDO_USER || os.userInfo().username;
}

/** Reads a resolutions file: a map `c1: r2`, optionally under `choices:`. Errors carry file:line:column. */
export function loadResolutionsFile(file: string): ResolutionChoice[] {
  const src = readYamlFile(file, 'resolutions file');
  const syntax = syntaxProblems(src);
  const hint = 'a resolutions file is a map CONFLICT: RESOLUTION, e.g. `c1: r2`';
  if (syntax.length) throw new RollwiseError('RW_USAGE', `YAML syntax: ${syntax[0]!.message}`, { position: syntax[0]!.position, hint });
  const read = documentData(src);
  if (!read.ok) throw new RollwiseError('RW_USAGE', read.problem.message, { position: read.problem.position, hint });
  let data = read.data;
  const nested = data !== null && typeof data === 'object' && !Array.isArray(data) && 'choices' in data;
  if (nested) data = (data as { choices: unknown }).choices;
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new RollwiseError('RW_USAGE', 'expected a map CONFLICT: RESOLUTION (e.g. `c1: r2`)', { position: positionAt(src, 0), hint });
  const entries = Object.entries(data as Record<string, unknown>);
  // a map none of whose keys is a conflict id is not a resolutions file: nothing of it is quoted
  if (!entries.some(([k]) => /^c\d+$/.test(k))) throw new RollwiseError('RW_USAGE', 'not a resolutions file: none of its keys is a conflict id such as c1 (its content is not shown)', { position: positionAt(src, 0), hint });
  return entries.map(([k, v]) => {
    if (typeof v === 'string' && !/^r\d+$/.test(v)) throw new RollwiseError('RW_USAGE', `the resolution for ${excerpt(k, 12)} is not an id such as r1`, { position: locatePath(src, nested ? ['choices', k] : [k]), hint });
    if (typeof v !== 'string') throw new RollwiseError('RW_USAGE', `resolution for ${excerpt(k)} must be an id such as r1`, { position: locatePath(src, nested ? ['choices', k] : [k]), hint });
    return parseChoice(`${k}=${v}`);
  });
}

