/**
 * apt's `name/release` request items (`apt-get install web/bookworm-backports`) checked against
 * real apt (package apt) on a directory-root host. Two synthetic repositories: a main release
 * (bookworm, archive stable) and a NotAutomatic + ButAutomaticUpgrades backports release
 * (bookworm-backports, archive stable-backports), shaped so that each rule of apt's release
 * selection shows: the selected version comes from the release; a versioned dependency the normal
 * candidate cannot meet switches to the release's version, recursively; one the candidate meets
 * keeps it; an unversioned one never switches; an or-group another alternative meets switches
 * nothing; a switch whose own dependencies cannot be met is undone. Rollwise reads the same
 * files the one way `rollwise solve --root` does (loadSolveProblem) and solves the resolved items;
 * apt's `apt-get -s install` answer (installable or not, every package version it installs) must
 * be Rollwise's. The parser's errors for bad `name/release` specs are checked too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RollwiseError } from '../../src/shared/index.js';
import { formatItem, solveRequest, type RequestItem } from '../../src/solver/index.js';
import { parseRequestItem, parseRequestItems, requireNoRelease } from '../../src/planner/index.js';
import { loadSolveProblem } from '../../src/app/index.js';
import { registerExitCleanup } from '../lab/cleanup.js';
import { runCliInProcess } from '../app/cli-in-process.js';

interface Pkg { name: string; version: string; depends?: string }
const MAIN: Pkg[] = [
  { name: 'web', version: '1.0', depends: 'libweb (>= 1.0), common' },
  { name: 'libweb', version: '1.0' },
  { name: 'libdeep', version: '1.0' },
  { name: 'common', version: '1.0' },
  { name: 'tool', version: '1.0', depends: 'libtool (>= 1.0)' },
  { name: 'libtool', version: '1.0' },
  { name: 'alt', version: '1.0' },
  { name: 'libx', version: '1.0' },
  { name: 'liby', version: '1.0' },
  { name: 'broken', version: '1.0' },
  { name: 'chain', version: '1.0' },
  { name: 'mid', version: '1.0' },
  { name: 'libgone', version: '1.0' },
];
const BACKPORTS: Pkg[] = [
  { name: 'web', version: '2.0', depends: 'libweb (>= 2.0), common' },
  { name: 'libweb', version: '2.0', depends: 'libdeep (>= 2.0)' },
  { name: 'libdeep', version: '2.0' },
  { name: 'common', version: '2.0' },
  { name: 'tool', version: '2.0', depends: 'libtool (>= 1.0)' },
  { name: 'libtool', version: '2.0' },
  { name: 'alt', version: '2.0', depends: 'libx (>= 2.0) | liby' },
  { name: 'libx', version: '2.0' },
  { name: 'broken', version: '2.0', depends: 'libnone (>= 5)' },
  { name: 'onlybpo', version: '1.0', depends: 'libweb (>= 2.0)' },
  { name: 'gui', version: '2.0', depends: 'libx, libtool' },
  { name: 'chain', version: '2.0', depends: 'mid (>= 2.0)' },
  { name: 'mid', version: '2.0', depends: 'libgone (>= 3)' },
];
const INSTALLED: Pkg[] = [{ name: 'common', version: '1.0' }, { name: 'libweb', version: '1.0' }];

interface Repo { dist: string; suite: string; uriPath: string; extra: string[]; pkgs: Pkg[] }
const REPOS: Repo[] = [
  { dist: 'bookworm', suite: 'stable', uriPath: '/rw/debian', extra: [], pkgs: MAIN },
  { dist: 'bookworm-backports', suite: 'stable-backports', uriPath: '/rw/backports', extra: ['NotAutomatic: yes', 'ButAutomaticUpgrades: yes'], pkgs: BACKPORTS },
];

/** Requests (one apt-get call each) and whether apt installs them. */
const CASES: Array<{ specs: string[]; ok: boolean }> = [
  { specs: ['web/bookworm-backports'], ok: true },
  { specs: ['web/stable-backports'], ok: true },
  { specs: ['web/bookworm'], ok: true },
  { specs: ['tool/bookworm-backports'], ok: true },
  { specs: ['alt/bookworm-backports'], ok: true },
  { specs: ['onlybpo/bookworm-backports'], ok: true },
  { specs: ['gui/bookworm-backports'], ok: true },
  { specs: ['web/bookworm-backports', 'tool'], ok: true },
  { specs: ['broken/bookworm-backports'], ok: false },
  { specs: ['chain/bookworm-backports'], ok: false },
];

