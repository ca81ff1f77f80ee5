/**
 * The deployment use cases every front end calls: start a deployment of an approved plan
 * version (hosts from the plan's inventories, selected with `--hosts`, laid out in waves), resume,
 * pause or abort one, and read its status and journal. The engine is src/deploy's; here the
 * seams are wired: a host driver per inventory host (a directory root on this machine, or SSH),
 * the former .debs kept in a folder per deployment and host, the services to restart and check
 * from the knowledge base, a re-resolution of a drifted host with the planner's solver, and the
 * judge (bake time only until a metric judge is wired). Database work: the migrations each group's
 * changes add (their scripts read from the knowledge base when the deployment starts, kept with
 * it), each host's database addresses from the inventory, backups in a folder per deployment and
 * host, and the risks approved with the plan (a restore from a backup needs its approval).
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { RollwiseError, excerpt } from '../../shared/index.js';
import { loadInventory, type DatabaseRef, type FleetHost, type SshDefaults } from '../../fleet/index.js';
import type { PackageChange } from '../../solver/index.js';
import {
  forwardMigrations, layoutWaves, matchesSelector, type GroupRollback, parseDuration, parseFailureBudget, parseHostSelector, parseWaveSizes, rollbackKnowledgeFromKb, serviceStartOrder, DEFAULT_WAVE_SIZES,
  type Plan, type PlanStore,
} from '../../planner/index.js';
import { createDebCache, createDirectoryRootDriver, createChrootRootDriver, createLocalRunner, createSshDriver } from '../../hosts/index.js';
import { effectiveServices } from '../../kb/index.js';
import { checksFromService, type MetricCheck, type Providers } from '../../analysis/index.js';
import { createCommandProbeProvider, createHttpProbeProvider, createPrometheusProvider, startAlertReceiver, type AlertReceiver } from '../../monitor/index.js';
import {
  createBakeOnlyJudge, createDeploymentFor, createMetricJudge, hostStates, isDeploymentFinished, loadChecksFile, runDeployment, RESOLUTION_POLICIES,
  type DeployEvent, type DeployMigration, type DeploymentGroupSpec, type DeploymentRecord, type DeploymentSpec, type DeploymentStore, type EngineDriver, type EngineResult,
  type DeploymentJudgeSpec, type EngineOptions, type JournalEntry, type ResolutionPolicy, type ResolveHost, type WaveJudge,
} from '../../deploy/index.js';
import { compareDebian } from '../../versions/index.js';
import { findPlan, approverName, createSolverFor } from './planning.js';
import { impactForStoredPlan, knowledgeOfPlan, rollbacksOfStoredPlan, type PlanRollback } from './review.js';
import { flatFileSources } from './staging.js';
import type { Knowledge } from './knowledge.js';
import { afterDeployment, LEARNED_KB_ENV } from './learn.js';

export type DeployStore = PlanStore & DeploymentStore;

export interface StartDeploymentInput {
  store: DeployStore;
  plan: string;
  hosts?: string;
  waves?: string;
  bake?: string;
  maxFailures?: string;
  rolloutMaxFailures?: string;
  gateAfter?: number[];
  concurrency?: number;
  hostTimeout?: string;
  policy?: string;
  /** Run apt, dpkg and maintainer scripts inside each directory root (complete Debian systems). */
  chroot?: boolean;
  /** Where the former .debs are kept (a folder per deployment and host). */
  debCacheDir: string;
  /** Where database backups are written (a folder per deployment and host; default: `backups` beside the deb cache). */
  backupDir?: string;
  /** A deployment's own checks (YAML, see src/deploy/metric-judge.ts), judged with the knowledge base's. */
  checks?: string;
  /** Prometheus' base URL (default: env ROLLWISE_PROMETHEUS_URL). */
  prometheus?: string;
  /** The label naming the host in Prometheus' results (default: env ROLLWISE_PROMETHEUS_HOST_LABEL, else `instance`). */
  prometheusHostLabel?: string;
  /** Where the controller receives Alertmanager's webhooks for `alerts` checks: `[127.0.0.1:]PORT` on loopback (default: env ROLLWISE_ALERTS_LISTEN); a bearer token from env ROLLWISE_ALERTS_TOKEN. */
  alertsListen?: string;
  /** Replaces the judge built from the checks (tests, the demo). */
  judge?: WaveJudge;
  /** How often a pause or abort request is looked for during a bake (default 500 ms). */
  controlPollMs?: number;
  onEvent?: (e: DeployEvent) => void;
  onProgress?: (text: string) => void;
  /** The learned layer a rollback's culprit is recorded in (default: env ROLLWISE_LEARNED_KB; none: not recorded). */
  learnedKb?: string;
  /** Test seam: the controller stops as if killed just before this journal entry is stored. */
  crashBefore?: EngineOptions['crashBefore'];
}

export interface DeploymentRun {
  id: string;
  result: EngineResult;
}

/** The inventory hosts of a plan, by name (the files were accepted when the plan was made). */
type InventoryHost = FleetHost & { sshDefaults?: SshDefaults; databases?: Record<string, DatabaseRef> };

