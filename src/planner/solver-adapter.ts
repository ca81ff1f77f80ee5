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
import { createUniverseView, solveRequest, type Explanation, type PackageSet, type Problem, type SolverPolicy, type Resolution } from '../solver/index.js';
import { evaluateCondition, type InstalledPackage, type FactName } from '../fleet/index.js';
import type { GroupSolver, GroupSolveInput, GroupSolveOutcome, SolvedResolution } from './plan.js';
import { subjectOfFacts } from './subject.js';
import type { PlanRequest } from './request.js';
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

function createSolverOver(set: PackageSet, pvOf: (p: InstalledPackage) => number, added: number, options: FleetSolverOptions): FleetSolver {
  const requirements = new Map<string, RequirementRule[]>();
  for (const r of options.rules?.requirements ?? []) {
    const list = requirements.get(r.package) ?? [];
    list.push(r);
    requirements.set(r.package, list);
  }
  const enforce = (options.enforceRequirements ?? true) && requirements.size > 0;

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
    const subject = subjectOfFacts(facts);
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

  const conflictOf = (explanation: Explanation, resolutions: readonly Resolution[], first?: SolvedResolution): GroupSolveOutcome => ({
    kind: 'conflict',
    explanation,
    resolutions: [
      ...(first ? [first] : []),
      ...resolutions.map((res) => ({ edit: res.edit, request: { items: res.request.items }, changes: res.transaction })),
    ],
  });

  return {
    set,
    addedInstalled: added,
    unknownPackages(request: PlanRequest): string[] {
      const out: string[] = [];
      for (const item of request.items) {
        if (!('name' in item)) continue;
        if (set.versionsOf(item.name).length === 0 && !set.isProvided(item.name)) out.push(item.name);
      }
      return [...new Set(out)];
    },
    solveGroup(input: GroupSolveInput): GroupSolveOutcome {
      const problem: Problem = { set, installed: installedFlags(input.installed) };
      const policy = policyFor(input.facts, problem.installed);
      const r = solveRequest(problem, { items: input.request.items }, policy);
      if (r.kind === 'timeout') return { kind: 'conflict', explanation: { facts: [{ kind: 'no-answer', key: 'no-answer', message: r.message }], minimal: false }, resolutions: [] };
      if (r.kind === 'conflict') return conflictOf(r.explanation, r.resolutions);
      // A removal nobody asked for is a conflict to review, never a silent part of the plan
      // (apt would remove the package quietly): explain it by solving with the package protected (kept installed, upgrades allowed).
      const asked = new Set(input.request.items.filter((i) => i.kind === 'remove').map((i) => (i as { name: string }).name));
      const unasked = [...new Set(r.transaction.filter((s) => s.action === 'remove' && !asked.has(s.name)).map((s) => s.name))];
      if (unasked.length === 0) return { kind: 'solution', changes: r.transaction };
      const held: PlanRequest = { items: [...input.request.items, ...unasked.map((name) => ({ kind: 'protect' as const, name }))] };
      const r2 = solveRequest(problem, { items: held.items }, policy);
      const allowRemoval: SolvedResolution = {
        edit: { kind: 'allow-removal', names: unasked },
        request: { items: [...input.request.items, ...unasked.map((name) => ({ kind: 'remove' as const, name }))] },
        changes: r.transaction,
      };
      if (r2.kind !== 'conflict') {
        return { kind: 'conflict', explanation: { facts: [{ kind: 'unasked-removal', key: `unasked-removal:${unasked.join(',')}`, names: unasked }], minimal: true }, resolutions: [allowRemoval] };
      }
      const others = r2.resolutions.filter((res) => !res.transaction.some((s) => s.action === 'remove' && unasked.includes(s.name)));
      return conflictOf(r2.explanation, others, allowRemoval);
    },
  };
}
