/**
 * What planRollback and rehearseInModel ask of the rest of the system, answered by the layers
 * that own each concept (one relation checker: the solver's; one relation semantics: the
 * universe's; the knowledge base's facts read once into plain data):
 * - createInstalledSetChecker: is an installed set consistent? Checked on the relations by the
 *   solver layer's createInstalledSetConsistency (every Depends/Pre-Depends met, no
 *   Conflicts/Breaks, one version per name; its facts say why not, described when first read),
 *   and incrementally for the order search: `check.from(base)` answers "base with these changes"
 *   by re-checking only what the changes touch (the search memoises answers per subset of
 *   changes; anchors are kept by their base's content, so groups or calls that share an
 *   installed set share one).
 * - createSolverInstalledSetChecker: the same question put to the solver (the set solved as a
 *   request that holds every installed name and every name its relations reach; it solves with
 *   no change exactly when every relation holds). The reference the property tests compare with;
 *   a few milliseconds a check where the other takes microseconds.
 * - createRelationFacts: Pre-Depends met by a set, and Replaces, by the universe's candidates.
 * - availabilityFromUniverse: whether a version comes from a distribution index (a repository)
 *   or the .deb cache.
 * - rollbackKnowledgeFromKb: migrations per package version, config files and services.
 */
import { effectiveServices, type KnowledgeBase } from '../kb/index.js';
import type { InstalledPackage } from '../fleet/index.js';
import {
  PARANOID, createInstalledSetConsistency, createUniverseView, solveRequest, type AnchoredConsistency, type ExplanationFact, type SetProblems, type PackageSet, type RequestItem,
} from '../solver/index.js';
import { REL, type Universe } from '../universe/index.js';
import { getScheme, type SchemeName } from '../versions/index.js';
import type {
  ConsistencyCheck, ConsistencyVerdict, DataConversionFact, DebAvailability, DebRef, MigrationFact, PackageMigrations, PackageRelationFacts, RollbackKnowledge,
} from './rollback-types.js';

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

