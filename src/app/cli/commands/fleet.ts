/**
 * `rollwise fleet show`: the hosts of one or more inventory sources with their facts, the groups
 * they form (hosts in the same state are planned once), and hosts that could not be reached.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { collectFleet, groupHosts, type Fleet, type FleetHost } from '../../../fleet/index.js';
import { describeGroupFacts, listHosts, type Palette } from '../../../planner/index.js';
import { createProgress, paletteFor } from './plan.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

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
  out.push('', p.bold(`Groups (${groups.length}): hosts with the same installed set, OS release and architecture are solved once`));
  groups.forEach((g, i) => out.push(`  group ${i + 1} ${p.dim(g.key)}: ${g.hosts.length} host${g.hosts.length === 1 ? '' : 's'} (${listHosts(g.hosts)}); ${describeGroupFacts(g.facts)}; ${g.installed.length} packages`));
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

export function register(program: Command): void {
  const fleet = program.command('fleet').description('inventory sources: YAML inventories, the local host, hosts over SSH');
  fleet
    .command('show')
    .description('hosts, their facts and groups, and hosts that could not be reached (reported, not fatal)')
    .option('--inventory <file>', 'YAML inventory (repeatable)', collect, [])
    .option('--local', 'include this machine (read-only)', false)
    .option('--ssh-host <[user@]host[:port]>', 'collect a host over SSH (repeatable)', collect, [])
    .option('--known-hosts <file>', 'known_hosts file for SSH (host keys are always checked)')
    .option('--ssh-identity <file>', 'SSH private key')
    .option('--ssh-config <file>', 'ssh config file (-F)')
    .option('--json', 'print hosts, groups and findings as JSON')
    .action(async (o: { inventory: string[]; local: boolean; sshHost: string[]; knownHosts?: string; sshIdentity?: string; sshConfig?: string; json?: boolean }) => {
      const progress = createProgress();
      let result: Fleet;
      try {
        result = await collectFleet({
          inventories: o.inventory, local: o.local, sshHosts: o.sshHost,
          ssh: { ...(o.knownHosts ? { knownHosts: path.resolve(o.knownHosts) } : {}), ...(o.sshIdentity ? { identity: path.resolve(o.sshIdentity) } : {}), ...(o.sshConfig ? { configFile: o.sshConfig } : {}) },
          onProgress: (e) => progress.update(e.phase === 'ssh' ? `collecting hosts over SSH ${e.done}/${e.total}` : `inventory: ${e.done} hosts`),
        });
      } finally {
        progress.done();
      }
      if (result.hosts.length === 0 && result.findings.length === 0) {
        process.stderr.write('rollwise: no hosts (pass --inventory FILE, --local or --ssh-host HOST)\n');
      }
      if (o.json) {
        const groups = groupHosts(result.hosts).map((g) => ({ key: g.key, hosts: g.hosts, facts: g.facts, packages: g.installed.length }));
        const hosts = result.hosts.map(({ installed, ...h }) => ({ ...h, packages: installed.length }));
        process.stdout.write(JSON.stringify({ hosts, groups, findings: result.findings }, null, 2) + '\n');
      } else {
        process.stdout.write(renderFleet(result, paletteFor()));
      }
      const unreachable = result.findings.filter((f) => f.kind === 'unreachable' || f.kind === 'collection-failed').length;
      if (unreachable) process.stderr.write(`rollwise: ${unreachable} host${unreachable === 1 ? '' : 's'} could not be collected (listed above)\n`);
    });
}
