import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('command-line parser errors', () => {
  it.each([
    [['solve', '--instal', 'x'], /unknown option '--instal'.*Did you mean --install\?/],
    [['version', 'compare', '1'], /missing required argument 'op'/],
    [['no-such-command'], /unknown command 'no-such-command'/],
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
