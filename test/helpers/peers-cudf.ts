/**
 * CUDF problems made from a Debian archive, for comparing `rollwise cudf` with mccs and aspcud,
 * and an independent evaluation of CUDF criteria on solutions.
 *
 * The universe is the part of the archive the request reaches: the names asked for and the
 * installed ones, then every real version and every provider of each name met, following
 * Depends and Pre-Depends (and Recommends when asked), over every alternative.
 *
 * Debian → CUDF, exactly (the document is written with the importers' CUDF writer):
 * - versions: per name, the real versions and the versions given by `Provides: name (= v)`
 *   are sorted by dpkg's order and numbered 2..k; number 1 stands for an unversioned Provides;
 * - a versioned atom becomes the explicit list of the numbers that satisfy it under Debian's
 *   rules (`name = 3 | name = 4`), so an unversioned Provides (number 1) never satisfies it,
 *   as in Debian; an unversioned atom stays `name` (every real version and every provider);
 *   `:any` accepts real versions with `Multi-Arch: allowed` and any provider; another
 *   architecture qualifier matches nothing in an amd64 archive;
 * - Depends and Pre-Depends → depends; Conflicts and Breaks → conflicts (a package never
 *   conflicts with itself in CUDF either); one version per name → each real version
 *   conflicts with the other real versions of its name (`name = j`);
 * - the installed state → `installed: true` (Essential installed packages get `keep: package`).
 * A versioned Provides whose number coincides with a real version's number would make the
 * one-version rule hit the provider too: such collisions are counted in `collisions` (tests
 * assert none).
 */
import { writeCudf, type Alternatives, type CudfDocument, type CudfPackage, type PackageAtom, type PackageRecord } from '../../src/kb/index.js';
import { compareDebian, relationHolds } from '../../src/versions/index.js';

export interface CudfFromDebianRequest {
  install?: readonly string[];
  remove?: readonly string[];
  /** Names (at their archive versions) installed before the request. */
  installed?: readonly string[];
  /** Follow Recommends and write them as the `recommends` property. */
  recommends?: boolean;
  /** The whole archive (every amd64/all package), as apt-cudf hands a solver, not only what the request reaches. */
  whole?: boolean;
}

export interface CudfFromDebian {
  text: string;
  /** name → Debian version → CUDF number. */
  numbers: Map<string, Map<string, number>>;
  /** CUDF `name=number` → the Debian record. */
  recordOf: Map<string, PackageRecord>;
  packages: number;
  collisions: number;
}

