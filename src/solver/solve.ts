/**
 * solveRequest: encode (encode.ts), search and optimise lexicographically
 * (internal/optimize.ts), then turn the model into a transaction with the reason chain of every
 * package it adds; or, when there is no solution, explain (explain.ts) and repair (repair.ts).
 */
import type { PackageRecord } from '../kb/index.js';
import { RollwiseError } from '../shared/index.js';
import { getScheme } from '../versions/index.js';
import { encodeRequest, type EncodeOptions, type Encoding } from './encode.js';
import { buildExplanation, computeMus, type Explanation } from './explain.js';
import { minimizeLexicographic } from './internal/optimize.js';
import { UniverseBuilder, type Universe } from '../universe/index.js';
import { createUniverseView, type PackageSet, type RelationField } from './universe-view.js';
import { findResolutions, rankResolutions, type Resolution, type ResolutionSearch } from './repair.js';
import type { ChangeAction, PackageChange, Problem, SolveModeOptions } from './problem.js';

export type { ChangeAction, PackageChange, Problem, SolveModeOptions };
import {
  DEFAULT_CRITERIA,
  DEFAULT_CRITERIA_WITH_RECOMMENDS,
  formatItem,
  type Criterion,
  type SolveRequest,
  type SolverPolicy,
} from './request.js';

const DEBUG = process.env.ROLLWISE_SOLVER_DEBUG === '1';

export interface CriterionValue {
  name: string;
  sign: '-' | '+';
  value: number;
  optimal: boolean;
}

export interface SolutionOutcome {
  kind: 'solution';
  transaction: PackageChange[];
  /** For every package the transaction adds (install, upgrade, downgrade): the chain of reasons, request first. */
  reasons: Record<string, string[]>;
  criteria: CriterionValue[];
  /** False when the time budget stopped the optimisation early. */
  optimal: boolean;
  /** Package versions installed after the transaction (ids in the package set). */
  installedAfter: number[];
  stats: SolveStats;
}

export interface ConflictOutcome {
  kind: 'conflict';
  explanation: Explanation;
  resolutions: Resolution[];
  /** How the search for resolutions went (absent when none was searched for). */
  resolutionSearch?: ResolutionSearch;
  stats: SolveStats;
}

export interface TimeoutOutcome {
  kind: 'timeout';
  message: string;
  stats: SolveStats;
}

export type SolveOutcome = SolutionOutcome | ConflictOutcome | TimeoutOutcome;

export interface SolveStats {
  /** Package versions the request reached (the encoded closure). */
  reached: number;
  variables: number;
  conflicts: number;
  solves: number;
  ms: number;
}

/**
 * A problem from records (tests, scenario files, small examples): the index records as one
 * universe layer, the installed records as a fill layer (installed versions no index has are
 * added with the relations the status file records: they can be kept, never installed anew),
 * then the same universe view the CLI and the planner solve on.
 */
export function createProblem(indexRecords: readonly PackageRecord[], installedRecords: readonly PackageRecord[] = [], options: { hostArch?: string; foreignArchs?: readonly string[] } = {}): Problem {
  const b = new UniverseBuilder(options);
  b.addRecords({ name: 'records' }, indexRecords);
  if (installedRecords.length > 0) b.addRecords({ name: 'installed', trust: 'observed', mode: 'fill' }, installedRecords);
  const universe = b.build();
  return createUniverseProblem(universe, installedRecords.map((r) => universe.findInstalledPv(r.name, r.version, r.architecture)).filter((pv) => pv >= 0));
}

/** A problem over the universe layer: its pvs are the solver's ids; `installedPvs` from createInstalledState. */
export function createUniverseProblem(universe: Universe, installedPvs: ArrayLike<number> = []): Problem {
  const set = createUniverseView(universe);
  const installed = new Uint8Array(set.size);
  for (let i = 0; i < installedPvs.length; i++) installed[installedPvs[i]!] = 1;
  return { set, installed };
}

export function effectiveCriteria(policy: SolverPolicy): Criterion[] {
  if (policy.criteria) return policy.criteria;
  return policy.recommends === false ? DEFAULT_CRITERIA : DEFAULT_CRITERIA_WITH_RECOMMENDS;
}

/**
 * A version written in a request must follow the scheme of the package it names (a semver
 * package is compared with semver): bad input is an error with a hint, never a crash deep in a
 * comparison or a misleading "no version matches".
 */
