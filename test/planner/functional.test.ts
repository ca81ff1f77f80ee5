/** Functional requirements across hosts: checked on the hosts that run the required package, in the state the plan leaves them. */
import { describe, expect, it } from 'vitest';
import { checkFunctionalRequirements, type FunctionalGroup, type FunctionalRule } from '../../src/planner/index.js';

const rule: FunctionalRule = {
  package: [{ name: 'shopfront', op: '>=', version: '2.0.0' }],
  requires: [{ name: 'postgresql', op: '>=', version: '15' }],
  packageText: 'shopfront (>= 2.0.0)', requiresText: 'postgresql (>= 15)', reason: 'MERGE', source: 'org (functional.yaml:15)',
};
const app = (changes?: FunctionalGroup['changes']): FunctionalGroup => ({
  key: 'app', hosts: ['app-1', 'app-2'], installed: [{ name: 'shopfront', version: '1.8.3', architecture: 'amd64' }], ...(changes ? { changes } : {}),
});
const upgradeApp = [{ name: 'shopfront', action: 'upgrade' as const, from: '1.8.3', to: '2.0.0', architecture: 'amd64' }];
const db = (key: string, version: string, changes?: FunctionalGroup['changes']): FunctionalGroup => ({
  key, hosts: [`${key}-1`], installed: [{ name: 'postgresql', version, architecture: 'all' }], ...(changes ? { changes } : {}),
});

describe('functional requirements across hosts', () => {
  it('met on every host that runs the required package: nothing to say', () => {
    const r = checkFunctionalRequirements([app(upgradeApp), db('db', '15+248', [])], [rule]);
    expect([...r.findings.values()].flat()).toEqual([]);
    expect(r.ordering.size).toBe(0);
  });

  it('not met after the plan: a critical finding on the requiring group naming the hosts that fall short', () => {
    const r = checkFunctionalRequirements([app(upgradeApp), db('db15', '15+248', []), db('db13', '13+225', [])], [rule]);
    const f = r.findings.get('app')!;
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ kind: 'requirement-not-met', severity: 'critical', rule: 'functional:shopfront (>= 2.0.0) requires postgresql (>= 15)', package: 'shopfront' });
    expect(f[0]!.reason).toMatch(/db13-1: postgresql 13\+225/);
    expect(f[0]!.reason).not.toMatch(/db15/);
  });

  it('met only once the plan upgrades the database: an ordering constraint (database first), no finding', () => {
    const up = [{ name: 'postgresql', action: 'upgrade' as const, from: '13+225', to: '15+248', architecture: 'all' }];
    const r = checkFunctionalRequirements([app(upgradeApp), db('db', '13+225', up)], [rule]);
    expect([...r.findings.values()].flat()).toEqual([]);
    expect(r.ordering.get('app')).toEqual([{ after: ['db'], rule: 'functional:shopfront (>= 2.0.0) requires postgresql (>= 15)', reason: expect.stringMatching(/only once the plan has changed them/) as unknown }]);
  });

  it('no host of the plan runs it: the requirement cannot be checked, and says so', () => {
    const r = checkFunctionalRequirements([app(upgradeApp)], [rule]);
    expect(r.findings.get('app')![0]).toMatchObject({ kind: 'requirement-unknown', severity: 'high' });
  });

  it('a group the plan does not touch, or in conflict, gets no finding; a database downgrade is caught on the untouched app', () => {
    const installedNew: FunctionalGroup = { key: 'app', hosts: ['app-1'], installed: [{ name: 'shopfront', version: '2.0.0', architecture: 'amd64' }], changes: [] };
    expect(checkFunctionalRequirements([installedNew, db('db', '15+248', [])], [rule]).findings.size).toBe(0);
    expect(checkFunctionalRequirements([app(), db('db', '13+225', [])], [rule]).findings.size).toBe(0);
    const down = [{ name: 'postgresql', action: 'downgrade' as const, from: '15+248', to: '13+225', architecture: 'all' }];
    expect(checkFunctionalRequirements([installedNew, db('db', '15+248', down)], [rule]).findings.get('app')![0]!.kind).toBe('requirement-not-met');
  });
});
