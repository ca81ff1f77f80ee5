// Snapshot trees (every entry under a directory such as /etc): how two are compared, and which
// restore steps put a tree back after a rollback; pure, on hand-made snapshots.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compareSnapshots, planTreeRestore, type Snapshot, type TreeEntry } from '../../src/planner/index.js';

const file = (path: string, text: string, mode = 0o644): TreeEntry => ({
  path, type: 'file', mode, sha256: createHash('sha256').update(text).digest('hex'), contentBase64: Buffer.from(text).toString('base64'),
});
const snap = (entries: TreeEntry[], files: Snapshot['files'] = []): Snapshot => ({
  host: 'h', takenAt: '', packages: [], files, databases: [], services: [],
  trees: [{ path: '/etc', state: 'present', entries: [{ path: '/etc', type: 'directory', mode: 0o755 }, ...entries] }],
});

describe('snapshot trees', () => {
  const before = snap([file('/etc/a.conf', 'a\n'), { path: '/etc/ssl/certs/x.pem', type: 'symlink', target: '/usr/share/x.crt' }, file('/etc/keep.conf', 'k\n', 0o600)]);

  it('names each entry that appeared, went missing, or changed content, mode, type or link target', () => {
    const after = snap([
      file('/etc/a.conf', 'a, regenerated\n'),
      { path: '/etc/ssl/certs/x.pem', type: 'symlink', target: '/usr/share/y.crt' },
      file('/etc/keep.conf', 'k\n', 0o644),
      file('/etc/version', '15.20\n'),
    ]);
    expect(compareSnapshots(before, after).map((d) => `${d.kind} ${'path' in d ? d.path : ''} ${'what' in d ? d.what : ''}`.trim())).toEqual([
      'tree-entry-changed /etc/a.conf content',
      'tree-entry-changed /etc/keep.conf mode',
      'tree-entry-changed /etc/ssl/certs/x.pem target',
      'tree-entry-appeared /etc/version',
    ]);
    expect(compareSnapshots(before, before)).toEqual([]);
  });

  it('leaves paths the snapshot compares as files to the file comparison (no double report)', () => {
    const conffile = { path: '/etc/a.conf', source: 'conffile' as const, owner: 'a', state: { kind: 'absent' as const } };
    const after = snap([file('/etc/a.conf', 'changed\n'), { path: '/etc/ssl/certs/x.pem', type: 'symlink', target: '/usr/share/x.crt' }, file('/etc/keep.conf', 'k\n', 0o600)], [conffile]);
    expect(compareSnapshots({ ...before, files: [conffile] }, after)).toEqual([]);
  });

  it('plans a restore: files back with content and mode, appeared entries removed, links and directories it cannot make listed', () => {
    const after = snap([
      file('/etc/a.conf', 'a, regenerated\n'),
      { path: '/etc/ssl/certs/x.pem', type: 'symlink', target: '/usr/share/y.crt' },
      file('/etc/version', '15.20\n'),
      { path: '/etc/new.d', type: 'directory', mode: 0o755 },
    ]);
    const r = planTreeRestore(after, before);
    expect(r.steps).toEqual([
      { kind: 'restore-config', path: '/etc/a.conf', state: { kind: 'present', sha256: (before.trees![0]!.entries[1] as Extract<TreeEntry, { type: 'file' }>).sha256, mode: 0o644, contentBase64: Buffer.from('a\n').toString('base64') } },
      { kind: 'restore-config', path: '/etc/keep.conf', state: expect.objectContaining({ kind: 'present', mode: 0o600 }) },
      { kind: 'restore-config', path: '/etc/version', state: { kind: 'absent' } },
    ]);
    expect(r.unresolved.map((d) => `${d.kind} ${'path' in d ? d.path : ''}`)).toEqual(['tree-entry-appeared /etc/new.d', 'tree-entry-changed /etc/ssl/certs/x.pem']);
  });
});
