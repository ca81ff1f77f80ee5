/**
 * Environment conditions evaluated against host facts and an installed set: the shape the
 * knowledge base's environment requirements ("needs kernel >= 6.1") and known-issue
 * conditions ("applies on os.versionId = 11 with libssl3 << 3.0.11") are evaluated in.
 * Pure functions; three-valued (a missing fact gives `unknown`, reported as such).
 */
import { compareDebian, getScheme, isValidDebianVersion, relationHolds, satisfiesRelation, type RelationOp, type SchemeName } from '../versions/index.js';
import { readFact, type FactName, type HostFacts, type Labels } from './facts.js';
import type { InstalledPackage } from './installed.js';

export type Condition =
  | { fact: FactName; op: RelationOp; value: string | number }
  | { fact: FactName; op: 'in'; value: Array<string | number> }
  /**
   * A package in the (resulting) installed set, optionally of one architecture (`arch`, as a
   * relation's `:arch` qualifier; `any` and `native` match every one) and with a version relation.
   */
  | { package: string; arch?: string; op?: RelationOp; version?: string }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export type Truth = 'true' | 'false' | 'unknown';

export interface ConditionResult {
  truth: Truth;
  /** Human words for what was compared, e.g. `kernel 5.10.0-28-amd64 >= 6.1 is false`. */
  reason: string;
}

export interface EvaluationSubject {
  facts: HostFacts;
  labels: Labels;
  /** The installed set the package conditions look at (for known issues: the state after the change). */
  installed?: ReadonlyMap<string, InstalledPackage>;
  /** The version scheme of a package (the knowledge base says; default Debian's). */
  schemeOf?: (name: string) => SchemeName;
}

function compareValues(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  if (isValidDebianVersion(sa) && isValidDebianVersion(sb)) return compareDebian(sa, sb);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function fmt(v: string | number | Array<string | number>): string {
  return Array.isArray(v) ? `[${v.join(', ')}]` : String(v);
}

export function evaluateCondition(cond: Condition, subject: EvaluationSubject): ConditionResult {
  if ('all' in cond) {
    const parts = cond.all.map((c) => evaluateCondition(c, subject));
    const f = parts.find((p) => p.truth === 'false');
    if (f) return f;
    const u = parts.find((p) => p.truth === 'unknown');
    if (u) return u;
    return { truth: 'true', reason: parts.map((p) => p.reason).join(' and ') };
  }
  if ('any' in cond) {
    const parts = cond.any.map((c) => evaluateCondition(c, subject));
    const t = parts.find((p) => p.truth === 'true');
    if (t) return t;
    const u = parts.find((p) => p.truth === 'unknown');
    if (u) return u;
    return { truth: 'false', reason: parts.map((p) => p.reason).join(' and ') || 'no alternative' };
  }
  if ('not' in cond) {
    const r = evaluateCondition(cond.not, subject);
    return { truth: r.truth === 'unknown' ? 'unknown' : r.truth === 'true' ? 'false' : 'true', reason: `not (${r.reason})` };
  }
  if ('package' in cond) {
    const p = subject.installed?.get(cond.package);
    if (!subject.installed) return { truth: 'unknown', reason: `installed set unknown for ${cond.package}` };
    if (!p) return { truth: 'false', reason: `${cond.package} is not installed` };
    const label = cond.arch && cond.arch !== 'any' && cond.arch !== 'native' ? `${cond.package}:${cond.arch}` : cond.package;
    if (label !== cond.package && p.architecture !== cond.arch) return { truth: 'false', reason: `${cond.package} is installed for ${p.architecture}, not ${cond.arch}` };
    if (cond.op === undefined || cond.version === undefined) return { truth: 'true', reason: `${label} ${p.version} is installed` };
    const ok = satisfiesRelation(getScheme(subject.schemeOf?.(cond.package) ?? 'deb'), p.version, cond.op, cond.version);
    return { truth: ok ? 'true' : 'false', reason: `${label} ${p.version} ${cond.op} ${cond.version} is ${ok}` };
  }
  const actual = readFact(subject.facts, subject.labels, cond.fact);
  if (actual === undefined) return { truth: 'unknown', reason: `fact ${cond.fact} is not known for this host` };
  if (cond.op === 'in') {
    const ok = cond.value.some((v) => compareValues(actual, v) === 0);
    return { truth: ok ? 'true' : 'false', reason: `${cond.fact} ${actual} in ${fmt(cond.value)} is ${ok}` };
  }
  const ok = relationHolds(compareValues(actual, cond.value), cond.op);
  return { truth: ok ? 'true' : 'false', reason: `${cond.fact} ${actual} ${cond.op} ${cond.value} is ${ok}` };
}

/** The fact names a condition reads (for grouping: hosts that differ only elsewhere share a group). */
export function factsReadBy(cond: Condition, into: Set<FactName> = new Set()): Set<FactName> {
  if ('all' in cond) cond.all.forEach((c) => factsReadBy(c, into));
  else if ('any' in cond) cond.any.forEach((c) => factsReadBy(c, into));
  else if ('not' in cond) factsReadBy(cond.not, into);
  else if ('fact' in cond) into.add(cond.fact);
  return into;
}
