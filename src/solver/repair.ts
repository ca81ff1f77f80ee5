/**
 * Suggested resolutions for a request without a solution: sets of typed edits to the request
 * (data; the application words them), each a minimal correction set over the request's
 * relaxable items, solved again and verified; ranked by cost (edits, then removals, then
 * changes).
 *
 * Relaxable items (soft constraints): every request item (drop an install/upgrade/remove, lift a
 * hold or pin, allow the removal of a protected installed package) and every installed Essential
 * package kept (allow its removal). mcs.ts lists the minimal correction sets over them, smallest
 * first, on one incremental engine: a set C means "the request with the items of C relaxed is
 * solvable, and with any one of them restored it is not".
 *
 * Each set becomes edits. Dropping is the loosest edit of an item; gentler ones are tried too for
 * one item of the set at a time, the others dropped: another version or provider of a requested
 * package (`name=version`), its version constraint relaxed, a downgrade allowed for an upgrade.
 * A gentler edit is more constrained than the drop, so the set stays minimal. Every candidate is
 * solved again by the real solver (with the request's policy: a removal nobody asked for fails
 * it under keepInstalled); those that fail are counted, not shown. Resolutions are distinct by
 * edit set and by transaction (the first one found keeps a transaction). Those returned are
 * checked minimal once more: with any one edit left out, the request has no solution.
 *
 * Budget: `maxResolutions` (count), the solve's deadline (time) and `maxResolutionEdits` (the
 * largest set); which of them ended the search is reported as data (ResolutionSearch).
 */
import { encodeRequest, installCandidates, specName, type EncodeOptions, type Encoding } from './encode.js';
import { enumerateCorrectionSets, type McsStop } from './mcs.js';
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

export interface ResolutionCost {
  /** Number of edits. */
  edits: number;
  removed: number;
  changed: number;
}

export interface Resolution {
  /** The edits, all applied together: one per relaxable item corrected, in the order of `corrects`. */
  edits: ResolutionEdit[];
  /** The relaxable items corrected, as explanation fact keys (`request:I`, `protected:NAME`, `essential:NAME`). */
  corrects: string[];
  /** The edited request, ready to be solved again (it was, and it succeeded). */
  request: SolveRequest;
  transaction: PackageChange[];
  cost: ResolutionCost;
}

/** How the search for resolutions went: what ended it, and what it tried. */
export interface ResolutionSearch {
  /**
   * `complete`: every minimal correction set was tried; `count`: `maxResolutions` were found and
   * more may exist; `time`: the deadline ended it; `size`: sets larger than `maxEdits` were not
   * looked for.
   */
  stopped: 'complete' | 'count' | 'time' | 'size';
  /** Relaxable items (soft constraints). */
  relaxable: number;
  /** Minimal correction sets listed. */
  correctionSets: number;
  /** Candidate edit sets solved again, and of them those that had a solution. */
  tried: number;
  solved: number;
  /** Solved candidates left out as duplicates (same transaction as a resolution before). */
  duplicates: number;
  /** Candidates that failed the final minimality check (none expected). */
  notMinimal: number;
  maxEdits: number;
  ms: number;
}

/** How solveRequest is called again (passed in, so repair and solve do not import each other). */
export type Resolver = (problem: Problem, request: SolveRequest, policy: SolverPolicy, mode: SolveModeOptions) => { kind: string; transaction?: PackageChange[] };

/** One way to correct one relaxable item: the edit, and what it does to the request. */
interface ItemEdit {
  edit: ResolutionEdit;
  /** Replacement of the request item at `index` (null: dropped); absent: the item stays. */
  replace?: RequestItem | null;
  /** Items appended to the request. */
  append?: RequestItem[];
  /** True for the loosest edit of the item (the one the correction set was computed with). */
  loosest: boolean;
}

interface Relaxable {
  key: string;
  /** Fact index in the repair encoding. */
  fact: number;
  /** Request index (request items only). */
  index?: number;
  /** Gentler edits first, the loosest last. */
  edits: ItemEdit[];
}

const DEFAULT_MAX_EDITS = 4;

