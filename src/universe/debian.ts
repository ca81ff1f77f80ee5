/**
 * The fast path from a Debian `Packages` index (or dpkg status file) straight into a universe
 * builder: the control scanner finds the fields, the relation parser fills a reused scratch, and
 * the builder interns it. No PackageRecord objects are created.
 */
import { F, scanControl, scanControlStream, type ControlStanza } from '../kb/importers/control.js';
import { StanzaReader } from '../kb/importers/debian.js';
import { streamDecompressed } from '../kb/importers/io.js';
import type { ErrorCode } from '../shared/errors.js';
import type { LayerSpec, UniverseBuilder } from './builder.js';
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
  const word = status.slice(status.lastIndexOf(' ') + 1);
  return word !== 'not-installed' && word !== 'config-files' && word !== '';
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
