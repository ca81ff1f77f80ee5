/**
 * An operator's hold and the policy's protection of an installed package (a `protect` item) are
 * different facts: the hold is worded as the request's, the protection as what is true of the host.
 */
import { describe, expect, it } from 'vitest';
import { createProblem, solveRequest, type RequestItem } from '../../src/solver/index.js';
import { recordsFromYaml } from './helpers.js';
import { describeFact, explanationText } from '../helpers/words.js';

const records = recordsFromYaml([
  { name: 'shopfront', version: '1.8.3' },
  { name: 'shopfront', version: '2.0.0', depends: 'libjemalloc2' },
  { name: 'libjemalloc2', version: '5.3.0-1' },
  { name: 'legacy-shop-agent', version: '0.7-2', conflicts: 'libjemalloc2' },
]);
const problem = createProblem(records, [records[0]!, records[3]!]);

function explain(second: RequestItem) {
  const out = solveRequest(problem, { items: [{ kind: 'install', name: 'shopfront', op: '=', version: '2.0.0' }, second] });
  if (out.kind !== 'conflict') throw new Error(`expected a conflict, got ${out.kind}`);
  return out.explanation;
}

describe('protected installed packages vs holds', () => {
  it('a protect item is a protected fact, worded as installed and not removable unless allowed', () => {
    const e = explain({ kind: 'protect', name: 'legacy-shop-agent' });
    const f = e.facts.find((x) => 'requestIndex' in x && x.requestIndex === 1)!;
    expect(f).toMatchObject({ kind: 'protected', name: 'legacy-shop-agent', installed: ['0.7-2'] });
    expect(describeFact(f)).toBe('legacy-shop-agent 0.7-2 is installed and may not be removed unless allowed');
    expect(explanationText(e)).not.toMatch(/hold/);
    expect(explanationText(e)).toMatch(/so the request to install shopfront \(= 2\.0\.0\) cannot be satisfied while keeping legacy-shop-agent installed$/);
  });

  it('an explicit hold stays a request fact worded as a hold', () => {
    const e = explain({ kind: 'hold', name: 'legacy-shop-agent' });
    const f = e.facts.find((x) => 'requestIndex' in x && x.requestIndex === 1)!;
    expect(f.kind).toBe('request');
    expect(describeFact(f)).toBe('the request asks to hold legacy-shop-agent (installed: 0.7-2)');
    expect(explanationText(e)).toMatch(/cannot all be satisfied together: install shopfront \(= 2\.0\.0\); hold legacy-shop-agent$/);
  });
});
