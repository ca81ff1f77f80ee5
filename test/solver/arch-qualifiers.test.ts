/**
 * Architecture qualifiers on relation atoms: the record-backed package set (createPackageSet) and
 * the universe view (createUniverseView over src/universe) must give the same candidates, and
 * both follow Debian (a foreign-architecture qualifier names only that architecture's package,
 * `:any` needs Multi-Arch: allowed or a provider).
 */
import { describe, expect, it } from 'vitest';
import { createUniverse } from '../../src/universe/index.js';
import { createPackageSet, createUniverseView, type PackageSet } from '../../src/solver/index.js';
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

const atoms = [
  'libc6-x32', 'libc6-x32:i386', 'libc6-x32:amd64', 'libc6-x32:native', 'libc6-x32:any', 'libc6-i386:x32',
  'python3:any', 'python3:any (>= 3.11)', 'python3:i386', 'perl:any', 'perlapi-5.36.0:any', 'perlapi-5.36.0:i386',
  'data:i386', 'data:amd64', 'data:all', 'lib32foo:i386', 'lib32foo', 'lib32foo:amd64',
];

function labels(set: PackageSet, pvs: ArrayLike<number>): string[] {
  return Array.from(pvs, (pv) => `${set.label(pv)}:${set.archOf(pv)}`).sort();
}

describe('architecture qualifiers', () => {
  const recordSet = createPackageSet(records);
  const view = createUniverseView(createUniverse(records));

  it('a foreign-arch Conflicts does not hit the host-arch package (record path, as Debian)', () => {
    const pv = recordSet.versionsOf('gccgo-12-multilib')[0]!;
    expect(labels(recordSet, recordSet.conflicts(pv))).toEqual([]);
    expect(labels(recordSet, recordSet.candidates(parseAtoms('libc6-x32:i386')[0]![0]!))).toEqual([]);
    expect(labels(recordSet, recordSet.candidates(parseAtoms('python3:any')[0]![0]!))).toEqual(['python3 3.11.2-1:amd64']);
    expect(labels(recordSet, recordSet.candidates(parseAtoms('perl:any')[0]![0]!))).toEqual([]);
    expect(labels(recordSet, recordSet.candidates(parseAtoms('lib32foo:i386')[0]![0]!))).toEqual(['lib32foo 1:i386']);
  });

  it.each(atoms)('record set and universe view give the same candidates for %s', (text) => {
    const atom = parseAtoms(text)[0]![0]!;
    expect(labels(recordSet, recordSet.candidates(atom))).toEqual(labels(view, view.candidates(atom)));
  });

  it('conflicts and depends of every version agree between the two paths', () => {
    for (let pv = 0; pv < records.length; pv++) {
      const r = records[pv]!;
      const v = view.versionsOf(r.name).find((q) => view.versionOf(q) === r.version && view.archOf(q) === r.architecture)!;
      expect(labels(recordSet, recordSet.conflicts(pv)), r.name).toEqual(labels(view, view.conflicts(v)));
      expect(recordSet.depends(pv).map((c) => labels(recordSet, c)), r.name).toEqual(view.depends(v).map((c) => labels(view, c)));
    }
  });
});
