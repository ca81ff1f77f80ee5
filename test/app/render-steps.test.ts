// Host steps, outcomes and snapshot differences in words (src/app/render/steps.ts).
import { describe, expect, it } from 'vitest';
import { describeDifference, describeOutcome, describeStep, formatDifferences } from '../../src/app/render/index.js';
import type { SnapshotDifference, Step } from '../../src/planner/index.js';

const DIFFERENCES: Array<[SnapshotDifference, string]> = [
  [{ kind: 'package-version-changed', name: 'app', architecture: 'all', before: '1.0', after: '2.0' }, 'package version changed: app:all 1.0 -> 2.0'],
  [{ kind: 'package-removed', name: 'gone', architecture: 'amd64', version: '3', status: 'ii' }, 'package removed: gone:amd64 3 (ii)'],
  [{ kind: 'package-added', name: 'new', architecture: 'all', version: '0.1', status: 'ii' }, 'package added: new:all 0.1 (ii)'],
  [{ kind: 'package-status-changed', name: 'lib', architecture: 'amd64', before: 'ii', after: 'iF' }, 'package status changed: lib:amd64 ii -> iF'],
  [{ kind: 'config-changed', path: '/etc/app.conf', before: 'a'.repeat(64), after: 'd'.repeat(64) }, 'config changed: /etc/app.conf (sha256 aaaaaaaaaaaa -> dddddddddddd)'],
  [{ kind: 'config-mode-changed', path: '/etc/mode.conf', before: 0o644, after: 0o600 }, 'config mode changed: /etc/mode.conf 0644 -> 0600'],
  [{ kind: 'config-missing', path: '/etc/gone.conf' }, 'config missing: /etc/gone.conf'],
  [{ kind: 'config-appeared', path: '/etc/new.conf' }, 'config appeared: /etc/new.conf'],
  [{ kind: 'schema-version-changed', database: 'main', before: '0002', after: '0003' }, 'schema version changed: main 0002 -> 0003'],
  [{ kind: 'service-state-changed', service: 'web', before: 'running', after: 'stopped' }, 'service state changed: web running -> stopped'],
];

describe('snapshot differences in words', () => {
  it('words every kind of difference on one line', () => {
    for (const [d, text] of DIFFERENCES) expect(describeDifference(d)).toBe(text);
    expect(formatDifferences(DIFFERENCES.map(([d]) => d))).toBe(DIFFERENCES.map(([, text]) => text).join('\n'));
  });

  it('says so when there is none', () => {
    expect(formatDifferences([])).toBe('no differences');
  });
});

describe('steps and outcomes in words', () => {
  const step: Step = {
    kind: 'packages',
    changes: [
      { action: 'upgrade', name: 'app', to: '2.0' },
      { action: 'purge', name: 'old' },
    ],
  };

  it('names each package change with its target version', () => {
    expect(describeStep(step)).toBe('upgrade app=2.0, purge old');
  });

  it('gives the host and what happened', () => {
    expect(describeOutcome({ status: 'succeeded', step, host: 'web-1', durationMs: 5, output: '' })).toBe('web-1: upgrade app=2.0, purge old: succeeded');
    expect(
      describeOutcome({ status: 'failed', step, host: 'web-1', durationMs: 5, failure: { kind: 'command', command: ['apt-get', 'install'], exitCode: 100, output: 'E: broken' } }),
    ).toBe('web-1: upgrade app=2.0, purge old: failed (apt-get exit 100)');
    expect(describeOutcome({ status: 'unknown', step, host: 'web-1', durationMs: 5, reason: 'connection lost', output: '' })).toBe('web-1: upgrade app=2.0, purge old: unknown (connection lost)');
  });
});
