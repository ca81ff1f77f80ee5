/**
 * Debian version ordering, a port of dpkg's `verrevcmp` (lib/dpkg/version.c).
 * A version is `[epoch:]upstream[-revision]`. Within upstream and revision, non-digit runs are
 * compared character by character where `~` sorts before everything (even the end of the
 * string), then the end, then letters, then everything else; digit runs compare numerically.
 */
import { RollwiseError } from '../shared/errors.js';

export interface DebianVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

// Policy 5.6.12: upstream starts with a digit (dpkg only warns); allowed: alnum . + - ~ (and : with an epoch).
const VERSION_RE = /^(?:(\d+):)?([A-Za-z0-9.+~:-]+?)(?:-([A-Za-z0-9.+~]+))?$/;

/** Parse a Debian version; throws RW_BAD_VERSION if it does not follow the grammar. */
export function parseDebianVersion(text: string): DebianVersion {
  const v = tryParseDebianVersion(text);
  if (!v) {
    throw new RollwiseError('RW_BAD_VERSION', `'${text}' is not a valid Debian version`, {
      hint: 'expected [epoch:]upstream[-revision] using letters, digits and . + ~ - :',
    });
  }
  return v;
}

export function tryParseDebianVersion(text: string): DebianVersion | undefined {
  if (text.length === 0 || text.length > 256) return undefined;
  const m = VERSION_RE.exec(text);
  if (!m) return undefined;
  const epochText = m[1];
  const upstream = m[2]!;
  // A colon in upstream is only allowed when there is an epoch.
  if (epochText === undefined && upstream.includes(':')) return undefined;
  if (!/^[0-9]/.test(upstream)) {
    // dpkg accepts (with a warning) upstream versions not starting with a digit; so do we, but it
    // must start with an alphanumeric character.
    if (!/^[A-Za-z0-9]/.test(upstream)) return undefined;
  }
  const epoch = epochText === undefined ? 0 : Number(epochText);
  if (!Number.isSafeInteger(epoch)) return undefined;
  return { epoch, upstream, revision: m[3] ?? '' };
}

export function isValidDebianVersion(text: string): boolean {
  return tryParseDebianVersion(text) !== undefined;
}

function order(c: number): number {
  // c is a char code, or 0 for end of string
  if (c >= 48 && c <= 57) return 0; // digit
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return c; // letter
  if (c === 126) return -1; // ~
  if (c !== 0) return c + 256;
  return 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** dpkg's verrevcmp over one part (upstream or revision). */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const la = a.length;
  const lb = b.length;
  while (i < la || j < lb) {
    let firstDiff = 0;
    while ((i < la && !isDigit(a.charCodeAt(i))) || (j < lb && !isDigit(b.charCodeAt(j)))) {
      const ac = order(i < la ? a.charCodeAt(i) : 0);
      const bc = order(j < lb ? b.charCodeAt(j) : 0);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (i < la && a.charCodeAt(i) === 48) i++;
    while (j < lb && b.charCodeAt(j) === 48) j++;
    while (i < la && isDigit(a.charCodeAt(i)) && j < lb && isDigit(b.charCodeAt(j))) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < la && isDigit(a.charCodeAt(i))) return 1;
    if (j < lb && isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/** Compare two parsed versions: negative, zero or positive. */
export function compareParsedDebian(a: DebianVersion, b: DebianVersion): number {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? 1 : -1;
  const r = verrevcmp(a.upstream, b.upstream);
  if (r) return r;
  return verrevcmp(a.revision, b.revision);
}

/**
 * Compare two Debian version strings exactly as dpkg does: negative, zero or positive.
 * Fast path without allocation for the common case; versions are not validated here
 * (use parseDebianVersion at input boundaries).
 */
export function compareDebian(a: string, b: string): number {
  if (a === b) return 0;
  const ca = a.indexOf(':');
  const cb = b.indexOf(':');
  const ea = ca < 0 ? 0 : Number(a.slice(0, ca));
  const eb = cb < 0 ? 0 : Number(b.slice(0, cb));
  if (ea !== eb) return ea > eb ? 1 : -1;
  const ra = a.lastIndexOf('-');
  const rb = b.lastIndexOf('-');
  const ua = a.slice(ca + 1, ra > ca ? ra : a.length);
  const ub = b.slice(cb + 1, rb > cb ? rb : b.length);
  const r = verrevcmp(ua, ub);
  if (r) return r < 0 ? -1 : 1;
  const va = ra > ca ? a.slice(ra + 1) : '';
  const vb = rb > cb ? b.slice(rb + 1) : '';
  const s = verrevcmp(va, vb);
  return s < 0 ? -1 : s > 0 ? 1 : 0;
}

export type DebianRelation = '<<' | '<=' | '=' | '>=' | '>>';

export const DEBIAN_RELATIONS: readonly DebianRelation[] = ['<<', '<=', '=', '>=', '>>'];

/** Does `version OP bound` hold? Accepts dpkg's obsolete `<` (as `<=`) and `>` (as `>=`). */
export function satisfiesDebian(version: string, op: string, bound: string): boolean {
  const c = compareDebian(version, bound);
  switch (op) {
    case '<<': case 'lt': return c < 0;
    case '<=': case '<': case 'le': return c <= 0;
    case '=': case 'eq': return c === 0;
    case '>=': case '>': case 'ge': return c >= 0;
    case '>>': case 'gt': return c > 0;
    case 'ne': return c !== 0;
    default:
      throw new RollwiseError('RW_USAGE', `unknown version relation '${op}'`, { hint: 'use one of << <= = >= >>' });
  }
}
