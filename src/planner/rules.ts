/**
 * Environment rules from the knowledge base, as conditions over host facts: per package version
 * requirements (`environment:` of a KB package version) and known issues (`knownIssues:`).
 * Accepts the KB's loaded shape structurally, so it depends only on the fields it reads.
 */
import { factsReadBy, type Condition, type FactName, type CompareOp } from '../fleet/index.js';
import { isValidDebianVersion } from '../versions/index.js';

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
  description: string;
  workaround?: string;
  source: string;
}

export interface EnvironmentRules {
  requirements: RequirementRule[];
  knownIssues: KnownIssueRule[];
}

export function createEmptyRules(): EnvironmentRules {
  return { requirements: [], knownIssues: [] };
}

/** The KB's environment match/requirement fields (kb/schema.ts). */
export interface KbEnvironmentLike {
  os?: string;
  releases?: string[];
  architectures?: string[];
  kernel?: string;
  minMemoryMiB?: number;
  minDiskMiB?: number;
  minCpus?: number;
}

interface LocatedLike<T> {
  value: T;
  file: string;
  position?: { line: number; column: number };
}

export interface KnowledgeBaseLike {
  layers: Array<{
    name: string;
    packages: Array<LocatedLike<{ name: string; versions: Array<{ version: string; environment?: KbEnvironmentLike }> }>>;
    knownIssues: Array<LocatedLike<{
      id: string;
      title: string;
      severity: Severity;
      when: { packages?: string[]; environment?: KbEnvironmentLike };
      effect: { description: string };
      source: string;
      workaround?: string;
    }>>;
  }>;
}

const RANGE_PART = /^\s*(<<|<=|=|>=|>>|<|>)\s*(\S+)\s*$/;

/** `>= 6.1, << 6.1.76` → conditions on a fact (dpkg order). Undefined when unreadable. */
export function rangeConditions(fact: FactName, text: string): Condition[] | undefined {
  const out: Condition[] = [];
  for (const part of text.split(',')) {
    const m = RANGE_PART.exec(part);
    if (!m || !isValidDebianVersion(m[2]!)) return undefined;
    let op = m[1]!;
    if (op === '<') op = '<<';
    if (op === '>') op = '>>';
    out.push({ fact, op: op as CompareOp, value: m[2]! });
  }
  return out;
}

/** A KB environment block as one condition (all parts must hold). */
export function environmentCondition(env: KbEnvironmentLike): Condition {
  const all: Condition[] = [];
  if (env.os) all.push({ fact: 'os.id', op: '=', value: env.os });
  if (env.releases?.length) all.push({ any: [{ fact: 'os.versionId', op: 'in', value: env.releases }, { fact: 'os.codename', op: 'in', value: env.releases }] });
  if (env.architectures?.length) all.push({ fact: 'architecture', op: 'in', value: env.architectures });
  if (env.kernel) all.push(...(rangeConditions('kernel', env.kernel) ?? []));
  if (env.minMemoryMiB !== undefined) all.push({ fact: 'memoryMiB', op: '>=', value: env.minMemoryMiB });
  if (env.minDiskMiB !== undefined) all.push({ fact: 'diskFreeMiB', op: '>=', value: env.minDiskMiB });
  if (env.minCpus !== undefined) all.push({ fact: 'cpus', op: '>=', value: env.minCpus });
  return { all };
}

export function describeEnvironment(env: KbEnvironmentLike): string {
  const parts: string[] = [];
  if (env.os) parts.push(`os ${env.os}`);
  if (env.releases?.length) parts.push(`release ${env.releases.join('/')}`);
  if (env.architectures?.length) parts.push(`arch ${env.architectures.join('/')}`);
  if (env.kernel) parts.push(`kernel ${env.kernel}`);
  if (env.minMemoryMiB !== undefined) parts.push(`memory >= ${env.minMemoryMiB} MiB`);
  if (env.minDiskMiB !== undefined) parts.push(`free disk >= ${env.minDiskMiB} MiB`);
  if (env.minCpus !== undefined) parts.push(`cpus >= ${env.minCpus}`);
  return parts.join(', ');
}

const CLAUSE_ATOM = /^\s*([a-z0-9][a-z0-9+.-]+)(?::[a-z0-9-]+)?\s*(?:\(\s*(<<|<=|=|>=|>>)\s*([^\s)]+)\s*\))?\s*$/;

/** `a (>= 1) | b` → any of package conditions; undefined when unreadable. */
export function clauseCondition(text: string): { condition: Condition; names: string[] } | undefined {
  const any: Condition[] = [];
  const names: string[] = [];
  for (const alt of text.split('|')) {
    const m = CLAUSE_ATOM.exec(alt);
    if (!m) return undefined;
    names.push(m[1]!);
    any.push(m[2] && m[3] ? { package: m[1]!, op: m[2] as CompareOp, version: m[3] } : { package: m[1]! });
  }
  return { condition: any.length === 1 ? any[0]! : { any }, names };
}

/** Collects the rules of every layer (highest precedence first, as the KB lists them). */
export function environmentRulesFromKb(kb: KnowledgeBaseLike): EnvironmentRules {
  const rules = createEmptyRules();
  const seenIssues = new Set<string>();
  const seenReq = new Set<string>();
  for (const layer of kb.layers) {
    for (const p of layer.packages) {
      for (const v of p.value.versions) {
        if (!v.environment) continue;
        const k = `${p.value.name}=${v.version}`;
        if (seenReq.has(k)) continue;
        seenReq.add(k);
        const where = p.position ? `${p.file}:${p.position.line}` : p.file;
        rules.requirements.push({ package: p.value.name, version: v.version, condition: environmentCondition(v.environment), text: describeEnvironment(v.environment), source: `${layer.name} (${where})` });
      }
    }
    for (const ki of layer.knownIssues) {
      const issue = ki.value;
      if (seenIssues.has(issue.id)) continue;
      seenIssues.add(issue.id);
      const all: Condition[] = [];
      const names: string[] = [];
      for (const clause of issue.when.packages ?? []) {
        const c = clauseCondition(clause);
        if (!c) continue;
        all.push(c.condition);
        names.push(...c.names);
      }
      if (issue.when.environment) all.push(environmentCondition(issue.when.environment));
      rules.knownIssues.push({
        id: issue.id, title: issue.title, severity: issue.severity, condition: { all }, packages: [...new Set(names)],
        description: issue.effect.description, ...(issue.workaround ? { workaround: issue.workaround } : {}), source: issue.source,
      });
    }
  }
  return rules;
}

/** The facts the rules read (they join the grouping key so a group is uniform for every rule). */
export function factsReadByRules(rules: EnvironmentRules): Set<FactName> {
  const s = new Set<FactName>();
  for (const r of rules.requirements) factsReadBy(r.condition, s);
  for (const k of rules.knownIssues) factsReadBy(k.condition, s);
  return s;
}
