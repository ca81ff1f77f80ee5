/**
 * The merged view over a knowledge base's layers: "what do we know about package X", the
 * effective services, and counts per layer. When several layers describe the same thing, the
 * layer with the highest precedence wins; the others stay visible as shadowed, every fact with
 * its provenance.
 */
import type { PackageRecord, Provenance, SchemeName } from './model.js';
import { compareVersionsIn } from './relations.js';
import type { KbConfigFile, KbFunctionalImpact, KbKnownIssue, KbMigration, KbEnvironmentRequirement, KbResourceProfile, KbService } from './schema.js';
import type { KbLayer, KbRequirement, KnowledgeBase, Located } from './types.js';

export interface Fact<T> {
  value: T;
  provenance: Provenance;
}

export interface VersionView {
  version: string;
  scheme: SchemeName;
  /** The record of the highest-precedence layer that has this version. */
  effective: PackageRecord;
  /** Records of lower-precedence layers for the same version. */
  shadowed: PackageRecord[];
  environment?: Fact<KbEnvironmentRequirement>;
  migrations: Array<Fact<KbMigration>>;
  resources?: Fact<KbResourceProfile>;
}

export interface PackageView {
  name: string;
  /** Defined as a real package (records) in some layer. */
  known: boolean;
  /** Ascending in the package's scheme. */
  versions: VersionView[];
  /** Package versions that provide this name (virtual packages). */
  providedBy: Array<{ name: string; version: string; providedVersion?: string; provenance: Provenance }>;
  /** Services this package is part of. */
  services: Array<Fact<KbService>>;
  requirements: Array<Fact<KbRequirement>>;
  impacts: Array<Fact<KbFunctionalImpact>>;
  knownIssues: Array<Fact<KbKnownIssue>>;
  configFiles: Array<Fact<KbConfigFile>>;
}

const fact = <T>(l: Located<T>): Fact<T> => ({ value: l.value, provenance: l.provenance });

const recordIndex = new WeakMap<KbLayer, Map<string, PackageRecord[]>>();

/** Records of one package name in a layer (indexed once per layer). */
export function recordsNamed(layer: KbLayer, name: string): PackageRecord[] {
  let idx = recordIndex.get(layer);
  if (!idx) {
    idx = new Map();
    for (const r of layer.records) {
      const list = idx.get(r.name);
      if (list) list.push(r);
      else idx.set(r.name, [r]);
    }
    recordIndex.set(layer, idx);
  }
  return idx.get(name) ?? [];
}

/** Everything the knowledge base knows about one package name, highest precedence first. */
export function describePackage(kb: KnowledgeBase, name: string): PackageView {
  const byVersion = new Map<string, PackageRecord[]>();
  for (const layer of kb.layers) {
    for (const r of recordsNamed(layer, name)) {
      const list = byVersion.get(r.version);
      if (list) list.push(r);
      else byVersion.set(r.version, [r]);
    }
  }
  const versions: VersionView[] = [];
  for (const [version, records] of byVersion) {
    const effective = records[0]!;
    const v: VersionView = { version, scheme: effective.scheme, effective, shadowed: records.slice(1), migrations: [] };
    const extra = versionExtras(kb, name, version, effective.provenance.layer);
    if (extra.environment) v.environment = extra.environment;
    if (extra.resources) v.resources = extra.resources;
    v.migrations = extra.migrations;
    versions.push(v);
  }
  const scheme = versions[0]?.scheme ?? 'deb';
  versions.sort((a, b) => compareVersionsIn(scheme, a.version, b.version));

  const providedBy: PackageView['providedBy'] = [];
  const services: PackageView['services'] = [];
  const requirements: PackageView['requirements'] = [];
  const impacts: PackageView['impacts'] = [];
  const knownIssues: PackageView['knownIssues'] = [];
  const configFiles: PackageView['configFiles'] = [];
  const mentions = (clauses: ReadonlyArray<ReadonlyArray<{ name: string }>>) => clauses.some((c) => c.some((a) => a.name === name));
  // Scanning an index's 60k records for providers is fast enough for one `show`.
  for (const layer of kb.layers) {
    for (const r of layer.records) for (const p of r.provides) if (p.name === name) providedBy.push({ name: r.name, version: r.version, ...(p.version ? { providedVersion: p.version } : {}), provenance: r.provenance });
  }
  for (const s of effectiveServices(kb)) if (s.value.packages?.includes(name)) services.push(s);
  for (const layer of kb.layers) {
    for (const r of layer.requirements) if (mentions([r.value.package, r.value.requires])) requirements.push(fact(r));
    for (const i of layer.impacts) if (i.value.package === name) impacts.push(fact(i));
    for (const k of layer.knownIssues) {
      if (mentions(k.when.packages)) knownIssues.push(fact(k));
    }
    for (const c of layer.configFiles) if (c.value.package === name) configFiles.push(fact(c));
  }
  return { name, known: versions.length > 0, versions, providedBy, services, requirements, impacts, knownIssues, configFiles };
}

