/**
 * Multiarch fixtures for the planner's tests. MULTIARCH_LIBC: Multi-Arch: same libc6 2.36-9 and
 * 2.36-10 over libgcc-s1 in amd64 and i386, as records (solver/helpers recordsFromYaml).
 * writeMultiarchFleet, a small multiarch fleet for CLI tests: one index per architecture (amd64, i386) holding
 * Multi-Arch: same libc6 2.36-9 and 2.36-10 over libgcc-s1, and an inventory whose group enables
 * i386 with those indexes bound to its source; `hosts` are the inventory's host lines.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const stanza = (name: string, version: string, arch: string, depends = ''): string =>
  `Package: ${name}\nVersion: ${version}\nArchitecture: ${arch}\nMulti-Arch: same\n${depends ? `Depends: ${depends}\n` : ''}Description: test\n`;

export function writeMultiarchFleet(dir: string, hosts: readonly string[]): void {
  mkdirSync(path.join(dir, 'idx'), { recursive: true });
  for (const arch of ['amd64', 'i386']) {
    writeFileSync(path.join(dir, `idx/bookworm-main-${arch}.Packages`), [
      stanza('libgcc-s1', '12', arch), stanza('libc6', '2.36-9', arch, 'libgcc-s1'), stanza('libc6', '2.36-10', arch, 'libgcc-s1'),
    ].join('\n'));
  }
  writeFileSync(path.join(dir, 'inv.yaml'), [
    'version: 1',
    'groups:',
    '  ma:',
    '    apt:',
    '      architectures: [amd64, i386]',
    '      sources:',
    '        - line: deb http://deb.debian.org/debian bookworm main',
    '          indexes: { amd64: idx/bookworm-main-amd64.Packages, i386: idx/bookworm-main-i386.Packages }',
    'hosts:',
    ...hosts.map((h) => `  - ${h}`),
  ].join('\n'));
}

export const MULTIARCH_LIBC = [
  { name: 'libgcc-s1', version: '12', 'multi-arch': 'same' },
  { name: 'libgcc-s1', version: '12', architecture: 'i386', 'multi-arch': 'same' },
  { name: 'libc6', version: '2.36-9', 'multi-arch': 'same', depends: 'libgcc-s1' },
  { name: 'libc6', version: '2.36-10', 'multi-arch': 'same', depends: 'libgcc-s1' },
  { name: 'libc6', version: '2.36-9', architecture: 'i386', 'multi-arch': 'same', depends: 'libgcc-s1' },
  { name: 'libc6', version: '2.36-10', architecture: 'i386', 'multi-arch': 'same', depends: 'libgcc-s1' },
];
