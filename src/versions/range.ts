/**
 * Version ranges: finite unions of intervals over one scheme's order, with inclusive or exclusive
 * bounds. This is the language the resolver and its explanations speak: "libssl3 >= 3.0.9, << 3.1"
 * or "any" or "none".
 *
 * A range is kept in a canonical form: intervals sorted, non-empty, and separated by non-empty
 * gaps (touching or overlapping intervals are merged). Emptiness uses what the scheme knows about
 * its order: its least version (semver 0.0.0-0, CUDF 1), a successor function (semver, CUDF) and a
 * predecessor (CUDF, whose exclusive bounds become inclusive ones). Debian's order is treated as
 * dense: between two different versions there is always a third (e.g. `1.0` < `1.0a` < `1.0+`).
 *
 * Versions passed to the factories are validated (RW_BAD_VERSION); `contains` expects a valid one.
 */
import { RollwiseError } from '../shared/index.js';
import type { VersionScheme } from './scheme.js';
import { parseOperator, readOperator, type RelationOp } from './relation.js';

/** A bound of an interval; `undefined` stands for "unbounded". */
export interface VersionBound {
  readonly version: string;
  readonly inclusive: boolean;
}

export interface VersionInterval {
  readonly lower: VersionBound | undefined;
  readonly upper: VersionBound | undefined;
}

/** The relation of a constraint, or its spelling (`<<`, dpkg's words `lt le eq ne ge gt`, the obsolete `<`/`>`). */
function toOperator(op: string): RelationOp {
  const t = parseOperator(op);
  if (t) return t.op;
  throw new RollwiseError('RW_USAGE', `unknown version relation '${op}'`, {
    hint: 'use one of << <= = >= >> != (or lt le eq ge gt ne)',
  });
}

export class VersionRange {
  readonly scheme: VersionScheme;
  /** Canonical: sorted, non-empty, pairwise separated by a non-empty gap. */
  readonly intervals: readonly VersionInterval[];

  private constructor(scheme: VersionScheme, intervals: readonly VersionInterval[]) {
    this.scheme = scheme;
    this.intervals = intervals;
  }

  /** Every version of the scheme. */
  static any(scheme: VersionScheme): VersionRange {
    return new VersionRange(scheme, [{ lower: undefined, upper: undefined }]);
  }

  /** No version at all. */
  static none(scheme: VersionScheme): VersionRange {
    return new VersionRange(scheme, []);
  }

  /** The versions v with `v OP version`; OP is one of << <= = >= >> != (or lt le eq ge gt ne). */
  static fromConstraint(scheme: VersionScheme, op: string, version: string): VersionRange {
    const rop = toOperator(op);
    scheme.parse(version);
    const inc = { version, inclusive: true };
    const exc = { version, inclusive: false };
    switch (rop) {
      case '<<': return VersionRange.fromIntervals(scheme, [{ lower: undefined, upper: exc }]);
      case '<=': return VersionRange.fromIntervals(scheme, [{ lower: undefined, upper: inc }]);
      case '=': return VersionRange.fromIntervals(scheme, [{ lower: inc, upper: inc }]);
      case '>=': return VersionRange.fromIntervals(scheme, [{ lower: inc, upper: undefined }]);
      case '>>': return VersionRange.fromIntervals(scheme, [{ lower: exc, upper: undefined }]);
      case '!=': return VersionRange.fromIntervals(scheme, [{ lower: undefined, upper: exc }, { lower: exc, upper: undefined }]);
    }
  }

  /** The union of the given intervals (in any order, possibly empty or overlapping). */
  static fromIntervals(scheme: VersionScheme, intervals: readonly VersionInterval[]): VersionRange {
    for (const iv of intervals) {
      if (iv.lower) scheme.parse(iv.lower.version);
      if (iv.upper) scheme.parse(iv.upper.version);
    }
    return new VersionRange(scheme, canonicalize(scheme, intervals));
  }

  /** Reads what toString writes: `any`, `none`, or `|`-separated intervals of `,`-separated constraints. */
  static parse(scheme: VersionScheme, text: string): VersionRange {
    const t = text.trim();
    if (t === 'any') return VersionRange.any(scheme);
    if (t === 'none') return VersionRange.none(scheme);
    let result = VersionRange.none(scheme);
    for (const alt of t.split('|')) {
      let part = VersionRange.any(scheme);
      const constraints = alt.split(',');
      for (const c of constraints) {
        const ct = c.trim();
        const op = readOperator(ct, 0);
        const version = op ? ct.slice(op.length).trim() : '';
        if (!op || version === '' || /\s/.test(version)) {
          throw new RollwiseError('RW_USAGE', `cannot read version constraint '${ct}' in range '${t}'`, {
            hint: 'write e.g. ">= 1.2, << 2.0 | = 3.0", "any" or "none"',
          });
        }
        part = part.intersect(VersionRange.fromConstraint(scheme, op.op, version));
      }
      result = result.union(part);
    }
    return result;
  }

