import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('command-line parser errors', () => {
  it.each([
    [['solve', '--instal', 'x'], /unknown option '--instal'.*Did you mean --install\?/],
    [['version', 'compare', '1'], /missing required argument 'op'/],
    [['no-such-command'], /unknown command 'no-such-command' \(hint: rollwise --help/],
    [['kb', 'vaildate'], /unknown command 'kb vaildate' \(hint: did you mean 'kb validate'\? rollwise kb --help/],
    [['plna'], /unknown command 'plna' \(hint: did you mean 'plan'\?/],
  ])('%j is one line with a code and a hint, exit 2', (args, message) => {
    const r = runCli(args);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^rollwise: RW_USAGE: /);
    expect(lines[0]).toMatch(message);
    expect(lines[0]).toMatch(/\(hint: .*--help/);
    expect(r.stdout).toBe('');
  });
});

describe('commands given nothing to work on', () => {
  it.each([
    [['fleet', 'show'], /RW_USAGE: no hosts to show \(hint: name the fleet: --inventory FILE/],
    [['solve', '--no-index', '--index', 'test/kb/fixtures/mini/Packages'], /RW_USAGE: nothing to solve: no request and no installed packages \(hint: ask for something/],
  ])('%j: one line with a code and a hint, exit 2', (args, message) => {
    const r = runCli(args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
