/**
 * `npm run bench:plan`: plan one request for a 10,000-host fleet over bookworm main.
 *
 * A seeded generator (mulberry32) builds 200 distinct installed states the way the Mancoosi
 * random problem generator did: each is the solver's answer to a random install request on a
 * base system (Priority required + important). 10,000 hosts are spread over those states. Then
 * one request is planned for the whole fleet (hosts in the same state share one solve) and the
 * figures are printed: index load, plan wall time, peak memory (max RSS), and the ratio against
 * solving each host separately (measured on a sample of hosts, extrapolated to the fleet).
 *
 * The index is loaded the way `rollwise plan` loads it: by the universe's byte fast path
 * (loadDebianUniverse), and the fleet is solved on the solver's view over the universe. The
 * generator's package pool (priority, section) is read by a separate streaming scan of the
 * index that is not part of the figures. (The record path the solver once also had is gone: there
 * is one data path, records are built into a universe first.)
 *
 * The distinct-state cases (issue 12): 2,000 and 10,000 hosts, each in a state of its own
 * (bench/plan-fleet.ts generateDistinctFleet: solved base states plus unrelated add-ons, some hosts
 * with a package the request reaches). Each is planned on one thread and on a pool of worker
 * threads (the speed-up is printed), the two plans compared, and a seeded sample of hosts solved
 * alone and compared with the plan's outcome for them.
 *
 *   npm run bench:plan -- [--cases grouped,2000,10000] [--hosts 10000] [--states 200] [--seed 42]
 *     [--sample 40] [--index FILE] [--threads N] [--check 200] [--base-states 200]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDebianUniverse, type Universe } from '../src/universe/index.js';
import type { Fleet } from '../src/fleet/index.js';
import {
  createFleetSolver, createGroupSolvePool, planDeployment, planDeploymentAsync, createEmptyRules, formatRequest, solveThreads,
  type GroupSolveOutcome, type PlanBody, type PlanConflict, type PlanGroup, type SharedSolveStats,
} from '../src/planner/index.js';
import { createPrng } from '../test/helpers/prng.js';
import { benchRequest, generateDistinctFleet, generateFleet, scanPool, type PoolEntry } from './plan-fleet.js';

const here = path.dirname(fileURLToPath(import.meta.url));
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const HOSTS = Number(arg('hosts', '10000'));
const STATES = Number(arg('states', '200'));
const SEED = Number(arg('seed', '42'));
const SAMPLE = Number(arg('sample', '40'));
const INDEX = arg('index', path.resolve(here, '../../shared/data/debian/bookworm-main-amd64.Packages.xz'));
const REQUEST = benchRequest(arg('install', 'nginx,postgresql-15,postfix'));
const CASES = arg('cases', 'grouped,2000,10000').split(',');
const THREADS = solveThreads(arg('threads', String(solveThreads())));
const CHECK = Number(arg('check', '200'));
const BASE_STATES = Number(arg('base-states', '200'));


const mib = (bytes: number): string => `${Math.round(bytes / 1048576)} MiB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function main(): Promise<void> {
  const stanzas = await scanPool(INDEX);
  const c0 = cpu();
  const t0 = performance.now();
  const universe: Universe = (await loadDebianUniverse([INDEX])).universe;
  const tIndex = performance.now() - t0;
  const cIndex = cpu() - c0;
  if (CASES.includes('grouped')) await groupedCase(universe, stanzas, tIndex, cIndex);
  for (const c of CASES.filter((x) => x !== 'grouped')) {
    const n = Number(c);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--cases: '${c}' is neither grouped nor a number of hosts`);
    printDistinct(await distinctCase(universe, stanzas, n));
  }
  process.stdout.write(`\nload average at the end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')} on ${(await import('node:os')).availableParallelism()} cores\n`);
}

/** 10,000 hosts over 200 states (hosts in one state share a solve), against solving every host separately. */
async function groupedCase(universe: Universe, stanzas: PoolEntry[], tIndex: number, cIndex: number): Promise<void> {
  const rssAfterIndex = process.resourceUsage().maxRSS * 1024;
  const packages = universe.pvCount;
  const pool0 = stanzas;

  // --- generation (not part of the planning figures) ---
  const generated = generateFleet(universe, pool0, { hosts: HOSTS, states: STATES, seed: SEED });
  const { hosts, states, attempts, avgInstalled } = generated;
  const tGen = generated.generationMs;

  // --- the measured part: plan one request for the whole fleet ---
  const fleet: Fleet = { hosts, findings: [] };
  const cp0 = cpu();
  const tp0 = performance.now();
  // a fresh solver (cold relation caches); no fill layer is needed: every state is made of index versions
  const solver = createFleetSolver({ universe, policy: { timeBudgetMs: 10_000 } });
  const tSet = performance.now() - tp0;
  const body = planDeployment({ fleet, request: REQUEST, solver, rules: createEmptyRules() });
  const tPlan = performance.now() - tp0;
  const cPlan = cpu() - cp0;
  const rssAfterPlan = process.resourceUsage().maxRSS * 1024;

  // --- peer: every host solved separately (a sample, extrapolated) ---
  const step = Math.max(1, Math.floor(HOSTS / SAMPLE));
  const cs0 = cpu();
  const ts0 = performance.now();
  let sampled = 0;
  for (let i = 0; i < HOSTS && sampled < SAMPLE; i += step, sampled++) {
    const h = hosts[i]!;
    solver.solveGroup({ key: h.name, installed: h.installed, facts: {}, request: REQUEST });
  }
  const perHostMs = (performance.now() - ts0) / sampled;
  const perHostCpu = (cpu() - cs0) / sampled;
  const separateMs = perHostMs * HOSTS;

  const s = body.summary;
  const out = [
    `bench:plan  universe fast path (loadDebianUniverse + universe view); seed ${SEED}, ${HOSTS} hosts over ${states.length} installed states (avg ${avgInstalled} packages; generated in ${secs(tGen)} from ${attempts} random install requests)`,
    `request: ${formatRequest(REQUEST)}`,
    `result: ${s.groups} groups, ${s.groupsReady} ready (${s.hostsReady} hosts), ${s.groupsInConflict} in conflict (${s.hostsInConflict} hosts), ${body.conflicts.length} distinct conflicts`,
    '',
    `                                          wall        cpu (user+sys of this process)`,
    `index load (${packages} packages)           ${secs(tIndex).padEnd(10)}  ${secs(cIndex)}   (max RSS after it: ${mib(rssAfterIndex)})`,
    `plan (package set, ${s.groups} solves, grouping)  ${secs(tPlan).padEnd(10)}  ${secs(cPlan)}`,
    `  of which the universe view (once)       ${secs(tSet)}`,
    `index load + plan                         ${secs(tIndex + tPlan).padEnd(10)}  ${secs(cIndex + cPlan)}   (target < 10 s)`,
    `peak memory (max RSS, whole process)      ${mib(rssAfterPlan)}   (target < 2048 MiB)`,
    `each host solved separately               ${secs(separateMs).padEnd(10)}  ${secs(perHostCpu * HOSTS)}   (extrapolated from ${sampled} hosts: ${perHostMs.toFixed(1)} ms/host)`,
    `ratio separate / grouped                  ${(separateMs / tPlan).toFixed(1)}x        ${((perHostCpu * HOSTS) / cPlan).toFixed(1)}x`,
  ];
  process.stdout.write(out.join('\n') + '\n');
}

