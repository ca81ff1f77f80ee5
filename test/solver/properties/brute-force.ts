/**
 * A brute-force resolver for small Debian universes, written for the property tests: it
 * enumerates every installed set with at most one version per name (and, when asked, the sets
 * that break the one-version rule of some names) and evaluates every rule directly on the
 * records (versions by dpkg's order). Each rule instance carries the key of the solver's
 * explanation fact (`depends:NAME=VERSION:CLAUSE`, `conflict:A=V|B=W` (sorted), `one-version:NAME`,
 * `essential:NAME`, `request:I`: names and versions, never internal ids), so a set of facts
 * can be switched off to check that an explanation is minimal. A Conflicts/Breaks between two
 * versions of the same name counts as the one-version fact of that name, as in the solver.
 */
import type { PackageAtom, PackageRecord } from '../../../src/kb/index.js';
import type { Universe } from '../../../src/universe/index.js';
import type { RequestItem } from '../../../src/solver/index.js';
import { compareDebian } from '../../../src/versions/index.js';
import { matchesAtom } from '../peers/checker.js';

export interface BruteUniverse {
  universe: Universe;
  /** pv → record (the records the universe was built from). */
  records: PackageRecord[];
  /** name id (the solver's) → pvs of that name. */
  pvsOfName: Map<number, number[]>;
  nameIdOf: (pv: number) => number;
  /** The installed pvs before the request. */
  before: ReadonlySet<number>;
}

export function createBruteUniverse(universe: Universe, records: readonly PackageRecord[], before: readonly number[] = []): BruteUniverse {
  const byPv: PackageRecord[] = [];
  for (const r of records) {
    const pv = universe.findPv(r.name, r.version, r.architecture);
    if (pv < 0) throw new Error(`record ${r.name} ${r.version} has no pv`);
    byPv[pv] = r;
  }
  const pvsOfName = new Map<number, number[]>();
  for (let pv = 0; pv < universe.pvCount; pv++) {
    const id = universe.pvName[pv]!;
    pvsOfName.set(id, [...(pvsOfName.get(id) ?? []), pv]);
  }
  return { universe, records: byPv, pvsOfName, nameIdOf: (pv) => universe.pvName[pv]!, before: new Set(before) };
}

const holds = (cmp: number, op: string): boolean =>
  op === '<<' ? cmp < 0 : op === '<=' ? cmp <= 0 : op === '=' ? cmp === 0 : op === '>=' ? cmp >= 0 : op === '>>' ? cmp > 0 : cmp !== 0;

function itemMatchesReal(r: PackageRecord, item: { name: string; op?: string; version?: string }): boolean {
  return r.name === item.name && (!item.op || holds(compareDebian(r.version, item.version!), item.op));
}

/** Fact keys violated by the installed set `on` (pvs) for the request items. */
export function violatedFacts(u: BruteUniverse, on: readonly number[], items: readonly RequestItem[]): Set<string> {
  const out = new Set<string>();
  const recs = on.map((pv) => u.records[pv]!);
  for (const pv of on) {
    const r = u.records[pv]!;
    (['pre-depends', 'depends'] as const).forEach((field) => {
      const clauses = field === 'depends' ? r.depends : r.preDepends;
      clauses.forEach((alts, i) => {
        if (!alts.some((a: PackageAtom) => recs.some((c) => matchesAtom(c, a)))) out.add(`${field}:${r.name}=${r.version}:${i}`);
      });
    });
    for (const a of [...r.conflicts, ...r.breaks]) {
      for (const q of on) {
        // between versions of one name a conflict is part of the one-version rule (as in the solver)
        if (q !== pv && u.nameIdOf(q) !== u.nameIdOf(pv) && matchesAtom(u.records[q]!, a)) {
          const rq = u.records[q]!;
          out.add(`conflict:${[`${r.name}=${r.version}`, `${rq.name}=${rq.version}`].sort().join('|')}`);
        }
      }
    }
  }
  const countByName = new Map<number, number>();
  for (const pv of on) countByName.set(u.nameIdOf(pv), (countByName.get(u.nameIdOf(pv)) ?? 0) + 1);
  for (const [id, n] of countByName) if (n > 1) out.add(`one-version:${u.universe.names[id]}`);
  // installed Essential / Priority: required packages are kept unless a remove item names them
  const removedNames = new Set(items.filter((i) => i.kind === 'remove').map((i) => (i as { name: string }).name));
  for (const [id, pvs] of u.pvsOfName) {
    const was = pvs.filter((pv) => u.before.has(pv));
    if (was.length === 0 || removedNames.has(u.records[was[0]!]!.name)) continue;
    if (!was.some((pv) => u.records[pv]!.essential || u.records[pv]!.priority === 'required')) continue;
    if (!pvs.some((pv) => on.includes(pv))) out.add(`essential:${u.universe.names[id]}`);
  }
  items.forEach((item, i) => {
    if (item.kind === 'hold') {
      const pvs = u.pvsOfName.get(u.universe.nameId(item.name)) ?? [];
      if (pvs.some((pv) => on.includes(pv) !== u.before.has(pv))) out.add(`request:${i}`);
      return;
    }
    if (item.kind === 'install') {
      const atom: PackageAtom = { name: item.name, ...(item.op ? { op: item.op, version: item.version! } : {}) };
      if (!recs.some((r) => matchesAtom(r, atom))) out.add(`request:${i}`);
    } else if (item.kind === 'remove') {
      if (recs.some((r) => itemMatchesReal(r, item))) out.add(`request:${i}`);
    } else {
      throw new Error(`brute force does not model request item ${item.kind}`);
    }
  });
  return out;
}

/** Every installed set with at most one version per name, or with any versions of the `multiVersion` names. */
export function enumerateStates(u: BruteUniverse, multiVersion: ReadonlySet<number> = new Set()): number[][] {
  let states: number[][] = [[]];
  for (const [id, pvs] of u.pvsOfName) {
    const choices: number[][] = [];
    if (multiVersion.has(id)) {
      for (let mask = 0; mask < 1 << pvs.length; mask++) choices.push(pvs.filter((_, i) => mask & (1 << i)));
    } else choices.push([], ...pvs.map((pv) => [pv]));
    const next: number[][] = [];
    for (const s of states) for (const c of choices) next.push([...s, ...c]);
    states = next;
  }
  return states;
}

export interface CriteriaCounts {
  removed: number;
  new: number;
  changed: number;
  notuptodate: number;
}

/** The criteria of moving from `before` to `after` (names; newest = the name's newest version). */
export function countCriteria(u: BruteUniverse, before: readonly number[], after: readonly number[]): CriteriaCounts {
  const b = new Set(before);
  const a = new Set(after);
  const c: CriteriaCounts = { removed: 0, new: 0, changed: 0, notuptodate: 0 };
  for (const [, pvs] of u.pvsOfName) {
    const was = pvs.some((pv) => b.has(pv));
    const is = pvs.some((pv) => a.has(pv));
    if (was && !is) c.removed++;
    if (!was && is) c.new++;
    if (pvs.some((pv) => b.has(pv) !== a.has(pv))) c.changed++;
    const newest = pvs.reduce((x, y) => (compareDebian(u.records[x]!.version, u.records[y]!.version) >= 0 ? x : y));
    if (is && !a.has(newest)) c.notuptodate++;
  }
  return c;
}
