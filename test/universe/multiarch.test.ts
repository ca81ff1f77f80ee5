/**
 * Multiarch rules on small hand-made universes (amd64 native, i386 foreign), one test per rule
 * so that dropping a rule fails its test: naming (`name:arch`), the architecture an unqualified
 * relation means (the depender's; `all` counts as native; Multi-Arch: foreign crosses), the same
 * rule for providers, `:any` (Multi-Arch: allowed only), `:native`, `:ARCH`, unqualified
 * Conflicts/Breaks against every architecture but the package's own name, one version per
 * (name, architecture) and Multi-Arch: same only at one version, the installed state, the host
 * policy's architectures, the binary cache and requests. A universe without foreign
 * architectures keeps the single-architecture meaning (test/solver/arch-qualifiers.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { createUniverse, createInstalledState, decodeUniverse, encodeUniverse, type Universe } from '../../src/universe/index.js';
import { createAptPolicy, createPolicyView, createUniverseProblem, parseRequestSpec, solveRequest, type RequestItem } from '../../src/solver/index.js';
import { parseAtoms, recordsFromYaml } from '../solver/helpers.js';

const RECORDS = recordsFromYaml([
  { name: 'libc', version: '2', 'multi-arch': 'same' },
  { name: 'libc', version: '2', architecture: 'i386', 'multi-arch': 'same' },
  { name: 'libc', version: '3', architecture: 'i386', 'multi-arch': 'same' },
  { name: 'tool', version: '1', 'multi-arch': 'foreign' },
  { name: 'plain', version: '1' },
  { name: 'plain', version: '1', architecture: 'i386' },
  { name: 'allowed', version: '1', 'multi-arch': 'allowed' },
  { name: 'nativeonly', version: '1' },
  { name: 'data', version: '1', architecture: 'all' },
  { name: 'datafor', version: '1', architecture: 'all', 'multi-arch': 'foreign' },
  { name: 'prov', version: '1', provides: 'virt' },
  { name: 'provf', version: '1', provides: 'virtf', 'multi-arch': 'foreign' },
  { name: 'provi', version: '1', architecture: 'i386', provides: 'virti' },
  // dependers, one per rule, in i386 (foreign context) and amd64 (native context)
  { name: 'app', version: '1', architecture: 'i386', depends: 'libc, tool, nativeonly, data, datafor, virt, virtf, virti, allowed:any, tool:any, nativeonly:native, plain:amd64' },
  { name: 'napp', version: '1', depends: 'libc, tool, virti, plain:i386, plain:any' },
  { name: 'breaker', version: '1', architecture: 'i386', conflicts: 'plain', breaks: 'tool' },
  { name: 'provany', version: '1', provides: 'virta', 'multi-arch': 'allowed' },
  { name: 'selfc', version: '1', 'multi-arch': 'same', conflicts: 'selfc', breaks: 'selfc (<< 1)' },
  { name: 'selfc', version: '1', architecture: 'i386', 'multi-arch': 'same', conflicts: 'selfc', breaks: 'selfc (<< 1)' },
  { name: 'anyprov', version: '1', architecture: 'i386', depends: 'virt:any, virta:any, virtf:any' },
]);

function build(foreignArchs: string[] = ['i386']): Universe {
  return createUniverse(RECORDS, { hostArch: 'amd64', foreignArchs });
}

/** Candidates of the n-th atom of a pv's Depends, as `name version arch`. */
function depCands(u: Universe, name: string, index: number): string[] {
  const pv = u.versionsOf(u.nameIdOfSpec(name))[0]!;
  const clause = u.clausesOf(pv, 0)[index]!;
  return Array.from(u.candidates(clause[0]!), (q) => `${u.nameOfPv(q)} ${u.versionOf(q)} ${u.archOf(q)}`).sort();
}

