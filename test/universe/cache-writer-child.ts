/**
 * A child process of test/universe/cache.test.ts: builds the universe of one index and writes it
 * to a cache folder, as a second `rollwise` process would at the same moment.
 * Usage: node --import tsx cache-writer-child.ts CACHE_DIR INDEX
 */
import { readFileSync } from 'node:fs';
import { addDebianPackagesFast, createUniverseBuilder, universeCacheKey, writeCachedUniverse } from '../../src/universe/index.js';

const [dir, index] = process.argv.slice(2) as [string, string];
const b = createUniverseBuilder();
addDebianPackagesFast(b, readFileSync(index), index, { name: 'debian:t', source: index });
const u = b.build();
const key = universeCacheKey(['concurrent', { file: index }]);
// several rounds, so the writers overlap
for (let i = 0; i < 4; i++) {
  if (!writeCachedUniverse({ dir, minPackages: 0, notice: (l) => { throw new Error(l); } }, key, u)) throw new Error('not written');
}
