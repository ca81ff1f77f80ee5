/**
 * A pool of worker threads (node:worker_threads) that solve host groups in parallel. The universe
 * goes to every worker once, in the binary cache's format (src/universe/cache.ts: encoded once
 * into a SharedArrayBuffer, decoded by each worker into typed views of that same memory: nothing
 * is parsed again); each worker builds the same fleet solver as the main thread (solve-worker.ts). Work is handed out in
 * small chunks to whichever worker is free, outcomes come back in input order. Workers start on
 * the first batch (a small fleet never pays for them) and hold the process open only while they
 * have work.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RollwiseError, excerpt, type ErrorCode } from '../shared/index.js';
import { encodeUniverse, type Universe } from '../universe/index.js';
import type { SolverPolicy } from '../solver/index.js';
import type { GroupSolveInput, GroupSolveOutcome } from './group-solver.js';
import type { EnvironmentRules } from './rules.js';

/** The solver policy a worker can receive (no callbacks). */
export type PoolPolicy = Omit<SolverPolicy, 'isCandidate' | 'isCancelled'>;

export interface SolvePoolOptions {
  universe: Universe;
  rules?: EnvironmentRules;
  enforceRequirements?: boolean;
  policy: PoolPolicy;
  threads: number;
}

export interface SolvePoolWorkerData {
  /** The universe in the cache's format, in shared memory, and the key it was encoded under. */
  universe: { bytes: SharedArrayBuffer; key: Uint8Array };
  rules?: EnvironmentRules;
  enforceRequirements?: boolean;
  policy: PoolPolicy;
}

export interface SolvePoolRequest {
  id: number;
  inputs: GroupSolveInput[];
}

export type SolvePoolReply =
  | { id: number; outcomes: GroupSolveOutcome[] }
  | { id: number; error: { code?: ErrorCode; message: string; hint?: string } }
  | { id: -1; ready: true };

export interface GroupSolvePool {
  readonly threads: number;
  /** Solves every input (outcomes in input order); `onSolved` after each chunk with the number done so far. */
  solveMany(inputs: readonly GroupSolveInput[], onSolved?: (done: number) => void): Promise<GroupSolveOutcome[]>;
  /** Starts the workers now and waits until each has the universe (otherwise the first batch does). */
  start(): Promise<void>;
  /** Stops the workers. */
  close(): Promise<void>;
}

/** Worker threads to use: `requested` (the --threads option), else ROLLWISE_THREADS, else the CPUs (at most 4). */
export function solveThreads(requested?: string | number): number {
  const given = requested ?? process.env.ROLLWISE_THREADS;
  if (given === undefined || given === '') return Math.max(1, Math.min(4, os.availableParallelism()));
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    const where = requested !== undefined ? '--threads' : 'ROLLWISE_THREADS';
    throw new RollwiseError('RW_USAGE', `${where} must be a whole number from 1 to 64, not '${excerpt(String(given))}'`, { hint: `1 solves on the main thread only; the default is the number of CPUs, at most 4 (here ${Math.min(4, os.availableParallelism())})` });
  }
  return n;
}

