/**
 * apt's External Dependency Solver Protocol (EDSP 0.5), solver side: an EDSP scenario's request
 * mapped onto this solver's request items and policy, and the answer written back as apt reads
 * it (Install/Remove/Autoremove stanzas by APT-ID, Progress and Error stanzas).
 *
 * Candidates and pins stay request data here, as apt sent them: with Strict-Pinning (the
 * default) the universe holds only the installed versions and apt's candidates, so no other
 * version can be chosen; without it the candidates are tried first and every version only when
 * they give no solution (then the criteria prefer the newest).
 * Criteria suit apt: fewest removals, then fewest changes, then newest (an upgrade of all:
 * fewest removals, then not up to date, then new packages); apt's `APT::Solver::Preferences`
 * (the scenario's Preferences field) overrides them in the criteria syntax `rollwise cudf`
 * reads, and Recommends count only when those criteria name them (`-unsat_recommends`).
 */
import { EDSP_AUTOMATIC, EDSP_CANDIDATE, EDSP_HOLD, EDSP_INSTALLED, type EdspScenario } from '../kb/index.js';
import { RollwiseError } from '../shared/index.js';
import { createEdspUniverse, type EdspUniverse, type Universe } from '../universe/index.js';
import { DEFAULT_CRITERIA, parseCriteria, type Criterion, type RequestItem, type SolveRequest, type SolverPolicy } from './request.js';
import { createUniverseProblem, solveRequest, type Problem, type SolveOutcome } from './solve.js';

/** Criteria for an install or remove request: the resolver's default (fewest removals, then changes, then newest). */
export const EDSP_INSTALL_CRITERIA: Criterion[] = DEFAULT_CRITERIA;
/** Criteria for an upgrade of everything (apt upgrade / full-upgrade). */
export const EDSP_UPGRADE_CRITERIA: Criterion[] = [
  { sign: '-', name: 'removed' },
  { sign: '-', name: 'notuptodate' },
  { sign: '-', name: 'new' },
  { sign: '-', name: 'changed' },
];

export interface EdspSolveOptions {
  /** Criteria that override both the defaults and the scenario's Preferences. */
  criteria?: Criterion[];
  timeBudgetMs?: number;
  /** Resolutions to look for when there is no solution (default 3). */
  maxResolutions?: number;
  /** Overrides the scenario's Strict-Pinning. */
  strictPinning?: boolean;
}

export interface EdspProblem {
  scenario: EdspScenario;
  edsp: EdspUniverse;
  problem: Problem;
  request: SolveRequest;
  policy: SolverPolicy;
  criteria: Criterion[];
}

/**
 * The solver's problem for a scenario. Errors: RW_USAGE when the Preferences cannot be used;
 * RW_UNKNOWN_PACKAGE when the request names a package the scenario does not have.
 */