export function createCudfFromDebian(records: readonly PackageRecord[], request: CudfFromDebianRequest): CudfFromDebian {
  const byName = new Map<string, PackageRecord[]>();
  const providers = new Map<string, PackageRecord[]>();
  for (const r of records) {
    if (r.architecture !== 'amd64' && r.architecture !== 'all') continue;
    byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
    for (const p of r.provides) providers.set(p.name, [...(providers.get(p.name) ?? []), r]);
  }
  // closure over names
  const chosen = new Set<PackageRecord>();
  const seenNames = new Set<string>();
  const queue: string[] = [...(request.install ?? []), ...(request.remove ?? []), ...(request.installed ?? []), ...(request.whole ? byName.keys() : [])];
  while (queue.length > 0) {
    const n = queue.pop()!;
    if (seenNames.has(n)) continue;
    seenNames.add(n);
    for (const r of [...(byName.get(n) ?? []), ...(providers.get(n) ?? [])]) {
      if (chosen.has(r)) continue;
      chosen.add(r);
      const fields = [r.depends, r.preDepends, ...(request.recommends ? [r.recommends] : [])];
      for (const f of fields) for (const alts of f) for (const a of alts) if (!seenNames.has(a.name)) queue.push(a.name);
    }
  }
  const universe = [...chosen];
  // numbering: real and provided versions of every name
  const versionsOf = new Map<string, string[]>();
  const addVersion = (name: string, v: string) => {
    const list = versionsOf.get(name) ?? [];
    if (!list.some((x) => compareDebian(x, v) === 0)) list.push(v);
    versionsOf.set(name, list);
  };
  for (const r of universe) {
    addVersion(r.name, r.version);
    for (const p of r.provides) if (p.version !== undefined) addVersion(p.name, p.version);
  }
  const numbers = new Map<string, Map<string, number>>();
  for (const [name, list] of versionsOf) {
    list.sort(compareDebian);
    numbers.set(name, new Map(list.map((v, i) => [v, i + 2])));
  }
  const numberOf = (name: string, v: string): number => {
    const m = numbers.get(name)!;
    const exact = m.get(v);
    if (exact !== undefined) return exact;
    for (const [x, i] of m) if (compareDebian(x, v) === 0) return i;
    throw new Error(`no CUDF number for ${name} ${v}`);
  };
  const inUniverse = new Map<string, PackageRecord[]>();
  const provInUniverse = new Map<string, PackageRecord[]>();
  for (const r of universe) {
    inUniverse.set(r.name, [...(inUniverse.get(r.name) ?? []), r]);
    for (const p of r.provides) provInUniverse.set(p.name, [...(provInUniverse.get(p.name) ?? []), r]);
  }
  /** The CUDF atoms equivalent to a Debian atom (empty: nothing satisfies it). */
  const translate = (a: PackageAtom): PackageAtom[] => {
    const q = a.archQualifier;
    if (q && q !== 'any' && q !== 'native' && q !== 'amd64') return [];
    if (!a.op && q !== 'any') return inUniverse.has(a.name) || provInUniverse.has(a.name) ? [{ name: a.name }] : [];
    const nums = new Set<number>();
    for (const r of inUniverse.get(a.name) ?? []) {
      if (q === 'any' && r.multiArch !== 'allowed') continue;
      if (!a.op || relationHolds(compareDebian(r.version, a.version!), a.op)) nums.add(numberOf(r.name, r.version));
    }
    for (const r of provInUniverse.get(a.name) ?? []) {
      for (const p of r.provides) {
        if (p.name !== a.name) continue;
        if (!a.op) nums.add(p.version === undefined ? 1 : numberOf(p.name, p.version));
        else if (p.version !== undefined && relationHolds(compareDebian(p.version, a.version!), a.op)) nums.add(numberOf(p.name, p.version));
      }
    }
    return [...nums].sort((x, y) => x - y).map((i) => ({ name: a.name, op: '=' as const, version: String(i) }));
  };
  const installed = new Set(request.installed ?? []);
  let collisions = 0;
  const recordOf = new Map<string, PackageRecord>();
  const packages: CudfPackage[] = [];
  const sorted = universe.slice().sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : compareDebian(x.version, y.version)));
  for (const r of sorted) {
    const own = numberOf(r.name, r.version);
    recordOf.set(`${r.name}=${own}`, r);
    const depends: Alternatives[] = [...r.preDepends, ...r.depends].map((alts) => alts.flatMap(translate));
    const conflicts: PackageAtom[] = [...r.conflicts, ...r.breaks].flatMap(translate);
    for (const other of inUniverse.get(r.name) ?? []) {
      if (other === r) continue;
      const j = numberOf(other.name, other.version);
      if (j === own) continue;
      conflicts.push({ name: r.name, op: '=', version: String(j) });
      for (const p of provInUniverse.get(r.name) ?? []) {
        if (p.provides.some((x) => x.name === r.name && x.version !== undefined && numberOf(r.name, x.version) === j)) collisions++;
      }
    }
    const provides = r.provides.map((p) => (p.version === undefined ? { name: p.name, version: '1' } : { name: p.name, version: String(numberOf(p.name, p.version)) }));
    const properties: Record<string, string> = {};
    let recommends: Alternatives[] = [];
    if (request.recommends && r.recommends.length > 0) {
      recommends = r.recommends.map((alts) => alts.flatMap(translate)).filter((alts) => alts.length > 0);
      if (recommends.length > 0) properties.recommends = recommends.map((alts) => alts.map((x) => (x.op ? `${x.name} = ${x.version}` : x.name)).join(' | ')).join(', ');
    }
    const isInstalled = installed.has(r.name) && (inUniverse.get(r.name) ?? []).length > 0 && r === newestOf(inUniverse.get(r.name)!);
    packages.push({
      name: r.name,
      version: String(own),
      depends,
      conflicts,
      provides,
      installed: isInstalled,
      wasInstalled: false,
      keep: isInstalled && r.essential ? 'package' : 'none',
      recommends,
      properties,
      line: 0,
    });
  }
  const doc: CudfDocument = {
    file: 'generated.cudf',
    // mccs rejects a preamble without a property line: write one only when declaring recommends
    ...(request.recommends ? { preamble: { id: '', properties: [{ name: 'recommends', type: 'vpkgformula', default: 'true!' }], fields: {}, line: 1 } } : {}),
    packages,
    request: {
      id: 'rollwise-peers',
      install: (request.install ?? []).map((name) => ({ name })),
      remove: (request.remove ?? []).map((name) => ({ name })),
      upgrade: [],
      properties: {},
      line: 0,
    },
  };
  return { text: writeCudf(doc), numbers, recordOf, packages: packages.length, collisions };
}

function newestOf(rs: readonly PackageRecord[]): PackageRecord {
  return rs.reduce((a, b) => (compareDebian(a.version, b.version) >= 0 ? a : b));
}

