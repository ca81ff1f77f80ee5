/**
 * Multiarch (amd64 native, i386 foreign) checked against apt itself (package apt): a directory
 * root with i386 enabled (`var/lib/dpkg/arch`, `APT::Architectures { "amd64"; "i386"; }`) reads
 * a repository with an amd64 and an i386 index; Rollwise reads the same two indexes and the same
 * dpkg status into a universe with i386 as a foreign architecture, and both answer the same
 * `apt-get -s install ...` requests: installable or not, and the name, architecture and version
 * of every package either side changes.
 *
 * Data. There is no i386 index in the shared Debian data, so the i386 index is made here: the
 * dependency closure of a few real bookworm packages (libc6, zlib1g, libstdc++6, libgcc-s1,
 * gcc-12-base, libssl3, xz-utils (Multi-Arch: foreign), make and perl (Multi-Arch: allowed))
 * taken from bookworm-main-amd64.Packages.xz with `Architecture: amd64` relabelled
 * `Architecture: i386` (arch:all stanzas stay `all`, as in a real i386 index). The amd64 index is
 * the same closure unchanged. Hand-made packages cover what that data lacks: Multi-Arch: same
 * version skew, `:any` on allowed/foreign/no packages and on provided names, `:native`, dependencies of a foreign
 * package on native-only, arch:all and provided names, an unqualified Conflicts across
 * architectures, and a foreign package replacing a native one that is not Multi-Arch: same.
 *
 * EDSP: on the same root, `apt-get -s --solver rollwise install ...` (the solver placed by
 * `rollwise edsp install --dir`; apt sends packages of both architectures and
 * `Architectures: amd64 i386`) must give apt's own answers on the multiarch requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readDecompressed } from '../../src/kb/index.js';
import { UniverseBuilder, addDebianPackagesFast, loadDebianUniverse, type InstalledState, type Universe } from '../../src/universe/index.js';
import { createAptPolicy, createPolicyView, parseRequestSpec, solveRequest, type AptPolicy } from '../../src/solver/index.js';
import { readHostAptConfig } from '../../src/fleet/index.js';
import { runCli } from '../helpers/cli.js';
import { closureNames, stanzasOf } from '../helpers/stanzas.js';

const DATA = path.resolve(__dirname, '../../../shared/data/debian');
const SEEDS = ['libc6', 'zlib1g', 'libstdc++6', 'libgcc-s1', 'gcc-12-base', 'libssl3', 'xz-utils', 'make', 'perl'];
/** Installed amd64 base (zlib1g at an older version than the archive's). */
const BASE = ['libc6', 'libgcc-s1', 'gcc-12-base', 'liblzma5', 'xz-utils', 'zlib1g'];
const OLD_ZLIB = '1:1.2.13.dfsg-0.9';

function stanza(fields: Record<string, string>): string {
  return Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n');
}
function pkg(name: string, version: string, arch: string, extra: Record<string, string> = {}): string {
  return stanza({ Package: name, Version: version, Architecture: arch, Maintainer: 'Rollwise Tests <tests@example.org>', ...extra, Filename: `pool/${name}_${version}_${arch}.deb`, Size: '1000', Description: `multiarch test package ${name}` });
}

