/**
 * Rollwise's apt policy checked against apt itself (package apt). Directory-root hosts with
 * real apt read the same repositories, Release facts, preferences and target release as the
 * Rollwise host; on 121 seeded requests (8 of them `name/release`) drawn from bookworm (main, -updates, -security, and a
 * NotAutomatic "backports" copy of -security) and bullseye, `apt-cache policy` candidates and
 * `apt-get -s install` outcomes (installable or not; the version of every package both sides
 * change, the requested one included) must agree. Six hosts: default priorities with security
 * updates; general and specific pins (release l=/a=/n=/o=, version globs, name globs and
 * /regexes/, negative, 990); a NotAutomatic repository with a pin raising some packages; a target
 * release (APT::Default-Release); bullseye; and a host installed from -security whose pins of
 * 1001 on the point release make candidates downgrades.
 *
 * Index sample: apt-get -s takes seconds per call on the whole archive, so each repository is
 * cut down to the dependency closure (every version, Depends and Pre-Depends with their
 * providers) of the installed base and the requested packages. Packages outside that closure
 * can never be installed by these requests (Recommends are off on both sides), so the answers
 * are those of the whole archive. Requests are `apt-get install NAME` (Rollwise: install NAME
 * at its candidate, which is what apt's install means) and `apt-get install NAME=VERSION` for a
 * version that is not the candidate (Rollwise: the same exact version, admitted as apt admits it),
 * and on the backports host `apt-get install NAME/bookworm-backports` (Rollwise: the `name/release`
 * item resolved under the host's policy, resolveReleaseItems).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readDecompressed } from '../../src/kb/index.js';
import { UniverseBuilder, addDebianPackagesFast, type ReleaseFacts, type Universe } from '../../src/universe/index.js';
import { createAptPolicy, createPolicyView, solveRequest, type AptPolicy, type RequestItem } from '../../src/solver/index.js';
import { aptPolicyInputOf, parsePreferences, parseSourcesList, resolveReleaseItems, type HostAptConfig } from '../../src/fleet/index.js';
import { createPrng } from '../helpers/prng.js';
import { closureNames, stanzasOf } from '../helpers/stanzas.js';

const DATA = path.resolve(__dirname, '../../../shared/data/debian');

interface Repo {
  /** Key and list-file stem. */
  id: string;
  file: string;
  uriPath: string;
  suite: string;
  release: ReleaseFacts;
}

const RELEASE_BOOKWORM: ReleaseFacts = { origin: 'Debian', label: 'Debian', suite: 'oldstable', codename: 'bookworm', version: '12.13' };
const REPOS: Repo[] = [
  { id: 'bookworm', file: 'bookworm-main-amd64.Packages.xz', uriPath: '/rw/debian', suite: 'bookworm', release: RELEASE_BOOKWORM },
  { id: 'bookworm-updates', file: 'bookworm-updates-main-amd64.Packages.xz', uriPath: '/rw/debian', suite: 'bookworm-updates', release: { origin: 'Debian', label: 'Debian', suite: 'oldstable-updates', codename: 'bookworm-updates', version: '12-updates' } },
  { id: 'bookworm-security', file: 'bookworm-security-main-amd64.Packages.xz', uriPath: '/rw/debian-security', suite: 'bookworm-security', release: { origin: 'Debian', label: 'Debian-Security', suite: 'oldstable-security', codename: 'bookworm-security', version: '12' } },
  // the security index again, as a NotAutomatic repository with newer versions (like backports)
  { id: 'bookworm-backports', file: 'bookworm-security-main-amd64.Packages.xz', uriPath: '/rw/backports', suite: 'bookworm-backports', release: { origin: 'Debian Backports', label: 'Debian Backports', suite: 'bookworm-backports', codename: 'bookworm-backports', version: '12-bpo', notAutomatic: true } },
  { id: 'bullseye', file: 'bullseye-main-amd64.Packages.xz', uriPath: '/rw/debian', suite: 'bullseye', release: { origin: 'Debian', label: 'Debian', suite: 'oldoldstable', codename: 'bullseye', version: '11.11' } },
];

