/**
 * Wave layout of a deployment (pure): which selected host goes in which wave. Hosts are taken
 * group by group in the order the plan's groups must finish (PlanGroup.ordering: a group waits
 * for every group in its `after`); each such stage opens with a canary wave holding one host of
 * every group of the stage (so each distinct host state is tried early, not "the first N hosts"),
 * then grows by the operator's sizes, read as cumulative shares of the stage's hosts
 * (`1,10%,50%,100%`: one host or one per group, then up to 10%, 50%, all). A wave never mixes
 * stages, so ordering constraints hold by construction. Failure budgets (per wave, per rollout),
 * bake time and manual gates are resolved to numbers here; the deploy engine applies them.
 *
 * Also here: the host selector (`--hosts`): comma-separated terms that must all hold, each
 * `group=NAME` (inventory group or plan group key), `label.KEY=VALUE`, `name=GLOB` or a bare GLOB
 * on the host name (`*` and `?`); `!` before a term negates it.
 */
import { RollwiseError, excerpt } from '../shared/index.js';

/** A wave's size: a count of hosts or a share of the stage's hosts. */
export type WaveSize = { kind: 'count'; n: number } | { kind: 'percent'; p: number };
/** A failure budget: a count of failed hosts allowed, or a share of the hosts concerned. */
export type FailureBudget = WaveSize;

export interface WaveOptions {
  /** Cumulative sizes; the first is the canary's (never fewer hosts than the stage has groups). */
  sizes: WaveSize[];
  /** Time each wave bakes (watched by the judge) before the next starts. */
  bakeMs: number;
  /** Failed hosts allowed per wave (default: none). */
  waveFailures?: FailureBudget;
  /** Failed hosts allowed in the whole rollout (default: as the per-wave budget, over all hosts). */
  rolloutFailures?: FailureBudget;
  /** Pause for an operator after these waves (1-based wave numbers). */
  gateAfter?: number[];
}

export interface WaveGroupInput {
  key: string;
  hosts: readonly string[];
  ordering?: ReadonlyArray<{ after: readonly string[] }>;
}

export interface WaveHost {
  host: string;
  /** The plan group the host is in. */
  group: string;
}

export interface Wave {
  /** 1-based. */
  number: number;
  /** The ordering stage (0: groups that wait for none). */
  stage: number;
  canary: boolean;
  hosts: WaveHost[];
  bakeMs: number;
  /** Failed hosts this wave may have before the rollout stops. */
  maxFailures: number;
  /** Pause for an operator once this wave passed. */
  gate: boolean;
}

export type WaveWarning =
  /** A group waits for a group none of whose hosts is selected: its requirement may not be met. */
  | { kind: 'prerequisite-not-selected'; group: string; after: string }
  /** Groups wait for each other in a cycle: the cycle is broken by plan order. */
  | { kind: 'ordering-cycle'; groups: string[] };

export interface WaveLayout {
  waves: Wave[];
  /** Failed hosts the whole rollout may have. */
  maxFailures: number;
  hosts: number;
  warnings: WaveWarning[];
}

export const DEFAULT_WAVE_SIZES: readonly WaveSize[] = [{ kind: 'count', n: 1 }, { kind: 'percent', p: 25 }, { kind: 'percent', p: 100 }];

function usage(message: string, hint: string): RollwiseError {
  return new RollwiseError('RW_USAGE', message, { hint });
}

/** `5` or `25%`. */
export function parseWaveSize(text: string, what = '--waves'): WaveSize {
  const t = text.trim();
  const pm = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (pm) {
    const p = Number(pm[1]);
    if (p <= 0 || p > 100) throw usage(`${what}: ${excerpt(t)} is not a share between 0% and 100%`, 'e.g. 10% or 100%');
    return { kind: 'percent', p };
  }
  if (/^\d+$/.test(t)) return { kind: 'count', n: Number(t) };
  throw usage(`${what}: cannot read '${excerpt(t)}'`, 'a count of hosts (5) or a share (25%)');
}

/** `1,10%,50%,100%`: cumulative sizes, each at least the one before when both are of a kind. */
export function parseWaveSizes(text: string): WaveSize[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) throw usage(`--waves: empty entry in '${excerpt(text)}'`, 'e.g. --waves 1,10%,50%,100%');
  const sizes = parts.map((p) => parseWaveSize(p));
  if (sizes.some((s) => s.kind === 'count' && s.n === 0)) throw usage('--waves: a wave of 0 hosts', 'each size is at least 1 host or a share above 0%');
  for (let i = 1; i < sizes.length; i++) {
    const a = sizes[i - 1]!;
    const b = sizes[i]!;
    if (a.kind === b.kind && (a.kind === 'count' ? a.n > (b as { n: number }).n : a.p > (b as { p: number }).p)) {
      throw usage(`--waves: ${parts[i]} is smaller than ${parts[i - 1]} before it`, 'sizes are cumulative (hosts done after each wave), e.g. 1,10%,50%,100%');
    }
  }
  return sizes;
}