/** Hand-made packages: [amd64 index stanzas, i386 index stanzas, installed amd64 stanzas]. */
const HAND_AMD64 = [
  pkg('mas', '1.0', 'amd64', { 'Multi-Arch': 'same' }),
  pkg('mas', '1.1', 'amd64', { 'Multi-Arch': 'same' }),
  pkg('skew', '2.0', 'amd64', { 'Multi-Arch': 'same' }),
  pkg('tool', '1.0', 'amd64'),
  pkg('mallowed', '1', 'amd64', { 'Multi-Arch': 'allowed' }),
  pkg('mno', '1', 'amd64'),
  pkg('mfor', '1', 'amd64', { 'Multi-Arch': 'foreign' }),
  pkg('datano', '1', 'all'),
  pkg('datafor', '1', 'all', { 'Multi-Arch': 'foreign' }),
  pkg('vprov', '1', 'amd64', { Provides: 'virt' }),
  pkg('vprovf', '1', 'amd64', { Provides: 'virtf', 'Multi-Arch': 'foreign' }),
  pkg('needvirti', '1', 'amd64', { Depends: 'virti' }),
  pkg('needanyvirti', '1', 'amd64', { Depends: 'virti:any' }),
  pkg('vprova', '1', 'amd64', { Provides: 'virta', 'Multi-Arch': 'allowed' }),
  pkg('selfc', '1', 'amd64', { 'Multi-Arch': 'same', Conflicts: 'selfc', Breaks: 'selfc (<< 1)' }),
];
const HAND_I386 = [
  pkg('mas', '1.1', 'i386', { 'Multi-Arch': 'same' }),
  pkg('skew', '1.0', 'i386', { 'Multi-Arch': 'same' }),
  pkg('tool', '1.0', 'i386'),
  pkg('anydep', '1', 'i386', { Depends: 'mallowed:any' }),
  pkg('anyno', '1', 'i386', { Depends: 'mno:any' }),
  pkg('anyfor', '1', 'i386', { Depends: 'mfor:any' }),
  pkg('natdep', '1', 'i386', { Depends: 'mno:native' }),
  pkg('plaindep', '1', 'i386', { Depends: 'mno' }),
  pkg('fordep', '1', 'i386', { Depends: 'mfor' }),
  pkg('alldepno', '1', 'i386', { Depends: 'datano' }),
  pkg('alldepfor', '1', 'i386', { Depends: 'datafor' }),
  pkg('vuser', '1', 'i386', { Depends: 'virt' }),
  pkg('vuserf', '1', 'i386', { Depends: 'virtf' }),
  pkg('cfl', '1', 'i386', { Conflicts: 'tool' }),
  pkg('anyvirt', '1', 'i386', { Depends: 'virt:any' }),
  pkg('anyvirtf', '1', 'i386', { Depends: 'virtf:any' }),
  pkg('provi', '1', 'i386', { Provides: 'virti' }),
  pkg('anyvirta', '1', 'i386', { Depends: 'virta:any' }),
  pkg('anyvirta2', '1', 'i386', { Depends: 'virta' }),
  pkg('selfc', '1', 'i386', { 'Multi-Arch': 'same', Conflicts: 'selfc', Breaks: 'selfc (<< 1)' }),
  pkg('datano', '1', 'all'),
  pkg('datafor', '1', 'all', { 'Multi-Arch': 'foreign' }),
];
const HAND_INSTALLED = [
  pkg('mas', '1.0', 'amd64', { 'Multi-Arch': 'same' }),
  pkg('skew', '2.0', 'amd64', { 'Multi-Arch': 'same' }),
  pkg('tool', '1.0', 'amd64'),
  pkg('selfc', '1', 'amd64', { 'Multi-Arch': 'same', Conflicts: 'selfc', Breaks: 'selfc (<< 1)' }),
];

interface Case {
  item: string;
  /** Removals allowed (apt without --no-remove; Rollwise without keepInstalled). */
  remove?: boolean;
}
const CASES: Case[] = [
  { item: 'libc6:i386' }, { item: 'zlib1g:i386' }, { item: 'libstdc++6:i386' }, { item: 'libssl3:i386' }, { item: 'gcc-12-base:i386' },
  { item: 'make:i386' }, { item: 'perl:i386' }, { item: 'xz-utils:i386', remove: true }, { item: 'xz-utils:i386' }, { item: 'zlib1g' },
  { item: 'mas:i386' }, { item: 'mas:i386=1.1' }, { item: 'skew:i386' }, { item: 'tool:i386', remove: true }, { item: 'tool:i386' },
  { item: 'anydep:i386' }, { item: 'anyno:i386' }, { item: 'anyfor:i386' }, { item: 'natdep:i386' }, { item: 'plaindep:i386' },
  { item: 'fordep:i386' }, { item: 'alldepno:i386' }, { item: 'alldepfor:i386' }, { item: 'vuser:i386' }, { item: 'vuserf:i386' },
  { item: 'cfl:i386' }, { item: 'cfl:i386', remove: true }, { item: 'make' }, { item: 'libssl3:i386=3.0.20-1~deb12u2' }, { item: 'mno' },
  { item: 'anyvirt:i386' }, { item: 'anyvirtf:i386' }, { item: 'needvirti' }, { item: 'needanyvirti' }, { item: 'anyvirta:i386' }, { item: 'anyvirta2:i386' }, { item: 'selfc:i386' },
];

