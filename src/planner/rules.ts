/**
 * Environment rules from the knowledge base, as conditions over host facts: per package version
 * requirements (`environment:` of a KB package version) and known issues (`knownIssues:`). The
 * relations in them were parsed once by the knowledge base's relation grammar when it loaded
 * (KbPackageEntry.environments, KbKnownIssueEntry.when); nothing here reads relation text.
 */
import { formatClause, type Alternatives, type KbEnvironmentMatch, type KbEnvironmentRequirement, type KbKnownIssueEntry, type KbPackageEntry, type KnowledgeBase, type ParsedEnvironment, type RangeBound } from '../kb/index.js';
import { factsReadBy, type Condition, type FactName } from '../fleet/index.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low';

export interface RequirementRule {
  package: string;
  /** The package version the requirement belongs to; undefined: every version. */
  version?: string;
  condition: Condition;
  /** The requirement as written, for messages. */
  text: string;
  source: string;
}

export interface KnownIssueRule {
  id: string;
  title: string;
  severity: Severity;
  /** Facts part and package part (evaluated on the state after the change). */
  condition: Condition;
  /** Packages the issue is about: it is reported when the plan changes one of them. */
  packages: string[];
  /** The package clauses of its condition, as Debian writes them. */
  packageText: string[];
  description: string;
  workaround?: string;
  source: string;
}

/** A functional requirement across hosts (`functional.requires` of the KB): checked in functional.ts. */
export interface FunctionalRule {
  /** The requiring package clause, e.g. `shopfront (>= 2.0.0)`. */
  package: Alternatives;
  requires: Alternatives;
  packageText: string;
  requiresText: string;
  reason?: string;
  source: string;
}

export interface EnvironmentRules {
  requirements: RequirementRule[];
  knownIssues: KnownIssueRule[];
  /** Absent in rules made before functional requirements were checked. */
  functional?: FunctionalRule[];
}

export function createEmptyRules(): EnvironmentRules {
  return { requirements: [], knownIssues: [], functional: [] };
}

/** An environment block of the KB: a package version's requirement, or a known issue's match (kb/schema.ts). */
export type KbEnvironmentLike = KbEnvironmentRequirement | KbEnvironmentMatch;

/** Bounds (`>= 6.1`, `<< 6.6`) as conditions on a fact (dpkg order). */
export function rangeConditions(fact: FactName, bounds: readonly RangeBound[]): Condition[] {
  return bounds.map((b) => ({ fact, op: b.op, value: b.version }));
}

/** A KB environment block as one condition (all parts must hold); `parsed` holds its ranges as the KB parsed them. */
export function environmentCondition(env: KbEnvironmentLike, parsed: ParsedEnvironment = {}): Condition {
  const all: Condition[] = [];
  if (env.os) all.push({ fact: 'os.id', op: '=', value: env.os });
  if (env.releases?.length) all.push({ any: [{ fact: 'os.versionId', op: 'in', value: env.releases }, { fact: 'os.codename', op: 'in', value: env.releases }] });
  if (env.architectures?.length) all.push({ fact: 'architecture', op: 'in', value: env.architectures });
  if (parsed.kernel) all.push(...rangeConditions('kernel', parsed.kernel));
  if (parsed.kernelVersion) all.push(...rangeConditions('kernelVersion', parsed.kernelVersion));
  if ('minMemoryMiB' in env && env.minMemoryMiB !== undefined) all.push({ fact: 'memoryMiB', op: '>=', value: env.minMemoryMiB });
  if ('minDiskMiB' in env && env.minDiskMiB !== undefined) all.push({ fact: 'diskFreeMiB', op: '>=', value: env.minDiskMiB });
  if ('minCpus' in env && env.minCpus !== undefined) all.push({ fact: 'cpus', op: '>=', value: env.minCpus });
  return { all };
}

