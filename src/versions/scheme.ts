/**
 * A version scheme bundles a grammar and an order: Debian (`deb`, dpkg's order), semantic
 * versions (`semver`, the organisation's own packages) and CUDF (`cudf`, positive integers).
 * The range algebra and the `version` commands work on any of them through this interface.
 */
import { RollwiseError } from '../shared/index.js';
import { checkCudfVersion, compareCudf, MIN_CUDF_VERSION, parseCudfVersion } from './cudf.js';
import { checkDebianVersion, compareDebian, parseDebianVersion } from './debian.js';
import { checkSemver, compareSemver, MIN_SEMVER, nextSemver, parseSemver } from './semver.js';

export type SchemeName = 'deb' | 'semver' | 'cudf';

export const SCHEME_NAMES: readonly SchemeName[] = ['deb', 'semver', 'cudf'];

export type VersionCheck = { ok: true } | { ok: false; reason: string };

export interface VersionScheme {
  readonly name: SchemeName;
  /** For messages: "Debian", "semantic", "CUDF". */
  readonly label: string;
  /** Total preorder on valid versions: negative, zero or positive. Versions are not validated. */
  compare(a: string, b: string): number;
  isValid(text: string): boolean;
  /** Why `text` is not a valid version, or ok. */
  check(text: string): VersionCheck;
  /** Returns `text` if it is a valid version; throws RW_BAD_VERSION (with the reason) if not. */
  parse(text: string): string;
  /** The least version, if the order has one (semver 0.0.0-0, CUDF 1). */
  readonly min?: string;
  /** The least version greater than v, if the order has such a successor for every version. */
  next?(v: string): string;
  /** The greatest version less than v (undefined if v is the least), for discrete orders. */
  previous?(v: string): string | undefined;
}

function simplify<T extends { ok: boolean }>(r: T): VersionCheck {
  return r.ok ? { ok: true } : { ok: false, reason: (r as unknown as { reason: string }).reason };
}

export const debianScheme: VersionScheme = {
  name: 'deb',
  label: 'Debian',
  compare: compareDebian,
  isValid: (t) => checkDebianVersion(t).ok,
  check: (t) => simplify(checkDebianVersion(t)),
  parse: (t) => {
    parseDebianVersion(t);
    return t;
  },
};

export const semverScheme: VersionScheme = {
  name: 'semver',
  label: 'semantic',
  compare: compareSemver,
  isValid: (t) => checkSemver(t).ok,
  check: (t) => simplify(checkSemver(t)),
  parse: (t) => {
    parseSemver(t);
    return t;
  },
  min: MIN_SEMVER,
  next: nextSemver,
};

export const cudfScheme: VersionScheme = {
  name: 'cudf',
  label: 'CUDF',
  compare: compareCudf,
  isValid: (t) => checkCudfVersion(t).ok,
  check: (t) => simplify(checkCudfVersion(t)),
  parse: (t) => {
    parseCudfVersion(t);
    return t;
  },
  min: MIN_CUDF_VERSION,
  next: (v) => String(Number(v) + 1),
  previous: (v) => (v === MIN_CUDF_VERSION ? undefined : String(Number(v) - 1)),
};

const SCHEMES: Record<SchemeName, VersionScheme> = { deb: debianScheme, semver: semverScheme, cudf: cudfScheme };

export function isSchemeName(name: string): name is SchemeName {
  return (SCHEME_NAMES as readonly string[]).includes(name);
}

/** The scheme called `name`; throws RW_USAGE for an unknown name. */
export function getScheme(name: string): VersionScheme {
  if (!isSchemeName(name)) {
    throw new RollwiseError('RW_USAGE', `unknown version scheme '${name}'`, { hint: `use one of ${SCHEME_NAMES.join(', ')}` });
  }
  return SCHEMES[name];
}
