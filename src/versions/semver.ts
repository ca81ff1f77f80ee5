/**
 * Semantic versions (SemVer 2.0.0) for the organisation's own packages, through the `semver`
 * library, parsed strictly: no leading `v` or `=`, no surrounding spaces, nothing the library
 * would tolerate but the specification does not. Build metadata is kept in the text but ignored
 * by the order, as the specification says.
 */
import semver from 'semver';
import { RollwiseError } from '../shared/index.js';

export interface SemanticVersion {
  major: number;
  minor: number;
  patch: number;
  prerelease: ReadonlyArray<string | number>;
  build: readonly string[];
}

/** The least semantic version: every version is >= this one. */
export const MIN_SEMVER = '0.0.0-0';

export type SemverCheck = { ok: true; version: SemanticVersion } | { ok: false; reason: string };

export function checkSemver(text: string): SemverCheck {
  if (text.length === 0) return { ok: false, reason: 'version string is empty' };
  if (text.length > 256) return { ok: false, reason: 'version string is longer than 256 characters' };
  const c = text.charCodeAt(0);
  if (c < 48 || c > 57) return { ok: false, reason: 'a semantic version starts with a digit (no leading v or =)' };
  const p = semver.parse(text, { loose: false });
  if (p === null) return { ok: false, reason: 'expected MAJOR.MINOR.PATCH[-prerelease][+build] without leading zeros' };
  const canonical = p.version + (p.build.length > 0 ? `+${p.build.join('.')}` : '');
  if (canonical !== text) return { ok: false, reason: 'expected MAJOR.MINOR.PATCH[-prerelease][+build] exactly' };
  return {
    ok: true,
    version: { major: p.major, minor: p.minor, patch: p.patch, prerelease: [...p.prerelease], build: [...p.build] },
  };
}

export function isValidSemver(text: string): boolean {
  return checkSemver(text).ok;
}

/** Parses a semantic version strictly; throws RW_BAD_VERSION with the reason. */
export function parseSemver(text: string): SemanticVersion {
  const r = checkSemver(text);
  if (!r.ok) {
    throw new RollwiseError('RW_BAD_VERSION', `'${printable(text)}' is not a valid semantic version: ${r.reason}`, {
      hint: 'semantic versions look like 1.4.2, 2.0.0-rc.1 or 1.0.0+build.5 (see semver.org)',
    });
  }
  return r.version;
}

function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const s = text.replace(/[\x00-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** SemVer precedence: -1, 0 or 1 (build metadata ignored). Inputs must be valid. */
export function compareSemver(a: string, b: string): number {
  if (a === b) return 0;
  return semver.compare(a, b);
}

/** The least version greater than `v` (no version lies strictly between them). */
export function nextSemver(v: string): string {
  const p = semver.parse(v);
  if (p === null) throw new RollwiseError('RW_BAD_VERSION', `'${printable(v)}' is not a valid semantic version`, { hint: 'a semantic version is MAJOR.MINOR.PATCH, e.g. 1.4.2' });
  if (p.prerelease.length === 0) return `${p.major}.${p.minor}.${p.patch + 1}-0`;
  return `${p.major}.${p.minor}.${p.patch}-${p.prerelease.join('.')}.0`;
}