function stanza(p: Pkg, status = false): string {
  return [`Package: ${p.name}`, ...(status ? ['Status: install ok installed'] : []), `Version: ${p.version}`, 'Architecture: amd64', 'Maintainer: Lab <lab@example.org>',
    ...(p.depends ? [`Depends: ${p.depends}`] : []), ...(status ? [] : [`Filename: pool/${p.name}_${p.version}_amd64.deb`, 'Size: 1000']), `Description: ${p.name}`].join('\n');
}

function releaseText(r: Repo): string {
  return ['Origin: Lab', 'Label: Lab', `Suite: ${r.suite}`, `Codename: ${r.dist}`, 'Version: 12', ...r.extra, 'Components: main', 'Architectures: amd64', ''].join('\n');
}

function requireApt(): string {
  if (!existsSync('/usr/bin/apt-get')) throw new Error('/usr/bin/apt-get is missing: apt-get install apt');
  return '/usr/bin/apt-get';
}

let work: string;
let root: string;
let indexes: string[];

beforeAll(() => {
  requireApt();
  process.env.ROLLWISE_UNIVERSE_CACHE = 'off';
  work = mkdtempSync(path.join(tmpdir(), 'rw-apt-release-'));
  registerExitCleanup(() => rmSync(work, { recursive: true, force: true }));
  root = path.join(work, 'host');
  for (const d of ['etc/apt/apt.conf.d', 'etc/apt/preferences.d', 'etc/apt/sources.list.d', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial', 'var/lib/dpkg/updates', 'var/lib/dpkg/info', 'var/log']) mkdirSync(path.join(root, d), { recursive: true });
  const repo = path.join(work, 'repo');
  mkdirSync(repo);
  indexes = [];
  for (const r of REPOS) {
    // named as Rollwise finds Release facts beside an index: <dist>-<component>-<arch>.Packages + <dist>.Release
    const index = path.join(repo, `${r.dist}-main-amd64.Packages`);
    writeFileSync(index, r.pkgs.map((p) => stanza(p)).join('\n\n') + '\n');
    writeFileSync(path.join(repo, `${r.dist}.Release`), releaseText(r));
    indexes.push(index);
    const stem = `${r.uriPath.replace(/\//g, '_')}_dists_${r.dist}`;
    symlinkSync(index, path.join(root, 'var/lib/apt/lists', `${stem}_main_binary-amd64_Packages`));
    writeFileSync(path.join(root, 'var/lib/apt/lists', `${stem}_Release`), releaseText(r));
  }
  writeFileSync(path.join(root, 'etc/apt/sources.list'), REPOS.map((r) => `deb [trusted=yes] file:${r.uriPath} ${r.dist} main`).join('\n') + '\n');
  writeFileSync(path.join(root, 'var/lib/dpkg/status'), INSTALLED.map((p) => stanza(p, true)).join('\n\n') + '\n');
  writeFileSync(path.join(root, 'apt.conf'), [
    `Dir "${root}/";`, `Dir::State::status "${root}/var/lib/dpkg/status";`, `Dir::Etc "${root}/etc/apt/";`, `Dir::Cache "${root}/var/cache/apt/";`,
    `Dir::State "${root}/var/lib/apt/";`, `Dir::Log "${root}/var/log/apt/";`, 'APT::Architecture "amd64";', 'APT::Architectures { "amd64"; };',
    'Debug::NoLocking "true";', 'APT::Sandbox::User "root";', `DPkg::Options { "--root=${root}"; "--log=${root}/var/log/dpkg.log"; "--force-script-chrootless"; };`, '',
  ].join('\n'));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** `apt-get -s install SPECS...` on the root: installable, and the version each package is installed at. */
function aptInstall(specs: string[]): Promise<{ ok: boolean; to: Map<string, string>; output: string }> {
  const args = ['-s', '-q', '-o', `Dir=${root}/`, '-o', `DPkg::Options::=--root=${root}`, '-o', 'APT::Get::Assume-Yes=true', '--no-install-recommends', '--no-remove', 'install', ...specs];
  return new Promise((resolve) => {
    execFile(requireApt(), args, { env: { ...process.env, APT_CONFIG: path.join(root, 'apt.conf'), DEBIAN_FRONTEND: 'noninteractive' } }, (error, stdout, stderr) => {
      const to = new Map<string, string>();
      for (const line of stdout.split('\n')) {
        const m = /^Inst (\S+) (?:\[\S+\] )?\((\S+) /.exec(line);
        if (m) to.set(m[1]!.replace(/:amd64$/, ''), m[2]!);
      }
      resolve({ ok: !error, to, output: stdout + stderr });
    });
  });
}

/** Rollwise on the same root, the way `rollwise solve --root` loads it. */
async function rollwiseInstall(specs: string[]): Promise<{ ok: boolean; to: Map<string, string>; items: RequestItem[] }> {
  const requested = parseRequestItems({ install: specs });
  const problem = await loadSolveProblem({ index: indexes, kb: [], root, items: requested, recommends: false });
  const items = problem.items ?? requested;
  const r = solveRequest(problem, { items }, { recommends: false, keepInstalled: true, maxResolutions: 0 });
  const to = new Map<string, string>();
  if (r.kind === 'solution') for (const c of r.transaction) if (c.to !== undefined) to.set(c.name, c.to);
  return { ok: r.kind === 'solution', to, items };
}

describe('name/release requests agree with apt-get install name/release', () => {
  it.each(CASES)('install $specs', async ({ specs, ok }) => {
    const apt = await aptInstall(specs);
    // the cases are built so that apt's answer is known; a change here means the fixture is wrong
    expect(apt.ok, apt.output).toBe(ok);
    const ours = await rollwiseInstall(specs);
    expect(ours.ok).toBe(apt.ok);
    expect(Object.fromEntries(ours.to)).toEqual(Object.fromEntries(apt.to));
  });

  it('the rules show in apt\'s answers: release versions, switched and unswitched dependencies', async () => {
    expect(Object.fromEntries((await aptInstall(['web/bookworm-backports'])).to)).toEqual({ web: '2.0', libweb: '2.0', libdeep: '2.0' });
    expect(Object.fromEntries((await aptInstall(['tool/bookworm-backports'])).to)).toEqual({ tool: '2.0', libtool: '1.0' });
    expect(Object.fromEntries((await aptInstall(['gui/bookworm-backports'])).to)).toEqual({ gui: '2.0', libx: '1.0', libtool: '1.0' });
    expect(Object.fromEntries((await aptInstall(['alt/bookworm-backports'])).to)).toEqual({ alt: '2.0', liby: '1.0' });
    const ours = await rollwiseInstall(['web/bookworm-backports']);
    expect(ours.items.map(formatItem)).toEqual(['install web (= 2.0)']);
  });

  it('a release no source matches: apt fails, Rollwise says RW_REQUEST naming the releases the host sees', async () => {
    const apt = await aptInstall(['web/nosuch']);
    expect(apt.ok).toBe(false);
    expect(apt.output).toMatch(/Release 'nosuch' for 'web' was not found/);
    const e = await rollwiseInstall(['web/nosuch']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RollwiseError);
    expect((e as RollwiseError).code).toBe('RW_REQUEST');
    expect((e as RollwiseError).message).toContain('bookworm, bookworm-backports, stable, stable-backports');
    expect((e as RollwiseError).hint).toBeTruthy();
    // the release exists but lacks the package
    const apt2 = await aptInstall(['onlybpo/bookworm']);
    expect(apt2.ok).toBe(false);
    const e2 = await rollwiseInstall(['onlybpo/bookworm']).catch((x: unknown) => x);
    expect((e2 as RollwiseError).code).toBe('RW_REQUEST');
    expect((e2 as RollwiseError).message).toMatch(/have no onlybpo/);
  });
});

describe('rollwise solve --root --install name/release', () => {
  it('installs what apt installs; a release the host does not see is RW_REQUEST', async () => {
    const base = ['solve', ...indexes.flatMap((f) => ['--index', f]), '--root', root, '--no-recommends'];
    const r = await runCliInProcess([...base, '--install', 'web/bookworm-backports', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const to = Object.fromEntries((JSON.parse(r.stdout) as { transaction: Array<{ name: string; to?: string }> }).transaction.map((c) => [c.name, c.to]));
    expect(to).toEqual(Object.fromEntries((await aptInstall(['web/bookworm-backports'])).to));
    const bad = await runCliInProcess([...base, '--install', 'web/nosuch']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/RW_REQUEST/);
    expect(bad.stderr).toMatch(/it sees: bookworm, bookworm-backports/);
  });
});

describe('rollwise plan --install name/release', () => {
  it('a directory-root host plans what apt installs; a host without apt sources is RW_REQUEST', async () => {
    writeFileSync(path.join(work, 'inventory.yaml'), 'version: 1\nhosts:\n  - name: h1\n    root: host\n');
    const base = ['plan', ...indexes.flatMap((f) => ['--index', f]), '--inventory', path.join(work, 'inventory.yaml'), '--no-recommends', '--json'];
    const r = await runCliInProcess([...base, '--store', path.join(work, 'p1.db'), '--install', 'web/bookworm-backports']);
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { groups: Array<{ hosts: string[]; outcome: { changes?: Array<{ name: string; to?: string }> } }> };
    const to = Object.fromEntries((json.groups[0]?.outcome.changes ?? []).map((c) => [c.name, c.to]));
    expect(to).toEqual(Object.fromEntries((await aptInstall(['web/bookworm-backports'])).to));
    writeFileSync(path.join(work, 'inventory2.yaml'), 'version: 1\nhosts:\n  - name: h2\n    installed: ["common=1.0"]\n');
    const bad = await runCliInProcess([...base.slice(0, -4), '--inventory', path.join(work, 'inventory2.yaml'), '--no-recommends', '--store', path.join(work, 'p2.db'), '--install', 'web/bookworm-backports']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/RW_REQUEST/);
    expect(bad.stderr).toMatch(/needs the host's apt sources/);
  });
});

describe('parseRequestItem: name/release', () => {
  it('keeps the release on an install item and prints it back', () => {
    const item = parseRequestItem('install', 'nginx/bookworm-backports', '--install');
    expect(item).toEqual({ kind: 'install', name: 'nginx', release: 'bookworm-backports' });
    expect(formatItem(item)).toBe('install nginx/bookworm-backports');
    expect(parseRequestItem('install', 'nginx/a=stable-backports', '--install')).toMatchObject({ name: 'nginx', release: 'a=stable-backports' });
  });

  it.each([
    ['remove', 'nginx/bookworm', /does not take a release/],
    ['install', 'nginx=1.0/bookworm', /both a version and a release/],
    ['install', 'nginx/', /names no single release/],
    ['install', 'nginx/a/b', /names no single release/],
    ['hold', 'nginx/bookworm', /does not take a release/],
  ] as const)('%s %s: RW_REQUEST', (kind, spec, message) => {
    const e = (() => { try { parseRequestItem(kind, spec, `--${kind}`); return undefined; } catch (x) { return x; } })();
    expect(e).toBeInstanceOf(RollwiseError);
    expect((e as RollwiseError).code).toBe('RW_REQUEST');
    expect((e as RollwiseError).message).toMatch(message);
  });

  it('a host without apt sources cannot resolve a release: RW_REQUEST', () => {
    expect(requireNoRelease([{ kind: 'install', name: 'a' }])).toEqual([{ kind: 'install', name: 'a' }]);
    expect(() => requireNoRelease([{ kind: 'install', name: 'a', release: 'x' }])).toThrow(/needs the host's apt sources/);
  });
});
