/**
 * Child process of the lease race test (test/store/lease-race.test.ts), one controller:
 *
 *   lease-race-child.ts STORE DEPLOYMENT NAME ITERATIONS
 *
 * Prints "ready", waits for a line on stdin (so that all children start together), then, each
 * iteration: appends a `host` event fenced by its own host lease (`host:NAME`, a writer that
 * never waits for the deployment lease); tries to acquire the deployment lease (every fifth time
 * for 25 ms only, and then holds it past its expiry, so that another child can take it over);
 * when acquired, journals `enter`, a started/ended pair and `exit`, each body naming holder and
 * token, and releases. Prints one JSON line: the tokens it acquired, every entry it was told
 * was stored (key, phase, seq), how many writes were refused with RW_LEASE, and anything else
 * that went wrong (`uncaught`, which the test counts as a failure).
 */
import readline from 'node:readline';
import { openPostgresPlanStore, openSqlitePlanStore } from '../../src/store/index.js';
import { isRollwiseError } from '../../src/shared/index.js';
import type { JournalEntry, JournalEntryInput, LeaseFence } from '../../src/deploy/index.js';

const [where, deployment, name, iterationsText] = process.argv.slice(2) as [string, string, string, string];
const store = /^postgres(ql)?:\/\//.test(where) ? await openPostgresPlanStore(where) : await openSqlitePlanStore(where);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const tokens: number[] = [];
const stored: Array<{ key: string; phase: string; seq: number }> = [];
let refused = 0;
let held = 0;
const uncaught: string[] = [];

/** Appends; a refusal for the lease is an expected outcome, anything else is recorded as uncaught. */
async function append(entries: JournalEntryInput[], fence: LeaseFence, scope?: string): Promise<boolean> {
  try {
    const out: JournalEntry[] = await store.appendJournal(deployment, entries, fence, scope);
    for (const e of out) stored.push({ key: e.key, phase: e.phase, seq: e.seq });
    return true;
  } catch (e) {
    if (isRollwiseError(e) && e.code === 'RW_LEASE') {
      refused++;
      return false;
    }
    uncaught.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
    return false;
  }
}

process.stdout.write('ready\n');
const lines = readline.createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
lines.close();

try {
  const hostLease = await store.acquireLease(deployment, name, 600_000, `host:${name}`);
  if (hostLease.kind !== 'acquired') throw new Error(`host:${name} should be free: ${JSON.stringify(hostLease)}`);
  for (let i = 0; i < Number(iterationsText); i++) {
    await append([{ kind: 'host', key: `${name}/${i}/host`, phase: 'event', host: name, body: { i } }], hostLease.fence, `host:${name}`);
    const short = i % 5 === 4;
    const got = await store.acquireLease(deployment, name, short ? 25 : 600_000);
    if (got.kind === 'held') {
      held++;
      await sleep(Math.random() * 4);
      continue;
    }
    const f = got.fence;
    tokens.push(f.token);
    const body = { holder: f.holder, token: f.token, i };
    if (await append([{ kind: 'decision', key: `${name}/${i}/enter`, phase: 'event', body }], f)) {
      // a short lease is held past its end: another child may take it over meanwhile
      await sleep(short ? 40 : Math.random() * 4);
      if (await append([{ kind: 'step', key: `${name}/${i}`, phase: 'started', host: name, body }, { kind: 'step', key: `${name}/${i}`, phase: 'ended', outcome: 'succeeded', host: name, body }], f)) {
        await append([{ kind: 'decision', key: `${name}/${i}/exit`, phase: 'event', body }], f);
      }
    }
    await store.releaseLease(deployment, f);
  }
} catch (e) {
  uncaught.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
} finally {
  await store.close();
}
process.stdout.write(JSON.stringify({ name, tokens, stored, refused, held, uncaught }) + '\n');
