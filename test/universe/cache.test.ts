/**
 * The binary universe cache (src/universe/cache.ts): a universe read back from its file answers
 * every question of the public API as the freshly built one does (a real bookworm slice with
 * layers, overrides and a fill layer; random small universes; the whole bookworm index once), and
 * a stale, corrupt or truncated file is reported in one line and rebuilt, never trusted.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyRecord, readDecompressed } from '../../src/kb/index.js';
import {
  addDebianPackagesFast, cachedUniverse, createUniverse, createUniverseBuilder, decodeUniverse, encodeUniverse, loadKnowledgeBaseWithUniverse,
  universeCacheFile, universeCacheKey, type Universe, type UniverseCacheOptions,
} from '../../src/universe/index.js';
import { buildCase, rawCase } from '../solver/properties/universes.js';
import { describeUniverse } from './describe-universe.js';

const INDEX = new URL('../../../shared/data/debian/bookworm-main-amd64.Packages.xz', import.meta.url).pathname;
const repoRoot = new URL('../../', import.meta.url).pathname;

let dir: string;
let bookworm: Buffer;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rw-ucache-'));
  bookworm = await readDecompressed(INDEX);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first `n` stanzas of bookworm main. */
function slice(n: number, from = 0): Buffer {
  const text = bookworm.toString('latin1');
  const stanzas = text.split('\n\n');
  return Buffer.from(`${stanzas.slice(from, from + n).join('\n\n')}\n`, 'latin1');
}

function roundTrip(u: Universe): Universe {
  const key = universeCacheKey(['test']);
  const r = decodeUniverse(encodeUniverse(u, key), key);
  if (!r.ok) throw new Error(`decode failed: ${r.reason}`);
  return r.universe;
}

/** A universe of two overlapping index layers (the second overrides) and a fill layer. */
function layeredSlice(): Universe {
  const b = createUniverseBuilder();
  addDebianPackagesFast(b, slice(2500), 'a/Packages', { name: 'debian:a', source: 'a/Packages', trust: 'distribution' });
  addDebianPackagesFast(b, slice(600, 2200), 'b/Packages', { name: 'debian:b', source: 'b/Packages', trust: 'distribution', author: 'ops', date: '2026-12-01' });
  const extra = createEmptyRecord('local-tool', '1.0-1', 'amd64', { layer: 'installed', source: 'dpkg status' });
  extra.depends = [[{ name: 'libc6', op: '>=', version: '2.36' }], [{ name: 'mail-transport-agent' }, { name: 'exim4' }]];
  extra.provides = [{ name: 'tool-virtual', version: '1' }];
  b.addRecords({ name: 'installed', source: 'dpkg status', trust: 'observed', mode: 'fill' }, [extra]);
  return b.build();
}

describe('a universe read from its cache file equals the fresh build', () => {
  it('on a real index slice with two overlapping layers and a fill layer: every pv, relation, provider, layer and provenance', () => {
    const fresh = layeredSlice();
    let overridden = 0;
    for (let pv = 0; pv < fresh.pvCount; pv++) if (fresh.overriddenLayersOf(pv).length > 0) overridden++;
    expect(overridden).toBe(300);
    expect(fresh.layerOf(fresh.findPv('local-tool', '1.0-1')).name).toBe('installed');
    const back = roundTrip(fresh);
    expect(describeUniverse(back)).toEqual(describeUniverse(layeredSlice()));
  });

  it('on random small universes (fast-check)', () => {
    fc.assert(
      fc.property(rawCase, (raw) => {
        const c = buildCase(raw);
        const fresh = createUniverse(c.records);
        expect(describeUniverse(roundTrip(fresh))).toEqual(describeUniverse(createUniverse(c.records)));
      }),
      { numRuns: 150 },
    );
  });

  it('on the whole bookworm index', () => {
    const b = createUniverseBuilder();
    addDebianPackagesFast(b, bookworm, INDEX, { name: 'debian:bookworm', source: INDEX });
    const fresh = b.build();
    const back = roundTrip(fresh);
    expect(back.pvCount).toBe(63440);
    // the candidate lists are computed from the tables: compare them for every atom as well
    expect(describeUniverse(back)).toEqual(describeUniverse(fresh));
  }, 300_000);
});

