/**
 * An inventory is data, often written by others: the files it names stay beside it unless the
 * operator allows others, a file that is not a dpkg status file is never quoted (it may be a
 * private key), problems of every host are reported at once, and an alias bomb is a positioned
 * problem. Request and resolutions files get the same alias-bomb treatment.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryError, loadInventory, type InventoryProblem } from '../../src/fleet/index.js';
import { loadRequestFile } from '../../src/planner/index.js';
import { loadResolutionsFile } from '../../src/app/index.js';
import { runCli } from '../helpers/cli.js';

let root: string;
let dir: string;
let key: string;
let keyBody: string[];
const STATUS = 'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n';

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'rw-inv-hostile-'));
  dir = path.join(root, 'inventory');
  mkdirSync(dir);
  key = path.join(root, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  keyBody = readFileSync(key, 'utf8').split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
  writeFileSync(path.join(root, 'outside.status'), STATUS);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function inventory(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

function problemsOf(file: string, options = {}): InventoryProblem[] {
  const r = loadInventory(file, options);
  if (r.ok) throw new Error('expected problems');
  return r.problems;
}

function printed(problems: InventoryProblem[]): string {
  return inventoryError(problems).render();
}

const noKey = (text: string): void => {
  for (const l of keyBody) expect(text).not.toContain(l.slice(0, 16));
  expect(text).not.toMatch(/PRIVATE KEY/);
};

describe('paths an inventory names', () => {
  it('refuses a status file outside its folder (../, absolute), with the position; --allow-outside-paths accepts it', () => {
    const inv = inventory('out.yaml', `hosts:\n  - name: a\n    status: ../outside.status\n  - name: b\n    status: ${path.join(root, 'outside.status')}\n`);
    const p = problemsOf(inv);
    expect(p.map((x) => [x.position.line, x.position.column, /outside the inventory's folder/.test(x.message)])).toEqual([[3, 13, true], [5, 13, true]]);
    expect(printed(p)).toMatch(/--allow-outside-paths/);
    const ok = loadInventory(inv, { allowOutsidePaths: true });
    expect(ok.ok && ok.inventory.hosts.map((h) => h.installed.length)).toEqual([1, 1]);
  });

  it('refuses a link inside the folder that leads out of it', () => {
    symlinkSync(path.join(root, 'outside.status'), path.join(dir, 'linked.status'));
    const p = problemsOf(inventory('link.yaml', 'hosts:\n  - name: a\n    status: linked.status\n'));
    expect(p.map((x) => x.message)).toEqual(["status file 'linked.status' is outside the inventory's folder"]);
  });

  it('an absolute path that stays inside the folder is accepted', () => {
    writeFileSync(path.join(dir, 'in.status'), STATUS);
    const r = loadInventory(inventory('abs.yaml', `hosts:\n  - name: a\n    status: ${path.join(dir, 'in.status')}\n`));
    expect(r.ok).toBe(true);
  });
});

describe('files that are not dpkg status files', () => {
  it('a private key named as a status file: one problem at the status: key, nothing of its content', () => {
    const inside = path.join(dir, 'key.status');
    writeFileSync(inside, readFileSync(key));
    const p = problemsOf(inventory('key.yaml', 'hosts:\n  - name: a\n    status: key.status\n'));
    expect(p.map((x) => [path.basename(x.position.file), x.position.line, x.position.column])).toEqual([['key.yaml', 3, 13]]);
    expect(p[0]!.message).toMatch(/is not a dpkg status file \(its content is not shown\)/);
    noKey(printed(p));
  });

  it('the same key through the CLI with --allow-outside-paths: exit 2, nothing of the key', () => {
    const inv = inventory('key-out.yaml', `hosts:\n  - name: a\n    status: ${key}\n`);
    const r = runCli(['fleet', 'show', '--inventory', inv, '--allow-outside-paths']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/RW_INVENTORY: .*not a dpkg status file/);
    noKey(r.stdout + r.stderr);
    const refused = runCli(['fleet', 'show', '--inventory', inv]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/outside the inventory's folder/);
  });

  it("a status file with a key pasted into it: each bad line by number, none quoted", () => {
    writeFileSync(path.join(dir, 'mixed.status'), `${STATUS}\n${readFileSync(key, 'utf8')}`);
    const p = problemsOf(inventory('mixed.yaml', 'hosts:\n  - name: a\n    status: mixed.status\n'));
    expect(p.length).toBeGreaterThan(2);
    expect(p.every((x) => path.basename(x.position.file) === 'mixed.status' && /not a 'Field: value' line|more problems/.test(x.message))).toBe(true);
    expect(p[0]!.position.line).toBe(6);
    noKey(printed(p));
  });

  it('binary content is not a status file', () => {
    writeFileSync(path.join(dir, 'bin.status'), Buffer.from([0x50, 0x61, 0x63, 0x6b, 0x61, 0x67, 0x65, 0x3a, 0x00, 0xff, 0x0a]));
    const p = problemsOf(inventory('bin.yaml', 'hosts:\n  - name: a\n    status: bin.status\n'));
    expect(p.map((x) => x.message)).toEqual([expect.stringMatching(/is not a dpkg status file/)]);
  });
});

describe('every problem at once', () => {
  it('a schema problem in one host does not hide an unknown group or a missing file in another', () => {
    const p = problemsOf(inventory('many.yaml', 'hosts:\n  - name: a\n    statsu: x\n    installed: []\n  - name: b\n    groups: [nope]\n    installed: []\n  - name: c\n    status: missing.status\n'));
    expect(p.map((x) => `${x.position.line}:${x.position.column} ${x.message.replace(/: \/.*/, '')}`)).toEqual([
      "3:5 hosts[0]: unknown field 'statsu' (did you mean 'status'?)",
      "6:14 unknown group 'nope'",
      '9:13 status file not found',
    ]);
  });
});

describe('YAML alias bombs', () => {
  const bomb = (top: string): string => {
    const levels = ['a: &a [x,x,x,x,x,x,x,x,x]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) levels.push(`${name}: &${name} [${Array(9).fill(`*${'abcdef'[i]}`).join(',')}]`);
    return `${levels.join('\n')}\n${top}\n`;
  };

  it('in an inventory: a positioned problem, not a crash', () => {
    const p = problemsOf(inventory('bomb.yaml', bomb('hosts: []')));
    expect(p.map((x) => [x.position.line, /aliases expand too much/.test(x.message)])).toEqual([[2, true]]);
  });

  it('in a request file and a resolutions file: positioned RW_ errors', () => {
    const req = path.join(root, 'request.yaml');
    writeFileSync(req, bomb('install: [bash]').replace(/^a:/m, 'x-a:'));
    expect(() => loadRequestFile(req)).toThrow(expect.objectContaining({ code: 'RW_REQUEST', position: expect.objectContaining({ line: 2 }) }));
    const res = path.join(root, 'choices.yaml');
    writeFileSync(res, bomb('c1: r1'));
    expect(() => loadResolutionsFile(res)).toThrow(expect.objectContaining({ code: 'RW_USAGE', message: expect.stringMatching(/aliases expand too much/) }));
  });
});
