/**
 * `rollwise history import FILE` and `rollwise history list`: the deployment history the impact
 * prediction weighs (a smoothed failure rate per package and kind of change), kept in the store.
 * Parse, call the services, render.
 */
import type { Command } from 'commander';
import { countHistory, smoothedFailureRate, HISTORY_PRIOR } from '../../../analysis/index.js';
import { loadHistoryFile, openStore, openStoreForReading } from '../../services/index.js';
import { collect } from '../terminal.js';

export function register(program: Command): void {
  const history = program.command('history').description('earlier deployments per package and change: what the impact prediction\'s history reads');

  history
    .command('import')
    .description('add the entries of a history file to the store (an entry already there is not added twice)')
    .argument('<file>', 'YAML or JSON: a list of {package, change: install|upgrade|downgrade|remove, outcome: succeeded|failed|rolled-back, at: ISO 8601, host?, jump?}')
    .option('--store <file>', 'SQLite store')
    .action(async (file: string, o: { store?: string }) => {
      const entries = loadHistoryFile(file);
      const store = await openStore(o.store);
      try {
        const r = await store.addHistory(entries, file);
        process.stdout.write(`imported ${r.added} entr${r.added === 1 ? 'y' : 'ies'} from ${file}${r.already ? ` (${r.already} already there)` : ''}\n`);
      } finally {
        await store.close();
      }
    });

  history
    .command('list')
    .description('per package and change: runs, failures and the smoothed failure rate the impact uses')
    .option('--package <name>', 'only these packages (repeatable)', collect, [])
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the entries as JSON')
    .action(async (o: { package: string[]; store?: string; json?: boolean }) => {
      const store = await openStoreForReading(o.store);
      try {
        const entries = await store.getHistory(o.package.length ? o.package : undefined);
        if (o.json) {
          process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
          return;
        }
        if (entries.length === 0) {
          process.stdout.write(`no deployment history (rollwise history import FILE); every package gets the prior ${HISTORY_PRIOR.failures} failure in ${HISTORY_PRIOR.failures + HISTORY_PRIOR.successes}\n`);
          return;
        }
        const counts = countHistory(entries);
        for (const [key, c] of [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
          process.stdout.write(`${key.replace('\u0000', ' ')}: ${c.failures} of ${c.runs} failed; smoothed failure rate ${(smoothedFailureRate(c.runs, c.failures) * 100).toFixed(1)}%\n`);
        }
      } finally {
        await store.close();
      }
    });
}
