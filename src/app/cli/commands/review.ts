/**
 * `rollwise impact PLAN`: what a plan version is predicted to hurt, with every reason.
 * Parse, call the review services, render.
 */
import type { Command } from 'commander';
import { findPlan, impactForStoredPlan, loadHistoryFile, openStoreForReading } from '../../services/index.js';
import { renderImpact } from '../../render/index.js';
import { paletteFor } from '../terminal.js';

export function register(program: Command): void {
  program
    .command('impact')
    .description('the predicted impact of a plan version: services reached (with the path), outage/performance/resource risk with every reason and its weight, blast radius per host group')
    .argument('<plan>', 'plan id (or a unique prefix; ID@N for version N)')
    .option('--history <file>', 'predict again with this deployment history (YAML/JSON list of package, change, outcome, at) instead of showing the recorded impact')
    .option('--reasons <n>', 'reasons shown per risk (default 6; --json has all)', (v) => Number(v))
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the impact as JSON (every number with its reasons)')
    .action(async (spec: string, o: { history?: string; reasons?: number; store?: string; json?: boolean }) => {
      const history = o.history ? loadHistoryFile(o.history) : undefined;
      const store = await openStoreForReading(o.store);
      try {
        const plan = await findPlan(store, spec);
        const { impact, recorded } = await impactForStoredPlan(store, plan, history);
        if (o.json) {
          process.stdout.write(JSON.stringify({ plan: plan.id, version: plan.version, recorded, impact }, null, 2) + '\n');
          return;
        }
        process.stdout.write(`Plan ${plan.id} version ${plan.version}${recorded ? '' : ' (predicted now: no impact was recorded with this version)'}\n`);
        process.stdout.write(renderImpact(impact, paletteFor(), { ...(o.reasons && Number.isInteger(o.reasons) && o.reasons > 0 ? { maxReasons: o.reasons } : {}) }));
      } finally {
        await store.close();
      }
    });
}
