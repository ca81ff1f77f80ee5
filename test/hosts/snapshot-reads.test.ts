// A directory root's installed set and conffiles, read with the real dpkg-query: an answer that
// says nothing is believed only where the database really records nothing. A root without a dpkg
// database is a failed read (dpkg-query answers such an admindir with exit 0 and no output), and an
// answer whose output was lost is `unknown`, never "no packages" or "no conffiles" (a snapshot
// compared with that reported installed packages and conffiles as gone). Needs root and dpkg.
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildSyntheticDeb, createDirectoryRootDriver, createLocalRunner, missingTools, prepareDirectoryRoot, writeFlatRepository, type CommandRunner,
} from '../../src/hosts/index.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'rw-snapshot-reads-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The real local runner, except that the stdout of the dpkg-query runs numbered in `lose` (1-based) comes back empty. */
function losingRunner(lose: number[]): CommandRunner {
  const inner = createLocalRunner();
  let n = 0;
  return {
    where: inner.where,
    run: async (argv, options) => {
      const r = await inner.run(argv, options);
      if (argv[0] !== 'dpkg-query') return r;
      n += 1;
      return lose.includes(n) && r.kind === 'exited' ? { ...r, stdout: '' } : r;
    },
  };
}

let installed = '';
beforeAll(async () => {
  const missing = missingTools(['dpkg', 'dpkg-query', 'dpkg-deb', 'apt-get']);
  if (missing.length > 0) throw new Error(`missing ${missing.map((m) => `${m.tool} (Debian package ${m.package})`).join(', ')}`);
  if (process.getuid?.() !== 0) throw new Error('dpkg installs into a directory root only as root: run this test as root');
  const repo = path.join(work, 'repo');
  const deb = await buildSyntheticDeb({ name: 'kit', version: '1.0', files: { '/usr/share/kit/data': 'data\n' }, conffiles: { '/etc/kit/kit.conf': 'a = 1\n' } }, repo);
  const source = await writeFlatRepository(repo, [deb]);
  installed = path.join(work, 'installed');
  await prepareDirectoryRoot(installed, { sources: [source] });
  const d = createDirectoryRootDriver({ root: installed, name: 'installed' });
  expect((await d.apply({ kind: 'refresh-index' })).status).toBe('succeeded');
  expect((await d.apply({ kind: 'packages', changes: [{ name: 'kit', action: 'install', to: '1.0' }] })).status).toBe('succeeded');
}, 180_000);

describe('reading what a directory root has installed', () => {
  it('a root without a dpkg database is a failed read, not an empty host', async () => {
    const bare = path.join(work, 'bare');
    await mkdir(path.join(bare, 'etc'), { recursive: true });
    const d = createDirectoryRootDriver({ root: bare, name: 'bare' });
    const r = await d.readInstalled();
    expect(r.kind).toBe('failed');
    expect(r.kind === 'failed' && r.message).toContain(`${bare}/var/lib/dpkg/status`);
    expect((await d.takeSnapshot({ conffiles: true })).kind).toBe('failed');
  });

  it('a prepared root whose database records nothing has no packages', async () => {
    const empty = path.join(work, 'empty');
    await prepareDirectoryRoot(empty);
    expect(await createDirectoryRootDriver({ root: empty, name: 'empty' }).readInstalled()).toEqual({ kind: 'ok', value: [] });
  });

  it('reads the installed package and its conffile', async () => {
    const s = await createDirectoryRootDriver({ root: installed, name: 'installed' }).takeSnapshot({ conffiles: true });
    expect(s.kind).toBe('ok');
    if (s.kind !== 'ok') return;
    expect(s.value.packages.map((p) => `${p.name}=${p.version}`)).toEqual(['kit=1.0']);
    expect(s.value.files.map((f) => `${f.path}:${f.state.kind}`)).toEqual(['/etc/kit/kit.conf:present']);
  });

  it('an installed set whose answer was lost is unknown', async () => {
    const d = createDirectoryRootDriver({ root: installed, name: 'installed', runner: losingRunner([1]) });
    const r = await d.readInstalled();
    expect(r.kind).toBe('unknown');
    expect(r.kind === 'unknown' && r.reason).toMatch(/records 1 packages: cannot tell/);
  });

  it('conffiles whose answer was lost make the snapshot unknown, not a snapshot without them', async () => {
    // the first dpkg-query is the installed set, the second the conffiles
    const d = createDirectoryRootDriver({ root: installed, name: 'installed', runner: losingRunner([2]) });
    const s = await d.takeSnapshot({ conffiles: true });
    expect(s.kind).toBe('unknown');
    expect(s.kind === 'unknown' && s.reason).toMatch(/cannot tell which conffiles/);
  });
});
