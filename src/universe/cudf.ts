/**
 * A universe from a CUDF document: its packages (scheme `cudf`, CUDF provides semantics, keep),
 * its installed state, and its request kept as data for the resolver.
 */
import type { CudfDocument, CudfRequest } from '../kb/index.js';
import { RollwiseError, excerpt } from '../shared/index.js';
import { UniverseBuilder } from './builder.js';
import { createInstalledState, type InstalledState } from './installed.js';
import { REL, type Universe } from './universe.js';

export interface CudfUniverse {
  universe: Universe;
  installed: InstalledState;
  request: CudfRequest | undefined;
}

export function createCudfUniverse(doc: CudfDocument): CudfUniverse {
  const builder = new UniverseBuilder({ hostArch: 'all' });
  builder.addLayer({ name: `cudf:${doc.file.split('/').pop() ?? doc.file}`, source: doc.file, trust: 'distribution' });
  // Straight into the builder (the facts cudfToRecords + addRecord would give, without a record per package).
  const lineOfPv: number[] = [];
  for (const p of doc.packages) {
    const before = builder.packageCount;
    const pv = builder.beginPackage({ name: p.name, version: p.version, architecture: 'all', scheme: 'cudf', essential: false, line: p.line, keep: p.keep });
    if (pv < before) {
      throw new RollwiseError('RW_CUDF_PARSE', `package '${excerpt(p.name)}' version ${excerpt(p.version)} is defined twice (first at line ${lineOfPv[pv]})`, {
        position: { file: doc.file, line: p.line, column: 1 }, hint: 'give each package version once',
      });
    }
    lineOfPv[pv] = p.line;
    builder.addClauses(REL.depends, p.depends);
    builder.addClauses(REL.recommends, p.recommends);
    if (p.conflicts.length > 0) builder.addClauses(REL.conflicts, p.conflicts.map((a) => [a]));
    if (p.provides.length > 0) builder.addClauses(REL.provides, p.provides.map((a) => [a]));
  }
  const universe = builder.build();
  const installed = createInstalledState(universe, doc.packages.filter((p) => p.installed).map((p) => ({ name: p.name, version: p.version })), doc.file);
  return { universe, installed, request: doc.request };
}