// ---------------------------------------------------------------------------------------------
// The distinct-state cases: every host in a state of its own

interface DistinctFigures {
  states: number;
  single: { ms: number; cpuMs: number; stats: SharedSolveStats };
  threaded: { ms: number; cpuMs: number; threads: number; startMs: number };
  sameAcrossThreads: boolean;
  sample: { checked: number; equal: number; equalCost: number; different: string[] };
}

/** Sorted `action name from→to` lines of an outcome, or `conflict` and its explanation's fact keys (the sample check compares these). */
function outcomeLines(o: GroupSolveOutcome | PlanGroup['outcome'], conflicts: Map<string, PlanConflict>): string[] {
  const changes = (cs: ReadonlyArray<{ action: string; name: string; from?: string; to?: string }>): string[] => cs.map((c) => `${c.action} ${c.name} ${c.from ?? ''}→${c.to ?? ''}`).sort();
  switch (o.kind) {
    case 'solution':
    case 'transaction':
      return changes(o.changes);
    default:
      if ('explanation' in o) return ['conflict', ...o.explanation.facts.map((f) => f.key).sort()];
      return ['conflict', ...(conflicts.get(o.conflict)?.explanation.facts.map((f) => f.key).sort() ?? [])];
  }
}

async function distinctCase(universe: Universe, pool0: PoolEntry[], hostsWanted: number): Promise<DistinctFigures> {
  const fleetGen = generateDistinctFleet(universe, pool0, REQUEST, { hosts: hostsWanted, baseStates: BASE_STATES, seed: SEED });
  const fleet: Fleet = { hosts: fleetGen.hosts, findings: [] };
  process.stdout.write(`\n${hostsWanted} hosts in ${fleetGen.states.length} distinct states (${BASE_STATES} solved base states + 2-4 unrelated add-ons each from ${fleetGen.addons.unrelated}; ${fleetGen.related} hosts also one related package from ${fleetGen.addons.related}; avg ${fleetGen.avgInstalled} packages; generated in ${secs(fleetGen.generationMs)}, not measured)\n`);
  // one thread
  let stats: SharedSolveStats | undefined;
  const sc0 = cpu();
  const s0 = performance.now();
  const single = planDeployment({ fleet, request: REQUEST, solver: createFleetSolver({ universe, policy: { timeBudgetMs: 10_000 } }), rules: createEmptyRules(), onSolveStats: (s) => (stats = s) });
  const singleMs = performance.now() - s0;
  const singleCpu = cpu() - sc0;
  // worker threads (pool start-up included: encoding the universe, starting the workers)
  const pool = createGroupSolvePool({ universe, policy: { timeBudgetMs: 10_000 }, threads: THREADS });
  const tc0 = cpu();
  const t0 = performance.now();
  let threaded: PlanBody;
  let startMs: number;
  try {
    await pool.start();
    startMs = performance.now() - t0;
    threaded = await planDeploymentAsync({ fleet, request: REQUEST, solver: createFleetSolver({ universe, policy: { timeBudgetMs: 10_000 } }), rules: createEmptyRules(), pool });
  } finally {
    await pool.close();
  }
  const threadedMs = performance.now() - t0;
  const threadedCpu = cpu() - tc0;
  const sameAcrossThreads = JSON.stringify(single.groups.map((g) => g.outcome)) === JSON.stringify(threaded.groups.map((g) => g.outcome))
    && JSON.stringify(single.conflicts) === JSON.stringify(threaded.conflicts);
  // every sampled host solved alone, on a fresh solver, compared with its group's outcome in the plan
  const rand = createPrng(SEED + 7);
  const alone = createFleetSolver({ universe, policy: { timeBudgetMs: 10_000 } });
  const groupOf = new Map(single.groups.flatMap((g) => g.hosts.map((h) => [h, g] as const)));
  const conflicts = new Map(single.conflicts.map((c) => [c.id, c]));
  const picked = new Set<number>();
  while (picked.size < Math.min(CHECK, fleet.hosts.length)) picked.add(Math.floor(rand() * fleet.hosts.length));
  let equal = 0;
  let equalCost = 0;
  const different: string[] = [];
  for (const i of [...picked].sort((a, b) => a - b)) {
    const h = fleet.hosts[i]!;
    const own = alone.solveGroup({ key: h.name, installed: h.installed, facts: groupOf.get(h.name)!.facts, request: REQUEST });
    const a = outcomeLines(own, conflicts);
    const b = outcomeLines(groupOf.get(h.name)!.outcome, conflicts);
    if (JSON.stringify(a) === JSON.stringify(b)) equal++;
    else if (a[0] !== 'conflict' && b[0] !== 'conflict' && a.length === b.length) {
      equalCost++;
      if (different.length < 3) different.push(`${h.name}: alone ${a.filter((x) => !b.includes(x)).join(', ')} | plan ${b.filter((x) => !a.includes(x)).join(', ')}`);
    } else different.push(`${h.name}: alone [${a.join('; ')}] | plan [${b.join('; ')}]`);
  }
  return {
    states: fleetGen.states.length,
    single: { ms: singleMs, cpuMs: singleCpu, stats: stats! },
    threaded: { ms: threadedMs, cpuMs: threadedCpu, threads: THREADS, startMs },
    sameAcrossThreads,
    sample: { checked: picked.size, equal, equalCost, different },
  };
}

