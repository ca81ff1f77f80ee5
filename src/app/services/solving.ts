/**
 * The resolver's use cases (`solve`, `why`, `why-not`, `kb check-installable`): load the
 * universe the one way (src/universe/knowledge-base.ts: indexes, the knowledge base's YAML layers,
 * a host's dpkg status as the fill layer) and hand the solver its problem.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { RollwiseError } from '../../shared/index.js';
import { isInstalledStatus, loadDpkgStatus } from '../../kb/index.js';
import { cachedUniverse, createInstalledState, loadDebianUniverse, type Universe } from '../../universe/index.js';
import { createUniverseProblem, type Problem, type RequestItem } from '../../solver/index.js';
import { createAptViews, readHostAptConfig } from '../../fleet/index.js';
import { loadKnowledge, universeCacheOptions } from './knowledge.js';

export interface SolveInputs {
  /** Debian Packages indexes (plain, .gz, .xz). */
  index: readonly string[];
  /** Indexes loaded only when no index is given and no KB path is one (the embedded default). */
  fallbackIndexes?: readonly string[];
  /** Knowledge-base paths whose packages are added as layers. */
  kb: readonly string[];
  /** A host's dpkg status file (default: nothing installed). */
  status?: string;
  /**
   * A directory-root host: its dpkg status (unless `status`) and its apt configuration; with
   * sources there, the problem is the host's view under apt's policy (`items`: the request, whose
   * exact versions apt would allow).
   */
  root?: string;
  items?: readonly RequestItem[];
}

/** The universe of the inputs with the status's installed set marked. */
export async function loadSolveProblem(o: SolveInputs): Promise<Problem> {
  if (o.index.length === 0 && o.kb.length === 0 && (o.fallbackIndexes?.length ?? 0) === 0) {
    throw new RollwiseError('RW_USAGE', 'no packages to solve over', { hint: 'give --index FILE (a Debian Packages index) and/or --kb PATH (no default index was loaded: --no-index was given, or it is not beside the repository)' });
  }
  const statusFile = o.status ?? (o.root !== undefined ? path.join(o.root, 'var/lib/dpkg/status') : undefined);
  for (const f of [...o.index, ...(statusFile ? [statusFile] : [])]) {
    if (!existsSync(f)) throw new RollwiseError('RW_IO', `cannot read ${f}: no such file`, { hint: 'check the path' });
  }
  const entries = statusFile ? (await loadDpkgStatus(statusFile, { host: 'localhost' })).filter((e) => isInstalledStatus(e.status)) : [];
  const knowledge = await loadKnowledge({ kb: o.kb, indexes: o.index, ...(o.fallbackIndexes ? { fallbackIndexes: o.fallbackIndexes } : {}), installed: entries.map((e) => e.record) });
  const universe = knowledge.universe.universe;
  const problem = createUniverseProblem(universe, createInstalledState(universe, entries, 'localhost').pvs);
  const apt = o.root !== undefined ? readHostAptConfig(o.root, universe.hostArch) : undefined;
  if (!apt || apt.sources.length === 0) return problem;
  return { set: createAptViews(universe).viewFor(apt, problem.installed, o.items ?? []), installed: problem.installed };
}

/** The universe of whole archives, for installability checks. */
export async function loadArchive(indexes: readonly string[]): Promise<Universe> {
  for (const f of indexes) if (!existsSync(f)) throw new RollwiseError('RW_IO', `cannot read ${f}: no such file`, { hint: 'give Debian Packages indexes' });
  const parts = ['archive', 'amd64', ...indexes.flatMap((f) => [`index ${f}`, { file: f }])];
  return (await cachedUniverse(universeCacheOptions(), parts, async () => (await loadDebianUniverse([...indexes])).universe)).universe;
}
