/**
 * Functional requirements across hosts: the knowledge base says "shopfront (>= 2.0.0) requires
 * postgresql (>= 15)", and the database runs on other hosts, so no Debian Depends sees it. After
 * every group is solved, each requirement is checked against the hosts that run the required
 * package (every host of the plan with one of its alternatives installed, before or after the
 * plan), in the state the plan leaves them in:
 * - met before and after: nothing to say;
 * - met only after the plan (a provider is upgraded by this plan): an ordering constraint, the
 *   providers' groups go first going forward (and last going back), recorded on the group;
 * - not met after the plan: an unmet requirement (data: the requiring groups, the groups that
 *   fall short and what they run), which the plan makes a conflict with verified resolutions
 *   (plan.ts: upgrade the required package there first, or hold the requiring package);
 * - no host of the plan runs it: a `requirement-unknown` finding (the service may run outside
 *   the plan's fleet: say so rather than pass silently).
 * A requirement is checked on a group when the plan changes the requiring package there or
 * changes a provider; a state the plan does not touch is not the plan's finding.
 */
import { evaluateCondition, type EvaluationSubject, type InstalledPackage } from '../fleet/index.js';
import type { SchemeName } from '../versions/index.js';
import type { PackageChange } from '../solver/index.js';
import type { EnvFinding, GroupOrdering, PlanFact } from './model.js';
import { clauseCondition, type FunctionalRule } from './rules.js';
import { applyPackageChanges } from './rollback-order.js';

export interface FunctionalGroup {
  key: string;
  hosts: string[];
  installed: InstalledPackage[];
  /** The group's changes; undefined when the group is in conflict (it is left as it is). */
  changes?: PackageChange[];
}

export type RequirementUnmetFact = Extract<PlanFact, { kind: 'requirement-unmet' }>;

/** A requirement the plan leaves unmet: the rule, and the fact that explains it. */
export interface FunctionalUnmet {
  rule: FunctionalRule;
  fact: RequirementUnmetFact;
}

export interface FunctionalCheck {
  findings: Map<string, EnvFinding[]>;
  ordering: Map<string, GroupOrdering[]>;
  /** One per rule left unmet (in the order of the rules). */
  unmet: FunctionalUnmet[];
}

/** The id of a functional rule, as findings, ordering constraints and edits name it. */
export function functionalRuleId(rule: FunctionalRule): string {
  return `functional:${rule.packageText} requires ${rule.requiresText}`;
}

function stateAfter(installed: readonly InstalledPackage[], changes: readonly PackageChange[] = []): Map<string, InstalledPackage> {
  const m = new Map(installed.map((p) => [p.name, p]));
  applyPackageChanges(m, changes);
  return m;
}

export function checkFunctionalRequirements(groups: readonly FunctionalGroup[], rules: readonly FunctionalRule[], schemeOf?: (name: string) => SchemeName): FunctionalCheck {
  const findings = new Map<string, EnvFinding[]>();
  const ordering = new Map<string, GroupOrdering[]>();
  const unmet: FunctionalUnmet[] = [];
  if (rules.length === 0) return { findings, ordering, unmet };
  const states = groups.map((g) => ({ g, before: new Map(g.installed.map((p) => [p.name, p])), after: stateAfter(g.installed, g.changes) }));
  const subject = (installed: ReadonlyMap<string, InstalledPackage>): EvaluationSubject => ({ facts: {}, labels: {}, installed, ...(schemeOf ? { schemeOf } : {}) });
  for (const rule of rules) {
    const requiringNames = new Set(rule.package.map((a) => a.name));
    const requiredNames = new Set(rule.requires.map((a) => a.name));
    const providers = states.filter((s) => [...requiredNames].some((n) => s.before.has(n) || s.after.has(n)));
    const providerChanged = providers.some((s) => s.g.changes?.some((c) => requiredNames.has(c.name)));
    const need = clauseCondition(rule.requires);
    const unmetAfter = providers.filter((s) => evaluateCondition(need, subject(s.after)).truth !== 'true');
    const unmetBefore = providers.filter((s) => evaluateCondition(need, subject(s.before)).truth !== 'true');
    const has = clauseCondition(rule.package);
    const ruleId = functionalRuleId(rule);
    let fact: RequirementUnmetFact | undefined;
    for (const s of states) {
      if (!s.g.changes) continue;
      if (evaluateCondition(has, subject(s.after)).truth !== 'true') continue;
      const touchesRequiring = s.g.changes.some((c) => requiringNames.has(c.name));
      if (!touchesRequiring && !providerChanged) continue;
      const pkg = rule.package[0]!.name;
      const version = s.after.get(pkg)?.version;
      const what = `${pkg} ${version ?? ''}`.trim();
      const base = { rule: ruleId, package: pkg, source: rule.source };
      const list = findings.get(s.g.key) ?? [];
      if (providers.length === 0) {
        list.push({
          ...base, kind: 'requirement-unknown', severity: 'high',
          message: `${what} requires ${rule.requiresText} on the hosts that run it; no host of this plan runs ${[...requiredNames].join(' or ')}`,
          reason: `no host of the plan has ${[...requiredNames].join(' or ')} installed, so the requirement cannot be checked here${rule.reason ? ` (${rule.reason})` : ''}`,
        });
      } else if (unmetAfter.length > 0) {
        fact ??= {
          kind: 'requirement-unmet', key: ruleId, rule: ruleId, package: rule.packageText, requires: rule.requiresText, ...(rule.reason ? { reason: rule.reason } : {}), source: rule.source,
          requiring: [],
          short: unmetAfter.map((u) => {
            const have = [...requiredNames].map((n) => u.after.get(n)).find((p) => p !== undefined);
            return { group: u.g.key, hosts: u.g.hosts, ...(have ? { installed: { name: have.name, version: have.version } } : {}) };
          }),
        };
        fact.requiring.push({ group: s.g.key, hosts: s.g.hosts, package: { name: pkg, version: version ?? '' } });
      } else if (unmetBefore.length > 0) {
        const first = unmetBefore.map((u) => u.g.key).filter((k) => k !== s.g.key);
        if (first.length > 0) {
          const o = ordering.get(s.g.key) ?? [];
          o.push({ after: first, rule: base.rule, reason: `${rule.requiresText} is met there only once the plan has changed them` });
          ordering.set(s.g.key, o);
        }
      }
      if (list.length > 0) findings.set(s.g.key, list);
    }
    if (fact) unmet.push({ rule, fact });
  }
  return { findings, ordering, unmet };
}
