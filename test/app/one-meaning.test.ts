/**
 * One relation grammar, one meaning: the same spec fed through every entry point — `solve`
 * and `plan` on the command line, a request file, a knowledge-base relation, a known issue's
 * condition, a kernel range — selects the same versions. The obsolete `<` and `>` mean `<=` and
 * `>=` (as dpkg reads them) everywhere, with a warning where a person typed them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateCondition } from '../../src/fleet/index.js';
import { buildRequest, environmentRulesFromKb, loadRequestFile } from '../../src/planner/index.js';
import { createProblem, parseRequestSpec, type PackageSpec } from '../../src/solver/index.js';
import { createEmptyRecord } from '../../src/kb/index.js';
import { loadKnowledgeBaseWithUniverse, REL } from '../../src/universe/index.js';
import { runCli } from '../helpers/cli.js';

const VERSIONS = ['1.22.1-9', '1.23.0-1', '1.24.0-1', '1.25.2-1'];

/** spec → the versions it selects (and whether a person gets a warning). */
const TABLE: Array<{ spec: string; selects: string[]; warns: boolean }> = [
  { spec: 'nginx (<< 1.24)', selects: ['1.22.1-9', '1.23.0-1'], warns: false },
  { spec: 'nginx (<= 1.24.0-1)', selects: ['1.22.1-9', '1.23.0-1', '1.24.0-1'], warns: false },
  { spec: 'nginx (< 1.24.0-1)', selects: ['1.22.1-9', '1.23.0-1', '1.24.0-1'], warns: true },
  { spec: 'nginx (>> 1.23.0-1)', selects: ['1.24.0-1', '1.25.2-1'], warns: false },
  { spec: 'nginx (> 1.23.0-1)', selects: ['1.23.0-1', '1.24.0-1', '1.25.2-1'], warns: true },
  { spec: 'nginx (>= 1.23.0-1)', selects: ['1.23.0-1', '1.24.0-1', '1.25.2-1'], warns: false },
  { spec: 'nginx (= 1.24.0-1)', selects: ['1.24.0-1'], warns: false },
  { spec: 'nginx:amd64 (<< 1.24)', selects: ['1.22.1-9', '1.23.0-1'], warns: false },
];

