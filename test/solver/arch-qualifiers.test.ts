/**
 * Architecture qualifiers on relation atoms follow Debian (a foreign-architecture qualifier
 * names only that architecture's package, `:any` needs Multi-Arch: allowed or a provider), on
 * the one data path the solver has (records built into a universe).
 */
import { describe, expect, it } from 'vitest';
import { createUniverse } from '../../src/universe/index.js';
import { createUniverseView, type PackageSet } from '../../src/solver/index.js';
import { parseAtoms, recordsFromYaml } from './helpers.js';

const records = recordsFromYaml([
  { name: 'gccgo-12-multilib', version: '12.2.0-14', depends: 'libc6-x32', conflicts: 'libc6-x32:i386, libc6-i386:x32' },
  { name: 'libc6-x32', version: '2.36-9' },
  { name: 'libc6-i386', version: '2.36-9' },
  { name: 'python3', version: '3.11.2-1', 'multi-arch': 'allowed' },
  { name: 'perl', version: '5.36.0-7' },
  { name: 'perl-base', version: '5.36.0-7', provides: 'perlapi-5.36.0', 'multi-arch': 'foreign' },
  { name: 'data', version: '1', architecture: 'all' },
  { name: 'lib32foo', version: '1', architecture: 'i386' },
]);

/** Debian's meaning in a single-architecture (amd64 + all) universe, atom by atom. */
const expected: Record<string, string[]> = {
  'libc6-x32': ['libc6-x32 2.36-9:amd64'],
  'libc6-x32:i386': [],
  'libc6-x32:amd64': ['libc6-x32 2.36-9:amd64'],
  'libc6-x32:native': ['libc6-x32 2.36-9:amd64'],
  'libc6-x32:any': [], // not Multi-Arch: allowed, and nothing provides it
  'libc6-i386:x32': [],
  'python3:any': ['python3 3.11.2-1:amd64'],
  'python3:any (>= 3.11)': ['python3 3.11.2-1:amd64'],
  'python3:i386': [],
  'perl:any': [],
  'perlapi-5.36.0:any': ['perl-base 5.36.0-7:amd64'], // any provider satisfies :any
  'perlapi-5.36.0:i386': [],
  'data:i386': [],
  'data:amd64': ['data 1:all'],
  'data:all': ['data 1:all'],
  'lib32foo:i386': ['lib32foo 1:i386'],
  'lib32foo': ['lib32foo 1:i386'],
};

function labels(set: PackageSet, pvs: ArrayLike<number>): string[] {
  return Array.from(pvs, (pv) => `${set.label(pv)}:${set.archOf(pv)}`).sort();
}

describe('architecture qualifiers', () => {
  const view = createUniverseView(createUniverse(records));

  it('a foreign-arch Conflicts does not hit the host-arch package (as Debian)', () => {
    const pv = view.versionsOf('gccgo-12-multilib')[0]!;
    expect(labels(view, view.conflicts(pv))).toEqual([]);
    expect(view.depends(pv).map((c) => labels(view, c))).toEqual([['libc6-x32 2.36-9:amd64']]);
  });

  it.each(Object.keys(expected))('candidates of %s', (text) => {
    const atom = parseAtoms(text)[0]![0]!;
    expect(labels(view, view.candidates(atom))).toEqual(expected[text]);
  });
});
