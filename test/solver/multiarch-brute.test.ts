/**
 * Multiarch installability against brute force: small random archives over amd64 (native),
 * i386 (foreign) and `all`, with random Multi-Arch values, architecture qualifiers (none, :any,
 * :native, :i386, :amd64), versioned and unversioned Provides, Conflicts and Breaks. For every
 * package version, "can it be installed from nothing" by the solver must equal the answer of an
 * exhaustive search over subsets checked by an independent reading of the rules written here
 * from deb-control(5) and Debian's multiarch specification (not the universe's candidate code):
 * - an unqualified Depends of a package of architecture A (all counts as native) is met by a
 *   package of A (or all when A is native), or of any architecture when it is Multi-Arch: foreign;
 *   a provider the same way;
 * - `:any` is met by Multi-Arch: allowed packages or providers of any architecture (apt 2.6:
 *   test/fleet/multiarch-apt-agreement.test.ts);
 *   `:native` and `:amd64` by native or all, `:i386` by i386;
 * - an unqualified Conflicts/Breaks hits every architecture, never its own package name;
 * - one version per (name, architecture); a name in two architectures only when both are
 *   Multi-Arch: same at the same version.
 */
import { describe, expect, it } from 'vitest';
import { createEmptyRecord, type PackageAtom, type PackageRecord } from '../../src/kb/index.js';
import { createProblem, solveRequest } from '../../src/solver/index.js';
import { createPrng } from '../helpers/prng.js';

const NAMES = ['a', 'b', 'c', 'd'];
const MA = ['no', 'same', 'foreign', 'allowed'] as const;
const QUALIFIERS: Array<string | undefined> = [undefined, undefined, undefined, undefined, 'any', 'native', 'i386', 'amd64'];

function randomArchive(rnd: () => number): PackageRecord[] {
  const recs: PackageRecord[] = [];
  for (const name of NAMES) {
    const archs = rnd() < 0.2 ? ['all'] : rnd() < 0.6 ? ['amd64', 'i386'] : [rnd() < 0.5 ? 'amd64' : 'i386'];
    for (const arch of archs) {
      const versions = rnd() < 0.25 ? ['1', '2'] : [rnd() < 0.5 ? '1' : '2'];
      for (const version of versions) {
        const r = createEmptyRecord(name, version, arch, { layer: 't', source: 't' });
        const ma = MA[Math.floor(rnd() * MA.length)]!;
        if (ma !== 'no') r.multiArch = ma;
        recs.push(r);
      }
    }
  }
  const atom = (): PackageAtom => {
    const name = rnd() < 0.15 ? 'virt' : NAMES[Math.floor(rnd() * NAMES.length)]!;
    const a: PackageAtom = { name };
    const q = QUALIFIERS[Math.floor(rnd() * QUALIFIERS.length)];
    if (q) a.archQualifier = q;
    if (rnd() < 0.25) { a.op = rnd() < 0.5 ? '>=' : '<<'; a.version = '2'; }
    return a;
  };
  for (const r of recs) {
    const nd = Math.floor(rnd() * 3);
    for (let i = 0; i < nd; i++) r.depends.push(rnd() < 0.25 ? [atom(), atom()] : [atom()]);
    if (rnd() < 0.25) r.conflicts.push({ ...atom(), archQualifier: undefined } as PackageAtom);
    if (rnd() < 0.1) r.breaks.push({ ...atom(), archQualifier: undefined } as PackageAtom);
    if (rnd() < 0.2) r.provides.push(rnd() < 0.5 ? { name: 'virt' } : { name: 'virt', version: '2' });
    for (const c of r.conflicts) delete c.archQualifier;
    for (const c of r.breaks) delete c.archQualifier;
  }
  return recs;
}

