/**
 * Is an installed set consistent, as dpkg sees it: every installed version's Depends and
 * Pre-Depends met by the set, no Conflicts or Breaks between installed versions, one version per
 * name. The meaning is the solver's (the same candidate lists of the package set, so Provides,
 * `:any` and version constraints mean what they mean to a solve; a Conflicts/Breaks on another
 * version of the same name counts only through the one-version rule, as in encode.ts), checked
 * directly on the relations instead of by a solve: a set is consistent exactly when holding it
 * unchanged solves.
 *
 * Incremental: `anchor(base)` checks the base once and keeps its problems; a query "base with
 * these versions taken out and these put in" then re-checks only what the change can touch: the
 * added versions' own relations, the base's versions that depend on a removed one (the
 * universe's reverse-dependency index, by the removed version's name and the names it provides,
 * kept per anchor to the part that is installed), the base's own problems, and the conflicts
 * declared by an added version or against it (the reverse of the base's Conflicts/Breaks, built
 * on first use). Rollback ordering asks hundreds of such questions per host group, each a few
 * changes away from one base.
 *
 * Problems come back as the solver's explanation facts (`depends` with `satisfiable`,
 * `conflict`, `one-version`), sorted by key, described only when asked (an order search reads
 * the facts of few of the sets it rejects).
 */
import { REL, type Universe } from '../universe/index.js';
import type { Fact } from './encode.js';
import { describeFactData, type ExplanationFact } from './explain.js';
import { createUniverseView, type PackageSet } from './universe-view.js';

/** The answer of one check: consistent, or not and why (the facts are described on first ask). */
export interface SetProblems {
  readonly consistent: boolean;
  facts(): ExplanationFact[];
}

export interface AnchoredConsistency {
  /** The base's own problems. */
  readonly problems: SetProblems;
  /** Whether the base holds pv. */
  includes(pv: number): boolean;
  /**
   * Problems of the base with `removed` taken out and `added` put in (pvs; a pv in both stays as
   * in the base). `known`: the first `known.added` of `added` and `known.removed` of `removed` lead
   * to a set already found consistent, so only what the rest touches is checked.
   */
  check(added: readonly number[], removed: readonly number[], known?: { added: number; removed: number }): SetProblems;
}

export interface InstalledSetConsistency {
  readonly set: PackageSet;
  /** Problems of an installed set of pvs. */
  check(pvs: ArrayLike<number>): SetProblems;
  /**
   * A checker of sets a few changes away from `base`. `previous`, an anchor of this checker:
   * when the two bases differ in few versions, the base's problems are derived from it instead of
   * checking the base whole (host groups of one plan share most of their packages).
   */
  anchor(base: ArrayLike<number>, previous?: AnchoredConsistency): AnchoredConsistency;
}

type SetFact = Extract<Fact, { kind: 'depends' | 'conflict' | 'one-version' }>;

const NO_FLAGS = new Uint8Array(0);
const CONSISTENT: SetProblems = { consistent: true, facts: () => [] };

