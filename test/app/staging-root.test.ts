/**
 * The blocks a staging root is built from (src/hosts/synthetic-deb.ts): synthetic .debs without
 * maintainer scripts, a flat repository indexed without apt-utils, read by apt on a directory
 * root; specs checked by their grammar before anything is written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSyntheticDeb, createDirectoryRootDriver, missingTools, prepareDirectoryRoot, syntheticControl, writeFlatRepository, type BuiltDeb, type HostDriver } from '../../src/hosts/index.js';
import type { Step } from '../../src/planner/index.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'rw-staging-root-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function must(d: HostDriver, step: Step): Promise<void> {
  const o = await d.apply(step);
  if (o.status !== 'succeeded') throw new Error(`step failed: ${JSON.stringify(o).slice(0, 2000)}`);
}

describe('synthetic packages and a flat repository for a staging root', () => {
  it('apt on a directory root reads the repository: install, upgrade over a conffile, downgrade; no maintainer script, so no trust needed', async () => {
    expect(missingTools(['dpkg-deb', 'dpkg', 'apt-get'])).toEqual([]);
    const repo = path.join(work, 'repo');
    const debs: BuiltDeb[] = [];
    for (const v of ['1.0', '2.0']) {
      debs.push(await buildSyntheticDeb({
        name: 'app', version: v, architecture: 'amd64', depends: 'libapp1 (>= 1.0)', provides: `app-api (= ${v})`,
        conffiles: { '/etc/app/app.conf': `level=${v}\n` }, files: { '/usr/share/app/VERSION': `${v}\n` },
      }, repo));
    }
    debs.push(await buildSyntheticDeb({ name: 'libapp1', version: '1:1.2-3', architecture: 'amd64' }, repo));
    expect(debs.map((d) => d.fileName)).toEqual(['app_1.0_amd64.deb', 'app_2.0_amd64.deb', 'libapp1_1%3a1.2-3_amd64.deb']);
    const field = (f: string): string => spawnSync('dpkg-deb', ['-f', debs[1]!.path, f], { encoding: 'utf8' }).stdout.trim();
    expect([field('Depends'), field('Provides')]).toEqual(['libapp1 (>= 1.0)', 'app-api (= 2.0)']);
    expect(spawnSync('dpkg-deb', ['-I', debs[1]!.path], { encoding: 'utf8' }).stdout).not.toMatch(/postinst|preinst|prerm|postrm/);

    const source = await writeFlatRepository(repo, debs);
    expect(source).toBe(`deb [trusted=yes] file:${repo} ./`);
    const index = readFileSync(path.join(repo, 'Packages'), 'utf8');
    expect(index.match(/^Package: app$/gm)).toHaveLength(2);
    expect(index).toMatch(/^Filename: \.\/libapp1_1%3a1\.2-3_amd64\.deb$/m);
    expect(readFileSync(path.join(repo, 'Release'), 'utf8')).toMatch(/^SHA256:\n [0-9a-f]{64} \d+ Packages$/m);

    const root = path.join(work, 'root');
    await prepareDirectoryRoot(root, { sources: [source] });
    const d = createDirectoryRootDriver({ root, name: 'staging' }); // trusts no package
    await must(d, { kind: 'refresh-index' });
    await must(d, { kind: 'packages', changes: [{ action: 'install', name: 'app', to: '1.0' }, { action: 'install', name: 'libapp1', to: '1:1.2-3' }] });
    await must(d, { kind: 'write-config', path: '/etc/app/app.conf', content: 'level=operator\n' });
    await must(d, { kind: 'packages', changes: [{ action: 'upgrade', name: 'app', to: '2.0' }] });
    expect(readFileSync(path.join(root, 'etc/app/app.conf'), 'utf8')).toBe('level=operator\n');
    expect(readFileSync(path.join(root, 'etc/app/app.conf.dpkg-dist'), 'utf8')).toBe('level=2.0\n');
    await must(d, { kind: 'packages', changes: [{ action: 'downgrade', name: 'app', to: '1.0' }] });
    const r = await d.readInstalled();
    expect(r.kind === 'ok' && r.value.map((p) => `${p.name} ${p.version} ${p.status.trim()}`)).toEqual(['app 1.0 ii', 'libapp1 1:1.2-3 ii']);
    expect(readFileSync(path.join(root, 'usr/share/app/VERSION'), 'utf8')).toBe('1.0\n');
  });

  it('refuses a spec that does not follow the grammar, before writing anything', async () => {
    const out = path.join(work, 'bad');
    await expect(buildSyntheticDeb({ name: 'Bad_Name', version: '1.0' }, out)).rejects.toThrow(/RW_BAD_NAME|not a valid/);
    await expect(buildSyntheticDeb({ name: 'ok', version: 'not a version' }, out)).rejects.toThrow();
    await expect(buildSyntheticDeb({ name: 'ok', version: '1.0', files: { '/usr/../../etc/passwd': 'x' } }, out)).rejects.toThrow();
    await expect(buildSyntheticDeb({ name: 'ok', version: '1.0', files: { 'relative/path': 'x' } }, out)).rejects.toThrow();
    expect(() => syntheticControl({ name: 'ok', version: '1.0', depends: 'a\nPackage: evil' })).toThrow(/RW_USAGE|line break/);
    expect(existsSync(out)).toBe(false);
  });
});
