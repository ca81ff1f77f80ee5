/**
 * Debian versions and version pairs for checking compareDebian against Debian's own
 * implementations (python3-apt's apt_pkg.version_compare, `dpkg --compare-versions`). Shared by
 * test/versions/debian-oracle.test.ts and bench/versions.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compareDebian, isValidDebianVersion } from '../../src/versions/index.js';
import { createPrng } from '../helpers/prng.js';

export { createPrng };

export const BOOKWORM_PACKAGES = fileURLToPath(
  new URL('../../../shared/data/debian/bookworm-main-amd64.Packages.xz', import.meta.url),
);

/** Debian's own python, which has python3-apt (the pyenv python3 on PATH does not). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export type Pair = readonly [string, string];


export interface BookwormVersions {
  /** Distinct versions from `Version:` fields and the versions in `Source: name (version)`. */
  versions: string[];
  /** Versions grouped by source package (binary versions and the source version). */
  bySource: Map<string, string[]>;
  /** Distinct package names (`Package:` fields). */
  names: string[];
  stanzas: number;
}

/** Reads the versions of Debian 12 main from the shared index (xz -dc, argument array). */
export function loadBookwormVersions(): BookwormVersions {
  if (!existsSync(BOOKWORM_PACKAGES)) throw new Error(`missing ${BOOKWORM_PACKAGES}`);
  const r = spawnSync('xz', ['-dc', BOOKWORM_PACKAGES], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw new Error(`cannot run xz (apt-get install xz-utils): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`xz -dc failed: ${r.stderr}`);
  const all = new Set<string>();
  const bySource = new Map<string, Set<string>>();
  const names = new Set<string>();
  let stanzas = 0;
  for (const stanza of r.stdout.split('\n\n')) {
    let pkg: string | undefined;
    let version: string | undefined;
    let source: string | undefined;
    let sourceVersion: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('Package: ')) pkg = line.slice(9).trim();
      else if (line.startsWith('Version: ')) version = line.slice(9).trim();
      else if (line.startsWith('Source: ')) {
        const m = /^Source: (\S+)(?: \((\S+)\))?/.exec(line);
        if (m) {
          source = m[1];
          sourceVersion = m[2];
        }
      }
    }
    if (pkg === undefined || version === undefined) continue;
    stanzas++;
    names.add(pkg);
    const src = source ?? pkg;
    let group = bySource.get(src);
    if (!group) bySource.set(src, (group = new Set()));
    for (const v of [version, sourceVersion]) {
      if (v === undefined) continue;
      all.add(v);
      group.add(v);
    }
  }
  const groups = new Map<string, string[]>();
  for (const [k, s] of bySource) groups.set(k, [...s]);
  return { versions: [...all], bySource: groups, names: [...names], stanzas };
}

/** Hand-written edge cases: tildes, epochs, zero padding, letters against `+`, revisions. */
export const EDGE_VERSIONS: readonly string[] = [
  '0', '00', '0.0', '0.', '0a', '0~', '0~~', '0~~a', '0~a', '0+', '0-0', '0-00', '0-0.0', '0-1', '0-~', '0-a',
  '1', '01', '001', '1.0', '1.00', '1.0.0', '1.', '1..', '1.0~', '1.0~~', '1.0~~~', '1.0~rc1', '1.0~rc1~', '1.0~rc10',
  '1.0~rc2', '1.0~beta', '1.0~alpha', '1.0a', '1.0A', '1.0Z', '1.0z', '1.0+', '1.0+~', '1.0.', '1.0.1', '1.0+dfsg',
  '1.0+b1', '1.0-1', '1.0-0', '1.0-00', '1.0-1~', '1.0-1~bpo1', '1.0-1+b1', '1.0-1.1', '1.0-1a', '1.0-1+deb12u1',
  '1.0-10', '1.0-2', '1.0-a', '1.0-a~', '1.0-1-1', '1.0-1-0', '1-0-1', '1.0a-1', '1.0+-1', '1.0~-1',
  '1:0', '1:1.0', '1:1.0-1', '0:1.0', '00:1.0', '0:1.0-0', '2:0~', '10:1', '9:99', '1:1:1', '1:1:1-1', '1:1-1-1',
  '2147483647:1', '1a', '1A', 'a', 'A1', 'z', 'Z9', '1+', '1.1', '1.1.1', '1.9', '1.10', '1.09', '1.010', '1.0010',
  '1.0.0.0.0.0', '18446744073709551616', '18446744073709551617', '99999999999999999999999', '1.99999999999999999999',
  '1.100000000000000000000', '3.0~~1', '3.0~a~', '3.0~a', '3.0~', '3.0', '3.0a', '3.0+',
  '1.2.3+really1.2.2', '1.2.3~really1.2.4', '1:2.30+dfsg-3', '2.36-9+deb12u4', '7.88.1-10+deb12u5',
];

/** All ordered pairs of the edge versions (including each with itself). */
export function createEdgePairs(): Pair[] {
  const out: Pair[] = [];
  for (const a of EDGE_VERSIONS) for (const b of EDGE_VERSIONS) out.push([a, b]);
  return out;
}

/** A version close to `v`: one small edit that keeps it a valid version, or undefined. */
export function mutateVersion(v: string, rnd: () => number): string | undefined {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const hasRevision = v.includes('-');
  const op = Math.floor(rnd() * 16);
  let out: string;
  switch (op) {
    case 0: out = `${v}~`; break;
    case 1: out = hasRevision ? `${v}+b1` : `${v}~rc1`; break;
    case 2: out = `${v}${pick(['a', 'Z', '+', '.', '.0', '0', '1', '~~', '~a', '+~'])}`; break;
    case 3: out = hasRevision ? v.replace(/-([^-]*)$/, '-$1.0') : `${v}-0`; break;
    case 4: out = v.includes(':') ? v.replace(/^(\d+):/, (_m, e: string) => `${Number(e) + 1}:`) : `${pick(['0', '1', '00'])}:${v}`; break;
    case 5: { // zero-pad one digit run
      const runs = [...v.matchAll(/\d+/g)];
      if (runs.length === 0) return undefined;
      const r = pick(runs);
      out = v.slice(0, r.index) + '0' + v.slice(r.index);
      break;
    }
    case 6: { // bump one digit run by one
      const runs = [...v.matchAll(/\d+/g)];
      if (runs.length === 0) return undefined;
      const r = pick(runs);
      out = v.slice(0, r.index) + String(BigInt(r[0]) + 1n) + v.slice(r.index + r[0].length);
      break;
    }
    case 7: out = v.slice(0, -1); break;
    case 8: { // insert ~ somewhere after the first character
      const i = 1 + Math.floor(rnd() * (v.length - 1));
      out = v.slice(0, i) + '~' + v.slice(i);
      break;
    }
    case 9: out = v.replace(pick(['.', '+', '~']), pick(['.', '+', '~', 'a'])); break;
    case 10: out = v.replace(/[a-z]/, (c) => c.toUpperCase()); break;
    case 11: { // drop a character in the middle
      const i = 1 + Math.floor(rnd() * (v.length - 1));
      out = v.slice(0, i) + v.slice(i + 1);
      break;
    }
    case 12: out = hasRevision ? v.replace(/-([^-]*)$/, '') : `${v}-1`; break;
    case 13: out = hasRevision ? v.replace(/-([^-]*)$/, '-0$1') : `${v}-00`; break;
    case 14: { // replace a digit with a letter or a letter with a digit
      const i = Math.floor(rnd() * v.length);
      const c = v.charAt(i);
      out = v.slice(0, i) + (/\d/.test(c) ? pick(['a', 'z', 'A']) : pick(['0', '9'])) + v.slice(i + 1);
      break;
    }
    default: out = v.replace(/-/, '.'); break;
  }
  return out !== v && isValidDebianVersion(out) ? out : undefined;
}

/**
 * Pairs of random versions from the whole grammar (tilde runs, leading zeros, upper-case letters,
 * colons in upstream after an epoch, several hyphens), built from a small alphabet so that pairs
 * often share long prefixes. Every version is valid.
 */
export function createGeneratedPairs(seed: number, count: number): Pair[] {
  const rnd = createPrng(seed);
  const pick = (xs: string): string => xs.charAt(Math.floor(rnd() * xs.length));
  const part = (alphabet: string, max: number): string => {
    let out = '';
    const n = Math.floor(rnd() * max);
    for (let i = 0; i < n; i++) out += pick(alphabet);
    return out;
  };
  const version = (): string => {
    const epoch = rnd() < 0.2 ? `${pick('0123')}${rnd() < 0.2 ? pick('0123456789') : ''}:` : '';
    const upstream = pick('0011239aZ') + part(epoch ? '0019.~+aZ-:' : '0019.~+aZ-', 7);
    const revision = rnd() < 0.6 ? `-${pick('0019aZ.~+')}${part('0019.~+aZ', 4)}` : '';
    return epoch + upstream + revision;
  };
  const out: Pair[] = [];
  while (out.length < count) {
    const a = version();
    // Half the time the second version is an edit of the first: near-equal pairs.
    const b = rnd() < 0.5 ? version() : (mutateVersion(a, rnd) ?? version());
    if (isValidDebianVersion(a) && isValidDebianVersion(b)) out.push([a, b]);
  }
  return out;
}

export interface BulkPairs {
  pairs: Pair[];
  counts: Record<string, number>;
}

/**
 * At least `minPairs` pairs: random pairs of archive versions, neighbours in string order and in
 * dpkg order, versions of one source package, and archive versions against small edits of
 * themselves (near-equal pairs); every version is valid.
 */
export function createBulkPairs(data: BookwormVersions, seed: number, minPairs: number): BulkPairs {
  const rnd = createPrng(seed);
  const V = data.versions.filter(isValidDebianVersion);
  const pairs: Pair[] = [];
  const counts: Record<string, number> = {};
  const add = (kind: string, a: string, b: string) => {
    pairs.push(rnd() < 0.5 ? [a, b] : [b, a]);
    counts[kind] = (counts[kind] ?? 0) + 1;
  };
  const byString = [...V].sort();
  for (let i = 0; i + 1 < byString.length; i++) {
    add('string-neighbours', byString[i]!, byString[i + 1]!);
    if (i + 2 < byString.length) add('string-neighbours', byString[i]!, byString[i + 2]!);
  }
  const byDpkg = [...V].sort(compareDebian);
  for (let i = 0; i + 1 < byDpkg.length; i++) add('dpkg-neighbours', byDpkg[i]!, byDpkg[i + 1]!);
  for (const group of data.bySource.values()) {
    const g = group.filter(isValidDebianVersion);
    for (let i = 0; i + 1 < g.length && i < 20; i++) add('same-source', g[i]!, g[i + 1]!);
  }
  for (const v of V) {
    for (let k = 0; k < 3; k++) {
      const m = mutateVersion(v, rnd);
      if (m !== undefined) add('edited', v, m);
    }
  }
  const random = Math.max(60_000, minPairs - pairs.length);
  for (let i = 0; i < random; i++) add('random', V[Math.floor(rnd() * V.length)]!, V[Math.floor(rnd() * V.length)]!);
  return { pairs, counts };
}

/** Why apt_pkg cannot be used, or undefined if it can. */
export function checkAptPkg(): string | undefined {
  if (!existsSync(DEBIAN_PYTHON)) return `${DEBIAN_PYTHON} is missing: apt-get install python3 python3-apt`;
  const r = spawnSync(DEBIAN_PYTHON, ['-c', 'import apt_pkg'], { encoding: 'utf8' });
  if (r.status !== 0) return `${DEBIAN_PYTHON} cannot import apt_pkg: apt-get install python3-apt (${r.stderr.trim().split('\n').pop() ?? ''})`;
  return undefined;
}

const APT_PKG_SCRIPT = `
import sys, time
import apt_pkg
apt_pkg.init_system()
vc = apt_pkg.version_compare
data = sys.stdin.buffer.read().decode('utf-8').split('\\n')
pairs = [l.split('\\t') for l in data if l]
rounds = int(sys.argv[1])
t0 = time.process_time()
for _ in range(rounds):
    res = [vc(a, b) for a, b in pairs]
t1 = time.process_time()
sys.stderr.write('APT_PKG_SECONDS %.6f\\n' % (t1 - t0))
sys.stdout.write('\\n'.join('-1' if r < 0 else ('1' if r > 0 else '0') for r in res))
`;

/**
 * Compares every pair with apt_pkg.version_compare in ONE python process (pairs on stdin, one
 * sign per line on stdout). `rounds` > 1 repeats the loop (for the benchmark); seconds is the
 * CPU time python spent in the comparison loops only.
 */
export function compareWithAptPkg(pairs: readonly Pair[], rounds = 1): { signs: number[]; seconds: number } {
  for (const [a, b] of pairs) {
    if (/[\t\n]/.test(a) || /[\t\n]/.test(b)) throw new Error(`pair cannot be streamed: ${a} ${b}`);
  }
  const input = pairs.map(([a, b]) => `${a}\t${b}`).join('\n') + '\n';
  const r = spawnSync(DEBIAN_PYTHON, ['-c', APT_PKG_SCRIPT, String(rounds)], {
    input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`apt_pkg helper failed (status ${r.status}): ${r.stderr}`);
  const signs = r.stdout.length === 0 ? [] : r.stdout.split('\n').map(Number);
  if (signs.length !== pairs.length) throw new Error(`apt_pkg returned ${signs.length} results for ${pairs.length} pairs`);
  const m = /APT_PKG_SECONDS (\S+)/.exec(r.stderr);
  return { signs, seconds: m ? Number(m[1]) : NaN };
}

/**
 * Does `dpkg --compare-versions A OP B` hold? true/false, 'unrunnable' if dpkg cannot be run, or
 * dpkg's error text if it rejects the input. One process per call, arguments as an array.
 */
export function checkWithDpkg(a: string, op: string, b: string): boolean | 'unrunnable' | string {
  const r = spawnSync('dpkg', ['--compare-versions', a, op, b], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error) return 'unrunnable';
  if (r.status === 0) return true;
  if (r.status === 1) return false;
  return `dpkg failed with status ${r.status}: ${r.stderr.trim()}`;
}
