/** The reverse-dependency walk: shortest paths, each package once, and the depth bound. */
import { describe, expect, it } from 'vitest';
import { MAX_DEPENDS_DEPTH, predictImpact } from '../../src/analysis/index.js';
import { createEmptyRecord, createLayer, type KbService, type KnowledgeBase, type Located, type PackageRecord } from '../../src/kb/index.js';
import { createUniverse } from '../../src/universe/index.js';
import { createGroup, describeHop, upgrade } from './helpers.js';

function rec(name: string, depends: string[]): PackageRecord {
  return { ...createEmptyRecord(name, '1.0-1', 'amd64', { layer: 'test', source: 'test' }), depends: depends.map((d) => [{ name: d }]) };
}

function service(name: string, packages: string[], criticality: KbService['criticality'] = 'critical'): Located<KbService> {
  return { value: { name, criticality, packages }, file: 'kb.yaml', path: ['services', 0], position: { file: 'kb.yaml', line: 1, column: 1 }, provenance: { layer: 'test', source: 'kb.yaml' } };
}

function kbWith(services: Array<Located<KbService>>): KnowledgeBase {
  return { layers: [createLayer({ name: 'test', precedence: 50, trust: 'organisation', origin: 'yaml', source: 'kb.yaml', services })], problems: [] };
}

describe('the reverse-dependency walk', () => {
  it('stops at the depth bound and says so', () => {
    // p1 depends on p0, p2 on p1, ... p12 on p11
    const names = Array.from({ length: 13 }, (_, i) => `p${i}`);
    const universe = createUniverse(names.map((n, i) => rec(n, i === 0 ? [] : [names[i - 1]!])));
    const kb = kbWith([service('near', ['p3']), service('edge', [`p${MAX_DEPENDS_DEPTH}`]), service('deep', ['p12'])]);
    const installed = Object.fromEntries(names.map((n) => [n, '1.0-1']));
    const g = predictImpact({ plan: { groups: [createGroup({ installed, changes: [upgrade('p0', '1.0-0', '1.0-1')] })] }, kb, universe }).groups[0]!;
    expect(g.reach.map((s) => s.service)).toEqual(['edge', 'near']);
    expect(g.reach.find((s) => s.service === 'near')!.paths[0]!.hops.map(describeHop)).toEqual(['upgrade p0', 'p1 depends on p0', 'p2 depends on p1', 'p3 depends on p2', 'service near (p3)']);
    expect(g.truncated).toBe(true);
  });

  it('keeps the shortest path and visits each package once in a dense graph', () => {
    // q_i depends on every q_j with j < i: 2^n paths, n packages
    const n = 300;
    const names = Array.from({ length: n }, (_, i) => `q${i}`);
    const universe = createUniverse(names.map((name, i) => rec(name, names.slice(0, i))));
    const kb = kbWith([service('top', [names[n - 1]!]), service('mid', [names[150]!], 'low')]);
    const installed = Object.fromEntries(names.map((name) => [name, '1.0-1']));
    const g = predictImpact({ plan: { groups: [createGroup({ installed, changes: [upgrade('q0', '1.0-0', '1.0-1')] })] }, kb, universe }).groups[0]!;
    expect(g.truncated).toBe(false);
    expect(g.reach.map((s) => [s.service, s.paths[0]!.hops.map(describeHop)])).toEqual([
      ['top', ['upgrade q0', `q${n - 1} depends on q0`, `service top (q${n - 1})`]],
      ['mid', ['upgrade q0', 'q150 depends on q0', 'service mid (q150)']],
    ]);
  });

  it('walks only the installed-after set', () => {
    const universe = createUniverse([rec('lib', []), rec('app', ['lib']), rec('other', ['lib'])]);
    const kb = kbWith([service('svc', ['app']), service('gone', ['other'])]);
    const g = predictImpact({ plan: { groups: [createGroup({ installed: { lib: '1.0-1', app: '1.0-1' }, changes: [upgrade('lib', '1.0-0', '1.0-1')] })] }, kb, universe }).groups[0]!;
    expect(g.reach.map((s) => s.service)).toEqual(['svc']);
    // a removed package's dependents are not walked once it is gone, but the package itself still reaches its services
    const removed = predictImpact({
      plan: { groups: [createGroup({ installed: { lib: '1.0-1', app: '1.0-1' }, changes: [{ action: 'remove', name: 'app', from: '1.0-1' }] })] }, kb, universe,
    }).groups[0]!;
    expect(removed.reach.map((s) => [s.service, s.onGroupHosts, s.paths[0]!.hops.map(describeHop)])).toEqual([['svc', true, ['remove app', 'service svc (app)']]]);
  });
});
