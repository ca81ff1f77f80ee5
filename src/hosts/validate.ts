/**
 * Grammar checks for everything that ends up as an argument of dpkg, apt-get, sv or ssh.
 * They run before any command is built, on every driver: a hostile name or version never
 * reaches a process. (The kb layer has a similar name check in progress; this one is local to
 * the hosts layer so that it does not depend on unfinished work.)
 */
import { RollwiseError } from '../shared/errors.js';
import { isValidDebianVersion } from '../versions/index.js';

/** Debian package names (Policy 5.6.1): lowercase alphanumerics and `+ - .`, at least two, first alphanumeric. */
const PACKAGE_NAME_RE = /^[a-z0-9][a-z0-9+.-]+$/;
/** Architecture names as dpkg knows them (amd64, all, arm64, armhf, i386, ...). */
const ARCH_RE = /^[a-z0-9][a-z0-9-]*$/;
/** Service names: what runit and systemd accept without quoting surprises. */
const SERVICE_RE = /^[A-Za-z0-9][A-Za-z0-9_.@:-]*$/;

export function isValidPackageName(name: string): boolean {
  return typeof name === 'string' && name.length <= 200 && PACKAGE_NAME_RE.test(name);
}

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
  if (!isValidPackageName(name)) {
    throw new RollwiseError('RW_BAD_NAME', `${show(name)} is not a valid Debian package name`, {
      hint: 'names use lowercase letters, digits and + - . (at least two characters, starting with a letter or digit)',
    });
  }
}

export function assertPackageVersion(version: string): void {
  if (typeof version !== 'string' || !isValidDebianVersion(version)) {
    throw new RollwiseError('RW_BAD_VERSION', `${show(version)} is not a valid Debian version`, {
      hint: 'expected [epoch:]upstream[-revision] using letters, digits and . + ~ - :',
    });
  }
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
