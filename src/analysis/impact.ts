/**
 * predictImpact: a plan, the knowledge base, the universe and the deployment history in; per
 * group and for the plan, the services reached, the risks with their reasons and the blast
 * radius out. Pure: the same inputs give the same output. The rules are in ./risk.ts (the model),
 * ./reach.ts (the paths) and ./jump.ts (version jumps).
 */
import {
  compareVersionsIn, effectiveKnownIssues, effectiveServices,
  type KbMigration, type KbResourceProfile, type KnowledgeBase, type SchemeName,
} from '../kb/index.js';
import type { Universe } from '../universe/index.js';
import type { PlanGroup } from '../planner/index.js';
import type { PackageChange } from '../solver/index.js';
import { countHistory, historyKey, type DeploymentHistoryEntry, type HistoryCount } from './history.js';
import { classifyJump } from './jump.js';
import {
  IMPACT_KINDS,
  type BlastRadius, type ChangeKind, type ChangeSummary, type GroupImpact, type ImpactKind, type ImpactReason,
  type PlanImpact, type PlanServiceReach, type ReachPath, type Risk, type RiskByKind, type ServiceReach,
} from './model.js';
import { compareServices, computeReach, type FunctionalImpactFacts, type KnownIssueFacts, type ReachKnowledge, type ServiceFacts } from './reach.js';
import {
  ACTION_WEIGHT, HISTORY_PRIOR, IMPACT_MODEL_VERSION, JUMP_PERFORMANCE_FACTOR, JUMP_WEIGHT, MIGRATION_WEIGHT, REQUIREMENT_WEIGHT,
  RESOURCE_WEIGHT, SERVICE_WEIGHT, SEVERITY_WEIGHT, compareLevels, riskOf, round, smoothedFailureRate,
} from './risk.js';

export interface ImpactInput {
  /** The plan (only its groups are read). */
  plan: { groups: readonly PlanGroup[] };
  kb: KnowledgeBase;
  /** The universe the plan was solved over (its reverse-dependency index is walked). */
  universe: Universe;
  /** Earlier deployments; none: every change gets the prior. */
  history?: readonly DeploymentHistoryEntry[];
}

interface KbVersionFacts {
  version: string;
  migrations: KbMigration[];
  resources?: KbResourceProfile;
  minMemoryMiB?: number;
}

interface KbPackageFacts {
  scheme: SchemeName;
  /** Ascending in the scheme. */
  versions: KbVersionFacts[];
}

interface Knowledge extends ReachKnowledge {
  packages: Map<string, KbPackageFacts>;
}

