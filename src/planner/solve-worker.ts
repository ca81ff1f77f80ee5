/**
 * A worker thread of the solve pool (solve-pool.ts): receives the universe once (the binary
 * cache's format in shared memory, decoded into views of it), builds the same fleet solver as the main thread, then solves the
 * batches of groups it is sent and posts their outcomes back. Errors a user can reach travel as
 * data (code, message, hint) and are thrown again on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RollwiseError } from '../shared/index.js';
import { decodeUniverse } from '../universe/index.js';
import { createFleetSolver } from './solver-adapter.js';
import type { SolvePoolWorkerData, SolvePoolRequest, SolvePoolReply } from './solve-pool.js';

const data = workerData as SolvePoolWorkerData;
const decoded = decodeUniverse(Buffer.from(data.universe.bytes), Buffer.from(data.universe.key));
if (!decoded.ok) throw new Error(`solve worker: the universe did not arrive whole: ${decoded.reason}`);
const solver = createFleetSolver({
  universe: decoded.universe,
  ...(data.rules ? { rules: data.rules } : {}),
  ...(data.enforceRequirements !== undefined ? { enforceRequirements: data.enforceRequirements } : {}),
  policy: data.policy,
});

parentPort!.on('message', (msg: SolvePoolRequest) => {
  let reply: SolvePoolReply;
  try {
    reply = { id: msg.id, outcomes: msg.inputs.map((i) => solver.solveGroup(i)) };
  } catch (e) {
    reply = e instanceof RollwiseError
      ? { id: msg.id, error: { code: e.code, message: e.message, hint: e.hint } }
      : { id: msg.id, error: { message: e instanceof Error ? (e.stack ?? e.message) : String(e) } };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage({ id: -1, ready: true } satisfies SolvePoolReply);