/** The edits of one relaxable item, gentler first; the last one is the loosest (a drop). */
function itemEdits(problem: Problem, item: RequestItem): ItemEdit[] {
  const { set } = problem;
  const out: ItemEdit[] = [];
  if (item.kind === 'install' || item.kind === 'upgrade') {
    const installedPvs = Array.from(set.versionsOf(specName(item))).filter((pv) => problem.installed[pv] === 1);
    // an edit whose item has exactly the candidates of the failed one is the same request
    // (e.g. `install postfix=3.7.11-0+deb12u1` for `install postfix` with one version): not re-solved
    const own = installCandidates(set, item);
    for (const pv of installCandidates(set, { name: specName(item) }).slice(0, 8)) {
      const name = set.nameOf(pv);
      const version = set.versionOf(pv);
      if (item.op && item.version === version && name === specName(item)) continue;
      if (own.length === 1 && own[0] === pv && set.versionsOf(name).length === 1) continue;
      // an upgrade is only re-targeted to versions newer than the installed one
      if (item.kind === 'upgrade' && name === specName(item) && installedPvs.some((q) => set.comparePvs(pv, q) <= 0)) continue;
      out.push({ edit: { kind: name === specName(item) ? 'choose-version' : 'alternative', name, version, instead: item }, replace: { kind: 'install', name, op: '=', version }, loosest: false });
    }
    if (item.op) out.push({ edit: { kind: 'relax', item }, replace: { kind: item.kind, name: specName(item) }, loosest: false });
    if (item.kind === 'upgrade') out.push({ edit: { kind: 'allow-downgrade', name: specName(item) }, replace: { kind: 'install', name: specName(item) }, loosest: false });
    out.push({ edit: { kind: 'skip', item }, replace: null, loosest: true });
  } else if (item.kind === 'hold' || item.kind === 'pin') {
    out.push({ edit: { kind: 'lift', item }, replace: null, loosest: true });
  } else if (item.kind === 'protect') {
    // dropping the protection would let the policy protect it again: the removal is asked for
    out.push({ edit: { kind: 'allow-removal', names: [item.name] }, replace: { kind: 'remove', name: item.name }, loosest: true });
  } else {
    out.push({ edit: { kind: 'skip', item }, replace: null, loosest: true });
  }
  return out;
}

