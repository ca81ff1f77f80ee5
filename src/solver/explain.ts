/**
 * Explanations for requests without a solution: a minimal unsatisfiable set of facts (MUS),
 * as data and as text a person can act on.
 *
 * Technique: the request is encoded again with one selector literal per fact (encode.ts);
 * solving under all selectors gives a failed-assumption core, which deletion-based
 * minimisation shrinks to a MUS: each fact of the core is tried without; if the rest is still
 * unsatisfiable the fact is dropped (and the new, often smaller, core replaces the rest),
 * otherwise it is necessary. The result is minimal: taking away any one fact makes the request
 * solvable. The facts are then ordered as a chain from the request items through the
 * dependencies they pull in, and rendered in the request's and the packages' own terms.
 */
import { factKey, type Encoding, type Fact } from './encode.js';
import { formatItem } from './request.js';

export interface ExplanationFact {
  /**
   * 'request' for the operator's request items (an explicit hold included); 'protected' for an
   * installed package the policy keeps (a `protect` item: nothing removed that was not asked for).
   */
  kind: Fact['kind'] | 'protected';
  /** Stable key of the fact (used by resolutions). */
  key: string;
  text: string;
  /** Package (name and version) the fact is about, when there is one. */
  package?: { name: string; version: string };
  /** Request item index for request facts. */
  requestIndex?: number;
}

export interface Explanation {
  /** The minimal set of facts, ordered as a chain from the request. */
  facts: ExplanationFact[];
  /** Human-readable summary: the chain, then the conclusion. */
  text: string;
  /** True when the set was proven minimal (the budget did not run out). */
  minimal: boolean;
}

export function describeFact(enc: Encoding, f: Fact): string {
  const set = enc.set;
  switch (f.kind) {
    case 'request':
      if (f.item.kind === 'protect') return describeProtected(enc, f.item.name);
      return `the request asks to ${formatItem(f.item)}${describeRequestContext(enc, f)}`;
    case 'depends': {
      const cands = (f.field === 'depends' ? set.depends(f.pv) : set.preDepends(f.pv))[f.clause]!;
      const verb = f.field === 'depends' ? 'depends on' : 'pre-depends on';
      const tail = cands.length === 0 ? ', which no available package satisfies' : '';
      return `${set.label(f.pv)} ${verb} ${set.clauseText(f.pv, f.field, f.clause)}${tail}`;
    }
    case 'conflict':
      return `${set.label(f.a)} ${set.conflictAtomText(f.a, f.b).replace(/^breaks with/, 'breaks')}${conflictTarget(enc, f.a, f.b)}`;
    case 'one-version':
      return `only one version of ${set.names[f.nameId]} can be installed at a time`;
    case 'essential':
      return `${set.names[f.nameId]} is installed and essential (or Priority: required), so it is kept`;
    case 'not-candidate':
      return `${set.label(f.pv)} cannot be installed on this host: ${f.reason}`;
  }
}

function describeProtected(enc: Encoding, name: string): string {
  const set = enc.set;
  const inst = Array.from(set.versionsOf(name)).filter((pv) => enc.installed[pv]);
  return `${name} ${inst.map((pv) => set.versionOf(pv)).join(', ')} is installed and may not be removed unless allowed`;
}

function conflictTarget(enc: Encoding, _a: number, b: number): string {
  return ` (${enc.set.label(b)})`;
}

function describeRequestContext(enc: Encoding, f: Extract<Fact, { kind: 'request' }>): string {
  const set = enc.set;
  if (f.item.kind === 'install' || f.item.kind === 'upgrade') {
    const item = f.item;
    const cands = set.candidates(item.op ? { name: item.name, op: item.op, version: item.version! } : { name: item.name });
    if (cands.length === 0) {
      const own = Array.from(set.versionsOf(item.name), (pv) => set.versionOf(pv));
      if (own.length > 0) return `, but no available version matches (available: ${own.slice(0, 5).join(', ')}${own.length > 5 ? ', ...' : ''})`;
      return set.isProvided(item.name) ? ', but no provider matches the version' : ', but no package of that name is available';
    }
  }
  if (f.item.kind === 'hold') {
    const inst = Array.from(set.versionsOf(f.item.name)).filter((pv) => enc.installed[pv]);
    return inst.length ? ` (installed: ${inst.map((pv) => set.versionOf(pv)).join(', ')})` : ' (not installed)';
  }
  return '';
}

function factPackage(enc: Encoding, f: Fact): { name: string; version: string } | undefined {
  const pv = f.kind === 'depends' || f.kind === 'not-candidate' ? f.pv : f.kind === 'conflict' ? f.a : -1;
  if (pv < 0) return undefined;
  return { name: enc.set.nameOf(pv), version: enc.set.versionOf(pv) };
}

