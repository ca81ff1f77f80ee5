/**
 * Package-name grammar (Debian Policy 5.6.1): at least two characters, lower-case letters, digits
 * and `+ - .`, starting with a letter or digit. Host drivers call assertPackageName on every name
 * before it reaches a command line, so a hostile name (`-o`, `x;rm`, `$(...)`) never gets there.
 */
import { RollwiseError } from '../shared/index.js';

const PACKAGE_NAME_RE = /^[a-z0-9][a-z0-9+.-]+$/;

/** Our own cap on a name's length (policy sets none; the longest in Debian 12 main is far below). */
export const MAX_PACKAGE_NAME_LENGTH = 256;

export function isValidPackageName(name: string): boolean {
  return name.length <= MAX_PACKAGE_NAME_LENGTH && PACKAGE_NAME_RE.test(name);
}

/** Why `name` is not a Debian package name (undefined when it is one). */
export function packageNameProblem(name: string): string | undefined {
  if (isValidPackageName(name)) return undefined;
  if (name.length === 0) return 'the name is empty';
  if (name.length === 1) return 'a package name has at least two characters';
  if (name.length > MAX_PACKAGE_NAME_LENGTH) return `the name is longer than ${MAX_PACKAGE_NAME_LENGTH} characters`;
  if (!/^[a-z0-9]/.test(name)) return 'a package name starts with a lower-case letter or a digit';
  const bad = [...name].find((ch) => !/[a-z0-9+.-]/.test(ch)) ?? '?';
  return `character '${printableChar(bad)}' is not allowed`;
}

/** Throws RW_BAD_NAME unless `name` follows the Debian package-name grammar. */
export function assertPackageName(name: string): string {
  const reason = packageNameProblem(name);
  if (reason === undefined) return name;
  throw new RollwiseError('RW_BAD_NAME', `'${printableName(name)}' is not a valid Debian package name: ${reason}`, {
    hint: 'package names use lower-case letters, digits and + - . (at least two characters, starting with a letter or digit)',
  });
}

function printableChar(ch: string): string {
  const c = ch.charCodeAt(0);
  return c < 32 || c === 127 ? `\\x${c.toString(16).padStart(2, '0')}` : ch;
}

function printableName(name: string): string {
  const s = [...name].map(printableChar).join('');
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
