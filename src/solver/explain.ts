/**
 * Explanations for requests without a solution: a minimal unsatisfiable set of facts (MUS), as
 * data. Words are the application's business (src/app/render/explanation.ts renders them for
 * the terminal; --json and the console read the facts).
 *
 * Technique: the request is encoded again with one selector literal per fact (encode.ts);
 * solving under all selectors gives a failed-assumption core, which deletion-based
 * minimisation shrinks to a MUS: each fact of the core is tried without; if the rest is still
 * unsatisfiable the fact is dropped (and the new, often smaller, core replaces the rest),
 * otherwise it is necessary. The result is minimal: taking away any one fact makes the request
 * solvable. The facts are then ordered as a chain from the request items through the
 * dependencies they pull in, each in the request's and the packages' own terms (names,
 * versions, the relation as the package declares it), with a key that names the same fact in
 * every solve (names and versions, never internal ids), so equal conflicts can be grouped.
 */
import type { PackageSet } from './universe-view.js';
import { specName, type Encoding, type Fact } from './encode.js';
import type { RequestItem } from './request.js';

/** A package version named by a fact. */
export interface PackageRef {
  name: string;
  version: string;
}

/** Why a requested install or upgrade has nothing to install (when that is the case). */
export type UnmetRequest =
  | { reason: 'no-version-matches'; available: string[]; more: number }
  | { reason: 'no-provider-matches' }
  | { reason: 'no-package' };

export type ExplanationFact =
  /** One of the operator's request items (an explicit hold included). */
  | { kind: 'request'; key: string; requestIndex: number; item: RequestItem; unmet?: UnmetRequest; installed?: string[] }
  /** An installed package the policy keeps (nothing removed that was not asked for): a `protect` item. */
  | { kind: 'protected'; key: string; requestIndex: number; name: string; installed: string[] }
  /** `package` depends (or pre-depends) on `relation`; `satisfiable` false when no available package satisfies it. */
  | { kind: 'depends'; key: string; package: PackageRef; field: 'depends' | 'pre-depends'; relation: string; satisfiable: boolean }
  /** `package` conflicts with (or breaks) `relation`, which `other` satisfies. */
  | { kind: 'conflict'; key: string; package: PackageRef; field: 'conflicts' | 'breaks'; relation: string; other: PackageRef }
  /** Only one version of `name` can be installed at a time. */
  | { kind: 'one-version'; key: string; name: string }
  /** `name` is installed and Essential (or Priority: required), so it is kept. */
  | { kind: 'essential'; key: string; name: string }
  /** `package` cannot be installed on this host (an environment requirement). */
  | { kind: 'not-candidate'; key: string; package: PackageRef; reason: string }
  /** The only solution removes installed packages nobody asked to remove (keepInstalled), and no smaller reason was found. */
  | { kind: 'unasked-removal'; key: string; names: string[] }
  /** (installability) `package` cannot be installed together with the Essential packages (no smaller reason found in time). */
  | { kind: 'not-with-essential'; key: string; package: PackageRef }
  /** (installability) `package`'s dependency `relation` has only non-installable candidates. */
  | { kind: 'broken-dependency'; key: string; package: PackageRef; field: 'depends' | 'pre-depends'; relation: string; candidates: PackageRef[] };

export type ExplanationFactKind = ExplanationFact['kind'];

export interface Explanation {
  /** The minimal set of facts, ordered as a chain from the request. */
  facts: ExplanationFact[];
  /** True when the set was proven minimal (the budget did not run out). */
  minimal: boolean;
}

function ref(enc: FactContext, pv: number): PackageRef {
  return { name: enc.set.nameOf(pv), version: enc.set.versionOf(pv) };
}

const refKey = (r: PackageRef): string => `${r.name}=${r.version}`;

/** What describing a fact reads: the package set and the installed flags (an Encoding, or a consistency check's set). */
export type FactContext = Pick<Encoding, 'set' | 'installed'>;