describe('the cache folder: hit, stale, corrupt, truncated', () => {
  const index = () => path.join(dir, 'Packages');
  const build = async () => {
    const b = createUniverseBuilder();
    addDebianPackagesFast(b, readFileSync(index()), index(), { name: 'debian:t', source: index() });
    return b.build();
  };
  const opts = (notices: string[], sub: string): UniverseCacheOptions => ({ dir: path.join(dir, sub), notice: (l) => notices.push(l), minPackages: 0 });
  const parts = () => ['t', { file: index() }];

  it('the second load is a hit and answers the same; changed index content is a miss (a new key)', async () => {
    writeFileSync(index(), slice(1500));
    const notices: string[] = [];
    const o = opts(notices, 'hit');
    const first = await cachedUniverse(o, parts, build);
    expect(first.outcome).toBe('built');
    const second = await cachedUniverse(o, parts, build);
    expect(second.outcome).toBe('hit');
    expect(describeUniverse(second.universe)).toEqual(describeUniverse(first.universe));
    writeFileSync(index(), slice(1400));
    const third = await cachedUniverse(o, parts, build);
    expect(third.outcome).toBe('built');
    expect(third.universe.pvCount).toBe(1400);
    expect(notices).toEqual([]);
  });

  it('a file holding another key (stale) is reported and rebuilt', async () => {
    writeFileSync(index(), slice(1500));
    const notices: string[] = [];
    const o = opts(notices, 'stale');
    await cachedUniverse(o, parts, build);
    const oldKey = universeCacheKey(parts());
    writeFileSync(index(), slice(1300));
    // put the old file where the new key's file belongs, as a stale copy would be
    copyFileSync(universeCacheFile(o.dir, oldKey), universeCacheFile(o.dir, universeCacheKey(parts())));
    const r = await cachedUniverse(o, parts, build);
    expect(r.outcome).toBe('rebuilt');
    expect(r.universe.pvCount).toBe(1300);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^universe cache .*universe-[0-9a-f]{32}\.bin: stale .*; rebuilding it$/);
    expect((await cachedUniverse(o, parts, build)).outcome).toBe('hit');
  });

  it('a flipped byte anywhere in the payload is a checksum mismatch: reported, rebuilt, same answers', async () => {
    writeFileSync(index(), slice(1500));
    const reference = describeUniverse(await build());
    const notices: string[] = [];
    const o = opts(notices, 'flip');
    await cachedUniverse(o, parts, build);
    const file = universeCacheFile(o.dir, universeCacheKey(parts()));
    const size = readFileSync(file).length;
    for (const at of [100, Math.floor(size / 3), Math.floor(size / 2), size - 1]) {
      const bytes = readFileSync(file);
      bytes[at] = bytes[at]! ^ 0x40;
      writeFileSync(file, bytes);
      const r = await cachedUniverse(o, parts, build);
      expect(r.outcome).toBe('rebuilt');
      expect(describeUniverse(r.universe)).toEqual(reference);
    }
    expect(notices).toHaveLength(4);
    for (const n of notices) expect(n).toMatch(/checksum mismatch \(corrupt\); rebuilding it$/);
    expect((await cachedUniverse(o, parts, build)).outcome).toBe('hit');
  });

  it('a truncated file, an empty file and a file of another kind are rebuilt', async () => {
    writeFileSync(index(), slice(1500));
    const notices: string[] = [];
    const o = opts(notices, 'trunc');
    await cachedUniverse(o, parts, build);
    const file = universeCacheFile(o.dir, universeCacheKey(parts()));
    const size = readFileSync(file).length;
    for (const damage of [() => truncateSync(file, size - 5), () => truncateSync(file, 40), () => writeFileSync(file, ''), () => writeFileSync(file, 'Package: x\nVersion: 1\n')]) {
      damage();
      const r = await cachedUniverse(o, parts, build);
      expect(r.outcome).toBe('rebuilt');
      expect(r.universe.pvCount).toBe(1500);
    }
    expect(notices.map((n) => n.replace(/^.*\.bin: /, ''))).toEqual([
      expect.stringMatching(/^truncated or padded/),
      'not a universe cache file; rebuilding it',
      'not a universe cache file; rebuilding it',
      'not a universe cache file; rebuilding it',
    ]);
  });

  it('concurrent writers of the same key leave one valid file and no temporary files', async () => {
    writeFileSync(index(), slice(3000));
    const cacheDir = path.join(dir, 'concurrent');
    const child = path.join(repoRoot, 'test/universe/cache-writer-child.ts');
    const runs = Array.from({ length: 3 }, () => new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', child, cacheDir, index()], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      p.on('close', (code) => resolve({ code, out }));
    }));
    const results = await Promise.all(runs);
    for (const r of results) expect(r.code, r.out).toBe(0);
    const files = readdirSync(cacheDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^universe-[0-9a-f]{32}\.bin$/);
    const notices: string[] = [];
    const r = await cachedUniverse({ dir: cacheDir, notice: (l) => notices.push(l), minPackages: 0 }, ['concurrent', { file: index() }], build);
    expect(r.outcome).toBe('hit');
    expect(notices).toEqual([]);
    expect(describeUniverse(r.universe, { atoms: false })).toEqual(describeUniverse(await build(), { atoms: false }));
  }, 120_000);
});

