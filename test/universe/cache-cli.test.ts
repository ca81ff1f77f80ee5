/**
 * The universe cache as the CLI uses it: `--universe-cache DIR`, `ROLLWISE_UNIVERSE_CACHE`,
 * `--no-universe-cache`; `kb check-installable` and `solve` answer the same from a warm cache, and
 * a corrupt cache file costs one line on stderr and a rebuild.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDecompressed } from '../../src/kb/index.js';
import { runCliInProcess } from '../app/cli-in-process.js';

const INDEX = new URL('../../../shared/data/debian/bookworm-main-amd64.Packages.xz', import.meta.url).pathname;

let dir: string;
let index: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rw-ucache-cli-'));
  index = path.join(dir, 'Packages');
  // a real slice: the first 4,000 stanzas of bookworm main
  const stanzas = (await readDecompressed(INDEX)).toString('latin1').split('\n\n').slice(0, 4000);
  writeFileSync(index, `${stanzas.join('\n\n')}\n`, 'latin1');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const withoutTimes = (s: string) => s.replace(/\(\d+ ms\)/g, '(N ms)');
const cacheFiles = (d: string) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.bin')) : []);

describe('rollwise with the universe cache', () => {
  it('kb check-installable: the same report cold and warm; a corrupt file is one line on stderr and a rebuild', async () => {
    const cache = path.join(dir, 'c1');
    const args = ['--universe-cache', cache, 'kb', 'check-installable', '--no-explain', index];
    const cold = await runCliInProcess(args);
    expect(cold.stderr).toBe('');
    expect(cold.stdout).toMatch(/ of 4000 package versions cannot be installed/);
    const files = cacheFiles(cache);
    expect(files).toHaveLength(1);
    const warm = await runCliInProcess(args);
    expect(warm.stderr).toBe('');
    expect(warm.status).toBe(cold.status);
    expect(withoutTimes(warm.stdout)).toBe(withoutTimes(cold.stdout));
    const file = path.join(cache, files[0]!);
    const bytes = readFileSync(file);
    const mid = Math.floor(bytes.length / 2);
    bytes[mid] = bytes[mid]! ^ 1;
    writeFileSync(file, bytes);
    const rebuilt = await runCliInProcess(args);
    expect(rebuilt.stderr).toBe(`rollwise: universe cache ${file}: checksum mismatch (corrupt); rebuilding it\n`);
    expect(withoutTimes(rebuilt.stdout)).toBe(withoutTimes(cold.stdout));
    const again = await runCliInProcess(args);
    expect(again.stderr).toBe('');
    expect(withoutTimes(again.stdout)).toBe(withoutTimes(cold.stdout));
  }, 120_000);

  it('solve through ROLLWISE_UNIVERSE_CACHE: the same solution cold and warm; --no-universe-cache neither reads nor writes', async () => {
    const cache = path.join(dir, 'c2');
    const saved = process.env.ROLLWISE_UNIVERSE_CACHE;
    process.env.ROLLWISE_UNIVERSE_CACHE = cache;
    try {
      const args = ['solve', '--index', index, '--install', 'apt', '--no-recommends'];
      // the slice lacks some of apt's dependencies: the answer is an explanation, the same both times
      const cold = await runCliInProcess(args);
      expect(cold.stdout).toMatch(/apt/);
      expect(cacheFiles(cache)).toHaveLength(1);
      const warm = await runCliInProcess(args);
      expect(warm.status).toBe(cold.status);
      expect(warm.stderr).toBe(cold.stderr);
      expect(warm.stdout).toBe(cold.stdout);
      const off = path.join(dir, 'c3');
      const none = await runCliInProcess(['--universe-cache', off, '--no-universe-cache', ...args]);
      expect(none.stdout).toBe(cold.stdout);
      expect(existsSync(off)).toBe(false);
      // after the command it is a usage error that says where the option goes
      const misplaced = await runCliInProcess([...args, '--universe-cache', off]);
      expect(misplaced.status).toBe(2);
      expect(misplaced.stderr).toMatch(/RW_USAGE: unknown option '--universe-cache' \(hint: --universe-cache is an option of rollwise itself: put it before the command/);
      process.env.ROLLWISE_UNIVERSE_CACHE = 'off';
      rmSync(cache, { recursive: true, force: true });
      const envOff = await runCliInProcess(args);
      expect(envOff.stdout).toBe(cold.stdout);
      expect(existsSync(cache)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.ROLLWISE_UNIVERSE_CACHE;
      else process.env.ROLLWISE_UNIVERSE_CACHE = saved;
    }
  }, 120_000);
});