/** A fact of the encoding as data, with a key that does not depend on internal ids. */
export function describeFactData(enc: FactContext, f: Fact): ExplanationFact {
  const set = enc.set;
  switch (f.kind) {
    case 'request': {
      if (f.item.kind === 'protect') {
        const name = f.item.name;
        return { kind: 'protected', key: `protected:${name}`, requestIndex: f.index, name, installed: installedVersions(enc, name) };
      }
      const out: Extract<ExplanationFact, { kind: 'request' }> = { kind: 'request', key: `request:${f.index}`, requestIndex: f.index, item: f.item };
      const unmet = unmetRequest(enc, f.item);
      if (unmet) out.unmet = unmet;
      if (f.item.kind === 'hold') out.installed = installedVersions(enc, f.item.name);
      return out;
    }
    case 'depends': {
      const cands = (f.field === 'depends' ? set.depends(f.pv) : set.preDepends(f.pv))[f.clause]!;
      const pkg = ref(enc, f.pv);
      return { kind: 'depends', key: `${f.field}:${refKey(pkg)}:${f.clause}`, package: pkg, field: f.field, relation: set.clauseText(f.pv, f.field, f.clause), satisfiable: cands.length > 0 };
    }
    case 'conflict': {
      const r = set.conflictRelation(f.a, f.b);
      const [a, b] = [ref(enc, f.a), ref(enc, f.b)];
      const pair = [refKey(a), refKey(b)].sort().join('|');
      return { kind: 'conflict', key: `conflict:${pair}`, package: a, field: r.field, relation: r.relation, other: b };
    }
    case 'one-version': {
      const name = set.names[f.nameId]!;
      return { kind: 'one-version', key: `one-version:${name}`, name };
    }
    case 'essential': {
      const name = set.names[f.nameId]!;
      return { kind: 'essential', key: `essential:${name}`, name };
    }
    case 'not-candidate': {
      const pkg = ref(enc, f.pv);
      return { kind: 'not-candidate', key: `not-candidate:${refKey(pkg)}:${f.reason}`, package: pkg, reason: f.reason };
    }
  }
}

function installedVersions(enc: FactContext, name: string): string[] {
  return Array.from(enc.set.versionsOf(name)).filter((pv) => enc.installed[pv]).map((pv) => enc.set.versionOf(pv));
}

function unmetRequest(enc: FactContext, item: RequestItem): UnmetRequest | undefined {
  if (item.kind !== 'install' && item.kind !== 'upgrade') return undefined;
  const set = enc.set;
  const cands = set.candidates({ name: specName(item), ...(item.op ? { op: item.op, version: item.version! } : {}) });
  if (cands.length > 0) return undefined;
  const own = Array.from(set.versionsOf(specName(item)), (pv) => set.versionOf(pv));
  if (own.length > 0) return { reason: 'no-version-matches', available: own.slice(0, 5), more: Math.max(0, own.length - 5) };
  return set.isProvided(item.name) ? { reason: 'no-provider-matches' } : { reason: 'no-package' };
}

/**
 * Computes a MUS over the facts of a selector encoding whose all-selectors solve is UNSAT.
 * Returns fact indexes (into enc.facts).
 *
 * Deletion-based, with clause-set refinement (an UNSAT answer shrinks the working set to its
 * core) and recursive model rotation: the model that shows one fact necessary is changed one
 * variable at a time, and where the change leaves exactly one other fact of the working set
 * unsatisfied, that fact is necessary too, with no solver call. A chain of n facts (a dependency
 * ring) then needs a handful of solver calls instead of n, each as long as the chain.
 */
