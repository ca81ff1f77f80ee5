/** Child process for the crash test: writes large plans to a SQLite store in a loop until killed. */
import { openSqlitePlanStore } from '../../src/store/index.js';
import { createSamplePlan } from './sample-plan.js';

const [file, prefix, groupsText] = process.argv.slice(2);
const store = await openSqlitePlanStore(file!);
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const id = `${prefix}${i.toString(16).padStart(4, '0')}`;
  const plan = createSamplePlan(id, 1, Number(groupsText ?? 1000), 40);
  process.stdout.write(`writing ${id}\n`);
  await store.savePlan(plan);
  process.stdout.write(`saved ${id}\n`);
}
