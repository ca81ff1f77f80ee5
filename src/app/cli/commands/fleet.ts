/**
 * `rollwise fleet show`: the hosts of one or more inventory sources with their facts, the groups
 * they form (hosts in the same state are planned once), and hosts that could not be reached.
 */
import type { Command } from 'commander';
import { groupHosts, type Fleet } from '../../../fleet/index.js';
import { RollwiseError } from '../../../shared/index.js';
import { readFleet } from '../../services/index.js';
import { renderFleet } from '../../render/index.js';
import { createProgress, paletteFor } from '../terminal.js';
import { addFleetOptions, type FleetOptionValues } from '../options.js';

export function register(program: Command): void {
  const fleet = program.command('fleet').description('inventory sources: YAML inventories, the local host, hosts over SSH');
  addFleetOptions(fleet
    .command('show')
    .description('hosts, their facts and groups, and hosts that could not be reached (reported, not fatal)'), 'include this machine (read-only)')
    .option('--json', 'print hosts, groups and findings as JSON')
    .addHelpText(
      'after',
      '\nExit status:\n' +
        '  0  every host was collected (facts missing on some hosts are listed, not failures)\n' +
        '  1  some hosts could not be reached or collected: they are listed with the others\n' +
        '  2  bad usage or a bad inventory (nothing was contacted)',
    )
    .action(async (o: FleetOptionValues & { json?: boolean }) => {
      const progress = createProgress();
      let result: Fleet;
      try {
        result = await readFleet(o, (t) => progress.update(t));
      } finally {
        progress.done();
      }
      if (result.hosts.length === 0 && result.findings.length === 0) {
        throw new RollwiseError('RW_USAGE', 'no hosts to show', { hint: 'name the fleet: --inventory FILE (repeatable), --local or --ssh-host HOST' });
      }
      if (o.json) {
        // a group's apt configuration (sources, preferences, default release) when known
        const groups = groupHosts(result.hosts).map((g) => ({ key: g.key, hosts: g.hosts, facts: g.facts, ...(g.apt ? { apt: g.apt } : {}), packages: g.installed.length }));
        const hosts = result.hosts.map(({ installed, ...h }) => ({ ...h, packages: installed.length }));
        process.stdout.write(JSON.stringify({ hosts, groups, findings: result.findings }, null, 2) + '\n');
      } else {
        process.stdout.write(renderFleet(result, paletteFor()));
      }
      const unreachable = result.findings.filter((f) => f.kind === 'unreachable' || f.kind === 'collection-failed').length;
      if (unreachable) {
        process.stderr.write(`rollwise: ${unreachable} host${unreachable === 1 ? '' : 's'} could not be collected (listed above)\n`);
        // scripts and CI must not read a partial fleet as a whole one
        process.exitCode = 1;
      }
    });
}
