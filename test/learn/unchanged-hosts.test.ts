// Issue 11: a re-deployment on hosts that already had what the plan installs. The engine journals
// each such host as re-solved to no change (decision re-solve with `changes: []`, state resolved,
// then healthy); a failed alerts check then rolls the wave back. The culprit analysis must say the
// fault is not the deployment's doing (it crashed on an empty candidate list), such hosts are no
// outcome of a change in the history (they skewed "1 of 1 failed" to "2 of 12"), and a host that
// did change is still analysed and recorded with the changes it really got.
import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../src/deploy/index.js';
import type { PackageChange } from '../../src/solver/index.js';
import { analyseCulprit, conclusionLine, historyFromDeployment, learnedIssue, type CulpritGroup, type CulpritInput } from '../../src/learn/index.js';

let seq = 0;
const entry = (e: Partial<JournalEntry> & Pick<JournalEntry, 'kind' | 'body'>): JournalEntry => ({ deployment: 'd9', seq: ++seq, at: '2026-12-04T12:00:00Z', key: `k${seq}`, phase: 'event', ...e });
const up = (name: string, from: string, to: string): PackageChange => ({ name, action: 'upgrade', from, to });

/** What the engine writes for a drifted host re-solved on its real state (`changes` empty: it already had everything). */
function reSolved(host: string, changes: PackageChange[]): JournalEntry[] {
  return [
    entry({ kind: 'decision', wave: 1, host, body: { decision: 're-solve', reason: `${host} drifted; re-solved: the host already has what the plan installs`, wave: 1, hosts: [host], evidence: { drift: [{ name: 'shopfront', planned: '1.8.3', actual: '2.0.0' }], changes } } }),
    entry({ kind: 'host', host, wave: 1, body: { state: 'resolved', changes, reason: 'the host already has what the plan installs' } }),
  ];
}

function verdict(changed: string[], failing: string[]): JournalEntry {
  return entry({
    kind: 'verdict', wave: 1, body: {
      verdict: 'failed', changedHosts: changed, controlHosts: [],
      evidence: [{ kind: 'check', check: 'shopfront/alerts', status: 'failed', query: 'alertname="ShopDown"', hosts: failing, changed: changed.map((host) => ({ host, values: [failing.includes(host) ? 1 : 0] })) }],
    },
  });
}

const groups: CulpritGroup[] = [
  { key: 'eu', hosts: ['shop-01', 'shop-02'], installed: [{ name: 'shopfront', version: '1.8.3' }], changes: [up('shopfront', '1.8.3', '2.0.0')] },
];

function input(status: CulpritInput['deployment']['status'], journal: JournalEntry[]): CulpritInput {
  return {
    deployment: { id: 'd9', status, updatedAt: '2026-12-04T12:05:00Z', planId: 'p1', planVersion: 1, spec: { layout: { waves: [{ number: 1, hosts: [{ host: 'shop-01', group: 'eu' }, { host: 'shop-02', group: 'eu' }] }] } } },
    journal, groups, reach: [{ group: 'eu', service: 'shopfront', packages: ['shopfront'] }],
  };
}

const healthy = (host: string): JournalEntry => entry({ kind: 'host', host, wave: 1, body: { state: 'healthy' } });

