/**
 * What the knowledge-base loader prints about files that are not what it expects: positions and
 * the kind of problem, never the content of a file that is not a knowledge-base document (a
 * private key given by mistake), at most short escaped excerpts otherwise; a YAML alias bomb is a
 * positioned error, not a crash; control characters never reach the terminal.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKnowledgeBase } from '../../src/kb/index.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
let key: string;
let keyText: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-kb-hostile-'));
  key = path.join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  keyText = readFileSync(key, 'utf8');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every line of the key's body (base64), none of which may be printed. */
const secretLines = (): string[] => keyText.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));

describe('files that are not knowledge-base documents', () => {
  it('a private key given as a KB file: one positioned problem that quotes nothing of it', async () => {
    const kb = await loadKnowledgeBase([key]);
    expect(kb.problems.map((p) => [p.code, p.line, p.column])).toEqual([['RW_KB_TYPE', 1, 1]]);
    const r = runCli(['kb', 'validate', '--no-index', key]);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/not a knowledge-base document/);
    for (const l of secretLines()) {
      expect(r.stdout + r.stderr).not.toContain(l.slice(0, 16));
    }
    expect(r.stdout + r.stderr).not.toMatch(/PRIVATE KEY/);
  });

  it('the same through plan --kb: RW_KB_INVALID with the position, nothing of the key', () => {
    const inv = path.join(dir, 'inventory.yaml');
    writeFileSync(inv, 'hosts:\n  - name: h1\n    installed: ["bash=5.2.15-2"]\n');
    const r = runCli(['plan', '--kb', key, '--inventory', inv, '--install', 'bash', '--store', path.join(dir, 'store.db')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/RW_KB_INVALID: .*id_ed25519:1:1/);
    for (const l of secretLines()) expect(r.stdout + r.stderr).not.toContain(l.slice(0, 16));
  });

  it('a binary file or invalid UTF-8: the position of the first bad byte, nothing quoted', async () => {
    const bin = path.join(dir, 'bin.yaml');
    writeFileSync(bin, Buffer.concat([Buffer.from('apiVersion: rollwise/v1\nkind: Know'), Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('ledgeBase\n')]));
    const kb = await loadKnowledgeBase([bin]);
    expect(kb.problems.map((p) => [p.code, p.line, p.column, /UTF-8|NUL/.test(p.message)])).toEqual([['RW_KB_YAML', 2, 11, true]]);
  });

  it('a YAML alias bomb: a positioned error, exit 2, no stack trace', () => {
    const bomb = path.join(dir, 'bomb.yaml');
    const levels = ['a: &a [x,x,x,x,x,x,x,x,x]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) levels.push(`${name}: &${name} [${Array(9).fill(`*${'abcdef'[i]}`).join(',')}]`);
    writeFileSync(bomb, `${levels.join('\n')}\n`);
    const r = runCli(['kb', 'validate', '--no-index', bomb]);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/bomb\.yaml:2:\d+: RW_KB_YAML YAML aliases expand too much/);
    expect(r.stderr).not.toMatch(/internal error|at .*node_modules/);
  });

  it('control characters from a file are printed escaped, and a long value only as a short excerpt', () => {
    const esc = path.join(dir, 'esc.yaml');
    writeFileSync(esc, `apiVersion: rollwise/v1\nkind: KnowledgeBase\nlayer:\n  name: "x\\e]0;retitled\\a${'y'.repeat(500)}"\n  precedence: 50\n`);
    const r = runCli(['kb', 'validate', '--no-index', esc]);
    expect(r.status).toBe(2);
    expect(r.stdout.includes('\x07') || r.stdout.includes('\x1b')).toBe(false);
    expect(r.stdout).toContain('x\\x1b]0;retitled\\x07');
    expect(r.stdout).not.toContain('y'.repeat(100));
  });
});
