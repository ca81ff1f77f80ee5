/**
 * Debian version ordering, a port of dpkg's `verrevcmp` (lib/dpkg/version.c), and the version
 * grammar (lib/dpkg/parsehelp.c `parseversion`, Debian Policy 5.6.12).
 *
 * A version is `[epoch:]upstream[-revision]`: the epoch is the digits before the first `:`, the
 * revision is what follows the last `-`. Within upstream and revision, non-digit runs are compared
 * character by character where `~` sorts before everything (even the end of the string), then the
 * end, then letters, then everything else; digit runs compare numerically (leading zeros ignored).
 * A missing revision equals `-0`; a missing epoch equals `0:`.
 *
 * `compareDebian` is on the hot path of the universe and the solver: it works on index ranges of
 * the two strings and allocates nothing.
 */
import { RollwiseError } from '../shared/index.js';
import { parseOperator, relationHolds } from './relation.js';

export interface DebianVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/** The largest epoch dpkg accepts (INT_MAX). */
export const MAX_DEBIAN_EPOCH = 2147483647;
/** Our own cap on a version's length (dpkg has none; the longest in Debian 12 main is 52). */
export const MAX_DEBIAN_VERSION_LENGTH = 256;

/** Outcome of checking a version against the grammar: the parts, or why it is not a version. */
export type DebianVersionCheck = { ok: true; version: DebianVersion } | { ok: false; reason: string };

const C_0 = 48;
const C_9 = 57;
const C_COLON = 58;
const C_HYPHEN = 45;
const C_TILDE = 126;

function isAlnumCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Checks `text` against the Debian version grammar and says why it fails. Stricter than dpkg where
 * dpkg only warns: every character must be allowed (upstream: alphanumerics and `. + ~ -`, and `:`
 * when there is an epoch; revision: alphanumerics and `. + ~`) and upstream must start with an
 * alphanumeric character (policy says a digit; dpkg accepts a letter with a warning, so do we).
 * Everything dpkg rejects as an error is rejected here too.
 */
export function checkDebianVersion(text: string): DebianVersionCheck {
  if (text.length === 0) return { ok: false, reason: 'version string is empty' };
  if (text.length > MAX_DEBIAN_VERSION_LENGTH) {
    return { ok: false, reason: `version string is longer than ${MAX_DEBIAN_VERSION_LENGTH} characters` };
  }
  const colon = text.indexOf(':');
  let epoch = 0;
  let start = 0;
  if (colon >= 0) {
    if (colon === 0) return { ok: false, reason: 'epoch in version is empty' };
    for (let i = 0; i < colon; i++) {
      const c = text.charCodeAt(i);
      if (c < C_0 || c > C_9) return { ok: false, reason: 'epoch in version is not a number' };
      epoch = epoch * 10 + (c - C_0);
      if (epoch > MAX_DEBIAN_EPOCH) return { ok: false, reason: 'epoch in version is too big' };
    }
    start = colon + 1;
    if (start === text.length) return { ok: false, reason: 'nothing after colon in version number' };
  }
  const hyphen = text.lastIndexOf('-');
  let upstreamEnd = text.length;
  let revision = '';
  if (hyphen >= start) {
    if (hyphen === text.length - 1) return { ok: false, reason: 'revision number is empty' };
    upstreamEnd = hyphen;
    for (let i = hyphen + 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (!isAlnumCode(c) && c !== 46 && c !== 43 && c !== C_TILDE) {
        return { ok: false, reason: `invalid character '${describeChar(text, i)}' in revision number` };
      }
    }
    revision = text.slice(hyphen + 1);
  }
  if (upstreamEnd === start) return { ok: false, reason: 'version number is empty' };
  if (!isAlnumCode(text.charCodeAt(start))) {
    return { ok: false, reason: 'version number does not start with a letter or digit' };
  }
  for (let i = start + 1; i < upstreamEnd; i++) {
    const c = text.charCodeAt(i);
    if (!isAlnumCode(c) && c !== 46 && c !== 43 && c !== C_TILDE && c !== C_HYPHEN && c !== C_COLON) {
      return { ok: false, reason: `invalid character '${describeChar(text, i)}' in version number` };
    }
  }
  return { ok: true, version: { epoch, upstream: text.slice(start, upstreamEnd), revision } };
}

function describeChar(text: string, i: number): string {
  const c = text.charCodeAt(i);
  if (c < 32 || c === 127) return `\\x${c.toString(16).padStart(2, '0')}`;
  return text.charAt(i);
}

/** Parse a Debian version; throws RW_BAD_VERSION if it does not follow the grammar. */
export function parseDebianVersion(text: string): DebianVersion {
  const r = checkDebianVersion(text);
  if (!r.ok) {
    throw new RollwiseError('RW_BAD_VERSION', `'${printable(text)}' is not a valid Debian version: ${r.reason}`, {
      hint: 'expected [epoch:]upstream[-revision] using letters, digits and . + ~ (and - : where the parts allow)',
    });
  }
  return r.version;
}

