/**
 * Loading the knowledge base for a use case: its layers, its universe (one way, through
 * src/universe/knowledge-base.ts) and the environment rules the planner evaluates. Bad input is
 * a RollwiseError with the first problem's position before anything else happens.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { RollwiseError, type ErrorCode } from '../../shared/index.js';
import { hasErrors, type KnowledgeBase, type PackageRecord } from '../../kb/index.js';
import { loadKnowledgeBaseWithUniverse, type KbUniverse, type UniverseCacheOptions } from '../../universe/index.js';
import { environmentRulesFromKb, type EnvironmentRules } from '../../planner/index.js';
import { defaultStorePath } from '../../store/index.js';

/**
 * The binary universe cache (src/universe/cache.ts) for this process: `undefined` follows
 * ROLLWISE_UNIVERSE_CACHE (a folder, or `off`) and otherwise uses `universe-cache/` beside the
 * default store (.rollwise/); the CLI's --universe-cache DIR and --no-universe-cache set it.
 */
let universeCacheChoice: string | false | undefined;

export function setUniverseCache(choice: string | false | undefined): void {
  universeCacheChoice = choice;
}

/** The cache folder in force, or undefined when the cache is off. */
export function universeCacheOptions(): UniverseCacheOptions | undefined {
  let choice = universeCacheChoice;
  if (choice === undefined) {
    const env = process.env.ROLLWISE_UNIVERSE_CACHE;
    if (env === 'off' || env === '0' || env === 'false') choice = false;
    else if (env) choice = env;
  }
  if (choice === false) return undefined;
  return { dir: choice ?? path.join(path.dirname(defaultStorePath()), 'universe-cache') };
}

export interface Knowledge {
  kb: KnowledgeBase;
  /** The layers as a universe (indexes by the fast path, YAML layers on top). */
  universe: KbUniverse;
  rules: EnvironmentRules;
}

export interface KnowledgeInputs {
  /** Knowledge-base paths: YAML files, directories of them, Packages indexes. */
  kb: readonly string[];
  /** Extra Debian Packages indexes. */
  indexes: readonly string[];
  /** Indexes loaded only when none is given (the embedded default). */
  fallbackIndexes?: readonly string[];
  /** Installed versions known before loading (a fleet read from files, a dpkg status): built in at once. */
  installed?: readonly PackageRecord[];
  /** Accept files named by the knowledge base outside its folder (the operator's --allow-outside-paths). */
  allowOutsidePaths?: boolean;
}

function withUniverseCache(): { universeCache?: UniverseCacheOptions } {
  const o = universeCacheOptions();
  return o ? { universeCache: o } : {};
}

/** Loads and validates; RW_USAGE without any input, RW_IO for a missing path, RW_KB_INVALID for problems. */
export async function loadKnowledge(inputs: KnowledgeInputs): Promise<Knowledge> {
  if (inputs.kb.length + inputs.indexes.length + (inputs.fallbackIndexes?.length ?? 0) === 0) {
    throw new RollwiseError('RW_USAGE', 'no knowledge base given', { hint: 'pass --kb PATH (YAML layers) and/or --index FILE (a Debian Packages index)' });
  }
  for (const i of inputs.indexes) if (!existsSync(i)) throw new RollwiseError('RW_IO', `index not found: ${i}`, { hint: 'give a Debian Packages index (plain, .gz or .xz)' });
  for (const k of inputs.kb) if (!existsSync(k)) throw new RollwiseError('RW_IO', `knowledge base path not found: ${k}`, { hint: 'give a YAML file, a directory of them, or a Packages index' });
  const { kb, universe } = await loadKnowledgeBaseWithUniverse(inputs.kb, {
    indexes: inputs.indexes, ...(inputs.fallbackIndexes ? { fallbackIndexes: inputs.fallbackIndexes } : {}), ...(inputs.installed ? { installed: inputs.installed } : {}),
    ...(inputs.allowOutsidePaths ? { allowOutsidePaths: true } : {}),
    ...withUniverseCache(),
  });
  return knowledgeFrom(kb, universe, inputs.kb);
}

/** A loaded knowledge base as Knowledge; RW_KB_INVALID (first problem's position) when it has errors. */
export function knowledgeFrom(kb: KnowledgeBase, universe: KbUniverse, kbPaths: readonly string[] = []): Knowledge {
  if (hasErrors(kb.problems)) {
    const errors = kb.problems.filter((p) => p.severity === 'error');
    const first = errors[0]!;
    const position = first.line !== undefined ? { position: { file: first.file, line: first.line, column: first.column ?? 1 } } : {};
    // an index that cannot be read is that index's error (its own code and hint), not the knowledge base's
    const wrapped = first.code === 'RW_KB_INDEX' ? /^(RW_[A-Z_]+): ([^]*)$/.exec(first.message) : null;
    if (wrapped && errors.length === 1) {
      throw new RollwiseError(wrapped[1] as ErrorCode, first.line !== undefined ? wrapped[2]! : `${first.file}: ${wrapped[2]}`, { ...position, hint: first.hint ?? 'give a Debian Packages index (plain, .gz, .xz or .lz4)' });
    }
    const where = first.line !== undefined ? '' : `${first.file}: `;
    throw new RollwiseError('RW_KB_INVALID', `the knowledge base has ${errors.length} problem${errors.length === 1 ? '' : 's'}; first: ${where}${first.code} ${first.message}`, {
      ...position,
      hint: kbPaths.length > 0 ? `rollwise kb validate ${kbPaths.join(' ')} lists them all` : 'rollwise kb validate PATH... lists them all',
    });
  }
  return { kb, universe, rules: environmentRulesFromKb(kb) };
}
