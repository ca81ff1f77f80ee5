/**
 * Criteria as apt-cudf and the CUDF solvers write them: the legacy lists (-removed,-new), MISC
 * 2012 (-count(removed), -notuptodate(solution), -unsat_recommends(solution)), apt-cudf.conf's
 * -lex[...] wrapper; anything valid but not optimised (sum, aligned, count by field, other
 * selectors) is named with its column, and syntax errors say where. Then `rollwise cudf
 * --criteria` with apt-cudf's exact argument on a CUDF document.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RollwiseError } from '../../src/shared/index.js';
import { formatCriteria, parseCriteria } from '../../src/solver/index.js';
import { runCli } from '../helpers/cli.js';

function failure(text: string): RollwiseError {
  try {
    parseCriteria(text);
  } catch (e) {
    if (e instanceof RollwiseError) return e;
    throw e;
  }
  throw new Error(`'${text}' was accepted`);
}

describe('criteria: the forms apt-cudf and CUDF solvers use', () => {
  it.each([
    ['-removed,-changed', '-removed,-changed'],
    ['-removed,-new', '-removed,-new'],
    ['-count(removed),-count(changed)', '-removed,-changed'],
    ['-count(removed), -notuptodate(solution), -unsat_recommends(solution), -count(new)', '-removed,-notuptodate,-unmet_recommends,-new'],
    ['-lex[-new,-removed,-notuptodate]', '-new,-removed,-notuptodate'],
    ['+new,-unsat_recommends', '+new,-unmet_recommends'],
    ['-count( removed ) ,+count(new)', '-removed,+new'],
    ['paranoid', '-removed,-changed'],
    ['trendy', '-removed,-notuptodate,-unmet_recommends,-new'],
  ])('%s', (text, expected) => {
    expect(formatCriteria(parseCriteria(text))).toBe(expected);
  });

  it.each([
    ['-removed,-sum(solution,installedsize)', "'-sum(solution,installedsize)' at column 10", /installedsize/],
    ['-count(solution)', "'-count(solution)' at column 1", /selectors removed, changed and new/],
    ['-count(solution,APT-Release:=/a=experimental/),-removed', "'-count(solution,APT-Release:=/a=experimental/)' at column 1", /EDSP field/],
    ['-removed,-notuptodate(changed)', "'-notuptodate(changed)' at column 10", /solution only/],
    ['-aligned(solution,source,sourceversion)', "'-aligned(solution,source,sourceversion)' at column 1", /aligned/],
    ['-removed,-installedsize', "'-installedsize' at column 10", /not a criterion/],
  ])('%s is valid MISC 2012 but not optimised: named, with its column', (text, where, why) => {
    const e = failure(text);
    expect(e.code).toBe('RW_USAGE');
    expect(e.message).toContain(where);
    expect(e.message).toMatch(/not supported/);
    expect(e.message).toMatch(why);
    expect(e.hint).toMatch(/-count\(removed\)/);
  });

  it.each([
    ['removed', /column 1 .*expected '-' or '\+'/],
    ['-removed,', /column 10 .*a criterion is missing/],
    ['-count(removed', /column 15 .*expected ',' or '\)'/],
    ['-removed -changed', /column 10 .*expected ','/],
    ['-lex[-removed', /'-lex\[' is not closed/],
    ['', /column 1 .*a criterion is missing/],
  ])('syntax error in %j says where', (text, message) => {
    const e = failure(text);
    expect(e.code).toBe('RW_USAGE');
    expect(e.message).toMatch(message);
  });
});

describe('rollwise cudf --criteria with MISC 2012 criteria', () => {
  const doc = [
    'preamble: ',
    '',
    'package: a', 'version: 1', 'depends: b',
    '',
    'package: b', 'version: 1', 'installed: true',
    '',
    'package: b', 'version: 2',
    '',
    'package: c', 'version: 1', 'installed: true', 'conflicts: a',
    '',
    'request: ', 'install: a',
    '',
  ].join('\n');

  it('solves with -count(removed),-count(changed) as apt-cudf passes it (one argument, leading dash)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-criteria-'));
    try {
      const file = join(dir, 'problem.cudf');
      writeFileSync(file, doc);
      const r = runCli(['cudf', '--criteria', '-count(removed),-count(changed)', file]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/package: a\nversion: 1\ninstalled: true/);
      expect(r.stdout).toMatch(/package: b\nversion: 1\ninstalled: true/);
      expect(r.stdout).not.toMatch(/package: c/);
      const bad = runCli(['cudf', '--criteria', '-count(removed),-sum(solution,installedsize)', file]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/RW_USAGE: criterion '-sum\(solution,installedsize\)' at column 17/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