const unknownFact = (p: InstalledPackage): UnknownVersionFact => ({ kind: 'unknown-version', key: `unknown-version:${p.name}=${p.version}`, package: { name: p.name, version: p.version, architecture: p.architecture } });
/** A verdict whose facts are described when first read (JSON, structuredClone and spreading read them like any property). */
const verdictOf = (p: SetProblems): ConsistencyVerdict => {
  if (p.consistent) return { ok: true };
  let facts: ExplanationFact[] | undefined;
  return {
    ok: false,
    get facts() {
      return (facts ??= p.facts());
    },
  };
};
const byKey = (a: { key: string }, b: { key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
const ANCHORS_KEPT = 64;

export function createInstalledSetChecker(universe: Universe, options: Omit<InstalledSetCheckerOptions, 'timeBudgetMs'> = {}): ConsistencyCheck {
  const consistency = createInstalledSetConsistency(universe, options.set ?? createUniverseView(universe));
  const anchors = new Map<string, AnchoredConsistency>();
  const nameStamp = new Int32Array(universe.nameCount);
  const nameSlot = new Int32Array(universe.nameCount);
  let epoch = 0;
  let lastAnchor: AnchoredConsistency | undefined;
  const check: ConsistencyCheck = (installed) => {
    const pvs: number[] = [];
    const unknown: UnknownVersionFact[] = [];
    for (const p of installed) {
      const pv = universe.findInstalledPv(p.name, p.version, p.architecture);
      if (pv < 0) unknown.push(unknownFact(p));
      else pvs.push(pv);
    }
    return unknown.length > 0 ? { ok: false, facts: unknown.sort(byKey) } : verdictOf(consistency.check(pvs));
  };
  check.from = (base, changes) => {
    // one entry per name, the last one listed winning (as applyPackageChanges keys a state)
    const slots: number[] = [];
    const unknownBase = new Map<string, UnknownVersionFact>();
    const e = ++epoch;
    for (const p of base) {
      const id = universe.nameIdOfSpec(p.name, p.architecture);
      const pv = id < 0 ? -1 : universe.findInstalledPv(p.name, p.version, p.architecture);
      if (pv < 0) unknownBase.set(p.name, unknownFact(p));
      else unknownBase.delete(p.name);
      if (id < 0) continue;
      if (nameStamp[id] === e) slots[nameSlot[id]!] = pv;
      else {
        nameStamp[id] = e;
        nameSlot[id] = slots.length;
        slots.push(pv);
      }
    }
    const basePvs = slots.filter((pv) => pv >= 0);
    // an order-independent hash of the base's pvs keys the kept anchors (a hit is verified)
    let h1 = 0;
    let h2 = 0;
    for (const pv of basePvs) {
      const m = Math.imul(pv + 1, 0x9e3779b1);
      h1 = (h1 + m) | 0;
      h2 ^= Math.imul(m ^ (m >>> 15), 0x85ebca6b);
    }
    const baseKey = `${basePvs.length}:${h1}:${h2}`;
    let anchor = anchors.get(baseKey);
    if (!anchor || !basePvs.every((pv) => anchor!.includes(pv))) {
      if (anchors.size >= ANCHORS_KEPT) anchors.delete(anchors.keys().next().value!);
      // derived from the last anchor made when the bases differ little (groups of one plan share most packages)
      anchor = consistency.anchor(basePvs, lastAnchor);
      anchors.set(baseKey, anchor);
      lastAnchor = anchor;
    }
    const a = anchor;
    /** The base's version of a name (-1 when the base does not hold it, or holds a version the universe does not). */
    const basePvOf = (name: string, arch: string | undefined): number => {
      for (const pv of universe.versionsOf(universe.nameIdOfSpec(name, arch))) if (a.includes(pv)) return pv;
      return -1;
    };
    // each change resolved once against the base: the version it takes out, the one it puts in
    const outPv = new Int32Array(changes.length).fill(-1);
    const inPv = new Int32Array(changes.length).fill(-1);
    const unknownIn: Array<UnknownVersionFact | undefined> = [];
    changes.forEach((c, i) => {
      const out = basePvOf(c.name, c.architecture);
      outPv[i] = out;
      if (c.action === 'remove' || c.action === 'purge' || c.to === undefined) return;
      const p = { name: c.name, version: c.to, architecture: c.architecture ?? (out >= 0 ? universe.archOf(out) : 'all') };
      inPv[i] = universe.findInstalledPv(p.name, p.version, p.architecture);
      if (inPv[i]! < 0) unknownIn[i] = unknownFact(p);
    });
    const added: number[] = [];
    const removed: number[] = [];
    const since = { added: 0, removed: 0 };
    const take = (i: number): boolean => {
      if (outPv[i]! >= 0) removed.push(outPv[i]!);
      if (inPv[i]! >= 0) added.push(inPv[i]!);
      return unknownIn[i] !== undefined;
    };
    return (applied, known) => {
      added.length = 0;
      removed.length = 0;
      let anyUnknown = false;
      let knownCount = 0;
      if (known) {
        for (let i = 0; i < changes.length; i++) {
          if (known[i] !== 1) continue;
          knownCount++;
          anyUnknown = take(i) || anyUnknown;
        }
      }
      since.added = added.length;
      since.removed = removed.length;
      let fresh = 0;
      for (let i = 0; i < changes.length; i++) {
        if (applied[i] !== 1 || known?.[i] === 1) continue;
        fresh++;
        anyUnknown = take(i) || anyUnknown;
      }
      if (anyUnknown || unknownBase.size > 0) {
        const unknown: UnknownVersionFact[] = [];
        const touched = new Set<string>();
        for (let i = 0; i < changes.length; i++) {
          if (applied[i] !== 1) continue;
          touched.add(changes[i]!.name);
          if (unknownIn[i]) unknown.push(unknownIn[i]!);
        }
        for (const [name, f] of unknownBase) if (!touched.has(name)) unknown.push(f);
        if (unknown.length > 0) return { ok: false, facts: unknown.sort(byKey) };
      }
      return verdictOf(a.check(added, removed, knownCount > 0 && fresh > 0 ? since : undefined));
    };
  };
  return check;
}

/** The reference: the same question answered by a solve (see the header). */
export function createSolverInstalledSetChecker(universe: Universe, options: InstalledSetCheckerOptions = {}): ConsistencyCheck {
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
  const packages = new Map<string, { scheme: SchemeName; versions: Map<string, MigrationFact[]>; conversions: Map<string, DataConversionFact> }>();
  for (const layer of kb.layers) {
    for (const entry of layer.packages) {
      const p = entry.value;
      const known = packages.get(p.name) ?? { scheme: p.scheme, versions: new Map<string, MigrationFact[]>(), conversions: new Map<string, DataConversionFact>() };
      packages.set(p.name, known);
      for (const v of p.versions) {
        if (known.versions.has(v.version)) continue;
        known.versions.set(v.version, (v.migrations ?? []).map((m) => ({
          id: m.id, database: m.database, ...(m.down !== undefined ? { down: m.down } : {}), ...(m.irreversible ? { irreversible: true } : {}), file: entry.file,
        })));
        const c = v.convertsData;
        if (c) known.conversions.set(v.version, c === true ? {} : { ...(c.note !== undefined ? { note: c.note } : {}), ...(c.paths ? { paths: [...c.paths] } : {}) });
      }
    }
  }
  const migrations: PackageMigrations[] = [];
  for (const [name, p] of [...packages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (![...p.versions.values()].some((m) => m.length > 0) && p.conversions.size === 0) continue;
    const scheme = getScheme(p.scheme);
    const versions = [...p.versions].map(([version, ms]) => {
      const c = p.conversions.get(version);
      return { version, migrations: ms, ...(c ? { convertsData: c } : {}) };
    }).sort((a, b) => scheme.compare(a.version, b.version));
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