  isEmpty(): boolean {
    return this.intervals.length === 0;
  }

  /** Does the range hold every version of the scheme? */
  isAny(): boolean {
    if (this.intervals.length !== 1) return false;
    const iv = this.intervals[0]!;
    return iv.lower === undefined && iv.upper === undefined;
  }

  contains(version: string): boolean {
    const cmp = this.scheme.compare;
    for (const iv of this.intervals) {
      if (iv.lower) {
        const c = cmp(version, iv.lower.version);
        if (c < 0 || (c === 0 && !iv.lower.inclusive)) return false; // sorted: later ones start higher
      }
      if (iv.upper) {
        const c = cmp(version, iv.upper.version);
        if (c > 0 || (c === 0 && !iv.upper.inclusive)) continue;
      }
      return true;
    }
    return false;
  }

  intersect(other: VersionRange): VersionRange {
    this.assertSameScheme(other);
    const cmp = this.scheme.compare;
    const out: VersionInterval[] = [];
    for (const a of this.intervals) {
      for (const b of other.intervals) {
        const lower = maxLower(cmp, a.lower, b.lower);
        const upper = minUpper(cmp, a.upper, b.upper);
        if (!isEmptyInterval(this.scheme, lower, upper)) out.push({ lower, upper });
      }
    }
    return new VersionRange(this.scheme, canonicalize(this.scheme, out));
  }

  union(other: VersionRange): VersionRange {
    this.assertSameScheme(other);
    return new VersionRange(this.scheme, canonicalize(this.scheme, [...this.intervals, ...other.intervals]));
  }

  complement(): VersionRange {
    const out: VersionInterval[] = [];
    let prev: VersionBound | undefined; // upper bound of the previous interval, flipped (none: unbounded)
    for (const iv of this.intervals) {
      if (iv.lower !== undefined) out.push({ lower: prev, upper: flip(iv.lower) });
      if (iv.upper === undefined) return new VersionRange(this.scheme, canonicalize(this.scheme, out));
      prev = flip(iv.upper);
    }
    out.push({ lower: prev, upper: undefined });
    return new VersionRange(this.scheme, canonicalize(this.scheme, out));
  }

  /** The versions in this range and not in `other`. */
  subtract(other: VersionRange): VersionRange {
    return this.intersect(other.complement());
  }

  /** Same set of versions (compared by the scheme's order, so `1.0` equals `1.0-0` for Debian). */
  equals(other: VersionRange): boolean {
    return this.subtract(other).isEmpty() && other.subtract(this).isEmpty();
  }

  /** Does every version of this range lie in `other`? */
  isSubsetOf(other: VersionRange): boolean {
    return this.subtract(other).isEmpty();
  }

  /** Readable form: `>= 1.2, << 2.0`, `= 1.4 | >= 2.0`, `!= 1.3`, `any`, `none`. */
  toString(): string {
    if (this.intervals.length === 0) return 'none';
    if (this.isAny()) return 'any';
    if (this.intervals.length === 2) {
      const [a, b] = this.intervals as [VersionInterval, VersionInterval];
      if (a.lower === undefined && b.upper === undefined && a.upper && b.lower) {
        const gap = pointOf(this.scheme, { lower: flip(a.upper), upper: flip(b.lower) });
        if (gap !== undefined) return `!= ${gap}`;
      }
    }
    return this.intervals.map((iv) => formatInterval(this.scheme, iv)).join(' | ');
  }

  private assertSameScheme(other: VersionRange): void {
    if (other.scheme.name !== this.scheme.name) {
      throw new Error(`cannot combine a ${this.scheme.name} range with a ${other.scheme.name} range`);
    }
  }
}

function flip(b: VersionBound): VersionBound {
  return { version: b.version, inclusive: !b.inclusive };
}

type Compare = (a: string, b: string) => number;

function maxLower(cmp: Compare, a: VersionBound | undefined, b: VersionBound | undefined): VersionBound | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const c = cmp(a.version, b.version);
  if (c !== 0) return c > 0 ? a : b;
  return a.inclusive ? b : a; // the exclusive one is the higher lower bound
}

function minUpper(cmp: Compare, a: VersionBound | undefined, b: VersionBound | undefined): VersionBound | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const c = cmp(a.version, b.version);
  if (c !== 0) return c < 0 ? a : b;
  return a.inclusive ? b : a;
}

function maxUpper(cmp: Compare, a: VersionBound | undefined, b: VersionBound | undefined): VersionBound | undefined {
  if (a === undefined || b === undefined) return undefined;
  const c = cmp(a.version, b.version);
  if (c !== 0) return c > 0 ? a : b;
  return a.inclusive ? a : b;
}

