/**
 * The GroupSolver over the real resolver: one universe for the whole fleet (the knowledge base's
 * layers plus a fill layer of installed versions no layer has: src/universe/knowledge-base.ts),
 * and per group only an installed-flags array, so relation lookups cached by the solver's view
 * are shared by every group. Environment requirements are enforced through the solver's
 * candidate check: a version whose requirement a group does not meet is not a candidate there,
 * and the explanation says why.
 */
import { createEmptyRecord, type PackageRecord } from '../kb/index.js';
import { countFilled, type Universe } from '../universe/index.js';
import { assertRequestVersions, createUniverseView, installCandidates, solveRequest, specName, type Explanation, type PackageChange, type PackageSet, type Problem, type RequestItem, type SolverPolicy, type Resolution } from '../solver/index.js';
import { createAptViews, evaluateCondition, factsFromValues, installedSpecName, type InstalledPackage, type FactName } from '../fleet/index.js';
import type { GroupSolver, GroupSolveInput, GroupSolveOutcome } from './plan.js';
import type { AppliedChoice, HeldBackFinding, PlanExplanation, PlanResolutionEdit, ResolvedLessFinding, ShortfallFinding } from './model.js';

import { requireNoRelease, type PlanRequest } from './request.js';
import { createSolveSharing } from './projection.js';
import type { EnvironmentRules, RequirementRule } from './rules.js';

export interface FleetSolverOptions {
  /** The knowledge base's universe; it must already hold the fleet's installed versions (KbUniverse.withFill(installedFillRecords(...))). */
  universe: Universe;
  rules?: EnvironmentRules;
  /** Refuse candidates whose environment requirement a group does not meet (default true). */
  enforceRequirements?: boolean;
  policy?: SolverPolicy;
}

export interface FleetSolver extends GroupSolver {
  readonly set: PackageSet;
  /** Package versions added because some host has them installed but no layer does. */
  readonly addedInstalled: number;
}

function key(name: string, version: string, arch: string): string {
  return `${name}\u0000${version}\u0000${arch}`;
}

/**
 * Records of the fleet's installed versions, each distinct name+version+architecture once: the
 * dpkg status record (with its relations) when one is given, else an empty record. The universe's
 * fill layer keeps only those no layer has.
 */
export function installedFillRecords(installedSets: Iterable<readonly InstalledPackage[]>, installedRecords: readonly PackageRecord[] = []): PackageRecord[] {
  const fromStatus = new Map<string, PackageRecord>();
  for (const r of installedRecords) fromStatus.set(key(r.name, r.version, r.architecture), r);
  const seenSets = new Set<readonly InstalledPackage[]>();
  const done = new Set<string>();
  const out: PackageRecord[] = [];
  for (const set of installedSets) {
    if (seenSets.has(set)) continue;
    seenSets.add(set);
    for (const p of set) {
      const k = key(p.name, p.version, p.architecture);
      if (done.has(k)) continue;
      done.add(k);
      out.push(fromStatus.get(k) ?? createEmptyRecord(p.name, p.version, p.architecture, { layer: 'installed', source: 'dpkg status', trust: 'observed' }));
    }
  }
  return out;
}

export function createFleetSolver(options: FleetSolverOptions): FleetSolver {
  const u = options.universe;
  return createSolverOver(createUniverseView(u), (p) => u.findInstalledPv(p.name, p.version, p.architecture), countFilled(u), options);
}

/**
 * Where the solution does less than the request asked: for each install or upgrade of a real
 * package, the newest version matching the item; when the group ends up with an older one (or
 * keeps its installed version), a held-back finding whose reason is the solver's own: the
 * request solved again with that newest version asked for exactly (a conflict: its facts), or,
 * when that solves, the extra changes it would take. When the request is the plan's request
 * edited by chosen resolutions, also every item of the plan's request the group no longer
 * meets (resolvedLess), which takes the place of a held-back finding on the same package.
 */