function inventoryHosts(plan: Plan): Map<string, InventoryHost> {
  const out = new Map<string, InventoryHost>();
  for (const f of plan.inputs.inventories) {
    const r = existsSync(f) ? loadInventory(f, { allowOutsidePaths: true }) : undefined;
    if (r?.ok) for (const h of [...r.inventory.hosts, ...r.inventory.sshHosts]) out.set(h.name, { ...h, sshDefaults: r.inventory.ssh, ...(r.inventory.databases[h.name] ? { databases: r.inventory.databases[h.name] } : {}) });
  }
  return out;
}

/** How this controller reaches a host, or why it cannot. */
function driverFor(h: InventoryHost | undefined, chroot: boolean): EngineDriver | string {
  if (!h) return 'not in the plan\'s inventories any more';
  if (h.ssh) {
    const d = h.sshDefaults ?? {};
    const port = h.ssh.port ?? d.port;
    const user = h.ssh.user ?? d.user;
    return createSshDriver({
      name: h.name,
      ssh: { host: h.ssh.host, knownHostsFile: d.knownHosts ?? path.join(os.homedir(), '.ssh', 'known_hosts'), ...(port ? { port } : {}), ...(user ? { user } : {}), ...(d.identity ? { identityFile: d.identity } : {}), ...(d.connectTimeout ? { connectTimeoutSeconds: d.connectTimeout } : {}) },
      ...(h.root ? { root: h.root, chroot } : {}),
    });
  }
  if (h.root) {
    const d = chroot ? createChrootRootDriver({ root: h.root, name: h.name }) : createDirectoryRootDriver({ root: h.root, name: h.name });
    const runner = createLocalRunner();
    return { ...d, runCommand: (argv, o) => runner.run([...argv], o) };
  }
  return 'the inventory names no way to reach it (give the host a root: or ssh: entry)';
}

/** Services to restart and check per changing group: those made of a package the group changes, in the knowledge base's order. */
function groupSpecs(plan: Plan, knowledge: Knowledge): Record<string, DeploymentGroupSpec> {
  const facts = rollbackKnowledgeFromKb(knowledge.kb);
  const out: Record<string, DeploymentGroupSpec> = {};
  for (const g of plan.groups) {
    if (g.outcome.kind !== 'transaction') continue;
    const changed = new Set(g.outcome.changes.map((c) => c.name));
    const services = facts.services.filter((s) => s.packages.some((p) => changed.has(p)));
    const restart = serviceStartOrder(services, new Set(services.map((s) => s.name)));
    const migrations = groupMigrations(knowledge, g.installed, g.outcome.changes, facts);
    out[g.key] = { restart, health: restart.map((service) => ({ kind: 'service', service, state: 'running', withinMs: 15_000 })), ...(migrations.length ? { migrations } : {}) };
  }
  return out;
}

/**
 * The migrations a group's changes add (the planner's forwardMigrations), with the text of their
 * up and down scripts read from the knowledge base (paths beside the file naming them, checked
 * when it was loaded); an unreadable script is an error at its package's position.
 */
function groupMigrations(knowledge: Knowledge, installed: Plan['groups'][number]['installed'], changes: readonly PackageChange[], facts: ReturnType<typeof rollbackKnowledgeFromKb>): DeployMigration[] {
  return forwardMigrations(installed, changes, facts).map((s): DeployMigration => {
    for (const layer of knowledge.kb.layers) {
      for (const entry of layer.packages) {
        if (entry.value.name !== s.package) continue;
        const m = entry.value.versions.find((v) => v.version === s.version)?.migrations?.find((x) => x.id === s.migration.id && x.database === s.migration.database);
        if (!m) continue;
        const read = (script: string): string => {
          const file = path.resolve(path.dirname(entry.file), script);
          try {
            return readFileSync(file, 'utf8');
          } catch (e) {
            throw new RollwiseError('RW_KB_INVALID', `cannot read the script ${excerpt(script)} of migration ${s.migration.id} (${s.package} ${s.version}): ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`, {
              position: entry.position, hint: 'migration scripts are paths relative to the knowledge-base file that names them',
            });
          }
        };
        return { database: m.database, id: m.id, up: read(m.up), ...(m.down !== undefined ? { down: read(m.down) } : {}) };
      }
    }
    throw new Error(`migration ${s.migration.id} of ${s.package} ${s.version} is not in the knowledge base it came from`);
  });
}

/** Whether re-solved changes stay within what the plan approved, by the operator's policy. */
export function withinPolicy(policy: ResolutionPolicy, planned: readonly PackageChange[], now: readonly PackageChange[]): { ok: boolean; reason: string } {
  const want = new Map(planned.map((c) => [c.name, c]));
  const differ = now.filter((c) => want.get(c.name)?.to !== c.to || want.get(c.name)?.action !== c.action);
  const missing = planned.filter((c) => !now.some((x) => x.name === c.name));
  if (differ.length === 0 && missing.length === 0) return { ok: true, reason: 'the planned changes' };
  const words = [...differ.map((c) => `${c.action} ${c.name}${c.to ? ` ${c.to}` : ''}${want.get(c.name)?.to ? ` (planned ${want.get(c.name)!.to})` : ' (not planned)'}`), ...missing.map((c) => `${c.name} not changed (planned ${c.to ?? c.action})`)].join(', ');
  if (policy === 'any') return { ok: true, reason: words };
  if (policy === 'revisions') {
    const upstream = (v: string | undefined): string | undefined => v?.replace(/-[^-]*$/, '');
    const ok = missing.length === 0 && differ.every((c) => {
      const p = want.get(c.name);
      return p !== undefined && p.action === c.action && upstream(p.to) === upstream(c.to) && c.to !== undefined && compareDebian(c.to, p.to ?? '') !== 0;
    });
    return { ok, reason: words };
  }
  return { ok: false, reason: words };
}

