/**
 * The 10,000-host fleet of the plan benchmark (bench/plan.ts), shared with bench/rollback.ts so
 * both time planning on the same plan. A seeded generator (mulberry32) builds distinct installed
 * states the way the Mancoosi random problem generator did: each is the solver's answer to a
 * random install request on a base system (Priority required + important); hosts are spread over
 * those states. The package pool (priority, section) comes from a streaming scan of the index that
 * is not part of any figure.
 */
import { streamDecompressed } from '../src/kb/index.js';
import type { Universe } from '../src/universe/index.js';
import type { FleetHost, InstalledPackage } from '../src/fleet/index.js';
import { buildRequest, createFleetSolver, type PlanRequest } from '../src/planner/index.js';
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
