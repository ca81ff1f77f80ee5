/**
 * The Debian → CUDF translation the peer tests rely on (test/helpers/peers-cudf.ts) keeps
 * Debian's meaning: checked on a small universe by solving the generated problem with mccs
 * (package mccs) and validating with cudf-check (package cudf-tools).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmptyRecord, type PackageRecord } from '../../../src/kb/index.js';
import { parseCudf } from '../../../src/kb/index.js';
import { createCudfFromDebian, evaluateCriteria } from '../../helpers/peers-cudf.js';
import { runCudfCheck, runMccs } from '../../helpers/peers.js';

const dir = mkdtempSync(join(tmpdir(), 'rw-cudf-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rec(name: string, version: string, f: (r: PackageRecord) => void = () => {}): PackageRecord {
  const r = createEmptyRecord(name, version, 'amd64', { layer: 'test', source: 'test' });
  f(r);
  return r;
}

describe('Debian → CUDF problems for the peers', () => {
  it('numbers versions in dpkg order and expands versioned atoms to the versions that satisfy them', () => {
    const records = [
      rec('app', '1.0', (r) => { r.depends = [[{ name: 'lib', op: '>=', version: '1.10' }], [{ name: 'virt', op: '>=', version: '2' }]]; }),
      rec('lib', '1.9'),
      rec('lib', '1.10'),
      rec('lib', '1:0.1'),
      rec('plain', '1', (r) => { r.provides = [{ name: 'virt' }]; }),
      rec('versioned', '1', (r) => { r.provides = [{ name: 'virt', version: '3' }]; }),
    ];
    const gen = createCudfFromDebian(records, { install: ['app'] });
    expect(gen.collisions).toBe(0);
    // dpkg order: 1.9 < 1.10 < 1:0.1 → 2, 3, 4
    expect([...gen.numbers.get('lib')!.entries()]).toEqual([['1.9', 2], ['1.10', 3], ['1:0.1', 4]]);
    const doc = parseCudf(gen.text, 'gen.cudf');
    const app = doc.packages.find((p) => p.name === 'app')!;
    expect(app.depends[0]!.map((a) => `${a.name}=${a.version}`)).toEqual(['lib=3', 'lib=4']);
    // an unversioned Provides never satisfies a versioned dependency (Debian), the versioned one does
    expect(app.depends[1]!.map((a) => `${a.name}=${a.version}`)).toEqual([`virt=${gen.numbers.get('virt')!.get('3')}`]);
    const lib = doc.packages.find((p) => p.name === 'lib' && p.version === '2')!;
    expect(lib.conflicts.map((a) => `${a.name}=${a.version}`).sort()).toEqual(['lib=3', 'lib=4']);
  });

  it('mccs solves the generated problem with Debian\'s answer, and cudf-check accepts it', async () => {
    const records = [
      rec('app', '1', (r) => { r.depends = [[{ name: 'mta', op: '>=', version: '2' }]]; r.conflicts = [{ name: 'old' }]; }),
      rec('tiny-mta', '1', (r) => { r.provides = [{ name: 'mta' }]; }),
      rec('big-mta', '5', (r) => { r.provides = [{ name: 'mta', version: '2' }]; r.depends = [[{ name: 'libbig' }]]; }),
      rec('libbig', '1'),
      rec('old', '1'),
    ];
    const gen = createCudfFromDebian(records, { install: ['app'], installed: ['old'] });
    const file = join(dir, 'small.cudf');
    writeFileSync(file, gen.text);
    const m = await runMccs(file, '-removed,-changed');
    expect(m.solution).toBeDefined();
    expect((await runCudfCheck(file, m.solution!)).ok).toBe(true);
    const installed = m.solution!.split('\n').filter((l) => l.startsWith('package: ')).map((l) => l.slice(9)).sort();
    // tiny-mta's unversioned Provides cannot satisfy mta (>= 2): big-mta and its library come in; old must go
    expect(installed).toEqual(['app', 'big-mta', 'libbig']);
    expect(evaluateCriteria(gen.text, m.solution!)).toEqual({ removed: 1, new: 3, changed: 4, notuptodate: 0, unmet_recommends: 0 });
  });
});