interface HostSpec {
  name: string;
  repos: string[];
  preferences: string;
  defaultRelease?: string;
  /** Base system from these repositories (installed versions: their candidates). */
  baseFrom: string[];
  /** Requested first (then seeded draws). */
  first?: string[];
  /** Requests of the form NAME=VERSION for a non-candidate version. */
  explicit: number;
  plain: number;
  /** Requests of the form NAME/RELEASE (apt-get install nginx/bookworm-backports) for names that release has. */
  fromRelease?: { release: string; count: number };
}

const BASE = ['bash', 'coreutils', 'openssl', 'curl', 'openssh-client', 'perl-base', 'libpq5', 'python3-minimal'];

const HOSTS: HostSpec[] = [
  { name: 'bw-default', repos: ['bookworm', 'bookworm-updates', 'bookworm-security'], preferences: '', baseFrom: ['bookworm'], explicit: 4, plain: 20 },
  {
    name: 'bw-pinned', repos: ['bookworm', 'bookworm-updates', 'bookworm-security'], baseFrom: ['bookworm'], explicit: 4, plain: 18,
    preferences: [
      '# security held back by default, with exceptions',
      'Package: *', 'Pin: release l=Debian-Security', 'Pin-Priority: 100', '',
      'Package: openssl libssl3', 'Pin: version 3.0.20*', 'Pin-Priority: 1001', '',
      'Package: curl libcurl*', 'Pin: release a=oldstable-security', 'Pin-Priority: -1', '',
      'Package: /^libpq/ /^postgresql-client/', 'Pin: release n=bookworm-security', 'Pin-Priority: 990', '',
      'Package: python3*', 'Pin: release o=Debian,n=bookworm', 'Pin-Priority: 50', '',
    ].join('\n'),
  },
  {
    name: 'bw-backports', repos: ['bookworm', 'bookworm-backports'], baseFrom: ['bookworm'], explicit: 8, plain: 14, fromRelease: { release: 'bookworm-backports', count: 8 },
    preferences: ['Package: openssh-* /^libssh/', 'Pin: release a=bookworm-backports', 'Pin-Priority: 500', ''].join('\n'),
  },
  { name: 'bw-target', repos: ['bookworm', 'bookworm-updates', 'bookworm-security'], preferences: '', defaultRelease: 'bookworm', baseFrom: ['bookworm'], explicit: 4, plain: 16 },
  {
    name: 'bullseye', repos: ['bullseye'], baseFrom: ['bullseye'], explicit: 0, plain: 22,
    preferences: ['Package: tzdata', 'Pin: version 2021*', 'Pin-Priority: 700', '', 'Package: nonexistent-*', 'Pin: release n=bullseye', 'Pin-Priority: -10', ''].join('\n'),
  },
  {
    // installed from security, pinned back to the point release above 1000: candidates are downgrades
    name: 'bw-downgrade', repos: ['bookworm', 'bookworm-security'], baseFrom: ['bookworm', 'bookworm-security'], explicit: 2, plain: 8,
    first: ['openssl', 'libssl3', 'perl-base', 'curl', 'libcurl4'],
    preferences: ['Package: openssl libssl3 /^libcurl/ curl', 'Pin: release n=bookworm', 'Pin-Priority: 1001', ''].join('\n'),
  },
];

