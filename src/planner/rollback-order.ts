/**
 * Ordering a rollback's package changes so that every intermediate installed set is consistent.
 *
 * The state after applying a subset of the changes depends only on the subset (each change sets
 * one name to its former version, or removes it), so the search runs over subsets: a depth-first
 * search that extends the applied subset by one "move" at a time, where a move is a single change
 * or a small set of changes applied as one apt transaction, accepted only when the consistency
 * check (a callback; its incremental form `check.from(start, changes)` when it has one, so a
 * state is checked as "start plus this subset", knowing that its parent subset was consistent)
 * passes on the resulting set. Moves are tried smallest first,
 * in a fixed priority (removals, then up/downgrades, then reinstalls; by name), and subsets from
 * which no completion exists are remembered. The search deepens iteratively on the largest
 * transaction allowed: single changes only, then pairs, ... up to `maxTransaction`, then "all
 * remaining at once" (which ends at the former state and always passes when that state is
 * consistent). So a plan uses transactions only when no order of smaller steps exists, and
 * records why (each member's check alone at that point).
 *
 * What the check cannot see:
 * - Pre-Depends: a single step changes one package, so the rest of the set (which holds its
 *   pre-dependencies, consistent after the step) is unchanged and configured before it: met by
 *   construction. Inside a transaction the members are listed so that each one's Pre-Depends are
 *   met by the set before it (apt configures pre-dependencies first); a loop is reported.
 * - Replaces (file ownership): a package whose current version Replaces the former version of
 *   another (and whose own former version does not) is reverted first, or dpkg would refuse to
 *   overwrite its files with the other's older ones.
 * Breaks and Conflicts are the check's: a breaker goes back before what it breaks because the
 * other order fails the check.
 */
import type { InstalledPackage } from '../fleet/index.js';
import type { PackageChange } from '../solver/index.js';
import type { ConsistencyCheck, ConsistencyVerdict, DebRef, PackageRelationFacts, TransactionReason } from './rollback-types.js';

export interface OrderedPackageStep {
  changes: PackageChange[];
  transaction?: TransactionReason;
  /** Members that could not be listed in an unpack order inside the transaction, and which relations loop. */
  loop?: { packages: string[]; because: Array<'pre-depends' | 'replaces'> };
}

export interface OrderOutcome {
  steps: OrderedPackageStep[];
  checks: number;
}

export interface OrderOptions {
  check: ConsistencyCheck;
  relations?: PackageRelationFacts;
  /** Consistency checks allowed (default 2000). */
  checks?: number;
  /** Largest transaction tried before "all remaining at once" (default 3). */
  maxTransaction?: number;
}

const isRemoval = (c: PackageChange): boolean => c.action === 'remove' || c.action === 'purge';
const rank = (c: PackageChange): number => (isRemoval(c) ? 0 : c.action === 'install' ? 2 : 1);

/** Applies package changes to an installed set (keyed by name). */
export function applyPackageChanges(state: Map<string, InstalledPackage>, changes: readonly PackageChange[]): void {
  for (const c of changes) {
    if (isRemoval(c)) state.delete(c.name);
    else if (c.to !== undefined) state.set(c.name, { name: c.name, version: c.to, architecture: c.architecture ?? state.get(c.name)?.architecture ?? 'all' });
  }
}