export function assertRequestVersions(set: PackageSet, request: SolveRequest): void {
  for (const item of request.items) {
    const version = 'version' in item ? item.version : undefined;
    const name = 'name' in item ? item.name : undefined;
    // `name:ARCH` for an architecture no loaded index has: say so, not "no version matches"
    const arch = 'archQualifier' in item ? item.archQualifier : undefined;
    if (name !== undefined && arch !== undefined && arch !== 'any' && arch !== 'native' && !set.architectures().has(arch)) {
      const have = [...set.architectures()].filter((a) => a !== '').sort();
      throw new RollwiseError('RW_UNKNOWN_PACKAGE', `no ${arch} packages are loaded, so there is no ${name}:${arch} (the loaded indexes have ${have.join(', ') || 'nothing'})`, {
        hint: `check the architecture's spelling; for a foreign architecture load its index (a Packages file of ${arch}) and enable it on the hosts (inventory apt: architectures, or the root's var/lib/dpkg/arch)`,
      });
    }
    if (version === undefined || name === undefined) continue;
    const first = set.versionsOf(name)[0];
    const scheme = first === undefined ? 'deb' : set.record(first).scheme;
    const check = getScheme(scheme).check(version);
    if (!check.ok) {
      throw new RollwiseError('RW_BAD_VERSION', `'${version}' is not a valid ${getScheme(scheme).label} version for ${name}: ${check.reason}`, {
        hint: scheme === 'semver' ? `${name} uses semantic versions: write MAJOR.MINOR.PATCH, e.g. ${version.replace(/^[vV]/, '').split('.').concat(['0', '0']).slice(0, 3).join('.')}` : 'write a version of the form [epoch:]upstream[-revision]',
      });
    }
  }
}

export function solveRequest(problem: Problem, request: SolveRequest, policy: SolverPolicy = {}, mode: SolveModeOptions = {}): SolveOutcome {
  const r = solveOnce(problem, request, policy, mode);
  if (!policy.keepInstalled || r.kind !== 'solution') return r;
  // Nothing removed that was not asked for: a removal of an installed package is a conflict to
  // review (apt would remove it quietly), explained by solving again with those packages
  // protected (kept installed, upgrades allowed); allowing the removal is one resolution.
  const asked = new Set(request.items.flatMap((i) => (i.kind === 'remove' ? [i.name] : [])));
  const unasked = [...new Set(r.transaction.filter((s) => (s.action === 'remove' || s.action === 'purge') && !asked.has(s.name)).map((s) => s.name))];
  if (unasked.length === 0) return r;
  const allowRemoval: Resolution = {
    edits: [{ kind: 'allow-removal', names: unasked }],
    corrects: unasked.map((name) => `protected:${name}`),
    request: { items: [...request.items, ...unasked.map((name) => ({ kind: 'remove' as const, name }))] },
    transaction: r.transaction,
    cost: { edits: 1, removed: r.transaction.filter((s) => s.action === 'remove' || s.action === 'purge').length, changed: r.transaction.length },
  };
  const protectedRequest: SolveRequest = { items: [...request.items, ...unasked.map((name) => ({ kind: 'protect' as const, name }))] };
  const r2 = solveOnce(problem, protectedRequest, policy, mode);
  if (r2.kind !== 'conflict') {
    const key = `unasked-removal:${unasked.join(',')}`;
    return { kind: 'conflict', explanation: { facts: [{ kind: 'unasked-removal', key, names: unasked }], minimal: false }, resolutions: [allowRemoval], stats: r.stats };
  }
  // the protected request's resolutions (allowing the removal of some protected packages is one
  // of their edits), and allowing every removal at once only when none of them allows a removal
  // alone (it would not be minimal otherwise): gentlest first
  const removalOnly = r2.resolutions.some((res) => res.edits.every((e) => e.kind === 'allow-removal'));
  return { ...r2, resolutions: rankResolutions(removalOnly ? r2.resolutions : [...r2.resolutions, allowRemoval]).slice(0, Math.max(policy.maxResolutions ?? 3, 1)) };
}

