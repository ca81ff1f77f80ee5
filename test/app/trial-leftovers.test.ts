/**
 * What a new operator's first trial ran into: a misspelt package name gets "no package X; did
 * you mean Y?" (from the loaded universe's names) in solve, why, why-not, plan and kb show; `why`
 * without a request is a usage error. The CLI runs in this process (same parsing, rendering and
 * exit statuses as the binary).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess as cli } from './cli-in-process.js';
import { closestNames, didYouMean } from '../../src/shared/index.js';
import { repoRoot } from '../helpers/cli.js';
import { createFunctionalWorld, type FunctionalWorld } from '../planner/functional-fixture.js';


const index = path.join(repoRoot, 'test', 'fixtures', 'debian', 'Packages');
let world: FunctionalWorld;
beforeAll(() => {
  world = createFunctionalWorld();
});
afterAll(() => world?.cleanup());

describe('did you mean', () => {
  it('closest names by edit distance, nearest first, a few at most; nothing when nothing is close', () => {
    expect(closestNames('postfx', ['postfix', 'mutt', 'postfix-pcre'])).toEqual(['postfix']);
    expect(didYouMean('pyhton3', ['python3', 'python3-foo', 'mawk'])).toBe("; did you mean 'python3'?");
    expect(didYouMean('mwak', ['mawk', 'awk-user', 'original-awk'])).toBe("; did you mean 'mawk'?");
    expect(didYouMean('zzzzzz', ['mawk', 'postfix'])).toBe('');
    expect(didYouMean('ab', ['aa', 'ab1', 'ac', 'ad', 'ae'])).toBe("; did you mean 'aa' or 'ab1' or 'ac'?");
  });

  it('solve, why and why-not name the misspelt package and the close ones, exit 2', async () => {
    const s = await cli(['solve', '--index', index, '--install', 'postfx']);
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/^rollwise: RW_UNKNOWN_PACKAGE: no package postfx; did you mean 'postfix'\? \(hint: /);
    const hold = await cli(['solve', '--index', index, '--install', 'postfix', '--hold', 'mwak']);
    expect(hold.stderr).toMatch(/RW_UNKNOWN_PACKAGE: no package mwak; did you mean 'mawk'\?/);
    const why = await cli(['why', 'pyhton3', '--index', index, '--install', 'mutt']);
    expect(why.status).toBe(2);
    expect(why.stderr).toMatch(/RW_UNKNOWN_PACKAGE: no package pyhton3; did you mean 'python3'\?/);
    const whyNot = await cli(['why-not', 'mutt', '--index', index, '--install', 'postfixx']);
    expect(whyNot.stderr).toMatch(/RW_UNKNOWN_PACKAGE: no package postfixx; did you mean 'postfix'\?/);
    // nothing close: the name alone
    expect((await cli(['solve', '--index', index, '--install', 'zzzzzzzz'])).stderr).toMatch(/RW_UNKNOWN_PACKAGE: no package zzzzzzzz \(hint: /);
    // a virtual name is a name: solved, no error
    const virtual = await cli(['solve', '--index', index, '--install', 'awk']);
    expect(virtual.stderr).toBe('');
    expect(virtual.stdout).toMatch(/^Solution: /);
  });

  it('plan and kb show say it too, and plan stores nothing', async () => {
    const st = path.join(world.dir, 'none.db');
    const p = await cli(['plan', '--kb', world.kb, '--index', world.index, '--inventory', world.inventory, '--store', st, '--install', 'shpo']);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/RW_UNKNOWN_PACKAGE: no package shpo; did you mean 'shop'\?/);
    expect(existsSync(st)).toBe(false);
    const show = await cli(['kb', 'show', 'pgsq', '--kb', world.kb, '--index', world.index]);
    expect(show.status).toBe(2);
    expect(show.stderr).toMatch(/RW_NOT_FOUND: 'pgsq' is neither a package nor a service in the loaded layers \(.*\); did you mean 'pgsql'\?/);
  });
});

describe('why without a request', () => {
  it('is a usage error saying what to give (exit 2, RW_USAGE)', async () => {
    const r = await cli(['why', 'python3', '--index', index]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rollwise: RW_USAGE: why python3: no request to explain \(hint: give the request that brings it in, e\.g\. rollwise why python3 --install PKG/);
    expect(r.stdout).toBe('');
  });
});
