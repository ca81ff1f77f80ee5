/**
 * The inventory's `apt:` section (at `defaults`, per group, per host: the most specific one wins
 * key by key): `sources` (sources.list lines, optionally with the index file each reads for
 * offline planning, or one per architecture, `indexes: { amd64: FILE, i386: FILE }`, for a host
 * with foreign architectures), `preferences` (pins), `architectures` (native first) and `defaultRelease`.
 * A directory-root host without one has its own etc/apt read instead. Lines and pins are read
 * by the same parsers as the files (./apt-config.ts); a problem points at the inventory's node.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { isRollwiseError, type SourcePosition } from '../shared/index.js';
import { parsePreferences, parseSourcesList, readHostAptConfig, type AptSource, type HostAptConfig } from './apt-config.js';
import { ARCH_PATTERN } from './facts.js';

const SourceEntrySchema = z.union([
  z.string().min(1).describe('a sources.list line, e.g. deb http://deb.debian.org/debian bookworm main'),
  z.strictObject({
    line: z.string().min(1).describe('a sources.list line'),
    index: z.string().min(1).describe('the Packages index file this source reads, for offline planning (relative to the inventory)').optional(),
    indexes: z.record(z.string().regex(ARCH_PATTERN, 'a Debian architecture such as i386'), z.string().min(1))
      .describe('per architecture (native and foreign), the Packages index file this source reads (relative to the inventory)').optional(),
  }),
]);

const PinEntrySchema = z.strictObject({
  package: z.string().min(1).describe('package names, globs or /regexes/, or *'),
  pin: z.string().min(1).describe('version 1.2*, release a=bookworm-backports, or origin deb.debian.org'),
  priority: z.number().int().min(-32768).max(32767).refine((n) => n !== 0, 'a non-zero priority'),
});

export const AptInventorySchema = z.strictObject({
  sources: z.array(SourceEntrySchema).optional(),
  preferences: z.array(PinEntrySchema).optional(),
  architectures: z.array(z.string().regex(ARCH_PATTERN, 'a Debian architecture such as amd64')).min(1).optional().describe('native first, then foreign architectures'),
  defaultRelease: z.string().min(1).optional().describe('APT::Default-Release'),
});

export type AptInventory = z.infer<typeof AptInventorySchema>;

export interface AptProblem {
  position: SourcePosition;
  message: string;
  hint?: string;
}

/**
 * A host's apt configuration from its inventory layers (least specific first, each with the
 * YAML path it sits at), or from its directory root when no layer has one. Undefined when
 * nothing says (the host then sees every repository, as before sources were known).
 */
export function resolveHostApt(
  layers: ReadonlyArray<{ apt: AptInventory | undefined; at: ReadonlyArray<string | number> }>,
  options: { dir: string; architecture: string; root?: string; find: (p: ReadonlyArray<string | number>) => SourcePosition; problems: AptProblem[] },
): HostAptConfig | undefined {
  const pick = <K extends keyof AptInventory>(key: K): { value: NonNullable<AptInventory[K]>; at: ReadonlyArray<string | number> } | undefined => {
    for (let i = layers.length - 1; i >= 0; i--) {
      const v = layers[i]!.apt?.[key];
      if (v !== undefined) return { value: v as NonNullable<AptInventory[K]>, at: [...layers[i]!.at, 'apt', key] };
    }
    return undefined;
  };
  const sources = pick('sources');
  const prefs = pick('preferences');
  const archs = pick('architectures');
  const target = pick('defaultRelease');
  if (!sources && !prefs && !archs && !target) {
    const root = options.root;
    if (root === undefined || !(existsSync(path.join(root, 'etc/apt/sources.list')) || existsSync(path.join(root, 'etc/apt/sources.list.d')))) return undefined;
    try {
      return readHostAptConfig(root, options.architecture);
    } catch (e) {
      if (!isRollwiseError(e)) throw e;
      options.problems.push({ position: e.position ?? options.find([]), message: e.message, hint: e.hint });
      return undefined;
    }
  }
  const problem = (at: ReadonlyArray<string | number>, e: unknown): void => {
    if (!isRollwiseError(e)) throw e;
    options.problems.push({ position: options.find(at), message: e.message, hint: e.hint });
  };
  const architecture = archs?.value[0] ?? options.architecture;
  const foreignArchitectures = archs ? archs.value.slice(1) : [];
  const out: AptSource[] = [];
  sources?.value.forEach((entry, i) => {
    const line = typeof entry === 'string' ? entry : entry.line;
    const at = typeof entry === 'string' ? [...sources.at, i] : [...sources.at, i, 'line'];
    try {
      const parsed = parseSourcesList(line, 'inventory');
      if (parsed.length !== 1) throw new Error('one source per entry');
      const s = { ...parsed[0]!, position: options.find(at) };
      if (typeof entry !== 'string' && entry.index) s.index = path.resolve(options.dir, entry.index);
      if (typeof entry !== 'string' && entry.indexes) s.indexes = sourceIndexes(entry.indexes, [...sources.at, i, 'indexes'], [architecture, ...foreignArchitectures], options);
      out.push(s);
    } catch (e) {
      if (e instanceof Error && !isRollwiseError(e)) options.problems.push({ position: options.find(at), message: `one sources.list line per entry, not '${line.slice(0, 60)}'` });
      else problem(at, e);
    }
  });
  const pins: HostAptConfig['preferences'] = [];
  prefs?.value.forEach((p, i) => {
    try {
      const parsed = parsePreferences(`Package: ${p.package}\nPin: ${p.pin}\nPin-Priority: ${p.priority}\n`, 'inventory');
      const pos = options.find([...prefs.at, i]);
      for (const x of parsed) pins.push({ ...x, where: `${pos.file}:${pos.line}` });
    } catch (e) {
      problem([...prefs.at, i, 'pin'], e);
    }
  });
  return {
    sources: out, preferences: pins, architecture, foreignArchitectures,
    ...(target ? { defaultRelease: target.value } : {}),
  };
}

/**
 * A source's index files per architecture, resolved against the inventory's folder: each
 * architecture must be one the host has (native or foreign) and each file must exist; a problem
 * points at the entry's node.
 */
function sourceIndexes(
  indexes: Readonly<Record<string, string>>, at: ReadonlyArray<string | number>, architectures: readonly string[],
  options: { dir: string; find: (p: ReadonlyArray<string | number>) => SourcePosition; problems: AptProblem[] },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [arch, file] of Object.entries(indexes)) {
    const where = options.find([...at, arch]);
    if (!architectures.includes(arch)) {
      options.problems.push({ position: where, message: `index for architecture '${arch}', which this host does not have (it has ${architectures.join(', ')})`, hint: "add it to the host's apt: architectures (native first), or remove this index" });
      continue;
    }
    const full = path.resolve(options.dir, file);
    if (!existsSync(full)) {
      options.problems.push({ position: where, message: `index file ${file} for architecture '${arch}' does not exist (looked for ${full})`, hint: 'give the path of a Packages index relative to the inventory' });
      continue;
    }
    out[arch] = full;
  }
  return out;
}