export function computeMus(enc: Encoding, deadline: number): { facts: number[]; minimal: boolean } {
  const engine = enc.engine;
  const selToFact = new Map<number, number>();
  enc.factSelector.forEach((s, i) => {
    if (s >= 0) selToFact.set(s << 1, i);
  });
  const r = engine.solve({ assumptions: enc.allSelectors(), deadline });
  if (r !== 'unsat') return { facts: [], minimal: false };
  let core = engine.core.filter((a) => selToFact.has(a));
  let minimal = true;
  const critical = new Uint8Array(enc.facts.length);
  const rotation = enc.clausesRecorded ? new ModelRotation(enc) : undefined;
  const inWork = new Uint8Array(enc.facts.length);
  const markWork = (): void => {
    inWork.fill(0);
    for (const a of core) inWork[selToFact.get(a)!] = 1;
  };
  markWork();
  let i = 0;
  while (i < core.length) {
    const fact = selToFact.get(core[i]!)!;
    if (critical[fact]) {
      i++;
      continue;
    }
    const without = core.slice(0, i).concat(core.slice(i + 1));
    const rr = engine.solve({ assumptions: without, deadline });
    if (rr === 'unsat') {
      // facts before i were proven necessary; the rest shrinks to the new core (which keeps
      // every necessary fact: each is in every unsatisfiable subset)
      const inCore = new Set(engine.core);
      core = core.slice(0, i).concat(core.slice(i + 1).filter((a) => inCore.has(a)));
      markWork();
    } else if (rr === 'sat') {
      critical[fact] = 1;
      if (rotation && !rotation.rotate(fact, engine.model, inWork, critical, deadline)) {
        minimal = false;
        break;
      }
      i++;
    } else {
      minimal = false;
      break;
    }
  }
  return { facts: core.map((a) => selToFact.get(a)!), minimal };
}

/** Recursive model rotation over the clauses an encoding recorded (see computeMus). */
class ModelRotation {
  /** Clause ids by variable. */
  private readonly byVar: number[][] = [];
  /** Clause ids by fact. */
  private readonly byFact: number[][] = [];
  private readonly model: Int8Array;

  constructor(private readonly enc: Encoding) {
    enc.clauseLits.forEach((lits, c) => {
      for (const l of lits) (this.byVar[l >> 1] ??= []).push(c);
      const f = enc.clauseFact[c]!;
      if (f >= 0) (this.byFact[f] ??= []).push(c);
    });
    this.model = new Int8Array(enc.engine.numVars);
  }

  private isTrue(l: number): boolean {
    const v = this.model[l >> 1]!;
    return (l & 1) === 0 ? v === 1 : v === -1;
  }

  private falsified(c: number): boolean {
    for (const l of this.enc.clauseLits[c]!) if (this.isTrue(l)) return false;
    return true;
  }

  /** The literals of the clauses of `fact` the model falsifies (flipping one may satisfy it). */
  private repairs(fact: number): number[] {
    const out: number[] = [];
    for (const c of this.byFact[fact] ?? []) if (this.falsified(c)) out.push(...this.enc.clauseLits[c]!);
    return out;
  }

  /**
   * From `fact`, necessary with witness `witness` (a model of every other working fact), marks
   * the facts the rotated models show necessary. False when the deadline passed.
   */
  rotate(fact: number, witness: Int8Array, inWork: Uint8Array, critical: Uint8Array, deadline: number): boolean {
    const m = this.model;
    for (let v = 0; v < m.length; v++) {
      const x = witness[v] ?? 0;
      if (x === 0) return true; // a partial model: no rotation
      m[v] = x;
    }
    const stack: Array<{ fact: number; lits: number[]; pos: number; flipped: number }> = [{ fact, lits: this.repairs(fact), pos: 0, flipped: -1 }];
    let steps = 0;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.pos >= top.lits.length) {
        stack.pop();
        if (top.flipped >= 0) m[top.flipped] = -m[top.flipped]! as -1 | 1;
        continue;
      }
      if ((++steps & 1023) === 0 && performance.now() > deadline) return false;
      const v = top.lits[top.pos++]! >> 1;
      m[v] = -m[v]! as -1 | 1;
      // the facts of the working set the flipped model leaves unsatisfied; any other clause broken ends it
      let only = -1;
      let count = 0;
      let broken = false;
      for (const c of this.byVar[v] ?? []) {
        if (!this.falsified(c)) continue;
        const f = this.enc.clauseFact[c]!;
        if (f < 0) {
          broken = true;
          break;
        }
        if (!inWork[f] || f === only) continue;
        only = f;
        if (++count > 1) break;
      }
      if (!broken && count === 1 && only !== top.fact && !critical[only] && !this.repairs(top.fact).length) {
        critical[only] = 1;
        stack.push({ fact: only, lits: this.repairs(only), pos: 0, flipped: v });
        continue;
      }
      m[v] = -m[v]! as -1 | 1;
    }
    return true;
  }
}

