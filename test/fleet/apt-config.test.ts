/**
 * A host's apt configuration: the sources.list, deb822 .sources and preferences parsers (with
 * their positioned errors), reading them from a directory root and from an inventory, grouping
 * by them, and apt's candidate policy (src/solver/policy.ts) on small universes with several
 * repositories; the planner's solve of a group sees only its own repositories.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmptyRecord, type PackageAtom, type PackageRecord } from '../../src/kb/index.js';
import { createUniverse, parseReleaseFacts, type ReleaseFacts } from '../../src/universe/index.js';
import { createAptPolicy, createPolicyView, solveRequest } from '../../src/solver/index.js';
import {
  aptPolicyInputOf, groupHosts, loadInventory, parseCollectedOutput, parseDeb822Sources, parsePreferences, parseSourcesList, readHostAptConfig, type HostAptConfig,
} from '../../src/fleet/index.js';
import { createFleetSolver } from '../../src/planner/index.js';
import { RollwiseError } from '../../src/shared/index.js';
import { runCliInProcess } from '../app/cli-in-process.js';
import { repoRoot } from '../helpers/cli.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'rw-apt-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof RollwiseError) return `${e.code} ${e.position ? `${e.position.file}:${e.position.line}:${e.position.column}` : '-'} ${e.message}`;
    throw e;
  }
  throw new Error('expected an error');
}

describe('sources.list (one-line)', () => {
  it('reads types, options, URIs, suites and components; comments and blank lines are skipped', () => {
    const s = parseSourcesList([
      '# main archive',
      'deb http://deb.debian.org/debian bookworm main contrib',
      'deb [arch=amd64,i386 signed-by=/usr/share/keyrings/debian.gpg] http://security.debian.org/debian-security bookworm-security main # security',
      '',
      'deb-src http://deb.debian.org/debian bookworm main',
      'deb [trusted=yes] file:/srv/repo ./',
    ].join('\n'), 'sources.list');
    expect(s.map((x) => [x.type, x.uri, x.suite, x.components.join(' '), x.architectures?.join(',') ?? '', x.position.line])).toEqual([
      ['deb', 'http://deb.debian.org/debian', 'bookworm', 'main contrib', '', 2],
      ['deb', 'http://security.debian.org/debian-security', 'bookworm-security', 'main', 'amd64,i386', 3],
      ['deb-src', 'http://deb.debian.org/debian', 'bookworm', 'main', '', 5],
      ['deb', 'file:/srv/repo', './', '', '', 6],
    ]);
  });

  it('refuses bad lines with file:line:column', () => {
    expect(errorOf(() => parseSourcesList('deb http://x/debian bookworm main\ndeb http://x/debian bookworm\n', 'sl'))).toBe("RW_APT_CONFIG sl:2:21 suite 'bookworm' needs at least one component");
    expect(errorOf(() => parseSourcesList('rpm http://x/ y z\n', 'sl'))).toBe("RW_APT_CONFIG sl:1:1 unknown source type 'rpm'");
    expect(errorOf(() => parseSourcesList('deb [arch=amd64 http://x/ bookworm main\n', 'sl'))).toMatch(/^RW_APT_CONFIG sl:1:5 an option list/);
    expect(errorOf(() => parseSourcesList('deb bookworm main\n', 'sl'))).toBe("RW_APT_CONFIG sl:1:5 'bookworm' is not a URI");
  });
});

describe('deb822 .sources', () => {
  it('expands Types × URIs × Suites and skips disabled stanzas', () => {
    const s = parseDeb822Sources([
      'Types: deb deb-src',
      'URIs: http://deb.debian.org/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Enabled: no',
      'Types: deb',
      'URIs: http://example.org/repo',
      'Suites: stable',
      'Components: main',
    ].join('\n'), 'debian.sources');
    expect(s.map((x) => `${x.type} ${x.uri} ${x.suite} ${x.components.join(' ')}`)).toEqual([
      'deb http://deb.debian.org/debian bookworm main', 'deb http://deb.debian.org/debian bookworm-updates main',
      'deb-src http://deb.debian.org/debian bookworm main', 'deb-src http://deb.debian.org/debian bookworm-updates main',
    ]);
  });

  it("comment lines inside a stanza are skipped, as in Debian 12's own debian.sources (apt drops them)", () => {
    const text = [
      'Types: deb',
      '# http://snapshot.debian.org/archive/debian/20240101T000000Z',
      'URIs: http://deb.debian.org/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Types: deb',
      '# http://snapshot.debian.org/archive/debian-security/20240101T000000Z',
      'URIs: http://deb.debian.org/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
    ].join('\n');
    const s = parseDeb822Sources(text, 'debian.sources');
    expect(s.map((x) => `${x.uri} ${x.suite}`)).toEqual(['http://deb.debian.org/debian bookworm', 'http://deb.debian.org/debian bookworm-updates', 'http://deb.debian.org/debian-security bookworm-security']);
  });

  it('a stanza without Suites is an error at its line', () => {
    expect(errorOf(() => parseDeb822Sources('Types: deb\nURIs: http://a/\nSuites: x\nComponents: main\n\nTypes: deb\nURIs: http://b/\n', 'x.sources'))).toBe('RW_APT_CONFIG x.sources:6:1 a .sources stanza has no Suites');
  });
});

describe('preferences', () => {
  it('reads general and specific pins, several names, globs and regexes, in order', () => {
    const pins = parsePreferences([
      'Explanation: backports only on request',
      'Package: *',
      'Pin: release a=bookworm-backports',
      'Pin-Priority: 100',
      '',
      'Package: openssl libssl3 /^libpq/ postgresql-*',
      'Pin: version 3.0.20*',
      'Pin-Priority: 1001',
      '',
      'Package: curl',
      'Pin: origin "deb.debian.org"',
      'Pin-Priority: -1',
      '',
      'Package: tzdata',
      'Pin: release n=bookworm,o=Debian,l=Debian-Security',
      'Pin-Priority: 990',
    ].join('\n'), 'prefs');
    expect(pins.map((p) => [p.packages, p.pin, p.priority, p.where])).toEqual([
      ['*', { kind: 'release', spec: { a: 'bookworm-backports' } }, 100, 'prefs:1'],
      [['openssl', 'libssl3', '/^libpq/', 'postgresql-*'], { kind: 'version', pattern: '3.0.20*' }, 1001, 'prefs:6'],
      [['curl'], { kind: 'origin', site: 'deb.debian.org' }, -1, 'prefs:10'],
      [['tzdata'], { kind: 'release', spec: { n: 'bookworm', o: 'Debian', l: 'Debian-Security' } }, 990, 'prefs:14'],
    ]);
  });

  it('refuses what apt refuses, at the value', () => {
    expect(errorOf(() => parsePreferences('Package: a\nPin: version 1\nPin-Priority: 0\n', 'p'))).toBe('RW_APT_CONFIG p:3:15 Pin-Priority 0 is not a priority');
    expect(errorOf(() => parsePreferences('Package: a\nPin: version 1\nPin-Priority: high\n', 'p'))).toBe("RW_APT_CONFIG p:3:15 Pin-Priority 'high' is not an integer");
    expect(errorOf(() => parsePreferences('Package: a\nPin: label x\nPin-Priority: 5\n', 'p'))).toBe("RW_APT_CONFIG p:2:6 unknown pin type 'label'");
    expect(errorOf(() => parsePreferences('Pin: version 1\nPin-Priority: 5\n', 'p'))).toBe('RW_APT_CONFIG p:1:1 a preferences stanza has no Package');
    expect(errorOf(() => parsePreferences('Package: *\nPin: version 1\nPin-Priority: 5\n', 'p'))).toMatch(/^RW_APT_CONFIG p:2:6 `Pin: version` needs named packages/);
  });
});

describe('a directory root and an inventory', () => {
  it('reads etc/apt and var/lib/dpkg/arch of a root', () => {
    mkdirSync(path.join(dir, 'etc/apt/sources.list.d'), { recursive: true });
    mkdirSync(path.join(dir, 'etc/apt/preferences.d'), { recursive: true });
    mkdirSync(path.join(dir, 'var/lib/dpkg'), { recursive: true });
    writeFileSync(path.join(dir, 'etc/apt/sources.list'), 'deb http://deb.debian.org/debian bookworm main\n');
    writeFileSync(path.join(dir, 'etc/apt/sources.list.d/security.sources'), 'Types: deb\nURIs: http://security.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n');
    writeFileSync(path.join(dir, 'etc/apt/sources.list.d/ignored.save'), 'not a source\n');
    writeFileSync(path.join(dir, 'etc/apt/preferences.d/backports'), 'Package: *\nPin: release a=bookworm-backports\nPin-Priority: 100\n');
    writeFileSync(path.join(dir, 'etc/apt/preferences.d/old.dpkg-old'), 'garbage\n');
    writeFileSync(path.join(dir, 'var/lib/dpkg/arch'), 'amd64\ni386\n');
    const c = readHostAptConfig(dir, 'amd64');
    expect(c.sources.map((s) => s.suite)).toEqual(['bookworm', 'bookworm-security']);
    expect(c.preferences).toHaveLength(1);
    expect(c.foreignArchitectures).toEqual(['i386']);
  });

  it('takes apt: from defaults, groups and hosts (most specific wins per key) and groups hosts by it', () => {
    writeFileSync(path.join(dir, 'inv.yaml'), [
      'defaults:',
      '  facts: { architecture: amd64 }',
      '  apt:',
      '    sources: ["deb http://deb.debian.org/debian bookworm main"]',
      'groups:',
      '  old:',
      '    apt:',
      '      sources:',
      '        - deb http://deb.debian.org/debian bullseye main',
      '        - { line: "deb http://deb.debian.org/debian bullseye-updates main", index: idx/bullseye-updates-main-amd64.Packages }',
      '      defaultRelease: bullseye',
      'hosts:',
      '  - { name: a, installed: [] }',
      '  - { name: b, installed: [] }',
      '  - { name: c, groups: [old], installed: [] }',
      '  - name: d',
      '    groups: [old]',
      '    installed: []',
      '    apt: { preferences: [{ package: "*", pin: "release a=oldoldstable", priority: 700 }] }',
    ].join('\n'));
    const r = loadInventory(path.join(dir, 'inv.yaml'));
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const [a, b, c, d] = r.inventory.hosts;
    expect(a!.apt!.sources.map((s) => s.suite)).toEqual(['bookworm']);
    expect(c!.apt!.sources.map((s) => s.suite)).toEqual(['bullseye', 'bullseye-updates']);
    expect(c!.apt!.sources[1]!.index).toBe(path.join(dir, 'idx/bullseye-updates-main-amd64.Packages'));
    expect(c!.apt!.defaultRelease).toBe('bullseye');
    expect(d!.apt!.preferences[0]!.priority).toBe(700);
    expect(d!.apt!.sources.map((s) => s.suite)).toEqual(['bullseye', 'bullseye-updates']);
    const groups = groupHosts([a!, b!, c!, d!]);
    expect(groups.map((g) => g.hosts)).toEqual([['a', 'b'], ['c'], ['d']]);
  });

  it('a bad source line or pin in the inventory is a problem at its node', () => {
    writeFileSync(path.join(dir, 'inv.yaml'), [
      'hosts:',
      '  - name: a',
      '    installed: []',
      '    apt:',
      '      sources: ["deb http://x/ bookworm"]',
      '      preferences: [{ package: "a", pin: "colour blue", priority: 5 }]',
    ].join('\n'));
    const r = loadInventory(path.join(dir, 'inv.yaml'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => `${p.position.line}:${p.position.column} ${p.message}`)).toEqual([
      "5:17 suite 'bookworm' needs at least one component",
      "6:42 unknown pin type 'colour'",
    ]);
  });
});

// ---- apt's candidate policy on a small universe ----------------------------------------------

function rec(name: string, version: string, depends: PackageAtom[][] = []): PackageRecord {
  return { ...createEmptyRecord(name, version, 'amd64', { layer: 'x', source: 'x' }), depends };
}

const MAIN: ReleaseFacts = { origin: 'Debian', label: 'Debian', suite: 'stable', codename: 'bookworm', component: 'main' };
const SECURITY: ReleaseFacts = { origin: 'Debian', label: 'Debian-Security', suite: 'stable-security', codename: 'bookworm-security', component: 'main' };
const BACKPORTS: ReleaseFacts = { origin: 'Debian Backports', label: 'Debian Backports', suite: 'bookworm-backports', codename: 'bookworm-backports', component: 'main', notAutomatic: true, butAutomaticUpgrades: true };
const OLD: ReleaseFacts = { origin: 'Debian', label: 'Debian', suite: 'oldstable', codename: 'bullseye', component: 'main' };

function fourRepos() {
  return createUniverse([
    { layer: { name: 'bookworm', release: MAIN }, records: [rec('libssl3', '3.0.20'), rec('openssl', '3.0.20', [[{ name: 'libssl3', op: '>=', version: '3.0.20' }]]), rec('curl', '7.88')] },
    { layer: { name: 'security', release: SECURITY }, records: [rec('libssl3', '3.0.22'), rec('openssl', '3.0.22', [[{ name: 'libssl3', op: '>=', version: '3.0.22' }]])] },
    { layer: { name: 'backports', release: BACKPORTS }, records: [rec('curl', '8.5'), rec('libssl3', '3.1.0')] },
    { layer: { name: 'bullseye', release: OLD }, records: [rec('libssl3', '1.1.1w'), rec('openssl', '1.1.1w'), rec('curl', '7.74')] },
  ]);
}

function host(sources: string[], prefs = '', defaultRelease?: string): HostAptConfig {
  return {
    sources: parseSourcesList(sources.map((s) => `deb http://deb.debian.org/debian ${s} main`).join('\n'), 'sl'),
    preferences: prefs ? parsePreferences(prefs, 'prefs') : [], architecture: 'amd64', foreignArchitectures: [],
    ...(defaultRelease ? { defaultRelease } : {}),
  };
}

describe('apt candidate policy', () => {
  const u = fourRepos();
  const none: Uint8Array = new Uint8Array(u.pvCount);
  const cand = (apt: HostAptConfig, name: string, installed: Uint8Array = none): string | undefined => {
    const pv = createAptPolicy(u, aptPolicyInputOf(u, apt)).candidateOf(u.nameId(name), installed);
    return pv < 0 ? undefined : u.versionOf(pv);
  };
  const installedAt = (name: string, version: string): Uint8Array => {
    const f = new Uint8Array(u.pvCount);
    f[u.findPv(name, version)] = 1;
    return f;
  };

  it('a host sees only the repositories its sources use; the highest version wins at equal priority', () => {
    expect(cand(host(['bookworm']), 'libssl3')).toBe('3.0.20');
    expect(cand(host(['bookworm', 'bookworm-security']), 'libssl3')).toBe('3.0.22');
    expect(cand(host(['bullseye']), 'libssl3')).toBe('1.1.1w');
  });

  it('NotAutomatic + ButAutomaticUpgrades (100): not chosen over 500, but upgrades what came from it', () => {
    const apt = host(['bookworm', 'bookworm-backports']);
    expect(cand(apt, 'curl')).toBe('7.88');
    expect(cand(apt, 'curl', installedAt('curl', '8.5'))).toBe('8.5');
  });

  it('the target release is 990, pins override, >1000 downgrades, negative never', () => {
    expect(cand(host(['bookworm', 'bookworm-security'], '', 'bookworm'), 'libssl3')).toBe('3.0.20');
    expect(cand(host(['bookworm', 'bookworm-backports'], 'Package: curl\nPin: release a=bookworm-backports\nPin-Priority: 600\n'), 'curl')).toBe('8.5');
    const held = host(['bookworm', 'bookworm-security'], 'Package: lib*\nPin: version 3.0.20\nPin-Priority: 900\n');
    expect(cand(held, 'libssl3')).toBe('3.0.20');
    // an installed newer version stays unless a pin of 1000 or more asks for the older one
    expect(cand(held, 'libssl3', installedAt('libssl3', '3.0.22'))).toBe('3.0.22');
    const down = host(['bookworm', 'bookworm-security'], 'Package: /^libssl/\nPin: version 3.0.20\nPin-Priority: 1001\n');
    expect(cand(down, 'libssl3', installedAt('libssl3', '3.0.22'))).toBe('3.0.20');
    const never = host(['bookworm', 'bookworm-security'], 'Package: *\nPin: release l=Debian-Security\nPin-Priority: -1\n');
    expect(cand(never, 'libssl3')).toBe('3.0.20');
    expect(cand(host(['bookworm'], 'Package: curl\nPin: release n=bookworm\nPin-Priority: -5\n'), 'curl')).toBeUndefined();
  });

  it('the solver installs candidates only; an exact version may pick another, as apt allows', () => {
    const policy = createAptPolicy(u, aptPolicyInputOf(u, host(['bookworm', 'bookworm-security'], 'Package: libssl3\nPin: version 3.0.20\nPin-Priority: 990\n')));
    const solve = (items: Parameters<typeof solveRequest>[1]['items'], explicit: number[] = []) => {
      const r = solveRequest({ set: createPolicyView(policy, none, explicit), installed: none }, { items }, { recommends: false, maxResolutions: 0 });
      return r.kind === 'solution' ? r.transaction.map((c) => `${c.name}=${c.to}`).sort() : r.kind;
    };
    // openssl's candidate 3.0.22 needs libssl3 3.0.22, which the pin makes a non-candidate: apt fails too
    expect(solve([{ kind: 'install', name: 'openssl' }])).toBe('conflict');
    expect(solve([{ kind: 'install', name: 'libssl3' }])).toEqual(['libssl3=3.0.20']);
    const pv = u.findPv('libssl3', '3.0.22');
    expect(solve([{ kind: 'install', name: 'openssl' }, { kind: 'install', name: 'libssl3', op: '=', version: '3.0.22' }], [pv])).toEqual(['libssl3=3.0.22', 'openssl=3.0.22']);
  });

  it('the planner solves each group against its own repositories', () => {
    const solver = createFleetSolver({ universe: u });
    const request = { items: [{ kind: 'install' as const, name: 'openssl' }] };
    const on = (apt?: HostAptConfig) => {
      const o = solver.solveGroup({ key: 'k', installed: [], facts: {}, request, ...(apt ? { apt } : {}) });
      return o.kind === 'solution' ? o.changes.map((c) => `${c.name}=${c.to}`).sort() : o.kind;
    };
    expect(on(host(['bullseye']))).toEqual(['openssl=1.1.1w']);
    expect(on(host(['bookworm']))).toEqual(['libssl3=3.0.20', 'openssl=3.0.20']);
    expect(on(host(['bookworm', 'bookworm-security']))).toEqual(['libssl3=3.0.22', 'openssl=3.0.22']);
  });
});

describe('Release files', () => {
  it('reads origin, label, suite, codename, version and the NotAutomatic flags from an InRelease', () => {
    const f = parseReleaseFacts('-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: Debian Backports\nLabel: Debian Backports\nSuite: bookworm-backports\nCodename: bookworm-backports\nVersion: 12-bpo\nNotAutomatic: yes\nButAutomaticUpgrades: yes\nSHA256:\n abc 12 main/Release\n-----BEGIN PGP SIGNATURE-----\nxyz\n');
    expect(f).toEqual({ origin: 'Debian Backports', label: 'Debian Backports', suite: 'bookworm-backports', codename: 'bookworm-backports', version: '12-bpo', notAutomatic: true, butAutomaticUpgrades: true });
  });
});

describe('collected over SSH', () => {
  it('the collection answer carries the apt files (each line prefixed with |) and foreign architectures; a bad file is a finding', () => {
    const out = [
      '@@rw:arch', 'amd64', '@@rw:foreign-arch', 'i386',
      '@@rw:apt-file', '/etc/apt/sources.list', '|deb http://deb.debian.org/debian bookworm main', '|# @@rw:end (prefixed: content, not a marker)',
      '@@rw:apt-file', '/etc/apt/sources.list.d/debian.sources', '|Types: deb', '|URIs: http://security.debian.org/debian-security', '|Suites: bookworm-security', '|Components: main',
      '@@rw:apt-file', '/etc/apt/preferences.d/pins', '|Package: *', '|Pin: release a=bookworm-backports', '|Pin-Priority: 100',
      '@@rw:apt-file', '/etc/apt/preferences.d/pins.dpkg-old', '|garbage',
      '@@rw:dpkg', 'bash\t5.2.15-2+b2\tamd64\tii ', '@@rw:end',
    ].join('\n');
    const c = parseCollectedOutput('web-01', out);
    expect(c.installed.map((p) => p.name)).toEqual(['bash']);
    expect(c.apt?.sources.map((s) => s.suite)).toEqual(['bookworm', 'bookworm-security']);
    expect(c.apt?.preferences.map((p) => p.priority)).toEqual([100]);
    expect(c.apt?.foreignArchitectures).toEqual(['i386']);
    const bad = parseCollectedOutput('web-02', ['@@rw:apt-file', '/etc/apt/sources.list', '|deb http://x/ bookworm', '@@rw:dpkg', '@@rw:end'].join('\n'));
    expect(bad.apt).toBeUndefined();
    expect(bad.findings.map((f) => f.message).join()).toMatch(/apt configuration not used: RW_APT_CONFIG: web-02:\/etc\/apt\/sources.list:1:15/);
  });
});

describe('rollwise solve --root', () => {
  it('solves for a directory-root host with its own sources and pins (bookworm + security, security pinned down)', async () => {
    const data = path.resolve(repoRoot, '..', 'shared', 'data', 'debian');
    mkdirSync(path.join(dir, 'etc/apt'), { recursive: true });
    mkdirSync(path.join(dir, 'var/lib/dpkg'), { recursive: true });
    writeFileSync(path.join(dir, 'var/lib/dpkg/status'), '');
    writeFileSync(path.join(dir, 'etc/apt/sources.list'), 'deb http://deb.debian.org/debian bookworm main\ndeb http://security.debian.org/debian-security bookworm-security main\n');
    const args = ['solve', '--index', path.join(data, 'bookworm-main-amd64.Packages.xz'), '--index', path.join(data, 'bookworm-security-main-amd64.Packages.xz'),
      '--index', path.join(data, 'bullseye-main-amd64.Packages.xz'), '--root', dir, '--install', 'openssl', '--no-recommends', '--json'];
    const versionOf = (out: string, name: string): string | undefined => (JSON.parse(out) as { transaction: Array<{ name: string; to?: string }> }).transaction.find((c) => c.name === name)?.to;
    const open = await runCliInProcess(args);
    expect(open.status).toBe(0);
    expect(versionOf(open.stdout, 'openssl')).toBe('3.0.22-1~deb12u2');
    writeFileSync(path.join(dir, 'etc/apt/preferences'), 'Package: *\nPin: release l=Debian-Security\nPin-Priority: 100\n');
    const pinned = await runCliInProcess(args);
    expect(pinned.status).toBe(0);
    expect(versionOf(pinned.stdout, 'openssl')).toBe('3.0.20-1~deb12u2');
    expect(versionOf(pinned.stdout, 'libc6')).toMatch(/deb12/);
  }, 300_000);
});