function findShortfalls(problem: Problem, input: GroupSolveInput, changes: readonly PackageChange[], policy: SolverPolicy, nameOf: (p: InstalledPackage) => string, candidateOf?: (name: string) => number): ShortfallFinding[] {
  const { set } = problem;
  const out: HeldBackFinding[] = [];
  // keyed by the resolver's names (`libc6` and `libc6:i386` apart), as changes and items name them
  const installedOf = new Map(input.installed.map((p) => [nameOf(p), p.version]));
  const after = new Map(installedOf);
  for (const c of changes) {
    if (c.action === 'remove' || c.action === 'purge') after.delete(c.name);
    else if (c.to !== undefined) after.set(c.name, c.to);
  }
  input.request.items.forEach((item, index) => {
    if (item.kind !== 'install' && item.kind !== 'upgrade') return;
    const name = specName(item);
    const matching = Array.from(set.versionsOf(name)).filter((pv) => set.satisfies(pv, item.op, item.version));
    const newestPv = matching[0];
    const have = after.get(name);
    if (newestPv === undefined || have === undefined) return;
    const newest = set.versionOf(newestPv);
    const havePv = matching.find((pv) => set.versionOf(pv) === have) ?? Array.from(set.versionsOf(name)).find((pv) => set.versionOf(pv) === have);
    if (have === newest || (havePv !== undefined && set.comparePvs(havePv, newestPv) >= 0)) return;
    const items = input.request.items.slice();
    items[index] = { kind: 'install', name: item.name, ...(item.archQualifier ? { archQualifier: item.archQualifier } : {}), op: '=', version: newest };
    const again = solveRequest(problem, { items }, { ...policy, maxResolutions: 0 });
    let because: PlanExplanation;
    if (again.kind === 'conflict') because = again.explanation;
    else if (again.kind === 'solution') because = { facts: [{ kind: 'costlier', key: `costlier:${name}=${newest}`, package: { name, version: newest }, changes: again.transaction.length, chosenChanges: changes.length }], minimal: true };
    else because = { facts: [{ kind: 'no-answer', key: 'no-answer', message: again.message }], minimal: false };
    const installed = installedOf.get(name);
    out.push({ kind: 'held-back', rule: `held-back:${name}`, severity: 'medium', package: name, version: have, ...(installed !== undefined ? { installed } : {}), newest, because });
  });
  if (input.request.items.some((i) => i.kind === 'upgrade-all')) out.push(...leftBehind(problem, input, changes, policy, installedOf, after, new Set(out.map((f) => f.package)), candidateOf));
  const less = input.asked && input.choices?.length ? resolvedLess(set, input.asked, input.choices, installedOf, after) : [];
  if (less.length === 0) return out;
  const heldBack = new Map(out.map((f) => [f.package, f]));
  for (const f of less) {
    const h = heldBack.get(f.package);
    if (h) f.because = h.because;
  }
  const named = new Set(less.map((f) => f.package));
  return [...out.filter((f) => !named.has(f.package)), ...less];
}

/** At most this many packages left behind by an upgrade-all are solved again per group for their reason (each costs a solve). */
const LEFT_BEHIND_EXPLAINED = 16;

/**
 * What an upgrade-all leaves behind: every installed package whose candidate (apt's, under the
 * group's apt policy; the newest version where the group has no apt configuration) is newer
 * than the version the group is left with, as a held-back finding. The reason is the request's
 * own hold or pin when one names the package, else the solver's (the request solved again with
 * that candidate asked for exactly: a conflict's facts, or the extra changes it would take), for
 * the first LEFT_BEHIND_EXPLAINED packages; the others have none (`because` absent).
 */
function leftBehind(
  problem: Problem, input: GroupSolveInput, changes: readonly PackageChange[], policy: SolverPolicy,
  installedOf: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>, done: ReadonlySet<string>, candidateOf?: (name: string) => number,
): HeldBackFinding[] {
  const { set } = problem;
  const out: HeldBackFinding[] = [];
  let explained = 0;
  for (const [name, installed] of [...installedOf].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const have = after.get(name);
    if (have === undefined || done.has(name)) continue;
    const versions = Array.from(set.versionsOf(name));
    const cand = candidateOf ? candidateOf(name) : versions[0];
    const havePv = versions.find((pv) => set.versionOf(pv) === have);
    if (cand === undefined || cand < 0 || havePv === undefined || set.comparePvs(cand, havePv) <= 0) continue;
    const newest = set.versionOf(cand);
    const index = input.request.items.findIndex((i) => (i.kind === 'hold' && i.name === name) || (i.kind === 'pin' && i.name === name && !set.satisfies(cand, i.op, i.version)));
    let because: PlanExplanation | undefined;
    if (index >= 0) {
      because = { facts: [{ kind: 'kept-by-request', key: `kept-by-request:${index}:${name}`, requestIndex: index, item: input.request.items[index]!, package: { name, version: newest } }], minimal: true };
    } else if (explained < LEFT_BEHIND_EXPLAINED) {
      explained++;
      const again = solveRequest(problem, { items: [...input.request.items, { kind: 'install', ...specOf(name), op: '=', version: newest }] }, { ...policy, maxResolutions: 0 });
      if (again.kind === 'conflict') because = again.explanation;
      else if (again.kind === 'solution') because = { facts: [{ kind: 'costlier', key: `costlier:${name}=${newest}`, package: { name, version: newest }, changes: again.transaction.length, chosenChanges: changes.length }], minimal: true };
      else because = { facts: [{ kind: 'no-answer', key: 'no-answer', message: again.message }], minimal: false };
    }
    out.push({ kind: 'held-back', rule: `held-back:${name}`, severity: 'medium', package: name, version: have, installed, newest, ...(because ? { because } : {}) });
  }
  return out;
}

