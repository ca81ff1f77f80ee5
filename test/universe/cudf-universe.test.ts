/**
 * createCudfUniverse goes straight from the parsed CUDF document into the builder (no
 * PackageRecord per package, for `rollwise cudf` on whole archives): it must build exactly the
 * universe the record path (cudfToRecords + addRecord) builds, and reject a package version
 * given twice with the same error.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cudfToRecords, parseCudf, parseDebianPackages, readDecompressed, type CudfDocument } from '../../src/kb/index.js';
import { RollwiseError } from '../../src/shared/index.js';
import { createCudfUniverse, createUniverseBuilder, type Universe } from '../../src/universe/index.js';
import { createCudfFromDebian } from '../helpers/peers-cudf.js';
import { describeUniverse } from './describe-universe.js';

const FIXTURE = new URL('../fixtures/debian/problem.cudf', import.meta.url).pathname;
const INDEX = new URL('../../../shared/data/debian/bookworm-main-amd64.Packages.xz', import.meta.url).pathname;

/** The record path, as createCudfUniverse built universes before. */
function viaRecords(doc: CudfDocument): Universe {
  const b = createUniverseBuilder({ hostArch: 'all' });
  b.addLayer({ name: `cudf:${doc.file.split('/').pop() ?? doc.file}`, source: doc.file, trust: 'distribution' });
  cudfToRecords(doc).forEach((r, i) => b.addRecord(r, { keep: doc.packages[i]!.keep }));
  return b.build();
}

describe('createCudfUniverse equals the record path', () => {
  it('on the fixture problem', () => {
    const doc = parseCudf(readFileSync(FIXTURE, 'utf8'), FIXTURE);
    const direct = createCudfUniverse(doc);
    expect(describeUniverse(direct.universe)).toEqual(describeUniverse(viaRecords(doc)));
    expect(direct.installed.pvs.length).toBe(doc.packages.filter((p) => p.installed).length);
  });

  it('on a CUDF problem made from bookworm (task-gnome-desktop with Recommends, a base system installed, keep flags)', async () => {
    const { records } = parseDebianPackages(await readDecompressed(INDEX), INDEX);
    const base = records.filter((r) => r.priority === 'required' && (r.architecture === 'amd64' || r.architecture === 'all')).map((r) => r.name);
    const gen = createCudfFromDebian(records, { install: ['task-gnome-desktop'], installed: base, recommends: true });
    const doc = parseCudf(gen.text, 'gnome.cudf');
    expect(doc.packages.length).toBeGreaterThan(2000);
    expect(doc.packages.some((p) => p.keep !== 'none')).toBe(true);
    expect(doc.packages.some((p) => p.recommends.length > 0)).toBe(true);
    expect(describeUniverse(createCudfUniverse(doc).universe)).toEqual(describeUniverse(viaRecords(doc)));
  }, 120_000);

  it('a package version given twice: RW_CUDF_PARSE at the second, naming the first line', () => {
    const text = 'package: a\nversion: 1\n\npackage: b\nversion: 1\n\npackage: a\nversion: 1\ndepends: b\n';
    let caught: unknown;
    try {
      createCudfUniverse(parseCudf(text, 'dup.cudf'));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(RollwiseError);
    const e = caught as RollwiseError;
    expect(e.code).toBe('RW_CUDF_PARSE');
    expect(e.message).toBe("package 'a' version 1 is defined twice (first at line 1)");
    expect(e.position).toEqual({ file: 'dup.cudf', line: 7, column: 1 });
  });
});
