/**
 * The resolver's use cases (`solve`, `why`, `why-not`, `kb check-installable`): load the
 * universe the one way (src/universe/knowledge-base.ts: indexes, the knowledge base's YAML layers,
 * a host's dpkg status as the fill layer) and hand the solver its problem.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { RollwiseError, didYouMean } from '../../shared/index.js';
import { isInstalledStatus, loadDpkgStatus } from '../../kb/index.js';
import { cachedUniverse, createInstalledState, loadDebianUniverse, type Universe } from '../../universe/index.js';
import { createUniverseProblem, type PackageSet, type Problem, type RequestItem } from '../../solver/index.js';
import { createAptViews, readHostAptConfig, type HostAptConfig } from '../../fleet/index.js';
import { requireNoRelease } from '../../planner/index.js';
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
  /** Further names the command asks about (why/why-not's PKG): under `root`, checked like the request's names. */
  names?: readonly string[];
  /** Whether Recommends count (apt's Install-Recommends, for `name/release` items). Default true. */
  recommends?: boolean;
}

/**
 * The universe of the inputs with the status's installed set marked; under a root's apt policy,
 * `items` is the request as that host's apt takes it (`name/release` resolved to a version).
 */
export async function loadSolveProblem(o: SolveInputs): Promise<Problem & { items?: RequestItem[] }> {
  if (o.index.length === 0 && o.kb.length === 0 && (o.fallbackIndexes?.length ?? 0) === 0) {
    throw new RollwiseError('RW_USAGE', 'no packages to solve over', { hint: 'give --index FILE (a Debian Packages index) and/or --kb PATH (no default index was loaded: --no-index was given, or it is not beside the repository)' });
  }
  const statusFile = o.status ?? (o.root !== undefined ? path.join(o.root, 'var/lib/dpkg/status') : undefined);
  // a missing file is named with what it was expected to be (`cannot read WHAT PATH: ...`, as the YAML readers say it)
  for (const f of o.index) {
    if (!existsSync(f)) throw new RollwiseError('RW_IO', `cannot read the Debian Packages index ${f}: no such file`, { hint: 'check the path; --index takes a Packages file, plain, .gz or .xz' });
  }
  if (statusFile !== undefined && !existsSync(statusFile)) {
    throw new RollwiseError('RW_IO', `cannot read the dpkg status file ${statusFile}: no such file`, {
      hint: o.status === undefined ? `--root takes a directory root holding a dpkg database (var/lib/dpkg/status under ${o.root})` : 'check the path; --status takes a dpkg status file',
    });
  }
  const entries = statusFile ? (await loadDpkgStatus(statusFile, { host: 'localhost' })).filter((e) => isInstalledStatus(e.status)) : [];
  const knowledge = await loadKnowledge({ kb: o.kb, indexes: o.index, ...(o.fallbackIndexes ? { fallbackIndexes: o.fallbackIndexes } : {}), installed: entries.map((e) => e.record) });
  const universe = knowledge.universe.universe;
  const problem = createUniverseProblem(universe, createInstalledState(universe, entries, 'localhost').pvs);
  const apt = o.root !== undefined ? readHostAptConfig(o.root, universe.hostArch) : undefined;
  const names = [...(o.items ?? []).flatMap((i) => ('name' in i ? [i.name] : [])), ...(o.names ?? [])];
  if (o.root !== undefined) assertRootKnows(universe, problem.set, o.root, names);
  if (!apt || apt.sources.length === 0) return { ...problem, items: requireNoRelease(o.items ?? []) };
  const resolved = createAptViews(universe).resolve(apt, problem.installed, o.items ?? [], o.recommends !== false);
  assertSourcesReach(universe, resolved.set, apt, o.root!, names);
  return { set: resolved.set, installed: problem.installed, items: resolved.items };
}

/**
 * A name no loaded index or knowledge-base layer has, asked about on a directory-root host:
 * RW_UNKNOWN_PACKAGE naming the root and every index searched (as assertSourcesReach does for a
 * name the root's sources do not reach), with the closest names there are.
 */
function assertRootKnows(universe: Universe, all: PackageSet, root: string, names: readonly string[]): void {
  const known = (n: string): boolean => all.versionsOf(n).length > 0 || all.isProvided(n);
  const unknown = [...new Set(names)].filter((n) => !known(n));
  if (unknown.length === 0) return;
  // every layer but the fill layer of installed versions: indexes (with their release), then knowledge-base layers
  const layers = universe.layers.filter((l) => l.trust !== 'observed');
  const searched = [...layers.filter((l) => l.trust === 'distribution').map(describeLayer), ...layers.filter((l) => l.trust !== 'distribution').map((l) => `knowledge base ${path.basename(l.source)}`)];
  const suggestions = unknown.map((n) => didYouMean(n, all.names, 3, known)).join('');
  throw new RollwiseError('RW_UNKNOWN_PACKAGE', `no package ${unknown.join(', ')} for the root ${root}: no index loaded has ${unknown.length === 1 ? 'it' : 'them'} (searched: ${searched.join(', ') || 'nothing'})${suggestions}`, {
    hint: 'no index or knowledge-base layer loaded has it: check the spelling, or give the --index / --kb that has it',
  });
}

/**
 * A requested name the loaded indexes have but the root's apt sources do not reach: say which
 * index has it and that the root's sources do not name it (RW_UNKNOWN_PACKAGE), rather than
 * "no index loaded has it".
 */
function assertSourcesReach(universe: Universe, set: PackageSet, apt: HostAptConfig, root: string, names: readonly string[]): void {
  const problems: string[] = [];
  for (const name of new Set(names)) {
    if (set.versionsOf(name).length > 0 || set.isProvided(name)) continue;
    const layers = [...new Set([...universe.versionsOf(universe.nameId(name))].flatMap((pv) => [...universe.layerIndexesOf(pv)]))].map((i) => universe.layers[i]!);
    if (layers.length === 0) continue;
    problems.push(`no package ${name} for the root ${root}: it is in ${layers.map(describeLayer).join(' and ')}, which this root's apt sources do not name`);
  }
  if (problems.length === 0) return;
  const named = [...new Set(apt.sources.filter((s) => s.type === 'deb').map((s) => [s.suite, ...s.components].join(' ')))];
  throw new RollwiseError('RW_UNKNOWN_PACKAGE', `${problems.join('; ')} (its sources name: ${named.join(', ') || 'nothing'})`, {
    hint: `add a source naming that suite and component to ${path.join(root, 'etc/apt/sources.list')}, or solve without --root`,
  });
}

/** `index bookworm-main-amd64.Packages (bookworm main)` (a repository layer: only those are seen through sources). */
function describeLayer(l: Universe['layers'][number]): string {
  const r = l.release;
  return `index ${path.basename(l.source)}${r ? ` (${[r.suite ?? r.codename, r.component].filter(Boolean).join(' ')})` : ''}`;
}

/** The universe of whole archives, for installability checks. */
export async function loadArchive(indexes: readonly string[]): Promise<Universe> {
  for (const f of indexes) if (!existsSync(f)) throw new RollwiseError('RW_IO', `cannot read the Debian Packages index ${f}: no such file`, { hint: 'give Debian Packages indexes' });
  const parts = ['archive', 'amd64', ...indexes.flatMap((f) => [`index ${f}`, { file: f }])];
  return (await cachedUniverse(universeCacheOptions(), parts, async () => (await loadDebianUniverse([...indexes])).universe)).universe;
}