/** The knowledge the model reads, each fact from the highest-precedence layer that states it. */
function indexKnowledge(kb: KnowledgeBase): Knowledge {
  const services = new Map<string, ServiceFacts>();
  const servicesOfPackage = new Map<string, string[]>();
  const dependentServices = new Map<string, string[]>();
  for (const { value: s } of effectiveServices(kb)) {
    services.set(s.name, { name: s.name, criticality: s.criticality, packages: s.packages ?? [], dependsOn: s.dependsOn ?? [] });
  }
  for (const s of [...services.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    for (const p of s.packages) push(servicesOfPackage, p, s.name);
    for (const d of s.dependsOn) push(dependentServices, d, s.name);
  }
  const impacts = new Map<string, FunctionalImpactFacts[]>();
  const seenImpact = new Set<string>();
  for (const layer of kb.layers) {
    for (const { value: i, provenance } of layer.impacts) {
      const key = `${i.package}\0${i.service}\0${i.impact}`;
      if (seenImpact.has(key)) continue;
      seenImpact.add(key);
      push(impacts, i.package, { service: i.service, impact: i.impact, layer: provenance.layer });
    }
  }
  const knownIssues = new Map<string, KnownIssueFacts>();
  for (const { value: k } of effectiveKnownIssues(kb)) {
    const e = k.effect.impact;
    knownIssues.set(k.id, { impact: e === 'performance' || e === 'resources' ? e : 'outage', effect: e, services: k.effect.services ?? [] });
  }
  const packages = new Map<string, KbPackageFacts>();
  for (const layer of kb.layers) {
    for (const { value: p } of layer.packages) {
      let facts = packages.get(p.name);
      if (!facts) {
        facts = { scheme: p.scheme, versions: [] };
        packages.set(p.name, facts);
      }
      for (const v of p.versions) {
        if (facts.versions.some((x) => x.version === v.version)) continue;
        facts.versions.push({
          version: v.version, migrations: v.migrations ?? [],
          ...(v.resources ? { resources: v.resources } : {}),
          ...(v.environment?.minMemoryMiB !== undefined ? { minMemoryMiB: v.environment.minMemoryMiB } : {}),
        });
      }
    }
  }
  for (const f of packages.values()) f.versions.sort((a, b) => compareVersionsIn(f.scheme, a.version, b.version));
  return { services, servicesOfPackage, dependentServices, impacts, knownIssues, packages };
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** Predicts the impact of a plan: per group and for the whole plan. */
export function predictImpact(input: ImpactInput): PlanImpact {
  const knowledge = indexKnowledge(input.kb);
  const history = countHistory(input.history ?? []);
  const totalHosts = input.plan.groups.reduce((n, g) => n + g.hosts.length, 0);
  const groups = input.plan.groups.map((g) => groupImpact(g, { knowledge, history, universe: input.universe, totalHosts }));
  return { model: IMPACT_MODEL_VERSION, groups, reach: planReach(groups), risk: planRisk(groups) };
}

interface Context {
  knowledge: Knowledge;
  history: Map<string, HistoryCount>;
  universe: Universe;
  totalHosts: number;
}

function changeKind(c: PackageChange): ChangeKind {
  return c.action === 'purge' ? 'remove' : c.action;
}

function schemeOf(ctx: Context, name: string): SchemeName {
  const kb = ctx.knowledge.packages.get(name);
  if (kb) return kb.scheme;
  const u = ctx.universe;
  const pvs = u.versionsOf(u.nameId(name));
  return pvs.length > 0 ? u.schemeOf(pvs[0]!) : 'deb';
}

function groupImpact(g: PlanGroup, ctx: Context): GroupImpact {
  const base = { group: g.key, hosts: [...g.hosts] };
  if (g.outcome.kind !== 'transaction') {
    return {
      ...base, planned: false, changes: [], reach: [], risk: emptyRisk(), truncated: false,
      blastRadius: blastRadius(g, [], ctx),
    };
  }
  const changes = summarizeChanges(g.outcome.changes, ctx);
  const before = new Map<string, string>();
  for (const p of g.installed) before.set(p.name, p.version);
  const after = new Map(before);
  for (const c of changes) {
    if (c.action === 'remove') after.delete(c.package);
    else if (c.to !== undefined) after.set(c.package, c.to);
  }

  const issues = g.findings.flatMap((f) => (f.kind === 'known-issue' ? [{ issue: f.rule, ...(f.package ? { package: f.package } : {}) }] : []));
  const { reach, truncated } = computeReach({ universe: ctx.universe, knowledge: ctx.knowledge, before, after, changes, issues });

  const reasons: Record<ImpactKind, ImpactReason[]> = { outage: [], performance: [], resources: [] };
  for (const c of changes) changeReasons(c, ctx, reasons);
  for (const f of g.findings) {
    if (f.kind === 'known-issue') {
      const issue = ctx.knowledge.knownIssues.get(f.rule);
      reasons[issue?.impact ?? 'outage'].push({
        kind: 'known-issue', issue: f.rule, ...(f.package ? { package: f.package } : {}), severity: f.severity, effect: issue?.effect ?? 'outage', weight: SEVERITY_WEIGHT[f.severity],
      });
    } else if (f.kind === 'requirement-not-met' || f.kind === 'requirement-unknown') {
      reasons.outage.push({ kind: 'requirement', rule: f.rule, finding: f.kind, ...(f.package ? { package: f.package } : {}), weight: REQUIREMENT_WEIGHT[f.kind] });
    }
  }
  reasons.resources.push(...resourceReasons(g, changes, before, ctx));
  for (const s of reach) {
    for (const kind of s.impacts) {
      const shortest = s.paths.find((p) => p.impact === kind)!;
      reasons[kind].push({
        kind: 'service-reached', service: s.service, ...(s.criticality ? { criticality: s.criticality } : {}), impact: kind,
        distance: shortest.hops.length - 1, weight: SERVICE_WEIGHT[s.criticality ?? 'low'],
      });
    }
  }
  const risk = Object.fromEntries(IMPACT_KINDS.map((k) => [k, riskOf(k, reasons[k])])) as RiskByKind;
  return { ...base, planned: true, changes, reach, risk, blastRadius: blastRadius(g, reach, ctx), truncated };
}

function summarizeChanges(list: readonly PackageChange[], ctx: Context): ChangeSummary[] {
  const out: ChangeSummary[] = [];
  const seen = new Set<string>();
  for (const c of list) {
    const action = changeKind(c);
    const key = `${c.name}\0${action}\0${c.from ?? ''}\0${c.to ?? ''}`;
    if (seen.has(key)) continue; // the same change on two architectures counts once
    seen.add(key);
    const s: ChangeSummary = { package: c.name, action, ...(c.from !== undefined ? { from: c.from } : {}), ...(c.to !== undefined ? { to: c.to } : {}) };
    if ((action === 'upgrade' || action === 'downgrade') && c.from !== undefined && c.to !== undefined) s.jump = classifyJump(schemeOf(ctx, c.name), c.from, c.to);
    out.push(s);
  }
  return out;
}

/** The KB versions a change crosses: an upgrade's (from, to], a downgrade's (to, from] (undone), an install's `to`. */
function crossedVersions(c: ChangeSummary, ctx: Context): { versions: KbVersionFacts[]; direction: 'up' | 'down' } {
  const kb = ctx.knowledge.packages.get(c.package);
  if (!kb) return { versions: [], direction: 'up' };
  const cmp = (a: string, b: string) => compareVersionsIn(kb.scheme, a, b);
  if (c.action === 'upgrade' && c.from !== undefined && c.to !== undefined) {
    return { versions: kb.versions.filter((v) => cmp(v.version, c.from!) > 0 && cmp(v.version, c.to!) <= 0), direction: 'up' };
  }
  if (c.action === 'downgrade' && c.from !== undefined && c.to !== undefined) {
    return { versions: kb.versions.filter((v) => cmp(v.version, c.to!) > 0 && cmp(v.version, c.from!) <= 0).reverse(), direction: 'down' };
  }
  if (c.action === 'install' && c.to !== undefined) return { versions: kb.versions.filter((v) => v.version === c.to), direction: 'up' };
  return { versions: [], direction: 'up' };
}

function changeReasons(c: ChangeSummary, ctx: Context, reasons: Record<ImpactKind, ImpactReason[]>): void {
  const h = ctx.history.get(historyKey(c.package, c.action)) ?? { runs: 0, failures: 0 };
  reasons.outage.push({
    kind: 'history', package: c.package, change: c.action, runs: h.runs, failures: h.failures,
    priorFailures: HISTORY_PRIOR.failures, priorSuccesses: HISTORY_PRIOR.successes, weight: smoothedFailureRate(h.runs, h.failures),
  });
  if (c.jump && c.from !== undefined && c.to !== undefined) {
    const w = JUMP_WEIGHT[c.jump];
    reasons.outage.push({ kind: 'version-jump', package: c.package, from: c.from, to: c.to, jump: c.jump, weight: w });
    reasons.performance.push({ kind: 'version-jump', package: c.package, from: c.from, to: c.to, jump: c.jump, weight: w * JUMP_PERFORMANCE_FACTOR });
  }
  if (c.action === 'install' || c.action === 'remove' || c.action === 'downgrade') {
    reasons.outage.push({ kind: 'change-action', package: c.package, action: c.action, weight: ACTION_WEIGHT[c.action] });
  }
  const { versions, direction } = crossedVersions(c, ctx);
  for (const v of versions) {
    for (const m of v.migrations) {
      const irreversible = direction === 'up' ? m.irreversible === true : m.irreversible === true || m.down === undefined;
      const weight = direction === 'up'
        ? (irreversible ? MIGRATION_WEIGHT.upIrreversible : MIGRATION_WEIGHT.up)
        : (irreversible ? MIGRATION_WEIGHT.downIrreversible : MIGRATION_WEIGHT.down);
      reasons.outage.push({ kind: 'migration', package: c.package, version: v.version, migration: m.id, database: m.database, direction, irreversible, weight });
    }
  }
}

function numericFact(g: PlanGroup, name: 'memoryMiB' | 'diskFreeMiB' | 'cpus'): number | undefined {
  const v = g.facts[name];
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function resourceReasons(g: PlanGroup, changes: readonly ChangeSummary[], before: ReadonlyMap<string, string>, ctx: Context): ImpactReason[] {
  const added = { memory: 0, disk: 0, cpu: 0 };
  const contributors = { memory: new Set<string>(), disk: new Set<string>(), cpu: new Set<string>() };
  for (const c of changes) {
    const { versions, direction } = crossedVersions(c, ctx);
    const sign = direction === 'up' ? 1 : -1;
    for (const v of versions) {
      const r = v.resources;
      if (!r) continue;
      const add = (k: 'memory' | 'disk' | 'cpu', x: number | undefined) => {
        if (x === undefined || x === 0) return;
        added[k] += sign * x;
        contributors[k].add(c.package);
      };
      add('memory', r.memoryMiB);
      add('disk', r.diskMiB);
      add('cpu', r.cpuPercent);
    }
  }
  let memoryInUse = 0;
  for (const [name, version] of before) {
    const need = ctx.knowledge.packages.get(name)?.versions.find((v) => v.version === version)?.minMemoryMiB;
    if (need !== undefined) memoryInUse += need;
  }
  const memory = numericFact(g, 'memoryMiB');
  const disk = numericFact(g, 'diskFreeMiB');
  const cpus = numericFact(g, 'cpus');
  const budgets = [
    { resource: 'memory' as const, unit: 'MiB' as const, inUse: memoryInUse, available: memory },
    { resource: 'disk' as const, unit: 'MiB' as const, inUse: 0, available: disk },
    { resource: 'cpu' as const, unit: 'percent' as const, inUse: 0, available: cpus === undefined ? undefined : cpus * 100 },
  ];
  const out: ImpactReason[] = [];
  for (const b of budgets) {
    const add = round(added[b.resource]);
    if (add <= 0) continue;
    const packages = [...contributors[b.resource]].sort();
    if (b.available === undefined) {
      out.push({ kind: 'resource', resource: b.resource, unit: b.unit, added: add, inUse: b.inUse, shortfall: false, packages, weight: RESOURCE_WEIGHT.unknown });
      continue;
    }
    const shortfall = b.inUse + add > b.available;
    const weight = shortfall ? RESOURCE_WEIGHT.shortfall : Math.min(RESOURCE_WEIGHT.maxShare, add / (b.available - b.inUse));
    out.push({ kind: 'resource', resource: b.resource, unit: b.unit, added: add, inUse: b.inUse, available: b.available, shortfall, packages, weight });
  }
  return out;
}

function blastRadius(g: PlanGroup, reach: readonly ServiceReach[], ctx: Context): BlastRadius {
  const services = reach.map((s) => ({ service: s.service, ...(s.criticality ? { criticality: s.criticality } : {}), onGroupHosts: s.onGroupHosts }));
  return {
    hosts: [...g.hosts],
    fleetShare: ctx.totalHosts === 0 ? 0 : round(g.hosts.length / ctx.totalHosts),
    services,
    criticalServices: services.filter((s) => s.criticality === 'critical').length,
  };
}

function emptyRisk(): RiskByKind {
  return Object.fromEntries(IMPACT_KINDS.map((k) => [k, riskOf(k, [])])) as RiskByKind;
}

function planReach(groups: readonly GroupImpact[]): PlanServiceReach[] {
  const byService = new Map<string, PlanServiceReach>();
  for (const g of groups) {
    for (const s of g.reach) {
      const shortest: ReachPath = s.paths[0]!;
      const r = byService.get(s.service);
      if (!r) {
        byService.set(s.service, {
          service: s.service, ...(s.criticality ? { criticality: s.criticality } : {}), impacts: [...s.impacts],
          groups: [g.group], hosts: g.hosts.length, onGroupHosts: s.onGroupHosts, path: shortest,
        });
        continue;
      }
      r.impacts = IMPACT_KINDS.filter((k) => r.impacts.includes(k) || s.impacts.includes(k));
      r.groups.push(g.group);
      r.hosts += g.hosts.length;
      r.onGroupHosts ||= s.onGroupHosts;
      if (shortest.hops.length < r.path.hops.length) r.path = shortest;
    }
  }
  return [...byService.values()].sort(compareServices);
}

function planRisk(groups: readonly GroupImpact[]): RiskByKind {
  const out = {} as RiskByKind;
  for (const kind of IMPACT_KINDS) {
    const ranked = groups
      .filter((g) => g.planned)
      .map((g) => ({ group: g.group, risk: g.risk[kind] }))
      .sort((a, b) => compareLevels(a.risk.level, b.risk.level) || b.risk.probability - a.risk.probability);
    const worst = ranked[0];
    const risk: Risk = worst
      ? {
        level: worst.risk.level, probability: worst.risk.probability, levelRule: 'worst-group',
        reasons: ranked.map((r) => ({ kind: 'group', group: r.group, level: r.risk.level, probability: r.risk.probability, weight: r.risk.probability })),
      }
      : riskOf(kind, []);
    out[kind] = risk;
  }
  return out;
}
