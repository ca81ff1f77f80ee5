/**
 * Release facts of a package index: apt reads a repository's origin, label, suite, codename,
 * version and NotAutomatic flags from its Release (or signed InRelease) file, and pins and
 * candidate choice match on them. This reads those few fields, and finds the Release file that
 * belongs to an index file named the usual way (`<dist>-<component>-<arch>.Packages[.xz]` beside
 * `<dist>.InRelease`), so a layer loaded from an index knows which repository it is.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ReleaseFacts } from './universe.js';

const FIELDS: Record<string, keyof ReleaseFacts> = {
  origin: 'origin', label: 'label', suite: 'suite', archive: 'suite', codename: 'codename', version: 'version',
};

/** The facts of a Release or InRelease text (the PGP armour of InRelease is skipped). */
export function parseReleaseFacts(text: string): ReleaseFacts {
  const facts: ReleaseFacts = {};
  let inSignature = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('-----BEGIN PGP SIGNATURE')) inSignature = true;
    if (inSignature || line.startsWith('-----') || line.startsWith(' ') || line.startsWith('\t')) continue;
    const m = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!.trim();
    const field = FIELDS[key];
    if (field && facts[field] === undefined) (facts as Record<string, string>)[field] = value;
    else if (key === 'notautomatic') facts.notAutomatic = value.toLowerCase() === 'yes';
    else if (key === 'butautomaticupgrades') facts.butAutomaticUpgrades = value.toLowerCase() === 'yes';
  }
  return facts;
}

/** `bookworm-security-main-amd64.Packages.xz` → dist, component, architecture; undefined for other names. */
export function indexFileParts(file: string): { dist: string; component: string; architecture: string } | undefined {
  const m = /^(.+)-(main|contrib|non-free|non-free-firmware|[a-z]+)-([a-z0-9]+)\.Packages(?:\.(?:xz|gz|lz4|bz2))?$/.exec(path.basename(file));
  if (!m) return undefined;
  return { dist: m[1]!, component: m[2]!, architecture: m[3]! };
}

/**
 * Release facts of an index file: its sibling `<dist>.InRelease` or `<dist>.Release` when there
 * is one, completed with the component and architecture of the file name; without a Release
 * file, the codename and suite are the dist of the name. Undefined when the name says nothing.
 */
export function releaseFactsForIndex(file: string): ReleaseFacts | undefined {
  const parts = indexFileParts(file);
  if (!parts) return undefined;
  const dir = path.dirname(file);
  let facts: ReleaseFacts = { codename: parts.dist, suite: parts.dist };
  for (const name of [`${parts.dist}.InRelease`, `${parts.dist}.Release`]) {
    const p = path.join(dir, name);
    if (existsSync(p)) { facts = parseReleaseFacts(readFileSync(p, 'utf8')); break; }
  }
  return { ...facts, component: parts.component, architecture: parts.architecture };
}

/**
 * The architecture of a Packages index from its file name: `<dist>-<component>-<arch>.Packages`
 * (indexFileParts) or an apt list `..._binary-<arch>_Packages`; undefined when the name says nothing.
 */
export function indexArchitecture(file: string): string | undefined {
  const parts = indexFileParts(file);
  if (parts) return parts.architecture;
  return /_binary-([a-z0-9-]+)_Packages(?:\.(?:xz|gz|lz4|bz2|zst))?$/.exec(path.basename(file))?.[1];
}

/**
 * The foreign architectures (multiarch) a set of index files brings into a universe of native
 * architecture `native`: every architecture an index is named for, except native and `all`.
 */
export function foreignArchitecturesOf(files: Iterable<string>, native = 'amd64'): string[] {
  const out = new Set<string>();
  for (const f of files) {
    const a = indexArchitecture(f);
    if (a !== undefined && a !== native && a !== 'all') out.add(a);
  }
  return [...out].sort();
}
