/** The fleet rendered for people: hosts with their facts, the groups they form, hosts not collected. */
import { groupHosts, type Fleet, type FleetHost } from '../../fleet/index.js';
import { describeAptSources, describeGroupFacts, listHosts } from './plan.js';
import type { Palette } from './palette.js';

function hostLine(h: FleetHost): string {
  const f = h.facts;
  const os = f.os ? `${f.os.id} ${f.os.versionId ?? ''}${f.os.codename ? ` (${f.os.codename})` : ''}`.trim() : '?';
  const parts = [
    h.name.padEnd(16), h.source.padEnd(9), os.padEnd(20), (f.architecture ?? '?').padEnd(6),
    `kernel ${f.kernel ?? '?'}`.padEnd(26),
    `${f.memoryMiB ?? '?'} MiB`.padEnd(10), `${f.cpus ?? '?'} cpus`.padEnd(8),
    `${f.diskFreeMiB ?? '?'}/${f.diskTotalMiB ?? '?'} MiB free`.padEnd(22),
    `${h.installed.length} packages`,
  ];
  const labels = Object.entries(h.labels).map(([k, v]) => `${k}=${v}`).join(',');
  if (labels) parts.push(` ${labels}`);
  if (h.groups.length) parts.push(` [${h.groups.join(', ')}]`);
  return `  ${parts.join(' ')}`;
}

export function renderFleet(fleet: Fleet, p: Palette): string {
  const out: string[] = [];
  const groups = groupHosts(fleet.hosts);
  out.push(p.bold(`Hosts (${fleet.hosts.length}):`));
  for (const h of fleet.hosts) out.push(hostLine(h));
  out.push('', p.bold(`Groups (${groups.length}): hosts with the same installed set, OS release and architecture`), '  (a plan splits them further by the facts its knowledge base\'s rules read, such as kernel or memory)');
  groups.forEach((g, i) => out.push(`  group ${i + 1} ${p.dim(g.key)}: ${g.hosts.length} host${g.hosts.length === 1 ? '' : 's'} (${listHosts(g.hosts)}); ${describeGroupFacts(g.facts)}${describeAptSources(g.apt)}; ${g.installed.length} packages`));
  const bad = fleet.findings.filter((f) => f.kind !== 'partial-facts');
  const partial = fleet.findings.filter((f) => f.kind === 'partial-facts');
  if (bad.length) {
    out.push('', p.bold(p.red(`Not collected (${bad.length}):`)));
    for (const f of bad) out.push(`  ${p.red(f.kind)} ${f.host}: ${f.message}`);
  }
  if (partial.length) {
    out.push('', p.bold('Notes:'));
    for (const f of partial) out.push(`  ${f.host}: ${f.message}`);
  }
  return out.join('\n') + '\n';
}