function solveOnce(problem: Problem, request: SolveRequest, policy: SolverPolicy, mode: SolveModeOptions): SolveOutcome {
  assertRequestVersions(problem.set, request);
  const t0 = performance.now();
  const deadline = t0 + (policy.timeBudgetMs ?? 10_000);
  const criteria = effectiveCriteria(policy);
  const cudf = mode.mode === 'cudf';
  const wantsRecommends = criteria.some((c) => c.name === 'unmet_recommends') && policy.recommends !== false;
  const encodeOptions: EncodeOptions = {
    oneVersionPerName: !cudf,
    keepEssential: !cudf,
    followRecommends: wantsRecommends,
    recommendsScope: cudf ? 'all' : 'changed',
    cudf,
  };
  const enc = encodeRequest(problem.set, problem.installed, request, policy, encodeOptions);
  const tEncoded = performance.now();
  const levels: Array<() => number[]> = [];
  const names: Array<{ c: Criterion; internal: boolean }> = [];
  const sizes: number[] = [];
  criteria.forEach((c, i) => {
    if (c.name === 'unmet_recommends' && !wantsRecommends) return;
    const at = names.length;
    levels.push(() => {
      const lits = enc.criterionLits(c);
      sizes[at] = lits.length;
      return lits;
    });
    names.push({ c, internal: false });
    // operator-friendly: right after "nothing removed", honour upgrade requests (newest allowed version)
    if (!cudf && i === 0 && enc.upgradeTargets.length > 0) {
      levels.push(() => enc.upgradeLits());
      names.push({ c: { sign: '-', name: 'notuptodate' }, internal: true });
    }
  });
  const r = minimizeLexicographic(enc.engine, levels, { deadline, ...(policy.isCancelled ? { isCancelled: policy.isCancelled } : {}) });
  const tOptimised = performance.now();
  if (DEBUG) console.error(`solve: encode ${(tEncoded - t0).toFixed(1)} ms, optimise ${(tOptimised - tEncoded).toFixed(1)} ms`);
  const stats = (): SolveStats => ({
    reached: enc.closure.length,
    variables: enc.engine.numVars,
    conflicts: enc.engine.conflicts,
    solves: enc.engine.solves,
    ms: Math.round((performance.now() - t0) * 10) / 10,
  });
  if (r.status === 'unknown') return { kind: 'timeout', message: 'the time budget ran out before any solution was found', stats: stats() };
  if (r.status === 'unsat') {
    if (mode.skipExplanation) return { kind: 'conflict', explanation: { facts: [], minimal: false }, resolutions: [], stats: stats() };
    const explanation = explainConflict(problem, request, policy, encodeOptions, deadline);
    const repair = findResolutions(problem, request, policy, mode, encodeOptions, deadline, solveRequest);
    return { kind: 'conflict', explanation, resolutions: repair.resolutions, ...((policy.maxResolutions ?? 3) > 0 ? { resolutionSearch: repair.search } : {}), stats: stats() };
  }
  const model = r.model!;
  const after: number[] = [];
  for (const pv of enc.closure) if (model[enc.varOfPv[pv]!] === 1) after.push(pv);
  const values: CriterionValue[] = [];
  names.forEach(({ c, internal }, i) => {
    if (internal) return;
    const cost = r.costs[i]?.cost ?? 0;
    // maximised criteria were minimised over their negations: report the positive count
    values.push({ name: c.name, sign: c.sign, value: c.sign === '+' ? (sizes[i] ?? 0) - cost : cost, optimal: r.costs[i]?.optimal ?? false });
  });
  const transaction = buildTransaction(problem, after);
  const tTx = performance.now();
  const reasons = buildReasons(enc, request, after);
  if (DEBUG) console.error(`solve: transaction ${(tTx - tOptimised).toFixed(1)} ms, reasons ${(performance.now() - tTx).toFixed(1)} ms`);
  return {
    kind: 'solution',
    transaction,
    reasons,
    criteria: values,
    optimal: r.status === 'optimal',
    installedAfter: after,
    stats: stats(),
  };
}

function explainConflict(problem: Problem, request: SolveRequest, policy: SolverPolicy, encodeOptions: EncodeOptions, deadline: number): Explanation {
  const enc = encodeRequest(problem.set, problem.installed, request, policy, { ...encodeOptions, selectors: true, followRecommends: false });
  const mus = computeMus(enc, deadline);
  return buildExplanation(enc, mus.facts, mus.minimal);
}