/** A request spec of a resolver name: `libc6:i386` is `libc6` qualified `:i386` (multiarch), as the request grammar reads it. */
function specOf(name: string): { name: string; archQualifier?: string } {
  const colon = name.indexOf(':');
  return colon > 0 ? { name: name.slice(0, colon), archQualifier: name.slice(colon + 1) } : { name };
}

/** The package names a resolution's edit concerns (the item it edits, the packages it names). */
function editedNames(edit: PlanResolutionEdit): string[] {
  switch (edit.kind) {
    case 'choose-version':
    case 'alternative': return 'name' in edit.instead ? [edit.instead.name, edit.name] : [edit.name];
    case 'relax':
    case 'skip':
    case 'lift': return 'name' in edit.item ? [edit.item.name] : [];
    case 'allow-downgrade': return [edit.name];
    case 'allow-removal': return edit.names;
    case 'upgrade-first': return 'name' in edit.item ? [edit.item.name] : [];
    case 'hold': return [edit.name];
    case 'described': return [];
    case 'all-of': return edit.edits.flatMap(editedNames);
  }
}

/**
 * Whether the state after the plan meets a request item as the solver reads it: an install, some
 * candidate of the item (a version matching it, or a package providing it) installed; an
 * upgrade, a version of the name matching it and not older than the newest one installed before;
 * a remove, no version of the name matching it left. Other items (holds, pins) ask for no change.
 */
function meets(set: PackageSet, item: RequestItem, installedBefore: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): boolean {
  const isAfter = (pv: number): boolean => after.get(set.nameOf(pv)) === set.versionOf(pv);
  switch (item.kind) {
    case 'install':
      return installCandidates(set, item).some(isAfter);
    case 'upgrade': {
      const versions = Array.from(set.versionsOf(specName(item)));
      const before = installedBefore.get(specName(item));
      const floor = before === undefined ? undefined : versions.find((pv) => set.versionOf(pv) === before);
      return versions.some((pv) => isAfter(pv) && (!item.op || set.satisfies(pv, item.op, item.version)) && (floor === undefined || set.comparePvs(pv, floor) >= 0));
    }
    case 'remove':
      return !Array.from(set.versionsOf(specName(item))).some((pv) => isAfter(pv) && (!item.op || set.satisfies(pv, item.op, item.version)));
    default:
      return true;
  }
}

/**
 * The items of the plan's request (`asked`) the group does not meet after chosen resolutions
 * edited its request, each with the choices that edited it (every choice of the group when none
 * names the item's package, e.g. a choice from a plan stored before edits were data).
 */
function resolvedLess(set: PackageSet, asked: { items: readonly RequestItem[] }, choices: readonly AppliedChoice[], installedBefore: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): ResolvedLessFinding[] {
  const out: ResolvedLessFinding[] = [];
  for (const item of asked.items) {
    if (!('name' in item) || meets(set, item, installedBefore, after)) continue;
    const name = specName(item);
    const concerned = choices.filter((c) => editedNames(c.edit).some((n) => n === item.name || n === name));
    const version = after.get(name);
    const installed = installedBefore.get(name);
    out.push({
      kind: 'resolved-less', rule: `resolved-less:${name}`, severity: 'medium', package: name, asked: item,
      ...(version !== undefined ? { version } : {}), ...(installed !== undefined ? { installed } : {}),
      choices: concerned.length > 0 ? concerned : [...choices],
    });
  }
  return out;
}

