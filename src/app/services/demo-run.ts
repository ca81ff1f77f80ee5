/**
 * The main job on the demo lab (demo-lab.ts), as use cases the `demo` command composes and
 * renders: plan shopfront 2.0.0 on the lab's inventory (stored with its impact and rollback
 * plans), name the group the rehearsal takes (the `us` hosts, whose state the staging root
 * holds), and deploy through the deployment service with the lab's Prometheus (`--prometheus`) for
 * the judge; every lab host is snapshotted before and after by its own
 * driver, so the demo shows for itself, host by host, that the rollback left it as it was.
 */
import path from 'node:path';
import { buildRequest, compareSnapshots, type Plan, type Snapshot, type SnapshotDifference, type SnapshotSpec } from '../../planner/index.js';
import type { DeployEvent, JournalEntry } from '../../deploy/index.js';
import { RollwiseError } from '../../shared/index.js';
import type { Knowledge } from './knowledge.js';
import { planFleet } from './planning.js';
import { analysePlan, saveAnalysis, type PlanAnalysis } from './review.js';
import { deploymentLog, startDeployment, type DeploymentRun, type DeployStore } from './deploy.js';
import { DEMO_PLUGIN, DEMO_SERVICE, DEMO_TO, type DemoLab } from './demo-lab.js';

export interface DemoLabPlan {
  plan: Plan;
  knowledge: Knowledge;
  analysis: PlanAnalysis;
}

/** Plans shopfront 2.0.0 on the lab's hosts (read from their roots) and stores the plan with its impact and rollback plans. */
export async function planOnDemoLab(lab: DemoLab, store: DeployStore, onProgress?: (text: string) => void): Promise<DemoLabPlan> {
  const { plan, knowledge } = await planFleet({
    inventory: [lab.inventory], local: false, sshHost: [], kb: lab.kb, index: [lab.index], skipUnreachable: false,
    request: buildRequest({ install: [`${DEMO_SERVICE}=${DEMO_TO}`] }), ...(onProgress ? { onProgress } : {}),
  });
  const analysis = await analysePlan(plan, knowledge, [], onProgress);
  await store.savePlan(plan);
  await saveAnalysis(store, plan, analysis);
  return { plan, knowledge, analysis };
}

/** The plan's group (key and number as plan show numbers it) whose hosts carry the legacy plugin: the staging root is in their state. */
export function demoStagingGroup(plan: Plan): { key: string; number: number } {
  const i = plan.groups.findIndex((g) => g.installed.some((p) => p.name === DEMO_PLUGIN) && g.outcome.kind === 'transaction' && g.outcome.changes.length > 0);
  if (i < 0) throw new RollwiseError('RW_USAGE', `no group of plan ${plan.id} has ${DEMO_PLUGIN} installed and changes`, { hint: 'the demo lab builds such hosts; rebuild it with rollwise demo' });
  return { key: plan.groups[i]!.key, number: i + 1 };
}

/** What every lab host's snapshot holds for the comparison: packages, their conffiles, the service's state. */
export const DEMO_SNAPSHOT: SnapshotSpec = { conffiles: true, services: [DEMO_SERVICE] };

/** How often a snapshot whose reads could not tell (an `unknown` answer) is taken again before the demo says it cannot tell. */
const SNAPSHOT_ATTEMPTS = 3;

/** Every lab host's snapshot; a read that could not tell is retried, never taken as "nothing there". */
export async function snapshotDemoLab(lab: DemoLab): Promise<Map<string, Snapshot>> {
  const out = new Map<string, Snapshot>();
  await Promise.all(lab.hosts.map(async (h) => {
    let r = await lab.driver(h).takeSnapshot(DEMO_SNAPSHOT);
    // a service state `unknown` is also a read that could not tell (sv answered nothing): asked again too
    const unsure = (s: typeof r): boolean => s.kind === 'unknown' || (s.kind === 'ok' && s.value.services.some((v) => v.state === 'unknown'));
    for (let attempt = 1; attempt < SNAPSHOT_ATTEMPTS && unsure(r); attempt++) r = await lab.driver(h).takeSnapshot(DEMO_SNAPSHOT);
    if (r.kind === 'unknown') throw new RollwiseError('RW_HOST', `cannot tell the state of ${h.name} (${SNAPSHOT_ATTEMPTS} snapshots could not read it): ${r.reason}`, { hint: 'the machine may be overloaded; run rollwise demo again' });
    if (r.kind !== 'ok') throw new RollwiseError('RW_HOST', `cannot take a snapshot of ${h.name}: ${r.message}`, { hint: 'rebuild the lab: rollwise demo' });
    out.set(h.name, r.value);
  }));
  return out;
}

export interface DemoDeployInput {
  lab: DemoLab;
  store: DeployStore;
  plan: Plan;
  /** Cumulative wave sizes (default `1,100%`: the canary, one host of each group, then the rest). */
  waves?: string;
  /** How long each wave is watched (default 10s). */
  bake?: string;
  onEvent?: (e: DeployEvent) => void;
}

export interface DemoDeployment {
  run: DeploymentRun;
  before: Map<string, Snapshot>;
  after: Map<string, Snapshot>;
  /** Per lab host, what differs between its snapshot before the deployment and now. */
  differences: Map<string, SnapshotDifference[]>;
  /** The journal's decisions and verdicts. */
  log: JournalEntry[];
}

/** Deploys the approved plan on the lab through the deployment service, judged by the lab's Prometheus; then compares every host with its snapshot. */
export async function deployOnDemoLab(input: DemoDeployInput): Promise<DemoDeployment> {
  const { lab, store, plan } = input;
  const before = await snapshotDemoLab(lab);
  const run = await startDeployment({
    store, plan: plan.id, waves: input.waves ?? '1,100%', bake: input.bake ?? '10s', debCacheDir: path.join(lab.dir, 'debs'),
    // the judge: the knowledge base's checks of the services the plan reaches, read from the lab's Prometheus
    prometheus: lab.prometheus.url, ...(input.onEvent ? { onEvent: input.onEvent } : {}),
  });
  const after = await snapshotDemoLab(lab);
  const differences = new Map(lab.hosts.map((h) => [h.name, compareSnapshots(before.get(h.name)!, after.get(h.name)!)]));
  const log = (await deploymentLog(store, run.id)).entries;
  return { run, before, after, differences, log };
}