export function createEdspProblem(scenario: EdspScenario, options: EdspSolveOptions = {}): EdspProblem {
  const { request: req, packages: p } = scenario;
  const strict = options.strictPinning ?? req.strictPinning;
  const edsp = createEdspUniverse(scenario, { include: strict ? (i) => (p.flags[i]! & (EDSP_INSTALLED | EDSP_CANDIDATE)) !== 0 : undefined });
  const { universe } = edsp;
  const problem = createUniverseProblem(universe, edsp.installedPvs);
  const installedNames = new Set<string>();
  for (const pv of edsp.installedPvs) installedNames.add(universe.nameOfPv(pv));

  const items: RequestItem[] = [];
  const requested = new Set<string>();
  const known = (name: string, arch?: string): boolean => {
    const id = universe.nameIdOfSpec(name, arch);
    return id >= 0 && (universe.versionsOf(id).length > 0 || universe.providersOf(universe.baseNameOf(id)).pvs.length > 0);
  };
  for (const t of [...req.install, ...req.remove]) {
    if (!known(t.name, t.arch) && !req.remove.includes(t)) {
      const everywhere = p.name.includes(t.name);
      throw new RollwiseError('RW_UNKNOWN_PACKAGE', `the request installs ${t.name}, which ${everywhere ? 'has no version apt offers as a candidate (strict pinning)' : 'the scenario does not have'}`, {
        position: t.position, hint: everywhere ? 'apt pins it away: change the pin, or set APT::Solver::Strict-Pinning "false"' : 'apt sent no package of that name',
      });
    }
  }
  for (const t of req.install) {
    const name = qualifiedName(universe, t.name, t.arch);
    requested.add(name);
    const qualifier = t.arch !== undefined && t.arch !== req.architecture && t.arch !== 'all' ? { archQualifier: t.arch } : {};
    // apt's `install X` of an installed X upgrades it to the candidate
    items.push({ kind: installedNames.has(name) ? 'upgrade' : 'install', name: t.name, ...qualifier });
  }
  for (const t of req.remove) {
    const name = qualifiedName(universe, t.name, t.arch);
    requested.add(name);
    items.push({ kind: 'remove', name });
  }
  for (let i = 0; i < p.count; i++) {
    const name = qualifiedName(universe, p.name[i]!, p.arch[i]);
    if ((p.flags[i]! & (EDSP_HOLD | EDSP_INSTALLED)) === (EDSP_HOLD | EDSP_INSTALLED) && !requested.has(name)) items.push({ kind: 'hold', name });
  }
  if (req.forbidRemove) for (const name of installedNames) if (!requested.has(name)) items.push({ kind: 'protect', name });

  let criteria = options.criteria;
  if (!criteria && req.preferences !== undefined) {
    try {
      criteria = parseCriteria(req.preferences);
    } catch (e) {
      if (e instanceof RollwiseError && req.preferencesPosition) throw new RollwiseError(e.code, `Preferences: ${e.message}`, { position: req.preferencesPosition, hint: e.hint });
      throw e;
    }
  }
  criteria ??= req.upgradeAll ? EDSP_UPGRADE_CRITERIA : EDSP_INSTALL_CRITERIA;
  const policy: SolverPolicy = {
    criteria,
    recommends: criteria.some((c) => c.name === 'unmet_recommends'),
    timeBudgetMs: options.timeBudgetMs ?? 60_000,
    maxResolutions: options.maxResolutions ?? 3,
  };
  if (req.forbidNewInstall) {
    policy.isCandidate = (pv) => (installedNames.has(universe.nameOfPv(pv)) || requested.has(universe.nameOfPv(pv)) ? true : { reason: 'apt forbids installing new packages in this request (Forbid-New-Install)' });
  }
  return { scenario, edsp, problem, request: { items }, policy, criteria };
}

/** The name a package of an architecture is kept under: `name:arch` for a foreign architecture (multiarch), else the name. */
function qualifiedName(universe: Universe, name: string, arch: string | undefined): string {
  return arch !== undefined && universe.foreignArchs.includes(arch) ? `${name}:${arch}` : name;
}

export function solveEdsp(ep: EdspProblem): SolveOutcome {
  return solveRequest(ep.problem, ep.request, ep.policy);
}

/**
 * Solve a scenario as EDSP asks: with Strict-Pinning, over the candidates only; without it, a
 * best effort for the candidates (apt's pins): the candidates-only problem first, and every
 * version only when that one has no solution. Returns the problem the outcome belongs to.
 */
export function solveEdspScenario(scenario: EdspScenario, options: EdspSolveOptions = {}): { ep: EdspProblem; outcome: SolveOutcome } {
  if (!(options.strictPinning ?? scenario.request.strictPinning)) {
    const strict = createEdspProblem(scenario, { ...options, strictPinning: true, maxResolutions: 0 });
    const first = solveEdsp(strict);
    if (first.kind === 'solution') return { ep: strict, outcome: first };
  }
  const ep = createEdspProblem(scenario, options);
  return { ep, outcome: solveEdsp(ep) };
}

