/**
 * Generic runner for resolver scenarios: every YAML file under scenarios/ states a universe, the
 * installed versions, a request and the expected outcome (transaction, or explanation facts and
 * resolutions). One test per file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createProblem, parseCriteria, solveRequest, type RequestItem, type SolverPolicy } from '../../src/solver/index.js';
import { recordsFromYaml, specItem, formatStep } from './helpers.js';
import { checkSolution } from './checker.js';
import { describeEdits, describeFact, explanationText } from '../helpers/words.js';

interface Scenario {
  description: string;
  universe: Array<Record<string, unknown>>;
  installed?: string[];
  request: Array<Record<string, string>>;
  criteria?: string;
  recommends?: boolean;
  refuse?: Record<string, string>;
  expect: {
    transaction?: string[];
    criteria?: Record<string, number>;
    conflict?: { facts: string[]; resolutions?: string[]; minResolutions?: number };
  };
}

const dir = join(import.meta.dirname, 'scenarios');
const groups = readdirSync(dir).sort();

for (const group of groups) {
  describe(group, () => {
    for (const file of readdirSync(join(dir, group)).filter((f) => f.endsWith('.yaml')).sort()) {
      const sc = parse(readFileSync(join(dir, group, file), 'utf8')) as Scenario;
      it(`${file}: ${sc.description}`, () => {
        const records = recordsFromYaml(sc.universe);
        const installedRecords = (sc.installed ?? []).map((s) => {
          const [name, version] = s.split('=');
          const r = records.find((x) => x.name === name && x.version === version);
          if (!r) throw new Error(`installed ${s} not in universe`);
          return r;
        });
        const problem = createProblem(records, installedRecords);
        const items: RequestItem[] = sc.request.map(specItem);
        const policy: SolverPolicy = {};
        if (sc.criteria) policy.criteria = parseCriteria(sc.criteria);
        if (sc.recommends !== undefined) policy.recommends = sc.recommends;
        if (sc.refuse) {
          const refuse = sc.refuse;
          policy.isCandidate = (_pv, rec) => {
            const why = refuse[`${rec.name}=${rec.version}`];
            return why ? { reason: why } : true;
          };
        }
        const out = solveRequest(problem, { items }, policy);
        if (sc.expect.transaction) {
          expect(out.kind, out.kind === 'conflict' ? explanationText(out.explanation) : '').toBe('solution');
          if (out.kind !== 'solution') return;
          expect(out.transaction.map(formatStep).sort()).toEqual([...sc.expect.transaction].sort());
          expect(out.optimal).toBe(true);
          expect(checkSolution(problem, items, out.installedAfter)).toEqual([]);
          for (const [name, value] of Object.entries(sc.expect.criteria ?? {})) {
            expect(out.criteria.find((c) => c.name === name)?.value, name).toBe(value);
          }
          // every added package has a reason chain starting at the request or an installed package
          for (const step of out.transaction) {
            if (step.action === 'remove') continue;
            const chain = out.reasons[`${step.name}=${step.to}`];
            expect(chain?.length, `reasons of ${step.name}`).toBeGreaterThan(0);
          }
        } else {
          expect(out.kind).toBe('conflict');
          if (out.kind !== 'conflict') return;
          const texts = out.explanation.facts.map(describeFact);
          expect(texts.sort()).toEqual([...sc.expect.conflict!.facts].sort());
          expect(out.explanation.minimal).toBe(true);
          if (sc.expect.conflict!.resolutions) {
            expect(out.resolutions.map((r) => describeEdits(r.edits))).toEqual(sc.expect.conflict!.resolutions);
          }
          if (sc.expect.conflict!.minResolutions !== undefined) expect(out.resolutions.length).toBeGreaterThanOrEqual(sc.expect.conflict!.minResolutions);
          for (const res of out.resolutions) {
            const again = solveRequest(problem, res.request, policy);
            expect(again.kind).toBe('solution');
            if (again.kind === 'solution') expect(checkSolution(problem, res.request.items, again.installedAfter)).toEqual([]);
          }
        }
      });
    }
  });
}
