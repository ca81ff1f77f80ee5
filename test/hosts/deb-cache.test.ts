// The .deb cache reads Packages indexes from elsewhere: every field that becomes a file name is
// checked by its grammar, so a hostile index never makes the cache write outside its folder.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachePreviousVersions, checkIndexEntry, createDebCache } from '../../src/hosts/index.js';
import { buildDeb, type BuiltDeb } from '../lab/index.js';

let work: string;
let repo: string;
let deb: BuiltDeb;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'rw-debcache-'));
  repo = path.join(work, 'repo');
  deb = await buildDeb({ name: 'demo', version: '1.0' }, repo);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => statSync(path.join(dir, p)).isFile())
    .sort();
}

async function indexWith(fields: Record<string, string>): Promise<void> {
  const entry = { Package: 'demo', Version: '1.0', Architecture: 'all', Filename: `./${deb.fileName}`, SHA256: deb.sha256, ...fields };
  await writeFile(path.join(repo, 'Packages'), Object.entries(entry).map(([k, v]) => `${k}: ${v}\n`).join('') + '\n');
}

describe('the .deb cache and a hostile Packages index', () => {
  it('refuses Architecture: ../../../x (and deeper) naming the field, and writes nothing outside its folder', async () => {
    for (const arch of ['../../../x', '../../../../x', 'amd64/../../../x']) {
      const cacheDir = path.join(work, 'cache', 'debs');
      await mkdir(cacheDir, { recursive: true });
      await indexWith({ Architecture: arch });
      const before = filesUnder(work);
      const kept = await createDebCache(cacheDir).keepFromRepository({ baseUrl: repo }, 'demo', '1.0');
      expect(kept.kind, JSON.stringify(kept)).toBe('failed');
      expect(kept.kind === 'failed' && kept.reason).toMatch(/^RW_INDEX_PARSE: .*Architecture "/);
      expect(kept.kind === 'failed' && kept.reason).toContain(JSON.stringify(arch));
      expect(filesUnder(work)).toEqual(before);
      await rm(path.join(work, 'cache'), { recursive: true, force: true });
    }
  });

  it('refuses a bad Version, Filename or SHA256 from the index, naming the field', async () => {
    const cacheDir = path.join(work, 'cache2');
    const cases: Array<[Record<string, string>, string]> = [
      [{ Filename: 'http://elsewhere.invalid/demo.deb' }, 'Filename'],
      [{ Filename: '../outside.deb' }, 'Filename'],
      [{ Filename: `/${deb.path}` }, 'Filename'],
      [{ SHA256: 'not-hex' }, 'SHA256'],
    ];
    for (const [fields, field] of cases) {
      await indexWith(fields);
      const kept = await createDebCache(cacheDir).keepFromRepository({ baseUrl: repo }, 'demo', '1.0');
      expect(kept.kind === 'failed' && kept.reason, JSON.stringify(kept)).toMatch(new RegExp(`^RW_INDEX_PARSE: .*${field} `));
    }
    expect(() => checkIndexEntry({ Package: 'demo', Version: '1.0/../../x', Architecture: 'all', Filename: 'a.deb', SHA256: deb.sha256 }, 'idx')).toThrow(/Version/);
    expect(() => checkIndexEntry({ Package: '../demo', Version: '1.0', Architecture: 'all', Filename: 'a.deb', SHA256: deb.sha256 }, 'idx')).toThrow(/Package/);
  });

  it('keeps a good entry by name/version/architecture/sha256, verified', async () => {
    const cacheDir = path.join(work, 'cache3');
    await indexWith({});
    const kept = await createDebCache(cacheDir).keepFromRepository({ baseUrl: repo }, 'demo', '1.0');
    expect(kept.kind, JSON.stringify(kept)).toBe('kept');
    expect(filesUnder(cacheDir)).toEqual([`demo/1.0_all_${deb.sha256}.deb`]);
    const bytes = await readFile(path.join(cacheDir, 'demo', `1.0_all_${deb.sha256}.deb`));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(deb.sha256);
    // an id given directly goes through the same grammar
    const direct = await createDebCache(cacheDir).keepFile(deb.path, { name: 'demo', version: '1.0', architecture: '../../x' });
    expect(direct.kind === 'failed' && direct.reason).toMatch(/architecture/);
  });
});

describe("keeping the former .debs from a Debian root's own apt cache", () => {
  /** A root whose apt lists name demo 1.0 with this sha256, and whose archive cache holds `file` (if given). */
  async function rootWith(name: string, options: { sha256: string; file?: Buffer; archivesLink?: string }): Promise<string> {
    const root = path.join(work, name);
    await mkdir(path.join(root, 'var/lib/apt/lists'), { recursive: true });
    await writeFile(path.join(root, 'var/lib/apt/lists/deb.example_dists_bookworm_main_binary-amd64_Packages'), [
      'Package: other\nVersion: 2\nArchitecture: all\nFilename: pool/o/other_2_all.deb\nSHA256: ' + '0'.repeat(64) + '\n',
      `Package: demo\nVersion: 1.0\nArchitecture: all\nFilename: pool/d/${deb.fileName}\nSHA256: ${options.sha256}\n`,
    ].join('\n'));
    await mkdir(path.join(root, 'var/cache/apt'), { recursive: true });
    if (options.archivesLink) await symlink(options.archivesLink, path.join(root, 'var/cache/apt/archives'));
    else await mkdir(path.join(root, 'var/cache/apt/archives'));
    if (options.file) await writeFile(path.join(root, 'var/cache/apt/archives/demo_1.0_all.deb'), options.file);
    return root;
  }
  const installed = [{ name: 'demo', version: '1.0', architecture: 'all', status: 'ii', state: 'installed' }] as Parameters<typeof cachePreviousVersions>[2];
  const upgrade = [{ action: 'upgrade' as const, name: 'demo', from: '1.0', to: '1.1' }];

  it('keeps the file apt downloaded when its sha256 is the one the root\'s apt lists give', async () => {
    const root = await rootWith('root-good', { sha256: deb.sha256, file: await readFile(deb.path) });
    const cacheDir = path.join(work, 'cache-root-good');
    const [kept] = await cachePreviousVersions(createDebCache(cacheDir), { kind: 'root-archives', root }, installed, upgrade);
    expect(kept?.outcome.kind, JSON.stringify(kept)).toBe('kept');
    expect(filesUnder(cacheDir)).toEqual([`demo/1.0_all_${deb.sha256}.deb`]);
  });

  it('refuses a file whose content is not the listed one, and says when there is none', async () => {
    const tampered = await rootWith('root-tampered', { sha256: deb.sha256, file: Buffer.from('not the package') });
    const cacheDir = path.join(work, 'cache-root-bad');
    const [bad] = await cachePreviousVersions(createDebCache(cacheDir), { kind: 'root-archives', root: tampered }, installed, upgrade);
    expect(bad?.outcome.kind === 'failed' && bad.outcome.reason).toMatch(/sha256 does not match/);
    const cleaned = await rootWith('root-cleaned', { sha256: deb.sha256 });
    const [none] = await cachePreviousVersions(createDebCache(cacheDir), { kind: 'root-archives', root: cleaned }, installed, upgrade);
    expect(none?.outcome.kind === 'not-found' && none.outcome.reason).toMatch(/is not in .*var\/cache\/apt\/archives/);
    expect(filesUnder(work).some((f) => f.startsWith('cache-root-bad/'))).toBe(false);
  });

  it('follows a link in the root inside the root: an absolute /var/cache/apt/archives link never reads this machine\'s apt cache', async () => {
    // the link names /elsewhere, which is looked up inside the root (absent there), not on this machine
    const root = await rootWith('root-link', { sha256: deb.sha256, archivesLink: '/elsewhere' });
    const [r] = await cachePreviousVersions(createDebCache(path.join(work, 'cache-root-link')), { kind: 'root-archives', root }, installed, upgrade);
    expect(r?.outcome.kind).toBe('not-found');
    await mkdir(path.join(root, 'elsewhere'));
    await writeFile(path.join(root, 'elsewhere', 'demo_1.0_all.deb'), await readFile(deb.path));
    const [again] = await cachePreviousVersions(createDebCache(path.join(work, 'cache-root-link')), { kind: 'root-archives', root }, installed, upgrade);
    expect(again?.outcome.kind, JSON.stringify(again)).toBe('kept');
  });
});
