// A file given as a Packages index, a dpkg status file or a CUDF document that is not one at all
// (a private key, a .env file, a binary, a compressed key) is refused with its position and the
// kind of problem, and its content never appears in the error. Once a file did start like the
// right kind, a later bad line is quoted only as a short, escaped excerpt.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  loadCudf, loadDebianIndex, loadDpkgStatus, parseCudf, parseDebianPackages, parseDpkgStatus, scanControlStream, streamDebianIndex,
} from '../../src/kb/index.js';
import { RollwiseError } from '../../src/shared/index.js';
import { runCli } from '../helpers/cli.js';
import { addDebianPackagesFast, createUniverseBuilder, loadDebianUniverse } from '../../src/universe/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rw-not-a-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh private key: OpenSSH format when ssh-keygen is there, else PKCS#8 PEM. */
function makeKey(): Buffer {
  const path = join(dir, 'id_ed25519');
  try {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rollwise-test', '-f', path], { stdio: 'ignore' });
    return readFileSync(path);
  } catch {
    const { privateKey } = generateKeyPairSync('ed25519');
    return Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  }
}

/** Deterministic "random" bytes (xorshift), starting with a byte that is no compression magic. */
function randomBytes(n: number, seed = 0x9e3779b9): Buffer {
  const b = Buffer.alloc(n);
  let x = seed | 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    b[i] = x & 0xff;
  }
  b[0] = 0xc3;
  return b;
}

const KEY = makeKey();
const ENV = Buffer.from('API_KEY=sk_live_0123456789abcdef\nDB_PASSWORD=correct-horse-battery-staple\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG\n');
const BINARY = randomBytes(4096);

/** Every run of 10 characters of the file's non-blank lines (its body) that could leak. */
function secretsOf(content: Buffer): string[] {
  const out = new Set<string>();
  for (const line of content.toString('latin1').split('\n')) {
    const t = line.trim();
    if (t.length < 10) { if (t.length >= 6) out.add(t); continue; }
    for (let i = 0; i + 10 <= t.length; i += 3) out.add(t.slice(i, i + 10));
  }
  return [...out];
}

function expectNoLeak(e: RollwiseError, content: Buffer): void {
  const shown = `${e.render()}\n${e.hint}`;
  for (const s of secretsOf(content)) expect(shown, `leaks ${JSON.stringify(s)}`).not.toContain(s);
}

