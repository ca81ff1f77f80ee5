/**
 * Plans rendered for people: grouped, summarised, colours through an injected palette (the CLI
 * passes real colours only on terminals). Pure: plan in, text out.
 */
import type { FactName } from '../../fleet/index.js';
import { formatItem, type PackageChange } from '../../solver/index.js';
import type { AppliedChoice, ApprovalGate, GroupFinding, HeldBackFinding, Plan, PlanGroup, PlanResolution, ResolvedLessFinding } from '../../planner/index.js';
import { formatRequest } from '../../planner/index.js';
import { PLAIN, type Palette } from './palette.js';
import { describeEdit, renderPlanExplanation } from './explanation.js';
import { renderImpactSummary } from './impact.js';
import type { PlanImpact } from '../../analysis/index.js';

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** `web-01, web-02, web-03 and 9 more` */
export function listHosts(hosts: string[], max = 4): string {
  if (hosts.length <= max) return hosts.join(', ');
  return `${hosts.slice(0, max).join(', ')} and ${hosts.length - max} more`;
}

export function describeGroupFacts(facts: Partial<Record<FactName, string | number>>): string {
  const parts: string[] = [];
  const os = [facts['os.id'], facts['os.versionId']].filter((x) => x !== undefined).join(' ');
  if (os) parts.push(os);
  if (facts.architecture !== undefined) parts.push(String(facts.architecture));
  if (facts.kernel !== undefined) parts.push(`kernel ${facts.kernel}${facts.kernelVersion !== undefined ? ` (${facts.kernelVersion})` : ''}`);
  if (facts.memoryMiB !== undefined) parts.push(`${facts.memoryMiB} MiB`);
  if (facts.cpus !== undefined) parts.push(`${facts.cpus} cpus`);
  for (const [k, v] of Object.entries(facts)) if (k.startsWith('label.')) parts.push(`${k.slice(6)}=${v}`);
  return parts.join(', ');
}

/** `sources bookworm, bookworm-security` (the suites of a group's apt sources), '' when not known. */
export function describeAptSources(apt: { sources: ReadonlyArray<{ type: string; suite: string }> } | undefined): string {
  if (!apt) return '';
  const suites = [...new Set(apt.sources.filter((s) => s.type === 'deb').map((s) => s.suite))];
  return suites.length ? `; sources ${suites.join(', ')}` : '; no sources';
}

export function formatChange(c: PackageChange): string {
  switch (c.action) {
    case 'install': return `install ${c.name} ${c.to}`;
    case 'remove':
    case 'purge': return c.from === undefined ? `${c.action} ${c.name}` : `${c.action} ${c.name} ${c.from}`;
    default: return `${c.action} ${c.name} ${c.from} → ${c.to}`;
  }
}

function changeLine(changes: PackageChange[], max = 6): string {
  if (changes.length === 0) return 'nothing to change';
  const shown = changes.slice(0, max).map(formatChange).join('; ');
  return changes.length > max ? `${shown}; and ${changes.length - max} more` : shown;
}

/** `c1/r1 (v1: choose another version: install shopfront=1.8.3 instead of shopfront (= 2.0.0))` */
function describeChoice(c: AppliedChoice): string {
  return `${c.conflict}/${c.resolution} (v${c.fromVersion}: ${describeEdit(c.edit)})`;
}

/** What the group gets of the package instead of what was asked. */
function resolvedLessWhat(f: ResolvedLessFinding): string {
  if (f.version === undefined) return f.installed === undefined ? `${f.package} is not installed` : `${f.package} is removed (was ${f.installed})`;
  if (f.asked.kind === 'remove') return `${f.package} stays installed at ${f.version}`;
  if (f.installed === f.version) return `${f.package} stays at ${f.version}`;
  return f.installed === undefined ? `${f.package} gets ${f.version}` : `${f.package} gets ${f.version} (from ${f.installed})`;
}

