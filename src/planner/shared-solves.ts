/**
 * Solving a fleet's host groups with shared solves: groups whose projection (projection.ts: the
 * installed packages the request can touch, plus everything else of the group the solve reads,
 * facts included) is equal share one solve of that projection; each group then takes the shared
 * outcome when it fits its whole installed set, and is solved on its own otherwise. Written as a
 * generator of solve batches so that the same logic runs on one thread (plan.ts' planDeployment)
 * and on worker threads (planDeploymentAsync with a solve pool).
 */
import { createHash } from 'node:crypto';
import type { HostGroup } from '../fleet/index.js';
import type { PackageChange } from '../solver/index.js';
import type { GroupSolveInput, GroupSolveOutcome, GroupSolver } from './group-solver.js';
import type { PlanRequest } from './request.js';

/** What a fleet's solving did: for benchmarks and progress. */
export interface SharedSolveStats {
  groups: number;
  /** Solves of a projection shared by groups. */
  sharedSolves: number;
  /** Groups solved on their own: the shared outcome did not fit them, or they have their own apt configuration. */
  ownSolves: number;
  /** Names in the request's projection (0: not projected, every group solved on its own). */
  projectionNames: number;
}

/** A batch of solves to run; the generator resumes with their outcomes in the same order. */
export type SolveBatch = GroupSolveInput[];

/** The fields of a group a solve reads besides its installed set (facts, and whatever grouping adds), for the input and the key. */
function solveFields(g: HostGroup): Omit<HostGroup, 'key' | 'hosts' | 'installed' | 'sample'> {
  const { key: _key, hosts: _hosts, installed: _installed, sample: _sample, ...rest } = g;
  return rest;
}

function groupInput(g: HostGroup, request: PlanRequest): GroupSolveInput {
  return { ...solveFields(g), key: g.key, installed: g.installed, request } as GroupSolveInput;
}

function changeSets(o: GroupSolveOutcome): PackageChange[][] {
  return o.kind === 'solution' ? [o.changes] : o.resolutions.map((r) => r.changes);
}

/** Outcomes of every group, in order; yields the batches to solve. */
export function* solveGroupsShared(groups: readonly HostGroup[], request: PlanRequest, solver: GroupSolver, stats?: (s: SharedSolveStats) => void): Generator<SolveBatch, GroupSolveOutcome[], GroupSolveOutcome[]> {
  const sharing = solver.shareSolves?.(request);
  if (!sharing) {
    const outcomes = yield groups.map((g) => groupInput(g, request));
    stats?.({ groups: groups.length, sharedSolves: 0, ownSolves: groups.length, projectionNames: 0 });
    return outcomes;
  }
  const tasks: GroupSolveInput[] = [];
  const taskOfKey = new Map<string, number>();
  const taskOf: number[] = [];
  for (const g of groups) {
    // a group with its own apt configuration solves on a view chosen from its whole installed set
    // (src/planner/solver-adapter.ts, apt views): the projection's argument is not made for it yet
    if (g.apt) {
      taskOf.push(-1);
      continue;
    }
    const fields = solveFields(g);
    // the key: the group's other fields and its projection's package-version ids (no text per package)
    const ids = sharing.projectionIds(g.installed);
    const key = createHash('sha256').update(JSON.stringify(fields)).update('\0').update(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength)).digest('hex').slice(0, 16);
    let t = taskOfKey.get(key);
    if (t === undefined) {
      t = tasks.length;
      taskOfKey.set(key, t);
      tasks.push({ ...fields, key: `p${key}`, installed: sharing.project(g.installed), request } as GroupSolveInput);
    }
    taskOf.push(t);
  }
  const shared = yield tasks;
  const outcomes: Array<GroupSolveOutcome | undefined> = groups.map((g, i) => {
    if (taskOf[i]! < 0) return undefined;
    const o = shared[taskOf[i]!]!;
    return sharing.fits(g.installed, changeSets(o)) ? o : undefined;
  });
  const alone = groups.flatMap((g, i) => (outcomes[i] ? [] : [i]));
  if (alone.length > 0) {
    const own = yield alone.map((i) => groupInput(groups[i]!, request));
    alone.forEach((i, k) => (outcomes[i] = own[k]!));
  }
  stats?.({ groups: groups.length, sharedSolves: tasks.length, ownSolves: alone.length, projectionNames: sharing.size });
  return outcomes as GroupSolveOutcome[];
}

/** Runs the generator with a synchronous batch solver. */
export function runSolvesSync(gen: Generator<SolveBatch, GroupSolveOutcome[], GroupSolveOutcome[]>, solveMany: (inputs: SolveBatch) => GroupSolveOutcome[]): GroupSolveOutcome[] {
  let r = gen.next();
  while (!r.done) r = gen.next(solveMany(r.value));
  return r.value;
}

/** Runs the generator with an asynchronous batch solver (a worker pool). */
export async function runSolvesAsync(gen: Generator<SolveBatch, GroupSolveOutcome[], GroupSolveOutcome[]>, solveMany: (inputs: SolveBatch) => Promise<GroupSolveOutcome[]>): Promise<GroupSolveOutcome[]> {
  let r = gen.next();
  while (!r.done) r = gen.next(await solveMany(r.value));
  return r.value;
}