export function buildTransaction(problem: Problem, after: readonly number[]): PackageChange[] {
  const { set, installed } = problem;
  const before = new Map<number, number[]>();
  for (let pv = 0; pv < set.size; pv++) {
    if (!installed[pv]) continue;
    const id = set.nameIdOf[pv]!;
    const l = before.get(id);
    if (l) l.push(pv);
    else before.set(id, [pv]);
  }
  const afterBy = new Map<number, number[]>();
  for (const pv of after) {
    const id = set.nameIdOf[pv]!;
    const l = afterBy.get(id);
    if (l) l.push(pv);
    else afterBy.set(id, [pv]);
  }
  const steps: PackageChange[] = [];
  const ids = new Set([...before.keys(), ...afterBy.keys()]);
  for (const id of ids) {
    const b = before.get(id) ?? [];
    const a = afterBy.get(id) ?? [];
    const removed = b.filter((pv) => !a.includes(pv));
    const added = a.filter((pv) => !b.includes(pv));
    const name = set.names[id]!;
    if (removed.length === 1 && added.length === 1) {
      const from = set.versionOf(removed[0]!);
      const to = set.versionOf(added[0]!);
      steps.push({ action: set.comparePvs(added[0]!, removed[0]!) > 0 ? 'upgrade' : 'downgrade', name, architecture: set.archOf(added[0]!), from, to });
      continue;
    }
    for (const pv of removed) steps.push({ action: 'remove', name, architecture: set.archOf(pv), from: set.versionOf(pv) });
    for (const pv of added) steps.push({ action: 'install', name, architecture: set.archOf(pv), to: set.versionOf(pv) });
  }
  const order: Record<ChangeAction, number> = { purge: 0, remove: 0, downgrade: 1, upgrade: 2, install: 3 };
  steps.sort((x, y) => order[x.action] - order[y.action] || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return steps;
}

/** Breadth-first over the solution's dependency graph from the request items, then from kept packages. */
function buildReasons(enc: Encoding, request: SolveRequest, after: number[]): Record<string, string[]> {
  const set = enc.set;
  const n = enc.closure.length;
  // index packages by closure position (variables of closure pvs are 0..n-1)
  const idx = (pv: number) => enc.varOfPv[pv]!;
  const inAfter = new Uint8Array(n);
  for (const pv of after) inAfter[idx(pv)] = 1;
  const parentPv = new Int32Array(n).fill(-2); // -2 unreached, -1 root
  const parentField = new Uint8Array(n);
  const parentClause = new Int32Array(n);
  const rootWhy = new Map<number, string>();
  const queue: number[] = [];
  request.items.forEach((item) => {
    if (!('name' in item)) return;
    for (const pv of set.candidates({ name: item.name })) {
      const i = enc.varOfPv[pv]!;
      if (i >= 0 && inAfter[i] && parentPv[i] === -2) {
        parentPv[i] = -1;
        rootWhy.set(pv, `requested: ${formatItem(item)}`);
        queue.push(pv);
      }
    }
  });
  for (const pv of after) {
    const i = idx(pv);
    if (enc.installed[pv] && parentPv[i] === -2) {
      parentPv[i] = -1;
      rootWhy.set(pv, `${set.label(pv)} is installed`);
      queue.push(pv);
    }
  }
  const fields: RelationField[] = ['pre-depends', 'depends', 'recommends'];
  for (let qi = 0; qi < queue.length; qi++) {
    const pv = queue[qi]!;
    for (let f = 0; f < (enc.options.followRecommends ? 3 : 2); f++) {
      const clauses = f === 0 ? set.preDepends(pv) : f === 1 ? set.depends(pv) : set.recommends(pv);
      for (let ci = 0; ci < clauses.length; ci++) {
        const cands = clauses[ci]!;
        for (let k = 0; k < cands.length; k++) {
          const q = cands[k]!;
          const j = enc.varOfPv[q]!;
          if (j < 0 || !inAfter[j] || parentPv[j] !== -2) continue;
          parentPv[j] = pv;
          parentField[j] = f;
          parentClause[j] = ci;
          queue.push(q);
        }
      }
    }
  }
  const whyCache = new Map<number, string>();
  const whyOf = (q: number): string => {
    let w = whyCache.get(q);
    if (w !== undefined) return w;
    const j = idx(q);
    const p = parentPv[j]!;
    if (p === -1) w = rootWhy.get(q)!;
    else {
      const f = fields[parentField[j]!]!;
      const verb = f === 'depends' ? 'depends on' : f === 'pre-depends' ? 'pre-depends on' : 'recommends';
      w = `${set.label(p)} ${verb} ${set.clauseText(p, f, parentClause[j]!)}`;
    }
    whyCache.set(q, w);
    return w;
  };
  const out: Record<string, string[]> = {};
  for (const pv of after) {
    if (enc.installed[pv]) continue;
    const chain: string[] = [];
    let cur = pv;
    for (let guard = 0; guard < n + 1; guard++) {
      const p = parentPv[idx(cur)]!;
      if (p === -2) {
        chain.push(`${set.label(cur)} chosen by the optimisation`);
        break;
      }
      chain.push(whyOf(cur));
      if (p === -1) break;
      cur = p;
    }
    out[`${set.nameOf(pv)}=${set.versionOf(pv)}`] = chain.reverse();
  }
  return out;
}
