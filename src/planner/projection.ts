/**
 * Shared solves across host states: the part of a host's installed set a request can touch (its
 * projection), and the check that a solve of the projection applies to a whole host.
 *
 * Why it is sound (default criteria: -removed, requested upgrades, -unmet_recommends, -changed,
 * -notuptodate, all minimised, each a sum over names; Essential/required kept; one version per
 * name; nothing removed unasked). N is the forward closure, over every version of every name
 * reached, of the request's names and their candidates through Depends, Pre-Depends and (when
 * they count) Recommends. A host's installed set is A (names in N) + B (the rest); the
 * projection's problem has A installed.
 * - Lower bound: any solution S of the host restricted to N (and to what A and the request reach)
 *   is a solution of the projection (every candidate of a relation of an N version is in N), and
 *   S costs at least as much as that restriction plus B unchanged (changing anything of B costs a
 *   removal or a change before it can save a not-up-to-date). So the projection's optimum is a
 *   lower bound, and an unsolvable projection means an unsolvable host (its explanation's facts
 *   are facts of the host's problem too).
 * - Achieved: the projection's solution plus B unchanged is a solution of the host when every
 *   package of B keeps its Depends/Pre-Depends met and meets no Conflicts/Breaks after the change
 *   (`fits`); it then costs exactly the bound, so it is optimal for the host.
 * A host where it does not fit (a package outside the projection that the change would break, or
 * a host already inconsistent) is solved on its own. Among several optimal answers the solver
 * may pick another one for the whole host than for its projection (a tie); the transaction given
 * is optimal for the host either way. `upgrade-all`, CUDF keeps and custom criteria are not
 * projected (every installed package is then touchable, or the cost argument does not hold).
 */
import { installCandidates, specName, type PackageSet, type PackageChange, type RequestItem } from '../solver/index.js';
import type { InstalledPackage } from '../fleet/index.js';

export interface SolveSharing {
  /** The installed packages of a host the request can touch (a subset of `installed`, in its order). */
  project(installed: readonly InstalledPackage[]): InstalledPackage[];
  /**
   * The projection as the sorted package-version ids it holds: equal for two installed sets
   * exactly when their projections are equal (a key without building texts).
   */
  projectionIds(installed: readonly InstalledPackage[]): Int32Array;
  /**
   * Whether the projection's change (and every resolution's) applies to a host with this full
   * installed set: no package outside the projection loses a dependency or meets a conflict.
   */
  fits(installed: readonly InstalledPackage[], changes: readonly (readonly PackageChange[])[]): boolean;
  /** Names in the projection (for figures). */
  readonly size: number;
}

export interface SolveSharingOptions {
  /** Recommends count in the solve (they are then followed by the closure). */
  recommends: boolean;
  /** pv of an installed package (-1 when the universe has none: the solver ignores it too). */
  pvOf(p: InstalledPackage): number;
}

/** Names (ids) a request can reach: the closure described above; undefined when the request is not projectable. */
export function requestReach(set: PackageSet, items: readonly RequestItem[], recommends: boolean): Uint8Array | undefined {
  const inN = new Uint8Array(set.names.length);
  const queue: number[] = [];
  const addName = (id: number | undefined): void => {
    if (id === undefined || inN[id]) return;
    inN[id] = 1;
    queue.push(id);
  };
  for (const item of items) {
    switch (item.kind) {
      case 'upgrade-all':
      case 'keep':
        return undefined;
      case 'install':
      case 'upgrade':
        // the spec's own name (`libc6:i386` for an i386 qualifier: multiarch) and its candidates
        addName(set.nameId(specName(item)));
        for (const pv of installCandidates(set, item)) addName(set.nameIdOf[pv]);
        break;
      default:
        addName(set.nameId(specName(item)));
    }
  }
  for (let i = 0; i < queue.length; i++) {
    for (const pv of set.versionsOfNameId(queue[i]!)) {
      for (const c of set.depends(pv)) for (const q of c) addName(set.nameIdOf[q]);
      for (const c of set.preDepends(pv)) for (const q of c) addName(set.nameIdOf[q]);
      if (recommends) for (const c of set.recommends(pv)) for (const q of c) addName(set.nameIdOf[q]);
    }
  }
  return inN;
}