function run(file: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? (error as unknown as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function requireApt(): { aptGet: string; aptCache: string } {
  for (const t of ['/usr/bin/apt-get', '/usr/bin/apt-cache']) if (!existsSync(t)) throw new Error(`${t} is missing: apt-get install apt`);
  return { aptGet: '/usr/bin/apt-get', aptCache: '/usr/bin/apt-cache' };
}

function listStem(r: Repo): string {
  return `${r.uriPath.replace(/\//g, '_')}_dists_${r.suite}`;
}

function releaseText(f: ReleaseFacts): string {
  const lines = [`Origin: ${f.origin}`, `Label: ${f.label}`, `Suite: ${f.suite}`, `Codename: ${f.codename}`, `Version: ${f.version}`];
  if (f.notAutomatic) lines.push('NotAutomatic: yes');
  if (f.butAutomaticUpgrades) lines.push('ButAutomaticUpgrades: yes');
  lines.push('Components: main', 'Architectures: amd64', '');
  return lines.join('\n');
}

/** One layer per repository, in REPOS order (layer index = position in REPOS). */
function buildUniverse(files: Map<string, string>): Universe {
  const b = new UniverseBuilder({ hostArch: 'amd64' });
  for (const r of REPOS) {
    const file = files.get(r.id)!;
    addDebianPackagesFast(b, readFileSync(file), file, { name: `debian:${r.id}`, source: file, trust: 'distribution', release: { ...r.release, component: 'main', architecture: 'amd64' } });
  }
  return b.build();
}

interface Case { host: string; item: string; name: string; version?: string; release?: string }
interface HostRun {
  spec: HostSpec;
  root: string;
  config: HostAptConfig;
  policy: AptPolicy;
  installed: Uint8Array;
  cases: Case[];
}

let work: string;
let universe: Universe;
const hosts: HostRun[] = [];
const disagreements: string[] = [];
/** Requests where Rollwise deliberately answers otherwise, each with the reason. */
const deliberate: string[] = [];
let compared = 0;
let aptMs = 0;

beforeAll(async () => {
  requireApt();
  const started = performance.now();
  work = mkdtempSync(path.join(tmpdir(), 'rw-apt-agree-'));
  // 1. the whole indexes, to draw requests and closures from
  const full = new Map<string, string>();
  const texts = new Map<string, string>();
  for (const r of REPOS) {
    const src = path.join(DATA, r.file);
    if (!existsSync(src)) throw new Error(`${src} is missing (the shared Debian indexes)`);
    if (!texts.has(r.file)) {
      const text = (await readDecompressed(src)).toString('latin1');
      texts.set(r.file, text);
      const plain = path.join(work, r.file.replace(/\.xz$/, ''));
      writeFileSync(plain, text, 'latin1');
    }
    full.set(r.id, path.join(work, r.file.replace(/\.xz$/, '')));
  }
  const whole = buildUniverse(full);
  const rng = createPrng(20261204);
  // 2. per host: base system (solved on its base repository alone), requests, closure
  const keep = new Map<string, Set<string>>(REPOS.map((r) => [r.id, new Set<string>()]));
  const plans: Array<{ spec: HostSpec; base: Array<{ name: string; version: string; arch: string }>; picks: string[] }> = [];
  const securityNames = [...stanzasOf(texts.get('bookworm-security-main-amd64.Packages.xz')!).keys()];
  for (const spec of HOSTS) {
    const layers = new Set(spec.repos.map((id) => REPOS.findIndex((r) => r.id === id)));
    const basePolicy = createAptPolicy(whole, { repositories: new Set(spec.baseFrom.map((id) => REPOS.findIndex((r) => r.id === id))) });
    const none = new Uint8Array(whole.pvCount);
    const baseView = createPolicyView(basePolicy, none);
    const solved = solveRequest({ set: baseView, installed: none }, { items: BASE.map((name): RequestItem => ({ kind: 'install', name })) }, { recommends: false });
    if (solved.kind !== 'solution') throw new Error(`base system of ${spec.name} does not solve`);
    const base = solved.installedAfter.map((pv) => ({ name: whole.nameOfPv(pv), version: whole.versionOf(pv), arch: whole.archOf(pv) }));
    // requests: packages with security updates (bookworm) and any package, with a small closure
    const pool = spec.baseFrom.includes('bullseye') ? [] : securityNames;
    const picks: string[] = [...(spec.first ?? [])];
    const tries = spec.plain + spec.explicit;
    for (let attempt = 0; picks.length < tries && attempt < 5000; attempt++) {
      const fromPool = pool.length > 0 && rng() < 0.6;
      const name = fromPool ? pool[Math.floor(rng() * pool.length)]! : whole.nameOf(Math.floor(rng() * whole.nameCount));
      const id = whole.nameId(name);
      if (id < 0 || !whole.isReal(id) || picks.includes(name)) continue;
      if (!Array.from(whole.versionsOf(id)).some((pv) => whole.layerIndexesOf(pv).some((l) => layers.has(l)) && (whole.archOf(pv) === 'amd64' || whole.archOf(pv) === 'all'))) continue;
      if (closureNames(whole, [name], { layers, limit: 250 }).size > 250) continue;
      picks.push(name);
    }
    for (const n of closureNames(whole, [...base.map((b) => b.name), ...picks], { layers })) for (const id of spec.repos) keep.get(id)!.add(n);
    plans.push({ spec, base, picks });
  }
  // 3. the sampled repositories (the same files for apt and for Rollwise)
  const sampled = new Map<string, string>();
  for (const r of REPOS) {
    const stanzas = stanzasOf(texts.get(r.file)!);
    const out: string[] = [];
    for (const n of keep.get(r.id)!) for (const s of stanzas.get(n) ?? []) out.push(s);
    const file = path.join(work, `${r.id}.Packages`);
    writeFileSync(file, out.join('\n\n') + '\n', 'latin1');
    sampled.set(r.id, file);
  }
  universe = buildUniverse(sampled);
  const mainStanzas = new Map<string, Map<string, string[]>>();
  for (const r of REPOS) if (!mainStanzas.has(r.id)) mainStanzas.set(r.id, stanzasOf(readFileSync(sampled.get(r.id)!, 'latin1')));
  // 4. one directory root per host
  for (const { spec, base, picks } of plans) {
    const root = path.join(work, spec.name);
    for (const d of ['etc/apt/apt.conf.d', 'etc/apt/preferences.d', 'etc/apt/sources.list.d', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial', 'var/lib/dpkg/updates', 'var/lib/dpkg/info', 'var/log']) mkdirSync(path.join(root, d), { recursive: true });
    const status = base.map((b) => {
      const s = spec.baseFrom.flatMap((id) => mainStanzas.get(id)!.get(b.name) ?? []).find((x) => new RegExp(`^Version: ${b.version.replace(/[.+~^$]/g, '\\$&')}$`, 'm').test(x));
      if (!s) throw new Error(`no stanza for installed ${b.name} ${b.version}`);
      return s.replace(/^(Package: .*)$/m, '$1\nStatus: install ok installed');
    });
    writeFileSync(path.join(root, 'var/lib/dpkg/status'), status.join('\n\n') + '\n');
    const lines = spec.repos.map((id) => { const r = REPOS.find((x) => x.id === id)!; return `deb [trusted=yes] file:${r.uriPath} ${r.suite} main`; });
    writeFileSync(path.join(root, 'etc/apt/sources.list'), lines.join('\n') + '\n');
    if (spec.preferences) writeFileSync(path.join(root, 'etc/apt/preferences'), spec.preferences);
    for (const id of spec.repos) {
      const r = REPOS.find((x) => x.id === id)!;
      symlinkSync(sampled.get(id)!, path.join(root, 'var/lib/apt/lists', `${listStem(r)}_main_binary-amd64_Packages`));
      writeFileSync(path.join(root, 'var/lib/apt/lists', `${listStem(r)}_Release`), releaseText(r.release));
    }
    writeFileSync(path.join(root, 'apt.conf'), [
      `Dir "${root}/";`, `Dir::State::status "${root}/var/lib/dpkg/status";`, `Dir::Etc "${root}/etc/apt/";`, `Dir::Cache "${root}/var/cache/apt/";`,
      `Dir::State "${root}/var/lib/apt/";`, `Dir::Log "${root}/var/log/apt/";`, 'APT::Architecture "amd64";', 'APT::Architectures { "amd64"; };',
      'Debug::NoLocking "true";', 'APT::Sandbox::User "root";', `DPkg::Options { "--root=${root}"; "--log=${root}/var/log/dpkg.log"; "--force-script-chrootless"; };`,
      ...(spec.defaultRelease ? [`APT::Default-Release "${spec.defaultRelease}";`] : []), '',
    ].join('\n'));
    // the Rollwise host: the same files, read by the fleet layer's parsers
    const sources = parseSourcesList(readFileSync(path.join(root, 'etc/apt/sources.list'), 'utf8'), path.join(root, 'etc/apt/sources.list'))
      .map((s) => ({ ...s, index: sampled.get(REPOS.find((r) => r.uriPath === s.uri.replace(/^file:/, '') && r.suite === s.suite)!.id)! }));
    const config: HostAptConfig = {
      sources, preferences: spec.preferences ? parsePreferences(spec.preferences, 'preferences') : [], architecture: 'amd64', foreignArchitectures: [],
      ...(spec.defaultRelease ? { defaultRelease: spec.defaultRelease } : {}),
    };
    const policy = createAptPolicy(universe, aptPolicyInputOf(universe, config));
    const installed = new Uint8Array(universe.pvCount);
    for (const b of base) {
      const pv = universe.findPv(b.name, b.version, b.arch);
      if (pv < 0) throw new Error(`installed ${b.name} ${b.version} not in the sample`);
      installed[pv] = 1;
    }
    // cases: plain installs, then exact versions that are not the candidate
    const cases: Case[] = picks.slice(0, spec.plain).map((name) => ({ host: spec.name, item: name, name }));
    for (const name of [...picks.slice(spec.plain), ...picks.slice(0, spec.plain)]) {
      if (cases.length >= spec.plain + spec.explicit) break;
      const id = universe.nameId(name);
      const cand = policy.candidateOf(id, installed);
      const other = Array.from(universe.versionsOf(id)).find((pv) => pv !== cand && !installed[pv] && policy.sees(pv, false) && (cand < 0 || universe.compareVersions(pv, cand) > 0));
      if (other === undefined) continue;
      cases.push({ host: spec.name, item: `${name}=${universe.versionOf(other)}`, name, version: universe.versionOf(other) });
    }
    // name/release: the release's version of requested names it has, dependencies switched as apt switches them
    const fromRelease = spec.fromRelease;
    if (fromRelease) {
      const layer = REPOS.findIndex((r) => r.id === fromRelease.release);
      const names = picks.filter((name) => Array.from(universe.versionsOf(universe.nameId(name))).some((pv) => universe.layerIndexesOf(pv).includes(layer)));
      for (const name of names.slice(0, fromRelease.count)) cases.push({ host: spec.name, item: `${name}/${fromRelease.release}`, name, release: fromRelease.release });
    }
    hosts.push({ spec, root, config, policy, installed, cases });
  }
  console.log(`setup: ${Math.round(performance.now() - started)} ms; sample: ${universe.pvCount} package versions in ${REPOS.length} repositories`);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function aptEnv(h: HostRun): Record<string, string> {
  return { APT_CONFIG: path.join(h.root, 'apt.conf'), DEBIAN_FRONTEND: 'noninteractive' };
}

/** `apt-cache policy NAMES...`: candidate per name ('(none)' → undefined). */
async function aptCandidates(h: HostRun, names: string[]): Promise<Map<string, string | undefined>> {
  const { aptCache } = requireApt();
  const r = await run(aptCache, ['-o', `Dir=${h.root}/`, 'policy', ...names], aptEnv(h));
  if (r.code !== 0) throw new Error(`apt-cache policy failed on ${h.spec.name}: ${r.stderr}`);
  const out = new Map<string, string | undefined>();
  let current: string | undefined;
  for (const line of r.stdout.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head) { current = head[1]!.replace(/:amd64$/, ''); continue; }
    const c = /^\s+Candidate: (\S+)/.exec(line);
    if (c && current) out.set(current, c[1] === '(none)' ? undefined : c[1]);
  }
  return out;
}

/** `apt-get -s install ITEM`: installable, and the version each changed package ends at. */
async function aptInstall(h: HostRun, item: string): Promise<{ ok: boolean; to: Map<string, string>; errors: string }> {
  const { aptGet } = requireApt();
  const r = await run(aptGet, ['-s', '-q', '-o', `Dir=${h.root}/`, '-o', `DPkg::Options::=--root=${h.root}`, '-o', 'APT::Get::Assume-Yes=true',
    '--no-install-recommends', '--no-remove', '--allow-downgrades', 'install', item], aptEnv(h));
  const to = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^Inst (\S+) (?:\[\S+\] )?\((\S+) /.exec(line);
    if (m) to.set(m[1]!.replace(/:amd64$/, ''), m[2]!);
    const rm = /^Remv (\S+)/.exec(line);
    if (rm) to.set(rm[1]!.replace(/:amd64$/, ''), '(removed)');
  }
  return { ok: r.code === 0, to, errors: (r.stdout + r.stderr).split('\n').filter((l) => /^E:|^ \S+ : /.test(l)).join(' | ') };
}

function rollwiseInstall(h: HostRun, c: Case): { ok: boolean; to: Map<string, string>; why: string; downgrades: number } {
  const id = universe.nameId(c.name);
  let version = c.version;
  let explicit: number[] = [];
  let overrides: Map<number, number> | undefined;
  if (c.release !== undefined) {
    const r = resolveReleaseItems(h.policy, h.installed, [{ kind: 'install', name: c.name, release: c.release }], false);
    const item = r.items[0]!;
    version = item.kind === 'install' ? item.version : undefined;
    overrides = r.overrides;
    explicit = Array.from(universe.versionsOf(id)).filter((pv) => universe.versionOf(pv) === version);
  } else if (version === undefined) {
    const cand = id < 0 ? -1 : h.policy.candidateOf(id, h.installed);
    if (cand < 0) return { ok: false, to: new Map(), why: 'no candidate', downgrades: 0 };
    version = universe.versionOf(cand);
  } else {
    explicit = Array.from(universe.versionsOf(id)).filter((pv) => universe.versionOf(pv) === version);
  }
  const set = createPolicyView(h.policy, h.installed, explicit, overrides);
  const r = solveRequest({ set, installed: h.installed }, { items: [{ kind: 'install', name: c.name, op: '=', version }] }, { recommends: false, keepInstalled: true, maxResolutions: 0 });
  const to = new Map<string, string>();
  if (r.kind !== 'solution') return { ok: false, to, why: r.kind, downgrades: 0 };
  for (const ch of r.transaction) to.set(ch.name, ch.action === 'remove' || ch.action === 'purge' ? '(removed)' : ch.to!);
  return { ok: true, to, why: '', downgrades: r.transaction.filter((ch) => ch.action === 'downgrade').length };
}

/** The changed package that provides the requested name at the version apt installs, if any. */
function providedBy(c: Case, to: ReadonlyMap<string, string>): string | undefined {
  for (const [name, version] of to) {
    const pv = universe.findPv(name, version);
    if (pv < 0) continue;
    for (const atom of universe.atomsOf(pv, 6)) {
      if (universe.nameOf(universe.atomName[atom]!) === c.name) return `${name} ${version}`;
    }
  }
  return undefined;
}

async function inPairs<T>(items: T[], fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all([0, 1].map(async () => { while (next < items.length) await fn(items[next++]!); }));
}

describe('apt agreement: candidates and simulated installs on directory-root hosts', () => {
  it('apt-cache policy: the same candidate for every requested and installed package', async () => {
    let n = 0;
    for (const h of hosts) {
      const names = [...new Set([...h.cases.map((c) => c.name), ...Array.from({ length: universe.pvCount }, (_, pv) => pv).filter((pv) => h.installed[pv]).map((pv) => universe.nameOfPv(pv))])];
      const apt = await aptCandidates(h, names);
      for (const name of names) {
        const cand = h.policy.candidateOf(universe.nameId(name), h.installed);
        const ours = cand < 0 ? undefined : universe.versionOf(cand);
        n++;
        if (apt.get(name) !== ours) disagreements.push(`${h.spec.name}: candidate of ${name}: apt ${apt.get(name) ?? '(none)'}, rollwise ${ours ?? '(none)'}`);
      }
    }
    console.log(`candidates compared: ${n} on ${hosts.length} hosts`);
    expect(n).toBeGreaterThan(100);
    expect(disagreements.filter((d) => d.includes('candidate of'))).toEqual([]);
  }, 300_000);

  it('apt-get -s install: the same installability and the same versions, on at least 100 requests', async () => {
    const cases = hosts.flatMap((h) => h.cases.map((c) => ({ h, c })));
    const tally = { both: 0, neither: 0, explicit: 0, downgrading: 0, release: 0 };
    await inPairs(cases, async ({ h, c }) => {
      const t0 = performance.now();
      const apt = await aptInstall(h, c.item);
      aptMs += performance.now() - t0;
      const ours = rollwiseInstall(h, c);
      compared++;
      if (c.version) tally.explicit++;
      if (c.release) tally.release++;
      if (apt.ok !== ours.ok) {
        disagreements.push(`${h.spec.name}: install ${c.item}: apt ${apt.ok ? `installs (${[...apt.to].map(([k, v]) => `${k}=${v}`).join(' ')})` : `fails (${apt.errors})`}, rollwise ${ours.ok ? `installs (${[...ours.to].map(([k, v]) => `${k}=${v}`).join(' ')})` : `fails (${ours.why})`}`);
        return;
      }
      if (!apt.ok) { tally.neither++; return; }
      tally.both++;
      if (ours.downgrades > 0) tally.downgrading++;
      for (const [name, v] of ours.to) {
        const a = apt.to.get(name);
        if (a !== undefined && a !== v) disagreements.push(`${h.spec.name}: install ${c.item}: ${name} apt ${a}, rollwise ${v}`);
      }
      const a = apt.to.get(c.name);
      const o = ours.to.get(c.name);
      if (a !== o && o === undefined && providedBy(c, ours.to)) {
        deliberate.push(`${h.spec.name}: install ${c.item}: rollwise installs ${providedBy(c, ours.to)}, which provides ${c.name} (= ${a}); apt installs the real package. A Rollwise install item is met by a versioned provider (fewer changes), apt's install names the package`);
        return;
      }
      if (a !== o) disagreements.push(`${h.spec.name}: install ${c.item}: requested ${c.name}: apt ${a ?? '(unchanged)'}, rollwise ${o ?? '(unchanged)'}`);
    });
    if (deliberate.length) console.log(`deliberate differences:\n${deliberate.join('\n')}`);
    console.log(`apt-get -s: ${Math.round(aptMs / Math.max(1, compared))} ms per request on average`);
    console.log(`requests compared: ${compared} (${tally.both} installable on both sides, ${tally.downgrading} of them downgrading, ${tally.neither} on neither, ${tally.explicit} exact non-candidate versions, ${tally.release} name/release)`);
    if (disagreements.length) console.log(disagreements.join('\n'));
    expect(compared).toBeGreaterThanOrEqual(100);
    expect(tally.both).toBeGreaterThan(50);
    expect(tally.downgrading).toBeGreaterThan(0);
    expect(tally.release).toBeGreaterThanOrEqual(4);
    expect(disagreements).toEqual([]);
  }, 600_000);
});