function versionExtras(kb: KnowledgeBase, name: string, version: string, layerName: string): { environment?: Fact<KbEnvironmentRequirement>; resources?: Fact<KbResourceProfile>; migrations: Array<Fact<KbMigration>> } {
  const layer = kb.layers.find((l) => l.name === layerName);
  const out: ReturnType<typeof versionExtras> = { migrations: [] };
  if (!layer) return out;
  for (const p of layer.packages) {
    if (p.value.name !== name) continue;
    for (const v of p.value.versions) {
      if (v.version !== version) continue;
      if (v.environment) out.environment = { value: v.environment, provenance: p.provenance };
      if (v.resources) out.resources = { value: v.resources, provenance: p.provenance };
      out.migrations = (v.migrations ?? []).map((m) => ({ value: m, provenance: p.provenance }));
    }
  }
  return out;
}

/** One definition per service name: the highest-precedence layer's. */
export function effectiveServices(kb: KnowledgeBase): Array<Fact<KbService>> {
  const seen = new Map<string, Fact<KbService>>();
  for (const layer of kb.layers) for (const s of layer.services) if (!seen.has(s.value.name)) seen.set(s.value.name, fact(s));
  return [...seen.values()];
}

/** Every definition of a service across layers, highest precedence first (the first one wins). */
export function describeService(kb: KnowledgeBase, name: string): Array<Fact<KbService>> {
  return kb.layers.flatMap((l) => l.services.filter((s) => s.value.name === name).map(fact));
}

/** Known issues of all layers, one per id (highest precedence wins). */
export function effectiveKnownIssues(kb: KnowledgeBase): Array<Fact<KbKnownIssue>> {
  const seen = new Map<string, Fact<KbKnownIssue>>();
  for (const layer of kb.layers) for (const k of layer.knownIssues) if (!seen.has(k.value.id)) seen.set(k.value.id, fact(k));
  return [...seen.values()];
}

export interface KbCounts {
  /** Package records: one per name, version and architecture (a Debian index's stanzas). */
  packages: number;
  /** Distinct package names. */
  names: number;
  services: number;
  functional: number;
  knownIssues: number;
  migrations: number;
  configFiles: number;
}

export interface KbStats {
  layers: Array<{ name: string; origin: KbLayer['origin']; precedence: number; trust: string; files: string[]; counts: KbCounts }>;
  /** Across layers; names are distinct across layers, services and known issues counted once per name/id. */
  total: KbCounts;
  problems: { errors: number; warnings: number };
}

function countLayer(layer: KbLayer): KbCounts {
  return {
    packages: layer.records.length,
    names: new Set(layer.records.map((r) => r.name)).size,
    services: layer.services.length,
    functional: layer.requirements.length + layer.impacts.length,
    knownIssues: layer.knownIssues.length,
    migrations: layer.packages.reduce((n, p) => n + p.value.versions.reduce((m, v) => m + (v.migrations?.length ?? 0), 0), 0),
    configFiles: layer.configFiles.length,
  };
}

export function computeStats(kb: KnowledgeBase): KbStats {
  const layers = kb.layers.map((l) => ({ name: l.name, origin: l.origin, precedence: l.precedence, trust: l.trust, files: l.files, counts: countLayer(l) }));
  const names = new Set<string>();
  for (const l of kb.layers) for (const r of l.records) names.add(r.name);
  const total: KbCounts = { packages: 0, names: names.size, services: effectiveServices(kb).length, functional: 0, knownIssues: effectiveKnownIssues(kb).length, migrations: 0, configFiles: 0 };
  for (const l of layers) {
    total.packages += l.counts.packages;
    total.functional += l.counts.functional;
    total.migrations += l.counts.migrations;
    total.configFiles += l.counts.configFiles;
  }
  return {
    layers,
    total,
    problems: { errors: kb.problems.filter((p) => p.severity === 'error').length, warnings: kb.problems.filter((p) => p.severity === 'warning').length },
  };
}

/** All package records of all layers, highest-precedence layer first: a universe's input. */
export function collectRecords(kb: KnowledgeBase): PackageRecord[] {
  return kb.layers.flatMap((l) => l.records);
}
