/**
 * Small random Debian universes for the resolver's property tests (fast-check): names p0..pN-1
 * with 1–3 of the versions 1, 2, 3, virtual names v0 and v1, installed, Essential or Priority:
 * required names, and requests that install, remove and hold; built into the solver's problem
 * and the brute-force universe of ./brute-force.ts side by side.
 */
import fc from 'fast-check';
import type { PackageAtom, PackageRecord, Provision, RelationOp } from '../../../src/kb/index.js';
import { createEmptyRecord } from '../../../src/kb/index.js';
import { createUniverse } from '../../../src/universe/index.js';
import { createUniverseProblem, parseCriteria, solveRequest, type RequestItem, type SolveOutcome, type SolverPolicy } from '../../../src/solver/index.js';
import { createBruteUniverse, type BruteUniverse } from './brute-force.js';

export const VERSIONS = ['1', '2', '3'];
export const OPS: Array<RelationOp | undefined> = [undefined, undefined, '>=', '<<', '=', '>>'];
export const CRITERIA = ['-removed,-changed', '-removed,-changed,-notuptodate', '-removed,-notuptodate,-new', '-new,-removed,-changed'];

export interface RawAtom { target: number; op: number; version: number }
export interface RawVersion { depends: RawAtom[][]; conflicts: RawAtom[]; provides: Array<{ target: number; version: number }> }
export interface RawName { versions: boolean[]; rels: RawVersion[]; installed: number; essential: number }
export interface RawCase { names: RawName[]; request: Array<{ kind: number; target: number; op: number; version: number }>; criteria: number }

const rawAtom = fc.record({ target: fc.nat(7), op: fc.nat(OPS.length - 1), version: fc.nat(2) });
const rawVersion = fc.record({
  depends: fc.array(fc.array(rawAtom, { minLength: 1, maxLength: 2 }), { maxLength: 2 }),
  conflicts: fc.array(rawAtom, { maxLength: 1 }),
  provides: fc.array(fc.record({ target: fc.nat(1), version: fc.nat(3) }), { maxLength: 1 }),
});
const rawName = fc.record({
  versions: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  rels: fc.array(rawVersion, { minLength: 3, maxLength: 3 }),
  installed: fc.nat(3),
  /** 0: plain; 1: Essential: yes; 2: Priority: required (only for installed names, mostly plain). */
  essential: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
});
/** Random cases with 1 to `maxItems` request items (install, remove, hold). */
export function rawCaseWith(options: { maxItems: number }): fc.Arbitrary<RawCase> {
  return fc.record({
    names: fc.array(rawName, { minLength: 3, maxLength: 6 }),
    request: fc.array(fc.record({ kind: fc.nat(4), target: fc.nat(7), op: fc.nat(OPS.length - 1), version: fc.nat(2) }), { minLength: 1, maxLength: options.maxItems }),
    criteria: fc.nat(CRITERIA.length - 1),
  });
}

export const rawCase: fc.Arbitrary<RawCase> = rawCaseWith({ maxItems: 2 });

export interface Case {
  records: PackageRecord[];
  installed: Array<{ name: string; version: string }>;
  items: RequestItem[];
  criteria: string;
}

/** Real names p0..pN-1 (each with 1–3 of the versions 1, 2, 3) and virtual names v0, v1. */
export function buildCase(raw: RawCase): Case {
  const n = raw.names.length;
  const nameOf = (t: number) => (t % (n + 2) < n ? `p${t % (n + 2)}` : `v${(t % (n + 2)) - n}`);
  const atomOf = (a: RawAtom): PackageAtom => {
    const op = OPS[a.op];
    return op ? { name: nameOf(a.target), op, version: VERSIONS[a.version]! } : { name: nameOf(a.target) };
  };
  const records: PackageRecord[] = [];
  const installed: Array<{ name: string; version: string }> = [];
  raw.names.forEach((rn, i) => {
    const versions = VERSIONS.filter((_, k) => rn.versions[k]);
    if (versions.length === 0) versions.push(VERSIONS[i % 3]!);
    versions.forEach((v, k) => {
      const rel = rn.rels[k]!;
      const r = createEmptyRecord(`p${i}`, v, 'amd64', { layer: 'property', source: 'fast-check' });
      r.depends = rel.depends.map((alts) => alts.map(atomOf));
      r.conflicts = rel.conflicts.map(atomOf).filter((a) => a.name !== r.name || a.op !== undefined);
      r.provides = rel.provides.map((p): Provision => (p.version === 3 ? { name: `v${p.target}` } : { name: `v${p.target}`, version: VERSIONS[p.version]! }));
      if (rn.essential === 1) r.essential = true;
      if (rn.essential === 2) r.priority = 'required';
      records.push(r);
    });
    if (rn.installed > 0 && rn.installed <= versions.length) installed.push({ name: `p${i}`, version: versions[rn.installed - 1]! });
  });
  const items: RequestItem[] = raw.request.map((q) => {
    const name = `p${q.target % n}`;
    const op = OPS[q.op];
    const spec = op ? { name, op, version: VERSIONS[q.version]! } : { name };
    return q.kind === 0 ? { kind: 'remove', name } : q.kind === 4 ? { kind: 'hold', name } : { kind: 'install', ...spec };
  });
  return { records, installed, items, criteria: CRITERIA[raw.criteria]! };
}

export interface Built {
  u: BruteUniverse;
  before: number[];
  solve: (items: RequestItem[], maxResolutions?: number, policy?: Partial<SolverPolicy>) => SolveOutcome;
}

export function build(c: Case): Built {
  const universe = createUniverse(c.records.map((r) => structuredClone(r)));
  const before = c.installed.map((e) => universe.findPv(e.name, e.version, 'amd64'));
  const u = createBruteUniverse(universe, c.records, before);
  const problem = createUniverseProblem(universe, before);
  const criteria = parseCriteria(c.criteria);
  return { u, before, solve: (items, maxResolutions = 3, policy = {}) => solveRequest(problem, { items }, { criteria, recommends: false, timeBudgetMs: 20_000, maxResolutions, ...policy }) };
}
