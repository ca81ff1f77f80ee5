import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { installedOf, loadCudf, parseCudf, writeCudf, writeCudfSolution } from '../../src/kb/index.js';
import { RollwiseError } from '../../src/shared/index.js';
import { createCudfUniverse, REL } from '../../src/universe/index.js';

const PROBLEM = new URL('../fixtures/debian/problem.cudf', import.meta.url).pathname;

function errorOf(text: string): RollwiseError {
  try {
    parseCudf(text, 'p.cudf');
  } catch (e) {
    if (e instanceof RollwiseError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('CUDF reader', () => {
  it('reads the preamble, packages with installed state, extra properties and the request', async () => {
    const doc = await loadCudf(PROBLEM);
    expect(doc.preamble!.properties).toEqual([
      { name: 'suite', type: 'enum[stable,testing,unstable]', default: 'stable' },
      { name: 'bugs', type: 'int', default: '0' },
      { name: 'description', type: 'string', default: 'none' },
    ]);
    expect(doc.packages.map((p) => `${p.name}=${p.version}${p.installed ? '*' : ''}`)).toEqual([
      'car=1*', 'car=2', 'engine=1*', 'engine=2', 'wheel=3*', 'door=1*', 'battery=3*', 'solar-panel=1', 'bicycle=7',
    ]);
    const car1 = doc.packages[0]!;
    expect(car1.depends).toEqual([
      [{ name: 'engine' }], [{ name: 'wheel', op: '>>', version: '2' }], [{ name: 'door' }],
      [{ name: 'battery', op: '<=', version: '13' }, { name: 'solar-panel' }],
    ]);
    expect(car1.properties).toEqual({ suite: 'stable' });
    expect(car1.line).toBe(5);
    expect(doc.packages[1]!.properties).toEqual({ suite: 'testing', bugs: '3' });
    expect(doc.packages[2]!.keep).toBe('version');
    expect(doc.packages[3]!.provides).toEqual([{ name: 'electric-engine', version: '1' }]);
    expect(doc.packages[4]!.properties.description).toBe('a round\nthing');
    expect(doc.packages[6]!.provides).toEqual([{ name: 'huge-battery' }]);
    expect(doc.packages[7]!.depends).toEqual([[]]);
    expect(doc.packages[8]!.depends).toEqual([]);
    expect(doc.packages[8]!.conflicts).toEqual([{ name: 'car', op: '!=', version: '1' }, { name: 'engine', op: '<<', version: '2' }]);
    expect(doc.request).toMatchObject({
      id: 'example-request',
      install: [{ name: 'car', op: '=', version: '2' }, { name: 'bicycle' }],
      remove: [{ name: 'door' }],
      upgrade: [{ name: 'wheel', op: '>=', version: '3' }],
    });
    expect(installedOf(doc).map((p) => p.name)).toEqual(['car', 'engine', 'wheel', 'door', 'battery']);
  });

  it('round-trips: read → write → read gives the same document', () => {
    const doc = parseCudf(readFileSync(PROBLEM, 'utf8'), 'a.cudf');
    const text = writeCudf(doc);
    const again = parseCudf(text, 'a.cudf');
    const strip = (d: typeof doc): unknown => ({ ...d, preamble: { ...d.preamble, line: 0 }, packages: d.packages.map((p) => ({ ...p, line: 0 })), request: { ...d.request, line: 0 } });
    expect(strip(again)).toEqual(strip(doc));
    expect(writeCudf(again)).toBe(text);
    expect(text).toContain('depends: false!');
    expect(text).toContain('conflicts: car != 1, engine < 2');
  });

  it('writes solutions that read back as the installed set', () => {
    const text = writeCudfSolution([{ name: 'car', version: '2' }, { name: 'engine', version: '2' }]);
    expect(text).toBe('package: car\nversion: 2\ninstalled: true\n\npackage: engine\nversion: 2\ninstalled: true\n');
    expect(installedOf(parseCudf(text, 'sol'))).toEqual([{ name: 'car', version: '2' }, { name: 'engine', version: '2' }]);
  });

  const cases: Array<[string, string, number, number, RegExp]> = [
    ['a missing version', 'package: a\ndepends: b\n', 1, 1, /no version/],
    ['a non-integer version', 'package: a\nversion: 1.5\n', 2, 10, /not a positive integer/],
    ['an unknown operator', 'package: a\nversion: 1\ndepends: b => 2\n', 3, 12, /unknown relation operator '=>'/],
    ['alternatives in conflicts', 'package: a\nversion: 1\nconflicts: b | c\n', 3, 14, /alternatives/],
    ['a versioned provide with >=', 'package: a\nversion: 1\nprovides: b >= 2\n', 3, 13, /provides allows only/],
    ['an undeclared property', 'package: a\nversion: 1\ncolour: red\n', 3, 1, /not declared in the preamble/],
    ['a mistyped extra property', 'preamble: \nproperty: bugs: int\n\npackage: a\nversion: 1\nbugs: many\n', 6, 7, /not an integer/],
    ['a bad keep', 'package: a\nversion: 1\nkeep: forever\n', 3, 7, /expected one of version/],
    ['a bad installed flag', 'package: a\nversion: 1\ninstalled: yes\n', 3, 12, /expected true or false/],
    ['a line without a colon', 'package: a\nversion 1\n', 2, 1, /expected 'property: value'/],
    ['a stanza of an unknown kind', 'pkg: a\n', 1, 1, /starts with preamble:, package: or request:/],
    ['a duplicated property', 'package: a\nversion: 1\nversion: 2\n', 3, 1, /appears twice/],
    ['a dangling comma', 'package: a\nversion: 1\ndepends: b,\n', 3, 12, /expected a package name/],
    ['a continuation error', 'package: a\nversion: 1\ndepends: b,\n c d\n', 4, 4, /expected ',' or '\|'/],
  ];
  for (const [what, text, line, column, message] of cases) {
    it(`reports ${what} as RW_CUDF_PARSE with its position`, () => {
      const e = errorOf(text);
      expect(e.code).toBe('RW_CUDF_PARSE');
      expect(e.message).toMatch(message);
      expect(e.position).toEqual({ file: 'p.cudf', line, column });
    });
  }
});

describe('CUDF universes', () => {
  const { universe: u, installed, request } = createCudfUniverse(parseCudf(readFileSync(PROBLEM, 'utf8'), PROBLEM));
  const d = (pvs: Iterable<number>): string[] => [...pvs].map((pv) => u.describePv(pv));

  it('orders integer versions and keeps installed state and keep', () => {
    expect(d(u.versionsOf(u.nameId('car')))).toEqual(['car 2', 'car 1']);
    expect(d(installed.pvs)).toEqual(['car 1', 'engine 1', 'wheel 3', 'door 1', 'battery 3']);
    expect(u.keepOf(u.findPv('engine', '1'))).toBe('version');
    expect(u.keepOf(u.findPv('wheel', '3'))).toBe('package');
    expect(request!.install).toHaveLength(2);
  });

  it('an unversioned CUDF provide satisfies versioned constraints; != and < work', () => {
    expect(d(u.candidatesFor({ name: 'huge-battery', op: '>=', version: '5' }))).toEqual(['battery 3']);
    const bicycle = u.findPv('bicycle', '7');
    expect(d(u.conflictsOf(bicycle))).toEqual(['car 2', 'engine 1']);
  });

  it('a package conflicting with its own name conflicts with the other versions only; false! is an empty clause', () => {
    expect(d(u.conflictsOf(u.findPv('engine', '2')))).toEqual(['engine 1']);
    const solar = u.findPv('solar-panel', '1');
    const clauses = u.clausesOf(solar, REL.depends);
    expect(clauses).toHaveLength(1);
    expect(clauses[0]!).toHaveLength(0);
  });

  it('rejects a package version defined twice', () => {
    expect(() => createCudfUniverse(parseCudf('package: a\nversion: 1\n\npackage: a\nversion: 1\n', 'dup.cudf'))).toThrow(/defined twice/);
  });
});
