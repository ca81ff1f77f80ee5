// The culprit analysis over journals made here (the shapes the deploy engine writes): a planted
// culprit among several changes is found, an interaction with an installed package is named,
// changes the evidence cannot separate stay "one of", and the outcome becomes history entries
// per group. A property: over random fleets, the host pattern alone decides, and the planted
// package is always ranked first or named among the indistinguishable ones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../src/deploy/index.js';
import type { PackageChange } from '../../src/solver/index.js';
import { KnownIssueSchema } from '../../src/kb/index.js';
import { analyseCulprit, historyFromDeployment, conclusionLine, learnedIssue, type CulpritGroup, type CulpritInput } from '../../src/learn/index.js';

let seq = 0;
const entry = (e: Partial<JournalEntry> & Pick<JournalEntry, 'kind' | 'body'>): JournalEntry => ({ deployment: 'd1', seq: ++seq, at: '2026-12-04T10:00:00Z', key: `k${seq}`, phase: 'event', ...e });
const up = (name: string, from: string, to: string): PackageChange => ({ name, action: 'upgrade', from, to });

/** A journal: every host healthy after its steps, then one failed verdict naming `failing` on `check`. */
function journal(hosts: string[], failing: string[], check = 'web/error-rate', values: { bad: number; good: number } = { bad: 0.25, good: 0.002 }): JournalEntry[] {
  return [
    ...hosts.map((h) => entry({ kind: 'host', host: h, wave: 1, body: { state: 'healthy' } })),
    entry({
      kind: 'verdict', wave: 1, body: {
        verdict: 'failed', changedHosts: hosts, controlHosts: ['spare-1'],
        evidence: [{
          kind: 'check', check, status: 'failed', query: 'rate(errors[5s])', hosts: failing,
          changed: hosts.map((h) => ({ host: h, values: [failing.includes(h) ? values.bad : values.good] })),
          control: [{ host: 'spare-1', values: [values.good] }],
        }],
      },
    }),
  ];
}

function input(groups: CulpritGroup[], j: JournalEntry[], reach: CulpritInput['reach'] = []): CulpritInput {
  return {
    deployment: { id: 'd1', status: 'rolled-back', updatedAt: '2026-12-04T10:05:00Z', planId: 'abc', planVersion: 1, spec: { layout: { waves: [{ number: 1, hosts: groups.flatMap((g) => g.hosts.map((host) => ({ host, group: g.key }))) }] } } },
    journal: j, groups, reach,
  };
}

