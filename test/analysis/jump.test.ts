import { describe, expect, it } from 'vitest';
import { classifyJump } from '../../src/analysis/index.js';

describe('classifyJump', () => {
  it.each([
    ['deb', '1:2.0-1', '2:2.0-1', 'epoch'],
    ['deb', '2.36-9', '3.0-1', 'major'],
    ['deb', '2.36-9', '2.37-1', 'minor'],
    ['deb', '3.0.11-1', '3.0.13-1', 'patch'],
    ['deb', '3.0.11-1', '3.0.11-2', 'revision'],
    ['deb', '5.3.0-1', '5.3.0-1+b1', 'revision'],
    ['deb', '2.36-9+deb12u13', '2.36-9+deb12u14', 'security'],
    ['deb', '248+deb12u1', '248+deb12u2', 'security'],
    ['deb', '3.0.11-1~deb12u2', '3.0.20-1~deb12u2', 'security'],
    ['deb', '590-2.1~deb12u1', '590-2.1~deb12u2', 'security'],
    ['deb', '15.5-0+deb12u1', '16.1-0+deb12u1', 'major'],
    ['deb', '18.19.0+dfsg-6~deb12u1', '18.20.4+dfsg-1~deb12u2', 'minor'],
    ['deb', 'not a version', '1.0-1', 'major'],
    ['semver', '1.8.3', '2.0.0', 'major'],
    ['semver', '1.8.3', '1.9.0', 'minor'],
    ['semver', '1.8.3', '1.8.4', 'patch'],
    ['semver', '2.0.0-rc.1', '2.0.0', 'revision'],
    ['cudf', '1', '7', 'minor'],
  ] as const)('%s %s → %s is %s', (scheme, from, to, jump) => {
    expect(classifyJump(scheme, from, to)).toBe(jump);
  });

  it('gives a downgrade the size of the way back', () => {
    expect(classifyJump('semver', '2.0.0', '1.8.3')).toBe('major');
    expect(classifyJump('deb', '2:2.0-1', '1:2.0-1')).toBe('epoch');
    expect(classifyJump('deb', '3.0.11-2', '3.0.11-1')).toBe('revision');
  });
});