export function describeEnvironment(env: KbEnvironmentLike): string {
  const parts: string[] = [];
  if (env.os) parts.push(`os ${env.os}`);
  if (env.releases?.length) parts.push(`release ${env.releases.join('/')}`);
  if (env.architectures?.length) parts.push(`arch ${env.architectures.join('/')}`);
  if (env.kernel) parts.push(`kernel ${env.kernel}`);
  if (env.kernelVersion) parts.push(`kernel version ${env.kernelVersion}`);
  if ('minMemoryMiB' in env && env.minMemoryMiB !== undefined) parts.push(`memory >= ${env.minMemoryMiB} MiB`);
  if ('minDiskMiB' in env && env.minDiskMiB !== undefined) parts.push(`free disk >= ${env.minDiskMiB} MiB`);
  if ('minCpus' in env && env.minCpus !== undefined) parts.push(`cpus >= ${env.minCpus}`);
  return parts.join(', ');
}

/** `a (>= 1) | b:amd64` → any of package conditions (the clause as the KB parsed it). */
export function clauseCondition(clause: Alternatives): Condition {
  const any: Condition[] = clause.map((a) => ({
    package: a.name, ...(a.archQualifier ? { arch: a.archQualifier } : {}), ...(a.op ? { op: a.op, version: a.version! } : {}),
  }));
  return any.length === 1 ? any[0]! : { any };
}

/** Collects the rules of every layer (highest precedence first, as the KB lists them). */
export function environmentRulesFromKb(kb: Pick<KnowledgeBase, 'layers'>): EnvironmentRules {
  const rules = createEmptyRules();
  const seenIssues = new Set<string>();
  const seenReq = new Set<string>();
  for (const layer of kb.layers) {
    for (const p of layer.packages) addRequirements(rules, seenReq, layer.name, p);
    for (const r of layer.requirements) {
      const k = `${r.value.packageText} -> ${r.value.requiresText}`;
      if (seenReq.has(k)) continue;
      seenReq.add(k);
      rules.functional!.push({
        package: r.value.package, requires: r.value.requires, packageText: r.value.packageText, requiresText: r.value.requiresText,
        ...(r.value.reason ? { reason: r.value.reason } : {}), source: `${layer.name} (${r.file}:${r.position.line})`,
      });
    }
    for (const ki of layer.knownIssues) {
      if (seenIssues.has(ki.value.id)) continue;
      seenIssues.add(ki.value.id);
      rules.knownIssues.push(knownIssueRule(ki));
    }
  }
  return rules;
}

function addRequirements(rules: EnvironmentRules, seen: Set<string>, layer: string, p: KbPackageEntry): void {
  p.value.versions.forEach((v, j) => {
    if (!v.environment) return;
    const k = `${p.value.name}=${v.version}`;
    if (seen.has(k)) return;
    seen.add(k);
    const where = `${p.file}:${p.position.line}`;
    rules.requirements.push({
      package: p.value.name, version: v.version, condition: environmentCondition(v.environment, p.environments[j]),
      text: describeEnvironment(v.environment), source: `${layer} (${where})`,
    });
  });
}

function knownIssueRule(ki: KbKnownIssueEntry): KnownIssueRule {
  const issue = ki.value;
  const all: Condition[] = ki.when.packages.map(clauseCondition);
  if (issue.when.environment) all.push(environmentCondition(issue.when.environment, ki.when.environment));
  const names = [...new Set(ki.when.packages.flatMap((c) => c.map((a) => a.name)))];
  return {
    id: issue.id, title: issue.title, severity: issue.severity, condition: { all }, packages: names,
    packageText: ki.when.packages.map(formatClause),
    description: issue.effect.description, ...(issue.workaround ? { workaround: issue.workaround } : {}), source: issue.source,
  };
}

/** The facts the rules read (they join the grouping key so a group is uniform for every rule). */
export function factsReadByRules(rules: EnvironmentRules): Set<FactName> {
  const s = new Set<FactName>();
  for (const r of rules.requirements) factsReadBy(r.condition, s);
  for (const k of rules.knownIssues) factsReadBy(k.condition, s);
  return s;
}
