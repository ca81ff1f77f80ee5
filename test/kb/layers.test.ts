import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectRecords, computeStats, describePackage, describeService, effectiveServices, formatProblem, loadKnowledgeBase } from '../../src/kb/index.js';
import { createTempKb, FIXTURES, HEADER } from './helpers.js';

let temp: ReturnType<typeof createTempKb> | undefined;
afterEach(() => {
  temp?.cleanup();
  temp = undefined;
});

const ORG = `${HEADER('org', 50, '  author: platform-team\n  date: 2026-11-02\n  source: git.example.com/kb\n')}packages:
  - name: app
    versions:
      - version: "1.0-1"
        depends: ["libfoo1 (>= 1.0)"]
      - version: "1.1-1"
        depends: ["libfoo1 (>= 1.2)"]
services:
  - name: web
    criticality: medium
    packages: [app]
`;

const LEARNED = `${HEADER('learned', 80, '  trust: learned\n  author: rollwise learn\n  date: 2026-11-20\n  source: rollback dep-0042\n')}packages:
  - name: app
    versions:
      - version: "1.1-1"
        depends: ["libfoo1 (>= 1.2)"]
        conflicts: ["libfoo1 (>= 2.0)"]
services:
  - name: web
    criticality: critical
    packages: [app]
functional:
  impacts:
    - package: libfoo1
      service: web
      impact: outage
`;

const INDEX = `Package: libfoo1
Version: 1.2-3
Architecture: amd64

Package: libfoo1
Version: 2.0-1
Architecture: amd64

`;

describe('layers, precedence and provenance', () => {
  it('the higher precedence wins for the same package version and service; the lower stays visible as shadowed', async () => {
    temp = createTempKb({ 'org.yaml': ORG, 'learned.yaml': LEARNED, 'dist/Packages': INDEX });
    const kb = await loadKnowledgeBase([temp.dir]);
    expect(kb.problems.map(formatProblem)).toEqual([]);
    expect(kb.layers.map((l) => [l.name, l.precedence, l.trust, l.origin])).toEqual([
      ['learned', 80, 'learned', 'yaml'], ['org', 50, 'organisation', 'yaml'], ['debian:packages', 10, 'distribution', 'index'],
    ]);

    const app = describePackage(kb, 'app');
    expect(app.versions.map((v) => [v.version, v.effective.provenance.layer, v.shadowed.map((s) => s.provenance.layer)])).toEqual([
      ['1.0-1', 'org', []],
      ['1.1-1', 'learned', ['org']],
    ]);
    expect(app.versions[1]!.effective.conflicts).toEqual([{ name: 'libfoo1', op: '>=', version: '2.0' }]);
    expect(app.versions[1]!.shadowed[0]!.conflicts).toEqual([]);

    expect(effectiveServices(kb).map((s) => [s.value.name, s.value.criticality, s.provenance.layer])).toEqual([['web', 'critical', 'learned']]);
    expect(describeService(kb, 'web').map((s) => [s.value.criticality, s.provenance.layer])).toEqual([['critical', 'learned'], ['medium', 'org']]);
  });

  it('every fact carries its provenance: layer, file and line, author, date, trust, origin', async () => {
    temp = createTempKb({ 'org.yaml': ORG, 'learned.yaml': LEARNED, 'dist/Packages': INDEX });
    const kb = await loadKnowledgeBase([temp.dir]);
    const app = describePackage(kb, 'app');
    expect(app.versions[0]!.effective.provenance).toEqual({
      layer: 'org', source: temp.file('org.yaml'), line: 12, trust: 'organisation', author: 'platform-team', date: '2026-11-02', origin: 'git.example.com/kb',
    });
    const lib = describePackage(kb, 'libfoo1');
    expect(lib.versions.map((v) => [v.version, v.effective.provenance.layer, v.effective.provenance.trust])).toEqual([
      ['1.2-3', 'debian:packages', 'distribution'], ['2.0-1', 'debian:packages', 'distribution'],
    ]);
    expect(lib.impacts.map((i) => [i.value.service, i.value.impact, i.provenance.layer, i.provenance.source, i.provenance.line, i.provenance.origin])).toEqual([
      ['web', 'outage', 'learned', temp.file('learned.yaml'), 22, 'rollback dep-0042'],
    ]);
    expect(describePackage(kb, 'app').services.map((s) => s.provenance.layer)).toEqual(['learned']);
  });

  it('a KB package becomes a universe layer: PackageRecords with parsed relations, highest layer first', async () => {
    temp = createTempKb({ 'org.yaml': ORG, 'learned.yaml': LEARNED, 'dist/Packages': INDEX });
    const kb = await loadKnowledgeBase([temp.dir]);
    const records = collectRecords(kb);
    expect(records.map((r) => `${r.provenance.layer}:${r.name}=${r.version}`)).toEqual([
      'learned:app=1.1-1', 'org:app=1.0-1', 'org:app=1.1-1', 'debian:packages:libfoo1=1.2-3', 'debian:packages:libfoo1=2.0-1',
    ]);
    const first = records[1]!;
    expect(first).toMatchObject({ scheme: 'deb', architecture: 'all', depends: [[{ name: 'libfoo1', op: '>=', version: '1.0' }]], essential: false });
  });

  it('files naming the same layer merge into it; stats count per layer', async () => {
    const kb = await loadKnowledgeBase([path.join(FIXTURES, '..', '..', '..', 'examples', 'kb')]);
    const stats = computeStats(kb);
    const org = stats.layers.find((l) => l.name === 'org-shop')!;
    expect(org.files.map((f) => path.basename(f))).toEqual(['functional.yaml', 'known-issues.yaml', 'packages.yaml', 'services.yaml']);
    expect(org.counts).toEqual({ packages: 4, names: 2, services: 4, functional: 8, knownIssues: 1, migrations: 3, configFiles: 4 });
    expect(stats.layers.find((l) => l.name === 'learned')!.counts.functional).toBe(1);
  });
});
