/**
 * Suggested resolutions for a request without a solution: typed edits to the request (data; the
 * application words them), derived from the facts of the minimal explanation, each solved again;
 * only edits that produced a solution are returned, distinct by their transaction, ranked by cost
 * (removals, then changes), the solutions themselves optimal for the request's criteria.
 *
 * Edits tried, for each fact of the explanation:
 * - a request item to install/upgrade: choose each other candidate version or provider
 *   (`name=version`), relax its version constraint, skip it;
 * - a hold or pin: lift it (allows upgrading / downgrading that package);
 * - an installed Essential package kept: allow its removal;
 * - a dependency of an installed package that blocks: allow removal of that package;
 * - a conflict with an installed package: allow its removal.
 */
import type { Explanation } from './explain.js';
import { installCandidates } from './encode.js';
import type { RequestItem, SolveRequest, SolverPolicy } from './request.js';
import type { PackageChange, Problem, SolveModeOptions } from './problem.js';

/** What a resolution changes in the request, as data. */
export type ResolutionEdit =
  /** Install `name=version` (another version of the requested package) instead of `instead`. */
  | { kind: 'choose-version'; name: string; version: string; instead: RequestItem }
  /** Install `name=version`, another package providing what `instead` asked for. */
  | { kind: 'alternative'; name: string; version: string; instead: RequestItem }
  /** Drop the version constraint of `item`. */
  | { kind: 'relax'; item: RequestItem }
  /** Let the upgrade of `name` install an older version. */
  | { kind: 'allow-downgrade'; name: string }
  /** Leave `item` out of the request. */
  | { kind: 'skip'; item: RequestItem }
  /** Lift a hold or pin (`item`), allowing that package to change. */
  | { kind: 'lift'; item: RequestItem }
  /** Allow the installed packages `names` to be removed. */
  | { kind: 'allow-removal'; names: string[] };

export type ResolutionEditKind = ResolutionEdit['kind'];

export interface Resolution {
  edit: ResolutionEdit;
  /** The edited request, ready to be solved again (it was, and it succeeded). */
  request: SolveRequest;
  transaction: PackageChange[];
  cost: { removed: number; changed: number };
}

interface Edit {
  edit: ResolutionEdit;
  request: SolveRequest;
}

/** How solveRequest is called again (passed in, so repair and solve do not import each other). */
export type Resolver = (problem: Problem, request: SolveRequest, policy: SolverPolicy, mode: SolveModeOptions) => { kind: string; transaction?: PackageChange[] };

function replaceItem(request: SolveRequest, index: number, item: RequestItem | null): SolveRequest {
  const items = request.items.slice();
  if (item === null) items.splice(index, 1);
  else items[index] = item;
  return { items };
}

function proposeEdits(problem: Problem, request: SolveRequest, explanation: Explanation): Edit[] {
  const { set } = problem;
  const edits: Edit[] = [];
  const removable = new Set<string>();
  for (const f of explanation.facts) {
    if (f.kind === 'protected') {
      const item = request.items[f.requestIndex]!;
      if (item.kind === 'protect') {
        edits.push({ edit: { kind: 'allow-removal', names: [item.name] }, request: replaceItem(request, f.requestIndex, { kind: 'remove', name: item.name }) });
      }
    } else if (f.kind === 'request') {
      const i = f.requestIndex;
      const item = request.items[i]!;
      if (item.kind === 'install' || item.kind === 'upgrade') {
        const installedPvs = Array.from(set.versionsOf(item.name)).filter((pv) => problem.installed[pv] === 1);
        // an edit whose item has exactly the candidates of the failed one is the same request
        // (e.g. `install postfix=3.7.11-0+deb12u1` for `install postfix` with one version): not re-solved
        const own = installCandidates(set, item);
        for (const pv of installCandidates(set, { name: item.name }).slice(0, 8)) {
          const name = set.nameOf(pv);
          const version = set.versionOf(pv);
          if (item.op && item.version === version && name === item.name) continue;
          if (own.length === 1 && own[0] === pv && set.versionsOf(name).length === 1) continue;
          // an upgrade is only re-targeted to versions newer than the installed one
          if (item.kind === 'upgrade' && name === item.name && installedPvs.some((q) => set.comparePvs(pv, q) <= 0)) continue;
          edits.push({
            edit: { kind: name === item.name ? 'choose-version' : 'alternative', name, version, instead: item },
            request: replaceItem(request, i, { kind: 'install', name, op: '=', version }),
          });
        }
        if (item.op) edits.push({ edit: { kind: 'relax', item }, request: replaceItem(request, i, { kind: item.kind, name: item.name }) });
        if (item.kind === 'upgrade') edits.push({ edit: { kind: 'allow-downgrade', name: item.name }, request: replaceItem(request, i, { kind: 'install', name: item.name }) });
        edits.push({ edit: { kind: 'skip', item }, request: replaceItem(request, i, null) });
      } else if (item.kind === 'hold' || item.kind === 'pin') {
        edits.push({ edit: { kind: 'lift', item }, request: replaceItem(request, i, null) });
      } else {
        edits.push({ edit: { kind: 'skip', item }, request: replaceItem(request, i, null) });
      }
    } else if (f.kind === 'essential') {
      removable.add(f.name);
    } else if (f.kind === 'depends' || f.kind === 'conflict') {
      for (const pv of Array.from(set.versionsOf(f.package.name))) if (problem.installed[pv]) removable.add(f.package.name);
    }
  }
  for (const name of removable) {
    edits.push({ edit: { kind: 'allow-removal', names: [name] }, request: { items: [...request.items, { kind: 'remove', name }] } });
  }
  return edits;
}

export function findResolutions(
  problem: Problem,
  request: SolveRequest,
  policy: SolverPolicy,
  mode: SolveModeOptions,
  explanation: Explanation,
  deadline: number,
  resolve: Resolver,
): Resolution[] {
  const max = policy.maxResolutions ?? 3;
  if (max <= 0) return [];
  const found: Resolution[] = [];
  const seen = new Set<string>();
  for (const edit of proposeEdits(problem, request, explanation)) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    const r = resolve(problem, edit.request, { ...policy, timeBudgetMs: Math.min(left, 5000) }, { ...mode, skipExplanation: true });
    if (r.kind !== 'solution' || !r.transaction) continue;
    const sig = JSON.stringify(r.transaction);
    if (seen.has(sig)) continue;
    seen.add(sig);
    const removed = r.transaction.filter((s) => s.action === 'remove').length;
    found.push({ edit: edit.edit, request: edit.request, transaction: r.transaction, cost: { removed, changed: r.transaction.length } });
  }
  return rankResolutions(found).slice(0, max);
}

/** Gentlest first: fewest removals, then fewest changes (stable otherwise). */
export function rankResolutions(rs: readonly Resolution[]): Resolution[] {
  return rs.slice().sort((a, b) => a.cost.removed - b.cost.removed || a.cost.changed - b.cost.changed);
}
