// Pure tests of snapshot comparison and restore planning.
import { describe, expect, it } from 'vitest';
import { compareSnapshots, planRestore, type Snapshot } from '../../src/planner/index.js';

const file = (sha: string, mode = 0o644) => ({ kind: 'present' as const, sha256: sha, mode, contentBase64: '' });

const before: Snapshot = {
  host: 'h',
  takenAt: '2026-01-01T00:00:00Z',
  packages: [
    { name: 'app', version: '1.0', architecture: 'all', status: 'ii', state: 'installed' },
    { name: 'gone', version: '3', architecture: 'amd64', status: 'ii', state: 'installed' },
    { name: 'lib', version: '2.0', architecture: 'amd64', status: 'ii', state: 'installed' },
  ],
  files: [
    { path: '/etc/app.conf', source: 'config', state: file('a'.repeat(64)) },
    { path: '/etc/mode.conf', source: 'config', state: file('b'.repeat(64), 0o644) },
    { path: '/etc/gone.conf', source: 'conffile', owner: 'gone', state: file('c'.repeat(64)) },
  ],
  databases: [{ name: 'main', state: 'ok', schemaVersion: '0002', applied: ['0001', '0002'] }],
  services: [{ name: 'web', state: 'running' }],
};

const after: Snapshot = {
  host: 'h',
  takenAt: '2026-01-01T00:01:00Z',
  packages: [
    { name: 'app', version: '2.0', architecture: 'all', status: 'ii', state: 'installed' },
    { name: 'lib', version: '2.0', architecture: 'amd64', status: 'iF', state: 'half-configured' },
    { name: 'new', version: '0.1', architecture: 'all', status: 'ii', state: 'installed' },
  ],
  files: [
    { path: '/etc/app.conf', source: 'config', state: file('d'.repeat(64)) },
    { path: '/etc/mode.conf', source: 'config', state: file('b'.repeat(64), 0o600) },
    { path: '/etc/new.conf', source: 'conffile', owner: 'new', state: file('e'.repeat(64)) },
  ],
  databases: [{ name: 'main', state: 'ok', schemaVersion: '0003', applied: ['0001', '0002', '0003'] }],
  services: [{ name: 'web', state: 'stopped' }],
};

describe('compareSnapshots', () => {
  it('names every kind of difference', () => {
    const diffs = compareSnapshots(before, after);
    expect(diffs.map((d) => d.kind).sort()).toEqual(
      [
        'config-appeared',
        'config-changed',
        'config-missing',
        'config-mode-changed',
        'package-added',
        'package-removed',
        'package-status-changed',
        'package-version-changed',
        'schema-version-changed',
        'service-state-changed',
      ].sort(),
    );
    expect(diffs).toEqual(
      expect.arrayContaining([
        { kind: 'package-version-changed', name: 'app', architecture: 'all', before: '1.0', after: '2.0' },
        { kind: 'package-removed', name: 'gone', architecture: 'amd64', version: '3', status: 'ii' },
        { kind: 'package-added', name: 'new', architecture: 'all', version: '0.1', status: 'ii' },
        { kind: 'package-status-changed', name: 'lib', architecture: 'amd64', before: 'ii', after: 'iF' },
        { kind: 'config-changed', path: '/etc/app.conf', before: 'a'.repeat(64), after: 'd'.repeat(64) },
        { kind: 'config-mode-changed', path: '/etc/mode.conf', before: 0o644, after: 0o600 },
        { kind: 'config-missing', path: '/etc/gone.conf' },
        { kind: 'config-appeared', path: '/etc/new.conf' },
        { kind: 'schema-version-changed', database: 'main', before: '0002', after: '0003' },
        { kind: 'service-state-changed', service: 'web', before: 'running', after: 'stopped' },
      ]),
    );
  });

  it('finds nothing between a snapshot and itself, whatever the time it was taken', () => {
    expect(compareSnapshots(before, { ...before, takenAt: 'later' })).toEqual([]);
  });
});

describe('planRestore', () => {
  it('undoes package, file and service differences and leaves schema changes unresolved', () => {
    const plan = planRestore(after, before, (name, version) => (name === 'app' && version === '1.0' ? '/cache/app_1.0_all.deb' : undefined));
    const pkgs = plan.steps.find((s) => s.kind === 'packages');
    expect(pkgs).toBeDefined();
    if (pkgs?.kind !== 'packages') throw new Error('no packages step');
    expect(pkgs.changes).toEqual(
      expect.arrayContaining([
        { name: 'app', action: 'downgrade', to: '1.0', debPath: '/cache/app_1.0_all.deb' },
        { name: 'gone', action: 'install', to: '3' },
        { name: 'lib', action: 'upgrade', to: '2.0' },
        { name: 'new', action: 'purge' },
      ]),
    );
    expect(pkgs.changes).toHaveLength(4);
    expect(plan.steps).toContainEqual({ kind: 'restore-config', path: '/etc/mode.conf', state: before.files[1]!.state, sides: [] });
    expect(plan.steps).toContainEqual({ kind: 'service', action: 'start', service: 'web' });
    expect(plan.unresolved.map((d) => d.kind)).toEqual(['schema-version-changed']);
    // packages first, then files, then services
    const kinds = plan.steps.map((s) => s.kind);
    expect(kinds.indexOf('packages')).toBe(0);
    expect(kinds.lastIndexOf('restore-config')).toBeLessThan(kinds.indexOf('service'));
  });

  it('plans nothing when the host already matches', () => {
    expect(planRestore(before, before)).toEqual({ steps: [], unresolved: [] });
  });
});