const dpkgArch = (r: PackageRecord): string => (r.architecture === 'all' ? 'amd64' : r.architecture);
const cmp = (a: string, b: string): number => Number(a) - Number(b);
const versionOk = (v: string, a: PackageAtom): boolean => {
  if (!a.op) return true;
  const c = cmp(v, a.version!);
  return a.op === '>=' ? c >= 0 : a.op === '<<' ? c < 0 : c === 0;
};

/** Does r (really, or by a Provides) meet atom `a` written by `from` (positive relation)? */
function meets(from: PackageRecord, a: PackageAtom, r: PackageRecord): boolean {
  const archOk = (): boolean => {
    const q = a.archQualifier;
    if (q === undefined) return dpkgArch(r) === dpkgArch(from) || r.multiArch === 'foreign';
    if (q === 'any') return r.multiArch === 'allowed';
    if (q === 'native' || q === 'amd64') return dpkgArch(r) === 'amd64';
    return r.architecture === q;
  };
  if (r.name === a.name && versionOk(r.version, a) && archOk()) return true;
  return r.provides.some((p) => p.name === a.name && (a.op ? p.version !== undefined && versionOk(p.version, a) : true)) && archOk();
}

/** Does r match an unqualified Conflicts/Breaks atom of `from` (every architecture, never its own name)? */
function hits(from: PackageRecord, a: PackageAtom, r: PackageRecord): boolean {
  if (r === from || r.name === from.name) return false;
  if (r.name === a.name && versionOk(r.version, a)) return true;
  return r.provides.some((p) => p.name === a.name && (a.op ? p.version !== undefined && versionOk(p.version, a) : true));
}

function valid(set: PackageRecord[]): boolean {
  for (const r of set) {
    for (const clause of r.depends) if (!clause.some((a) => set.some((q) => meets(r, a, q)))) return false;
    for (const a of [...r.conflicts, ...r.breaks]) if (set.some((q) => hits(r, a, q))) return false;
    for (const q of set) {
      if (q === r || q.name !== r.name) continue;
      if (dpkgArch(q) === dpkgArch(r)) return false; // one version per (name, architecture)
      if (!(q.multiArch === 'same' && r.multiArch === 'same' && q.version === r.version)) return false;
    }
  }
  return true;
}

function bruteInstallable(recs: PackageRecord[]): boolean[] {
  const n = recs.length;
  const ok = new Array<boolean>(n).fill(false);
  for (let m = 1; m < 1 << n; m++) {
    const chosen = recs.filter((_, i) => (m >> i) & 1);
    if (!valid(chosen)) continue;
    for (let i = 0; i < n; i++) if ((m >> i) & 1) ok[i] = true;
  }
  return ok;
}

describe('multiarch installability vs brute force', () => {
  it('agrees on 300 random multiarch archives', () => {
    const rnd = createPrng(20261205);
    let yes = 0;
    let no = 0;
    let archives = 0;
    while (archives < 300) {
      const recs = randomArchive(rnd);
      if (recs.length > 12) continue;
      archives++;
      const expected = bruteInstallable(recs);
      const problem = createProblem(recs, [], { hostArch: 'amd64', foreignArchs: ['i386'] });
      const got = recs.map((r) => {
        const spec = { name: r.name, archQualifier: r.architecture === 'i386' ? 'i386' : 'amd64', op: '=' as const, version: r.version };
        return solveRequest(problem, { items: [{ kind: 'install', ...spec }] }, { recommends: false, maxResolutions: 0 }).kind === 'solution';
      });
      const show = recs.map((r) => `${r.name}:${r.architecture}=${r.version} ${r.multiArch ?? 'no'} d=${JSON.stringify(r.depends)} c=${JSON.stringify(r.conflicts)} b=${JSON.stringify(r.breaks)} p=${JSON.stringify(r.provides)}`).join('\n');
      expect(got, show).toEqual(expected);
      for (const e of expected) if (e) yes++; else no++;
    }
    // both answers occur often enough for the comparison to mean something
    expect(yes).toBeGreaterThan(300);
    expect(no).toBeGreaterThan(300);
  }, 120_000);
});
