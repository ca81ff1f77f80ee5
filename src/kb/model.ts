/**
 * The package facts every importer produces and the universe consumes: one record per
 * package version, with its relations already parsed. Importers (Debian Packages, dpkg status,
 * CUDF, the organisation's YAML) all emit PackageRecord; the universe interns them.
 */

import type { RelationOp, SchemeName } from '../versions/index.js';

export type { RelationOp, SchemeName };

/** One package reference: `name[:arch] [(op version)]`. */
export interface PackageAtom {
  name: string;
  /** Architecture qualifier as written (`any`, `native`, `amd64`); undefined if none. */
  archQualifier?: string;
  op?: RelationOp;
  version?: string;
}

/** A dependency clause: any one of the alternatives satisfies it (`a | b`). */
export type Alternatives = PackageAtom[];

/** A Provides entry: `name` or `name (= version)`. */
export interface Provision {
  name: string;
  version?: string;
}

/** Where a fact came from. Every fact keeps its provenance. */
export interface Provenance {
  /** Layer name, e.g. `debian:bookworm-main`, `org:examples/kb`, `installed:web-01`, `learned`. */
  layer: string;
  /** File (and line, when known) the fact was read from. */
  source: string;
  line?: number;
  author?: string;
  date?: string;
  /** Where the layer says it comes from (repository, URL, incident), as declared in its header. */
  origin?: string;
  trust?: 'distribution' | 'organisation' | 'learned' | 'observed';
}

export interface PackageRecord {
  name: string;
  version: string;
  architecture: string;
  scheme: SchemeName;
  depends: Alternatives[];
  preDepends: Alternatives[];
  recommends: Alternatives[];
  suggests: Alternatives[];
  conflicts: PackageAtom[];
  breaks: PackageAtom[];
  provides: Provision[];
  replaces: PackageAtom[];
  essential: boolean;
  /** Debian Priority (`required`, `important`, `standard`, `optional`, `extra`). */
  priority?: string;
  multiArch?: string;
  section?: string;
  source?: string;
  installedSize?: number;
  size?: number;
  filename?: string;
  sha256?: string;
  description?: string;
  provenance: Provenance;
}

/** dpkg's view of an installed package (from a status file). */
export interface InstalledRecord {
  name: string;
  version: string;
  architecture: string;
  /** `want flag status`, e.g. `install ok installed`. */
  status: string;
  /** Configuration files dpkg tracks, with their md5sums. */
  conffiles: Array<{ path: string; md5: string; obsolete?: boolean }>;
  /** The package's own relations as recorded in the status file. */
  record: PackageRecord;
}

export function createEmptyRecord(name: string, version: string, architecture: string, provenance: Provenance, scheme: SchemeName = 'deb'): PackageRecord {
  return {
    name, version, architecture, scheme,
    depends: [], preDepends: [], recommends: [], suggests: [],
    conflicts: [], breaks: [], provides: [], replaces: [],
    essential: false, provenance,
  };
}
