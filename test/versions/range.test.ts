import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createRangeFromConstraint,
  cudfScheme,
  debianScheme,
  getScheme,
  isValidDebianVersion,
  RELATION_OPS,
  semverScheme,
  VersionRange,
  type VersionScheme,
} from '../../src/versions/index.js';

const deb = debianScheme;
const R = (scheme: VersionScheme, text: string) => VersionRange.parse(scheme, text);
const C = (scheme: VersionScheme, op: string, v: string) => createRangeFromConstraint(scheme, op, v);

describe('version ranges: examples', () => {
  it('builds one range per relation and prints it', () => {
    expect(C(deb, '<<', '2.0').toString()).toBe('<< 2.0');
    expect(C(deb, '<=', '2.0').toString()).toBe('<= 2.0');
    expect(C(deb, '=', '2.0').toString()).toBe('= 2.0');
    expect(C(deb, '>=', '2.0').toString()).toBe('>= 2.0');
    expect(C(deb, '>>', '2.0').toString()).toBe('>> 2.0');
    expect(C(deb, '!=', '2.0').toString()).toBe('!= 2.0');
    expect(C(deb, 'ge', '2.0').toString()).toBe('>= 2.0');
    expect(VersionRange.any(deb).toString()).toBe('any');
    expect(VersionRange.none(deb).toString()).toBe('none');
  });

  it('intersects, unites and complements (Debian)', () => {
    const r = C(deb, '>=', '1.2').intersect(C(deb, '<<', '2.0'));
    expect(r.toString()).toBe('>= 1.2, << 2.0');
    expect(r.contains('1.2')).toBe(true);
    expect(r.contains('1.2-0')).toBe(true); // equal to 1.2 in dpkg's order
    expect(r.contains('1.2~rc1')).toBe(false);
    expect(r.contains('2.0~rc1')).toBe(true);
    expect(r.contains('2.0')).toBe(false);
    expect(r.contains('1:1.0')).toBe(false);
    expect(r.complement().toString()).toBe('<< 1.2 | >= 2.0');
    expect(r.union(C(deb, '>=', '2.0')).toString()).toBe('>= 1.2');
    expect(r.union(C(deb, '>>', '2.0')).toString()).toBe('>= 1.2, << 2.0 | >> 2.0');
    expect(r.union(C(deb, '>>', '2.0')).union(C(deb, '=', '2.0-0')).toString()).toBe('>= 1.2');
    expect(C(deb, '>>', '2.0').intersect(C(deb, '<<', '2.0')).isEmpty()).toBe(true);
    expect(C(deb, '>=', '2.0').intersect(C(deb, '<=', '2.0-0')).toString()).toBe('= 2.0');
    expect(C(deb, '=', '2.0').complement().complement().toString()).toBe('= 2.0');
    expect(C(deb, '!=', '1.0').contains('1.0-0')).toBe(false);
    expect(C(deb, '=', '1.0').equals(C(deb, '=', '0:1.0-0'))).toBe(true);
    expect(VersionRange.any(deb).complement().isEmpty()).toBe(true);
    expect(VersionRange.none(deb).complement().isAny()).toBe(true);
    expect(C(deb, '<<', '1.0').isSubsetOf(C(deb, '<=', '1.0'))).toBe(true);
    expect(C(deb, '<=', '1.0').isSubsetOf(C(deb, '<<', '1.0'))).toBe(false);
  });

  it('knows that CUDF versions are integers from 1', () => {
    const cudf = cudfScheme;
    expect(C(cudf, '>>', '3').intersect(C(cudf, '<<', '4')).toString()).toBe('none');
    expect(C(cudf, '>>', '3').toString()).toBe('>= 4');
    expect(C(cudf, '<<', '1').isEmpty()).toBe(true);
    expect(C(cudf, '<=', '1').toString()).toBe('= 1');
    expect(C(cudf, '>=', '1').isAny()).toBe(true);
    expect(C(cudf, '>=', '2').complement().toString()).toBe('= 1');
    expect(C(cudf, '!=', '3').toString()).toBe('!= 3');
    expect(C(cudf, '<=', '3').union(C(cudf, '>=', '4')).isAny()).toBe(true);
    expect(C(cudf, '>=', '2').intersect(C(cudf, '<=', '4')).toString()).toBe('>= 2, <= 4');
  });

  it('knows semver has a least version and successors', () => {
    const s = semverScheme;
    expect(C(s, '>>', '1.0.0').intersect(C(s, '<<', '1.0.1-0')).isEmpty()).toBe(true);
    expect(C(s, '>>', '1.0.0').intersect(C(s, '<=', '1.0.1-0')).toString()).toBe('>> 1.0.0, <= 1.0.1-0');
    expect(C(s, '<<', '0.0.0-0').isEmpty()).toBe(true);
    expect(C(s, '>=', '0.0.0-0').isAny()).toBe(true);
    expect(C(s, '<=', '1.0.0').union(C(s, '>=', '1.0.1-0')).isAny()).toBe(true);
    expect(C(s, '>=', '1.2.0').intersect(C(s, '<<', '2.0.0-0')).contains('1.9.9')).toBe(true);
    expect(C(s, '=', '1.0.0+a').contains('1.0.0+b')).toBe(true);
  });

  it('reads what it prints, and rejects bad constraints and versions', () => {
    for (const text of ['any', 'none', '>= 1.2, << 2.0', '<< 1.0 | = 2.0 | >> 3.0~rc1', '!= 1:2.0-1']) {
      expect(R(deb, text).toString()).toBe(text);
    }
    expect(() => R(deb, '~> 1.0')).toThrow(expect.objectContaining({ code: 'RW_USAGE' }));
    expect(() => R(deb, '>= 1.0;rm')).toThrow(expect.objectContaining({ code: 'RW_BAD_VERSION' }));
    // the obsolete `<` means `<=`, as dpkg reads it (and as every Rollwise parser reads it)
    expect(C(deb, '<', '1.0').equals(C(deb, '<=', '1.0'))).toBe(true);
    expect(R(deb, '< 1.0').equals(C(deb, '<=', '1.0'))).toBe(true);
    expect(() => C(deb, '~', '1.0')).toThrow(expect.objectContaining({ code: 'RW_USAGE' }));
    expect(() => C(semverScheme, '>=', '1.0')).toThrow(expect.objectContaining({ code: 'RW_BAD_VERSION' }));
    expect(() => C(cudfScheme, '>=', '0')).toThrow(expect.objectContaining({ code: 'RW_BAD_VERSION' }));
  });
});

