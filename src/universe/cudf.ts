/**
 * A universe from a CUDF document: its packages (scheme `cudf`, CUDF provides semantics, keep),
 * its installed state, and its request kept as data for the resolver.
 */
import { cudfToRecords, type CudfDocument, type CudfRequest } from '../kb/index.js';
import { RollwiseError, excerpt } from '../shared/index.js';
import { UniverseBuilder } from './builder.js';
import { createInstalledState, type InstalledState } from './installed.js';
import type { Universe } from './universe.js';

export interface CudfUniverse {
  universe: Universe;
  installed: InstalledState;
  request: CudfRequest | undefined;
}

export function createCudfUniverse(doc: CudfDocument): CudfUniverse {
  const builder = new UniverseBuilder({ hostArch: 'all' });
  builder.addLayer({ name: `cudf:${doc.file.split('/').pop() ?? doc.file}`, source: doc.file, trust: 'distribution' });
  const seen = new Map<string, number>();
  const records = cudfToRecords(doc);
  doc.packages.forEach((p, i) => {
    const key = `${p.name}\u0000${p.version}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      throw new RollwiseError('RW_CUDF_PARSE', `package '${excerpt(p.name)}' version ${excerpt(p.version)} is defined twice (first at line ${prev})`, {
        position: { file: doc.file, line: p.line, column: 1 }, hint: 'give each package version once',
      });
    }
    seen.set(key, p.line);
    builder.addRecord(records[i]!, { keep: p.keep });
  });
  const universe = builder.build();
  const installed = createInstalledState(universe, doc.packages.filter((p) => p.installed).map((p) => ({ name: p.name, version: p.version })), doc.file);
  return { universe, installed, request: doc.request };
}