/** `openssl kept back at 3.0.11-1, not the newest 3.0.13-1` */
function heldBackWhat(f: HeldBackFinding): string {
  const what = f.version === undefined ? 'not installed' : f.installed === f.version ? `kept back at ${f.version}` : `gets ${f.version}`;
  return `${f.package} ${what}, not the newest ${f.newest}`;
}

/** Why a package is held back, or how to find out when the plan did not work it out. */
function heldBackWhy(f: HeldBackFinding): string[] {
  if (!f.because) return [`reason not worked out (a patch day explains the first packages of each group): rollwise why-not ${f.package}=${f.newest} with the group's request says why`];
  const why = renderPlanExplanation(f.because);
  return [`because ${why[0] ?? ''}`, ...why.slice(1)];
}

function findingLine(f: GroupFinding, p: Palette): string {
  if (f.kind === 'resolved-less') {
    const rs = f.choices.length === 1 ? 'resolution' : 'resolutions';
    const further = f.because ? `
        and not further: ${renderPlanExplanation(f.because).join('; ')}` : '';
    return `      ! less than asked [${p.yellow(f.severity)}] ${resolvedLessWhat(f)} instead of ${formatItem(f.asked)}\n        because ${rs} ${f.choices.map(describeChoice).join('; ')} ${f.choices.length === 1 ? 'was' : 'were'} chosen${further}`;
  }
  if (f.kind === 'held-back') {
    return `      ! held back [${p.yellow(f.severity)}] ${heldBackWhat(f)}\n        ${heldBackWhy(f).join('; ')}`;
  }
  const sev = f.severity === 'critical' || f.severity === 'high' ? p.red(f.severity) : p.yellow(f.severity);
  const tag = f.kind === 'known-issue' ? `known issue ${f.rule}` : f.kind === 'requirement-not-met' ? 'requirement not met' : 'requirement unknown';
  const wa = f.workaround ? `\n        workaround: ${f.workaround}` : '';
  return `      ! ${tag} [${sev}] ${f.message}\n        because ${f.reason}; source: ${f.source}${wa}`;
}

/** Whether choosing the resolution removes a package (never the one a hint or a prompt offers first). */
export function removesPackages(r: PlanResolution): boolean {
  const edits = r.edit.kind === 'all-of' ? r.edit.edits : [r.edit];
  return edits.some((e) => e.kind === 'allow-removal') || r.preview.some((c) => c.action === 'remove' || c.action === 'purge');
}

function groupHeader(g: PlanGroup, index: number, p: Palette): string {
  const state = g.outcome.kind === 'transaction' ? p.green('ready') : p.red(`conflict ${g.outcome.conflict}`);
  const facts = describeGroupFacts(g.facts);
  return `  ${p.bold(`group ${index + 1}`)} ${p.dim(g.key)} ${state}: ${plural(g.hosts.length, 'host')} (${listHosts(g.hosts)})${facts ? `; ${facts}` : ''}${describeAptSources(g.apt)}`;
}

/** Why a group has no rollback plan: `group 4 changes nothing: nothing to roll back`. */
export function describeUnchangedGroup(g: PlanGroup, number: number): string {
  if (g.outcome.kind !== 'transaction') return `group ${number} is in conflict ${g.outcome.conflict} and changes nothing until it is resolved: nothing to roll back`;
  return `group ${number} changes nothing: nothing to roll back`;
}

/** What passing one approval gate takes (besides its override by name). */
function gateNeed(g: ApprovalGate, planId: string): string {
  switch (g.kind) {
    case 'unrehearsed-critical-impact': return `a successful rehearsal on a staging host (rollwise rehearse ${planId} --on ROOT)`;
    case 'risk-approval': return `a person to accept: ${g.detail}`;
    case 'requirement-not-met': return `the critical requirement met: ${g.detail}`;
    case 'known-issue': return `the critical known issue avoided: ${g.detail}`;
  }
}

/**
 * The gates `plan approve` will meet (src/app/services/review.ts approvalGates), each with what
 * passes it and its override, then the approve command that overrides what is still open.
 */
