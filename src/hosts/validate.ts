/**
 * Grammar checks for everything that ends up as an argument of dpkg, apt-get, sv or ssh.
 * They run before any command is built, on every driver: a hostile name or version never
 * reaches a process. Package names and versions use the versions layer's grammar.
 */
import { RollwiseError } from '../shared/index.js';
import { assertPackageName as assertName, isValidPackageName, parseDebianVersion } from '../versions/index.js';

export { isValidPackageName };
/** Architecture names as dpkg knows them (amd64, all, arm64, armhf, i386, ...). */
const ARCH_RE = /^[a-z0-9][a-z0-9-]*$/;
/** Service names: what runit and systemd accept without quoting surprises. */
const SERVICE_RE = /^[A-Za-z0-9][A-Za-z0-9_.@:-]*$/;

export function isValidArchitecture(arch: string): boolean {
  return typeof arch === 'string' && arch.length <= 40 && ARCH_RE.test(arch);
}

export function isValidServiceName(name: string): boolean {
  return typeof name === 'string' && name.length <= 200 && SERVICE_RE.test(name);
}

/** Absolute path without `..` segments, NUL, newline or other control characters. */
export function isValidHostPath(path: string): boolean {
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > 4096) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return false;
  return !path.split('/').some((seg) => seg === '..');
}

function show(text: unknown): string {
  return JSON.stringify(String(text));
}

export function assertPackageName(name: string): void {
  if (typeof name !== 'string') throw new RollwiseError('RW_BAD_NAME', `${show(name)} is not a valid Debian package name`, { hint: 'Debian package names are lowercase letters, digits and + - ., at least two characters, starting with a letter or digit (policy 5.6.1)' });
  assertName(name);
}

/**
 * The dpkg form of a package change: bare name and architecture. A change may name a
 * foreign-architecture package the resolver's way (`libc6:i386`, multiarch) or dpkg's way
 * (`libc6` with architecture `i386`); both become `{ name: 'libc6', architecture: 'i386' }`.
 * The name and the qualifier are checked by their grammars; a qualifier that contradicts the
 * change's architecture is RW_BAD_NAME.
 */
export function dpkgPackageOf(c: { name: string; architecture?: string }): { name: string; architecture?: string } {
  const colon = typeof c.name === 'string' ? c.name.indexOf(':') : -1;
  if (colon < 0) {
    assertPackageName(c.name);
    if (c.architecture !== undefined) assertArchitecture(c.architecture);
    return c.architecture !== undefined ? { name: c.name, architecture: c.architecture } : { name: c.name };
  }
  const name = c.name.slice(0, colon);
  const qualifier = c.name.slice(colon + 1);
  assertPackageName(name);
  assertArchitecture(qualifier);
  if (c.architecture !== undefined && c.architecture !== qualifier) {
    throw new RollwiseError('RW_BAD_NAME', `${show(c.name)} names architecture ${qualifier}, but the change is for ${show(c.architecture)}`, {
      hint: 'write the package as name:arch with the same architecture as the change, or the bare name with the architecture',
    });
  }
  return { name, architecture: qualifier };
}

export function assertPackageVersion(version: string): void {
  if (typeof version !== 'string' || version.startsWith('-')) {
    throw new RollwiseError('RW_BAD_VERSION', `${show(version)} is not a valid Debian version`, {
      hint: 'expected [epoch:]upstream[-revision] using letters, digits and . + ~ - :',
    });
  }
  parseDebianVersion(version);
}

export function assertArchitecture(arch: string): void {
  if (!isValidArchitecture(arch)) {
    throw new RollwiseError('RW_BAD_NAME', `${show(arch)} is not a valid architecture name`, {
      hint: 'for example amd64, arm64 or all',
    });
  }
}

export function assertServiceName(name: string): void {
  if (!isValidServiceName(name)) {
    throw new RollwiseError('RW_BAD_NAME', `${show(name)} is not a valid service name`, {
      hint: 'service names use letters, digits and _ . @ : - and start with a letter or digit',
    });
  }
}

export function assertHostPath(path: string): void {
  if (!isValidHostPath(path)) {
    throw new RollwiseError('RW_BAD_NAME', `${show(path)} is not an acceptable absolute path`, {
      hint: 'paths must be absolute, without .. segments or control characters',
    });
  }
}