describe('culprit analysis', () => {
  it('finds the change only the failing hosts got, among several, and says which service it reaches', () => {
    const groups: CulpritGroup[] = [
      { key: 'a', hosts: ['h1', 'h2'], installed: [], changes: [up('libfoo', '1', '2'), up('web', '1.0', '2.0')] },
      { key: 'b', hosts: ['h3'], installed: [], changes: [up('libfoo', '1', '2')] },
    ];
    const a = analyseCulprit(input(groups, journal(['h1', 'h2', 'h3'], ['h1', 'h2']), [{ group: 'a', service: 'web', criticality: 'critical', packages: ['web', 'libfoo'] }, { group: 'b', service: 'web', packages: ['libfoo'] }]));
    expect(a.failing.map((f) => f.host)).toEqual(['h1', 'h2']);
    expect(a.healthy).toEqual(['h3']);
    expect(a.conclusion.kind).toBe('culprit');
    if (a.conclusion.kind !== 'culprit') return;
    expect(a.conclusion.candidate).toMatchObject({ package: 'web', to: '2.0', context: [] });
    expect(a.conclusion.candidate.reasons).toEqual(expect.arrayContaining([{ kind: 'absent-from-healthy', healthy: ['h3'] }, { kind: 'reaches-failed-service', service: 'web', checks: ['web/error-rate'] }]));
    // libfoo is on the healthy host too: ranked below, with the reason
    expect(a.candidates[1]).toMatchObject({ package: 'libfoo' });
    expect(a.candidates[1]!.confidence).toBeLessThan(a.candidates[0]!.confidence);
    expect(a.checks[0]).toMatchObject({ check: 'web/error-rate', service: 'web', failingValue: 0.25, baselineValue: 0.002 });
    expect(conclusionLine(a)).toBe('web 2.0 caused the rollback of deployment d1 (web/error-rate 0.25 vs 0.002); confidence 100%');
  });

  it('a change on failing and healthy hosts alike is blamed together with what only the failing hosts have installed', () => {
    const groups: CulpritGroup[] = [
      { key: 'eu', hosts: ['s1', 's2'], installed: [{ name: 'shopfront', version: '1.8.3' }], changes: [up('shopfront', '1.8.3', '2.0.0')] },
      { key: 'us', hosts: ['s4', 's5'], installed: [{ name: 'shopfront', version: '1.8.3' }, { name: 'plugin', version: '1.0' }], changes: [up('shopfront', '1.8.3', '2.0.0')] },
    ];
    const a = analyseCulprit(input(groups, journal(['s1', 's4'], ['s4'], 'shopfront/error-rate'), [{ group: 'us', service: 'shopfront', packages: ['shopfront'] }]));
    expect(a.conclusion).toMatchObject({ kind: 'culprit', candidate: { package: 'shopfront', to: '2.0.0', context: ['plugin'] } });
    expect(conclusionLine(a)).toContain('shopfront 2.0.0 (with plugin installed) caused the rollback of deployment d1');
    expect(learnedIssue(a)?.when.packages).toEqual(['shopfront (= 2.0.0)', 'plugin']);
    expect(learnedIssue(a, [{ group: 'us', service: 'shopfront', criticality: 'critical', packages: ['shopfront'] }])?.severity).toBe('critical');
    expect(learnedIssue(a)?.severity).toBe('high');
  });

  it('two changes always made together stay ambiguous ("one of") and a bisection is offered', () => {
    const groups: CulpritGroup[] = [
      { key: 'a', hosts: ['h1', 'h2'], installed: [], changes: [up('liba', '1', '2'), up('libb', '1', '2')] },
      { key: 'b', hosts: ['h3'], installed: [], changes: [up('libc', '1', '2')] },
    ];
    const a = analyseCulprit(input(groups, journal(['h1', 'h2', 'h3'], ['h1', 'h2'])));
    expect(a.conclusion.kind).toBe('ambiguous');
    if (a.conclusion.kind !== 'ambiguous') return;
    expect(a.conclusion.candidates.map((c) => c.package)).toEqual(['liba', 'libb']);
    expect(a.conclusion.candidates[0]!.confidence).toBe(a.conclusion.candidates[1]!.confidence);
    expect(a.conclusion.candidates[0]!.reasons).toContainEqual({ kind: 'indistinguishable-from', packages: ['libb'] });
    expect(a.bisect?.packages).toEqual(['liba', 'libb']);
    expect(conclusionLine(a)).toMatch(/^one of liba 2, libb 2 caused the rollback of deployment d1 .*cannot separate them/);
    // the fact it teaches names both, as a valid knowledge-base entry
    const issue = learnedIssue(a)!;
    expect(issue.id).toBe('learned-d1-liba__libb');
    expect(issue.when.packages).toEqual(['liba (= 2)', 'libb (= 2)']);
    expect(issue.title).toMatch(/^one of liba 2, libb 2 caused the rollback of deployment d1 \(web\/error-rate 0\.25 vs 0\.002\)$/);
    expect(KnownIssueSchema.safeParse(issue).success).toBe(true);
  });

  it('a failed maintainer script names its package: it wins over the other changes of the same step', () => {
    const groups: CulpritGroup[] = [{ key: 'a', hosts: ['h1'], installed: [], changes: [up('liba', '1', '2'), up('libb', '1', '2')] }];
    const j = [
      entry({ kind: 'step', phase: 'ended', outcome: 'failed', host: 'h1', wave: 1, body: { output: 'dpkg: error processing package libb (--configure):\n installed libb package post-installation script subprocess returned error exit status 1' } }),
      entry({ kind: 'host', host: 'h1', wave: 1, body: { state: 'failed', reason: 'forward step 1 of 1 (packages) failed' } }),
    ];
    const a = analyseCulprit(input(groups, j));
    expect(a.conclusion).toMatchObject({ kind: 'culprit', candidate: { package: 'libb' } });
    expect(a.failing).toEqual([{ host: 'h1', group: 'a', because: [{ kind: 'host-failed', reason: 'forward step 1 of 1 (packages) failed' }] }]);
  });

  it('a deployment without a failure concludes nothing', () => {
    const groups: CulpritGroup[] = [{ key: 'a', hosts: ['h1'], installed: [], changes: [up('liba', '1', '2')] }];
    const a = analyseCulprit({ ...input(groups, [entry({ kind: 'host', host: 'h1', body: { state: 'healthy' } })]), deployment: { id: 'd2', status: 'succeeded', updatedAt: '2026-12-04T11:00:00Z', spec: {} } });
    expect(a.conclusion).toEqual({ kind: 'none', why: 'no-failure' });
  });

  it('the outcome becomes history: rolled-back for the failing group with its check in the source, nothing for the group rolled back with it', () => {
    const groups: CulpritGroup[] = [
      { key: 'eu', hosts: ['s1'], installed: [], changes: [up('shopfront', '1.8.3', '2.0.0')] },
      { key: 'us', hosts: ['s4', 's5'], installed: [{ name: 'plugin', version: '1.0' }], changes: [up('shopfront', '1.8.3', '2.0.0'), { ...up('shopfront', '1.8.3', '2.0.0'), architecture: 'arm64' }] },
    ];
    const i = input(groups, journal(['s1', 's4'], ['s4'], 'shopfront/error-rate'));
    expect(historyFromDeployment(i)).toEqual([{
      source: 'deployment d1 group us: rolled-back on s4; shopfront/error-rate 0.25 vs 0.002',
      entries: [{ package: 'shopfront', change: 'upgrade', outcome: 'rolled-back', at: '2026-12-04T10:05:00Z', host: 's4' }],
    }]);
    const ok = historyFromDeployment({ ...i, journal: ['s1', 's4'].map((h) => entry({ kind: 'host', host: h, body: { state: 'healthy' } })), deployment: { ...i.deployment, status: 'succeeded' } });
    expect(ok.map((r) => r.entries.map((e) => `${e.host} ${e.package} ${e.outcome}`))).toEqual([['s1 shopfront succeeded'], ['s4 shopfront succeeded']]);
    expect(historyFromDeployment({ ...i, deployment: { ...i.deployment, status: 'aborted' } })).toEqual([]);
  });

  it('property: a planted culprit is ranked first, or named among the changes whose hosts are exactly the same', () => {
    const packages = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
    const fleet = fc.record({
      // per host, which packages it changes (each host its own group)
      hosts: fc.array(fc.subarray(packages), { minLength: 2, maxLength: 8 }),
      culprit: fc.constantFrom(...packages),
    });
    fc.assert(fc.property(fleet, ({ hosts, culprit }) => {
      const sets = hosts.map((s, i) => (i === 0 ? [...new Set([...s, culprit])] : s));
      const groups: CulpritGroup[] = sets.map((s, i) => ({ key: `g${i}`, hosts: [`h${i}`], installed: [], changes: s.map((p) => up(p, '1', '2')) }));
      const names = groups.map((g) => g.hosts[0]!);
      const failing = names.filter((_, i) => sets[i]!.includes(culprit));
      const a = analyseCulprit(input(groups, journal(names, failing)));
      const pattern = (p: string): string => names.filter((_, i) => sets[i]!.includes(p)).join(',');
      const twins = packages.filter((p) => pattern(p) === pattern(culprit)).sort();
      if (twins.length === 1) {
        expect(a.conclusion).toMatchObject({ kind: 'culprit', candidate: { package: culprit } });
      } else {
        expect(a.conclusion.kind).toBe('ambiguous');
        if (a.conclusion.kind === 'ambiguous') expect(a.conclusion.candidates.map((c) => c.package).sort()).toEqual(twins);
      }
      // the same input gives the same answer
      expect(analyseCulprit(input(groups, journal(names, failing)))).toEqual(a);
    }), { numRuns: 300 });
  });
});