describe('multiarch universe', () => {
  const u = build();

  it('keeps a foreign architecture version under name:arch, the native and all ones under the name', () => {
    expect(u.multiarch).toBe(true);
    expect(Array.from(u.versionsOf(u.nameId('libc')), (pv) => u.archOf(pv))).toEqual(['amd64']);
    expect(Array.from(u.versionsOf(u.nameId('libc:i386')), (pv) => u.versionOf(pv))).toEqual(['3', '2']);
    expect(u.nameIdOfSpec('libc', 'i386')).toBe(u.nameId('libc:i386'));
    expect(u.nameIdOfSpec('libc:i386')).toBe(u.nameId('libc:i386'));
    expect(u.nameIdOfSpec('libc', 'amd64')).toBe(u.nameId('libc'));
    expect(u.baseNameOf(u.nameId('libc:i386'))).toBe(u.nameId('libc'));
    expect(u.findPv('libc', '3', 'i386')).toBeGreaterThanOrEqual(0);
    expect(u.findPv('libc', '3', 'amd64')).toBe(-1);
  });

  it("an unqualified dependency of a foreign package means its own architecture", () => {
    expect(depCands(u, 'app:i386', 0)).toEqual(['libc:i386 2 i386', 'libc:i386 3 i386']);
    expect(depCands(u, 'app:i386', 2)).toEqual([]); // nativeonly exists in amd64 only, Multi-Arch: no
  });

  it('Architecture: all counts as native: a foreign package cannot use it unless Multi-Arch: foreign', () => {
    expect(depCands(u, 'app:i386', 3)).toEqual([]);
    expect(depCands(u, 'app:i386', 4)).toEqual(['datafor 1 all']);
  });

  it('Multi-Arch: foreign meets an unqualified dependency from any architecture', () => {
    expect(depCands(u, 'app:i386', 1)).toEqual(['tool 1 amd64']);
  });

  it("an unqualified dependency of a native package means native (and foreign-marked) versions", () => {
    expect(depCands(u, 'napp', 0)).toEqual(['libc 2 amd64']);
    expect(depCands(u, 'napp', 1)).toEqual(['tool 1 amd64']);
  });

  it('a provider of another architecture counts only when it is Multi-Arch: foreign', () => {
    expect(depCands(u, 'app:i386', 5)).toEqual([]); // prov is amd64, Multi-Arch: no
    expect(depCands(u, 'app:i386', 6)).toEqual(['provf 1 amd64']);
    expect(depCands(u, 'app:i386', 7)).toEqual(['provi:i386 1 i386']);
    expect(depCands(u, 'napp', 2)).toEqual([]); // provi is i386, Multi-Arch: no
  });

  it(':any is met by Multi-Arch: allowed of any architecture, not by Multi-Arch: foreign nor by other providers (as apt and dpkg)', () => {
    expect(depCands(u, 'app:i386', 8)).toEqual(['allowed 1 amd64']);
    expect(depCands(u, 'app:i386', 9)).toEqual([]);
    expect(depCands(u, 'napp', 4)).toEqual([]); // plain is Multi-Arch: no
    expect(depCands(u, 'anyprov:i386', 0)).toEqual([]); // a Multi-Arch: no provider
    expect(depCands(u, 'anyprov:i386', 1)).toEqual(['provany 1 amd64']); // a Multi-Arch: allowed provider
    expect(depCands(u, 'anyprov:i386', 2)).toEqual([]); // a Multi-Arch: foreign provider
  });

  it(':native means the native architecture, from a foreign package too; :ARCH that architecture only', () => {
    expect(depCands(u, 'app:i386', 10)).toEqual(['nativeonly 1 amd64']);
    expect(depCands(u, 'app:i386', 11)).toEqual(['plain 1 amd64']);
    expect(depCands(u, 'napp', 3)).toEqual(['plain:i386 1 i386']);
  });

  it('an unqualified Conflicts or Breaks applies to every architecture', () => {
    const pv = u.versionsOf(u.nameId('breaker:i386'))[0]!;
    const hit = (list: Int32Array): string[] => Array.from(list, (q) => `${u.nameOfPv(q)} ${u.archOf(q)}`).sort();
    expect(hit(u.conflictsOf(pv))).toEqual(['plain amd64', 'plain:i386 i386']);
    expect(hit(u.breaksOf(pv))).toEqual(['tool amd64']);
  });

  it("an unqualified Conflicts never hits its own package in another architecture (Multi-Arch: same self-conflicts)", () => {
    expect(u.conflictsOf(u.findPv('selfc', '1', 'amd64')).length).toBe(0);
    expect(u.breaksOf(u.findPv('selfc', '1', 'i386')).length).toBe(0);
  });

  it('a name is in one architecture at a time, unless Multi-Arch: same at the same version', () => {
    const conflicts = (name: string, version: string): string[] => {
      const pv = u.findPv(name.replace(/:.*/, ''), version, name.includes(':') ? name.split(':')[1] : 'amd64');
      return Array.from(u.conflictsOf(pv), (q) => `${u.nameOfPv(q)} ${u.versionOf(q)}`).sort();
    };
    expect(conflicts('libc', '2')).toEqual(['libc:i386 3']); // same at 2 may coexist, not at 3
    expect(conflicts('libc:i386', '3')).toEqual(['libc 2']);
    expect(conflicts('plain', '1')).toEqual(['plain:i386 1']); // Multi-Arch: no, even at one version
  });

  it('formats atoms without the context codes', () => {
    const pv = u.versionsOf(u.nameId('app:i386'))[0]!;
    expect(u.clausesOf(pv, 0).map((c) => u.formatAtom(c[0]!))).toEqual(parseAtoms('libc, tool, nativeonly, data, datafor, virt, virtf, virti, allowed:any, tool:any, nativeonly:native, plain:amd64').map((c) => {
      const a = c[0]!;
      return `${a.name}${a.archQualifier && a.archQualifier !== 'amd64' ? `:${a.archQualifier}` : a.archQualifier === 'amd64' ? ':native' : ''}`;
    }));
  });

  it('reads installed entries of a foreign architecture', () => {
    const s = createInstalledState(u, [{ name: 'libc', version: '2', architecture: 'i386' }, { name: 'libc', version: '2', architecture: 'amd64' }]);
    expect(s.unmatched).toEqual([]);
    expect(Array.from(s.pvs, (pv) => `${u.nameOfPv(pv)} ${u.archOf(pv)}`).sort()).toEqual(['libc amd64', 'libc:i386 i386']);
  });

  it('survives the binary cache', () => {
    const key = Buffer.alloc(32, 7);
    const r = decodeUniverse(encodeUniverse(u, key), key);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const v = r.universe;
    expect(v.multiarch).toBe(true);
    expect(depCands(v, 'app:i386', 0)).toEqual(depCands(u, 'app:i386', 0));
    expect(Array.from(v.conflictsOf(v.findPv('libc', '2', 'amd64')), (q) => v.nameOfPv(q))).toEqual(['libc:i386']);
  });

  it('without foreign architectures, i386 versions keep the single-architecture meaning', () => {
    const single = build([]);
    expect(single.multiarch).toBe(false);
    expect(single.nameId('libc:i386')).toBe(-1);
    expect(Array.from(single.versionsOf(single.nameId('libc')), (pv) => single.archOf(pv)).sort()).toEqual(['amd64', 'i386', 'i386']);
    expect(single.conflictsOf(single.findPv('libc', '2', 'amd64')).length).toBe(0);
  });
});

