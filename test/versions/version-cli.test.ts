import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('rollwise version compare', () => {
  it('exits 0/1 per scheme, like dpkg --compare-versions', () => {
    expect(runCli(['version', 'compare', '1:0.9', 'gt', '2.0']).status).toBe(0);
    expect(runCli(['version', 'compare', '--scheme', 'semver', '1.10.0', '>>', '1.9.0']).status).toBe(0);
    expect(runCli(['version', 'compare', '--scheme', 'semver', '1.0.0-rc.1', '>=', '1.0.0']).status).toBe(1);
    expect(runCli(['version', 'compare', '10', '<<', '9', '--scheme', 'cudf']).status).toBe(1);
    expect(runCli(['version', 'compare', '--scheme', 'cudf', '3', '!=', '4']).status).toBe(0);
  });

  it('exits 2 with one coded line for a bad version, relation or scheme', () => {
    const badVersion = runCli(['version', 'compare', '--scheme', 'semver', 'v1.0.0', '=', '1.0.0']);
    expect(badVersion.status).toBe(2);
    expect(badVersion.stderr.trim().split('\n')).toHaveLength(1);
    expect(badVersion.stderr).toMatch(/^rollwise: RW_BAD_VERSION: 'v1.0.0' is not a valid semantic version/);
    const badOp = runCli(['version', 'compare', '1.0', '~=', '1.0']);
    expect(badOp.status).toBe(2);
    expect(badOp.stderr).toMatch(/RW_USAGE: unknown relation '~='/);
    const badScheme = runCli(['version', 'compare', '--scheme', 'rpm', '1', '=', '1']);
    expect(badScheme.status).toBe(2);
    expect(badScheme.stderr).toMatch(/deb, semver, cudf/);
    expect(badScheme.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('rollwise version sort', () => {
  it('prints Debian versions in dpkg order, equal ones in input order, and in reverse', () => {
    const input = '1.0\n1:0.9\n1.0~rc1\n1.0-0\n1.0+b1\n1.0a\n0.9\n';
    const up = runCli(['version', 'sort'], { input });
    expect(up.status).toBe(0);
    expect(up.stdout).toBe('0.9\n1.0~rc1\n1.0\n1.0-0\n1.0a\n1.0+b1\n1:0.9\n');
    const down = runCli(['version', 'sort', '--reverse'], { input: input.replace(/\n/g, '\r\n') });
    expect(down.status).toBe(0);
    expect(down.stdout).toBe('1:0.9\n1.0+b1\n1.0a\n1.0\n1.0-0\n1.0~rc1\n0.9\n');
  });

  it('sorts semver and CUDF versions by their own order', () => {
    const sv = runCli(['version', 'sort', '--scheme', 'semver'], { input: '1.10.0\n1.9.0\n1.0.0\n1.0.0-rc.1\n1.0.0-alpha\n' });
    expect(sv.stdout).toBe('1.0.0-alpha\n1.0.0-rc.1\n1.0.0\n1.9.0\n1.10.0\n');
    const cudf = runCli(['version', 'sort', '--scheme', 'cudf'], { input: '10\n9\n100\n1' });
    expect(cudf.status).toBe(0);
    expect(cudf.stdout).toBe('1\n9\n10\n100\n');
  });

  it('reports a bad line as <stdin>:LINE:1, exits 2 and prints nothing', () => {
    const r = runCli(['version', 'sort'], { input: '1.0\n2.0\n3.0;rm -rf /\n4.0\n' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^rollwise: RW_BAD_VERSION: <stdin>:3:1: '3\.0;rm -rf \/' is not a valid Debian version/);
    const blank = runCli(['version', 'sort', '--scheme', 'cudf'], { input: '1\n\n2\n' });
    expect(blank.status).toBe(2);
    expect(blank.stderr).toMatch(/<stdin>:2:1: '' is not a valid CUDF version: version string is empty/);
  });

  it('prints nothing for empty input, and explains itself in --help', () => {
    const empty = runCli(['version', 'sort'], { input: '' });
    expect(empty.status).toBe(0);
    expect(empty.stdout).toBe('');
    const help = runCli(['version', 'sort', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--scheme <scheme>/);
    expect(help.stdout).toMatch(/--reverse/);
    expect(help.stdout).toMatch(/<stdin>:LINE:1/);
  });
});