/** Orders lower bounds: unbounded first, then by version, inclusive before exclusive. */
function compareLower(cmp: Compare, a: VersionBound | undefined, b: VersionBound | undefined): number {
  if (a === undefined) return b === undefined ? 0 : -1;
  if (b === undefined) return 1;
  const c = cmp(a.version, b.version);
  if (c !== 0) return c;
  return a.inclusive === b.inclusive ? 0 : a.inclusive ? -1 : 1;
}

/**
 * Rewrites bounds the scheme lets us make canonical: in a discrete order (successor and
 * predecessor known) exclusive bounds become inclusive ones, and an inclusive lower bound at the
 * least version becomes "unbounded". Returns undefined if the interval is empty that way.
 */
function tightenInterval(scheme: VersionScheme, iv: VersionInterval): VersionInterval | undefined {
  let { lower, upper } = iv;
  if (scheme.next && scheme.previous) {
    if (lower && !lower.inclusive) lower = { version: scheme.next(lower.version), inclusive: true };
    if (upper && !upper.inclusive) {
      const p = scheme.previous(upper.version);
      if (p === undefined) return undefined;
      upper = { version: p, inclusive: true };
    }
  }
  if (lower && lower.inclusive && scheme.min !== undefined && scheme.compare(lower.version, scheme.min) <= 0) lower = undefined;
  if (isEmptyInterval(scheme, lower, upper)) return undefined;
  return lower === iv.lower && upper === iv.upper ? iv : { lower, upper };
}

function isEmptyInterval(scheme: VersionScheme, lower: VersionBound | undefined, upper: VersionBound | undefined): boolean {
  if (upper === undefined) return false; // no scheme has a greatest version
  if (lower === undefined) {
    if (scheme.min === undefined) return false;
    const c = scheme.compare(upper.version, scheme.min);
    return c < 0 || (c === 0 && !upper.inclusive);
  }
  const c = scheme.compare(lower.version, upper.version);
  if (c > 0) return true;
  if (c === 0) return !(lower.inclusive && upper.inclusive);
  if (!lower.inclusive && !upper.inclusive && scheme.next) return scheme.compare(scheme.next(lower.version), upper.version) >= 0;
  return false;
}

/** The single version an interval holds, if it holds exactly one. */
function pointOf(scheme: VersionScheme, iv: VersionInterval): string | undefined {
  const t = tightenInterval(scheme, iv);
  if (t === undefined || t.upper === undefined || !t.upper.inclusive) return undefined;
  if (t.lower === undefined) {
    return scheme.min !== undefined && scheme.compare(t.upper.version, scheme.min) === 0 ? scheme.min : undefined;
  }
  if (t.lower.inclusive && scheme.compare(t.lower.version, t.upper.version) === 0) return t.lower.version;
  return undefined;
}

function canonicalize(scheme: VersionScheme, intervals: readonly VersionInterval[]): VersionInterval[] {
  const cmp = scheme.compare;
  const live: VersionInterval[] = [];
  for (const iv of intervals) {
    const t = tightenInterval(scheme, iv);
    if (t !== undefined) live.push(t);
  }
  live.sort((a, b) => compareLower(cmp, a.lower, b.lower));
  const out: VersionInterval[] = [];
  for (const iv of live) {
    const last = out[out.length - 1];
    if (last !== undefined) {
      // Merge when nothing lies between last's upper bound and iv's lower bound.
      const noGap =
        last.upper === undefined ||
        iv.lower === undefined ||
        isEmptyInterval(scheme, flip(last.upper), flip(iv.lower));
      if (noGap) {
        out[out.length - 1] = { lower: last.lower, upper: maxUpper(cmp, last.upper, iv.upper) };
        continue;
      }
    }
    out.push(iv);
  }
  return out;
}

function formatInterval(scheme: VersionScheme, iv: VersionInterval): string {
  const p = pointOf(scheme, iv);
  if (p !== undefined) return `= ${p}`;
  const parts: string[] = [];
  if (iv.lower) parts.push(`${iv.lower.inclusive ? '>=' : '>>'} ${iv.lower.version}`);
  if (iv.upper) parts.push(`${iv.upper.inclusive ? '<=' : '<<'} ${iv.upper.version}`);
  return parts.length === 0 ? 'any' : parts.join(', ');
}

/** Factory spellings of the class's static constructors. */
export function createAnyRange(scheme: VersionScheme): VersionRange {
  return VersionRange.any(scheme);
}
export function createEmptyRange(scheme: VersionScheme): VersionRange {
  return VersionRange.none(scheme);
}
export function createRangeFromConstraint(scheme: VersionScheme, op: string, version: string): VersionRange {
  return VersionRange.fromConstraint(scheme, op, version);
}
