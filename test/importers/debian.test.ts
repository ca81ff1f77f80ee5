import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decompressedSizeHint, loadDebianIndex, parseDebianPackages, readDecompressed, streamDebianIndex } from '../../src/kb/index.js';
import type { PackageRecord } from '../../src/kb/index.js';
import { RollwiseError } from '../../src/shared/index.js';

const FIXTURE = new URL('../fixtures/debian/Packages', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'rw-importers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function byName(records: PackageRecord[], name: string): PackageRecord {
  const r = records.find((x) => x.name === name);
  if (!r) throw new Error(`no record ${name}`);
  return r;
}

/** Parse text as a Packages file and return the thrown RollwiseError. */
function errorOf(text: string, file = 'bad/Packages'): RollwiseError {
  try {
    parseDebianPackages(Buffer.from(text, 'utf8'), file);
  } catch (e) {
    if (e instanceof RollwiseError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

function xzAvailable(): void {
  try {
    execFileSync('xz', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('the xz program is missing: apt-get install xz-utils');
  }
}

describe('Debian Packages importer on the hand-made fixture', () => {
  const { records, stats } = parseDebianPackages(readFileSync(FIXTURE), FIXTURE);

  it('reads every stanza with its scalar fields', () => {
    expect(records.map((r) => r.name)).toEqual([
      'base-files', 'libc6', 'libgcc-s1', 'gcc-12-base', 'postfix', 'exim4-daemon-light', 'mutt', 'python3',
      'python3-foo', 'awk-user', 'mawk', 'original-awk',
    ]);
    const bf = byName(records, 'base-files');
    expect(bf).toMatchObject({
      version: '12.4+deb12u5', architecture: 'amd64', scheme: 'deb', essential: true, priority: 'required', section: 'admin',
      installedSize: 341, size: 70612, multiArch: 'foreign', filename: 'pool/main/b/base-files/base-files_12.4+deb12u5_amd64.deb',
      sha256: '0000000000000000000000000000000000000000000000000000000000000001', description: 'Debian base system miscellaneous files',
    });
    expect(bf.provenance).toEqual({ layer: 'debian:Packages', source: FIXTURE, trust: 'distribution', line: 1 });
    expect(byName(records, 'libc6').source).toBe('glibc');
    expect(byName(records, 'libc6').provenance.line).toBe(15);
    expect(byName(records, 'mawk').essential).toBe(false);
  });

  it('parses alternatives, version constraints and all relation fields', () => {
    const postfix = byName(records, 'postfix');
    expect(postfix.depends[6]).toEqual([{ name: 'debconf', op: '>=', version: '0.5' }, { name: 'debconf-2.0' }]);
    expect(postfix.depends[1]).toEqual([{ name: 'dpkg', op: '>=', version: '1.8.3' }]);
    expect(postfix.conflicts).toEqual([{ name: 'mail-transport-agent' }, { name: 'smail' }]);
    expect(postfix.provides).toEqual([{ name: 'default-mta' }, { name: 'mail-transport-agent' }]);
    expect(postfix.replaces).toEqual([{ name: 'mail-transport-agent' }]);
    expect(postfix.recommends).toEqual([[{ name: 'python3' }]]);
    expect(postfix.suggests).toEqual([[{ name: 'postfix-mysql' }], [{ name: 'procmail' }]]);
    const gcc = byName(records, 'libgcc-s1');
    expect(gcc.preDepends).toEqual([[{ name: 'libc6', op: '>=', version: '2.14' }]]);
    expect(gcc.provides).toEqual([{ name: 'libgcc1', version: '1:12.2.0-14' }]);
    expect(gcc.breaks).toEqual([{ name: 'libgcc1', op: '<<', version: '1:10' }]);
    expect(byName(records, 'libc6').breaks).toHaveLength(3);
    expect(byName(records, 'libc6').suggests[1]).toEqual([{ name: 'debconf' }, { name: 'debconf-2.0' }]);
  });

  it('keeps :any qualifiers, drops alternatives restricted to other architectures, joins continuation lines', () => {
    const foo = byName(records, 'python3-foo');
    expect(foo.depends).toEqual([
      [{ name: 'python3', archQualifier: 'any', op: '>=', version: '3.11~' }],
      [{ name: 'dpkg', op: '>=', version: '1.19' }],
    ]);
    expect(foo.conflicts).toEqual([{ name: 'python3-old', archQualifier: 'i386' }]);
    expect(byName(records, 'awk-user').depends).toEqual([
      [{ name: 'awk', op: '>=', version: '1:4' }],
      [{ name: 'mawk', op: '>=', version: '1.3.4' }],
    ]);
    expect(byName(records, 'awk-user').version).toBe('1:2.0~rc1-3');
  });

  it('counts what it read', () => {
    expect(stats.packages).toBe(12);
    expect(stats.essential).toBe(1);
    expect(stats.required).toBe(3);
    expect(stats.architectures).toEqual({ amd64: 10, all: 2 });
    expect(stats.virtualNames).toBe(5); // default-mta, mail-transport-agent, libgcc1, python3-profiler, awk
    expect(stats.relations.provides).toBe(7);
  });
});

describe('compressed and streamed indexes', () => {
  it('reads plain, gzip and xz the same way, detected by content', async () => {
    xzAvailable();
    const plain = readFileSync(FIXTURE);
    const gz = join(dir, 'Packages.gz');
    writeFileSync(gz, gzipSync(plain));
    const xz = join(dir, 'Packages.xz');
    writeFileSync(xz, execFileSync('xz', ['-zc'], { input: plain }));
    const disguised = join(dir, 'Packages-no-suffix');
    writeFileSync(disguised, readFileSync(xz));
    const strip = (rs: PackageRecord[]): unknown => rs.map((r) => ({ ...r, provenance: undefined }));
    const expected = strip(parseDebianPackages(plain, FIXTURE).records);
    for (const p of [FIXTURE, gz, xz, disguised]) {
      const { records, stats } = await loadDebianIndex(p);
      expect(strip(records)).toEqual(expected);
      expect(stats.bytes).toBe(plain.length);
      expect(await decompressedSizeHint(p)).toBe(plain.length);
      expect((await readDecompressed(p)).equals(plain)).toBe(true);
    }
  });

  it('reads apt\'s lz4-compressed lists (/var/lib/apt/lists/*.lz4) too, detected by content', async () => {
    try {
      execFileSync('lz4', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error('the lz4 program is missing: apt-get install lz4');
    }
    const plain = readFileSync(FIXTURE);
    const lz4 = join(dir, 'deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4');
    writeFileSync(lz4, execFileSync('lz4', ['-zc'], { input: plain }));
    const strip = (rs: PackageRecord[]): unknown => rs.map((r) => ({ ...r, provenance: undefined }));
    expect(strip((await loadDebianIndex(lz4)).records)).toEqual(strip(parseDebianPackages(plain, FIXTURE).records));
    expect((await readDecompressed(lz4)).equals(plain)).toBe(true);
    const bad = join(dir, 'bad.lz4');
    writeFileSync(bad, Buffer.from([0x04, 0x22, 0x4d, 0x18, 1, 2, 3]));
    await expect(loadDebianIndex(bad)).rejects.toMatchObject({ code: 'RW_IO', message: expect.stringContaining('lz4 exited') });
  });

  it('streams batches that add up to the whole index', async () => {
    let n = 0;
    for await (const batch of streamDebianIndex(FIXTURE)) n += batch.length;
    expect(n).toBe(12);
  });

  it('fails with RW_IO for a missing file and for a corrupt xz file', async () => {
    xzAvailable();
    await expect(loadDebianIndex(join(dir, 'nope'))).rejects.toMatchObject({ code: 'RW_IO', message: expect.stringContaining('no such file') });
    const bad = join(dir, 'bad.xz');
    writeFileSync(bad, Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.from('garbage')]));
    await expect(loadDebianIndex(bad)).rejects.toMatchObject({ code: 'RW_IO', message: expect.stringContaining('xz exited') });
  });

  it('says to install xz-utils when xz is missing', async () => {
    xzAvailable();
    const xz = join(dir, 'Packages2.xz');
    writeFileSync(xz, execFileSync('xz', ['-zc'], { input: readFileSync(FIXTURE) }));
    const saved = process.env.PATH;
    process.env.PATH = join(dir, 'empty-bin');
    try {
      await expect(loadDebianIndex(xz)).rejects.toMatchObject({ code: 'RW_IO', hint: 'apt-get install xz-utils' });
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('malformed Packages stanzas give positioned RW_INDEX_PARSE errors', () => {
  const ok = 'Package: a1\nVersion: 1.0\nArchitecture: all\n';
  const cases: Array<[string, string, number, number, RegExp]> = [
    ['a line that is not a field', `${ok}\nPackage: b1\nVersion 2.0\nArchitecture: all\n`, 6, 1, /expected 'Field: value'/],
    ['a continuation line first', ` leading\n${ok}`, 1, 1, /continuation line/],
    ['a missing Version', `${ok}\nPackage: b1\nArchitecture: all\n`, 5, 1, /no Version field/],
    ['a missing Package', `${ok}\nVersion: 1\nArchitecture: all\n`, 5, 1, /no Package field/],
    ['a bad version', `${ok}\nPackage: b1\nVersion: 1.0_x?\nArchitecture: all\n`, 6, 10, /not a valid Debian version/],
    ['a bad package name', `Package: B_1\nVersion: 1\nArchitecture: all\n`, 1, 10, /not a valid package name/],
    ['an unclosed constraint', `${ok}Depends: b1 (>= 1.0, c1\n`, 4, 20, /expected '\)'/],
    ['a missing version in a constraint', `${ok}Depends: c1, b1 (>= )\n`, 4, 21, /expected a version/],
    ['an unknown operator', `${ok}Depends: b1 (~ 1)\n`, 4, 14, /expected a relation/],
    ['a dangling alternative', `${ok}Depends: b1 |\n`, 4, 14, /expected a package name/],
    ['alternatives in Conflicts', `${ok}Conflicts: b1 | c1\n`, 4, 15, /alternatives/],
    ['a versioned provide with <<', `${ok}Provides: b1 (<< 2)\n`, 4, 15, /Provides allows only/],
    ['a repeated field', `${ok}Version: 2\n`, 4, 1, /appears twice/],
    ['a bad Essential value', `${ok}Essential: maybe\n`, 4, 12, /expected 'yes' or 'no'/],
    ['a bad version in a relation', `${ok}Depends: x1,\n y1 (>= 1:)\n`, 5, 2, /not a valid Debian version/],
    ['an error on a continuation line', `${ok}Depends: x1,\n y1 (>= 1) z1\n`, 5, 12, /expected ',' or '\|'/],
  ];
  for (const [what, text, line, column, message] of cases) {
    it(`reports ${what}`, () => {
      const e = errorOf(text);
      expect(e.code).toBe('RW_INDEX_PARSE');
      expect(e.message).toMatch(message);
      expect(e.position).toEqual({ file: 'bad/Packages', line, column });
      expect(e.render()).toContain(`bad/Packages:${line}:${column}`);
    });
  }

  it('accepts a trailing comma, empty clauses, CRLF line ends and blank lines with spaces', () => {
    const { records } = parseDebianPackages(Buffer.from('Package: a1\r\nVersion: 1\r\nArchitecture: all\r\nDepends: b1, , c1,\r\n  \r\nPackage: d1\nVersion: 2\nArchitecture: all\n'), 'x');
    expect(records.map((r) => r.name)).toEqual(['a1', 'd1']);
    expect(records[0]!.depends).toEqual([[{ name: 'b1' }], [{ name: 'c1' }]]);
  });
});

describe('the real bookworm main index', () => {
  const INDEX = new URL('../../../shared/data/debian/bookworm-main-amd64.Packages.xz', import.meta.url).pathname;

  it('loads all 63,440 packages with the facts Debian publishes', async () => {
    xzAvailable();
    const { records, stats } = await loadDebianIndex(INDEX);
    expect(stats.packages).toBe(63440);
    expect(records).toHaveLength(63440);
    const libc6 = records.filter((r) => r.name === 'libc6');
    expect(libc6).toHaveLength(1);
    expect(libc6[0]!).toMatchObject({ architecture: 'amd64', multiArch: 'same', source: 'glibc', section: 'libs' });
    expect(libc6[0]!.version.startsWith('2.36-9+deb12u')).toBe(true);
    const bash = records.find((r) => r.name === 'bash')!;
    expect(bash.essential).toBe(true);
    expect(bash.priority).toBe('required');
    expect(bash.preDepends.flat().map((a) => a.name)).toContain('libc6');
    const mta = records.filter((r) => r.provides.some((p) => p.name === 'mail-transport-agent')).map((r) => r.name).sort();
    expect(mta).toEqual(expect.arrayContaining(['postfix', 'exim4-daemon-light', 'exim4-daemon-heavy', 'nullmailer', 'ssmtp', 'msmtp-mta', 'dma']));
    expect(mta.length).toBeGreaterThanOrEqual(10);
    expect(stats.essential).toBeGreaterThan(15);
    expect(stats.architectures.amd64! + stats.architectures.all!).toBe(63440);
  });
});