function createSolverOver(set: PackageSet, pvOf: (p: InstalledPackage) => number, added: number, options: FleetSolverOptions): FleetSolver {
  const aptViews = createAptViews(options.universe);
  const requirements = new Map<string, RequirementRule[]>();
  for (const r of options.rules?.requirements ?? []) {
    const list = requirements.get(r.package) ?? [];
    list.push(r);
    requirements.set(r.package, list);
  }
  const enforce = (options.enforceRequirements ?? true) && requirements.size > 0;
  const foreignArchs = options.universe.foreignArchs;
  const nameOfInstalled = (p: InstalledPackage): string => installedSpecName(p, foreignArchs);

  const installedFlags = (installed: readonly InstalledPackage[]): Uint8Array => {
    const flags = new Uint8Array(set.size);
    for (const p of installed) {
      const pv = pvOf(p);
      if (pv >= 0) flags[pv] = 1;
    }
    return flags;
  };

  const policyFor = (facts: Partial<Record<FactName, string | number>>, installed: Uint8Array): SolverPolicy => {
    const base = options.policy ?? {};
    if (!enforce) return base;
    const subject = factsFromValues(facts);
    return {
      ...base,
      isCandidate: (pv, record) => {
        // What a host already runs may stay: requirements gate new installs, not keeping.
        if (installed[pv] === 1) return base.isCandidate ? base.isCandidate(pv, record) : true;
        const rules = requirements.get(record.name);
        if (rules) {
          for (const r of rules) {
            if (r.version !== undefined && r.version !== record.version) continue;
            const res = evaluateCondition(r.condition, subject);
            if (res.truth === 'false') return { reason: `it requires ${r.text} (${res.reason.replace(/ is false$/, ' does not hold')})` };
          }
        }
        return base.isCandidate ? base.isCandidate(pv, record) : true;
      },
    };
  };

  const conflictOf = (explanation: Explanation, resolutions: readonly Resolution[]): GroupSolveOutcome => ({
    kind: 'conflict',
    explanation,
    // one edit as itself (plans stored before multi-edit resolutions read the same), several as all-of
    resolutions: resolutions.map((res) => ({ edit: res.edits.length === 1 ? res.edits[0]! : { kind: 'all-of' as const, edits: res.edits }, request: { items: res.request.items }, changes: res.transaction })),
  });

  return {
    set,
    addedInstalled: added,
    unknownVersions(request: PlanRequest): Array<{ name: string; version: string; available: string[] }> {
      // a version that is not of its package's scheme is bad input, said before any comparison
      assertRequestVersions(set, { items: request.items });
      const out: Array<{ name: string; version: string; available: string[] }> = [];
      for (const item of request.items) {
        if ((item.kind !== 'install' && item.kind !== 'upgrade') || item.op !== '=' || item.version === undefined) continue;
        if (set.candidates(item).length > 0) continue;
        out.push({ name: specName(item), version: item.version, available: Array.from(set.versionsOf(specName(item)), (pv) => set.versionOf(pv)) });
      }
      return out;
    },
    knownNames: () => set.names,
    unknownPackages(request: PlanRequest): string[] {
      const out: string[] = [];
      for (const item of request.items) {
        if (!('name' in item)) continue;
        const name = specName(item);
        if (set.versionsOf(name).length === 0 && !set.isProvided(name)) out.push(name);
      }
      return [...new Set(out)];
    },
    shareSolves(request: PlanRequest) {
      // the projection's soundness argument holds for the default criteria (projection.ts)
      if (options.policy?.criteria) return undefined;
      return createSolveSharing(set, request.items, { recommends: options.policy?.recommends !== false, pvOf });
    },
    solveGroup(input: GroupSolveInput): GroupSolveOutcome {
      const installed = installedFlags(input.installed);
      // a group whose apt configuration is known sees its repositories under apt's candidate policy
      // (`name/release` items become the version apt selects there; without apt sources: RW_REQUEST)
      const resolved = input.apt ? aptViews.resolve(input.apt, installed, input.request.items, options.policy?.recommends !== false) : { set, items: requireNoRelease(input.request.items) };
      const problem: Problem = { set: resolved.set, installed };
      const policy = policyFor(input.facts, problem.installed);
      // nothing removed that was not asked for (the solver's keepInstalled policy, as `rollwise solve` uses it)
      const kept: SolverPolicy = { ...policy, keepInstalled: true };
      const r = solveRequest(problem, { items: resolved.items }, kept);
      if (r.kind === 'timeout') return { kind: 'conflict', explanation: { facts: [{ kind: 'no-answer', key: 'no-answer', message: r.message }], minimal: false }, resolutions: [] };
      if (r.kind === 'conflict') return conflictOf(r.explanation, r.resolutions);
      // an upgrade-all is measured against apt's candidates of the group's policy (the newest version without one)
      const policyOfGroup = input.apt ? aptViews.policyFor(input.apt) : undefined;
      const candidateOf = policyOfGroup ? (name: string): number => {
        const id = options.universe.nameId(name);
        return id < 0 ? -1 : policyOfGroup.candidateOf(id, installed);
      } : undefined;
      const shortfalls = findShortfalls(problem, input, r.transaction, kept, nameOfInstalled, candidateOf);
      return { kind: 'solution', changes: r.transaction, ...(shortfalls.length ? { shortfalls } : {}) };
    },
  };
}