/** The compiled worker (dist/), or, from the TypeScript sources (tests, benchmarks), the same module through tsx's loader. */
function workerEntry(): { code: URL | string; eval: boolean } {
  // beside this module (dist/planner), or, from the bundled CLI (dist/app/cli), the compiled one in dist/planner
  for (const rel of ['./solve-worker.js', '../../planner/solve-worker.js']) {
    const js = new URL(rel, import.meta.url);
    if (existsSync(fileURLToPath(js))) return { code: js, eval: false };
  }
  // loader hooks given as execArgv do not reach worker threads on Node 20: the worker imports it through tsx's API
  const api = typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : 'tsx/esm/api';
  const ts = new URL('./solve-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then(({ tsImport }) => tsImport(${JSON.stringify(ts)}, ${JSON.stringify(import.meta.url)})).catch((e) => setImmediate(() => { throw e; }));`;
  return { code, eval: true };
}

interface PoolWorker {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
}

export function createGroupSolvePool(options: SolvePoolOptions): GroupSolvePool {
  const threads = Math.max(1, options.threads);
  let workers: PoolWorker[] | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (o: GroupSolveOutcome[]) => void; reject: (e: Error) => void }>();
  let failure: Error | undefined;
  let closing = false;

  const fail = (e: Error): void => {
    failure ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };

  const start = (): PoolWorker[] => {
    if (workers) return workers;
    const entry = workerEntry();
    const key = randomBytes(32);
    const encoded = encodeUniverse(options.universe, key);
    const bytes = new SharedArrayBuffer(encoded.length);
    new Uint8Array(bytes).set(encoded);
    const workerData: SolvePoolWorkerData = {
      universe: { bytes, key }, policy: options.policy,
      ...(options.rules ? { rules: options.rules } : {}), ...(options.enforceRequirements !== undefined ? { enforceRequirements: options.enforceRequirements } : {}),
    };
    workers = Array.from({ length: threads }, () => {
      // a young generation of 32 MiB semi-spaces (Node's default is 16): solving allocates many
      // short-lived arrays, and fewer scavenges copy the long-lived caches less often (about a
      // quarter less time on bench:plan's distinct-state fleets)
      const worker = new Worker(entry.code, { workerData, eval: entry.eval, resourceLimits: { maxYoungGenerationSizeMb: 96 } });
      const ready = new Promise<void>((resolve, reject) => {
        const onFirst = (m: SolvePoolReply): void => {
          if ('ready' in m) resolve();
          worker.off('message', onFirst);
        };
        worker.on('message', onFirst);
        worker.once('error', reject);
      });
      worker.on('message', (m: SolvePoolReply) => {
        if ('ready' in m) return;
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if ('outcomes' in m) p.resolve(m.outcomes);
        else if (m.error.code && m.error.hint !== undefined) p.reject(new RollwiseError(m.error.code, m.error.message, { hint: m.error.hint }));
        else p.reject(new Error(`solve worker: ${m.error.message}`));
      });
      worker.on('error', (e) => fail(e instanceof Error ? e : new Error(String(e))));
      worker.on('exit', (code) => {
        if (code !== 0 && !closing) fail(new Error(`a solve worker stopped (exit code ${code})`));
      });
      worker.unref();
      return { worker, ready, busy: false };
    });
    return workers;
  };

  const send = (w: PoolWorker, inputs: GroupSolveInput[]): Promise<GroupSolveOutcome[]> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      w.worker.postMessage({ id, inputs } satisfies SolvePoolRequest);
    });
  };

  return {
    threads,
    async solveMany(inputs, onSolved) {
      const out = new Array<GroupSolveOutcome>(inputs.length);
      if (inputs.length === 0) return out;
      const ws = start();
      for (const w of ws) w.worker.ref();
      try {
        await Promise.all(ws.map((w) => w.ready));
        // small chunks at the end balance the load; larger ones first keep messages few
        const chunk = Math.max(1, Math.min(32, Math.ceil(inputs.length / (threads * 16))));
        let next = 0;
        let done = 0;
        await Promise.all(ws.map(async (w) => {
          while (next < inputs.length) {
            const from = next;
            next = Math.min(inputs.length, next + chunk);
            const outcomes = await send(w, inputs.slice(from, next));
            outcomes.forEach((o, k) => (out[from + k] = o));
            done += outcomes.length;
            onSolved?.(done);
          }
        }));
        return out;
      } finally {
        for (const w of ws) w.worker.unref();
      }
    },
    async start() {
      const ws = start();
      for (const w of ws) w.worker.ref();
      try {
        await Promise.all(ws.map((w) => w.ready));
      } finally {
        for (const w of ws) w.worker.unref();
      }
    },
    async close() {
      const ws = workers;
      workers = undefined;
      closing = true;
      if (ws) await Promise.all(ws.map((w) => w.worker.terminate()));
      closing = false;
    },
  };
}