describe('the knowledge-base loader uses the cache', () => {
  it('the second load of the same index and YAML layer is a hit with the same universe; a changed YAML layer is not', async () => {
    const kbDir = path.join(dir, 'kb');
    const cacheDir = path.join(dir, 'kb-cache');
    rmSync(kbDir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(kbDir);
    writeFileSync(path.join(kbDir, 'Packages'), slice(2000));
    const yaml = (v: string) => [
      'apiVersion: rollwise/v1', 'kind: KnowledgeBase', 'layer:', '  name: org', '  precedence: 50', '  trust: organisation', 'packages:',
      '  - name: shopfront', '    scheme: semver', '    architecture: amd64', '    versions:', `      - version: "${v}"`, '        depends:', '          - libc6 (>= 2.36)', '',
    ].join('\n');
    writeFileSync(path.join(kbDir, 'org.yaml'), yaml('1.0.0'));
    const load = async () => loadKnowledgeBaseWithUniverse([path.join(kbDir, 'org.yaml')], { indexes: [path.join(kbDir, 'Packages')], universeCache: { dir: cacheDir, minPackages: 0, notice: () => undefined } });
    const a = await load();
    const b = await load();
    expect(a.universe.cacheOutcomes).toEqual(['built']);
    expect(b.universe.cacheOutcomes).toEqual(['hit']);
    expect(describeUniverse(b.universe.universe)).toEqual(describeUniverse(a.universe.universe));
    expect(b.kb.layers.map((l) => l.name)).toEqual(a.kb.layers.map((l) => l.name));
    writeFileSync(path.join(kbDir, 'org.yaml'), yaml('1.0.1'));
    const c = await load();
    expect(c.universe.cacheOutcomes).toEqual(['built']);
    expect(c.universe.universe.findPv('shopfront', '1.0.1')).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('a changed Release file beside an unchanged index is a miss: its facts are part of the built layers', async () => {
    const relDir = path.join(dir, 'rel');
    rmSync(relDir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(relDir);
    const index = path.join(relDir, 'lab-main-amd64.Packages');
    writeFileSync(index, slice(1500));
    const release = (suite: string, notAutomatic: boolean) => `Origin: Lab\nLabel: Lab\nSuite: ${suite}\nCodename: lab\n${notAutomatic ? 'NotAutomatic: yes\n' : ''}Components: main\nArchitectures: amd64\n`;
    writeFileSync(path.join(relDir, 'lab.Release'), release('stable', false));
    const load = async () => loadKnowledgeBaseWithUniverse([], { indexes: [index], universeCache: { dir: path.join(dir, 'rel-cache'), minPackages: 0, notice: () => undefined } });
    const a = await load();
    expect(a.universe.cacheOutcomes).toEqual(['built']);
    expect((await load()).universe.cacheOutcomes).toEqual(['hit']);
    writeFileSync(path.join(relDir, 'lab.Release'), release('experimental', true));
    const c = await load();
    expect(c.universe.cacheOutcomes).toEqual(['built']);
    const facts = c.universe.universe.layers.find((l) => l.source === index)?.release;
    expect(facts).toMatchObject({ suite: 'experimental' });
  }, 60_000);
});