// ---- properties over generated versions and ranges -------------------------------------------

const debVersion = fc
  .tuple(
    fc.constantFrom('', '', '', '', '1:', '0:'),
    fc.constantFrom('0', '1', '2', '10', '01'),
    fc.array(fc.constantFrom('0', '1', '2', '10', '.', '~', '+', 'a', 'b', '~~'), { maxLength: 4 }),
    fc.option(fc.array(fc.constantFrom('0', '1', '2', '.', '~', '+', 'a'), { minLength: 1, maxLength: 3 }), { nil: undefined }),
  )
  .map(([e, head, tail, rev]) => `${e}${head}${tail.join('')}${rev ? `-${rev.join('')}` : ''}`)
  .filter(isValidDebianVersion);

const semverVersion = fc
  .tuple(fc.nat(2), fc.nat(2), fc.nat(1), fc.option(fc.array(fc.constantFrom('0', '1', 'a', 'rc'), { minLength: 1, maxLength: 2 }), { nil: undefined }))
  .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre ? `-${pre.join('.')}` : ''}`);

const cudfVersion = fc.integer({ min: 1, max: 12 }).map(String);

function rangeArb(scheme: VersionScheme, version: fc.Arbitrary<string>): fc.Arbitrary<VersionRange> {
  const leaf = fc.oneof(
    fc.tuple(fc.constantFrom(...RELATION_OPS), version).map(([op, v]) => VersionRange.fromConstraint(scheme, op, v)),
    fc.constantFrom(VersionRange.any(scheme), VersionRange.none(scheme)),
  );
  const { range } = fc.letrec<{ range: VersionRange }>((tie) => ({
    range: fc.oneof(
      { maxDepth: 4, depthIdentifier: 'range' },
      leaf,
      fc.tuple(tie('range'), tie('range')).map(([a, b]) => a.union(b)),
      fc.tuple(tie('range'), tie('range')).map(([a, b]) => a.intersect(b)),
      tie('range').map((a) => a.complement()),
    ),
  }));
  return range;
}

/** The versions worth probing: the bounds of the ranges, their successors, the least version, samples. */
function probes(scheme: VersionScheme, ranges: VersionRange[], extra: string[]): string[] {
  const out = new Set(extra);
  if (scheme.min) out.add(scheme.min);
  for (const r of ranges) {
    for (const iv of r.intervals) {
      for (const b of [iv.lower, iv.upper]) {
        if (!b) continue;
        out.add(b.version);
        if (scheme.next) out.add(scheme.next(b.version));
        if (scheme.previous) {
          const p = scheme.previous(b.version);
          if (p) out.add(p);
        }
      }
    }
  }
  return [...out];
}

const SCHEMES: Array<[string, VersionScheme, fc.Arbitrary<string>]> = [
  ['deb', getScheme('deb'), debVersion],
  ['semver', getScheme('semver'), semverVersion],
  ['cudf', getScheme('cudf'), cudfVersion],
];

describe.each(SCHEMES)('version ranges: algebraic laws (%s)', (_name, scheme, version) => {
  const range = rangeArb(scheme, version);
  const params = { numRuns: 400, seed: 42 };

  it('contains agrees with intersect, union and complement pointwise', () => {
    fc.assert(
      fc.property(range, range, fc.array(version, { maxLength: 6 }), (a, b, vs) => {
        const i = a.intersect(b);
        const u = a.union(b);
        const na = a.complement();
        for (const v of probes(scheme, [a, b], vs)) {
          expect(i.contains(v)).toBe(a.contains(v) && b.contains(v));
          expect(u.contains(v)).toBe(a.contains(v) || b.contains(v));
          expect(na.contains(v)).toBe(!a.contains(v));
        }
      }),
      params,
    );
  });

  it('complement twice gives back the same range, structurally', () => {
    fc.assert(
      fc.property(range, (a) => {
        expect(a.complement().complement().toString()).toBe(a.toString());
        expect(a.complement().complement().equals(a)).toBe(true);
      }),
      params,
    );
  });

  it('union and intersection: commutative, associative, distributive, absorbing, De Morgan', () => {
    fc.assert(
      fc.property(range, range, range, (a, b, c) => {
        expect(a.union(b).toString()).toBe(b.union(a).toString());
        expect(a.intersect(b).toString()).toBe(b.intersect(a).toString());
        expect(a.union(b).union(c).toString()).toBe(a.union(b.union(c)).toString());
        expect(a.intersect(b).intersect(c).toString()).toBe(a.intersect(b.intersect(c)).toString());
        expect(a.intersect(b.union(c)).equals(a.intersect(b).union(a.intersect(c)))).toBe(true);
        expect(a.union(b.intersect(c)).equals(a.union(b).intersect(a.union(c)))).toBe(true);
        expect(a.union(a.intersect(b)).equals(a)).toBe(true);
        expect(a.intersect(a.union(b)).equals(a)).toBe(true);
        expect(a.union(b).complement().equals(a.complement().intersect(b.complement()))).toBe(true);
        expect(a.intersect(b).complement().toString()).toBe(a.complement().union(b.complement()).toString());
        expect(a.union(a).toString()).toBe(a.toString());
        expect(a.intersect(a).toString()).toBe(a.toString());
      }),
      params,
    );
  });

  it('a range and its complement: disjoint, together everything; any and none are identities', () => {
    fc.assert(
      fc.property(range, (a) => {
        const any = VersionRange.any(scheme);
        const none = VersionRange.none(scheme);
        expect(a.intersect(a.complement()).isEmpty()).toBe(true);
        expect(a.union(a.complement()).isAny()).toBe(true);
        expect(a.union(none).toString()).toBe(a.toString());
        expect(a.intersect(any).toString()).toBe(a.toString());
        expect(a.intersect(none).isEmpty()).toBe(true);
        expect(a.union(any).isAny()).toBe(true);
      }),
      params,
    );
  });

  it('isEmpty is exact where a witness can be named (semver, CUDF) and sound everywhere', () => {
    fc.assert(
      fc.property(range, fc.array(version, { maxLength: 6 }), (a, vs) => {
        const pts = probes(scheme, [a], vs);
        if (a.isEmpty()) expect(pts.some((v) => a.contains(v))).toBe(false);
        else if (scheme.name !== 'deb') expect(pts.some((v) => a.contains(v))).toBe(true);
        // Canonical form: every interval is non-empty on its own.
        for (const iv of a.intervals) expect(VersionRange.fromIntervals(scheme, [iv]).isEmpty()).toBe(false);
      }),
      params,
    );
  });

  it('prints a form it reads back', () => {
    fc.assert(
      fc.property(range, (a) => {
        const back = VersionRange.parse(scheme, a.toString());
        expect(back.equals(a)).toBe(true);
        expect(back.toString()).toBe(a.toString());
      }),
      params,
    );
  });
});

describe('version ranges: CUDF against brute force', () => {
  it('contains and isEmpty match the set of integers 1..14 a range was built from', () => {
    const cudf = getScheme('cudf');
    const ops: Record<string, (x: number, y: number) => boolean> = {
      '<<': (x, y) => x < y, '<=': (x, y) => x <= y, '=': (x, y) => x === y, '>=': (x, y) => x >= y, '>>': (x, y) => x > y, '!=': (x, y) => x !== y,
    };
    const constraint = fc.tuple(fc.constantFrom(...RELATION_OPS), fc.integer({ min: 1, max: 12 }));
    // A range given as a union of intersections of constraints, and the same as a set of integers.
    fc.assert(
      fc.property(fc.array(fc.array(constraint, { minLength: 1, maxLength: 3 }), { maxLength: 3 }), (dnf) => {
        let r = VersionRange.none(cudf);
        for (const conj of dnf) {
          let c = VersionRange.any(cudf);
          for (const [op, n] of conj) c = c.intersect(VersionRange.fromConstraint(cudf, op, String(n)));
          r = r.union(c);
        }
        const members = (n: number) => dnf.some((conj) => conj.every(([op, m]) => ops[op]!(n, m)));
        let any = false;
        for (let n = 1; n <= 14; n++) {
          expect(r.contains(String(n)), `${r.toString()} ∋ ${n}`).toBe(members(n));
          any ||= members(n);
        }
        expect(r.isEmpty()).toBe(!any);
      }),
      { numRuns: 1500, seed: 9 },
    );
  });
});