function caughtSync(f: () => unknown): RollwiseError {
  try {
    f();
  } catch (e) {
    if (e instanceof RollwiseError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

async function caught(p: Promise<unknown> | (() => Promise<unknown>)): Promise<RollwiseError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof RollwiseError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

function write(name: string, content: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

interface Case {
  what: string;
  content: Buffer;
  /** What the decompressing index loaders see. */
  problem: RegExp;
  /** What the readers of the bytes as given (status, CUDF, in-memory) see, when different. */
  rawProblem?: RegExp;
  /** The text that must not leak, when not the content itself. */
  secret?: Buffer;
}

const NOT_FIELD = /it does not start with a 'Field: value' line/;
const CASES: Case[] = [
  { what: 'a private key', content: KEY, problem: NOT_FIELD },
  { what: 'a .env file', content: ENV, problem: NOT_FIELD },
  { what: 'random binary bytes', content: BINARY, problem: /it holds binary data/ },
  { what: 'a gzip-compressed private key', content: gzipSync(KEY), problem: NOT_FIELD, rawProblem: /it is gzip-compressed data/, secret: KEY },
];

function expectNotA(e: RollwiseError, code: string, what: string, file: string, problem: RegExp, content: Buffer): void {
  expect(e.code).toBe(code);
  expect(e.position).toEqual({ file, line: 1, column: 1 });
  expect(e.message).toMatch(new RegExp(`^not ${what}: `));
  expect(e.message).toMatch(problem);
  expect(e.message).toMatch(/\(its content is not shown\)$/);
  expect(e.render()).toContain(`${file}:1:1: not ${what}`);
  expectNoLeak(e, content);
}

describe('a file that is not a Packages index at all', () => {
  for (const c of CASES) {
    it(`refuses ${c.what} (loadDebianIndex, streamDebianIndex, parseDebianPackages)`, async () => {
      const file = write(`index-${c.what.replace(/\W+/g, '-')}`, c.content);
      expectNotA(await caught(loadDebianIndex(file)), 'RW_INDEX_PARSE', 'a Debian Packages index', file, c.problem, c.secret ?? c.content);
      expectNotA(await caught(async () => { for await (const _ of streamDebianIndex(file)) { /* drain */ } }), 'RW_INDEX_PARSE', 'a Debian Packages index', file, c.problem, c.secret ?? c.content);
      // in memory: the text as given (a compressed key is binary data here)
      expectNotA(caughtSync(() => parseDebianPackages(c.content, file)), 'RW_INDEX_PARSE', 'a Debian Packages index', file, c.rawProblem ?? c.problem, c.secret ?? c.content);
    });

    it(`refuses ${c.what} on the byte fast path (addDebianPackagesFast, loadDebianUniverse)`, async () => {
      const file = write(`fast-${c.what.replace(/\W+/g, '-')}`, c.content);
      expectNotA(caughtSync(() => addDebianPackagesFast(createUniverseBuilder(), c.content, file, { name: 'x' })), 'RW_INDEX_PARSE', 'a Debian Packages index', file, c.rawProblem ?? c.problem, c.secret ?? c.content);
      expectNotA(await caught(loadDebianUniverse([file])), 'RW_INDEX_PARSE', 'a Debian Packages index', file, c.problem, c.secret ?? c.content);
    });
  }

  it('refuses an xz-compressed key by its decompressed text', async () => {
    let xz: Buffer;
    try {
      xz = execFileSync('xz', ['-zc'], { input: KEY });
    } catch {
      throw new Error('the xz program is missing: apt-get install xz-utils');
    }
    const file = write('key.xz', xz);
    expectNotA(await caught(loadDebianIndex(file)), 'RW_INDEX_PARSE', 'a Debian Packages index', file, NOT_FIELD, KEY);
    expectNotA(caughtSync(() => parseDebianPackages(xz, file)), 'RW_INDEX_PARSE', 'a Debian Packages index', file, /it is xz-compressed data/, KEY);
  });

  it('decides on a stream fed byte by byte, and gives the line of the first field line', async () => {
    const oneByOne = async function* (b: Buffer): AsyncGenerator<Buffer> { for (let i = 0; i < b.length; i++) yield b.subarray(i, i + 1); };
    const text = Buffer.concat([Buffer.from('\n# a comment\n\n'), KEY]);
    const e = await caught(scanControlStream(oneByOne(text), 'k', () => undefined, { errorCode: 'RW_INDEX_PARSE' }));
    expect(e.position).toEqual({ file: 'k', line: 4, column: 1 });
    expect(e.message).toMatch(/^not a Debian Packages index: /);
    expectNoLeak(e, KEY);
    let stanzas = 0;
    await scanControlStream(oneByOne(Buffer.from('\n# comment\nPackage: a1\nVersion: 1\nArchitecture: all\n\nPackage: b1\nVersion: 1\nArchitecture: all\n')), 'ok', () => { stanzas++; }, { errorCode: 'RW_INDEX_PARSE' });
    expect(stanzas).toBe(2);
  });

  it('still reads indexes that start with blank or comment lines, and empty ones', () => {
    const { records } = parseDebianPackages(Buffer.from('\n  \n# made by hand\nPackage: a1\nVersion: 1\nArchitecture: all\n'), 'x');
    expect(records.map((r) => r.name)).toEqual(['a1']);
    expect(parseDebianPackages(Buffer.alloc(0), 'x').records).toEqual([]);
    expect(parseDebianPackages(Buffer.from('\n\n# nothing\n'), 'x').records).toEqual([]);
  });
});

describe('a file that is not a dpkg status file at all', () => {
  for (const c of CASES) {
    it(`refuses ${c.what} (loadDpkgStatus, parseDpkgStatus)`, async () => {
      const file = write(`status-${c.what.replace(/\W+/g, '-')}`, c.content);
      expectNotA(await caught(loadDpkgStatus(file)), 'RW_STATUS_PARSE', 'a dpkg status file', file, c.rawProblem ?? c.problem, c.secret ?? c.content);
      expectNotA(caughtSync(() => parseDpkgStatus(c.content, file)), 'RW_STATUS_PARSE', 'a dpkg status file', file, c.rawProblem ?? c.problem, c.secret ?? c.content);
    });
  }

  it('says a continuation line first is not a status file either', () => {
    const e = caughtSync(() => parseDpkgStatus(' Package: a1\nStatus: install ok installed\n', 's'));
    expect(e.code).toBe('RW_STATUS_PARSE');
    expect(e.message).toBe("not a dpkg status file: it starts with a continuation line, not a 'Field: value' line (its content is not shown)");
  });
});

describe('a file that is not a CUDF document at all', () => {
  const CUDF_NOT = /it does not start with a 'property: value' line/;
  for (const c of CASES) {
    it(`refuses ${c.what} (loadCudf, parseCudf)`, async () => {
      const file = write(`cudf-${c.what.replace(/\W+/g, '-')}`, c.content);
      const problem = c.rawProblem ?? (c.problem === NOT_FIELD ? CUDF_NOT : c.problem);
      expectNotA(await caught(loadCudf(file)), 'RW_CUDF_PARSE', 'a CUDF document', file, problem, c.secret ?? c.content);
      expectNotA(caughtSync(() => parseCudf(c.content.toString('utf8'), file)), 'RW_CUDF_PARSE', 'a CUDF document', file, problem, c.secret ?? c.content);
    });
  }

  it('refuses a Debian index given as CUDF, and accepts comments and blank lines first', () => {
    const e = caughtSync(() => parseCudf('Package: a1\nVersion: 1\n', 'p.cudf'));
    expect(e.message).toMatch(/^not a CUDF document: /);
    expect(parseCudf('# a comment\n\n  \npreamble: \n\npackage: a\nversion: 1\n', 'p.cudf').packages).toHaveLength(1);
    expect(parseCudf('', 'p.cudf').packages).toEqual([]);
  });
});

describe('a later bad line of a file that started right is quoted short and escaped', () => {
  const secret = `\u001b[2J\u001b]0;pwned\u0007TOKEN=${'s3cr3t'.repeat(30)}`;
  const quoted = (e: RollwiseError): string => {
    const m = /found '(.*)'/.exec(e.message);
    if (!m) throw new Error(`no quote in ${e.message}`);
    return m[1]!;
  };
  const expectShortAndEscaped = (e: RollwiseError): void => {
    const q = quoted(e);
    expect(q.length).toBeLessThanOrEqual(60);
    expect(q).toContain('\\x1b[2J\\x1b]0;pwned\\x07');
    // eslint-disable-next-line no-control-regex
    expect(e.render()).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(e.render()).not.toContain('s3cr3t'.repeat(5)); // the line is cut, not shown whole
  };

  it('in a Packages index (record importer and fast path agree)', () => {
    const text = Buffer.from(`Package: a1\nVersion: 1.0\nArchitecture: all\n\nPackage: b1\nVersion: 1\nArchitecture: all\n${secret}\n`, 'latin1');
    const slow = caughtSync(() => parseDebianPackages(text, 'Packages'));
    expect(slow.code).toBe('RW_INDEX_PARSE');
    expect(slow.position).toEqual({ file: 'Packages', line: 8, column: 1 });
    expect(slow.message).toMatch(/^expected 'Field: value', found '/);
    expectShortAndEscaped(slow);
    const fast = caughtSync(() => addDebianPackagesFast(createUniverseBuilder(), text, 'Packages', { name: 'x' }));
    expect({ message: fast.message, position: fast.position }).toEqual({ message: slow.message, position: slow.position });
  });

  it('in field values: Essential, Installed-Size, Status words, Conffiles', () => {
    const ok = 'Package: a1\nVersion: 1\nArchitecture: all\n';
    expectShortAndEscaped(caughtSync(() => parseDebianPackages(Buffer.from(`${ok}Essential: ${secret}\n`, 'latin1'), 'P')));
    expectShortAndEscaped(caughtSync(() => parseDebianPackages(Buffer.from(`${ok}Installed-Size: ${secret}\n`, 'latin1'), 'P')));
    const st = 'Package: a1\nStatus: install ok installed\nVersion: 1\nArchitecture: all\nConffiles:\n';
    expectShortAndEscaped(caughtSync(() => parseDpkgStatus(`${st} /etc/a ${secret} x y\n`, 's')));
    const bad = caughtSync(() => parseDpkgStatus(`Package: a1\nStatus: ${secret.replace(/\s/g, '')} ok installed\nVersion: 1\nArchitecture: all\n`, 's'));
    expect(bad.message).toMatch(/^unknown want '\\x1b\[2J.{0,50}' in Status$/);
  });

  it('in a CUDF document', () => {
    const e = caughtSync(() => parseCudf(`preamble: \n\npackage: a\nversion: 1\n${secret}\n`, 'p.cudf'));
    expect(e.code).toBe('RW_CUDF_PARSE');
    expect(e.position).toEqual({ file: 'p.cudf', line: 5, column: 1 });
    expect(e.message).toMatch(/^expected 'property: value', found '/);
    expectShortAndEscaped(e);
    expectShortAndEscaped(caughtSync(() => parseCudf(`package: a\nversion: 1\ninstalled: ${secret}\n`, 'p.cudf')));
  });
});

describe('through the CLI', () => {
  it('solve --index KEY: one code, one hint, nothing of the key', () => {
    const file = join(dir, 'key-as-index');
    writeFileSync(file, KEY);
    const r = runCli(['solve', '--index', file, '--install', 'bash']);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^rollwise: RW_INDEX_PARSE: .*key-as-index:1:1: not a Debian Packages index/);
    expect(lines[0]!.match(/RW_[A-Z_]+/g)).toEqual(['RW_INDEX_PARSE']);
    expect(lines[0]!.match(/\(hint: /g)).toHaveLength(1);
    for (const s of secretsOf(KEY)) expect(r.stderr).not.toContain(s);
  });
});
