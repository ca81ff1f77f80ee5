// The .deb cache reads Packages indexes from elsewhere: every field that becomes a file name is
// checked by its grammar, so a hostile index never makes the cache write outside its folder.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIndexEntry, createDebCache } from '../../src/hosts/index.js';
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