export function sortedPackages(state: Iterable<InstalledPackage>): InstalledPackage[] {
  return [...state].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

class OutOfChecks extends Error {}

/**
 * Orders `changes` (each one name back to its former state) from the installed set `start`.
 * Steps come out in execution order.
 */
export function orderPackageChanges(start: readonly InstalledPackage[], changes: readonly PackageChange[], options: OrderOptions): OrderOutcome {
  const list = changes.slice().sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const n = list.length;
  if (n === 0) return { steps: [], checks: 0 };
  const limit = options.checks ?? 2000;
  const maxTransaction = Math.max(1, options.maxTransaction ?? 3);
  const startMap = new Map(start.map((p) => [p.name, p]));
  let checks = 0;
  const verdicts = new Map<string, ConsistencyVerdict>();
  // a subset as a short string: 16 changes to a UTF-16 code unit
  const keyOf = (mask: Uint8Array): string => {
    let key = '';
    for (let i = 0; i < n; i += 16) {
      let unit = 0;
      for (let j = i, e = Math.min(n, i + 16); j < e; j++) unit |= mask[j]! << (j - i);
      key += String.fromCharCode(unit);
    }
    return key;
  };
  const stateOf = (mask: Uint8Array): Map<string, InstalledPackage> => {
    const s = new Map(startMap);
    applyPackageChanges(s, list.filter((_, i) => mask[i] === 1));
    return s;
  };
  // the incremental form of the check, when it has one: every state is `start` plus a subset of `list`
  const anchored = options.check.from?.(start, list);
  /** The verdict on a subset; `parent`, a subset of it whose set was found consistent (or the start), lets the incremental check look only at the rest. */
  const verdictOf = (mask: Uint8Array, budgeted = true, parent?: Uint8Array): ConsistencyVerdict => {
    const key = keyOf(mask);
    const hit = verdicts.get(key);
    if (hit) return hit;
    if (budgeted && checks >= limit) throw new OutOfChecks();
    checks++;
    const v = anchored ? anchored(mask, parent) : options.check(sortedPackages(stateOf(mask).values()));
    verdicts.set(key, v);
    return v;
  };

  // Replaces: precedes[y][x] when y must be reverted before x is unpacked.
  const ref = (name: string, version: string | undefined, arch: string | undefined): DebRef | undefined => (version === undefined ? undefined : { name, version, architecture: arch ?? startMap.get(name)?.architecture ?? 'all' });
  const precedes: boolean[][] = list.map(() => new Array<boolean>(n).fill(false));
  if (options.relations) {
    for (let x = 0; x < n; x++) {
      const cx = list[x]!;
      const tx = isRemoval(cx) ? undefined : ref(cx.name, cx.to, cx.architecture);
      if (!tx) continue;
      for (let y = 0; y < n; y++) {
        if (y === x) continue;
        const cy = list[y]!;
        const cur = startMap.get(cy.name);
        if (!cur || !options.relations.replaces(cur, tx)) continue;
        const ty = isRemoval(cy) ? undefined : ref(cy.name, cy.to, cy.architecture);
        if (ty && options.relations.replaces(ty, tx)) continue;
        precedes[y]![x] = true;
      }
    }
  }

  const anyPrecedes = precedes.some((row) => row.includes(true));
  const target = new Uint8Array(n).fill(1);
  const targetVerdict = verdictOf(target, false);
  const moves: number[][] = [];

  const search = (largest: number, allAtOnce: boolean): boolean => {
    const failed = new Set<string>();
    const path: number[][] = [];
    const dfs = (mask: Uint8Array): boolean => {
      const remaining: number[] = [];
      for (let i = 0; i < n; i++) if (mask[i] === 0) remaining.push(i);
      if (remaining.length === 0) return true;
      const key = keyOf(mask);
      if (failed.has(key)) return false;
      const sizes: number[] = [];
      for (let k = 1; k <= Math.min(largest, remaining.length); k++) sizes.push(k);
      if (allAtOnce && remaining.length > largest) sizes.push(remaining.length);
      for (const k of sizes) {
        for (const combo of combinations(remaining, k)) {
          if (anyPrecedes && combo.some((x) => remaining.some((y) => precedes[y]![x] && !combo.includes(y)))) continue;
          const next = mask.slice();
          for (const i of combo) next[i] = 1;
          if (!verdictOf(next, true, mask).ok) continue;
          path.push(combo);
          if (dfs(next)) return true;
          path.pop();
        }
      }
      failed.add(key);
      return false;
    };
    if (!dfs(new Uint8Array(n))) return false;
    moves.push(...path);
    return true;
  };

  let reasonKind: TransactionReason['kind'] = 'no-single-order';
  if (!targetVerdict.ok) {
    reasonKind = 'former-state-inconsistent';
    moves.push(list.map((_, i) => i));
  } else {
    let found = false;
    try {
      for (let largest = 1; largest <= Math.min(maxTransaction, n) && !found; largest++) found = search(largest, false);
      if (!found && n > maxTransaction) found = search(maxTransaction, true);
    } catch (e) {
      if (!(e instanceof OutOfChecks)) throw e;
      reasonKind = 'search-budget';
      moves.length = 0;
    }
    if (!found) {
      // out of checks: single changes while one passes (cached verdicts first), then the rest at once
      const mask = new Uint8Array(n);
      for (;;) {
        const remaining: number[] = [];
        for (let i = 0; i < n; i++) if (mask[i] === 0) remaining.push(i);
        if (remaining.length === 0) break;
        let moved = false;
        for (const i of remaining) {
          if (remaining.some((y) => y !== i && precedes[y]![i])) continue;
          const next = mask.slice();
          next[i] = 1;
          const known = verdicts.get(keyOf(next));
          const v = known ?? (checks < limit + n ? verdictOf(next, false, mask) : undefined);
          if (v?.ok) {
            moves.push([i]);
            mask[i] = 1;
            moved = true;
            break;
          }
        }
        if (!moved) {
          moves.push(remaining);
          break;
        }
      }
    }
  }

  // turn moves into steps
  const steps: OrderedPackageStep[] = [];
  const mask = new Uint8Array(n);
  for (const move of moves) {
    if (move.length === 1) {
      steps.push({ changes: [list[move[0]!]!] });
    } else {
      const before = stateOf(mask);
      const alone: TransactionReason['alone'] = [];
      for (const i of move) {
        const one = mask.slice();
        one[i] = 1;
        const v = verdicts.get(keyOf(one)) ?? (alone.length < 8 ? verdictOf(one, false, mask) : undefined);
        if (v && !v.ok) alone.push({ name: list[i]!.name, facts: v.facts });
      }
      const ordered = orderTransaction(move.map((i) => list[i]!), move, before, precedes, options.relations);
      steps.push({
        changes: ordered.changes,
        transaction: { kind: reasonKind, alone },
        ...(ordered.loop ? { loop: ordered.loop } : {}),
      });
    }
    for (const i of move) mask[i] = 1;
  }
  return { steps, checks };
}

/**
 * The listed order inside one transaction: removals first, each when no later member loses a
 * pre-dependency by it; then a member when its Pre-Depends are met by the set before it; neither
 * while a member that must precede it (Replaces) is left. Members that cannot be placed are the
 * loop.
 */
function orderTransaction(
  members: PackageChange[], indexes: number[], before: Map<string, InstalledPackage>, precedes: boolean[][], relations: PackageRelationFacts | undefined,
): { changes: PackageChange[]; loop?: OrderedPackageStep['loop'] } {
  if (!relations) return { changes: members };
  const running = new Map(before);
  const pending = members.map((c, k) => ({ c, i: indexes[k]! }));
  const out: PackageChange[] = [];
  const unmet = (c: PackageChange, among: Map<string, InstalledPackage>): number =>
    relations.unmetPreDepends({ name: c.name, version: c.to!, architecture: c.architecture ?? before.get(c.name)?.architecture ?? 'all' }, [...among.values()]).length;
  const free = (m: { i: number }): boolean => !pending.some((y) => y.i !== m.i && precedes[y.i]![m.i]);
  while (pending.length > 0) {
    let pick = pending.findIndex((m) => {
      if (!isRemoval(m.c) || !free(m)) return false;
      const without = new Map(running);
      without.delete(m.c.name);
      return pending.every((o) => isRemoval(o.c) || o === m || unmet(o.c, without) <= unmet(o.c, running));
    });
    if (pick < 0) pick = pending.findIndex((m) => !isRemoval(m.c) && free(m) && unmet(m.c, running) === 0);
    if (pick < 0) {
      const because: Array<'pre-depends' | 'replaces'> = [];
      if (pending.some((m) => !isRemoval(m.c) && unmet(m.c, running) > 0)) because.push('pre-depends');
      if (pending.some((m) => !free(m))) because.push('replaces');
      return { changes: [...out, ...pending.map((m) => m.c)], loop: { packages: pending.map((m) => m.c.name), because } };
    }
    const [m] = pending.splice(pick, 1);
    applyPackageChanges(running, [m!.c]);
    out.push(m!.c);
  }
  return { changes: out };
}

/** k-subsets of `items`, in lexicographic order of positions. */
function* combinations(items: readonly number[], k: number): Generator<number[]> {
  const idx = Array.from({ length: k }, (_, i) => i);
  const n = items.length;
  if (k > n) return;
  for (;;) {
    yield idx.map((i) => items[i]!);
    let j = k - 1;
    while (j >= 0 && idx[j] === n - k + j) j--;
    if (j < 0) return;
    idx[j]!++;
    for (let t = j + 1; t < k; t++) idx[t] = idx[t - 1]! + 1;
  }
}
