/**
 * Reach: the services a group's changes touch, each with the path that leads there.
 *
 * 1. From each changed package, a breadth-first walk over reverse Depends and Pre-Depends (the
 *    universe's "who depends on X" index, `dependentsOf`, plus the dependents of the names the
 *    package provides), restricted to the group's installed-after set: a dependent counts when
 *    its name is installed after the plan at the version the dependent pv has (or at a version
 *    the universe does not know, then any version of the name counts). A visited set keeps each
 *    package once; the walk stops at MAX_DEPENDS_DEPTH hops (then the group is `truncated`), so
 *    a libc6 change visits each installed package at most once. A package that a KB service lists
 *    (`packages:`) reaches that service: outage (the changed package itself counts, even when removed).
 * 2. The KB's functional impacts of a changed package (`functional.impacts`) reach their service
 *    with the impact written. An impact of a package that some service lists (postgresql-15 of
 *    postgresql) crosses hosts: it applies wherever the service runs. One of any other package
 *    (a library: libssl3) applies only where the service runs on the group's hosts (one of its
 *    packages is installed after the plan), or when the service lists no packages.
 * 3. Known issues the planner found for the group reach the services of their effect, with the
 *    kind of the effect.
 * 4. Services then reach the services that depend on them (`dependsOn` followed backwards), with
 *    the same kind of impact: postgresql → shopfront → loadbalancer.
 * Per service the shortest path per changed package and kind is kept.
 */
import { REL, type Universe } from '../universe/index.js';
import type { Criticality } from '../kb/index.js';
import type { ChangeKind, ImpactKind, ReachHop, ReachPath, ServiceReach } from './model.js';
import { IMPACT_KINDS } from './model.js';

/** The bound of the reverse-dependency walk, in Depends hops. */
export const MAX_DEPENDS_DEPTH = 8;

export interface ServiceFacts {
  name: string;
  criticality?: Criticality;
  packages: string[];
  dependsOn: string[];
}

export interface FunctionalImpactFacts {
  service: string;
  impact: ImpactKind;
  layer: string;
}

export interface KnownIssueFacts {
  /** The effect's kind folded into the three kinds (data-loss and security: outage). */
  impact: ImpactKind;
  /** The effect's kind as the KB writes it. */
  effect: string;
  services: string[];
}

/** What reach reads from the knowledge base, indexed once per prediction. */
export interface ReachKnowledge {
  services: Map<string, ServiceFacts>;
  /** Package → services listing it. */
  servicesOfPackage: Map<string, string[]>;
  /** Service → services whose dependsOn names it. */
  dependentServices: Map<string, string[]>;
  /** Package → functional impacts of changing it. */
  impacts: Map<string, FunctionalImpactFacts[]>;
  knownIssues: Map<string, KnownIssueFacts>;
}

export interface ReachInput {
  universe: Universe;
  knowledge: ReachKnowledge;
  /** Name → version before and after the plan. */
  before: ReadonlyMap<string, string>;
  after: ReadonlyMap<string, string>;
  changes: ReadonlyArray<{ package: string; action: ChangeKind }>;
  issues: ReadonlyArray<{ issue: string; package?: string }>;
}

export interface ReachResult {
  reach: ServiceReach[];
  truncated: boolean;
}

const CRITICALITY_RANK: Readonly<Record<Criticality, number>> = { critical: 0, high: 1, medium: 2, low: 3 };

export function criticalityRank(c: Criticality | undefined): number {
  return c === undefined ? 4 : CRITICALITY_RANK[c];
}