export function renderApprovalNeeds(planId: string, gates: readonly ApprovalGate[], p: Palette = PLAIN): string[] {
  if (gates.length === 0) return [`No conflicts. Approve with: rollwise plan approve ${planId}`];
  const out = [`No conflicts. Approval needs (rollwise plan approve refuses until each is passed or overridden by name):`];
  for (const g of gates) out.push(`  ${p.yellow(g.name)}: ${gateNeed(g, planId)}; or --override '${g.name}'`);
  out.push(`Approve with: rollwise plan approve ${planId} ${gates.map((g) => `--override '${g.name}'`).join(' ')} --reason TEXT  (leave out the override of a gate passed by then)`);
  return out;
}

/** `gates`: the approval gates of the version (shown instead of a bare "approve with" when it is ready). */
export function renderPlan(plan: Plan, p: Palette = PLAIN, options: { maxChanges?: number; impact?: PlanImpact; gates?: readonly ApprovalGate[] } = {}): string {
  const s = plan.summary;
  const out: string[] = [];
  const status = plan.status === 'ready' || plan.status === 'approved' ? p.green(plan.status) : plan.status === 'needs-review' ? p.yellow(plan.status) : p.dim(plan.status);
  out.push(`${p.bold(`Plan ${plan.id}`)} version ${plan.version}  ${status}  (${plan.createdAt})${plan.approval ? `  approved by ${plan.approval.by} at ${plan.approval.at}` : ''}`);
  out.push(`Request: ${formatRequest(plan.inputs.request)}`);
  if (plan.origin.kind === 'resolution') {
    out.push(`Made from version ${plan.origin.parentVersion} by choosing: ${plan.origin.choices.map((c) => `${c.conflict}=${c.resolution} (${describeEdit(c.edit)})`).join('; ')}`);
  }
  out.push(`Fleet: ${plural(s.hosts, 'host')} in ${plural(s.groups, 'group')} (hosts in the same state are solved once)`);
  out.push(`  ready: ${plural(s.hostsReady, 'host')} in ${plural(s.groupsReady, 'group')}; in conflict: ${s.hostsInConflict ? p.red(plural(s.hostsInConflict, 'host')) : '0 hosts'} in ${plural(s.groupsInConflict, 'group')}`);
  const ch = s.changes;
  out.push(`  changes over all hosts: ${ch.install} installs, ${ch.upgrade} upgrades, ${ch.downgrade} downgrades, ${ch.remove} removals`);
  const f = s.findings;
  const fl = [
    f.heldBackPackages === undefined
      ? `${f.heldBack ?? 0} held back (a requested package stays behind its newest version)`
      : f.heldBack === 0 ? '0 hosts with packages held back'
        : `${plural(f.heldBack, 'host')} with packages held back (${plural(f.heldBackPackages, 'package')} over all hosts stay behind the newest version or apt's candidate)`,
    `${plural(f.resolvedLess ?? 0, 'host')} doing less than asked by a chosen resolution`,
    `${f.knownIssue} host${f.knownIssue === 1 ? '' : 's'} with a known issue`, `${f.requirementNotMet} with a requirement not met`, `${f.requirementUnknown} where a requirement cannot be checked`, `${f.unreachable} unreachable`];
  out.push(`  findings: ${fl.join(', ')}`);
  for (const ff of plan.fleetFindings) out.push(`  ${ff.kind === 'unreachable' ? p.red('unreachable') : p.yellow(ff.kind)} ${ff.host}: ${ff.message}`);
  if (options.impact) out.push(...renderImpactSummary(options.impact, p).map((l) => l.replace('rollwise impact ID', `rollwise impact ${plan.id}`)));
  out.push('', p.bold('Host groups:'));
  const groupNumber = new Map(plan.groups.map((g, i) => [g.key, i + 1]));
  plan.groups.forEach((g, i) => {
    out.push(groupHeader(g, i, p));
    if (g.choices.length) out.push(`      chosen: ${g.choices.map((c) => `${describeEdit(c.edit)} (v${c.fromVersion} ${c.conflict}=${c.resolution})`).join('; ')}`);
    if (g.outcome.kind === 'transaction') out.push(`      ${changeLine(g.outcome.changes, options.maxChanges)}`);
    else if (g.outcome.changes) out.push(`      held until ${g.outcome.conflict} is resolved: ${changeLine(g.outcome.changes, options.maxChanges)}`);
    for (const fi of g.findings) out.push(findingLine(fi, p));
    for (const o of g.ordering ?? []) out.push(`      after group${o.after.length === 1 ? '' : 's'} ${o.after.map((k) => groupNumber.get(k) ?? k).join(', ')} going forward (before ${o.after.length === 1 ? 'it' : 'them'} going back): ${o.rule.replace(/^functional:/, '')}; ${o.reason}`);
  });
  if (plan.conflicts.length) {
    out.push('', p.bold('Conflicts to review:'));
    for (const c of plan.conflicts) {
      const hosts = plan.groups.filter((g) => c.groups.includes(g.key)).flatMap((g) => g.hosts);
      out.push(`  ${p.red(p.bold(c.id))}: ${plural(c.hosts, 'host')} in ${plural(c.groups.length, 'group')} (${listHosts(hosts)})`);
      for (const line of renderPlanExplanation(c.explanation)) out.push(`      ${line}`);
      if (c.resolutions.length === 0) out.push(`      ${p.yellow('no verified resolution: change the request')}`);
      for (const r of c.resolutions) out.push(`    ${p.cyan(r.id)}  ${describeEdit(r.edit)}\n          → ${changeLine(r.preview, 4)}`);
    }
    // the hint offers the gentlest resolution that removes nothing; a conflict whose every
    // resolution removes a package is left for the operator to choose explicitly
    const gentle = plan.conflicts.flatMap((c) => {
      const r = c.resolutions.find((x) => !removesPackages(x));
      return r ? [`--choose ${c.id}=${r.id}`] : [];
    });
    const onlyRemovals = plan.conflicts.filter((c) => c.resolutions.length > 0 && c.resolutions.every(removesPackages)).map((c) => c.id);
    if (gentle.length) out.push('', `Choose with: rollwise plan resolve ${plan.id} ${gentle.join(' ')}   (or run it on a terminal without --choose)`);
    if (onlyRemovals.length) out.push(`${gentle.length ? '' : '\n'}Every resolution of ${onlyRemovals.join(', ')} removes a package: choose one explicitly (--choose ${onlyRemovals[0]}=rN).`);
  } else if (plan.status === 'ready') {
    out.push('', ...renderApprovalNeeds(plan.id, options.gates ?? [], p));
  }
  return out.join('\n') + '\n';
}

