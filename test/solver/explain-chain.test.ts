/**
 * A long chain of necessary facts (a dependency ring: p0 → p1 → … → pn-1, which conflicts with p0)
 * is explained whole and proven minimal; a decoy dependency that is not needed stays out. The
 * explanation's minimisation finds most necessary facts by rotating models rather than one
 * solver call per fact (bench/solver.ts times it against the peers).
 */
import { describe, expect, it } from 'vitest';
import { solveCudf } from '../../src/solver/index.js';

function ring(n: number, decoy: boolean): string {
  const out = ['preamble: ', 'property: ', ''];
  for (let i = 0; i < n; i++) {
    const deps = i < n - 1 ? [`p${i + 1}`] : [];
    out.push(`package: p${i}`, 'version: 1', ...(deps.length ? [`depends: ${deps.join(', ')}${decoy && i === 0 ? ', extra' : ''}`] : [`conflicts: p0`]), '');
  }
  if (decoy) out.push('package: extra', 'version: 1', '');
  out.push('request: ', 'install: p0', '');
  return out.join('\n');
}

describe('explanations of long chains', () => {
  it('a ring of 3,000 packages: every depends fact, the conflict and the request, proven minimal', () => {
    const r = solveCudf(ring(3000, false), { timeBudgetMs: 120_000 });
    if (r.kind !== 'fail' || r.outcome.kind !== 'conflict') throw new Error(`expected a conflict, got ${r.kind}`);
    const e = r.outcome.explanation;
    expect(e.minimal).toBe(true);
    expect(e.facts.filter((f) => f.kind === 'depends')).toHaveLength(2999);
    expect(e.facts.filter((f) => f.kind === 'conflict')).toHaveLength(1);
    expect(e.facts.filter((f) => f.kind === 'request')).toHaveLength(1);
    expect(e.facts).toHaveLength(3001);
  });

  it('a needless dependency on the way is not part of it', () => {
    const r = solveCudf(ring(50, true), { timeBudgetMs: 60_000 });
    if (r.kind !== 'fail' || r.outcome.kind !== 'conflict') throw new Error(`expected a conflict, got ${r.kind}`);
    const e = r.outcome.explanation;
    expect(e.minimal).toBe(true);
    expect(JSON.stringify(e.facts)).not.toContain('"extra"');
    expect(e.facts).toHaveLength(51);
  });
});
