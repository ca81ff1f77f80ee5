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
 *   npm run bench:plan -- [--hosts 10000] [--states 200] [--seed 42] [--sample 40] [--index FILE]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDebianUniverse, type Universe } from '../src/universe/index.js';
import type { Fleet } from '../src/fleet/index.js';
import { createFleetSolver, planDeployment, createEmptyRules, formatRequest } from '../src/planner/index.js';
import { benchRequest, generateFleet, scanPool } from './plan-fleet.js';

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


const mib = (bytes: number): string => `${Math.round(bytes / 1048576)} MiB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const stanzas = await scanPool(INDEX);
  const c0 = cpu();
  const t0 = performance.now();
  const universe: Universe = (await loadDebianUniverse([INDEX])).universe;
  const tIndex = performance.now() - t0;
  const cIndex = cpu() - c0;
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
    '',
    `load average at the end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')} on ${(await import('node:os')).availableParallelism()} cores`,
  ];
  process.stdout.write(out.join('\n') + '\n');
}

await main();
