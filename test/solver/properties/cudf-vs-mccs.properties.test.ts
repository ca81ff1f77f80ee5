/**
 * Differential property in CUDF mode: on small random CUDF documents (versioned depends with
 * alternatives, conflicts, versioned and unversioned provides, an installed state, keep flags,
 * install/remove/upgrade requests), `solveCudf` and mccs (package mccs) agree on whether there
 * is a solution, our solution passes cudf-check (package cudf-tools), and its criteria values
 * (evaluated independently, test/helpers/peers-cudf.ts) equal mccs's, or aspcud's (package
 * aspcud) when mccs's answer is not a valid solution (mccs 1.1 writes an empty solution when
 * `-new` comes first, and says FAIL when a `remove` names a package outside the universe).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCriteria, solveCudf } from '../../../src/solver/index.js';
import { criteriaVector, evaluateCriteria } from '../../helpers/peers-cudf.js';
import { runAspcud, runCudfCheck, runMccs } from '../../helpers/peers.js';

const dir = mkdtempSync(join(tmpdir(), 'rw-cudf-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NAMES = ['a', 'b', 'c', 'd', 'e'];
const OPS = ['', '', '=', '!=', '<', '<=', '>', '>='];
const KEEPS = ['', '', '', 'version', 'package', 'feature'];
const CRITERIA = ['-removed,-changed', '-removed,-notuptodate,-new', '-removed,-changed,-notuptodate', '-new,-removed'];

const atom = fc.record({ name: fc.nat(NAMES.length + 1), op: fc.nat(OPS.length - 1), version: fc.integer({ min: 1, max: 3 }) });
const pkg = fc.record({
  name: fc.nat(NAMES.length - 1),
  version: fc.integer({ min: 1, max: 3 }),
  depends: fc.array(fc.array(atom, { minLength: 1, maxLength: 2 }), { maxLength: 2 }),
  conflicts: fc.array(atom, { maxLength: 1 }),
  provides: fc.array(fc.record({ name: fc.nat(1), version: fc.integer({ min: 0, max: 3 }) }), { maxLength: 1 }),
  installed: fc.boolean(),
  keep: fc.nat(KEEPS.length - 1),
});
const problem = fc.record({
  packages: fc.array(pkg, { minLength: 2, maxLength: 7 }),
  request: fc.array(fc.record({ kind: fc.nat(3), atom }), { minLength: 1, maxLength: 2 }),
  criteria: fc.nat(CRITERIA.length - 1),
});

type Problem = typeof problem extends fc.Arbitrary<infer T> ? T : never;

/** Real names a..e and virtual names v0, v1 (only through provides). */
function writeProblem(p: Problem): string {
  const nameOf = (i: number) => (i < NAMES.length ? NAMES[i]! : `v${i - NAMES.length}`);
  const atomText = (a: { name: number; op: number; version: number }) => `${nameOf(a.name)}${OPS[a.op] ? ` ${OPS[a.op]} ${a.version}` : ''}`;
  const seen = new Set<string>();
  const stanzas: string[] = [];
  for (const q of p.packages) {
    const key = `${NAMES[q.name]}=${q.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const lines = [`package: ${NAMES[q.name]}`, `version: ${q.version}`];
    if (q.depends.length) lines.push(`depends: ${q.depends.map((alts) => alts.map(atomText).join(' | ')).join(', ')}`);
    if (q.conflicts.length) lines.push(`conflicts: ${q.conflicts.map(atomText).join(', ')}`);
    if (q.provides.length) lines.push(`provides: ${q.provides.map((v) => `v${v.name}${v.version ? ` = ${v.version}` : ''}`).join(', ')}`);
    if (q.installed) lines.push('installed: true');
    if (q.installed && KEEPS[q.keep]) lines.push(`keep: ${KEEPS[q.keep]}`);
    stanzas.push(lines.join('\n'));
  }
  const req = ['request: property'];
  for (const kind of ['install', 'remove', 'upgrade'] as const) {
    const items = p.request.filter((r) => ['install', 'install', 'remove', 'upgrade'][r.kind] === kind).map((r) => atomText({ ...r.atom, name: r.atom.name % NAMES.length }));
    if (items.length) req.push(`${kind}: ${items.join(', ')}`);
  }
  stanzas.push(req.join('\n'));
  return `${stanzas.join('\n\n')}\n`;
}

let counter = 0;

describe('CUDF mode agrees with mccs on small random problems', () => {
  it('same solvability, valid solutions, equal criteria values', async () => {
    let solved = 0;
    let mccsWrong = 0;
    await fc.assert(
      fc.asyncProperty(problem, async (p) => {
        const text = writeProblem(p);
        const criteria = CRITERIA[p.criteria]!;
        const file = join(dir, `p${counter++}.cudf`);
        writeFileSync(file, text);
        const ours = solveCudf(text, { criteria: parseCriteria(criteria), file });
        if (ours.kind === 'solution') {
          const check = await runCudfCheck(file, ours.text);
          expect(check.ok, `cudf-check on our solution:\n${check.output}\n${text}\n${ours.text}`).toBe(true);
        }
        // the reference is mccs when its answer is a valid solution; else aspcud (mccs 1.1 writes an
        // empty, invalid solution when -new comes first, and says FAIL on `remove` of an unknown name)
        const m = await runMccs(file, criteria, { timeoutMs: 60_000 });
        let reference: { tool: string; solution: string | undefined } = { tool: 'mccs', solution: m.solution };
        if (m.solution === undefined || !(await runCudfCheck(file, m.solution)).ok) {
          const asp = await runAspcud(file, criteria, { timeoutMs: 60_000 });
          if (asp.solution !== undefined) expect((await runCudfCheck(file, asp.solution)).ok, `aspcud's solution is valid\n${text}`).toBe(true);
          if (m.solution !== undefined || asp.solution !== undefined) mccsWrong++;
          reference = { tool: 'aspcud', solution: asp.solution };
        }
        expect(ours.kind === 'solution', `solvable: rollwise ${ours.kind}, ${reference.tool} ${reference.solution === undefined ? 'FAIL' : 'solution'}\n${text}`).toBe(reference.solution !== undefined);
        if (ours.kind !== 'solution' || reference.solution === undefined) return;
        solved++;
        const a = criteriaVector(evaluateCriteria(text, ours.text), criteria);
        const b = criteriaVector(evaluateCriteria(text, reference.solution), criteria);
        expect(a, `criteria ${criteria}: rollwise vs ${reference.tool}\n${text}\nours:\n${ours.text}\n${reference.tool}:\n${reference.solution}`).toEqual(b);
      }),
      { numRuns: Number(process.env.ROLLWISE_PROPERTY_RUNS ?? 120), seed: Number(process.env.ROLLWISE_PROPERTY_SEED ?? 3) },
    );
    expect(solved).toBeGreaterThan(20);
    if (mccsWrong > 0) console.log(`mccs was wrong on ${mccsWrong} problem(s) (invalid solution, or FAIL where aspcud solves); aspcud was the reference there`);
  }, 600_000);
});
