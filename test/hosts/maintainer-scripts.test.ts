// Reading apt's Pre-Install-Pkgs (version 3) lines and dpkg-deb -I output.
import { describe, expect, it } from 'vitest';
import { parseAptHookV3, parseDebInfo } from '../../src/hosts/index.js';

describe('maintainer-script inspection', () => {
  it("reads apt's version-3 hook lines (header skipped): unpack, configure, remove", () => {
    const text = [
      'VERSION 3',
      'APT::Architecture=amd64',
      '',
      'demo 1.0 all none < 2.0 all none /srv/repo/./demo_2.0_all.deb',
      'libx1 - - none < 1.5 amd64 same /var/cache/apt/archives/a dir with space/libx1_1.5_amd64.deb',
      'demo 1.0 all none < 2.0 all none **CONFIGURE**',
      'old 3 amd64 none > - - none **REMOVE**',
      '',
    ].join('\n');
    expect(parseAptHookV3(text)).toEqual([
      { name: 'demo', oldVersion: '1.0', oldArchitecture: 'all', newVersion: '2.0', newArchitecture: 'all', action: 'unpack', deb: '/srv/repo/./demo_2.0_all.deb' },
      { name: 'libx1', newVersion: '1.5', newArchitecture: 'amd64', action: 'unpack', deb: '/var/cache/apt/archives/a dir with space/libx1_1.5_amd64.deb' },
      { name: 'demo', oldVersion: '1.0', oldArchitecture: 'all', newVersion: '2.0', newArchitecture: 'all', action: 'configure' },
      { name: 'old', oldVersion: '3', oldArchitecture: 'amd64', action: 'remove' },
    ]);
    expect(() => parseAptHookV3('short line\n')).toThrow(/Pre-Install-Pkgs/);
  });

  it('reads the maintainer scripts and the identity of a .deb from dpkg-deb -I', () => {
    const text = [
      ' new Debian package, version 2.0.',
      ' size 998 bytes: control archive=655 bytes.',
      '      15 bytes,     1 lines      conffiles            ',
      '     204 bytes,     8 lines      control              ',
      '     411 bytes,     8 lines   *  postinst             #!/bin/sh',
      '     402 bytes,     8 lines   *  config               #!/bin/sh',
      '      80 bytes,     2 lines      triggers             ',
      ' Package: demo',
      ' Version: 1:2.0-1',
      ' Architecture: all',
      ' Description: x',
      '  Package: not-a-field',
      '',
    ].join('\n');
    expect(parseDebInfo(text)).toEqual({ name: 'demo', version: '1:2.0-1', architecture: 'all', scripts: ['postinst', 'config'] });
  });
});
