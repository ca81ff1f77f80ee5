/**
 * CUDF 2.0 as an external solver speaks it (opam, the Mancoosi tools): read a problem
 * (universe with installed state and keep flags, plus install/remove/upgrade request), solve
 * it with CUDF semantics (no implicit one-version rule, features through provides) under
 * lexicographic criteria, and write the solution: every package installed afterwards, as
 * `package`/`version`/`installed: true` stanzas; or `FAIL` followed by the explanation.
 */
import { cudfToRecords, parseCudf, writeCudfSolution, type CudfDocument } from '../kb/importers/cudf.js';
import type { Alternatives, RelationOp } from '../kb/model.js';
import { RollwiseError } from '../shared/errors.js';
import { UniverseBuilder, createInstalledState, type InstalledState, type Universe } from '../universe/index.js';
import { PARANOID, type Criterion, type RequestItem, type SolverPolicy } from './request.js';
import { createUniverseProblem, solveRequest, type SolveOutcome } from './solve.js';

export type CudfOutcome =
  | { kind: 'solution'; text: string; outcome: SolveOutcome }
  | { kind: 'fail'; text: string; outcome: SolveOutcome | undefined };

export interface SolveCudfOptions {
  criteria?: Criterion[];
  file?: string;
  timeBudgetMs?: number;
}

const CUDF_OPS: Record<string, RelationOp> = { '=': '=', '!=': '!=', '<': '<<', '<=': '<=', '>': '>>', '>=': '>=' };

/** A CUDF vpkgformula (`a | b >= 2, c`) as clauses; `true!` clauses are dropped. */
export function parseCudfFormula(text: string, where: { file: string; line: number }): Alternatives[] {
  const out: Alternatives[] = [];
  for (const part of text.split(',')) {
    const t = part.trim();
    if (t === '' || t === 'true!') continue;
    if (t === 'false!') {
      out.push([]);
      continue;
    }
    out.push(
      t.split('|').map((a) => {
        const m = /^\s*([A-Za-z0-9+\-./@()%]+)\s*(?:(!=|<=|>=|=|<|>)\s*(\d+))?\s*$/.exec(a);
        if (!m) throw new RollwiseError('RW_CUDF_PARSE', `bad package formula '${a.trim()}' in recommends`, { position: { file: where.file, line: where.line, column: 1 } });
        return m[2] ? { name: m[1]!, op: CUDF_OPS[m[2]]!, version: m[3]! } : { name: m[1]! };
      }),
    );
  }
  return out;
}

/** The CUDF universe with the `recommends` property read as Recommends (for unmet_recommends). */
function buildCudfUniverse(doc: CudfDocument): { universe: Universe; installed: InstalledState } {
  const builder = new UniverseBuilder({ hostArch: 'all' });
  builder.addLayer({ name: `cudf:${doc.file.split('/').pop() ?? doc.file}`, source: doc.file, trust: 'distribution' });
  const records = cudfToRecords(doc);
  const seen = new Map<string, number>();
  doc.packages.forEach((p, i) => {
    const key = `${p.name}\u0000${p.version}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      throw new RollwiseError('RW_CUDF_PARSE', `package '${p.name}' version ${p.version} is defined twice (first at line ${prev})`, { position: { file: doc.file, line: p.line, column: 1 } });
    }
    seen.set(key, p.line);
    const rec = records[i]!;
    const recommends = p.properties['recommends'];
    if (recommends !== undefined) rec.recommends = parseCudfFormula(recommends, { file: doc.file, line: p.line });
    builder.addRecord(rec, { keep: p.keep });
  });
  const universe = builder.build();
  const installed = createInstalledState(universe, doc.packages.filter((p) => p.installed).map((p) => ({ name: p.name, version: p.version })), doc.file);
  return { universe, installed };
}

export function solveCudf(problemText: string, options: SolveCudfOptions = {}): CudfOutcome {
  const doc = parseCudf(problemText, options.file ?? '<stdin>');
  const request = doc.request;
  const { universe, installed } = buildCudfUniverse(doc);
  const problem = createUniverseProblem(universe, installed.pvs);
  const items: RequestItem[] = [];
  for (const pv of installed.pvs) {
    const keep = universe.keepOf(pv);
    if (keep === 'version' || keep === 'package' || keep === 'feature') items.push({ kind: 'keep', name: universe.nameOfPv(pv), version: universe.versionOf(pv), keep });
  }
  const atomItem = (kind: 'install' | 'remove' | 'upgrade', a: { name: string; op?: string; version?: string }): RequestItem =>
    a.op ? ({ kind, name: a.name, op: a.op, version: a.version! } as RequestItem) : { kind, name: a.name };
  for (const a of request?.install ?? []) items.push(atomItem('install', a));
  for (const a of request?.remove ?? []) items.push(atomItem('remove', a));
  for (const a of request?.upgrade ?? []) items.push(atomItem('upgrade', a));
  const criteria = options.criteria ?? PARANOID;
  const policy: SolverPolicy = { criteria, recommends: criteria.some((c) => c.name === 'unmet_recommends'), timeBudgetMs: options.timeBudgetMs ?? 60_000, maxResolutions: 0 };
  const outcome = solveRequest(problem, { items }, policy, { mode: 'cudf' });
  if (outcome.kind === 'solution') {
    const after = outcome.installedAfter.map((pv) => ({ name: universe.nameOfPv(pv), version: universe.versionOf(pv) }));
    const head = outcome.optimal ? '' : '# not proven optimal: the time budget ran out\n';
    return { kind: 'solution', text: head + writeCudfSolution(after), outcome };
  }
  const why = outcome.kind === 'conflict' ? outcome.explanation.text : outcome.message;
  return { kind: 'fail', text: `FAIL\n${why}\n`, outcome };
}