describe('a deployment that changed nothing on its hosts', () => {
  it('rolled back by a failed check: no crash, no culprit, "not its doing", no learned fact, no history', () => {
    const i = input('rolled-back', [...reSolved('shop-01', []), ...reSolved('shop-02', []), healthy('shop-01'), healthy('shop-02'), verdict(['shop-01', 'shop-02'], ['shop-01', 'shop-02'])]);
    const a = analyseCulprit(i);
    expect(a.conclusion).toEqual({ kind: 'none', why: 'failing-hosts-unchanged', hosts: ['shop-01', 'shop-02'] });
    expect(a.failing).toEqual([]);
    expect(a.healthy).toEqual([]);
    expect(a.candidates).toEqual([]);
    expect(a.unchanged).toEqual([{ host: 'shop-01', group: 'eu', failed: true }, { host: 'shop-02', group: 'eu', failed: true }]);
    const line = conclusionLine(a);
    expect(line).toContain('the failing host(s) shop-01, shop-02 had no change from this deployment');
    expect(line).toContain('the fault is not its doing');
    expect(line).toContain('(shopfront/alerts 1)');
    expect(learnedIssue(a, i.reach)).toBeUndefined();
    expect(historyFromDeployment(i, a)).toEqual([]);
  });

  it('succeeded: recorded as nothing (it used to count as a success of the plan\'s change)', () => {
    const i = input('succeeded', [...reSolved('shop-01', []), ...reSolved('shop-02', []), healthy('shop-01'), healthy('shop-02')]);
    const a = analyseCulprit(i);
    expect(a.conclusion).toEqual({ kind: 'none', why: 'no-failure' });
    expect(a.unchanged.map((u) => `${u.host} ${u.failed}`)).toEqual(['shop-01 false', 'shop-02 false']);
    expect(historyFromDeployment(i, a)).toEqual([]);
  });

  it('mixed: the changed host is analysed and recorded with the changes it really got; the unchanged one is neither healthy nor history', () => {
    const own = [up('shopfront', '1.9.0', '2.0.0'), up('libshop', '1', '2')];
    const i = input('rolled-back', [...reSolved('shop-01', own), ...reSolved('shop-02', []), healthy('shop-01'), healthy('shop-02'), verdict(['shop-01', 'shop-02'], ['shop-01'])]);
    const a = analyseCulprit(i);
    expect(a.failing.map((f) => f.host)).toEqual(['shop-01']);
    expect(a.healthy).toEqual([]);
    expect(a.unchanged).toEqual([{ host: 'shop-02', group: 'eu', failed: false }]);
    // shopfront reaches the service whose check failed; libshop does not
    expect(a.conclusion).toMatchObject({ kind: 'culprit', candidate: { package: 'shopfront', from: '1.9.0', to: '2.0.0' } });
    expect(historyFromDeployment(i, a)).toEqual([{
      source: 'deployment d9 group eu: rolled-back on shop-01; shopfront/alerts 1 vs 0',
      entries: [
        { package: 'shopfront', change: 'upgrade', outcome: 'rolled-back', at: '2026-12-04T12:05:00Z', host: 'shop-01' },
        { package: 'libshop', change: 'upgrade', outcome: 'rolled-back', at: '2026-12-04T12:05:00Z', host: 'shop-01' },
      ],
    }]);
    // succeeded, the same hosts: only the changed one is an outcome
    const ok = input('succeeded', [...reSolved('shop-01', own), ...reSolved('shop-02', []), healthy('shop-01'), healthy('shop-02')]);
    expect(historyFromDeployment(ok).map((r) => r.source)).toEqual(['deployment d9 group eu: succeeded on 1 host(s)']);
  });

  it('a removal blamed (a change without `to`) is worded and teaches no version fact, without a crash', () => {
    const rm: PackageChange = { name: 'shop-legacy-plugin', action: 'remove', from: '1.0' };
    const i = input('rolled-back', [...reSolved('shop-01', [rm]), ...reSolved('shop-02', []), healthy('shop-01'), healthy('shop-02'), verdict(['shop-01', 'shop-02'], ['shop-01'])]);
    const a = analyseCulprit(i);
    expect(a.conclusion).toMatchObject({ kind: 'culprit', candidate: { package: 'shop-legacy-plugin', action: 'remove' } });
    expect(conclusionLine(a)).toMatch(/^remove shop-legacy-plugin caused the rollback of deployment d9 /);
    expect(learnedIssue(a, i.reach)).toBeUndefined();
    expect(historyFromDeployment(i, a).flatMap((r) => r.entries.map((e) => `${e.package} ${e.change} ${e.outcome}`))).toEqual(['shop-legacy-plugin remove rolled-back']);
  });
});
