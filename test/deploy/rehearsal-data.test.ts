// The pure parts of a rehearsal: placeholders, cached .debs, expected differences.
import { describe, expect, it } from 'vitest';
import { classifyDifferences, fillFromSnapshot, matchesExpected, useCachedDebs } from '../../src/deploy/index.js';
import type { CachedDeb } from '../../src/hosts/index.js';
import type { Snapshot, SnapshotDifference } from '../../src/planner/index.js';

const present = { kind: 'present' as const, sha256: 'a'.repeat(64), mode: 0o640, contentBase64: '' };
const before: Snapshot = {
  host: 'h',
  takenAt: '2024-01-01T00:00:00.000Z',
  packages: [],
  files: [
    { path: '/etc/a.conf', source: 'config', state: present },
    { path: '/etc/b.conf', source: 'config', state: { kind: 'absent' } },
  ],
  databases: [],
  services: [],
};

describe('fillFromSnapshot', () => {
  it('fills each placeholder with the recorded state (absent included), keeps other steps, and names what it cannot fill', () => {
    const r = fillFromSnapshot(
      [
        { kind: 'service', action: 'stop', service: 'web' },
        { kind: 'restore-config-from-snapshot', path: '/etc/a.conf' },
        { kind: 'restore-config-from-snapshot', path: '/etc/b.conf' },
        { kind: 'restore-config-from-snapshot', path: '/etc/c.conf' },
      ],
      before,
    );
    expect(r.steps).toEqual([
      { kind: 'service', action: 'stop', service: 'web' },
      { kind: 'restore-config', path: '/etc/a.conf', state: present, sides: [] },
      { kind: 'restore-config', path: '/etc/b.conf', state: { kind: 'absent' }, sides: [] },
    ]);
    expect(r.unfilled).toEqual(['/etc/c.conf']);
  });
});

describe('useCachedDebs', () => {
  const cached: CachedDeb[] = [
    { name: 'demo', version: '1.0', architecture: 'all', sha256: 'b'.repeat(64), path: '/cache/demo/1.0_all.deb' },
    { name: 'lib', version: '2.0', architecture: 'arm64', sha256: 'c'.repeat(64), path: '/cache/lib/2.0_arm64.deb' },
  ];
  it('names the cached .deb of a target version, never over a given debPath, an other architecture or a removal', () => {
    const [step] = useCachedDebs(
      [
        {
          kind: 'packages',
          changes: [
            { name: 'demo', action: 'downgrade', to: '1.0', architecture: 'amd64' },
            { name: 'demo', action: 'install', to: '1.0', debPath: '/elsewhere/demo.deb' },
            { name: 'lib', action: 'downgrade', to: '2.0', architecture: 'amd64' },
            { name: 'demo', action: 'remove' },
            { name: 'demo', action: 'upgrade', to: '3.0' },
          ],
        },
      ],
      cached,
    );
    expect(step).toEqual({
      kind: 'packages',
      changes: [
        { name: 'demo', action: 'downgrade', to: '1.0', architecture: 'amd64', debPath: '/cache/demo/1.0_all.deb' },
        { name: 'demo', action: 'install', to: '1.0', debPath: '/elsewhere/demo.deb' },
        { name: 'lib', action: 'downgrade', to: '2.0', architecture: 'amd64' },
        { name: 'demo', action: 'remove' },
        { name: 'demo', action: 'upgrade', to: '3.0' },
      ],
    });
  });
});

describe('expected differences', () => {
  const schema: SnapshotDifference = { kind: 'schema-version-changed', database: 'main', before: '0001', after: '0002' };
  const svc: SnapshotDifference = { kind: 'service-state-changed', service: 'web', before: 'running', after: 'stopped' };
  it('match by kind and every field given', () => {
    expect(matchesExpected(schema, { kind: 'schema-version-changed' })).toBe(true);
    expect(matchesExpected(schema, { kind: 'schema-version-changed', database: 'main', after: '0002' })).toBe(true);
    expect(matchesExpected(schema, { kind: 'schema-version-changed', database: 'other' })).toBe(false);
    expect(matchesExpected(schema, { kind: 'service-state-changed' })).toBe(false);
  });
  it('flag what was expected, leave the rest silent, and list expectations that did not happen', () => {
    const r = classifyDifferences([schema, svc], [{ kind: 'schema-version-changed', database: 'main' }, { kind: 'config-missing', path: '/etc/x' }]);
    expect(r.differences).toEqual([
      { difference: schema, flag: 'flagged' },
      { difference: svc, flag: 'silent' },
    ]);
    expect(r.expectedNotSeen).toEqual([{ kind: 'config-missing', path: '/etc/x' }]);
  });
});
