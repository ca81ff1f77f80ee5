/**
 * Multiarch sources: an inventory source names its index file per architecture
 * (`indexes: { amd64: FILE, i386: FILE }`), checked with positions; a host's view holds the
 * foreign architecture's versions only from the indexes its sources read and only when the host
 * has that architecture; index files named for another architecture make a universe's foreign
 * architectures (foreignArchitecturesOf, as the knowledge-base loader uses it).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UniverseBuilder, addDebianPackagesFast, foreignArchitecturesOf, indexArchitecture } from '../../src/universe/index.js';
import { createAptPolicy, createPolicyView } from '../../src/solver/index.js';
import { aptPolicyInputOf, loadInventory, type HostAptConfig } from '../../src/fleet/index.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'rw-ma-sources-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

const stanza = (name: string, version: string, arch: string, extra = ''): string =>
  `Package: ${name}\nVersion: ${version}\nArchitecture: ${arch}\n${extra}Description: test\n`;

function writeIndexes(): { amd64: string; i386: string } {
  mkdirSync(path.join(dir, 'idx'));
  const amd64 = path.join(dir, 'idx/bookworm-main-amd64.Packages');
  const i386 = path.join(dir, 'idx/bookworm-main-i386.Packages');
  writeFileSync(amd64, [stanza('libc6', '2.36-9', 'amd64', 'Multi-Arch: same\n'), stanza('hello', '1', 'amd64', 'Depends: libc6\n')].join('\n'));
  writeFileSync(i386, [stanza('libc6', '2.36-9', 'i386', 'Multi-Arch: same\n'), stanza('hello', '1', 'i386', 'Depends: libc6\n')].join('\n'));
  return { amd64, i386 };
}

describe('multiarch sources', () => {
  it('names index architectures from index and apt list file names', () => {
    expect(indexArchitecture('/x/bookworm-main-i386.Packages.xz')).toBe('i386');
    expect(indexArchitecture('/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-arm64_Packages')).toBe('arm64');
    expect(indexArchitecture('/x/Packages')).toBeUndefined();
    expect(foreignArchitecturesOf(['a/bookworm-main-amd64.Packages', 'a/bookworm-main-i386.Packages', 'l/x_binary-all_Packages'])).toEqual(['i386']);
  });

  it('reads a source with one index per architecture from the inventory', () => {
    writeIndexes();
    writeFileSync(path.join(dir, 'inv.yaml'), [
      'hosts:',
      '  - name: a',
      '    installed: []',
      '    apt:',
      '      architectures: [amd64, i386]',
      '      sources:',
      '        - line: deb http://deb.debian.org/debian bookworm main',
      '          indexes: { amd64: idx/bookworm-main-amd64.Packages, i386: idx/bookworm-main-i386.Packages }',
    ].join('\n'));
    const r = loadInventory(path.join(dir, 'inv.yaml'));
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const apt = r.inventory.hosts[0]!.apt!;
    expect(apt.foreignArchitectures).toEqual(['i386']);
    expect(apt.sources[0]!.indexes).toEqual({ amd64: path.join(dir, 'idx/bookworm-main-amd64.Packages'), i386: path.join(dir, 'idx/bookworm-main-i386.Packages') });
  });

  it('an index for an architecture the host lacks, or a missing file, is a problem at its node', () => {
    writeIndexes();
    writeFileSync(path.join(dir, 'inv.yaml'), [
      'hosts:',
      '  - name: a',
      '    installed: []',
      '    apt:',
      '      sources:',
      '        - line: deb http://deb.debian.org/debian bookworm main',
      '          indexes:',
      '            i386: idx/bookworm-main-i386.Packages',
      '            amd64: idx/missing.Packages',
    ].join('\n'));
    const r = loadInventory(path.join(dir, 'inv.yaml'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const shown = r.problems.map((p) => `${path.basename(p.position.file ?? '')}:${p.position.line}:${p.position.column} ${p.message}`);
    expect(shown.some((s) => /^inv\.yaml:8:\d+ index for architecture 'i386', which this host does not have \(it has amd64\)$/.test(s))).toBe(true);
    expect(shown.some((s) => /^inv\.yaml:9:\d+ index file idx\/missing\.Packages for architecture 'amd64' does not exist/.test(s))).toBe(true);
    expect(shown).toHaveLength(2);
  });

  it('an index keyed by something that is not an architecture is a schema problem at its node', () => {
    writeFileSync(path.join(dir, 'inv.yaml'), [
      'hosts:',
      '  - name: a',
      '    installed: []',
      '    apt:',
      '      sources:',
      '        - { line: "deb http://x/ y main", indexes: { "I386": a } }',
    ].join('\n'));
    const r = loadInventory(path.join(dir, 'inv.yaml'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => `${p.position.line} ${p.message}`).join('\n')).toMatch(/^6 .*Debian architecture/m);
  });

  it("a host's view holds the foreign versions of the indexes its sources read, when it has that architecture", () => {
    const files = writeIndexes();
    const b = new UniverseBuilder({ hostArch: 'amd64', foreignArchs: foreignArchitecturesOf(Object.values(files)) });
    for (const [arch, file] of Object.entries(files)) addDebianPackagesFast(b, readFileSync(file), file, { name: `debian:${arch}`, source: file, release: { suite: 'bookworm', codename: 'bookworm', component: 'main', architecture: arch } });
    const u = b.build();
    const source = { type: 'deb' as const, uri: 'http://deb.debian.org/debian', suite: 'bookworm', components: ['main'], indexes: files, position: { file: 'inv.yaml', line: 1, column: 1 } };
    const withI386: HostAptConfig = { sources: [source], preferences: [], architecture: 'amd64', foreignArchitectures: ['i386'] };
    const nativeOnly: HostAptConfig = { ...withI386, foreignArchitectures: [] };
    const amd64Source: HostAptConfig = { ...withI386, sources: [{ ...source, indexes: { amd64: files.amd64 } }] };
    const none = new Uint8Array(u.pvCount);
    const view = (apt: HostAptConfig) => createPolicyView(createAptPolicy(u, aptPolicyInputOf(u, apt)), none);
    expect(view(withI386).versionsOf('hello:i386').length).toBe(1);
    expect(view(nativeOnly).versionsOf('hello:i386').length).toBe(0);
    expect(view(amd64Source).versionsOf('hello:i386').length).toBe(0);
    expect(view(nativeOnly).versionsOf('hello').length).toBe(1);
  });
});