/** The sharing for one request, or undefined when the request is not projectable (see the header). */
export function createSolveSharing(set: PackageSet, items: readonly RequestItem[], options: SolveSharingOptions): SolveSharing | undefined {
  const inN = requestReach(set, items, options.recommends);
  if (!inN) return undefined;
  let size = 0;
  for (const x of inN) size += x;
  const after = new Uint8Array(set.size);
  // a group's installed pvs, and a shared change's names and new pvs, are computed once (many groups share both)
  const pvsOfSet = new WeakMap<readonly InstalledPackage[], number[]>();
  const pvsOf = (installed: readonly InstalledPackage[]): number[] => {
    let pvs = pvsOfSet.get(installed);
    if (!pvs) {
      pvs = [];
      for (const p of installed) {
        const pv = options.pvOf(p);
        if (pv >= 0) pvs.push(pv);
      }
      pvsOfSet.set(installed, pvs);
    }
    return pvs;
  };
  const changeOf = new WeakMap<readonly PackageChange[], { names: Set<number>; added: number[] } | null>();
  const describe = (changes: readonly PackageChange[]): { names: Set<number>; added: number[] } | null => {
    let d = changeOf.get(changes);
    if (d === undefined) {
      const names = new Set<number>();
      const added: number[] = [];
      d = { names, added };
      for (const c of changes) {
        const id = set.nameId(c.name);
        if (id !== undefined) names.add(id);
        if (c.to === undefined || c.action === 'remove' || c.action === 'purge') continue;
        let pv = -1;
        for (const q of set.versionsOf(c.name)) if (set.versionOf(q) === c.to && (c.architecture === undefined || set.archOf(q) === c.architecture)) pv = q;
        if (pv < 0) { d = null; break; }
        added.push(pv);
      }
      changeOf.set(changes, d);
    }
    return d;
  };
  const fitsOne = (pvs: readonly number[], changes: readonly PackageChange[]): boolean => {
    const d = describe(changes);
    if (!d) return false;
    const kept = pvs.filter((pv) => !d.names.has(set.nameIdOf[pv]!));
    for (const pv of kept) after[pv] = 1;
    for (const pv of d.added) after[pv] = 1;
    try {
      for (const b of kept) {
        if (inN[set.nameIdOf[b]!]) continue;
        for (const clauses of [set.depends(b), set.preDepends(b)]) {
          for (const c of clauses) {
            let met = false;
            for (const q of c) if (after[q]) { met = true; break; }
            if (!met) return false;
          }
        }
        for (const q of set.conflicts(b)) if (after[q]) return false;
      }
      // the other side of a conflict: what is in the projection after the change against what is outside it
      for (const list of [kept, d.added]) {
        for (const pv of list) {
          if (!inN[set.nameIdOf[pv]!]) continue;
          for (const q of set.conflicts(pv)) if (after[q] && !inN[set.nameIdOf[q]!]) return false;
        }
      }
      return true;
    } finally {
      for (const pv of kept) after[pv] = 0;
      for (const pv of d.added) after[pv] = 0;
    }
  };
  return {
    size,
    project(installed) {
      const pvs = pvsOf(installed);
      if (pvs.length === installed.length) return installed.filter((_, i) => inN[set.nameIdOf[pvs[i]!]!] === 1);
      return installed.filter((p) => {
        const pv = options.pvOf(p);
        return pv >= 0 && inN[set.nameIdOf[pv]!] === 1;
      });
    },
    projectionIds(installed) {
      const pvs = pvsOf(installed);
      const out: number[] = [];
      for (const pv of pvs) if (inN[set.nameIdOf[pv]!] === 1) out.push(pv);
      return Int32Array.from(out).sort();
    },
    fits(installed, changeSets) {
      const pvs = pvsOf(installed);
      return changeSets.every((changes) => fitsOne(pvs, changes));
    },
  };
}
