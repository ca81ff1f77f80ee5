/**
 * `deploy log` in words: evidence that is not a check verdict is shown as readable `path: value`
 * lines (never a JSON line cut in the middle), and a canary comparison with too few samples says
 * so instead of printing a U statistic and p-value it never computed.
 */
import { describe, expect, it } from 'vitest';
import { renderDeploymentLog, renderDeploymentStatus, renderEngineResult } from '../../src/app/cli/commands/deploy-render.js';
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

  it('status says when no controller runs a deployment; hosts never reached after a rollback are untouched; provider errors are shown', () => {
    const wave = { number: 1, canary: true, maxFailures: 0, bakeMs: 0, gate: false, hosts: [] };
    const deployment = { id: 'd1', planId: 'p1', planVersion: 1, createdAt: 't0', createdBy: 'me', updatedAt: 't1', spec: {} };
    type View = Parameters<typeof renderDeploymentStatus>[0];
    const running = renderDeploymentStatus({ deployment: { ...deployment, status: 'running' }, waves: [], controller: { live: false, expiredAt: '2026-12-04T20:00:30.000Z' } } as unknown as View, PLAIN);
    expect(running).toContain('no controller is running it (lease expired at 2026-12-04T20:00:30.000Z): rollwise deploy resume d1 continues, rollwise deploy abort d1 rolls back');
    const held = renderDeploymentStatus({ deployment: { ...deployment, status: 'running' }, waves: [], controller: { live: true, holder: 'ann@42', expiresAt: '2026-12-04T20:00:30.000Z' } } as unknown as View, PLAIN);
    expect(held).toContain('controller ann@42 runs it (lease until 2026-12-04T20:00:30.000Z)');
    const rolledBack = renderDeploymentStatus({ deployment: { ...deployment, status: 'rolled-back' }, waves: [{ wave, hosts: [{ host: 'h9', group: 'g', wave: 1, state: 'pending' }] }] } as unknown as View, PLAIN);
    expect(rolledBack).toContain('h9 (group g): untouched (not reached)');
    const result = renderEngineResult('d1', { kind: 'finished', status: 'rolled-back', hosts: [{ host: 'a', group: 'g', wave: 1, state: 'restored' }, { host: 'b', group: 'g', wave: 2, state: 'pending' }] }, PLAIN);
    expect(result).toContain('hosts: 1 restored, 1 untouched');
    const entry = { seq: 1, at: 't', kind: 'verdict', key: 'w1/verdict/1.1', phase: 'event', wave: 1, body: { verdict: 'inconclusive', changedHosts: ['h1'], bakeMs: 0, evidence: [{ kind: 'check', check: 'errors', status: 'inconclusive', reasons: [{ kind: 'no-data', hosts: ['h1'] }, { kind: 'provider-errors', errors: 3, messages: ['unreachable: connect ECONNREFUSED 127.0.0.1:1'] }], measurements: 3, errors: 3 }] } } as unknown as JournalEntry;
    expect(renderDeploymentLog({ deployment: { id: 'd1', status: 'paused' }, entries: [entry] }, PLAIN)).toContain('provider error: unreachable: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('deploy log words a verdict\'s evidence: metric, query, window, statistic, values per host, hosts', () => {
    const entry = {
      seq: 7, at: '2026-12-04T20:00:00.000Z', kind: 'verdict', key: 'w1/verdict/1.1', phase: 'event', wave: 1,
      body: {
        verdict: 'failed', changedHosts: ['h1'], controlHosts: ['h2'], bakeMs: 10_000,
        evidence: [{
          kind: 'check', check: 'web/error-ratio', status: 'failed', reasons: [{ kind: 'canary-worse' }], metric: 'web/error-ratio', provider: 'prometheus',
          query: 'rate(errors[5s])', window: { start: Date.UTC(2026, 11, 4, 20), end: Date.UTC(2026, 11, 4, 20, 0, 10) }, successCondition: '< 0.05', measurements: 10, errors: 0,
          statistic: { test: 'mann-whitney-u', u: 0, pValue: 0.004, shift: 0.2, relativeShift: 4, against: 'control', outcome: 'worse' },
          changed: [{ host: 'h1', values: [0.25, 0.3] }], control: [{ host: 'h2', values: [0.01] }], hosts: ['h1'],
        }],
      },
    } as unknown as JournalEntry;
    const text = renderDeploymentLog({ deployment: { id: 'd1', status: 'rolled-back' }, entries: [entry] }, PLAIN);
    expect(text).toContain('verdict (wave 1): failed over 1 changed host, bake 10 s');
    expect(text).toContain('check web/error-ratio: failed (canary-worse); 10 measurement(s), 0 provider error(s)');
    expect(text).toContain('query: rate(errors[5s])  success: < 0.05');
    expect(text).toContain('window: 2026-12-04T20:00:00.000Z – 2026-12-04T20:00:10.000Z');
    expect(text).toContain('mann-whitney-u against control: U=0, p=0.00400, shift 0.200 (400%): worse');
    expect(text).toContain('changed h1: 0.250, 0.300');
    expect(text).toContain('control h2: 0.0100');
    expect(text).toContain('hosts: h1');
  });
});