/** Re-solves a drifted host with the planner's solver over the plan's knowledge base, on the host's real installed set. */
function createResolver(plan: Plan, policy: ResolutionPolicy): ResolveHost {
  return async (input) => {
    // read again at each call: the repository may have changed since the deployment started (a version withdrawn)
    const knowledge = await knowledgeOfPlan(plan);
    const group = plan.groups.find((g) => g.key === input.group)!;
    const installed = input.installed.filter((p) => p.status.startsWith('i')).map((p) => ({ name: p.name, version: p.version, architecture: p.architecture }));
    const solver = await createSolverFor(knowledge, [installed], [], { recommends: plan.inputs.recommends !== false });
    const outcome = solver.solveGroup({ key: `${group.key}@${input.host}`, installed, facts: group.facts, request: group.request });
    if (outcome.kind === 'conflict') return { kind: 'conflict', explanation: { explanation: outcome.explanation, resolutions: outcome.resolutions.map((r) => ({ edit: r.edit, changes: r.changes })) } };
    if (outcome.changes.length === 0) return { kind: 'changes', changes: [], withinPolicy: true, reason: 'the host already has what the plan installs' };
    const w = withinPolicy(policy, input.planned, outcome.changes);
    if (w.reason === 'the planned changes') return { kind: 'unchanged' };
    return { kind: 'changes', changes: outcome.changes, withinPolicy: w.ok, reason: w.reason };
  };
}

function positiveInt(v: number | undefined, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new RollwiseError('RW_USAGE', `${what} takes a whole number from 1`, { hint: `e.g. ${what} 4` });
  return v;
}

/** The seams of the engine for a stored deployment (shared by start, resume and abort). */
async function engineSeams(store: DeployStore, plan: Plan, spec: DeploymentSpec, debCacheDir: string, id: string, chroot: boolean, backupDir?: string): Promise<{
  driverFor: (h: string) => EngineDriver; debCacheFor: (h: string) => { cache: ReturnType<typeof createDebCache>; source: { baseUrl: string } } | undefined; resolveHost: ResolveHost;
  rollbackPlanFor: (group: string) => Promise<GroupRollback | undefined>;
  databasesFor: (h: string) => Record<string, DatabaseRef> | undefined; backupDirFor: (h: string) => string; approvedRisks: string[];
}> {
  const inv = inventoryHosts(plan);
  const drivers = new Map<string, EngineDriver>();
  for (const w of spec.layout.waves) {
    for (const { host } of w.hosts) {
      const d = driverFor(inv.get(host), chroot);
      if (typeof d === 'string') throw new RollwiseError('RW_DEPLOY', `cannot reach host ${host}: ${d}`, { hint: 'fix the inventory the plan was made from, or leave the host out with --hosts' });
      drivers.set(host, d);
    }
  }
  const sources = new Map<string, { baseUrl: string } | undefined>();
  for (const [name, h] of inv) if (h.root && !h.ssh && drivers.has(name)) sources.set(name, (await flatFileSources(h.root, chroot))[0]);
  // the planner's rollback plans, recorded with the plan version (or computed once from its knowledge base)
  let rollbacks: Promise<PlanRollback[]> | undefined;
  // the risks accepted by name when the plan was approved (a restore from a backup needs its own)
  const approvedRisks = (await store.getRecords(plan.id, plan.version, 'override')).map((r) => (r.body as { name?: unknown }).name).filter((n): n is string => typeof n === 'string');
  const backups = path.resolve(backupDir ?? defaultBackupDir(debCacheDir));
  return {
    driverFor: (h) => drivers.get(h)!,
    databasesFor: (h) => inv.get(h)?.databases,
    backupDirFor: (h) => path.join(backups, id, h),
    approvedRisks,
    rollbackPlanFor: async (group) => (await (rollbacks ??= rollbacksOfStoredPlan(store, plan))).find((r) => r.group === group)?.rollback,
    debCacheFor: (h) => {
      const source = sources.get(h);
      // absolute: a kept .deb is installed from its path (relative paths are refused by the driver)
      return source ? { cache: createDebCache(path.resolve(debCacheDir, id, h)), source } : undefined;
    },
    resolveHost: createResolver(plan, spec.policy),
  };
}

/** Database backups go beside the deb cache unless the operator names a folder. */
function defaultBackupDir(debCacheDir: string): string {
  return path.join(path.dirname(path.resolve(debCacheDir)), 'backups');
}

