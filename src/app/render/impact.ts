/**
 * Impact prediction in words: per plan and per host group, the risk of each kind with its level,
 * probability and every reason (with the weight it adds), the services reached with the path that
 * leads there, and the blast radius. Every number printed is one of the model's (src/analysis/risk.ts).
 */
import type { GroupImpact, ImpactReason, PlanImpact, ReachHop, Risk, ServiceReach } from '../../analysis/index.js';
import { PLAIN, type Palette } from './palette.js';

const pct = (p: number): string => `${(p * 100).toFixed(p < 0.1 ? 1 : 0)}%`;

export function describeImpactReason(r: ImpactReason): string {
  switch (r.kind) {
    case 'history':
      return r.runs === 0
        ? `${r.package}: no ${r.change} history (prior ${r.priorFailures} failure in ${r.priorFailures + r.priorSuccesses})`
        : `${r.package}: ${r.failures} of ${r.runs} earlier ${r.change}s failed (smoothed with a prior of ${r.priorFailures} in ${r.priorFailures + r.priorSuccesses})`;
    case 'version-jump': return `${r.package} ${r.from} → ${r.to} is a ${r.jump} jump`;
    case 'change-action': return `${r.package} is ${r.action === 'install' ? 'installed' : r.action === 'remove' ? 'removed' : 'downgraded'}`;
    case 'migration': return `${r.package} ${r.version} runs migration ${r.migration} ${r.direction} on ${r.database}${r.irreversible ? ' (irreversible)' : ''}`;
    case 'known-issue': return `known issue ${r.issue} (${r.severity}, ${r.effect})`;
    case 'requirement': return `${r.finding === 'requirement-not-met' ? 'requirement not met' : 'requirement not checkable'}: ${r.rule.replace(/^functional:/, '')}`;
    case 'resource': {
      const avail = r.available === undefined ? 'unknown headroom' : `${r.available} ${r.unit} on the host`;
      return `${r.resource}: +${r.added} ${r.unit} (${r.packages.join(', ')}) on ${r.inUse} ${r.unit} in use, ${avail}${r.shortfall ? ' — SHORTFALL' : ''}`;
    }
    case 'service-reached': return `reaches ${r.criticality ?? ''} service ${r.service} (${r.impact}, ${r.distance} hop${r.distance === 1 ? '' : 's'})`.replace('  ', ' ');
    case 'group': return `group ${r.group.slice(0, 8)}: ${r.level} (${pct(r.probability)})`;
  }
}

function hopText(h: ReachHop): string {
  switch (h.kind) {
    case 'changed': return `${h.package} (${h.action})`;
    case 'depends': return `${h.package} ${h.relation === 'pre-depends' ? 'pre-depends' : 'depends'} on ${h.via ?? h.on}`;
    case 'service-package': return `runs service ${h.service}`;
    case 'functional-impact': return `affects ${h.service} (${h.impact}, ${h.layer})`;
    case 'known-issue': return `${h.issue} hits ${h.service}`;
    case 'service-depends': return `${h.service} depends on ${h.dependsOn}`;
  }
}

function levelText(r: Risk, p: Palette): string {
  const l = r.level === 'critical' ? p.red(r.level) : r.level === 'moderate' ? p.yellow(r.level) : p.green(r.level);
  return `${l} ${pct(r.probability)}`;
}

function reachLine(s: ServiceReach): string {
  const path = s.paths[0] ? s.paths[0].hops.map(hopText).join(' → ') : '';
  return `${s.service}${s.criticality ? ` [${s.criticality}]` : ''} ${s.impacts.join('/')}${s.onGroupHosts ? '' : ' (on other hosts)'}: ${path}${s.paths.length > 1 ? ` (+${s.paths.length - 1} more path${s.paths.length === 2 ? '' : 's'})` : ''}`;
}

function groupBlock(g: GroupImpact, index: number, p: Palette, maxReasons: number): string[] {
  const out = [`  group ${index + 1} ${p.dim(g.group)}: ${g.hosts.length} host${g.hosts.length === 1 ? '' : 's'}${g.planned ? '' : ' (in conflict: nothing predicted)'}`];
  if (!g.planned) return out;
  for (const [kind, r] of Object.entries(g.risk) as Array<[string, Risk]>) {
    out.push(`    ${kind}: ${levelText(r, p)}`);
    for (const reason of r.reasons.slice(0, maxReasons)) out.push(`      + ${pct(reason.weight).padStart(5)}  ${describeImpactReason(reason)}`);
    if (r.reasons.length > maxReasons) out.push(`      … ${r.reasons.length - maxReasons} more (--json has them all)`);
  }
  if (g.reach.length > 0) {
    out.push('    reaches:');
    for (const s of g.reach) out.push(`      ${reachLine(s)}`);
  }
  out.push(`    blast radius: ${g.blastRadius.hosts.length} host${g.blastRadius.hosts.length === 1 ? '' : 's'} (${pct(g.blastRadius.fleetShare)} of the plan), ${g.blastRadius.criticalServices} critical service${g.blastRadius.criticalServices === 1 ? '' : 's'}${g.truncated ? '; reverse dependencies cut at the depth bound' : ''}`);
  return out;
}

/** The whole impact report. */
export function renderImpact(impact: PlanImpact, p: Palette = PLAIN, options: { maxReasons?: number } = {}): string {
  const out = [p.bold('Impact'), `  plan: ${Object.entries(impact.risk).map(([k, r]) => `${k} ${levelText(r, p)}`).join(', ')}`];
  const critical = impact.reach.filter((s) => s.criticality === 'critical').map((s) => s.service);
  if (impact.reach.length > 0) out.push(`  services reached: ${impact.reach.map((s) => s.service).join(', ')}${critical.length ? ` (critical: ${critical.join(', ')})` : ''}`);
  impact.groups.forEach((g, i) => out.push(...groupBlock(g, i, p, options.maxReasons ?? 6)));
  return out.join('\n') + '\n';
}

/** Two lines for `plan show`: the plan's risk and the groups at critical risk. */
export function renderImpactSummary(impact: PlanImpact, p: Palette = PLAIN): string[] {
  const critical = impact.groups.filter((g) => Object.values(g.risk).some((r) => r.level === 'critical'));
  return [
    `  impact: ${Object.entries(impact.risk).map(([k, r]) => `${k} ${levelText(r, p)}`).join(', ')}; services reached: ${impact.reach.map((s) => s.service).join(', ') || 'none'}`,
    ...(critical.length ? [`  critical risk on ${critical.length} group${critical.length === 1 ? '' : 's'} (rollwise impact ID explains each reason)`] : []),
  ];
}
