/**
 * How a bad inventory is reported: every problem in one run (duplicate names beside schema
 * problems), each at the file:line:column of its entry, in an operator's words naming the field
 * by its YAML path (never zod's "Expected string, received number"), values quoted short and
 * escaped; and one error whose hint is about the whole report, not the first problem's hint
 * printed after the last problem.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryError, loadInventory, type InventoryProblem } from '../../src/fleet/index.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-inv-report-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, lines: string[]): string {
  const f = path.join(dir, name);
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

function problemsOf(file: string): InventoryProblem[] {
  const r = loadInventory(file);
  if (r.ok) throw new Error('expected problems');
  return r.problems;
}

const at = (p: InventoryProblem): string => `${p.position.line}:${p.position.column} ${p.message}`;

/** zod's own wording, which must never reach an operator. */
const ZOD_WORDING = /expected \w+, received|Invalid input|Invalid option|Invalid key in record|Invalid string|Unrecognized key|Too (big|small)|\bRequired\b|must match pattern|received undefined/i;

const BAD = [
  'hosts:', //                                  1
  '  - name: web1', //                          2
  '    installed: ["nginx=1.22.1-9"]', //       3
  '  - name: web1', //                          4  duplicate of 2, and a schema problem
  '    instaled: []', //                        5
  '  - name: db1', //                           6
  '    installed: ["bash=5.2"]', //             7
  '    ssh: { port: "abc" }', //                8
  '  - name: 42', //                            9
  '    installed: []', //                      10
  '  - installed: []', //                      11  no name
  '  - name: db1', //                          12  duplicate of 6 (which is itself invalid)
  '    status: status/db1', //                 13
  '    ssh: { port: 70000, user: "bad user" }', // 14
  '  - "just a string"', //                    15
];

describe('every problem of a bad inventory in one run', () => {
  it('reports duplicate names together with the schema problems of the same and other entries, each at its position', () => {
    const p = problemsOf(write('bad.yaml', BAD));
    const file = path.join(dir, 'bad.yaml');
    expect(p.map(at)).toEqual([
      `4:11 duplicate host name 'web1' (first defined at ${file}:2:11)`,
      "5:5 hosts[1]: unknown field 'instaled' (did you mean 'installed'?)",
      '8:18 hosts[2].ssh.port: expected a whole number 1–65535, got "abc"',
      '9:11 hosts[3].name: expected a host name (letters, digits, . _ -), got the number 42',
      '11:5 hosts[4].name: missing',
      `12:11 duplicate host name 'db1' (first defined at ${file}:6:11)`,
      '14:18 hosts[5].ssh.port: expected a whole number 1–65535, got 70000',
      '14:31 hosts[5].ssh.user: expected a user name, got "bad user"',
      '15:5 hosts[6]: expected a mapping, got "just a string"',
    ]);
    expect(p.every((x) => x.position.file === file)).toBe(true);
  });

  it('reports a duplicate name even when the top level has problems too', () => {
    const p = problemsOf(write('top.yaml', ['hostz: 1', 'hosts:', '  - name: a', '    installed: []', '  - name: a', '    installed: []']));
    expect(p.map(at)).toEqual([
      "1:1 top level: unknown field 'hostz' (did you mean 'hosts'?)",
      expect.stringMatching(/^5:11 duplicate host name 'a' \(first defined at .*top\.yaml:3:11\)$/),
    ]);
  });

  it('words every kind of schema problem for an operator, naming the YAML path, never in zod words', () => {
    const p = problemsOf(write('kinds.yaml', [
      'version: 2',
      'ssh:',
      '  port: 0',
      'groups:',
      '  "bad group": {}',
      '  web: { labels: [] }',
      'hosts:',
      '  - name: a',
      '    status: ""',
      '    facts: { architecture: "AMD 64", memoryMiB: -3, cpus: 1.5, os: { id: debian, versionId: 12, release: x } }',
      '  - name: b',
      '    labels: { "bad key": x, ok: 5 }',
      '    installed: [ 5, { name: foo }, "bash" ]',
      '    ssh: true',
    ]));
    expect(p.map(at)).toEqual([
      '1:10 version: expected 1, got 2',
      '3:9 ssh.port: expected a whole number 1–65535, got 0',
      '5:3 groups: key "bad group" is not a group name (letters, digits, . _ -)',
      '6:18 groups.web.labels: expected a mapping, got a list',
      '9:13 hosts[0].status: expected the path of a dpkg status file, got ""',
      '10:28 hosts[0].facts.architecture: expected a Debian architecture such as amd64, got "AMD 64"',
      '10:49 hosts[0].facts.memoryMiB: expected a whole number 0 or more, got -3',
      '10:59 hosts[0].facts.cpus: expected a whole number 1 or more, got 1.5',
      '10:93 hosts[0].facts.os.versionId: expected an os-release VERSION_ID such as 12, got the number 12',
      "10:97 hosts[0].facts.os: unknown field 'release'",
      '12:15 hosts[1].labels: key "bad key" is not a label key (letters, digits, . _ / -)',
      '12:33 hosts[1].labels.ok: expected text, got the number 5',
      "13:18 hosts[1].installed[0]: expected an entry 'NAME[:ARCH]=VERSION' or a mapping (name, version, architecture), got 5",
      '13:21 hosts[1].installed[1].version: missing',
      '13:36 hosts[1].installed[2]: expected an entry NAME[:ARCH]=VERSION, got "bash"',
      '14:10 hosts[1].ssh: expected a mapping (host, port, user), got true',
    ]);
    for (const x of p) expect(x.message, x.message).not.toMatch(ZOD_WORDING);
    // hints say what to write
    const hint = (re: RegExp): string | undefined => p.find((x) => re.test(x.message))?.hint;
    expect(hint(/versionId/)).toMatch(/put it in quotes/);
    expect(hint(/unknown field 'release'/)).toBe('fields allowed here: id, versionId, codename');
    expect(hint(/version: missing/)).toBe("add 'version:' with a Debian version such as 1.22.1-9");
  });

  it('a misspelt required field is one problem (the unknown field), not also a missing one', () => {
    const p = problemsOf(write('typo.yaml', ['hosts:', '  - nmae: a', '    installed: []']));
    expect(p.map(at)).toEqual(["2:5 hosts[0]: unknown field 'nmae' (did you mean 'name'?)"]);
  });

  it('quotes values and keys short and escaped', () => {
    const long = 'x'.repeat(200);
    const p = problemsOf(write('esc.yaml', ['hosts:', `  - name: "web\\e[31m${long}"`, '    installed: []', '    "k\\e]0;t\\a": 1']));
    for (const x of p) expect([...x.message].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), x.message).toBe(false);
    const text = p.map((x) => x.message).join('\n');
    expect(text).toContain('hosts[0].name: expected a host name (letters, digits, . _ -), got "web\\x1b[31mxxxx');
    expect(text).toContain('…"');
    expect(text).not.toContain(long);
    expect(text).toContain("hosts[0]: unknown field 'k\\x1b]0;t\\x07'");
  });

  it('an empty inventory, a list and a missing hosts: say what an inventory is', () => {
    expect(problemsOf(write('empty.yaml', [''])).map(at)).toEqual(['1:1 the inventory is empty']);
    expect(problemsOf(write('list.yaml', ['- a'])).map(at)).toEqual(['1:1 top level: expected a mapping (version, defaults, ssh, groups, databases, hosts), got a list']);
    expect(problemsOf(write('nohosts.yaml', ['version: 1'])).map(at)).toEqual(['1:1 hosts: missing']);
  });
});