function printDistinct(f: DistinctFigures): void {
  const s = f.single.stats;
  const lines = [
    `  solves: ${s.sharedSolves} shared (projection of ${s.projectionNames} names) + ${s.ownSolves} groups solved on their own, for ${s.groups} groups`,
    `                                          wall        cpu (every thread of the process)`,
    `  plan, 1 thread                          ${secs(f.single.ms).padEnd(10)}  ${secs(f.single.cpuMs)}   (${(f.single.ms / f.states).toFixed(2)} ms wall per state; target < 10 s for 10,000)`,
    `  plan, ${f.threaded.threads} worker threads                  ${secs(f.threaded.ms).padEnd(10)}  ${secs(f.threaded.cpuMs)}   (speed-up over one thread ${(f.single.ms / f.threaded.ms).toFixed(2)}x wall; ${(f.single.ms / (f.threaded.ms - f.threaded.startMs)).toFixed(2)}x without the pool's start-up of ${secs(f.threaded.startMs)})`,
    `  the same plan on 1 and ${f.threaded.threads} threads: ${f.sameAcrossThreads ? 'yes' : 'NO'}`,
    `  sample of ${f.sample.checked} hosts solved alone: ${f.sample.equal} equal to the plan, ${f.sample.equalCost} another transaction of the same size (a tie), ${f.sample.checked - f.sample.equal - f.sample.equalCost} different`,
    ...f.sample.different.map((d) => `    ${d}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