/** Plans the waves of an approved plan version, stores the deployment and runs it until it finishes or pauses. */
export async function startDeployment(input: StartDeploymentInput): Promise<DeploymentRun> {
  // every option read before anything slow or stored
  const sizes = input.waves ? parseWaveSizes(input.waves) : [...DEFAULT_WAVE_SIZES];
  const bakeMs = input.bake ? parseDuration(input.bake) : 0;
  const waveFailures = input.maxFailures ? parseFailureBudget(input.maxFailures) : undefined;
  const rolloutFailures = input.rolloutMaxFailures ? parseFailureBudget(input.rolloutMaxFailures, '--rollout-max-failures') : undefined;
  const selector = input.hosts ? parseHostSelector(input.hosts) : undefined;
  const concurrency = positiveInt(input.concurrency, '--concurrency', 4);
  const hostTimeoutMs = input.hostTimeout ? parseDuration(input.hostTimeout, '--host-timeout') : 15 * 60_000;
  if (hostTimeoutMs < 1) throw new RollwiseError('RW_USAGE', `--host-timeout: must be longer than 0, not '${excerpt(input.hostTimeout ?? '')}'`, { hint: 'e.g. --host-timeout 15m (a host call taking longer has an unknown outcome)' });
  const policy = (input.policy ?? 'revisions') as ResolutionPolicy;
  const fileChecks = input.checks ? loadChecksFile(input.checks) : [];
  const prometheusUrl = checkPrometheusUrl(input.prometheus ?? process.env.ROLLWISE_PROMETHEUS_URL);
  if (!RESOLUTION_POLICIES.includes(policy)) throw new RollwiseError('RW_USAGE', `--policy: unknown policy '${excerpt(input.policy ?? '')}'`, { hint: `policies: ${RESOLUTION_POLICIES.join(', ')}` });

  const plan = await findPlan(input.store, input.plan);
  if (plan.status !== 'approved') {
    throw new RollwiseError('RW_APPROVAL_GATE', `plan ${plan.id} v${plan.version} is ${plan.status}, not approved: it cannot be deployed`, { hint: `review it (rollwise impact ${plan.id}, rollwise rehearse ${plan.id}) and approve it: rollwise plan approve ${plan.id}` });
  }
  const inv = inventoryHosts(plan);
  const changing = plan.groups.filter((g) => g.outcome.kind === 'transaction' && g.outcome.changes.length > 0);
  const selected = new Set(changing.flatMap((g) => g.hosts.filter((h) => {
    const fh = inv.get(h);
    return !selector || matchesSelector(selector, { name: h, groups: [...(fh?.groups ?? []), g.key], labels: fh?.labels ?? {} });
  })));
  if (selected.size === 0) throw new RollwiseError('RW_DEPLOY', `no host of plan ${plan.id} v${plan.version} ${selector ? `matches --hosts ${excerpt(selector.text)} and ` : ''}has changes to deploy`, { hint: 'rollwise plan show lists the groups and their hosts; --hosts takes group=, label.KEY=, name= terms' });
  const unreachable = [...selected].flatMap((h) => {
    const d = driverFor(inv.get(h), input.chroot === true);
    return typeof d === 'string' ? [`${h} (${d})`] : [];
  });
  if (unreachable.length > 0) {
    throw new RollwiseError('RW_DEPLOY', `${unreachable.length} selected host(s) cannot be reached: ${unreachable.slice(0, 5).join('; ')}${unreachable.length > 5 ? '; …' : ''}`, { hint: 'give each host a root: (a directory root) or ssh: entry in the inventory, or leave it out with --hosts' });
  }
  await refuseOverlappingDeployments(input.store, selected);
  const layout = layoutWaves(changing, { sizes, bakeMs, ...(waveFailures ? { waveFailures } : {}), ...(rolloutFailures ? { rolloutFailures } : {}), ...(input.gateAfter ? { gateAfter: input.gateAfter } : {}) }, selected);
  const noSuchWave = (input.gateAfter ?? []).filter((n) => n > layout.waves.length);
  if (noSuchWave.length > 0) {
    throw new RollwiseError('RW_USAGE', `--gate-after ${noSuchWave.join(',')}: this deployment has ${layout.waves.length} wave(s) (${layout.waves.map((w) => w.hosts.length).join(', ')} host(s)); nothing was deployed`, { hint: 'name waves from 1 to the number of waves (--waves sets them)' });
  }
  const missing = layout.warnings.filter((w) => w.kind === 'prerequisite-not-selected');
  if (missing.length > 0) {
    throw new RollwiseError('RW_DEPLOY', `group ${missing[0]!.kind === 'prerequisite-not-selected' ? `${missing[0]!.group} must come after group ${missing[0]!.after}` : ''}, none of whose hosts is selected`, { hint: 'select the hosts of the groups it waits for too (--hosts), or deploy those first' });
  }
  input.onProgress?.('loading the knowledge base…');
  const knowledge = await knowledgeOfPlan(plan);
  const judgeSpec = input.judge ? undefined : await judgeSpecFor(input, plan, knowledge, layout.waves.flatMap((w) => w.hosts.map((h) => h.group)), fileChecks);
  const services = [...new Set(Object.values(groupSpecs(plan, knowledge)).flatMap((g) => g.restart))];
  const groups = groupSpecs(plan, knowledge);
  const noAddress = layout.waves.flatMap((w) => w.hosts).flatMap(({ host, group }) => [...new Set((groups[group]?.migrations ?? []).map((m) => m.database))].filter((db) => !inv.get(host)?.databases?.[db]).map((db) => `${host} (${db})`));
  if (noAddress.length > 0) {
    throw new RollwiseError('RW_DEPLOY', `the plan migrates databases the inventory gives no address for: ${noAddress.slice(0, 5).join(', ')}${noAddress.length > 5 ? ', …' : ''}; nothing was deployed`, {
      hint: "name them in the inventory's databases: (top level, a group or the host): host, port, user, database, and the password by reference ({ env: VAR } or { file: PATH })",
    });
  }
  const spec: DeploymentSpec = {
    format: 1, plan: { id: plan.id, version: plan.version }, layout, concurrency, hostTimeoutMs, snapshot: { conffiles: true, services }, groups, policy,
    ...(selector ? { selector: selector.text } : {}), ...(judgeSpec ? { judge: { ...judgeSpec, ...(prometheusUrl ? { prometheus: prometheusUrl } : {}) } } : {}),
  };
  if (judgeSpec && !prometheusUrl && judgeSpec.checks.some((c) => c.query.provider === 'prometheus')) {
    const names = judgeSpec.checks.filter((c) => c.query.provider === 'prometheus').map((c) => c.name);
    throw new RollwiseError('RW_MONITOR', `${names.length} check(s) read Prometheus (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}) and no Prometheus is configured; nothing was deployed`, { hint: 'give --prometheus URL or set ROLLWISE_PROMETHEUS_URL (e.g. http://127.0.0.1:9090)' });
  }
  if (judgeSpec && prometheusUrl && judgeSpec.checks.some((c) => c.query.provider === 'prometheus')) await checkPrometheusAnswers(prometheusUrl, judgeSpec.hostLabel);
  if (input.alertsListen !== undefined) parseAlertsListen(input.alertsListen);
  if (judgeSpec) alertsListenFor(judgeSpec.checks, input.alertsListen);
  const id = randomBytes(4).toString('hex');
  await createDeploymentFor(input.store, { id, plan, spec, by: approverName() });
  const result = await runStored(input.store, id, plan, spec, input);
  return { id, result };
}