describe('multiarch solving', () => {
  const u = build();
  const solve = (installed: Array<[string, string, string]>, items: string[], keepInstalled = true) => {
    const pvs = installed.map(([n, v, a]) => u.findInstalledPv(n, v, a));
    const problem = createUniverseProblem(u, pvs);
    const request: RequestItem[] = items.map((t) => ({ kind: 'install', ...parseRequestSpec(t) }));
    return solveRequest(problem, { items: request }, { recommends: false, keepInstalled, maxResolutions: 0 });
  };
  const changes = (r: ReturnType<typeof solve>): string[] => (r.kind === 'solution' ? r.transaction.map((c) => `${c.action} ${c.name} ${c.to ?? c.from}`).sort() : [r.kind]);

  it('installs a foreign version as name:arch beside the native one (Multi-Arch: same, same version)', () => {
    expect(changes(solve([['libc', '2', 'amd64']], ['libc:i386=2']))).toEqual(['install libc:i386 2']);
  });

  it('Multi-Arch: same at another version is refused while the native version stays', () => {
    expect(changes(solve([['libc', '2', 'amd64']], ['libc:i386=3']))).toEqual(['conflict']);
  });

  it('a non-same package replaces its other architecture only when a removal is allowed', () => {
    expect(changes(solve([['plain', '1', 'amd64']], ['plain:i386']))).toEqual(['conflict']);
    expect(changes(solve([['plain', '1', 'amd64']], ['plain:i386'], false))).toEqual(['install plain:i386 1', 'remove plain 1']);
  });

  it('an unqualified request means the native architecture', () => {
    expect(changes(solve([], ['plain']))).toEqual(['install plain 1']);
  });

  it('a request for an architecture no loaded index has is an error that says so (not "no version matches")', () => {
    const single = createUniverse(recordsFromYaml([{ name: 'zlib', version: '1' }]), { hostArch: 'amd64' });
    const ask = (v: Universe, t: string) => () => solveRequest(createUniverseProblem(v, []), { items: [{ kind: 'install', ...parseRequestSpec(t) }] }, { recommends: false, maxResolutions: 0 });
    expect(ask(single, 'zlib:i386')).toThrow(/no i386 packages are loaded, so there is no zlib:i386 \(the loaded indexes have amd64\)/);
    expect(ask(u, 'libc:i368')).toThrow(/no i368 packages are loaded/);
    expect(ask(single, 'zlib:amd64')).not.toThrow();
  });

  it('an unqualified request means the native package even when the foreign one is Multi-Arch: foreign (apt install jq is jq:amd64)', () => {
    const v = createUniverse(recordsFromYaml([
      { name: 'jq', version: '1', 'multi-arch': 'foreign', depends: 'libjq' },
      { name: 'jq', version: '1', architecture: 'i386', 'multi-arch': 'foreign', depends: 'libjq' },
      { name: 'libjq', version: '1', 'multi-arch': 'same' },
      { name: 'libjq', version: '1', architecture: 'i386', 'multi-arch': 'same' },
      // only a foreign one: the request falls to it
      { name: 'only386', version: '1', architecture: 'i386', 'multi-arch': 'foreign' },
    ]), { hostArch: 'amd64', foreignArchs: ['i386'] });
    const one = (t: string): string[] => {
      const r = solveRequest(createUniverseProblem(v, []), { items: [{ kind: 'install', ...parseRequestSpec(t) }] }, { recommends: false, maxResolutions: 0 });
      return r.kind === 'solution' ? r.transaction.map((c) => `${c.action} ${c.name}`).sort() : [r.kind];
    };
    expect(one('jq')).toEqual(['install jq', 'install libjq']);
    expect(one('jq:i386')).toEqual(['install jq:i386', 'install libjq:i386']);
    expect(one('only386')).toEqual(['install only386:i386']);
  });

  it("a host's view holds a foreign architecture only when the host enables it", () => {
    const none = new Uint8Array(u.pvCount);
    const with386 = createPolicyView(createAptPolicy(u, { foreignArchitectures: ['i386'] }), none);
    const without = createPolicyView(createAptPolicy(u, { foreignArchitectures: [] }), none);
    expect(with386.versionsOf('libc:i386').length).toBe(1); // the candidate
    expect(without.versionsOf('libc:i386').length).toBe(0);
    expect(without.versionsOf('libc').length).toBe(1);
  });

  it('a pin naming a package without an architecture pins it in every architecture', () => {
    const policy = createAptPolicy(u, { foreignArchitectures: ['i386'], pins: [{ packages: ['libc'], pin: { kind: 'version', pattern: '2' }, priority: 990 }] });
    const none = new Uint8Array(u.pvCount);
    expect(u.versionOf(policy.candidateOf(u.nameId('libc:i386'), none))).toBe('2');
  });
});