export function computeReach(input: ReachInput): ReachResult {
  const { knowledge } = input;
  /** service → (from \0 impact) → shortest path */
  const found = new Map<string, Map<string, ReachPath>>();
  const record = (service: string, path: ReachPath): boolean => {
    let m = found.get(service);
    if (!m) {
      m = new Map();
      found.set(service, m);
    }
    const key = `${path.from}\0${path.impact}`;
    const old = m.get(key);
    if (old && old.hops.length <= path.hops.length) return false;
    m.set(key, path);
    return true;
  };

  const walker = createDependsWalker(input);
  let truncated = false;
  for (const change of input.changes) {
    const start: ReachHop = { kind: 'changed', package: change.package, action: change.action };
    const walk = walker(change.package, start);
    if (walk.truncated) truncated = true;
    for (const { name, hops } of walk.visited) {
      if (name !== change.package && !input.after.has(name)) continue;
      for (const service of knowledge.servicesOfPackage.get(name) ?? []) {
        record(service, { from: change.package, impact: 'outage', hops: [...hops, { kind: 'service-package', service, package: name }] });
      }
    }
    const ownServices = knowledge.servicesOfPackage.get(change.package) ?? [];
    for (const imp of knowledge.impacts.get(change.package) ?? []) {
      const svc = knowledge.services.get(imp.service);
      const local = !svc || svc.packages.length === 0 || svc.packages.some((p) => input.after.has(p));
      if (ownServices.length === 0 && !local) continue;
      record(imp.service, {
        from: change.package, impact: imp.impact,
        hops: [start, { kind: 'functional-impact', service: imp.service, package: change.package, impact: imp.impact, layer: imp.layer }],
      });
    }
  }

  for (const finding of input.issues) {
    const issue = knowledge.knownIssues.get(finding.issue);
    if (!issue) continue;
    const change = finding.package === undefined ? undefined : input.changes.find((c) => c.package === finding.package);
    const head: ReachHop[] = change ? [{ kind: 'changed', package: change.package, action: change.action }] : [];
    for (const service of issue.services) {
      record(service, { from: finding.package ?? finding.issue, impact: issue.impact, hops: [...head, { kind: 'known-issue', service, issue: finding.issue, impact: issue.impact }] });
    }
  }

  // services reach the services that depend on them (shortest paths: relax until nothing shortens)
  const queue: Array<[string, ReachPath]> = [];
  for (const [service, m] of found) for (const p of m.values()) queue.push([service, p]);
  queue.sort((a, b) => a[1].hops.length - b[1].hops.length);
  for (let i = 0; i < queue.length; i++) {
    const [service, path] = queue[i]!;
    if (found.get(service)?.get(`${path.from}\0${path.impact}`) !== path) continue; // superseded by a shorter one
    for (const dependent of knowledge.dependentServices.get(service) ?? []) {
      const next: ReachPath = { from: path.from, impact: path.impact, hops: [...path.hops, { kind: 'service-depends', service: dependent, dependsOn: service }] };
      if (record(dependent, next)) queue.push([dependent, next]);
    }
  }

  const reach: ServiceReach[] = [];
  for (const [service, m] of found) {
    const facts = knowledge.services.get(service);
    const paths = [...m.values()].sort((a, b) => a.hops.length - b.hops.length || cmp(a.from, b.from) || IMPACT_KINDS.indexOf(a.impact) - IMPACT_KINDS.indexOf(b.impact));
    const kinds = new Set(paths.map((p) => p.impact));
    const onGroupHosts = (facts?.packages ?? []).some((p) => input.after.has(p) || input.before.has(p));
    reach.push({
      service,
      ...(facts?.criticality ? { criticality: facts.criticality } : {}),
      impacts: IMPACT_KINDS.filter((k) => kinds.has(k)),
      onGroupHosts,
      paths,
    });
  }
  reach.sort(compareServices);
  return { reach, truncated };
}

export function compareServices(a: { service: string; criticality?: Criticality }, b: { service: string; criticality?: Criticality }): number {
  return criticalityRank(a.criticality) - criticalityRank(b.criticality) || cmp(a.service, b.service);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface WalkResult {
  /** Every package reached (the start first), with the hops that reach it. */
  visited: Array<{ name: string; hops: ReachHop[] }>;
  truncated: boolean;
}

/** A breadth-first reverse-dependency walker over the group's installed-after set (caches shared across the group's changes). */
function createDependsWalker(input: ReachInput): (start: string, first: ReachHop) => WalkResult {
  const u = input.universe;
  const knownVersion = new Map<string, boolean>();
  /** Whether the universe has the version the name is installed at after the plan. */
  const hasAfterVersion = (name: string, version: string): boolean => {
    let k = knownVersion.get(name);
    if (k === undefined) {
      k = u.findPv(name, version) >= 0;
      knownVersion.set(name, k);
    }
    return k;
  };
  /** The names whose dependents count as dependents of `name`: itself, then what it provides. */
  const lookupNames = (name: string): string[] => {
    const version = input.after.get(name) ?? input.before.get(name);
    const out = [name];
    if (version === undefined) return out;
    const pv = u.findPv(name, version);
    if (pv < 0) return out;
    for (const atom of u.atomsOf(pv, REL.provides)) {
      const provided = u.nameOf(u.atomName[atom]!);
      if (!out.includes(provided)) out.push(provided);
    }
    return out;
  };
  const preDepends = (pv: number, nameId: number): boolean => {
    for (const atom of u.atomsOf(pv, REL.preDepends)) if (u.atomName[atom] === nameId) return true;
    return false;
  };

  return (start, first) => {
    const visited: WalkResult['visited'] = [{ name: start, hops: [first] }];
    const seen = new Set<string>([start]);
    let truncated = false;
    for (let i = 0; i < visited.length; i++) {
      const { name, hops } = visited[i]!;
      const depth = hops.length - 1;
      for (const looked of lookupNames(name)) {
        const id = u.nameId(looked);
        if (id < 0) continue;
        for (const pv of u.dependentsOf(id)) {
          const dependent = u.nameOfPv(pv);
          if (seen.has(dependent)) continue;
          const after = input.after.get(dependent);
          if (after === undefined) continue;
          const version = u.versionOf(pv);
          if (version !== after && hasAfterVersion(dependent, after)) continue;
          if (depth >= MAX_DEPENDS_DEPTH) {
            truncated = true;
            continue;
          }
          seen.add(dependent);
          const hop: ReachHop = {
            kind: 'depends', package: dependent, version: after, on: name, relation: preDepends(pv, id) ? 'pre-depends' : 'depends',
            ...(looked !== name ? { via: looked } : {}),
          };
          visited.push({ name: dependent, hops: [...hops, hop] });
        }
      }
    }
    return { visited, truncated };
  };
}