/**
 * Refuses a new deployment while another one that is not finished (pending, running, paused,
 * rolling back) selects one of the same hosts: its snapshot would be taken after the other had
 * changed them, and rolling it back would reinstall what the other put there.
 */
async function refuseOverlappingDeployments(store: DeploymentStore, selected: ReadonlySet<string>): Promise<void> {
  for (const entry of await store.listDeployments()) {
    if (isDeploymentFinished(entry.status)) continue;
    const other = await store.getDeployment(entry.id);
    if (!other || isDeploymentFinished(other.status)) continue;
    const waves = (other.spec as Partial<DeploymentSpec> | undefined)?.layout?.waves ?? [];
    const shared = [...new Set(waves.flatMap((w) => w.hosts.map((h) => h.host)))].filter((h) => selected.has(h)).sort();
    if (shared.length === 0) continue;
    throw new RollwiseError('RW_DEPLOY', `deployment ${other.id} (plan ${other.planId} v${other.planVersion}) is ${other.status} and selects ${shared.length} of the same host(s): ${shared.slice(0, 5).join(', ')}${shared.length > 5 ? ', …' : ''}; nothing was deployed`, {
      hint: `finish it first: rollwise deploy resume ${other.id} continues it, rollwise deploy abort ${other.id} rolls it back (or leave those hosts out with --hosts)`,
    });
  }
}

/** Asks Prometheus one query (`vector(1)`) before any host is touched: an unreachable or failing Prometheus is refused (RW_MONITOR) with its error. */
async function checkPrometheusAnswers(url: string, hostLabel: string | undefined): Promise<void> {
  const provider = createPrometheusProvider({ url, ...(hostLabel ? { hostLabel } : {}) });
  const m = await provider.measure({ check: 'preflight', query: { provider: 'prometheus', promql: 'vector(1)' }, hosts: [] });
  if (m.kind !== 'error') return;
  throw new RollwiseError('RW_MONITOR', `Prometheus at ${url} does not answer the query vector(1) (${m.reason}: ${excerpt(m.message, 200)}); nothing was deployed`, {
    hint: 'check --prometheus (or ROLLWISE_PROMETHEUS_URL) and that Prometheus is up: the checks of the deployment read it',
  });
}