/** Escape a text as a deb822 field value: continuation lines start with a space, empty ones are ` .`. */
function fieldValue(text: string): string {
  return text
    .replace(/\r/g, '')
    .split('\n')
    .map((l, i) => (i === 0 ? l : l.trim() === '' ? ' .' : ` ${l}`))
    .join('\n');
}

/**
 * The solution as apt reads it: an Install stanza (by APT-ID) for every version the solution
 * adds (an upgrade is only the install of the new version), a Remove stanza for every installed
 * package that goes, and, with `autoremove`, Autoremove stanzas for automatically installed
 * packages nothing manual needs any more (as Remove stanzas when apt asked for an autoremove).
 */
export function writeEdspSolution(ep: EdspProblem, after: readonly number[]): string {
  const { edsp, scenario } = ep;
  const { universe } = edsp;
  const p = scenario.packages;
  const installed = ep.problem.installed;
  const afterSet = new Uint8Array(universe.pvCount);
  for (const pv of after) afterSet[pv] = 1;
  const keyOf = (pv: number): string => `${universe.nameOfPv(pv)}:${universe.archOf(pv)}`;
  const keptKeys = new Set<string>();
  for (const pv of after) keptKeys.add(keyOf(pv));
  const out: string[] = [];
  const stanza = (field: string, pv: number): void => {
    const i = edsp.packageOfPv[pv]!;
    out.push(`${field}: ${p.id[i]}\nPackage: ${p.name[i]}\nVersion: ${p.version[i]}\nArchitecture: ${p.arch[i]}\n`);
  };
  for (const pv of after) if (!installed[pv]) stanza('Install', pv);
  for (const pv of edsp.installedPvs) if (!afterSet[pv] && !keptKeys.has(keyOf(pv))) stanza('Remove', pv);
  if (scenario.request.autoremove) for (const pv of unneededAutomatic(ep, after)) stanza('Remove', pv);
  else for (const pv of unneededAutomatic(ep, after)) stanza('Autoremove', pv);
  return out.join('\n');
}

/**
 * Installed-after versions marked automatic (APT-Automatic) that no manual package reaches by
 * Pre-Depends, Depends or Recommends; never an Essential or Priority: required one.
 */
function unneededAutomatic(ep: EdspProblem, after: readonly number[]): number[] {
  const { edsp, scenario } = ep;
  const flags = scenario.packages.flags;
  const set = ep.problem.set;
  const automatic = (pv: number): boolean => {
    const i = edsp.packageOfPv[pv]!;
    // a version newly installed by this solution is automatic unless the request named it
    if (!ep.problem.installed[pv]) return !scenario.request.install.some((t) => qualifiedName(edsp.universe, t.name, t.arch) === set.nameOf(pv));
    return (flags[i]! & EDSP_AUTOMATIC) !== 0;
  };
  if (!after.some(automatic)) return [];
  const inAfter = new Set(after);
  const reached = new Set<number>();
  const queue: number[] = [];
  for (const pv of after) if (!automatic(pv)) { reached.add(pv); queue.push(pv); }
  for (let k = 0; k < queue.length; k++) {
    const pv = queue[k]!;
    for (const clauses of [set.preDepends(pv), set.depends(pv), set.recommends(pv)]) {
      for (const cands of clauses) {
        for (const q of cands) {
          if (inAfter.has(q) && !reached.has(q)) { reached.add(q); queue.push(q); }
        }
      }
    }
  }
  return after.filter((pv) => !reached.has(pv) && ep.problem.installed[pv] === 1 && !set.isEssentialOrRequired(pv));
}

/** A Progress stanza (RFC 2822 time in UTC, a percentage, a message). */
export function edspProgress(percentage: number, message: string, now: Date = new Date()): string {
  return `Progress: ${now.toUTCString().replace('GMT', '+0000')}\nPercentage: ${Math.max(0, Math.min(100, Math.round(percentage)))}\nMessage: ${fieldValue(message)}\n\n`;
}

/** An Error stanza: the first line of `message` is apt's short message, the rest its details. */
export function edspError(id: string, message: string): string {
  return `Error: ${id}\nMessage: ${fieldValue(message)}\n\n`;
}