/** Quotes user text safely in a one-line message (control characters escaped, long text cut). */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const s = text.replace(/[\x00-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function tryParseDebianVersion(text: string): DebianVersion | undefined {
  const r = checkDebianVersion(text);
  return r.ok ? r.version : undefined;
}

export function isValidDebianVersion(text: string): boolean {
  return checkDebianVersion(text).ok;
}

/** Formats parsed parts back into a version string (the epoch only when it is not 0). */
export function formatDebianVersion(v: DebianVersion): string {
  return `${v.epoch === 0 ? '' : `${v.epoch}:`}${v.upstream}${v.revision === '' ? '' : `-${v.revision}`}`;
}

/** dpkg's `order`: c is a char code, or 0 for the end of the string. Digits never reach here. */
function order(c: number): number {
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return c; // letter
  if (c === C_TILDE) return -1;
  if (c === 0) return 0;
  if (c >= C_0 && c <= C_9) return 0;
  return c + 256;
}

/** dpkg's verrevcmp over a[ia, ea) and b[ib, eb). Returns negative, zero or positive. */
function verrevcmpRange(a: string, ia: number, ea: number, b: string, ib: number, eb: number): number {
  // Skip the common prefix (most compared pairs share a long one), then back up to the start of
  // a digit run so that runs are still compared whole: "10" vs "1" must not become "0" vs "".
  const start = ia;
  while (ia < ea && ib < eb && a.charCodeAt(ia) === b.charCodeAt(ib)) {
    ia++;
    ib++;
  }
  while (ia > start) {
    const c = a.charCodeAt(ia - 1);
    if (c < C_0 || c > C_9) break;
    ia--;
    ib--;
  }
  while (ia < ea || ib < eb) {
    let firstDiff = 0;
    for (;;) {
      const ca = ia < ea ? a.charCodeAt(ia) : 0;
      const cb = ib < eb ? b.charCodeAt(ib) : 0;
      const da = ca >= C_0 && ca <= C_9;
      const db = cb >= C_0 && cb <= C_9;
      // dpkg loops while either side has a non-digit character left.
      if (!((ia < ea && !da) || (ib < eb && !db))) break;
      if (ca !== cb) {
        const oa = order(ca);
        const ob = order(cb);
        if (oa !== ob) return oa - ob;
      }
      ia++;
      ib++;
    }
    while (ia < ea && a.charCodeAt(ia) === C_0) ia++;
    while (ib < eb && b.charCodeAt(ib) === C_0) ib++;
    for (;;) {
      if (ia >= ea || ib >= eb) break;
      const ca = a.charCodeAt(ia);
      const cb = b.charCodeAt(ib);
      if (ca < C_0 || ca > C_9 || cb < C_0 || cb > C_9) break;
      if (firstDiff === 0) firstDiff = ca - cb;
      ia++;
      ib++;
    }
    if (ia < ea) {
      const ca = a.charCodeAt(ia);
      if (ca >= C_0 && ca <= C_9) return 1;
    }
    if (ib < eb) {
      const cb = b.charCodeAt(ib);
      if (cb >= C_0 && cb <= C_9) return -1;
    }
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/** dpkg's verrevcmp over one part (upstream or revision): negative, zero or positive. */
export function verrevcmp(a: string, b: string): number {
  return verrevcmpRange(a, 0, a.length, b, 0, b.length);
}

/** Compare two parsed versions: -1, 0 or 1. */
export function compareParsedDebian(a: DebianVersion, b: DebianVersion): number {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? 1 : -1;
  const r = verrevcmp(a.upstream, b.upstream);
  if (r) return r < 0 ? -1 : 1;
  const s = verrevcmp(a.revision, b.revision);
  return s < 0 ? -1 : s > 0 ? 1 : 0;
}

/**
 * Position of the epoch's colon, or -1. In a valid version the epoch is the leading digits, so
 * only those are scanned (not the whole string, as indexOf would).
 */
function epochColon(v: string): number {
  const n = v.length;
  let i = 0;
  while (i < n) {
    const c = v.charCodeAt(i);
    if (c < C_0 || c > C_9) return c === C_COLON && i > 0 ? i : -1;
    i++;
  }
  return -1;
}

function epochOf(v: string, colon: number): number {
  let e = 0;
  for (let i = 0; i < colon; i++) e = e * 10 + (v.charCodeAt(i) - C_0);
  return e;
}

/**
 * Compare two Debian version strings exactly as dpkg does: -1, 0 or 1. Allocation-free; versions
 * are not validated here (check them with parseDebianVersion / isValidDebianVersion at input
 * boundaries: the result for strings outside the grammar is unspecified).
 */
export function compareDebian(a: string, b: string): number {
  if (a === b) return 0;
  const ca = epochColon(a);
  const cb = epochColon(b);
  if (ca > 0 || cb > 0) {
    const ea = ca > 0 ? epochOf(a, ca) : 0;
    const eb = cb > 0 ? epochOf(b, cb) : 0;
    if (ea !== eb) return ea > eb ? 1 : -1;
  }
  const la = a.length;
  const lb = b.length;
  const sa = ca + 1;
  const sb = cb + 1;
  let ha = a.lastIndexOf('-');
  let hb = b.lastIndexOf('-');
  if (ha < sa) ha = -1;
  if (hb < sb) hb = -1;
  const r = verrevcmpRange(a, sa, ha < 0 ? la : ha, b, sb, hb < 0 ? lb : hb);
  if (r !== 0) return r < 0 ? -1 : 1;
  const s = verrevcmpRange(a, ha < 0 ? la : ha + 1, la, b, hb < 0 ? lb : hb + 1, lb);
  return s < 0 ? -1 : s > 0 ? 1 : 0;
}

/**
 * Does `version OP bound` hold in dpkg's order? OP as `dpkg --compare-versions` takes it: a symbol
 * (the obsolete `<` and `>` meaning `<=` and `>=`) or a word (`lt le eq ne ge gt`).
 */
export function satisfiesDebian(version: string, op: string, bound: string): boolean {
  const t = parseOperator(op);
  if (!t) {
    throw new RollwiseError('RW_USAGE', `unknown version relation '${op}'`, {
      hint: 'use one of << <= = >= >> != (or lt le eq ne ge gt)',
    });
  }
  return relationHolds(compareDebian(version, bound), t.op);
}
