/**
 * The 10,000-host fleet of the plan benchmark (bench/plan.ts), shared with bench/rollback.ts so
 * both time planning on the same plan. A seeded generator (mulberry32) builds distinct installed
 * states the way the Mancoosi random problem generator did: each is the solver's answer to a
 * random install request on a base system (Priority required + important); hosts are spread over
 * those states. The package pool (priority, section) comes from a streaming scan of the index that
 * is not part of any figure. generateDistinctFleet gives every host a state of its own (the
 * shared-solve cases of bench/plan.ts).
 */
import { streamDecompressed } from '../src/kb/index.js';
import type { Universe } from '../src/universe/index.js';
import type { FleetHost, InstalledPackage } from '../src/fleet/index.js';
import { buildRequest, createFleetSolver, requestReach, type PlanRequest } from '../src/planner/index.js';
import { createUniverseView } from '../src/solver/index.js';
import { createPrng } from '../test/helpers/prng.js';

export interface PoolEntry {
  name: string;
  priority?: string;
  section?: string;
}

/** The request both benchmarks plan (bench:plan's `--install` changes it there). */
export function benchRequest(install = 'nginx,postgresql-15,postfix'): PlanRequest {
  return buildRequest({ install: install.split(','), upgrade: ['libssl3'] });
}

/** Package, Priority and Section of every stanza, by a streaming scan (the generator's pool; not measured). */
export async function scanPool(file: string): Promise<PoolEntry[]> {
  const out: PoolEntry[] = [];
  let cur: PoolEntry | undefined;
  let carry = '';
  const line = (l: string): void => {
    if (l === '') { if (cur) out.push(cur); cur = undefined; return; }
    if (l.startsWith('Package: ')) cur = { name: l.slice(9).trim() };
    else if (cur && l.startsWith('Priority: ')) cur.priority = l.slice(10).trim();
    else if (cur && l.startsWith('Section: ')) cur.section = l.slice(9).trim();
  };
  for await (const chunk of streamDecompressed(file)) {
    const text = carry + chunk.toString('latin1');
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    for (const l of lines) line(l);
  }
  line(carry);
  line('');
  return out;
}