function run(file: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? 1 : 0, stdout, stderr });
    });
  });
}

/** apt's package name as Rollwise prints it: native and `all` without a qualifier. */
function normalName(n: string): string {
  return n.replace(/:(amd64|all)$/, '');
}

let work: string;
let root: string;
let indexFiles: string[];
let universe: Universe;
let installed: InstalledState;
let policy: AptPolicy;
const rows: string[] = [];

beforeAll(async () => {
  if (!existsSync('/usr/bin/apt-get')) throw new Error('/usr/bin/apt-get is missing: apt-get install apt');
  const src = path.join(DATA, 'bookworm-main-amd64.Packages.xz');
  if (!existsSync(src)) throw new Error(`${src} is missing (the shared Debian indexes)`);
  work = mkdtempSync(path.join(tmpdir(), 'rw-multiarch-'));
  const bytes = await readDecompressed(src);
  const b = new UniverseBuilder({ hostArch: 'amd64' });
  addDebianPackagesFast(b, bytes, src, { name: 'bookworm' });
  const whole = b.build();
  const keep = closureNames(whole, SEEDS);
  const stanzas = stanzasOf(bytes.toString('latin1'));
  const amd64: string[] = [];
  const i386: string[] = [];
  for (const n of keep) {
    for (const s of stanzas.get(n) ?? []) {
      amd64.push(s);
      i386.push(s.replace(/^Architecture: amd64$/m, 'Architecture: i386'));
    }
  }
  root = path.join(work, 'root');
  const lists = path.join(root, 'var/lib/apt/lists');
  for (const d of ['etc/apt/apt.conf.d', 'etc/apt/preferences.d', 'etc/apt/sources.list.d', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial', 'var/lib/dpkg/updates', 'var/lib/dpkg/info', 'var/log']) mkdirSync(path.join(root, d), { recursive: true });
  const stem = '_rw_ma_dists_bookworm';
  const amd64File = path.join(lists, `${stem}_main_binary-amd64_Packages`);
  const i386File = path.join(lists, `${stem}_main_binary-i386_Packages`);
  writeFileSync(amd64File, [...amd64, ...HAND_AMD64].join('\n\n') + '\n', 'latin1');
  writeFileSync(i386File, [...i386, ...HAND_I386].join('\n\n') + '\n', 'latin1');
  writeFileSync(path.join(lists, `${stem}_Release`), ['Origin: Debian', 'Label: Debian', 'Suite: bookworm', 'Codename: bookworm', 'Components: main', 'Architectures: amd64 i386', ''].join('\n'));
  writeFileSync(path.join(root, 'etc/apt/sources.list'), 'deb [trusted=yes] file:/rw/ma bookworm main\n');
  writeFileSync(path.join(root, 'var/lib/dpkg/arch'), 'amd64\ni386\n');
  const status = BASE.map((n) => {
    let s = stanzas.get(n)![0]!;
    if (n === 'zlib1g') s = s.replace(/^Version: .*$/m, `Version: ${OLD_ZLIB}`);
    return s.replace(/^(Package: .*)$/m, '$1\nStatus: install ok installed');
  });
  for (const s of HAND_INSTALLED) status.push(s.replace(/^(Package: .*)$/m, '$1\nStatus: install ok installed'));
  writeFileSync(path.join(root, 'var/lib/dpkg/status'), status.join('\n\n') + '\n');
  writeFileSync(path.join(root, 'apt.conf'), [
    `Dir "${root}/";`, `Dir::State::status "${root}/var/lib/dpkg/status";`, `Dir::Etc "${root}/etc/apt/";`, `Dir::Cache "${root}/var/cache/apt/";`,
    `Dir::State "${root}/var/lib/apt/";`, `Dir::Log "${root}/var/log/apt/";`, 'APT::Architecture "amd64";', 'APT::Architectures { "amd64"; "i386"; };',
    'Debug::NoLocking "true";', 'APT::Sandbox::User "root";', `DPkg::Options { "--root=${root}"; "--log=${root}/var/log/dpkg.log"; "--force-script-chrootless"; };`, '',
  ].join('\n'));
  // Rollwise: the same files, the host's foreign architectures read from its root
  indexFiles = [amd64File, i386File];
  const config = readHostAptConfig(root, 'amd64');
  expect(config.foreignArchitectures).toEqual(['i386']);
  const loaded = await loadDebianUniverse([amd64File, i386File], { hostArch: 'amd64', foreignArchs: config.foreignArchitectures, status: { path: path.join(root, 'var/lib/dpkg/status'), host: 'ma' } });
  universe = loaded.universe;
  installed = loaded.installed!;
  expect(installed.unmatched).toEqual([]);
  policy = createAptPolicy(universe, { foreignArchitectures: config.foreignArchitectures });
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function aptInstall(c: Case, solver?: string): Promise<{ ok: boolean; changes: Map<string, string>; errors: string }> {
  const args = ['-s', '-q', '-o', `Dir=${root}/`, '-o', 'APT::Get::Assume-Yes=true', '--no-install-recommends', ...(c.remove ? [] : ['--no-remove'])];
  if (solver) args.push('-o', `Dir::Bin::Solvers=${solver}`, '--solver', 'rollwise');
  args.push('install', c.item);
  const r = await run('/usr/bin/apt-get', args, { APT_CONFIG: path.join(root, 'apt.conf'), DEBIAN_FRONTEND: 'noninteractive' });
  const changes = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^Inst (\S+) (?:\[\S+\] )?\((\S+) /.exec(line);
    if (m) changes.set(normalName(m[1]!), m[2]!);
    const rm = /^Remv (\S+)/.exec(line);
    if (rm) changes.set(normalName(rm[1]!), '(removed)');
  }
  return { ok: r.code === 0, changes, errors: (r.stdout + r.stderr).split('\n').filter((l) => /^E:|^ \S+ : /.test(l)).join(' | ') };
}

function rollwiseInstall(c: Case): { ok: boolean; changes: Map<string, string>; why: string } {
  const spec = parseRequestSpec(c.item, 'test');
  let version = spec.version;
  const explicit: number[] = [];
  const id = universe.nameIdOfSpec(spec.name, spec.archQualifier);
  if (version === undefined) {
    const cand = id < 0 ? -1 : policy.candidateOf(id, toBytes());
    if (cand < 0) return { ok: false, changes: new Map(), why: 'no candidate' };
    version = universe.versionOf(cand);
  } else {
    for (const pv of universe.versionsOf(id)) if (universe.versionOf(pv) === version) explicit.push(pv);
  }
  const inst = toBytes();
  const set = createPolicyView(policy, inst, explicit);
  const r = solveRequest({ set, installed: inst }, { items: [{ kind: 'install', ...spec, op: '=', version }] }, { recommends: false, keepInstalled: !c.remove, maxResolutions: 0 });
  const changes = new Map<string, string>();
  if (r.kind !== 'solution') return { ok: false, changes, why: r.kind };
  for (const ch of r.transaction) changes.set(ch.name, ch.action === 'remove' || ch.action === 'purge' ? '(removed)' : ch.to!);
  return { ok: true, changes, why: '' };
}

function toBytes(): Uint8Array {
  const out = new Uint8Array(universe.pvCount);
  for (const pv of installed.pvs) out[pv] = 1;
  return out;
}

function show(m: ReadonlyMap<string, string>): string {
  return [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, v]) => `${n}=${v}`).join(' ');
}

describe('multiarch: apt-get -s install on an amd64 root with i386 enabled, against Rollwise', () => {
  it('the universe holds the i386 versions as name:i386 and the installed amd64 ones natively', () => {
    expect(universe.multiarch).toBe(true);
    expect(universe.versionsOf(universe.nameId('libc6:i386')).length).toBeGreaterThan(0);
    expect(Array.from(universe.versionsOf(universe.nameId('libc6')), (pv) => universe.archOf(pv))).toEqual(['amd64']);
    expect(installed.pvs.length).toBe(BASE.length + HAND_INSTALLED.length);
  });

  it(`agrees on ${CASES.length} requests: installable or not, and every package changed (name, architecture, version)`, async () => {
    const disagreements: string[] = [];
    let installable = 0;
    for (const c of CASES) {
      const [apt, rw] = [await aptInstall(c), rollwiseInstall(c)];
      if (apt.ok) installable++;
      const label = `${c.item}${c.remove ? ' (removals allowed)' : ''}`;
      rows.push(`${label}: apt ${apt.ok ? show(apt.changes) : `no (${apt.errors})`} | rollwise ${rw.ok ? show(rw.changes) : `no (${rw.why})`}`);
      if (apt.ok !== rw.ok) { disagreements.push(`${label}: apt ${apt.ok ? 'installs' : 'refuses'} (${apt.errors || show(apt.changes)}), Rollwise ${rw.ok ? `installs ${show(rw.changes)}` : `refuses (${rw.why})`}`); continue; }
      if (apt.ok && show(apt.changes) !== show(rw.changes)) disagreements.push(`${label}: apt ${show(apt.changes)} | Rollwise ${show(rw.changes)}`);
    }
    console.log(rows.join('\n'));
    expect(disagreements).toEqual([]);
    // both outcomes occur (the cases are not all trivially one way)
    expect(installable).toBeGreaterThan(10);
    expect(installable).toBeLessThan(CASES.length);
  }, 300_000);

  it('apt-get --solver rollwise (EDSP) gives apt\'s own answers on multiarch requests', async () => {
    const solvers = path.join(work, 'solvers');
    const placed = runCli(['edsp', 'install', '--dir', solvers]);
    expect(placed.status, placed.stderr).toBe(0);
    const edspCases = CASES.filter((c) => !c.remove && /:i386/.test(c.item) && !/^(perl|tool|xz-utils|cfl|anyfor|alldepno|vuser):/.test(c.item));
    expect(edspCases.length).toBeGreaterThanOrEqual(10);
    const disagreements: string[] = [];
    for (const c of edspCases) {
      const [internal, external] = [await aptInstall(c), await aptInstall(c, solvers)];
      if (internal.ok !== external.ok || show(internal.changes) !== show(external.changes)) {
        disagreements.push(`${c.item}: apt ${internal.ok ? show(internal.changes) : `no (${internal.errors})`} | --solver rollwise ${external.ok ? show(external.changes) : `no (${external.errors})`}`);
      }
    }
    expect(disagreements).toEqual([]);
  }, 300_000);

  it('rollwise solve --root on that root installs zlib1g:i386, naming it apt\'s way', () => {
    const r = runCli(['solve', '--root', root, ...indexFiles.flatMap((f) => ['--index', f]), '--install', 'zlib1g:i386', '--no-recommends']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\s*install\s+zlib1g:i386 1:1\.2\.13\.dfsg-1 \(i386\)$/m);
    expect(r.stdout).toMatch(/^\s*upgrade\s+zlib1g 1:1\.2\.13\.dfsg-0\.9 -> 1:1\.2\.13\.dfsg-1$/m);
    expect(r.stdout).toMatch(/^\s*install\s+libc6:i386 /m);
  }, 120_000);
});