let dir: string;
let kbDir: string;
const records = VERSIONS.map((v) => createEmptyRecord('nginx', v, 'amd64', { layer: 'test', source: 'test' }));
const problem = createProblem(records);
const selected = (spec: PackageSpec): string[] => Array.from(problem.set.candidates(spec), (pv) => problem.set.versionOf(pv)).sort();

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-one-meaning-'));
  kbDir = path.join(dir, 'kb');
  mkdirSync(kbDir);
  const pkgs = VERSIONS.map((v) => `      - version: "${v}"`).join('\n');
  const probes = TABLE.map((t, i) => `  - name: probe${i}\n    versions:\n      - version: "1.0"\n        depends: ["${t.spec}"]`).join('\n');
  const issues = TABLE.map((t, i) => `  - id: KI-${i}\n    title: t\n    when:\n      packages: ["${t.spec}"]\n    effect: { impact: outage, description: d }\n    severity: low\n    source: test`).join('\n');
  writeFileSync(path.join(kbDir, 'kb.yaml'), `apiVersion: rollwise/v1\nkind: KnowledgeBase\nlayer: { name: org, precedence: 50 }\npackages:\n  - name: nginx\n    architecture: amd64\n    versions:\n${pkgs}\n${probes}\nknownIssues:\n${issues}\n`);
  writeFileSync(path.join(dir, 'inventory.yaml'), 'hosts:\n  - name: web-1\n    facts: { architecture: amd64, os: { id: debian, versionId: "12" } }\n    installed: []\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the same spec means the same versions at every entry point', () => {
  it.each(TABLE)('$spec', async ({ spec, selects, warns }) => {
    // the request grammar, as `solve --install` and `plan --install` read it
    const warnings: string[] = [];
    expect(selected(parseRequestSpec(spec, '--install', (w) => warnings.push(w)))).toEqual(selects);
    expect(warnings.length > 0).toBe(warns);
    const fromPlan = buildRequest({ install: [spec] }).items[0] as PackageSpec;
    expect(selected(fromPlan)).toEqual(selects);
    // a request file
    const file = path.join(dir, `request-${selects.join('_')}-${warns}.yaml`);
    writeFileSync(file, `install:\n  - "${spec}"\n`);
    expect(selected(loadRequestFile(file).items[0] as PackageSpec)).toEqual(selects);
    // a knowledge-base relation (its candidates in the universe) and a known issue's condition
    const { kb, universe } = await loadKnowledgeBaseWithUniverse([kbDir]);
    const i = TABLE.findIndex((t) => t.spec === spec);
    const u = universe.universe;
    const probe = u.findPv(`probe${i}`, '1.0');
    const [clause] = u.clausesOf(probe, REL.depends);
    expect(Array.from(clause!).flatMap((a) => Array.from(u.candidates(a), (pv) => u.versionOf(pv))).sort()).toEqual(selects);
    expect(kb.problems.filter((p) => p.code === 'RW_KB_DEPRECATED').some((p) => p.message.includes(`'${spec}'`))).toBe(warns);
    const issue = environmentRulesFromKb(kb).knownIssues.find((k) => k.id === `KI-${i}`)!;
    const holdsFor = VERSIONS.filter((v) => evaluateCondition(issue.condition, { facts: { architecture: 'amd64' }, labels: {}, installed: new Map([['nginx', { name: 'nginx', version: v, architecture: 'amd64' }]]) }).truth === 'true');
    expect(holdsFor).toEqual(selects);
  });

  it('solve and plan on the command line both read `<` as `<=`, with a warning', () => {
    // only 1.24.0-1 and 1.25.2-1 exist: `nginx (< 1.24.0-1)` has a solution only if `<` means `<=`
    const narrow = path.join(dir, 'narrow');
    mkdirSync(narrow, { recursive: true });
    writeFileSync(path.join(narrow, 'kb.yaml'), 'apiVersion: rollwise/v1\nkind: KnowledgeBase\nlayer: { name: org, precedence: 50 }\npackages:\n  - name: nginx\n    architecture: amd64\n    versions:\n      - version: "1.24.0-1"\n      - version: "1.25.2-1"\n');
    const solve = runCli(['solve', '--no-index', '--kb', narrow, '--install', 'nginx (< 1.24.0-1)', '--json']);
    expect(solve.status, solve.stderr).toBe(0);
    expect(solve.stderr).toMatch(/warning: --install: '<' is the obsolete spelling of '<='/);
    expect((JSON.parse(solve.stdout) as { transaction: Array<{ name: string; to: string }> }).transaction.find((s) => s.name === 'nginx')!.to).toBe('1.24.0-1');
    const plan = runCli(['plan', '--no-index', '--kb', narrow, '--inventory', path.join(dir, 'inventory.yaml'), '--install', 'nginx (< 1.24.0-1)', '--store', path.join(dir, 'store.db'), '--json']);
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stderr).toMatch(/warning: --install: '<' is the obsolete spelling of '<='/);
    const changes = (JSON.parse(plan.stdout) as { groups: Array<{ outcome: { changes: Array<{ name: string; to: string }> } }> }).groups[0]!.outcome.changes;
    expect(changes.find((c) => c.name === 'nginx')!.to).toBe('1.24.0-1');
    // and `nginx>=1.23` (no parentheses) is one spec in both
    expect(runCli(['solve', '--no-index', '--kb', narrow, '--install', 'nginx>=1.25', '--json']).status).toBe(0);
    expect(runCli(['solve', '--no-index', '--kb', narrow, '--install', 'nginx (<< 1.24.0-1)', '--json']).status).toBe(1);
  });
});
