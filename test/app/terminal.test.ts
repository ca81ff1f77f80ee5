/**
 * What reaches the terminal: every control character that came from a file, host or person is
 * shown escaped (a carriage return or ESC[2K could hide a line, colours could fake a verdict);
 * only the CLI's own colours and progress line are real control sequences.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgress, escapeForTerminal, paletteFor } from '../../src/app/cli/terminal.js';
import { runCli } from '../helpers/cli.js';

/** A stream that records writes and says it is a terminal. */
function fakeTty(): NodeJS.WriteStream & { text: string } {
  const s = { isTTY: true, text: '', write(chunk: string) { s.text += escapeForTerminal(chunk); return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

describe('escapeForTerminal', () => {
  it('escapes C0 and C1 controls except newline and tab', () => {
    expect(escapeForTerminal('a\rb\x1b[2Kc\x9b31md\x07e\x00f\x7f')).toBe('a\\x0db\\x1b[2Kc\\x9b31md\\x07e\\x00f\\x7f');
    expect(escapeForTerminal('line 1\n\tline 2')).toBe('line 1\n\tline 2');
  });

  it('turns only the CLI\'s own colours and progress into control sequences', () => {
    const saved = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    try {
      const tty = fakeTty();
      const p = paletteFor(tty);
      // picocolors decides colour support from the process; when it says no, PLAIN is right too
      const red = escapeForTerminal(p.red('bad'));
      expect(red === 'bad' || red === '\x1b[31mbad\x1b[39m').toBe(true);
      // text that imitates the palette is still escaped
      expect(escapeForTerminal(p.red('\x1b[32mok'))).toContain('\\x1b[32mok');
      const progress = createProgress(tty);
      progress.update('3/7 groups \r forged');
      expect(tty.text).toBe('\r\x1b[2K3/7 groups \\x0d forged');
    } finally {
      if (saved !== undefined) process.env.NO_COLOR = saved;
    }
  });
});

describe('the CLI', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'rw-term-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints an inventory label carrying a carriage return and escape sequences escaped', () => {
    const inv = path.join(dir, 'inventory.yaml');
    writeFileSync(inv, 'hosts:\n  - name: h1\n    labels: { role: "web\\r\\e[2K\\e[31mall good" }\n    installed: ["bash=5.2.15-2"]\n');
    const r = runCli(['fleet', 'show', '--inventory', inv]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('web\\x0d\\x1b[2K\\x1b[31mall good');
    expect((r.stdout + r.stderr).includes('\r') || (r.stdout + r.stderr).includes('\x1b')).toBe(false);
  });
});
