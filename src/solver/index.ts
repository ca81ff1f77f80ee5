/**
 * Public surface of the solver layer (see docs/ARCHITECTURE.md). Everything else in
 * src/solver/ is internal; src/solver/internal/ (the CDCL engine, the optimiser) is never
 * imported from outside this folder.
 *
 * ## Building a problem
 * - `createProblem(indexRecords, installedRecords?)` → `{ set, installed }`: the package set
 *   (interned names, versions newest first, relations resolved lazily with Debian Provides
 *   semantics) and the installed flags (`installed[pv] === 1`). Records come from the kb
 *   importers (Debian Packages, dpkg status, CUDF).
 *
 * - `createUniverseProblem(universe, installedPvs?)`: the same over the universe layer (ids are
 *   the universe's pvs; installed pvs from `createInstalledState(universe, entries).pvs`).
 *
 * ## Solving a request
 * - `solveRequest(problem, request, policy?, { mode: 'debian' | 'cudf' }?)` →
 *   - `{ kind: 'solution', transaction, reasons, criteria, optimal, installedAfter, stats }`:
 *     `transaction` is a list of `PackageChange` (`{ action, name, architecture?, from?, to?,
 *     debPath? }`, the one shape of a package change that plans store and host drivers apply);
 *     a solve gives only install|upgrade|downgrade|remove, always with `architecture`;
 *     `reasons['name=version']` is the chain that brought each added package in (request first); `criteria` the value of each criterion and whether it
 *     was proven optimal; `optimal` false when the time budget stopped the optimisation.
 *   - `{ kind: 'conflict', explanation, resolutions, stats }`: `explanation.facts` is a minimal
 *     set of facts (taking any one away makes the request solvable), as data ordered as a chain
 *     from the request (src/app/render/explanation.ts words them); `resolutions` are typed edits
 *     of the request: each resolution is `edits` (`choose-version`, `alternative`, `relax`,
 *     `allow-downgrade`, `skip`, `lift`, `allow-removal`) applied together, a minimal correction
 *     set over the request's relaxable items (repair.ts), solved again successfully, ranked by
 *     cost (edits, then removals, then changes); `resolutionSearch` says what ended the search
 *     (complete, count, time, size).
 *   - `{ kind: 'timeout', message, stats }` when no solution was found within the budget.
 * - `request.items`: `install|remove|upgrade` of `{ name, op?, version? }`, `upgrade-all`,
 *   `hold` (keep as installed), `pin` (`name op version` must hold for any installed version).
 * - `policy`: `criteria` (parse with `parseCriteria('paranoid' | 'trendy' | '-removed,-changed')`),
 *   `recommends` (default true), `isCandidate(pv, record) → true | { reason }` (environment
 *   requirements), `timeBudgetMs` (default 10 s), `isCancelled`, `maxResolutions` (default 3),
 *   `maxResolutionEdits` (the most edits one resolution combines, default 4).
 *   Default criteria: `-removed,-unmet_recommends,-changed,-notuptodate` (without recommends:
 *   `-removed,-changed,-notuptodate`), with requested upgrades honoured right after `-removed`.
 * - `parseRequestSpec('name' | 'name:arch' | 'name=ver' | 'name (>= 1.2)' | 'name>=1.2', where)`: the one
 *   relation grammar (src/kb/relations.ts); `<` and `>` mean `<=` and `>=` (a warning).
 *
 * ## Whole-archive installability
 * - `checkInstallable(set, options?)` → `{ broken: [{ pv, package, version, architecture,
 *   explanation }], checked, solves, ms }` with dose-distcheck's meaning (Essential packages
 *   installed together with each package checked, Breaks as Conflicts).
 *
 * ## Is an installed set consistent?
 * - `createInstalledSetConsistency(universe, set?)` → `check(pvs)` (`{ consistent, facts() }`: consistent
 *   when every Depends/Pre-Depends is met and no Conflicts/Breaks hold, else the explanation
 *   facts that say why) and
 *   `anchor(base).check(added, removed)`, which re-checks only what a change touches.
 *
 * ## apt's external solver protocol (EDSP 0.5)
 * - `createEdspProblem(scenario, { criteria?, timeBudgetMs? })` (scenario from the kb's `parseEdspScenario`):
 *   strict pinning as apt sent it, request items and apt-suited criteria; `solveEdsp(ep)`;
 *   `writeEdspSolution(ep, installedAfter)`, `edspProgress(pct, msg)`, `edspError(id, msg)`: the answer apt reads.
 *
 * ## CUDF
 * - `solveCudf(problemText, { criteria?, file?, timeBudgetMs? })` → `{ kind: 'solution', text, outcome } | { kind: 'fail', outcome }`:
 *   the CUDF solution document (every installed package stanza), or the outcome (conflict or timeout).
 */
export {
  parseCriteria,
  parseRequestSpec,
  formatCriteria,
  formatItem,
  formatSpec,
  PARANOID,
  TRENDY,
  DEFAULT_CRITERIA,
  DEFAULT_CRITERIA_WITH_RECOMMENDS,
  CRITERION_NAMES,
} from './request.js';
export type { Criterion, CriterionName, PackageSpec, RequestItem, SolveRequest, SolverPolicy, CandidateVerdict } from './request.js';
export { specName, installCandidates } from './encode.js';
export { createUniverseView, UniverseView } from './universe-view.js';
export type { PackageSet, RelationField } from './universe-view.js';
export { AptPolicy, aptExpressionMatches, createAptPolicy, createPolicyView, parseReleaseSpec, releaseMatches } from './policy.js';
export type { AptPin, AptPolicyInput, PinTarget, ReleaseSpec } from './policy.js';
export { assertRequestVersions, solveRequest, createProblem, createUniverseProblem, buildTransaction, effectiveCriteria } from './solve.js';
export type {
  Problem,
  SolveOutcome,
  SolutionOutcome,
  ConflictOutcome,
  TimeoutOutcome,
  PackageChange,
  ChangeAction,
  CriterionValue,
  SolveStats,
  SolveModeOptions,
} from './solve.js';
export { conclusionOf } from './explain.js';
export type { Explanation, ExplanationFact, ExplanationFactKind, PackageRef, UnmetRequest } from './explain.js';
export { checkInstallable } from './installable.js';
export { createInstalledSetConsistency } from './consistency.js';
export type { AnchoredConsistency, InstalledSetConsistency, SetProblems } from './consistency.js';
export { solveCudf } from './cudf.js';
export { createEdspProblem, solveEdsp, solveEdspScenario, writeEdspSolution, edspProgress, edspError, EDSP_INSTALL_CRITERIA, EDSP_UPGRADE_CRITERIA } from './edsp.js';
export type { EdspProblem, EdspSolveOptions } from './edsp.js';
export type { CudfOutcome, SolveCudfOptions } from './cudf.js';
export type { BrokenPackage, InstallabilityReport, CheckInstallableOptions } from './installable.js';
export type { Resolution, ResolutionCost, ResolutionEdit, ResolutionEditKind, ResolutionSearch } from './repair.js';
