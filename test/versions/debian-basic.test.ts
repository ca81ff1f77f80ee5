import { describe, expect, it } from 'vitest';
import { compareDebian } from '../../src/versions/index.js';
import { runCli } from '../helpers/cli.js';

describe('Debian version order (basic cases)', () => {
  it.each([
    ['1.0', '1.0-1', -1],
    ['1.0~rc1', '1.0', -1],
    ['1:0.9', '2.0', 1],
    ['1.10', '1.9', 1],
    ['1.0a', '1.0+', -1],
    ['1.0-1', '1.0-1', 0],
  ])('%s vs %s', (a, b, want) => {
    expect(Math.sign(compareDebian(a, b))).toBe(want);
  });

  it('rollwise version compare exits like dpkg --compare-versions', () => {
    expect(runCli(['version', 'compare', '1.0~rc1', '<<', '1.0']).status).toBe(0);
    expect(runCli(['version', 'compare', '1.0', '<<', '1.0~rc1']).status).toBe(1);
    const bad = runCli(['version', 'compare', '1.0;rm', '<<', '1.0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/RW_BAD_VERSION/);
  });
});
