/**
 * compareDebian against Debian's own implementations: python3-apt's apt_pkg.version_compare in
 * bulk (one python process, pairs streamed on stdin) and `dpkg --compare-versions` itself on a few
 * thousand pairs. Any disagreement fails the test and the first ones are printed.
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkDebianVersion,
  compareDebian,
  compareParsedDebian,
  isValidDebianVersion,
  parseDebianVersion,
  satisfiesDebian,
} from '../../src/versions/index.js';
import {
  checkAptPkg,
  compareWithAptPkg,
  checkWithDpkg,
  createBulkPairs,
  createEdgePairs,
  createGeneratedPairs,
  createPrng,
  EDGE_VERSIONS,
  loadBookwormVersions,
  type BookwormVersions,
  type Pair,
} from './debian-corpus.js';

const SEED = 20260527;
const MIN_APT_PAIRS = 200_000;
const DPKG_PAIRS = 3000;
const GENERATED_PAIRS = 50_000;
// One dpkg process per pair: ~1.3 ms each on a quiet machine, but forking from node can take
// 30-70 ms on a loaded 2-core one, so these tests get a generous timeout (no timing is asserted).
const DPKG_TIMEOUT_MS = 600_000;

let data: BookwormVersions;
let bulk: Pair[];

beforeAll(() => {
  data = loadBookwormVersions();
  bulk = createBulkPairs(data, SEED, MIN_APT_PAIRS).pairs;
});

function describeDisagreements(rows: string[], total: number, oracle: string): string {
  return `${rows.length} of ${total} pairs disagree with ${oracle}; first ones:\n  ${rows.slice(0, 25).join('\n  ')}`;
}

describe('compareDebian against apt_pkg.version_compare (python3-apt)', () => {
  it('reads Debian 12 main and builds at least 200,000 pairs, near-equal ones included', () => {
    expect(data.stanzas).toBe(63_440);
    expect(data.versions.length).toBeGreaterThan(20_000);
    const { pairs, counts } = createBulkPairs(data, SEED, MIN_APT_PAIRS);
    expect(pairs.length).toBeGreaterThanOrEqual(MIN_APT_PAIRS);
    expect(pairs).toEqual(bulk); // deterministic: same seed, same pairs
    for (const kind of ['random', 'string-neighbours', 'dpkg-neighbours', 'same-source', 'edited']) {
      expect(counts[kind] ?? 0, kind).toBeGreaterThan(1000);
    }
  });

  it('agrees on every archive pair, every ordered pair of edge cases, and generated versions', () => {
    const problem = checkAptPkg();
    if (problem !== undefined) throw new Error(problem);
    const generated = createGeneratedPairs(SEED + 3, GENERATED_PAIRS);
    const pairs = [...bulk, ...createEdgePairs(), ...generated];
    expect(pairs.length).toBeGreaterThanOrEqual(MIN_APT_PAIRS);
    const { signs } = compareWithAptPkg(pairs);
    const bad: string[] = [];
    pairs.forEach(([a, b], i) => {
      const ours = compareDebian(a, b);
      if (ours !== signs[i]) bad.push(`compareDebian('${a}', '${b}') = ${ours}, apt_pkg says ${signs[i]}`);
    });
    if (bad.length > 0) throw new Error(describeDisagreements(bad, pairs.length, 'apt_pkg.version_compare'));
    // The comparison did discriminate: all three outcomes occur.
    expect(new Set(signs)).toEqual(new Set([-1, 0, 1]));
    console.log(
      `apt_pkg oracle: ${pairs.length} pairs compared (${bulk.length} from the archive, ${EDGE_VERSIONS.length ** 2} edge, ${generated.length} generated), 0 disagreements`,
    );
  });
});

describe('compareDebian against dpkg --compare-versions', () => {
  it(`agrees on ${DPKG_PAIRS} pairs (edge cases, generated, near-equal and random archive pairs)`, () => {
    const probe = spawnSync('dpkg', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error('dpkg is not runnable: apt-get install dpkg');
    const rnd = createPrng(SEED + 1);
    const pairs: Pair[] = [];
    const edges = EDGE_VERSIONS;
    // Half from the hand-written cases (distinct unordered pairs, random orientation) ...
    const seen = new Set<string>();
    while (pairs.length < DPKG_PAIRS / 2) {
      const a = edges[Math.floor(rnd() * edges.length)]!;
      const b = edges[Math.floor(rnd() * edges.length)]!;
      const key = a < b ? `${a}\t${b}` : `${b}\t${a}`;
      if (seen.has(key)) continue;
      seen.add(key);
      pairs.push([a, b]);
    }
    // ... 500 generated from the whole grammar, the rest from the archive pairs (which include
    // near-equal edits).
    pairs.push(...createGeneratedPairs(SEED + 4, 500));
    while (pairs.length < DPKG_PAIRS) pairs.push(bulk[Math.floor(rnd() * bulk.length)]!);
    const bad: string[] = [];
    const outcomes = new Set<number>();
    for (const [a, b] of pairs) {
      // One call per pair settles the sign: ask dpkg whether the relation we claim holds.
      const ours = compareDebian(a, b);
      const d = checkWithDpkg(a, ours < 0 ? 'lt' : ours > 0 ? 'gt' : 'eq', b);
      if (d === 'unrunnable') throw new Error('dpkg is not runnable: apt-get install dpkg');
      if (d !== true) bad.push(`compareDebian('${a}', '${b}') = ${ours}, dpkg disagrees${d === false ? '' : `: ${d}`}`);
      outcomes.add(ours);
    }
    if (bad.length > 0) throw new Error(describeDisagreements(bad, pairs.length, 'dpkg --compare-versions'));
    expect(outcomes).toEqual(new Set([-1, 0, 1]));
    console.log(`dpkg oracle: ${pairs.length} pairs compared, 0 disagreements`);
  }, DPKG_TIMEOUT_MS);

  it('satisfiesDebian answers each relation like dpkg on edge cases', () => {
    const rnd = createPrng(SEED + 2);
    const ops = ['<<', '<=', '=', '>=', '>>', 'lt', 'le', 'eq', 'ne', 'ge', 'gt', '<', '>'];
    const bad: string[] = [];
    for (let i = 0; i < 150; i++) {
      const a = EDGE_VERSIONS[Math.floor(rnd() * EDGE_VERSIONS.length)]!;
      const b = rnd() < 0.3 ? a : EDGE_VERSIONS[Math.floor(rnd() * EDGE_VERSIONS.length)]!;
      const op = ops[i % ops.length]!;
      const r = spawnSync('dpkg', ['--compare-versions', a, op, b], { encoding: 'utf8' });
      if (r.error) throw new Error('dpkg is not runnable: apt-get install dpkg');
      const ours = satisfiesDebian(a, op, b);
      if (r.status !== (ours ? 0 : 1)) bad.push(`'${a}' ${op} '${b}': ours ${ours}, dpkg exit ${r.status} ${r.stderr.trim()}`);
    }
    expect(bad).toEqual([]);
  }, DPKG_TIMEOUT_MS);
});

describe('compareDebian is a consistent order', () => {
  it('is antisymmetric, returns -1/0/1 and matches compareParsedDebian on the archive pairs', () => {
    let checked = 0;
    for (let i = 0; i < bulk.length; i += 3) {
      const [a, b] = bulk[i]!;
      const ab = compareDebian(a, b);
      expect([-1, 0, 1]).toContain(ab);
      if (compareDebian(b, a) !== -ab || compareParsedDebian(parseDebianVersion(a), parseDebianVersion(b)) !== ab) {
        throw new Error(`inconsistent on '${a}' '${b}'`);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(60_000);
  });

  it('sorting the archive versions gives a transitive order (each adjacent pair ascending)', () => {
    const sorted = data.versions.filter(isValidDebianVersion).sort(compareDebian);
    for (let i = 0; i + 1 < sorted.length; i++) {
      if (compareDebian(sorted[i]!, sorted[i + 1]!) > 0) throw new Error(`not sorted at ${sorted[i]} ${sorted[i + 1]}`);
    }
    // Spot-check transitivity across distance: first < middle < last.
    expect(compareDebian(sorted[0]!, sorted[sorted.length - 1]!)).toBe(-1);
  });
});

describe('Debian version grammar', () => {
  it('accepts every version in Debian 12 main and every hand-written edge case', () => {
    const bad = [...data.versions, ...EDGE_VERSIONS].filter((v) => !isValidDebianVersion(v));
    expect(bad).toEqual([]);
  });

  it.each([
    ['1.0', 0, '1.0', ''],
    ['1:2.30+dfsg-3', 1, '2.30+dfsg', '3'],
    ['1.0-1-2', 0, '1.0-1', '2'],
    ['2:1:2-3', 2, '1:2', '3'],
    ['007:1', 7, '1', ''],
    ['1.0~rc1', 0, '1.0~rc1', ''],
    ['2147483647:1', 2147483647, '1', ''],
  ])('parses %s into epoch %i, upstream %s, revision %s', (text, epoch, upstream, revision) => {
    expect(parseDebianVersion(text)).toEqual({ epoch, upstream, revision });
  });

  // Each: text, and a fragment of the reason given.
  const invalid: Array<[string, string]> = [
    ['', 'empty'],
    [' 1.0', 'does not start'],
    ['1.0 ', 'invalid character'],
    ['1 0', 'invalid character'],
    ['1.0\t', 'invalid character'],
    ['1.0\n', 'invalid character'],
    ['1.0;rm -rf /', 'invalid character'],
    ['1.0$(id)', 'invalid character'],
    ['$(id)', 'does not start'],
    ['`id`', 'does not start'],
    ['1.0|cat', 'invalid character'],
    ['1.0&', 'invalid character'],
    ['1.0>x', 'invalid character'],
    ['1.0_1', 'invalid character'],
    ['1.0/2', 'invalid character'],
    ['1.0\\2', 'invalid character'],
    ['1.0é', 'invalid character'],
    ['-1', 'version number is empty'],
    ['-', 'revision number is empty'],
    ['--version', 'does not start'],
    ['1.0-', 'revision number is empty'],
    ['1.0-1-', 'revision number is empty'],
    ['1.0-1_2', 'invalid character'],
    ['1.0-1:2', 'epoch in version is not a number'],
    ['1:1-1:1', 'invalid character'],
    [':1.0', 'epoch in version is empty'],
    ['a:1.0', 'not a number'],
    ['-1:1.0', 'not a number'],
    ['+1:1.0', 'not a number'],
    [' 1:1.0', 'not a number'],
    ['1:', 'nothing after colon'],
    ['1:-1', 'version number is empty'],
    ['2147483648:1', 'too big'],
    ['99999999999:1', 'too big'],
    ['1:~1', 'does not start'],
    ['~1', 'does not start'],
    ['.1', 'does not start'],
    ['+1', 'does not start'],
    ['1.0-1.~;', 'invalid character'],
    ['1'.repeat(257), 'longer than 256'],
  ];

  it.each(invalid)('rejects %j (%s) with RW_BAD_VERSION', (text, reason) => {
    const r = checkDebianVersion(text);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toContain(reason);
    expect(() => parseDebianVersion(text)).toThrow(expect.objectContaining({ code: 'RW_BAD_VERSION' }));
  });

  it('rejects everything dpkg rejects, and dpkg accepts everything we accept', () => {
    const bad: string[] = [];
    const candidates = [...invalid.map(([t]) => t), ...EDGE_VERSIONS, '1:1.0', '0:0', '1.0-1-1'];
    for (const text of candidates) {
      // dpkg would read a leading '-' as an option: we reject those ourselves (checked above).
      if (text.startsWith('-')) continue;
      const r = spawnSync('dpkg', ['--compare-versions', text, 'eq', '1'], { encoding: 'utf8' });
      if (r.error) throw new Error('dpkg is not runnable: apt-get install dpkg');
      const dpkgError = r.status !== 0 && r.status !== 1;
      const ours = isValidDebianVersion(text);
      if (dpkgError && ours) bad.push(`${JSON.stringify(text)}: dpkg rejects (${r.stderr.trim()}) but we accept`);
      if (ours && dpkgError) bad.push(`${JSON.stringify(text)}: we accept but dpkg fails`);
      // Where we accept, dpkg must not even warn, unless upstream starts with a letter (dpkg warns, we allow).
      if (ours && r.stderr.includes('warning') && !/does not start with digit/.test(r.stderr)) {
        bad.push(`${JSON.stringify(text)}: we accept but dpkg warns: ${r.stderr.trim()}`);
      }
    }
    expect(bad).toEqual([]);
  }, DPKG_TIMEOUT_MS);
});