describe('the error carrying the problems', () => {
  const p1: InventoryProblem = { position: { file: 'inv.yaml', line: 3, column: 3 }, message: "'ssh.config' is refused", hint: 'pass --ssh-config FILE instead' };
  const p2: InventoryProblem = { position: { file: 'inv.yaml', line: 7, column: 5 }, message: 'hosts[1].name: missing', hint: "add 'name:'" };
  const p3: InventoryProblem = { position: { file: 'inv.yaml', line: 9, column: 5 }, message: 'hosts[2]: unknown field x', hint: "add 'name:'" };
  const p4: InventoryProblem = { position: { file: 'inv.yaml', line: 12, column: 9 }, message: 'hosts[3].ssh.port: expected a whole number 1–65535, got 0' };

  it('several problems: each hint on its own problem, and the hint of the error is about the whole report', () => {
    const err = inventoryError([p1, p2, p3, p4], 'inv.yaml');
    expect(err.code).toBe('RW_INVENTORY');
    expect(err.position).toEqual(p1.position);
    expect(err.hint).toBe('fix these 4 problems and run again; `rollwise fleet show --inventory inv.yaml` lists them');
    expect(err.render().split('\n')).toEqual([
      "RW_INVENTORY: inv.yaml:3:3: 'ssh.config' is refused (hint: pass --ssh-config FILE instead)",
      "  inv.yaml:7:5: hosts[1].name: missing (hint: add 'name:')",
      '  inv.yaml:9:5: hosts[2]: unknown field x',
      '  inv.yaml:12:9: hosts[3].ssh.port: expected a whole number 1–65535, got 0',
      '  4 problems in all (hint: fix these 4 problems and run again; `rollwise fleet show --inventory inv.yaml` lists them)',
    ]);
    // no problem's own hint comes after the last problem
    const last = err.render().split('\n').at(-2)!;
    expect(last).not.toMatch(/hint/);
  });

  it('one problem: its message, position and own hint', () => {
    const err = inventoryError([p1], 'inv.yaml');
    expect(err.render()).toBe("RW_INVENTORY: inv.yaml:3:3: 'ssh.config' is refused (hint: pass --ssh-config FILE instead)");
    expect(inventoryError([p4]).render()).toBe('RW_INVENTORY: inv.yaml:12:9: hosts[3].ssh.port: expected a whole number 1–65535, got 0 (hint: fix the inventory and run again)');
  });

  it('names the inventory in the hint as it can be pasted into a shell (FILE when not known)', () => {
    expect(inventoryError([p2, p4], "/tmp/my inv's.yaml").hint).toContain("`rollwise fleet show --inventory '/tmp/my inv'\\''s.yaml'`");
    expect(inventoryError([p2, p4]).hint).toContain('`rollwise fleet show --inventory FILE`');
  });

  it('through the CLI: exit 2, every problem, the whole-report hint last, no zod wording', () => {
    const file = write('cli.yaml', BAD);
    const r = runCli(['fleet', 'show', '--inventory', file]);
    expect(r.status).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`rollwise: RW_INVENTORY: ${file}:4:11: duplicate host name 'web1' (first defined at ${file}:2:11) (hint: host names must be unique: rename or remove one entry)`);
    expect(lines).toHaveLength(10);
    expect(lines.at(-1)).toBe(`  9 problems in all (hint: fix these 9 problems and run again; \`rollwise fleet show --inventory ${file}\` lists them)`);
    expect(r.stderr).not.toMatch(ZOD_WORDING);
    expect(r.stdout).toBe('');
  });
});