/**
 * The plan for programs: everything but the installed sets (their size instead); explanations and
 * resolutions as data (facts, typed edits) with their words beside them (`text`, `description`).
 */
export function planToJson(plan: Plan): unknown {
  const choice = (c: AppliedChoice) => ({ ...c, description: describeEdit(c.edit) });
  return {
    ...plan,
    origin: plan.origin.kind === 'resolution' ? { ...plan.origin, choices: plan.origin.choices.map(choice) } : plan.origin,
    groups: plan.groups.map(({ installed, ...g }) => ({
      ...g,
      choices: g.choices.map(choice),
      findings: g.findings.map((f) => (f.kind === 'resolved-less'
        ? { ...f, choices: f.choices.map(choice), text: `${resolvedLessWhat(f)} instead of ${formatItem(f.asked)}`, ...(f.because ? { because: { ...f.because, text: renderPlanExplanation(f.because) } } : {}) }
        : f.kind === 'held-back'
          ? { ...f, text: heldBackWhat(f), ...(f.because ? { because: { ...f.because, text: renderPlanExplanation(f.because) } } : {}) }
          : f)),
      installedCount: installed.length,
    })),
    conflicts: plan.conflicts.map((c) => ({
      ...c,
      explanation: { ...c.explanation, text: renderPlanExplanation(c.explanation) },
      resolutions: c.resolutions.map((r) => ({ ...r, description: describeEdit(r.edit) })),
    })),
  };
}
