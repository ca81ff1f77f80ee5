/**
 * The fast path from a Debian `Packages` index (or dpkg status file) straight into a universe
 * builder: the control scanner finds the fields, the relation parser fills a reused scratch, and
 * the builder interns it. No PackageRecord objects are created.
 */
import { F, scanControl, scanControlStream, type ControlStanza } from '../kb/index.js';
import { StanzaReader } from '../kb/index.js';
import { readDecompressed, streamDecompressed } from '../kb/index.js';
import { isInstalledStatus, loadDpkgStatus } from '../kb/index.js';
import type { ErrorCode } from '../shared/index.js';
import { indexLayerName } from '../kb/index.js';
import { UniverseBuilder, type LayerSpec } from './builder.js';
import { addDebianPackagesFast } from './debian-fast.js';
import { addInstalledLayer, createInstalledState, type InstalledState } from './installed.js';
import type { Universe } from './universe.js';
import { REL } from './universe.js';

const RELATION_FIELDS: Array<[number, number, 'clauses' | 'atoms' | 'provides']> = [
  [F.Depends, REL.depends, 'clauses'], [F.PreDepends, REL.preDepends, 'clauses'], [F.Recommends, REL.recommends, 'clauses'],
  [F.Suggests, REL.suggests, 'clauses'], [F.Conflicts, REL.conflicts, 'atoms'], [F.Breaks, REL.breaks, 'atoms'],
  [F.Provides, REL.provides, 'provides'], [F.Replaces, REL.replaces, 'atoms'], [F.Enhances, REL.enhances, 'clauses'],
];

export interface DebianLoadOptions {
  /** Only stanzas whose status is installed-ish are added (for dpkg status files). */
  installedOnly?: boolean;
  errorCode?: ErrorCode;
}

/** Statuses under which dpkg considers a package present on the host (all but not-installed / config-files). */
export function isPresentStatus(status: string): boolean {
  return status.trim() !== '' && isInstalledStatus(status);
}

function createStanzaSink(builder: UniverseBuilder, options: DebianLoadOptions): (st: ControlStanza) => void {
  const reader = new StanzaReader(options.errorCode ?? 'RW_INDEX_PARSE', builder.hostArch);
  return (st) => {
    if (options.installedOnly) {
      const status = st.get(F.Status);
      if (status === undefined || !isPresentStatus(status)) return;
    }
    const name = reader.name(st);
    const version = reader.version(st);
    const architecture = st.get(F.Architecture) ?? reader.required(st, F.Architecture, 'Architecture');
    const ess = st.get(F.Essential);
    const priority = st.get(F.Priority);
    const multiArch = st.get(F.MultiArch);
    const p: Parameters<UniverseBuilder['beginPackage']>[0] = { name, version, architecture, essential: ess === 'yes', line: st.line };
    if (priority !== undefined) p.priority = priority;
    if (multiArch !== undefined) p.multiArch = multiArch;
    if (builder.beginPackage(p) < 0) return;
    for (const [field, kind, shape] of RELATION_FIELDS) {
      if (!st.has(field as never)) continue;
      const s = reader.relations(st, field as never, shape === 'provides' ? { provides: true } : shape === 'atoms' ? { noAlternatives: true } : {});
      builder.addScratch(kind, s);
    }
  };
}

/** Add a decompressed index held in memory as a new layer. Returns the number of stanzas scanned lines. */
export function addDebianPackages(builder: UniverseBuilder, bytes: Buffer, file: string, layer: LayerSpec, options: DebianLoadOptions = {}): { lines: number } {
  builder.addLayer({ trust: 'distribution', source: file, ...layer });
  const lines = scanControl(bytes.toString('latin1'), file, createStanzaSink(builder, options), { errorCode: options.errorCode ?? 'RW_INDEX_PARSE' });
  return { lines };
}

/** Stream a (plain, .gz or .xz) index file into the builder as a new layer. */
export async function addDebianIndex(builder: UniverseBuilder, path: string, layer: LayerSpec, options: DebianLoadOptions = {}): Promise<{ bytes: number; lines: number }> {
  builder.addLayer({ trust: 'distribution', source: path, ...layer });
  return scanControlStream(streamDecompressed(path), path, createStanzaSink(builder, options), { errorCode: options.errorCode ?? 'RW_INDEX_PARSE' });
}

/** Read a whole (plain, .gz or .xz) index and add it by the byte fast path as a new layer. */
export async function addDebianIndexFast(builder: UniverseBuilder, path: string, layer: LayerSpec): Promise<{ bytes: number; lines: number; packages: number }> {
  const bytes = await readDecompressed(path);
  const r = addDebianPackagesFast(builder, bytes, path, layer);
  return { bytes: bytes.length, ...r };
}

export interface LoadDebianUniverseOptions {
  hostArch?: string;
  /** Enabled foreign architectures (multiarch): their versions are named `name:arch`. */
  foreignArchs?: readonly string[];
  /** A host's dpkg status file: its installed packages missing from the indexes are added (fill layer). */
  status?: { path: string; host?: string };
}

/**
 * The usual way in: Debian indexes (one layer each, later ones override), plus optionally a
 * host's dpkg status, into a built universe and that host's installed state.
 */
export async function loadDebianUniverse(indexes: string[], options: LoadDebianUniverseOptions = {}): Promise<{ universe: Universe; installed: InstalledState | undefined }> {
  const builder = new UniverseBuilder({ ...(options.hostArch ? { hostArch: options.hostArch } : {}), ...(options.foreignArchs ? { foreignArchs: options.foreignArchs } : {}) });
  for (const path of indexes) {
    await addDebianIndexFast(builder, path, { name: indexLayerName(path), source: path });
  }
  let entries;
  if (options.status) {
    const host = options.status.host ?? 'localhost';
    entries = await loadDpkgStatus(options.status.path, { host, ...(options.hostArch ? { hostArch: options.hostArch } : {}) });
    addInstalledLayer(builder, host, entries, options.status.path);
  }
  const universe = builder.build();
  const installed = entries ? createInstalledState(universe, entries, options.status?.host ?? 'localhost') : undefined;
  return { universe, installed };
}
