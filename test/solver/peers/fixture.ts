/**
 * Shared inputs of the peer tests: the bookworm index (decompressed once into .bench-cache),
 * its records (kb importer) and universe problems (universe layer), loaded once per test file.
 */
import { readFileSync } from 'node:fs';
import type { PackageRecord } from '../../../src/kb/index.js';
import { parseDebianPackages } from '../../../src/kb/index.js';
import { parseDpkgStatus } from '../../../src/kb/index.js';
import { UniverseBuilder, addDebianPackagesFast, addInstalledLayer, createInstalledState, type Universe } from '../../../src/universe/index.js';
import { createUniverseProblem, type Problem } from '../../../src/solver/index.js';
import { ensureBookwormPackages } from '../../helpers/peers.js';

export interface LoadedIndex {
  file: string;
  records: PackageRecord[];
  byKey: Map<string, PackageRecord>;
  byName: Map<string, PackageRecord[]>;
}

export const recordKey = (name: string, version: string, arch: string): string => `${name} ${version} ${arch}`;

export function loadIndexRecords(file: string = ensureBookwormPackages()): LoadedIndex {
  const { records } = parseDebianPackages(readFileSync(file), file);
  const byKey = new Map<string, PackageRecord>();
  const byName = new Map<string, PackageRecord[]>();
  for (const r of records) {
    byKey.set(recordKey(r.name, r.version, r.architecture), r);
    const l = byName.get(r.name);
    if (l) l.push(r);
    else byName.set(r.name, [r]);
  }
  return { file, records, byKey, byName };
}

export interface LoadedProblem {
  universe: Universe;
  problem: Problem;
  /** The record (from the kb importer, not the universe) of a pv. */
  recordOf(pv: number): PackageRecord;
}

/** A universe problem over a Packages file, with an optional dpkg status text installed. */
export function loadProblem(index: LoadedIndex, statusText?: string): LoadedProblem {
  const builder = new UniverseBuilder();
  addDebianPackagesFast(builder, readFileSync(index.file), index.file, { name: 'debian:bookworm', source: index.file });
  const entries = statusText !== undefined ? parseDpkgStatus(statusText, 'status', { host: 'peer' }) : undefined;
  if (entries) addInstalledLayer(builder, 'peer', entries, 'status');
  const universe = builder.build();
  const installed = entries ? createInstalledState(universe, entries, 'peer') : undefined;
  const problem = createUniverseProblem(universe, installed?.pvs ?? []);
  return {
    universe,
    problem,
    recordOf(pv) {
      const r = index.byKey.get(recordKey(universe.nameOfPv(pv), universe.versionOf(pv), universe.archOf(pv)));
      if (!r) throw new Error(`pv ${pv} (${universe.describePv(pv)}) has no record in the index`);
      return r;
    },
  };
}