/** `3` (hosts) or `10%`; `0` allows none. */
export function parseFailureBudget(text: string, what = '--max-failures'): FailureBudget {
  const t = text.trim();
  if (/^0+$/.test(t)) return { kind: 'count', n: 0 };
  const pm = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (pm && Number(pm[1]) <= 100) return { kind: 'percent', p: Number(pm[1]) };
  if (/^\d+$/.test(t)) return { kind: 'count', n: Number(t) };
  throw usage(`${what}: cannot read '${excerpt(t)}'`, 'a number of failed hosts (2) or a share of the hosts (10%)');
}

/** `30s`, `2m`, `1h`, `500ms` or a number of seconds. */
export function parseDuration(text: string, what = '--bake'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw usage(`${what}: cannot read '${excerpt(text)}'`, 'e.g. 30s, 2m, 1h or 500ms');
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * factor);
}

function resolveSize(s: WaveSize, total: number): number {
  return s.kind === 'count' ? Math.min(total, s.n) : Math.min(total, Math.ceil((s.p * total) / 100 - 1e-9));
}

function resolveBudget(b: FailureBudget, total: number): number {
  return b.kind === 'count' ? b.n : Math.floor((b.p * total) / 100 + 1e-9);
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The ordering stage of each group: 0 when it waits for no selected group, else one more than
 * the highest stage it waits for. A cycle is broken by plan order (the later group's wait on an
 * earlier one is kept, the other dropped) and reported.
 */
function stagesOf(groups: readonly WaveGroupInput[], warnings: WaveWarning[]): Map<string, number> {
  const keys = new Set(groups.map((g) => g.key));
  const position = new Map(groups.map((g, i) => [g.key, i]));
  const waitsFor = new Map<string, string[]>();
  for (const g of groups) {
    const after = [...new Set((g.ordering ?? []).flatMap((o) => o.after))].filter((a) => a !== g.key);
    for (const a of after) if (!keys.has(a)) warnings.push({ kind: 'prerequisite-not-selected', group: g.key, after: a });
    waitsFor.set(g.key, after.filter((a) => keys.has(a)));
  }
  const stage = new Map<string, number>();
  const visiting = new Set<string>();
  const cycles = new Set<string>();
  const visit = (k: string): number => {
    const known = stage.get(k);
    if (known !== undefined) return known;
    visiting.add(k);
    let s = 0;
    for (const a of waitsFor.get(k) ?? []) {
      if (visiting.has(a)) {
        // a cycle: keep only waits on groups earlier in the plan
        cycles.add([a, k].sort(byName).join(' '));
        if (position.get(a)! > position.get(k)!) continue;
      }
      if (visiting.has(a)) continue;
      s = Math.max(s, visit(a) + 1);
    }
    visiting.delete(k);
    stage.set(k, s);
    return s;
  };
  for (const g of groups) visit(g.key);
  for (const c of cycles) warnings.push({ kind: 'ordering-cycle', groups: c.split(' ') });
  return stage;
}

/**
 * Lays out waves over the plan groups' hosts that are `selected` (all when not given). Hosts in
 * several groups count once (the first group). Deterministic: hosts by name within a group.
 */
export function layoutWaves(groups: readonly WaveGroupInput[], options: WaveOptions, selected?: ReadonlySet<string>): WaveLayout {
  if (options.sizes.length === 0) throw usage('no wave sizes', 'e.g. --waves 1,10%,50%,100%');
  const seen = new Set<string>();
  const chosen: Array<{ key: string; hosts: string[]; ordering?: WaveGroupInput['ordering'] }> = [];
  for (const g of groups) {
    const hosts = [...g.hosts].filter((h) => (!selected || selected.has(h)) && !seen.has(h)).sort(byName);
    hosts.forEach((h) => seen.add(h));
    if (hosts.length > 0) chosen.push({ key: g.key, hosts, ...(g.ordering ? { ordering: g.ordering } : {}) });
  }
  const warnings: WaveWarning[] = [];
  const stage = stagesOf(chosen, warnings);
  const total = seen.size;
  const tooBig = options.sizes.find((sz) => sz.kind === 'count' && sz.n > total);
  if (tooBig && tooBig.kind === 'count' && total > 0) {
    throw usage(`--waves: a wave size of ${tooBig.n} hosts, but only ${total} host(s) are selected`, `sizes are cumulative host counts or shares: did you mean ${tooBig.n}%? (e.g. --waves 1,${Math.min(tooBig.n, 100)}%)`);
  }
  const waveBudget = options.waveFailures ?? { kind: 'count', n: 0 };
  const gates = new Set(options.gateAfter ?? []);
  const waves: Wave[] = [];
  const stages = [...new Set(chosen.map((g) => stage.get(g.key)!))].sort((a, b) => a - b);
  for (const s of stages) {
    const inStage = chosen.filter((g) => stage.get(g.key) === s);
    // canaries first (one per group), then the rest round-robin across groups
    const order: WaveHost[] = inStage.map((g) => ({ host: g.hosts[0]!, group: g.key }));
    const rest = inStage.map((g) => g.hosts.slice(1));
    for (let i = 0; rest.some((r) => i < r.length); i++) {
      inStage.forEach((g, gi) => {
        const h = rest[gi]![i];
        if (h !== undefined) order.push({ host: h, group: g.key });
      });
    }
    const n = order.length;
    const targets = options.sizes.map((sz) => resolveSize(sz, n));
    targets[0] = Math.max(targets[0]!, inStage.length);
    let done = 0;
    for (const [i, t] of [...targets, n].entries()) {
      const upTo = Math.min(n, Math.max(t, done));
      if (upTo <= done) continue;
      const hosts = order.slice(done, upTo);
      done = upTo;
      const number = waves.length + 1;
      waves.push({ number, stage: s, canary: i === 0, hosts, bakeMs: options.bakeMs, maxFailures: resolveBudget(waveBudget, hosts.length), gate: gates.has(number) });
    }
  }
  const rolloutBudget = options.rolloutFailures ?? waveBudget;
  return { waves, maxFailures: resolveBudget(rolloutBudget, total), hosts: total, warnings };
}

// ---- host selection --------------------------------------------------------------------------

export type SelectorTerm =
  | { kind: 'group'; name: string; negated: boolean }
  | { kind: 'label'; key: string; value: string; negated: boolean }
  | { kind: 'name'; glob: string; negated: boolean };

export interface HostSelector {
  text: string;
  terms: SelectorTerm[];
}

/** What a selector is matched against. */
export interface SelectableHost {
  name: string;
  /** Inventory groups, and the plan group's key. */
  groups: readonly string[];
  labels: Readonly<Record<string, string>>;
}

const GLOB_CHARS = /^[A-Za-z0-9_.*?-]+$/;

/** Parses `group=web,label.tier=canary,!name=db-*` (every term must hold). */
export function parseHostSelector(text: string): HostSelector {
  const hint = 'terms separated by commas, all of which must hold: group=NAME, label.KEY=VALUE, name=GLOB or a host-name GLOB; ! negates a term (e.g. group=web,!label.tier=critical)';
  const terms: SelectorTerm[] = [];
  for (const raw of text.split(',')) {
    let t = raw.trim();
    if (t === '') throw usage(`--hosts: empty term in '${excerpt(text)}'`, hint);
    const negated = t.startsWith('!');
    if (negated) t = t.slice(1).trim();
    const eq = t.indexOf('=');
    if (eq < 0) {
      if (!GLOB_CHARS.test(t)) throw usage(`--hosts: '${excerpt(t)}' is not a host-name pattern`, hint);
      terms.push({ kind: 'name', glob: t, negated });
      continue;
    }
    const key = t.slice(0, eq).trim();
    const value = t.slice(eq + 1).trim();
    if (value === '') throw usage(`--hosts: '${excerpt(t)}' has no value`, hint);
    if (key === 'group') terms.push({ kind: 'group', name: value, negated });
    else if (key === 'name') {
      if (!GLOB_CHARS.test(value)) throw usage(`--hosts: '${excerpt(value)}' is not a host-name pattern`, hint);
      terms.push({ kind: 'name', glob: value, negated });
    } else if (key.startsWith('label.') && key.length > 6) terms.push({ kind: 'label', key: key.slice(6), value, negated });
    else throw usage(`--hosts: unknown term '${excerpt(key)}'`, hint);
  }
  return { text, terms };
}

function globMatches(glob: string, name: string): boolean {
  const re = new RegExp(`^${glob.replace(/[.\\+^${}()|[\]-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}

export function matchesSelector(sel: HostSelector, host: SelectableHost): boolean {
  return sel.terms.every((t) => {
    const hit = t.kind === 'group' ? host.groups.includes(t.name) : t.kind === 'label' ? host.labels[t.key] === t.value : globMatches(t.glob, host.name);
    return hit !== t.negated;
  });
}
