/**
 * CUDF versions: positive integers (CUDF 2.0 `posint`), written without sign or leading zeros and
 * at most Number.MAX_SAFE_INTEGER so they fit the universe's integer arrays.
 */
import { RollwiseError } from '../shared/index.js';

export const MIN_CUDF_VERSION = '1';

export type CudfVersionCheck = { ok: true; version: number } | { ok: false; reason: string };

export function checkCudfVersion(text: string): CudfVersionCheck {
  if (text.length === 0) return { ok: false, reason: 'version string is empty' };
  if (!/^[0-9]+$/.test(text)) return { ok: false, reason: 'a CUDF version is a positive integer (digits only)' };
  if (text.charCodeAt(0) === 48) {
    return { ok: false, reason: text === '0' || /^0+$/.test(text) ? 'a CUDF version is at least 1' : 'leading zeros are not allowed' };
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n)) return { ok: false, reason: `a CUDF version is at most ${Number.MAX_SAFE_INTEGER}` };
  return { ok: true, version: n };
}

export function isValidCudfVersion(text: string): boolean {
  return checkCudfVersion(text).ok;
}

/** Parses a CUDF version; throws RW_BAD_VERSION with the reason. */
export function parseCudfVersion(text: string): number {
  const r = checkCudfVersion(text);
  if (!r.ok) {
    const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
    // eslint-disable-next-line no-control-regex
    const safe = shown.replace(/[\x00-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
    throw new RollwiseError('RW_BAD_VERSION', `'${safe}' is not a valid CUDF version: ${r.reason}`, {
      hint: 'CUDF versions are positive integers such as 1, 2, 17',
    });
  }
  return r.version;
}

/** Numeric order of two valid CUDF versions (canonical digit strings): -1, 0 or 1. */
export function compareCudf(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : 1;
}
