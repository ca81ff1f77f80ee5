/**
 * CUDF 2.0 as an external solver speaks it (opam, the Mancoosi tools): read a problem
 * (universe with installed state and keep flags, plus install/remove/upgrade request), solve
 * it with CUDF semantics (no implicit one-version rule, features through provides) under
 * lexicographic criteria, and write the solution: every package installed afterwards, as
 * `package`/`version`/`installed: true` stanzas; or `FAIL` followed by the explanation.
 */
import { parseCudf, writeCudfSolution } from '../kb/index.js';
import { createCudfUniverse } from '../universe/index.js';
import { PARANOID, type Criterion, type RequestItem, type SolverPolicy } from './request.js';
import { createUniverseProblem, solveRequest, type SolveOutcome } from './solve.js';

/** The CUDF solution document when there is one; otherwise the outcome (the application writes `FAIL` and the explanation). */
export type CudfOutcome =
  | { kind: 'solution'; text: string; outcome: SolveOutcome }
  | { kind: 'fail'; outcome: Exclude<SolveOutcome, { kind: 'solution' }> };

export interface SolveCudfOptions {
  criteria?: Criterion[];
  file?: string;
  timeBudgetMs?: number;
}

export function solveCudf(problemText: string, options: SolveCudfOptions = {}): CudfOutcome {
  const doc = parseCudf(problemText, options.file ?? '<stdin>');
  const request = doc.request;
  const { universe, installed } = createCudfUniverse(doc);
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
  return { kind: 'fail', outcome };
}
