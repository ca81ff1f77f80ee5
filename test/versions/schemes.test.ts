import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertPackageName,
  checkCudfVersion,
  checkSemver,
  compareCudf,
  compareSemver,
  getScheme,
  isSchemeName,
  isValidPackageName,
  nextSemver,
  parseCudfVersion,
  parseSemver,
  SCHEME_NAMES,
} from '../../src/versions/index.js';
import { loadBookwormVersions } from './debian-corpus.js';

describe('semantic versions', () => {
  it.each([
    '0.0.0', '1.2.3', '10.20.30', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-0.3.7', '1.0.0-x.7.z.92', '1.0.0-x-y-z.--',
    '1.0.0+20130313144700', '1.0.0-beta+exp.sha.5114f85', '1.0.0+21AF26D3----117B344092BD', '0.0.0-0',
  ])('accepts %s', (v) => {
    expect(checkSemver(v)).toMatchObject({ ok: true });
  });

  it('parses the parts', () => {
    expect(parseSemver('1.2.3-rc.1+build.5')).toEqual({ major: 1, minor: 2, patch: 3, prerelease: ['rc', 1], build: ['build', '5'] });
  });

  it.each([
    ['', 'empty'], ['v1.2.3', 'starts with a digit'], ['=1.2.3', 'starts with a digit'], [' 1.2.3', 'starts with a digit'],
    ['1.2.3 ', 'exactly'], ['1.2', 'MAJOR'], ['1.2.3.4', 'MAJOR'], ['01.2.3', 'leading zeros'], ['1.02.3', 'leading zeros'],
    ['1.2.3-01', 'leading zeros'], ['1.2.3-', 'MAJOR'], ['1.2.3+', 'MAJOR'], ['1.2.3-a..b', 'MAJOR'], ['1.2.3;rm', 'MAJOR'],
    ['1.2.3-$(id)', 'MAJOR'], ['99999999999999999999.0.0', 'MAJOR'], ['1.2.3\n', 'exactly'], ['1'.repeat(300), 'longer'],
  ])('rejects %j with RW_BAD_VERSION (%s)', (v, reason) => {
    const r = checkSemver(v);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toContain(reason);
    expect(() => parseSemver(v)).toThrow(expect.objectContaining({ code: 'RW_BAD_VERSION' }));
  });

  it('orders by SemVer precedence (the specification example chain) and ignores build metadata', () => {
    const chain = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.1.0', '1.10.0', '2.0.0'];
    for (let i = 0; i < chain.length; i++) {
      for (let j = 0; j < chain.length; j++) expect(compareSemver(chain[i]!, chain[j]!), `${chain[i]} vs ${chain[j]}`).toBe(Math.sign(i - j));
    }
    expect(compareSemver('1.0.0+a', '1.0.0+b')).toBe(0);
  });

  it('nextSemver gives the least greater version (nothing generated lies strictly between)', () => {
    const id = fc.constantFrom('0', '1', '2', '10', 'a', 'alpha', 'b1', '-');
    const v = fc
      .tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.option(fc.array(id, { minLength: 1, maxLength: 3 }), { nil: undefined }))
      .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre ? `-${pre.join('.')}` : ''}`);
    fc.assert(
      fc.property(v, v, (x, w) => {
        const n = nextSemver(x);
        expect(checkSemver(n).ok).toBe(true);
        expect(compareSemver(x, n)).toBe(-1);
        expect(compareSemver(x, w) < 0 && compareSemver(w, n) < 0).toBe(false);
      }),
      { numRuns: 3000, seed: 7 },
    );
  });
});

describe('CUDF versions', () => {
  it.each(['1', '2', '42', '1000', '9007199254740991'])('accepts %s', (v) => {
    expect(parseCudfVersion(v)).toBe(Number(v));
  });

  it.each([
    ['', 'empty'], ['0', 'at least 1'], ['000', 'at least 1'], ['01', 'leading zeros'], ['-1', 'digits only'], ['+1', 'digits only'],
    ['1.0', 'digits only'], [' 1', 'digits only'], ['1e3', 'digits only'], ['9007199254740992', 'at most'], ['1;id', 'digits only'],
  ])('rejects %j (%s)', (v, reason) => {
    const r = checkCudfVersion(v);
    expect(r.ok ? '' : r.reason).toContain(reason);
    expect(() => parseCudfVersion(v)).toThrow(expect.objectContaining({ code: 'RW_BAD_VERSION' }));
  });

  it('orders numerically, not as text', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (a, b) => {
        expect(compareCudf(String(a), String(b))).toBe(Math.sign(a - b));
      }),
      { numRuns: 2000, seed: 3 },
    );
    expect(compareCudf('9', '10')).toBe(-1);
  });
});

describe('getScheme', () => {
  it('returns deb, semver and cudf with consistent compare/check/isValid/parse', () => {
    const samples: Record<string, [string, string, string]> = {
      deb: ['1.0~rc1', '1.0', '1.0 rc'],
      semver: ['1.0.0-rc.1', '1.0.0', 'v1.0.0'],
      cudf: ['9', '10', '0'],
    };
    for (const name of SCHEME_NAMES) {
      const s = getScheme(name);
      expect(s.name).toBe(name);
      const [lo, hi, bad] = samples[name]!;
      expect(s.compare(lo, hi)).toBeLessThan(0);
      expect(s.compare(hi, lo)).toBeGreaterThan(0);
      expect(s.compare(hi, hi)).toBe(0);
      expect(s.isValid(hi)).toBe(true);
      expect(s.isValid(bad)).toBe(false);
      expect(s.check(bad).ok).toBe(false);
      expect(s.parse(hi)).toBe(hi);
      expect(() => s.parse(bad)).toThrow(expect.objectContaining({ code: 'RW_BAD_VERSION' }));
    }
  });

  it('rejects an unknown scheme with RW_USAGE', () => {
    expect(isSchemeName('rpm')).toBe(false);
    expect(() => getScheme('rpm')).toThrow(expect.objectContaining({ code: 'RW_USAGE' }));
  });
});

describe('Debian package names (policy 5.6.1)', () => {
  it.each(['libc6', 'g++', '0ad', 'libstdc++6', 'python3.11', 'a-b', 'ab', 'x.y+z-1'])('accepts %s', (n) => {
    expect(isValidPackageName(n)).toBe(true);
    expect(assertPackageName(n)).toBe(n);
  });

  it.each([
    ['', 'empty'], ['a', 'at least two'], ['A1', 'starts with'], ['Foo', 'starts with'], ['fOo', "'O'"], ['-o', 'starts with'],
    ['--force-all', 'starts with'], ['.a', 'starts with'], ['+a', 'starts with'], ['a b', "' '"], ['a;rm', "';'"],
    ['$(id)', 'starts with'], ['a$(id)', "'$'"], ['a/b', "'/'"], ['a_b', "'_'"], ['libc6:amd64', "':'"], ['é1', 'starts with'],
    ['ab\n', "'\\x0a'"], ['x'.repeat(257), 'longer'],
  ])('rejects %j with RW_BAD_NAME (%s)', (n, reason) => {
    expect(isValidPackageName(n)).toBe(false);
    expect(() => assertPackageName(n)).toThrow(expect.objectContaining({ code: 'RW_BAD_NAME', message: expect.stringContaining(reason) }));
  });

  it('accepts every package name in Debian 12 main', () => {
    const { names } = loadBookwormVersions();
    expect(names.length).toBeGreaterThan(60_000);
    expect(names.filter((n) => !isValidPackageName(n))).toEqual([]);
  });
});