/** Orders MUS facts as a chain from the request items, as data. */
export function buildExplanation(enc: Encoding, factIdx: number[], minimal: boolean): Explanation {
  const set = enc.set;
  const facts = factIdx.map((i) => enc.facts[i]!);
  // Order: request facts first, then repeatedly the earliest remaining fact whose subject (the
  // package it is about) an emitted fact has reached; the earliest remaining one when none is.
  // Facts wait in a heap by position, indexed by subject, so a chain of n facts orders in n log n.
  const reached = new Uint8Array(set.size);
  const emitted = new Uint8Array(facts.length);
  const bySubject = new Map<number, number[]>();
  facts.forEach((f, i) => {
    for (const pv of subjectsOf(set, f)) {
      const list = bySubject.get(pv);
      if (list) list.push(i);
      else bySubject.set(pv, [i]);
    }
  });
  const ready = new MinHeap();
  const reach = (pv: number): void => {
    if (reached[pv]) return;
    reached[pv] = 1;
    for (const i of bySubject.get(pv) ?? []) if (!emitted[i]) ready.push(i);
  };
  const touch = (f: Fact): void => {
    if (f.kind === 'request') {
      const it = f.item;
      if ('name' in it) for (const pv of set.versionsOf(it.name)) reach(pv);
      if ((it.kind === 'install' || it.kind === 'upgrade') && 'name' in it) for (const pv of set.candidates({ name: it.name })) reach(pv);
    } else if (f.kind === 'depends') {
      for (const q of (f.field === 'depends' ? set.depends(f.pv) : set.preDepends(f.pv))[f.clause]!) reach(q);
    } else if (f.kind === 'conflict') {
      reach(f.a);
      reach(f.b);
    }
  };
  const order: Fact[] = [];
  const emit = (i: number): void => {
    emitted[i] = 1;
    order.push(facts[i]!);
    touch(facts[i]!);
  };
  const requestFacts = facts.map((f, i) => ({ f, i })).filter((x) => x.f.kind === 'request')
    .sort((x, y) => (x.f as Extract<Fact, { kind: 'request' }>).index - (y.f as Extract<Fact, { kind: 'request' }>).index);
  for (const { i } of requestFacts) emit(i);
  let next = 0;
  while (order.length < facts.length) {
    let picked = -1;
    while (ready.size > 0) {
      const i = ready.pop();
      if (!emitted[i]) {
        picked = i;
        break;
      }
    }
    if (picked < 0) {
      while (emitted[next]) next++;
      picked = next;
    }
    emit(picked);
  }
  return { facts: order.map((f) => describeFactData(enc, f)), minimal };
}

/** The packages a fact is about: reaching one of them makes the fact next in an explanation. */
function subjectsOf(set: PackageSet, f: Fact): Iterable<number> {
  if (f.kind === 'depends' || f.kind === 'not-candidate') return [f.pv];
  if (f.kind === 'conflict') return [f.a, f.b];
  if (f.kind === 'one-version') return set.versionsOfNameId(f.nameId);
  return [];
}

/** A binary min-heap of small integers. */
class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(x: number): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= x) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = x;
  }
  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1]! < a[l]! ? l + 1 : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/** The request items a conflict is about (protect items excluded), and the names kept by the policy. */
export function conclusionOf(ex: Explanation): { requests: RequestItem[]; protected: string[] } {
  const requests: RequestItem[] = [];
  const protectedNames: string[] = [];
  for (const f of ex.facts) {
    if (f.kind === 'request') requests.push(f.item);
    else if (f.kind === 'protected') protectedNames.push(f.name);
  }
  return { requests, protected: protectedNames };
}
