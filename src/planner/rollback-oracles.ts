/**
 * What planRollback and rehearseInModel ask of the rest of the system, answered by the layers
 * that own each concept (one relation checker: the solver's; one relation semantics: the
 * universe's; the knowledge base's facts read once into plain data):
 * - createInstalledSetChecker: is an installed set consistent? The set is solved as a request
 *   that holds every installed name and every name its Depends, Pre-Depends, Conflicts and Breaks
 *   reach (held absent when not installed): it solves (with no change) exactly when every
 *   relation holds; otherwise the solver's explanation facts say why.
 * - createRelationFacts: Pre-Depends met by a set, and Replaces, by the universe's candidates.
 * - availabilityFromUniverse: whether a version comes from a distribution index (a repository)
 *   or the .deb cache.
 * - rollbackKnowledgeFromKb: migrations per package version, config files and services.
 */
import { effectiveServices, type KnowledgeBase } from '../kb/index.js';
import { PARANOID, createUniverseView, solveRequest, type PackageSet, type RequestItem } from '../solver/index.js';
import { REL, type Universe } from '../universe/index.js';
import { getScheme, type SchemeName } from '../versions/index.js';
import type { ConsistencyCheck, DebAvailability, DebRef, MigrationFact, PackageMigrations, PackageRelationFacts, RollbackKnowledge } from './rollback-types.js';

/** A fact of an inconsistent set that the solver cannot state: a version the universe does not hold. */
export interface UnknownVersionFact {
  kind: 'unknown-version';
  key: string;
  package: { name: string; version: string; architecture: string };
}

export interface InstalledSetCheckerOptions {
  /** The solver's view of `universe`, when one exists already (its caches are shared). */
  set?: PackageSet;
  /** Per check (default 10 s). */
  timeBudgetMs?: number;
}

export function createInstalledSetChecker(universe: Universe, options: InstalledSetCheckerOptions = {}): ConsistencyCheck {
  const set = options.set ?? createUniverseView(universe);
  return (installed) => {
    const flags = new Uint8Array(set.size);
    const pvs: number[] = [];
    const unknown: UnknownVersionFact[] = [];
    for (const p of installed) {
      const pv = universe.findInstalledPv(p.name, p.version, p.architecture);
      if (pv < 0) unknown.push({ kind: 'unknown-version', key: `unknown-version:${p.name}=${p.version}`, package: { name: p.name, version: p.version, architecture: p.architecture } });
      else {
        flags[pv] = 1;
        pvs.push(pv);
      }
    }
    if (unknown.length > 0) return { ok: false, facts: unknown };
    const names = new Set<string>();
    for (const pv of pvs) {
      names.add(set.nameOf(pv));
      for (const clause of [...set.preDepends(pv), ...set.depends(pv)]) for (const q of clause) names.add(set.nameOf(q));
      for (const q of set.conflicts(pv)) names.add(set.nameOf(q));
    }
    const items: RequestItem[] = [...names].sort().map((name) => ({ kind: 'hold', name }));
    const r = solveRequest({ set, installed: flags }, { items }, { criteria: PARANOID, recommends: false, maxResolutions: 0, timeBudgetMs: options.timeBudgetMs ?? 10_000 });
    if (r.kind === 'solution') return r.transaction.length === 0 ? { ok: true } : { ok: false, facts: [{ kind: 'needs-changes', key: 'needs-changes', changes: r.transaction }] };
    if (r.kind === 'conflict') return { ok: false, facts: r.explanation.facts };
    return { ok: false, facts: [{ kind: 'no-answer', key: 'no-answer', message: r.message }] };
  };
}

export function createRelationFacts(universe: Universe): PackageRelationFacts {
  const pvOf = (p: DebRef): number => universe.findInstalledPv(p.name, p.version, p.architecture);
  return {
    unmetPreDepends(pkg, among) {
      const pv = pvOf(pkg);
      if (pv < 0) return [];
      const present = new Set<number>();
      for (const p of among) {
        const q = pvOf(p);
        if (q >= 0) present.add(q);
      }
      const out: string[] = [];
      for (const clause of universe.clausesOf(pv, REL.preDepends)) {
        const met = Array.from(clause).some((atom) => Array.from(universe.candidates(atom)).some((q) => present.has(q)));
        if (!met) out.push(Array.from(clause, (atom) => universe.formatAtom(atom)).join(' | '));
      }
      return out;
    },
    replaces(a, b) {
      const pa = pvOf(a);
      const pb = pvOf(b);
      if (pa < 0 || pb < 0) return false;
      return Array.from(universe.atomsOf(pa, REL.replaces)).some((atom) => universe.candidates(atom).includes(pb));
    },
  };
}

/** Index when a distribution index layer holds the version, cache when `cached` lists it, else none. */
export function availabilityFromUniverse(universe: Universe, cached: readonly DebRef[] = []): (deb: DebRef) => DebAvailability {
  const inCache = new Set(cached.map((d) => `${d.name}\u0000${d.version}\u0000${d.architecture}`));
  return (deb) => {
    if (inCache.has(`${deb.name}\u0000${deb.version}\u0000${deb.architecture}`)) return 'cache';
    const pv = universe.findInstalledPv(deb.name, deb.version, deb.architecture);
    if (pv < 0) return 'none';
    const fromIndex = universe.layerOf(pv).trust === 'distribution' || universe.overriddenLayersOf(pv).some((l) => l.trust === 'distribution');
    return fromIndex ? 'index' : 'none';
  };
}

/** The knowledge base's facts a rollback needs (the highest-precedence layer wins per package version, config path and service). */
export function rollbackKnowledgeFromKb(kb: KnowledgeBase): RollbackKnowledge {
  const packages = new Map<string, { scheme: SchemeName; versions: Map<string, MigrationFact[]> }>();
  for (const layer of kb.layers) {
    for (const entry of layer.packages) {
      const p = entry.value;
      const known = packages.get(p.name) ?? { scheme: p.scheme, versions: new Map<string, MigrationFact[]>() };
      packages.set(p.name, known);
      for (const v of p.versions) {
        if (known.versions.has(v.version)) continue;
        known.versions.set(v.version, (v.migrations ?? []).map((m) => ({
          id: m.id, database: m.database, ...(m.down !== undefined ? { down: m.down } : {}), ...(m.irreversible ? { irreversible: true } : {}), file: entry.file,
        })));
      }
    }
  }
  const migrations: PackageMigrations[] = [];
  for (const [name, p] of [...packages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (![...p.versions.values()].some((m) => m.length > 0)) continue;
    const scheme = getScheme(p.scheme);
    const versions = [...p.versions].map(([version, ms]) => ({ version, migrations: ms })).sort((a, b) => scheme.compare(a.version, b.version));
    migrations.push({ name, scheme: p.scheme, versions });
  }
  const configFiles = new Map<string, RollbackKnowledge['configFiles'][number]>();
  for (const layer of kb.layers) {
    for (const c of layer.configFiles) {
      if (configFiles.has(c.value.path)) continue;
      configFiles.set(c.value.path, { path: c.value.path, package: c.value.package, ...(c.value.reload ? { reload: c.value.reload } : {}) });
    }
  }
  const services = effectiveServices(kb).map(({ value: s }) => ({
    name: s.name,
    packages: [...(s.packages ?? [])],
    dependsOn: [...(s.dependsOn ?? [])],
    health: (s.health?.http?.length ?? 0) + (s.health?.command?.length ?? 0) > 0,
  }));
  return { packages: migrations, configFiles: [...configFiles.values()], services };
}