export function createInstalledSetConsistency(universe: Universe, set: PackageSet = createUniverseView(universe)): InstalledSetConsistency {
  const n = set.size;
  const nameIdOf = set.nameIdOf;
  // The set being checked: `base[q] === 1` and not removed, or added; marks stamped by query
  // (checks are synchronous, one at a time).
  let base: Uint8Array = NO_FLAGS;
  const added = new Int32Array(n);
  const removed = new Int32Array(n);
  const queued = new Int32Array(n);
  const nameSeen = new Int32Array(set.names.length);
  let epoch = 0;
  const inSet = (q: number): boolean => added[q] === epoch || (base[q] === 1 && removed[q] !== epoch);

  /** Who declares a Conflicts/Breaks on pv, among the versions seen so far in a base or a change (grown as versions come). */
  const conflictedBy = new Map<number, number[]>();
  const indexed = new Uint8Array(n);
  const indexConflicts = (pv: number): void => {
    if (indexed[pv] === 1) return;
    indexed[pv] = 1;
    const cs = set.conflicts(pv);
    for (let k = 0; k < cs.length; k++) {
      const l = conflictedBy.get(cs[k]!);
      if (l) l.push(pv);
      else conflictedBy.set(cs[k]!, [pv]);
    }
  };
  /** The raw query of each anchor (for deriving a new anchor from a previous one). */
  const anchorState = new WeakMap<AnchoredConsistency, { flags: Uint8Array; pvs: ArrayLike<number>; facts: SetFact[]; query: (add: readonly number[], remove: readonly number[]) => SetFact[] | null }>();

  /** Every candidate of pv's Depends and Pre-Depends (kept: the same versions come back in group after group). */
  const candidateSets = new Map<number, Set<number>>();
  const candidatesOf = (pv: number): Set<number> => {
    let c = candidateSets.get(pv);
    if (!c) {
      c = new Set();
      for (const clause of set.preDepends(pv)) for (const q of clause) c.add(q);
      for (const clause of set.depends(pv)) for (const q of clause) c.add(q);
      candidateSets.set(pv, c);
    }
    return c;
  };

  /** Unmet Depends/Pre-Depends clauses of pv. */
  const checkDepends = (pv: number, out: SetFact[]): void => {
    for (let f = 0; f < 2; f++) {
      const clauses = f === 0 ? set.preDepends(pv) : set.depends(pv);
      for (let i = 0; i < clauses.length; i++) {
        const cands = clauses[i]!;
        let met = false;
        for (let k = 0; k < cands.length && !met; k++) met = inSet(cands[k]!);
        if (!met) out.push({ kind: 'depends', pv, clause: i, field: f === 0 ? 'pre-depends' : 'depends' });
      }
    }
  };
  /** Conflicts/Breaks that pv declares on installed versions of other names. */
  const checkConflicts = (pv: number, out: SetFact[]): void => {
    const cs = set.conflicts(pv);
    for (let k = 0; k < cs.length; k++) {
      const q = cs[k]!;
      if (nameIdOf[q] !== nameIdOf[pv] && inSet(q)) out.push({ kind: 'conflict', a: pv, b: q });
    }
  };
  const factKey = (f: SetFact): string =>
    f.kind === 'depends' ? `d:${f.pv}:${f.field}:${f.clause}` : f.kind === 'conflict' ? `c:${Math.min(f.a, f.b)}:${Math.max(f.a, f.b)}` : `o:${f.nameId}`;
  const describe = (facts: SetFact[]): ExplanationFact[] => {
    const seen = new Set<string>();
    const out: ExplanationFact[] = [];
    for (const f of facts) {
      const k = factKey(f);
      if (seen.has(k)) continue;
      seen.add(k);
      // describing these kinds of fact reads only the package set, never the installed flags
      out.push(describeFactData({ set, installed: NO_FLAGS }, f));
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  };
  const problemsOf = (facts: SetFact[]): SetProblems => {
    if (facts.length === 0) return CONSISTENT;
    let described: ExplanationFact[] | undefined;
    return { consistent: false, facts: () => (described ??= describe(facts)).slice() };
  };

  /** The problems of the whole set `flags` (its pvs listed in `pvs`). */
  const fullCheck = (pvs: ArrayLike<number>, flags: Uint8Array): SetFact[] => {
    base = flags;
    const e = ++epoch;
    const out: SetFact[] = [];
    for (let i = 0; i < pvs.length; i++) {
      const pv = pvs[i]!;
      if (queued[pv] === e) continue;
      queued[pv] = e;
      const id = nameIdOf[pv]!;
      if (nameSeen[id] === e) {
        if (!out.some((f) => f.kind === 'one-version' && f.nameId === id)) out.push({ kind: 'one-version', nameId: id });
      } else nameSeen[id] = e;
      checkDepends(pv, out);
      checkConflicts(pv, out);
    }
    return out;
  };
  const flagsOf = (pvs: ArrayLike<number>): Uint8Array => {
    const flags = new Uint8Array(n);
    for (let i = 0; i < pvs.length; i++) flags[pvs[i]!] = 1;
    return flags;
  };

  return {
    set,
    check(pvs) {
      return problemsOf(fullCheck(pvs, flagsOf(pvs)));
    },
    anchor(basePvs, previous) {
      const flags = flagsOf(basePvs);
      for (let i = 0; i < basePvs.length; i++) indexConflicts(basePvs[i]!);
      // the base's problems: from a previous anchor when the two bases differ in few versions, else checked whole
      let baseFacts: SetFact[] | undefined;
      const prev = previous ? anchorState.get(previous) : undefined;
      if (prev) {
        const add: number[] = [];
        const remove: number[] = [];
        for (let i = 0; i < basePvs.length; i++) if (prev.flags[basePvs[i]!] !== 1) add.push(basePvs[i]!);
        for (let i = 0; i < prev.pvs.length; i++) if (flags[prev.pvs[i]!] !== 1) remove.push(prev.pvs[i]!);
        if (add.length + remove.length <= basePvs.length / 2) baseFacts = prev.query(add, remove) ?? prev.facts;
      }
      baseFacts ??= fullCheck(basePvs, flags);
      const problems = problemsOf(baseFacts);
      // installed versions with an unmet dependency, conflicting pairs and names with two versions in the base
      const baseUnmet = [...new Set(baseFacts.filter((f) => f.kind === 'depends').map((f) => (f as Extract<SetFact, { kind: 'depends' }>).pv))];
      const baseConflicts = baseFacts.filter((f): f is Extract<SetFact, { kind: 'conflict' }> => f.kind === 'conflict');
      const baseMulti = baseFacts.filter((f): f is Extract<SetFact, { kind: 'one-version' }> => f.kind === 'one-version').map((f) => f.nameId);
      // who in the base depends on pv: the universe's dependents of its name and of the names it provides, kept to the installed ones
      const dependents = new Map<number, Int32Array>();
      const dependentsOf = (pv: number): Int32Array => {
        let l = dependents.get(pv);
        if (!l) {
          const out: number[] = [];
          const names = [nameIdOf[pv]!];
          for (const a of universe.atomsOf(pv, REL.provides)) {
            const id = universe.atomName[a]!;
            if (!names.includes(id)) names.push(id);
          }
          for (const name of names) {
            const all = universe.dependentsOf(name);
            for (let k = 0; k < all.length; k++) if (flags[all[k]!] === 1) out.push(all[k]!);
          }
          l = Int32Array.from(out);
          dependents.set(pv, l);
        }
        return l;
      };
      const conflictersOf = (pv: number): readonly number[] => conflictedBy.get(pv) ?? [];
      const addList: number[] = [];
      const removeList: number[] = [];
      const recheck: number[] = [];
      const enqueue = (q: number): void => {
        if (queued[q] === epoch || !inSet(q)) return;
        queued[q] = epoch;
        recheck.push(q);
      };
      const query = (add: readonly number[], remove: readonly number[], known?: { added: number; removed: number }): SetFact[] | null => {
        base = flags;
        const e = ++epoch;
        addList.length = 0;
        removeList.length = 0;
        recheck.length = 0;
        const ka = known?.added ?? 0;
        const kr = known?.removed ?? 0;
        for (const pv of remove) if (flags[pv] === 1) removed[pv] = e;
        let firstNewAdd = -1;
        for (let i = 0; i < add.length; i++) {
          const pv = add[i]!;
          if (flags[pv] === 1) {
            if (removed[pv] === e) removed[pv] = 0;
          } else if (added[pv] !== e) {
            added[pv] = e;
            if (i >= ka && firstNewAdd < 0) firstNewAdd = addList.length;
            addList.push(pv);
          }
        }
        let firstNewRemove = -1;
        for (let j = 0; j < remove.length; j++) {
          const pv = remove[j]!;
          if (removed[pv] === e && queued[pv] !== e) {
            queued[pv] = e;
            if (j >= kr && firstNewRemove < 0) firstNewRemove = removeList.length;
            removeList.push(pv);
          }
        }
        if (addList.length === 0 && removeList.length === 0) return null;
        for (const pv of addList) indexConflicts(pv);
        const out: SetFact[] = [];
        if (ka + kr > 0) {
          // the known part is consistent: only relations that touch the new changes can fail
          const oldAdds = firstNewAdd < 0 ? addList.length : firstNewAdd;
          const newRemoves = firstNewRemove < 0 ? [] : removeList.slice(firstNewRemove);
          for (let i = oldAdds; i < addList.length; i++) enqueue(addList[i]!);
          for (const r of newRemoves) {
            const deps = dependentsOf(r);
            for (let k = 0; k < deps.length; k++) enqueue(deps[k]!);
            for (let i = 0; i < oldAdds; i++) if (candidatesOf(addList[i]!).has(r)) enqueue(addList[i]!);
          }
          for (const q of recheck) checkDepends(q, out);
          for (let i = oldAdds; i < addList.length; i++) {
            const pv = addList[i]!;
            checkConflicts(pv, out);
            for (const q of conflictersOf(pv)) if (nameIdOf[q] !== nameIdOf[pv] && inSet(q)) out.push({ kind: 'conflict', a: q, b: pv });
            countVersions(nameIdOf[pv]!, out);
          }
          return out;
        }
        // dependencies: the added versions, the base's unmet ones, and whoever depends on a removed version
        for (const pv of addList) enqueue(pv);
        for (const pv of baseUnmet) enqueue(pv);
        for (const r of removeList) {
          const deps = dependentsOf(r);
          for (let k = 0; k < deps.length; k++) enqueue(deps[k]!);
        }
        for (const q of recheck) checkDepends(q, out);
        // conflicts: the base's that remain, and those declared by or against an added version
        for (const c of baseConflicts) if (inSet(c.a) && inSet(c.b)) out.push(c);
        for (const pv of addList) {
          checkConflicts(pv, out);
          for (const q of conflictersOf(pv)) if (nameIdOf[q] !== nameIdOf[pv] && inSet(q)) out.push({ kind: 'conflict', a: q, b: pv });
        }
        // one version per name
        for (const id of baseMulti) countVersions(id, out);
        for (const pv of addList) countVersions(nameIdOf[pv]!, out);
        return out;
      };
      const anchored: AnchoredConsistency = {
        problems,
        includes: (pv) => flags[pv] === 1,
        check(add, remove, known) {
          const out = query(add, remove, known);
          return out === null ? problems : problemsOf(out);
        },
      };
      anchorState.set(anchored, { flags, pvs: basePvs, facts: baseFacts, query });
      return anchored;
    },
  };

  function countVersions(id: number, out: SetFact[]): void {
    let count = 0;
    for (const q of set.versionsOfNameId(id)) if (inSet(q)) count++;
    if (count > 1 && !out.some((f) => f.kind === 'one-version' && f.nameId === id)) out.push({ kind: 'one-version', nameId: id });
  }
}
