/**
 * Child process for the store tests (a separate process, as a second `rollwise` run would be).
 *
 *   write-plans-child.ts STORE PREFIX GROUPS
 *     writes large plans to STORE in a loop until killed (the crash test)
 *   write-plans-child.ts --serve NAME GROUPS
 *     reads one JSON command a line on stdin and answers each with one JSON line on stdout
 *     (the concurrency test: the parent starts each round in every child at once):
 *     {"op":"create","round":R,"store":S,"fresh":F?}  saves NAME-fR to the fresh store F (opened,
 *        so migrated, by every child at once), NAME-R to S, then tries to create the shared
 *        plan sR v1 in S (one child wins); answers {"fresh","own","shared"} outcomes
 *     {"op":"resolve","round":R,"store":S}  saves sR v2 superseding v1 (one child wins), then
 *        lists S read-only; answers {"resolve","listed"}
 *     {"op":"exit"}
 * STORE is a SQLite file or a postgresql:// URL. An outcome is "ok", {"code","message"} for a
 * RollwiseError, or {"uncaught"} for anything else (which the test counts as a failure).
 */
import readline from 'node:readline';
import { openPostgresPlanStore, openSqlitePlanStore } from '../../src/store/index.js';
import type { PlanStore } from '../../src/planner/index.js';
import { isRollwiseError } from '../../src/shared/index.js';
import { createSamplePlan } from './sample-plan.js';

type Outcome = 'ok' | { code: string; message: string } | { uncaught: string };

function open(store: string, access: 'write' | 'read' = 'write'): Promise<PlanStore> {
  return /^postgres(ql)?:\/\//.test(store) ? openPostgresPlanStore(store, { access }) : openSqlitePlanStore(store, { access });
}

async function outcome(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    if (isRollwiseError(e)) return { code: e.code, message: e.message };
    return { uncaught: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

/** Opens, runs, closes: one command-line run's worth of store use. */
async function withStore(store: string, access: 'write' | 'read', fn: (s: PlanStore) => Promise<unknown>): Promise<Outcome> {
  return outcome(async () => {
    const s = await open(store, access);
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  });
}

const args = process.argv.slice(2);
if (args[0] === '--serve') {
  const [, name, groupsText] = args;
  const groups = Number(groupsText ?? 20);
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const cmd = JSON.parse(line) as { op: string; round: number; store: string; fresh?: string };
    if (cmd.op === 'exit') break;
    if (cmd.op === 'create') {
      const fresh = cmd.fresh ? await withStore(cmd.fresh, 'write', (s) => s.savePlan(createSamplePlan(`${name}-f${cmd.round}`, 1, 3, 5))) : 'ok';
      let shared: Outcome = { code: 'NOT_RUN', message: 'the store did not open' };
      const own = await withStore(cmd.store, 'write', async (s) => {
        await s.savePlan(createSamplePlan(`${name}-${cmd.round}`, 1, groups, 20));
        shared = await outcome(() => s.savePlan(createSamplePlan(`s${cmd.round}`, 1, groups, 20)));
      });
      process.stdout.write(JSON.stringify({ op: cmd.op, round: cmd.round, fresh, own, shared }) + '\n');
    } else if (cmd.op === 'resolve') {
      let resolve: Outcome = { code: 'NOT_RUN', message: 'the store did not open' };
      const opened = await withStore(cmd.store, 'write', async (s) => {
        // as `plan resolve` does: read the version, make the next one from it, save superseding it
        const current = await s.getPlan(`s${cmd.round}`, 1);
        if (!current) throw new Error(`s${cmd.round} v1 should be there before the resolve round`);
        resolve = await outcome(() => s.savePlan(createSamplePlan(current.id, 2, groups, 20), { supersede: { id: current.id, version: 1 } }));
      });
      let listed: string[] = [];
      const read = await withStore(cmd.store, 'read', async (s) => {
        listed = (await s.listPlans()).map((p) => `${p.id} v${p.version}`);
      });
      process.stdout.write(JSON.stringify({ op: cmd.op, round: cmd.round, resolve: opened === 'ok' ? resolve : opened, read, listed }) + '\n');
    }
  }
  process.exit(0);
} else {
  const [file, prefix, groupsText] = args;
  const store = await open(file!);
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) {
    const id = `${prefix}${i.toString(16).padStart(4, '0')}`;
    const plan = createSamplePlan(id, 1, Number(groupsText ?? 1000), 40);
    process.stdout.write(`writing ${id}\n`);
    await store.savePlan(plan);
    process.stdout.write(`saved ${id}\n`);
  }
}
