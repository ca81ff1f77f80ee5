/**
 * A loaded knowledge base: layers (YAML files merged by layer name, distribution indexes), each
 * fact with its provenance, plus every problem found while loading and validating.
 */
import type { SourcePosition } from '../shared/index.js';
import type { Alternatives, PackageRecord, Provenance } from './model.js';
import type { SchemeName } from '../versions/index.js';
import type { RangeBound } from './relations.js';
import type { YamlPath } from '../shared/index.js';
import type { KbProblem } from './problems.js';
import type { KbConfigFile, KbFunctionalImpact, KbKnownIssue, KbPackage, KbService } from './schema.js';

export type Trust = NonNullable<Provenance['trust']>;

/** A fact read from a YAML file, with where it was written and which layer it belongs to. */
export interface Located<T> {
  value: T;
  file: string;
  path: YamlPath;
  position: SourcePosition;
  provenance: Provenance;
}

/**
 * The relations inside an environment block or a known issue's condition, parsed once by the
 * relation grammar when the file is loaded (later layers read these, never the text).
 */
export interface ParsedEnvironment {
  /** `environment.kernel` (the `uname -r` release), e.g. `>= 6.1, << 6.6` as bounds. */
  kernel?: RangeBound[];
  /** `environment.kernelVersion` (the running kernel's package version) as bounds. */
  kernelVersion?: RangeBound[];
}

/** A package entry with each version's environment parsed (index: the version's position in `versions`). */
export interface KbPackageEntry extends Located<KbPackage> {
  environments: Array<ParsedEnvironment | undefined>;
}

/** A known issue with its condition parsed: the package clauses (`when.packages`) and the environment's ranges. */
export interface KbKnownIssueEntry extends Located<KbKnownIssue> {
  when: { packages: Alternatives[]; environment?: ParsedEnvironment };
}

export interface KbRequirement {
  /** The relation as written, e.g. `shopfront (>= 2.0.0)`. */
  packageText: string;
  requiresText: string;
  package: Alternatives;
  requires: Alternatives;
  reason?: string;
}

export interface KbLayer {
  name: string;
  precedence: number;
  trust: Trust;
  /** yaml: organisation or learned files; index: a distribution Packages index. */
  origin: 'yaml' | 'index';
  source: string;
  author?: string;
  date?: string;
  description?: string;
  files: string[];
  packages: KbPackageEntry[];
  /** Every package version of the layer as a PackageRecord (a universe layer). */
  records: PackageRecord[];
  /**
   * A name lookup over the layer's records, for layers with many of them (a distribution index
   * read through the universe): reference checks ask it instead of walking every record.
   */
  names?: LayerNames;
  services: Array<Located<KbService>>;
  requirements: Array<Located<KbRequirement>>;
  impacts: Array<Located<KbFunctionalImpact>>;
  knownIssues: KbKnownIssueEntry[];
  configFiles: Array<Located<KbConfigFile>>;
}

/** What a layer defines, by name: the scheme of a package it has, and the virtual names it provides. */
export interface LayerNames {
  schemeOf(name: string): SchemeName | undefined;
  provides(name: string): boolean;
  /** Every package name of the layer (for spelling hints; not for hot paths). */
  all(): Iterable<string>;
}

/** Give a layer records built on first use (an index layer of tens of thousands of versions). */
export function setLazyRecords(layer: KbLayer, make: () => PackageRecord[]): void {
  let made: PackageRecord[] | undefined;
  Object.defineProperty(layer, 'records', {
    enumerable: true, configurable: true,
    get: () => (made ??= make()),
    set: (v: PackageRecord[]) => { made = v; },
  });
}

export interface KnowledgeBase {
  /** Highest precedence first. */
  layers: KbLayer[];
  problems: KbProblem[];
}

export function createLayer(init: Pick<KbLayer, 'name' | 'precedence' | 'trust' | 'origin' | 'source'> & Partial<KbLayer>): KbLayer {
  return {
    files: [], packages: [], records: [], services: [], requirements: [], impacts: [], knownIssues: [], configFiles: [],
    ...init,
  };
}
