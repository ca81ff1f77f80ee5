/**
 * `npm run bench:versions`: speed of Debian version comparison on the archive pairs of the oracle
 * test (Debian 12 main), against peers run in the same invocation:
 *  - apt_pkg.version_compare (python3-apt, C++), timed inside one python process;
 *  - the previous, slice-based port of compareDebian (kept here as a baseline);
 *  - parse-then-compare (parseDebianVersion + compareParsedDebian), the allocating way.
 * Prints CPU ns per comparison (CPU time, not wall time, so a loaded machine distorts less) and
 * ratios. Timings on a shared machine are still noisy: run it twice.
 */
import { compareDebian, compareParsedDebian, parseDebianVersion, verrevcmp } from '../src/versions/index.js';
import { checkAptPkg, compareWithAptPkg, createBulkPairs, loadBookwormVersions, type Pair } from '../test/versions/debian-corpus.js';

/** The implementation compareDebian had before it became allocation-free (baseline only). */
function compareDebianSliced(a: string, b: string): number {
  if (a === b) return 0;
  const ca = a.indexOf(':');
  const cb = b.indexOf(':');
  const ea = ca < 0 ? 0 : Number(a.slice(0, ca));
  const eb = cb < 0 ? 0 : Number(b.slice(0, cb));
  if (ea !== eb) return ea > eb ? 1 : -1;
  const ra = a.lastIndexOf('-');
  const rb = b.lastIndexOf('-');
  const ua = a.slice(ca + 1, ra > ca ? ra : a.length);
  const ub = b.slice(cb + 1, rb > cb ? rb : b.length);
  const r = verrevcmp(ua, ub);
  if (r) return r < 0 ? -1 : 1;
  const va = ra > ca ? a.slice(ra + 1) : '';
  const vb = rb > cb ? b.slice(rb + 1) : '';
  const s = verrevcmp(va, vb);
  return s < 0 ? -1 : s > 0 ? 1 : 0;
}

function time(name: string, pairs: readonly Pair[], rounds: number, f: (a: string, b: string) => number): number {
  const A = pairs.map((p) => p[0]);
  const B = pairs.map((p) => p[1]);
  const n = A.length;
  let sink = 0;
  for (let i = 0; i < Math.min(n, 20_000); i++) sink += f(A[i]!, B[i]!); // warm-up
  const c0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) for (let i = 0; i < n; i++) sink += f(A[i]!, B[i]!);
  const c = process.cpuUsage(c0);
  const ns = ((c.user + c.system) * 1000) / (rounds * n);
  if (sink === Number.MIN_SAFE_INTEGER) console.log(''); // keep the loop alive
  console.log(`${name.padEnd(44)} ${ns.toFixed(1).padStart(8)} ns/compare (CPU)`);
  return ns;
}

const data = loadBookwormVersions();
// Flat copies: strings cut out of the 50 MB index text are slices of it, slower to read; interned
// versions in the universe are flat.
const flat = (v: string) => Buffer.from(v, 'latin1').toString('latin1');
const pairs: Pair[] = createBulkPairs(data, 20260527, 200_000).pairs.map(([a, b]) => [flat(a), flat(b)]);
const rounds = Number(process.env.ROUNDS ?? 10);
console.log(`Debian version comparison: ${pairs.length} pairs from Debian 12 main, ${rounds} rounds each`);
time('loop overhead (a < b, for reference)', pairs, rounds, (a, b) => (a < b ? -1 : 1));
const ours = time('compareDebian (allocation-free)', pairs, rounds, compareDebian);
const sliced = time('previous compareDebian (slices)', pairs, rounds, compareDebianSliced);
const parsed = time('parseDebianVersion x2 + compareParsedDebian', pairs, Math.max(1, rounds >> 2), (a, b) =>
  compareParsedDebian(parseDebianVersion(a), parseDebianVersion(b)),
);
const problem = checkAptPkg();
let apt = NaN;
if (problem === undefined) {
  const { seconds } = compareWithAptPkg(pairs, Math.max(1, rounds >> 1));
  apt = (seconds * 1e9) / (Math.max(1, rounds >> 1) * pairs.length);
  console.log(`${'apt_pkg.version_compare (python3-apt)'.padEnd(44)} ${apt.toFixed(1).padStart(8)} ns/compare (CPU, incl. python call overhead)`);
} else {
  console.log(`apt_pkg: not measured (${problem})`);
}
console.log('ratios (lower is faster for compareDebian):');
console.log(`  compareDebian / previous slices      ${(ours / sliced).toFixed(2)}`);
console.log(`  compareDebian / parse+compare        ${(ours / parsed).toFixed(2)}`);
if (!Number.isNaN(apt)) console.log(`  compareDebian / apt_pkg              ${(ours / apt).toFixed(2)}`);