/** Prometheus' URL as given, checked (http or https, a host); undefined when none is given. */
function checkPrometheusUrl(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RollwiseError('RW_USAGE', `--prometheus: not a URL '${excerpt(url)}'`, { hint: 'e.g. --prometheus http://127.0.0.1:9090 (or ROLLWISE_PROMETHEUS_URL)' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RollwiseError('RW_USAGE', `--prometheus: not an http(s) URL '${excerpt(url)}'`, { hint: 'e.g. --prometheus http://127.0.0.1:9090' });
  return url.replace(/\/+$/, '');
}

/**
 * The checks of a deployment: those of the knowledge base's services that the plan's changes reach
 * on the deployed groups' hosts (the impact's reach), then the deployment's own checks file.
 */
async function judgeSpecFor(input: StartDeploymentInput, plan: Plan, knowledge: Knowledge, groups: readonly string[], fileChecks: MetricCheck[]): Promise<DeploymentJudgeSpec> {
  const deployed = new Set(groups);
  const { impact } = await impactForStoredPlan(input.store, plan);
  const reached = new Set(impact.groups.filter((g) => deployed.has(g.group)).flatMap((g) => g.reach.filter((r) => r.onGroupHosts).map((r) => r.service)));
  const hostLabel = input.prometheusHostLabel ?? process.env.ROLLWISE_PROMETHEUS_HOST_LABEL;
  const services = effectiveServices(knowledge.kb).filter((s) => reached.has(s.value.name));
  const checks = [...services.flatMap((s) => checksFromService(s.value, hostLabel ? { hostLabel } : {})), ...fileChecks];
  const names = new Set<string>();
  for (const c of checks) {
    if (names.has(c.name)) throw new RollwiseError('RW_CHECK', `two checks are named ${c.name} (${c.origin ?? 'the checks file'})`, { hint: 'give the checks file\'s check another name: the knowledge base\'s are SERVICE/METRIC' });
    names.add(c.name);
  }
  return { checks, ...(hostLabel ? { hostLabel } : {}), sources: { services: services.map((s) => s.value.name).sort(), ...(input.checks ? { checksFile: input.checks } : {}) } };
}

/** The judge of a stored deployment: its checks through Prometheus and the HTTP and command probes (command probes through each host's driver). */
/** ROLLWISE_ALERTS_LISTEN / ROLLWISE_ALERTS_TOKEN: where `alerts` checks are received, and the bearer token Alertmanager sends. */
export const ALERTS_LISTEN_ENV = 'ROLLWISE_ALERTS_LISTEN';
export const ALERTS_TOKEN_ENV = 'ROLLWISE_ALERTS_TOKEN';

/**
 * Where the controller listens for Alertmanager's webhooks when a check reads alerts: `PORT` or
 * `ADDRESS:PORT` on loopback; undefined when no check reads alerts. A check that reads alerts and
 * no address: RW_MONITOR before anything is deployed.
 */
function alertsListenFor(checks: readonly MetricCheck[], given: string | undefined): { hostname: string; port: number } | undefined {
  const names = checks.filter((c) => c.query.provider === 'alerts').map((c) => c.name);
  if (names.length === 0) return undefined;
  const text = given ?? process.env[ALERTS_LISTEN_ENV];
  if (!text) {
    throw new RollwiseError('RW_MONITOR', `${names.length} check(s) read Alertmanager's alerts (${names.slice(0, 3).join(', ')}) and no receiver address is given; nothing was deployed`, { hint: `give --alerts-listen PORT (or 127.0.0.1:PORT; env ${ALERTS_LISTEN_ENV}) and point Alertmanager's webhook_configs url at http://127.0.0.1:PORT/alertmanager` });
  }
  return parseAlertsListen(text);
}

/** `PORT` or `ADDRESS:PORT`, the address on loopback (the receiver never listens elsewhere; a proxy can forward to it). */
export function parseAlertsListen(text: string): { hostname: string; port: number } {
  const hint = 'e.g. --alerts-listen 9095 or 127.0.0.1:9095 (the receiver listens on loopback only; a proxy can forward to it)';
  const m = /^(?:([^:]+|\[[^\]]+\]):)?(\d+)$/.exec(text.trim());
  if (!m) throw new RollwiseError('RW_USAGE', `--alerts-listen '${excerpt(text)}' is not PORT or ADDRESS:PORT`, { hint });
  const port = Number(m[2]);
  if (!(port >= 1 && port <= 65535)) throw new RollwiseError('RW_USAGE', `--alerts-listen '${excerpt(text)}': port ${m[2]} is out of range (1–65535)`, { hint });
  const address = m[1] ?? '127.0.0.1';
  if (!/^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/.test(address)) throw new RollwiseError('RW_USAGE', `--alerts-listen '${excerpt(text)}': ${address} is not a loopback address`, { hint });
  return { hostname: address === '[::1]' ? '::1' : address, port };
}

function judgeFor(spec: DeploymentSpec, driverFor: (h: string) => EngineDriver, prometheus: string | undefined, alerts?: AlertReceiver): WaveJudge {
  const j = spec.judge;
  if (!j) return createBakeOnlyJudge();
  const url = checkPrometheusUrl(prometheus) ?? j.prometheus;
  if (!url && j.checks.some((c) => c.query.provider === 'prometheus')) {
    throw new RollwiseError('RW_MONITOR', `deployment checks read Prometheus and no Prometheus is configured`, { hint: 'give --prometheus URL or set ROLLWISE_PROMETHEUS_URL' });
  }
  const providers: Providers = {
    ...(url ? { prometheus: createPrometheusProvider({ url, ...(j.hostLabel ? { hostLabel: j.hostLabel } : {}) }) } : {}),
    ...(alerts ? { alerts } : {}),
    http: createHttpProbeProvider(),
    command: createCommandProbeProvider({
      runnerFor: (host) => {
        const d = driverFor(host);
        return d?.runCommand ? { run: (argv, o) => d.runCommand!(argv, o) } : undefined;
      },
    }),
  };
  return createMetricJudge({ checks: j.checks, providers });
}

async function runStored(store: DeployStore, id: string, plan: Plan, spec: DeploymentSpec, o: { debCacheDir: string; chroot?: boolean; judge?: WaveJudge; prometheus?: string; alertsListen?: string; controlPollMs?: number; onEvent?: (e: DeployEvent) => void; acceptResolutions?: boolean; learnedKb?: string; onProgress?: (text: string) => void;
  backupDir?: string; crashBefore?: EngineOptions['crashBefore'];
}): Promise<EngineResult> {
  const seams = await engineSeams(store, plan, spec, o.debCacheDir, id, o.chroot === true, o.backupDir);
  const listen = o.judge || !spec.judge ? undefined : alertsListenFor(spec.judge.checks, o.alertsListen);
  const token = process.env[ALERTS_TOKEN_ENV];
  const alerts = listen ? await startAlertReceiver({ ...listen, ...(token ? { token } : {}) }) : undefined;
  if (alerts) o.onProgress?.(`alerts: receiving Alertmanager's webhooks at ${alerts.url}${token ? ' (bearer token required)' : ''}`);
  try {
    return await runJudged(store, id, plan, o, seams, o.judge ?? judgeFor(spec, seams.driverFor, o.prometheus ?? process.env.ROLLWISE_PROMETHEUS_URL, alerts));
  } finally {
    await alerts?.close();
  }
}

async function runJudged(store: DeployStore, id: string, plan: Plan, o: Parameters<typeof runStored>[4], seams: Awaited<ReturnType<typeof engineSeams>>, judge: WaveJudge): Promise<EngineResult> {
  const result = await runDeployment({
    store, deployment: id, plan, ...seams, judge, holder: `${approverName()}@${process.pid}`,
    ...(o.controlPollMs ? { controlPollMs: o.controlPollMs } : {}),
    ...(o.onEvent ? { onEvent: o.onEvent } : {}), ...(o.acceptResolutions ? { acceptResolutions: true } : {}), ...(o.crashBefore ? { crashBefore: o.crashBefore } : {}),
  });
  if (result.kind === 'finished' && isDeploymentFinished(result.status)) await learnAfter(store, id, o);
  return result;
}

/**
 * When a deployment has ended: its outcome into the history (services/learn.ts); after an
 * automatic rollback, the culprit analysis's one line, and the learned fact into the learned layer
 * when one is configured. What fails here is said, and never changes the deployment's result.
 */
async function learnAfter(store: DeployStore, id: string, o: { learnedKb?: string; onProgress?: (text: string) => void }): Promise<void> {
  try {
    const d = await store.getDeployment(id);
    if (!d) return;
    const r = await afterDeployment(store, d, o.learnedKb ? { learnedKb: o.learnedKb } : {});
    if (!r.learned) return;
    o.onProgress?.(`learn: ${r.learned.conclusion}`);
    if (r.written) o.onProgress?.(`learn: recorded as known issue ${r.learned.issue!.id} in ${r.written.file}; the next plan with that knowledge base flags it`);
    else if (r.learned.issue) o.onProgress?.(`learn: not recorded (no learned layer configured): rollwise learn ${id} --write FILE records it, or set ${LEARNED_KB_ENV}`);
  } catch (e) {
    o.onProgress?.(`learn: what deployment ${id} taught could not be recorded: ${(e as Error).message}`);
  }
}

/** A deployment by id or unique prefix. */
export async function findDeployment(store: DeploymentStore, spec: string): Promise<DeploymentRecord> {
  if (!/^[0-9a-z-]{1,64}$/i.test(spec)) throw new RollwiseError('RW_USAGE', `not a deployment id '${excerpt(spec)}'`, { hint: 'rollwise deploy list shows the deployments' });
  const ids = await store.findDeploymentIds(spec);
  if (ids.length === 0) throw new RollwiseError('RW_NOT_FOUND', `no deployment '${excerpt(spec)}'`, { hint: 'rollwise deploy list shows the deployments' });
  if (ids.length > 1) throw new RollwiseError('RW_USAGE', `'${excerpt(spec)}' matches ${ids.length} deployments`, { hint: 'give more characters of the id' });
  return (await store.getDeployment(ids[0]!))!;
}

export interface ResumeInput {
  store: DeployStore;
  deployment: string;
  debCacheDir: string;
  /** Where database backups are (default: `backups` beside the deb cache). */
  backupDir?: string;
  chroot?: boolean;
  acceptResolutions?: boolean;
  judge?: WaveJudge;
  /** Prometheus' base URL (default: the one the deployment started with, or env ROLLWISE_PROMETHEUS_URL). */
  prometheus?: string;
  /** As for startDeployment. */
  alertsListen?: string;
  controlPollMs?: number;
  onEvent?: (e: DeployEvent) => void;
  /** Where the learn step's lines go (the culprit after an automatic rollback). */
  onProgress?: (text: string) => void;
  /** As for startDeployment. */
  learnedKb?: string;
  /** Test seam, as for startDeployment. */
  crashBefore?: EngineOptions['crashBefore'];
}

/** Takes the lease and continues a deployment (or its rollback) where its journal says it stopped. */
export async function resumeDeployment(input: ResumeInput): Promise<DeploymentRun> {
  const d = await findDeployment(input.store, input.deployment);
  if (isDeploymentFinished(d.status)) throw new RollwiseError('RW_DEPLOY', `deployment ${d.id} is ${d.status}: nothing to resume`, { hint: `rollwise deploy log ${d.id} shows what happened` });
  if (input.alertsListen !== undefined) parseAlertsListen(input.alertsListen);
  const plan = await findPlan(input.store, d.planId, d.planVersion);
  const spec = d.spec as DeploymentSpec;
  // the same pre-check as at the start: a Prometheus that does not answer is said now, not as a paused wave later
  const url = checkPrometheusUrl(input.prometheus ?? process.env.ROLLWISE_PROMETHEUS_URL) ?? spec.judge?.prometheus;
  if (!input.judge && url && spec.judge?.checks.some((c) => c.query.provider === 'prometheus')) await checkPrometheusAnswers(url, spec.judge.hostLabel);
  return { id: d.id, result: await runStored(input.store, d.id, plan, spec, input) };
}

/**
 * Whether a live controller holds a deployment's lease: its holder and until when, or (no live
 * holder) when the lease expired, if it ever was taken. Read without taking the lease when the
 * store can; otherwise probed with a 1 ms acquisition.
 */
export type ControllerState = { live: true; holder: string; expiresAt: string } | { live: false; expiredAt?: string };

export async function controllerOf(store: DeploymentStore, id: string): Promise<ControllerState> {
  if (store.readLease) {
    const l = await store.readLease(id);
    if (l?.holder !== undefined && l.expiresAt > new Date().toISOString()) return { live: true, holder: l.holder, expiresAt: l.expiresAt };
    return l?.holder !== undefined && l.expiresAt ? { live: false, expiredAt: l.expiresAt } : { live: false };
  }
  const probe = await store.acquireLease(id, `probe-${process.pid}`, 1);
  if (probe.kind === 'held') return { live: true, holder: probe.holder, expiresAt: probe.expiresAt };
  await store.releaseLease(id, probe.fence);
  return { live: false };
}

/**
 * Asks the controller running a deployment to pause or abort it. When no live controller holds
 * it (paused, or its controller died and its lease expired), an abort is done here at once: its
 * changed hosts are rolled back. With a live holder, says who holds it and until when.
 */
export async function controlDeployment(input: ResumeInput & { action: 'pause' | 'abort' }): Promise<{ id: string; result?: EngineResult; requested: boolean; controller?: ControllerState }> {
  const d = await findDeployment(input.store, input.deployment);
  if (isDeploymentFinished(d.status)) throw new RollwiseError('RW_DEPLOY', `deployment ${d.id} is ${d.status}: it cannot be ${input.action === 'pause' ? 'paused' : 'aborted'}`, { hint: `rollwise deploy log ${d.id} shows what happened` });
  await input.store.requestControl(d.id, input.action, approverName());
  const controller = await controllerOf(input.store, d.id);
  // a live controller consumes the request; if it is gone, its lease expires and `deploy abort` then takes over
  if (controller.live || input.action === 'pause') return { id: d.id, requested: true, controller };
  const plan = await findPlan(input.store, d.planId, d.planVersion);
  return { id: d.id, requested: true, controller, result: await runStored(input.store, d.id, plan, d.spec as DeploymentSpec, input) };
}

export interface DeploymentStatusView {
  deployment: DeploymentRecord;
  waves: ReturnType<typeof hostStates>;
  /** For a running or rolling-back deployment: whether a live controller holds its lease. */
  controller?: ControllerState;
}

export async function deploymentStatus(store: DeploymentStore, spec: string): Promise<DeploymentStatusView> {
  const d = await findDeployment(store, spec);
  const waves = hostStates(d.spec as DeploymentSpec, await store.readJournal(d.id));
  // read-only: without readLease the lease is not probed (that would write)
  const controller = (d.status === 'running' || d.status === 'rolling-back') && store.readLease ? await controllerOf(store, d.id) : undefined;
  return { deployment: d, waves, ...(controller ? { controller } : {}) };
}

/** The journal's decisions and verdicts (with their evidence), or every entry. */
export async function deploymentLog(store: DeploymentStore, spec: string, all = false): Promise<{ deployment: DeploymentRecord; entries: JournalEntry[] }> {
  const d = await findDeployment(store, spec);
  const entries = await store.readJournal(d.id);
  return { deployment: d, entries: all ? entries : entries.filter((e) => e.kind === 'decision' || e.kind === 'verdict' || e.kind === 'operator' || (e.kind === 'host')) };
}