/**
 * Computes a MUS over the facts of a selector encoding whose all-selectors solve is UNSAT.
 * Returns fact indexes (into enc.facts).
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
  // deletion-based minimisation with clause-set refinement
  let i = 0;
  while (i < core.length) {
    const without = core.slice(0, i).concat(core.slice(i + 1));
    const rr = engine.solve({ assumptions: without, deadline });
    if (rr === 'unsat') {
      // facts before i were proven necessary; the rest shrinks to the new core
      const inCore = new Set(engine.core);
      core = core.slice(0, i).concat(core.slice(i + 1).filter((a) => inCore.has(a)));
    } else if (rr === 'sat') {
      i++;
    } else {
      minimal = false;
      break;
    }
  }
  return { facts: core.map((a) => selToFact.get(a)!), minimal };
}

/** Orders MUS facts as a chain from the request items, then renders them. */
export function buildExplanation(enc: Encoding, factIdx: number[], minimal: boolean): Explanation {
  const set = enc.set;
  const facts = factIdx.map((i) => enc.facts[i]!);
  // order: request facts first, then by BFS over "fact mentions a package reached by an earlier fact"
  const reached = new Set<number>();
  const order: Fact[] = [];
  const remaining = new Set(facts);
  const touch = (f: Fact) => {
    if (f.kind === 'request') {
      const it = f.item;
      if ('name' in it) for (const pv of set.versionsOf(it.name)) reached.add(pv);
      if ((it.kind === 'install' || it.kind === 'upgrade') && 'name' in it) for (const pv of set.candidates({ name: it.name })) reached.add(pv);
    } else if (f.kind === 'depends') {
      for (const q of (f.field === 'depends' ? set.depends(f.pv) : set.preDepends(f.pv))[f.clause]!) reached.add(q);
    } else if (f.kind === 'conflict') {
      reached.add(f.a);
      reached.add(f.b);
    }
  };
  const requestFacts = facts.filter((f): f is Extract<Fact, { kind: 'request' }> => f.kind === 'request').sort((a, b) => a.index - b.index);
  for (const f of requestFacts) {
    order.push(f);
    remaining.delete(f);
    touch(f);
  }
  while (remaining.size > 0) {
    let picked: Fact | undefined;
    for (const f of remaining) {
      const pv = f.kind === 'depends' || f.kind === 'not-candidate' ? f.pv : f.kind === 'conflict' ? (reached.has(f.a) ? f.a : f.b) : -1;
      if (pv >= 0 && reached.has(pv)) {
        picked = f;
        break;
      }
      if (f.kind === 'one-version' && Array.from(set.versionsOfNameId(f.nameId)).some((q) => reached.has(q))) {
        picked = f;
        break;
      }
    }
    picked ??= remaining.values().next().value!;
    order.push(picked);
    remaining.delete(picked);
    touch(picked);
  }
  const out: ExplanationFact[] = order.map((f) => {
    const pkg = factPackage(enc, f);
    return {
      kind: f.kind === 'request' && f.item.kind === 'protect' ? 'protected' : f.kind,
      key: factKey(f),
      text: describeFact(enc, f),
      ...(pkg ? { package: pkg } : {}),
      ...(f.kind === 'request' ? { requestIndex: f.index } : {}),
    };
  });
  const protectedNames = order.flatMap((f) => (f.kind === 'request' && f.item.kind === 'protect' ? [f.item.name] : []));
  const lines = summariseChain(out.map((f) => f.text));
  const requests = order.filter((f): f is Extract<Fact, { kind: 'request' }> => f.kind === 'request' && f.item.kind !== 'protect');
  const keeping = protectedNames.length === 0 ? '' : ` while keeping ${protectedNames.join(', ')} installed`;
  const conclusion =
    requests.length === 0
      ? protectedNames.length === 0
        ? 'so the installed system itself is inconsistent'
        : `so ${protectedNames.join(', ')} cannot all stay installed`
      : requests.length === 1
        ? `so the request to ${formatItem(requests[0]!.item)} cannot be satisfied${keeping}`
        : `so these request items cannot all be satisfied together${keeping}: ${requests.map((r) => formatItem(r.item)).join('; ')}`;
  return { facts: out, text: `${lines.join(';\n')};\n${conclusion}${minimal ? '' : ' (explanation not proven minimal: time budget reached)'}`, minimal };
}

/** Long chains are summarised: the first steps and the last ones, with a count in between. */
export function summariseChain(lines: string[], keep = 10): string[] {
  if (lines.length <= keep + 2) return lines;
  const head = lines.slice(0, keep - 3);
  const tail = lines.slice(-3);
  return [...head, `... ${lines.length - head.length - tail.length} more dependency steps ...`, ...tail];
}
