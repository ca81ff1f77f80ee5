/**
 * The resolver's use cases (`solve`, `why`, `why-not`, `kb check-installable`): load the
 * universe the one way (src/universe/knowledge-base.ts: indexes, the knowledge base's YAML layers,
 * a host's dpkg status as the fill layer) and hand the solver its problem.
 */
import { existsSync } from 'node:fs';
import { RollwiseError } from '../../shared/index.js';
import { isInstalledStatus, loadDpkgStatus } from '../../kb/index.js';
import { createInstalledState, loadDebianUniverse, type Universe } from '../../universe/index.js';
import { createUniverseProblem, type Problem } from '../../solver/index.js';
import { loadKnowledge } from './knowledge.js';

export interface SolveInputs {
  /** Debian Packages indexes (plain, .gz, .xz). */
  index: readonly string[];
  /** Indexes loaded only when no index is given and no KB path is one (the embedded default). */
  fallbackIndexes?: readonly string[];
  /** Knowledge-base paths whose packages are added as layers. */
  kb: readonly string[];
  /** A host's dpkg status file (default: nothing installed). */
  status?: string;
}

/** The universe of the inputs with the status's installed set marked. */
export async function loadSolveProblem(o: SolveInputs): Promise<Problem> {
  if (o.index.length === 0 && o.kb.length === 0 && (o.fallbackIndexes?.length ?? 0) === 0) {
    throw new RollwiseError('RW_USAGE', 'no packages to solve over', { hint: 'give --index FILE (a Debian Packages index) and/or --kb PATH (no default index was loaded: --no-index was given, or it is not beside the repository)' });
  }
  for (const f of [...o.index, ...(o.status ? [o.status] : [])]) {
    if (!existsSync(f)) throw new RollwiseError('RW_IO', `cannot read ${f}: no such file`, { hint: 'check the path' });
  }
  const entries = o.status ? (await loadDpkgStatus(o.status, { host: 'localhost' })).filter((e) => isInstalledStatus(e.status)) : [];
  const knowledge = await loadKnowledge({ kb: o.kb, indexes: o.index, ...(o.fallbackIndexes ? { fallbackIndexes: o.fallbackIndexes } : {}), installed: entries.map((e) => e.record) });
  const universe = knowledge.universe.universe;
  return createUniverseProblem(universe, createInstalledState(universe, entries, 'localhost').pvs);
}

/** The universe of whole archives, for installability checks. */
export async function loadArchive(indexes: readonly string[]): Promise<Universe> {
  for (const f of indexes) if (!existsSync(f)) throw new RollwiseError('RW_IO', `cannot read ${f}: no such file`, { hint: 'give Debian Packages indexes' });
  return (await loadDebianUniverse([...indexes])).universe;
}