function installedOf(base: readonly InstalledPackage[], changes: Array<{ action: string; name: string; to?: string; architecture?: string }>): InstalledPackage[] {
  const m = new Map(base.map((p) => [p.name, p]));
  for (const c of changes) {
    if (c.action === 'remove') m.delete(c.name);
    else if (c.to) m.set(c.name, { name: c.name, version: c.to, architecture: c.architecture ?? 'amd64' });
  }
  return [...m.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

export interface GeneratedFleet {
  hosts: FleetHost[];
  states: InstalledPackage[][];
  /** Random install requests tried to find the distinct states. */
  attempts: number;
  /** Average packages per state. */
  avgInstalled: number;
  generationMs: number;
}

/** `hosts` hosts over up to `states` distinct installed states; the same seed gives the same fleet. */
export function generateFleet(universe: Universe, pool0: readonly PoolEntry[], options: { hosts: number; states: number; seed: number }): GeneratedFleet {
  const rand = createPrng(options.seed);
  const tg0 = performance.now();
  const gen = createFleetSolver({ universe, policy: { recommends: false, timeBudgetMs: 5000, maxResolutions: 0 } });
  const baseNames = [...new Set(pool0.filter((r) => r.priority === 'required' || r.priority === 'important').map((r) => r.name))];
  const baseOut = gen.solveGroup({ key: 'base', installed: [], facts: {}, request: { items: baseNames.map((name) => ({ kind: 'install' as const, name })) } });
  if (baseOut.kind !== 'solution') throw new Error('cannot build the base system');
  const base = installedOf([], baseOut.changes);
  const pool = [...new Set(pool0.filter((r) => r.priority === 'optional' && !/^(kernel|debug|oldlibs|libdevel)$/.test(r.section ?? '') && !r.name.includes('-dbg')).map((r) => r.name))].sort();
  const states: InstalledPackage[][] = [];
  const seen = new Set<string>();
  let attempts = 0;
  while (states.length < options.states && attempts < options.states * 10) {
    attempts++;
    const k = 2 + Math.floor(rand() * 5);
    const pick = Array.from({ length: k }, () => pool[Math.floor(rand() * pool.length)]!);
    const out = gen.solveGroup({ key: `s${states.length}`, installed: base, facts: {}, request: { items: pick.map((name) => ({ kind: 'install' as const, name })) } });
    if (out.kind !== 'solution') continue;
    const state = installedOf(base, out.changes);
    const sig = state.map((p) => `${p.name}=${p.version}`).join(',');
    if (seen.has(sig)) continue;
    seen.add(sig);
    states.push(state);
  }
  const hosts: FleetHost[] = [];
  const facts = { os: { id: 'debian', versionId: '12', codename: 'bookworm' }, architecture: 'amd64', kernel: '6.1.0-18-amd64', memoryMiB: 8192, cpus: 4 };
  for (let i = 0; i < options.hosts; i++) {
    const s = i < states.length ? i : Math.floor(rand() * states.length);
    hosts.push({ name: `host-${String(i).padStart(5, '0')}`, source: 'inventory', groups: [], labels: {}, facts, installed: states[s]!, installedFrom: 'generated' });
  }
  const avgInstalled = Math.round(states.reduce((n, s) => n + s.length, 0) / states.length);
  return { hosts, states, attempts, avgInstalled, generationMs: performance.now() - tg0 };
}

export interface DistinctFleet extends GeneratedFleet {
  /** Hosts given a package the request can reach (the rest differ only in unrelated ones). */
  related: number;
  /** Unrelated and related add-on packages the hosts were given from. */
  addons: { unrelated: number; related: number };
}

/**
 * `hosts` hosts in as many distinct states, for the shared-solve cases: each host is one of
 * `baseStates` solved states (generateFleet) plus 2–4 add-on packages the request cannot reach
 * (whose Depends the base system meets and that conflict with nothing installed), and a share
 * `relatedShare` of them also one package the request can reach (same conditions). Every host's
 * installed set is consistent; the same seed gives the same fleet.
 */
export function generateDistinctFleet(universe: Universe, pool0: readonly PoolEntry[], request: PlanRequest, options: { hosts: number; baseStates: number; seed: number; relatedShare?: number }): DistinctFleet {
  const t0 = performance.now();
  const base = generateFleet(universe, pool0, { hosts: options.baseStates, states: options.baseStates, seed: options.seed });
  const rand = createPrng(options.seed + 1);
  const set = createUniverseView(universe);
  const reach = requestReach(set, request.items, true)!;
  const pvOfInstalled = (p: InstalledPackage): number => universe.findInstalledPv(p.name, p.version, p.architecture);
  // what every state has (the base system is in all of them): an add-on's Depends must be met by it
  const inAll = new Uint8Array(set.size);
  const counts = new Uint16Array(set.size);
  for (const s of base.states) for (const p of s) counts[pvOfInstalled(p)]!++;
  for (let pv = 0; pv < set.size; pv++) if (counts[pv] === base.states.length) inAll[pv] = 1;
  const installedSomewhere = new Uint8Array(set.size);
  for (let pv = 0; pv < set.size; pv++) if (counts[pv]! > 0) installedSomewhere[pv] = 1;
  const candidates = [...new Set(pool0.map((r) => r.name))].sort();
  const unrelated: number[] = [];
  const related: number[] = [];
  for (const name of candidates) {
    const pv = set.versionsOf(name)[0];
    if (pv === undefined || installedSomewhere[pv]) continue;
    const met = [...set.depends(pv), ...set.preDepends(pv)].every((c) => c.some((q) => inAll[q]));
    if (!met || set.isEssentialOrRequired(pv)) continue;
    (reach[set.nameIdOf[pv]!] ? related : unrelated).push(pv);
  }
  // conflicts either way between an add-on and a state, or between two add-ons, are avoided
  const conflictsWith = (a: number, b: number): boolean => set.conflicts(a).includes(b) || set.conflicts(b).includes(a);
  const stateConflicts = base.states.map((s) => {
    const pvs = new Set(s.map(pvOfInstalled));
    const hit = new Set<number>();
    for (const pv of pvs) for (const q of set.conflicts(pv)) hit.add(q);
    return { pvs, hit };
  });
  const fits = (pv: number, s: number, chosen: readonly number[]): boolean => {
    const st = stateConflicts[s]!;
    if (st.hit.has(pv)) return false;
    for (const q of set.conflicts(pv)) if (st.pvs.has(q)) return false;
    return chosen.every((c) => c !== pv && !conflictsWith(c, pv));
  };
  const facts = base.hosts[0]!.facts;
  const hosts: FleetHost[] = [];
  const states: InstalledPackage[][] = [];
  const seen = new Set<string>();
  let relatedHosts = 0;
  const share = options.relatedShare ?? 0.1;
  for (let i = 0, tries = 0; hosts.length < options.hosts && tries < options.hosts * 20; tries++) {
    const s = i % base.states.length;
    const chosen: number[] = [];
    const k = 2 + Math.floor(rand() * 3);
    for (let n = 0; n < 20 && chosen.length < k; n++) {
      const pv = unrelated[Math.floor(rand() * unrelated.length)]!;
      if (fits(pv, s, chosen)) chosen.push(pv);
    }
    const withRelated = related.length > 0 && rand() < share;
    if (withRelated) {
      for (let n = 0; n < 20; n++) {
        const pv = related[Math.floor(rand() * related.length)]!;
        if (fits(pv, s, chosen)) { chosen.push(pv); break; }
      }
    }
    const sig = `${s}:${chosen.slice().sort((a, b) => a - b).join(',')}`;
    if (seen.has(sig)) continue;
    seen.add(sig);
    const installed = [...base.states[s]!, ...chosen.map((pv) => ({ name: set.nameOf(pv), version: set.versionOf(pv), architecture: set.archOf(pv) }))]
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    if (withRelated && chosen.some((pv) => reach[set.nameIdOf[pv]!])) relatedHosts++;
    states.push(installed);
    hosts.push({ name: `host-${String(i).padStart(5, '0')}`, source: 'inventory', groups: [], labels: {}, facts, installed, installedFrom: 'generated' });
    i++;
  }
  const avgInstalled = Math.round(states.reduce((n, s) => n + s.length, 0) / Math.max(1, states.length));
  return { hosts, states, attempts: base.attempts, avgInstalled, generationMs: performance.now() - t0, related: relatedHosts, addons: { unrelated: unrelated.length, related: related.length } };
}