function relaxableItems(problem: Problem, request: SolveRequest, enc: Encoding): Relaxable[] {
  const out: Relaxable[] = [];
  const seen = new Set<string>();
  enc.facts.forEach((f, fact) => {
    if (f.kind === 'request') {
      const item = request.items[f.index]!;
      // keys as the explanation's facts name them (a protected package by its name)
      const key = item.kind === 'protect' ? `protected:${item.name}` : `request:${f.index}`;
      out.push({ key, fact, index: f.index, edits: itemEdits(problem, item) });
    } else if (f.kind === 'essential') {
      const name = problem.set.names[f.nameId]!;
      const key = `essential:${name}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ key, fact, edits: [{ edit: { kind: 'allow-removal', names: [name] }, append: [{ kind: 'remove', name }], loosest: true }] });
    }
  });
  return out;
}

/** The request with one edit per chosen item applied (items in request order, appended ones last). */
function applyEdits(request: SolveRequest, chosen: ReadonlyArray<{ item: Relaxable; edit: ItemEdit }>): SolveRequest {
  const replaced = new Map<number, RequestItem | null>();
  const appended: RequestItem[] = [];
  for (const { item, edit } of chosen) {
    if (item.index !== undefined && edit.replace !== undefined) replaced.set(item.index, edit.replace);
    if (edit.append) appended.push(...edit.append);
  }
  const items: RequestItem[] = [];
  request.items.forEach((it, i) => {
    const r = replaced.has(i) ? replaced.get(i)! : it;
    if (r !== null) items.push(r);
  });
  return { items: [...items, ...appended] };
}

/** Candidate edit sets for one correction set: one gentler edit at a time (others dropped), then all dropped. */
function candidatesOf(items: readonly Relaxable[]): Array<Array<{ item: Relaxable; edit: ItemEdit }>> {
  const loosest = items.map((item) => ({ item, edit: item.edits[item.edits.length - 1]! }));
  const out: Array<Array<{ item: Relaxable; edit: ItemEdit }>> = [];
  items.forEach((item, i) => {
    for (const edit of item.edits) {
      if (edit.loosest) continue;
      const c = loosest.slice();
      c[i] = { item, edit };
      out.push(c);
    }
  });
  out.push(loosest);
  return out;
}

function costOf(edits: number, transaction: readonly PackageChange[]): ResolutionCost {
  return { edits, removed: transaction.filter((s) => s.action === 'remove' || s.action === 'purge').length, changed: transaction.length };
}

export function findResolutions(
  problem: Problem,
  request: SolveRequest,
  policy: SolverPolicy,
  mode: SolveModeOptions,
  encodeOptions: EncodeOptions,
  deadline: number,
  resolve: Resolver,
): { resolutions: Resolution[]; search: ResolutionSearch } {
  const t0 = performance.now();
  const max = policy.maxResolutions ?? 3;
  const maxEdits = Math.max(1, policy.maxResolutionEdits ?? DEFAULT_MAX_EDITS);
  const search: ResolutionSearch = { stopped: 'complete', relaxable: 0, correctionSets: 0, tried: 0, solved: 0, duplicates: 0, notMinimal: 0, maxEdits, ms: 0 };
  const done = (resolutions: Resolution[]) => {
    search.ms = Math.round((performance.now() - t0) * 10) / 10;
    return { resolutions, search };
  };
  if (max <= 0) return done([]);
  const enc = encodeRequest(problem.set, problem.installed, request, policy, { ...encodeOptions, selectors: true, followRecommends: false });
  const relaxable = relaxableItems(problem, request, enc);
  search.relaxable = relaxable.length;
  const found: Resolution[] = [];
  const seenTx = new Set<string>();
  const seenEdits = new Set<string>();
  const solveAgain = (req: SolveRequest) => {
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    return resolve(problem, req, { ...policy, timeBudgetMs: Math.min(left, 5000) }, { ...mode, skipExplanation: true });
  };
  // sets are listed smallest first; once `max` are found, the rest of that size is still looked
  // at (a cheaper one of the same size may follow), within a bounded number of sets
  let fullAtSize = 0;
  let extraSets = 0;
  let timedOut = false;
  const listing = enumerateCorrectionSets(enc, relaxable.map((r) => r.fact), { maxSize: maxEdits, deadline }, (set) => {
    search.correctionSets++;
    if (fullAtSize > 0 && (set.length > fullAtSize || ++extraSets > max)) return false;
    const items = set.map((i) => relaxable[i]!);
    for (const chosen of candidatesOf(items)) {
      const req = applyEdits(request, chosen);
      const editsKey = JSON.stringify(chosen.map((c) => c.edit.edit));
      if (seenEdits.has(editsKey)) continue;
      seenEdits.add(editsKey);
      search.tried++;
      const r = solveAgain(req);
      if (!r) {
        timedOut = true;
        return false;
      }
      if (r.kind !== 'solution' || !r.transaction) continue;
      search.solved++;
      const tx = JSON.stringify(r.transaction);
      if (seenTx.has(tx)) {
        search.duplicates++;
        continue;
      }
      seenTx.add(tx);
      const edits = chosen.map((c) => c.edit.edit);
      found.push({ edits, corrects: chosen.map((c) => c.item.key), request: req, transaction: r.transaction, cost: costOf(edits.length, r.transaction) });
    }
    if (found.length >= max && fullAtSize === 0) fullAtSize = set.length;
    return true;
  });
  if (timedOut || listing.stopped === 'time') search.stopped = 'time';
  else if (listing.stopped === 'caller') search.stopped = 'count';
  else search.stopped = listing.stopped satisfies Exclude<McsStop, 'time' | 'caller'>;
  const ranked = rankResolutions(found);
  // minimality, checked on the real solver: with any one edit left out there is no solution
  const out: Resolution[] = [];
  for (const res of ranked) {
    if (out.length >= max) {
      if (search.stopped === 'complete' || search.stopped === 'size') search.stopped = 'count';
      break;
    }
    if (res.edits.length > 1 && !isMinimal(request, res, relaxable, solveAgain)) {
      search.notMinimal++;
      continue;
    }
    out.push(res);
  }
  return done(out);
}

function isMinimal(request: SolveRequest, res: Resolution, relaxable: readonly Relaxable[], solveAgain: (req: SolveRequest) => { kind: string } | undefined): boolean {
  const byKey = new Map(relaxable.map((r) => [r.key, r]));
  const chosen = res.corrects.map((key, i) => ({ item: byKey.get(key)!, edit: byKey.get(key)!.edits.find((e) => e.edit === res.edits[i])! }));
  for (let i = 0; i < chosen.length; i++) {
    const r = solveAgain(applyEdits(request, chosen.filter((_, j) => j !== i)));
    if (r === undefined) return true; // out of time: trust the construction (minimal by mcs.ts)
    if (r.kind === 'solution') return false;
  }
  return true;
}

/** Gentlest first: fewest edits, then fewest removals, then fewest changes (stable otherwise). */
export function rankResolutions(rs: readonly Resolution[]): Resolution[] {
  return rs.slice().sort((a, b) => a.cost.edits - b.cost.edits || a.cost.removed - b.cost.removed || a.cost.changed - b.cost.changed);
}
