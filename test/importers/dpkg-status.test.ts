import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isInstalledStatus, loadDpkgStatus, parseDpkgStatus } from '../../src/kb/index.js';
import { RollwiseError } from '../../src/shared/index.js';
import { addInstalledLayer, createInstalledState, createUniverseBuilder, addDebianPackagesFast, REL } from '../../src/universe/index.js';

const STATUS = new URL('../fixtures/debian/status', import.meta.url).pathname;
const PACKAGES = new URL('../fixtures/debian/Packages', import.meta.url).pathname;

function errorOf(text: string): RollwiseError {
  try {
    parseDpkgStatus(text, 'var/lib/dpkg/status');
  } catch (e) {
    if (e instanceof RollwiseError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('dpkg status importer', () => {
  it('reads status triples, conffiles and relations', async () => {
    const entries = await loadDpkgStatus(STATUS, { host: 'web-01' });
    expect(entries.map((e) => [e.name, e.version, e.architecture, e.status])).toEqual([
      ['base-files', '12.4+deb12u5', 'amd64', 'install ok installed'],
      ['libc6', '2.36-9+deb12u3', 'amd64', 'install ok installed'],
      ['web-app', '2.1.0-1', 'all', 'hold ok installed'],
      ['oldpkg', '0.9-1', 'amd64', 'deinstall ok config-files'],
    ]);
    expect(entries[0]!.conffiles).toEqual([
      { path: '/etc/debian_version', md5: '4f3a0f8b9d2b2d3b5b8c0c9a2f6c8d1e' },
      { path: '/etc/host.conf', md5: '4eb63731c9f5e30903ac4fc07a7fe3d6' },
      { path: '/etc/issue', md5: '9a3f2ed0b0a3c1e0f3d2a1b0c9e8d7f6', obsolete: true },
    ]);
    expect(entries[0]!.record.essential).toBe(true);
    expect(entries[2]!.record.depends).toEqual([[{ name: 'libc6', op: '>=', version: '2.34' }], [{ name: 'python3', op: '>=', version: '3.11' }]]);
    expect(entries[2]!.record.provides).toEqual([{ name: 'web-frontend', version: '2.1' }]);
    expect(entries[2]!.record.provenance).toEqual({ layer: 'installed:web-01', source: STATUS, trust: 'observed', line: 28 });
    expect(entries.filter((e) => isInstalledStatus(e.status)).map((e) => e.name)).toEqual(['base-files', 'libc6', 'web-app']);
  });

  it('maps a host onto a universe, adding installed versions the archive lacks', async () => {
    const entries = await loadDpkgStatus(STATUS, { host: 'web-01' });
    const b = createUniverseBuilder();
    addDebianPackagesFast(b, readFileSync(PACKAGES), PACKAGES, { name: 'debian' });
    addInstalledLayer(b, 'web-01', entries, STATUS);
    const u = b.build();
    const st = createInstalledState(u, entries, 'web-01');
    expect([...st.pvs].map((pv) => `${u.describePv(pv)} [${u.layerOf(pv).name}]`)).toEqual([
      'base-files 12.4+deb12u5 [debian:fixture]'.replace('debian:fixture', 'debian'),
      'libc6 2.36-9+deb12u3 [installed:web-01]',
      'web-app 2.1.0-1 [installed:web-01]',
    ]);
    expect(st.unmatched).toEqual([]);
    expect(u.findPv('oldpkg', '0.9-1')).toBe(-1);
    expect(st.statusOf(u.findPv('web-app', '2.1.0-1'))).toBe('hold ok installed');
    const webApp = u.findPv('web-app', '2.1.0-1');
    expect(u.clausesOf(webApp, REL.depends)).toHaveLength(2);
    expect(u.candidatesFor({ name: 'web-frontend', op: '>=', version: '2' })).toEqual(Int32Array.from([webApp]));
  });

  const cases: Array<[string, string, number, number, RegExp]> = [
    ['a missing Status', 'Package: a1\nVersion: 1\nArchitecture: all\n', 1, 1, /no Status field/],
    ['a short Status', 'Package: a1\nStatus: install ok\nVersion: 1\nArchitecture: all\n', 2, 9, /three words/],
    ['an unknown want', 'Package: a1\nStatus: wish ok installed\nVersion: 1\nArchitecture: all\n', 2, 9, /unknown want 'wish'/],
    ['an unknown status word', 'Package: a1\nStatus: install ok sleeping\nVersion: 1\nArchitecture: all\n', 2, 20, /unknown status 'sleeping'/],
    ['a bad conffile md5', 'Package: a1\nStatus: install ok installed\nVersion: 1\nArchitecture: all\nConffiles:\n /etc/a xyz\n', 6, 9, /not an md5sum/],
    ['a relative conffile path', 'Package: a1\nStatus: install ok installed\nVersion: 1\nArchitecture: all\nConffiles:\n etc/a 0123456789abcdef0123456789abcdef\n', 6, 2, /expected '\/path md5sum/],
    ['a bad dependency', 'Package: a1\nStatus: install ok installed\nVersion: 1\nArchitecture: all\nDepends: b1 (>>)\n', 5, 16, /expected a version/],
    ['a missing Architecture on an installed package', 'Package: a1\nStatus: install ok installed\nVersion: 1\n', 1, 1, /no Architecture field/],
  ];
  for (const [what, text, line, column, message] of cases) {
    it(`reports ${what} as RW_STATUS_PARSE with its position`, () => {
      const e = errorOf(text);
      expect(e.code).toBe('RW_STATUS_PARSE');
      expect(e.message).toMatch(message);
      expect(e.position).toEqual({ file: 'var/lib/dpkg/status', line, column });
    });
  }

  it('fails with RW_IO for a missing file', async () => {
    await expect(loadDpkgStatus('/nonexistent/status')).rejects.toMatchObject({ code: 'RW_IO' });
  });
});
