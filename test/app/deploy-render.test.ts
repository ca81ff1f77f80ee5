/**
 * `deploy log` in words: evidence that is not a check verdict is shown as readable `path: value`
 * lines (never a JSON line cut in the middle), and a canary comparison with too few samples says
 * so instead of printing a U statistic and p-value it never computed.
 */
import { describe, expect, it } from 'vitest';
import { renderDeploymentLog } from '../../src/app/cli/commands/deploy-render.js';
import { PLAIN } from '../../src/app/render/palette.js';
import type { JournalEntry } from '../../src/deploy/index.js';

const entry = (seq: number, e: Partial<JournalEntry>): JournalEntry => ({ deployment: 'd1', seq, at: '2026-12-04T22:00:00.000Z', key: `k${seq}`, phase: 'event', kind: 'decision', ...e } as JournalEntry);

describe('deploy log rendering', () => {
  it('shows decision evidence as path: value lines, long ones capped with a pointer to --json', () => {
    const evidence = { failed: { host: 'web-01', step: 3, message: 'x'.repeat(500) }, values: [1, 2, 3], ...Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`k${i}`, i])) };
    const text = renderDeploymentLog({ deployment: { id: 'd1', status: 'rolled-back' }, entries: [entry(1, { body: { decision: 'rollback', reason: 'a step failed', evidence } })] }, PLAIN);
    expect(text).toContain('      failed.host: web-01');
    expect(text).toContain('      failed.step: 3');
    expect(text).toContain('      values: 1, 2, 3');
    expect(text).toMatch(/failed\.message: x{160}…/);
    expect(text).toContain('… 6 more (deploy log --json has them all)');
    expect(text).not.toContain('{"');
  });

  it('shows a roll-back decision by the checks that failed (failed checks first in the verdict too)', () => {
    const ok = { kind: 'check', check: 'latency', status: 'passed', query: 'q1', measurements: 3, errors: 0 };
    const bad = { kind: 'check', check: 'no-critical-alerts', status: 'failed', query: 'severity="critical"', measurements: 2, errors: 0, hosts: ['web-01'] };
    const evidence = [ok, bad];
    const text = renderDeploymentLog({ deployment: { id: 'd1', status: 'rolled-back' }, entries: [
      entry(1, { kind: 'verdict', wave: 1, body: { verdict: 'failed', evidence, changedHosts: ['web-01'], bakeMs: 5000 } }),
      entry(2, { body: { decision: 'roll-back', reason: "wave 1: the judge's verdict is failed", evidence: { scope: 'rollout', verdict: 'failed', evidence, hosts: ['web-01'] } } }),
    ] }, PLAIN);
    expect(text).toContain('evidence: verdict failed over web-01; 1 of 2 check(s) failed:');
    expect(text).not.toMatch(/evidence\.0\./);
    const verdictPart = text.slice(0, text.indexOf('roll-back'));
    expect(verdictPart.indexOf('check no-critical-alerts')).toBeLessThan(verdictPart.indexOf('check latency'));
  });

  it('says a canary comparison had too few samples instead of printing placeholder statistics', () => {
    const check = { kind: 'check', check: 'errors', status: 'inconclusive', query: 'rate(e[1m])', measurements: 2, errors: 0, statistic: { test: 'mann-whitney-u', against: 'control', u: 0, pValue: 1, shift: 0, relativeShift: 0, outcome: 'insufficient', changedCount: 2, controlCount: 3 } };
    const worse = { ...check, status: 'failed', statistic: { ...check.statistic, u: 25, pValue: 0.004, shift: 0.2, relativeShift: 0.5, outcome: 'worse', changedCount: 5, controlCount: 5 } };
    const text = renderDeploymentLog({ deployment: { id: 'd1', status: 'paused' }, entries: [entry(1, { kind: 'verdict', wave: 1, body: { verdict: 'inconclusive', evidence: [check, worse], changedHosts: ['a'], bakeMs: 5000 } })] }, PLAIN);
    expect(text).toContain('too few samples to compare (2 changed, 3 control): insufficient');
    expect(text).not.toMatch(/U=0, p=1/);
    expect(text).toContain('U=25, p=0.00400, shift 0.200 (50%): worse');
  });
});