// ---- criteria, evaluated independently on CUDF texts ---------------------------------------

interface Stanza {
  name: string;
  version: number;
  installed: boolean;
  /** `provides` atoms: name and version (undefined: every version). */
  provides: Array<{ name: string; version: number | undefined }>;
  /** `recommends` clauses of atoms `name [op version]`. */
  recommends: CudfAtom[][];
}

interface CudfAtom {
  name: string;
  op?: string;
  version?: number;
}

function readAtom(text: string): CudfAtom {
  const m = /^\s*(\S+)\s*(?:(<=|>=|!=|=|<|>)\s*(\d+))?\s*$/.exec(text);
  if (!m) throw new Error(`not a CUDF atom: '${text}'`);
  return m[2] ? { name: m[1]!, op: m[2], version: Number(m[3]) } : { name: m[1]! };
}

function field(block: string, name: string): string | undefined {
  return new RegExp(`^${name}: *(.*(?:\\n .*)*)`, 'm').exec(block)?.[1]?.replace(/\n /g, ' ');
}

/** The package stanzas of a CUDF text (name, version, installed, provides, recommends). */
export function readCudfStanzas(text: string): Stanza[] {
  const out: Stanza[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const name = /^package: *(\S+)/m.exec(block)?.[1];
    if (!name) continue;
    const version = Number(/^version: *(\d+)/m.exec(block)?.[1] ?? NaN);
    const provides = (field(block, 'provides') ?? '').split(',').filter((x) => x.trim()).map((x) => {
      const a = readAtom(x);
      return { name: a.name, version: a.version };
    });
    const rec = field(block, 'recommends');
    const recommends = rec && rec.trim() !== 'true!' ? rec.split(',').map((c) => c.split('|').map(readAtom)) : [];
    out.push({ name, version, installed: /^installed: *true/m.test(block), provides, recommends });
  }
  return out;
}

const holdsNum = (a: number, op: string, b: number): boolean =>
  op === '=' ? a === b : op === '!=' ? a !== b : op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;

function satisfiedBy(installed: readonly Stanza[], a: CudfAtom): boolean {
  return installed.some(
    (p) =>
      (p.name === a.name && (!a.op || holdsNum(p.version, a.op, a.version!))) ||
      p.provides.some((q) => q.name === a.name && (!a.op || q.version === undefined || holdsNum(q.version, a.op, a.version!))),
  );
}

export interface CriteriaValues {
  removed: number;
  new: number;
  changed: number;
  notuptodate: number;
  /** Recommends clauses of installed packages that the solution leaves unsatisfied (providers count). */
  unmet_recommends: number;
}

/**
 * CUDF criteria (as mccs and aspcud define them) of a solution for a problem: removed (names
 * installed before, none after), new (none before, some after), changed (names whose set of
 * installed versions differs), notuptodate (names installed after without their newest version),
 * unmet_recommends (recommends clauses of the packages installed after that nothing installed
 * satisfies, as mccs' nunsat[recommends:,true] and aspcud's unsat_recommends(solution)).
 */
export function evaluateCriteria(problemText: string, solutionText: string): CriteriaValues {
  const problem = readCudfStanzas(problemText);
  const newest = new Map<string, number>();
  const before = new Map<string, Set<number>>();
  for (const p of problem) {
    newest.set(p.name, Math.max(newest.get(p.name) ?? 0, p.version));
    if (p.installed) before.set(p.name, (before.get(p.name) ?? new Set()).add(p.version));
  }
  const after = new Map<string, Set<number>>();
  for (const p of readCudfStanzas(solutionText)) {
    if (p.installed) after.set(p.name, (after.get(p.name) ?? new Set()).add(p.version));
  }
  // the solution lists name and version only: take relations from the problem's stanzas
  const installedAfter = problem.filter((p) => after.get(p.name)?.has(p.version));
  let unmet = 0;
  for (const p of installedAfter) for (const clause of p.recommends) if (!clause.some((a) => satisfiedBy(installedAfter, a))) unmet++;
  const names = new Set([...before.keys(), ...after.keys()]);
  const v: CriteriaValues = { removed: 0, new: 0, changed: 0, notuptodate: 0, unmet_recommends: unmet };
  for (const n of names) {
    const b = before.get(n);
    const a = after.get(n);
    if (b && !a) v.removed++;
    if (!b && a) v.new++;
    if (!b || !a || b.size !== a.size || [...b].some((x) => !a.has(x))) v.changed++;
    if (a && !a.has(newest.get(n) ?? -1)) v.notuptodate++;
  }
  return v;
}

export function criteriaVector(v: CriteriaValues, list: string): number[] {
  return list.split(',').map((c) => v[c.trim().slice(1) as keyof CriteriaValues]);
}
