/** The fleet rendered for people: hosts with their facts, the groups they form, hosts not collected. */
import { groupHosts, type Fleet, type FleetHost, type HostAptConfig } from '../../fleet/index.js';
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

type AptPinOf = HostAptConfig['preferences'][number];

/** An apt preference as apt_preferences(5) writes it: `tool: version 2.0* 1001`, `*: release a=bookworm-backports 100`. */
export function describeAptPin(pin: AptPinOf): string {
  const names = pin.packages === '*' ? '*' : pin.packages.join(' ');
  const t = pin.pin;
  let target: string;
  if (t.kind === 'version') target = `version ${t.pattern}`;
  else if (t.kind === 'origin') target = `origin ${t.site || '""'}`;
  else {
    const spec = t.spec;
    const keyed = (['a', 'n', 'v', 'o', 'l', 'c', 'b'] as const).filter((k) => spec[k] !== undefined).map((k) => `${k}=${spec[k]}`);
    target = `release ${[...(spec.release !== undefined ? [spec.release] : []), ...keyed].join(',')}`;
  }
  return `${names}: ${target} ${pin.priority}`;
}

/** `; pins: tool: version 2.0* 1001; default release bookworm; foreign architectures i386` ('' when the group has none of them). */
export function describeAptPreferences(apt: HostAptConfig | undefined): string {
  if (!apt) return '';
  const parts: string[] = [];
  if (apt.preferences.length) parts.push(`pins: ${apt.preferences.map(describeAptPin).join(', ')}`);
  if (apt.defaultRelease) parts.push(`default release ${apt.defaultRelease}`);
  if (apt.foreignArchitectures.length) parts.push(`foreign architectures ${apt.foreignArchitectures.join(', ')}`);
  return parts.map((x) => `; ${x}`).join('');
}

export function renderFleet(fleet: Fleet, p: Palette): string {
  const out: string[] = [];
  const groups = groupHosts(fleet.hosts);
  out.push(p.bold(`Hosts (${fleet.hosts.length}):`));
  for (const h of fleet.hosts) out.push(hostLine(h));
  out.push('', p.bold(`Groups (${groups.length}): hosts with the same installed set, OS release and architecture`), '  (a plan splits them further by the facts its knowledge base\'s rules read, such as kernel or memory)');
  groups.forEach((g, i) => {
    const facts = describeGroupFacts(g.facts);
    out.push(`  group ${i + 1} ${p.dim(g.key)}: ${g.hosts.length} host${g.hosts.length === 1 ? '' : 's'} (${listHosts(g.hosts)})${facts ? `; ${facts}` : ''}${describeAptSources(g.apt)}${describeAptPreferences(g.apt)}; ${g.installed.length} package${g.installed.length === 1 ? '' : 's'}`);
  });
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

