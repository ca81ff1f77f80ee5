/**
 * Grouping: hosts whose installed set, relevant facts and apt configuration (sources,
 * preferences, architectures) are identical form one group with a stable key (a hash of them),
 * so the planner solves each group once, against what that group's apt can see.
 */
import { createHash } from 'node:crypto';
import { readFact, type FactName, type HostFacts } from './facts.js';
import { canonicalInstalled, type InstalledPackage } from './installed.js';
import type { FleetHost } from './host.js';
import { aptConfigKey, type HostAptConfig } from './apt-config.js';

/** Facts that always separate groups: the solver's answer depends on them. */
export const SOLVER_FACTS: readonly FactName[] = ['architecture', 'os.id', 'os.versionId'];

export interface HostGroup {
  /** Stable key: the same installed set and relevant facts give the same key in every run. */
  key: string;
  /** Host names, in fleet order. */
  hosts: string[];
  installed: InstalledPackage[];
  /** The relevant facts' values shared by every host of the group. */
  facts: Partial<Record<FactName, string | number>>;
  /** Facts and labels of the group's first host (full, for display and evaluation). */
  sample: { facts: HostFacts; labels: Record<string, string> };
  /** The apt configuration shared by the group's hosts, when known. */
  apt?: HostAptConfig;
}

const installedDigests = new WeakMap<readonly InstalledPackage[], string>();

function installedDigest(installed: readonly InstalledPackage[]): string {
  let d = installedDigests.get(installed);
  if (d === undefined) {
    d = createHash('sha256').update(canonicalInstalled(installed)).digest('hex');
    installedDigests.set(installed, d);
  }
  return d;
}

/** Groups hosts; `relevantFacts` adds to SOLVER_FACTS (e.g. the facts the KB's conditions read). */
export function groupHosts(hosts: readonly FleetHost[], relevantFacts: Iterable<FactName> = []): HostGroup[] {
  const factNames = [...new Set([...SOLVER_FACTS, ...relevantFacts])].sort();
  const byKey = new Map<string, HostGroup>();
  const order: HostGroup[] = [];
  for (const h of hosts) {
    const values: Partial<Record<FactName, string | number>> = {};
    for (const f of factNames) {
      const v = readFact(h.facts, h.labels, f);
      if (v !== undefined) values[f] = v;
    }
    const key = createHash('sha256')
      .update(installedDigest(h.installed))
      .update('\0')
      .update(JSON.stringify(factNames.map((f) => [f, values[f] ?? null])))
      .update(h.apt ? `\0${aptConfigKey(h.apt)}` : '')
      .digest('hex')
      .slice(0, 16);
    let g = byKey.get(key);
    if (!g) {
      g = { key, hosts: [], installed: h.installed, facts: values, sample: { facts: h.facts, labels: h.labels }, ...(h.apt ? { apt: h.apt } : {}) };
      byKey.set(key, g);
      order.push(g);
    }
    g.hosts.push(h.name);
  }
  return order;
}
