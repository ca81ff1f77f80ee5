/**
 * The README's account of `--group` (rollback-plan, rehearse) is what the code accepts: each
 * `--group X` example there picks the group it says, and a digits-only prefix without `key:` is
 * a group number (RW_USAGE when out of range), as the README says.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { selectGroups } from '../../src/app/cli/commands/review.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const paragraph = readme.split('\n\n').find((p) => p.startsWith('`--group` names one group'))!;
// group 3 has the key the README's examples abbreviate (the example fleet's group 3)
const plan = { groups: ['7e6221f153ca59d2', '628d1fc71ab1f76d', '9066c224f708b6bc', 'fd1dadeecf3926aa'].map((key) => ({ key })) };

describe('README: --group N|KEY', () => {
  it('documents the number, the key prefix and the key:PREFIX forms, each as the code reads it', () => {
    expect(paragraph).toBeDefined();
    const examples = [...paragraph.matchAll(/`--group ([^`]+)`/g)].map((m) => m[1]!);
    expect(examples).toEqual(['3', '9066c2', 'key:9066']);
    for (const e of examples) expect(selectGroups(plan, e), e).toEqual(['9066c224f708b6bc']);
    // "a bare number is a group number": 9066 is no key prefix
    expect(() => selectGroups(plan, '9066')).toThrow(expect.objectContaining({ code: 'RW_USAGE', message: 'no group 9066 in this plan: it has groups 1-4' }));
    expect(readme).toMatch(/rollwise rollback-plan ID \[--group N\|KEY\]/);
    expect(readme).toMatch(/rollwise rehearse ID --on ROOT \[--group N\|KEY\]/);
  });
});
