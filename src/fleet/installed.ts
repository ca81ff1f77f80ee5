/**
 * A host's installed set: the packages dpkg considers installed (name, version, architecture),
 * read from a dpkg status file, `dpkg-query -W` output, or written inline in an inventory.
 */
import { excerpt } from '../shared/index.js';
import { isValidDebianVersion } from '../versions/index.js';

export interface InstalledPackage {
  name: string;
  version: string;
  architecture: string;
}

/**
 * The name the resolver keeps an installed package under (multiarch): `name:arch` when its
 * architecture is one of the universe's foreign architectures, else the name (native and `all`
 * packages). Maps keyed by it tell `libc6` (amd64) from `libc6:i386`.
 */
export function installedSpecName(p: InstalledPackage, foreignArchs: readonly string[]): string {
  return foreignArchs.length > 0 && foreignArchs.includes(p.architecture) ? `${p.name}:${p.architecture}` : p.name;
}

/** Debian package name grammar (policy 5.6.1): lowercase letters, digits, + - . ; at least two chars. */
export const PACKAGE_NAME_PATTERN = /^[a-z0-9][a-z0-9+.-]+$/;

export function isValidPackageName(s: string): boolean {
  return PACKAGE_NAME_PATTERN.test(s);
}

/** Which dpkg states count as installed for planning (the package's files are on disk and configured or half-way). */
const INSTALLED_STATES = new Set(['installed', 'half-configured', 'triggers-awaited', 'triggers-pending', 'unpacked', 'half-installed']);

export interface StatusParseProblem {
  line: number;
  column: number;
  message: string;
}

/** A deb822 field line: a name (printable, no colon, not starting with '#' or '-') then a colon. */
const FIELD_LINE = /^[!-"$-,.-9;-~][!-9;-~]*:/;

/**
 * Whether `text` reads as a dpkg status file: its first line that is not blank is a field line
 * and some line is a `Package:` field. A key, a password or shadow file, a script is not.
 */
export function looksLikeStatus(text: string): boolean {
  const first = /^[^\S\n]*\S.*$/m.exec(text);
  if (!first || !FIELD_LINE.test(first[0])) return false;
  return /^Package:/im.test(text);
}

/**
 * Reads the installed packages of a dpkg status file (stanzas separated by blank lines).
 * Only Package, Version, Architecture and Status are read; continuation lines are skipped.
 * Returns the packages and every problem found (with 1-based line/column), not a thrown error.
 */
export function parseStatusInstalled(text: string): { packages: InstalledPackage[]; problems: StatusParseProblem[] } {
  const packages: InstalledPackage[] = [];
  const problems: StatusParseProblem[] = [];
  const lines = text.split('\n');
  let cur: { name?: string; version?: string; arch?: string; status?: string; line: number; vline: number } | undefined;
  const flush = (): void => {
    if (!cur) return;
    const c = cur;
    cur = undefined;
    if (!c.name) {
      problems.push({ line: c.line, column: 1, message: 'stanza without a Package field' });
      return;
    }
    const state = c.status?.trim().split(/\s+/)[2];
    if (!state || !INSTALLED_STATES.has(state)) return;
    if (!c.version) {
      problems.push({ line: c.line, column: 1, message: `package ${c.name} has no Version` });
      return;
    }
    if (!isValidDebianVersion(c.version)) {
      problems.push({ line: c.vline, column: 10, message: `malformed version '${excerpt(c.version)}' of ${c.name}` });
      return;
    }
    packages.push({ name: c.name, version: c.version, architecture: c.arch ?? 'all' });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      // never quoted: a file that is not what it claims may be a key or a password file
      problems.push({ line: i + 1, column: 1, message: "not a 'Field: value' line (its content is not shown)" });
      continue;
    }
    cur ??= { line: i + 1, vline: i + 1 };
    const field = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (field === 'package') {
      if (!isValidPackageName(value)) problems.push({ line: i + 1, column: 10, message: `malformed package name '${excerpt(value)}'` });
      cur.name = value;
    } else if (field === 'version') {
      cur.version = value;
      cur.vline = i + 1;
    } else if (field === 'architecture') cur.arch = value;
    else if (field === 'status') cur.status = value;
  }
  flush();
  return { packages, problems };
}

/** The `dpkg-query -W` format the SSH source asks for: name, version, architecture, status abbreviation. */
export const DPKG_QUERY_FORMAT = '${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n';

/** Parses `dpkg-query -W -f=DPKG_QUERY_FORMAT` output, keeping installed (`ii`, `iU`, `iF`, ...) entries. */
export function parseDpkgQueryOutput(text: string): { packages: InstalledPackage[]; problems: StatusParseProblem[] } {
  const packages: InstalledPackage[] = [];
  const problems: StatusParseProblem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const [name, version, arch, abbrev] = line.split('\t');
    if (!name || version === undefined || arch === undefined || abbrev === undefined) {
      problems.push({ line: i + 1, column: 1, message: 'expected 4 tab-separated fields' });
      continue;
    }
    const state = abbrev.trim()[1];
    // Status-Abbrev second letter: i installed, U unpacked, F half-configured, W/t triggers.
    if (!state || !'iUFWtH'.includes(state)) continue;
    if (!isValidPackageName(name) || !isValidDebianVersion(version)) {
      problems.push({ line: i + 1, column: 1, message: `malformed entry '${excerpt(name)} ${excerpt(version)}'` });
      continue;
    }
    packages.push({ name, version, architecture: arch });
  }
  return { packages, problems };
}

/** Canonical, sorted text of an installed set (`name:arch=version` lines); equal sets give equal text. */
export function canonicalInstalled(packages: readonly InstalledPackage[]): string {
  return packages
    .map((p) => `${p.name}:${p.architecture}=${p.version}`)
    .sort()
    .join('\n');
}
