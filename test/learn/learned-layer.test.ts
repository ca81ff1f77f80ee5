// Recording a learned fact: the edit of a learned layer keeps comments and other entries, replaces
// the same deployment's fact instead of duplicating it, refuses a layer people maintain, and the
// file is written through a temporary file that a failure leaves nothing of; the result loads as a
// knowledge base and the planner's rules read the known issue from it.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKnowledgeBase, type KbKnownIssue } from '../../src/kb/index.js';
import { environmentRulesFromKb } from '../../src/planner/index.js';
import { addToLearnedLayer, LearnedLayerProblem } from '../../src/learn/index.js';
import { writeLearnedLayer } from '../../src/app/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rw-learned-layer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const issue = (id: string, title = 'web 2.0 caused the rollback of deployment d1'): KbKnownIssue => ({
  id, title, when: { packages: ['web (= 2.0)'] }, effect: { impact: 'outage', services: ['web'], description: 'error rate 0.25 vs 0.002' },
  severity: 'high', evidence: ['deployment d1 rolled-back'], source: 'rollwise learn: rollback of deployment d1',
});
const HEADER = { date: '2026-12-04', source: 'rollwise learn (deployment d1)' };

describe('the learned layer edit', () => {
  it('a new file gets the learned header; an existing one keeps its comments and entries; the same id is replaced', () => {
    const fresh = addToLearnedLayer(undefined, [issue('learned-d1-web')], HEADER);
    expect(fresh.added).toEqual(['learned-d1-web']);
    expect(fresh.text).toMatch(/trust: learned/);
    expect(fresh.text).toMatch(/precedence: 80/);
    const existing = '# hand-written note\napiVersion: rollwise/v1\nkind: KnowledgeBase\nlayer: { name: learned, precedence: 80, trust: learned }\nknownIssues:\n  - id: old-one # from last year\n    title: t\n    when: { packages: [x] }\n    effect: { impact: outage, description: d }\n    severity: low\n    source: s\n';
    const first = addToLearnedLayer(existing, [issue('learned-d1-web')], HEADER);
    expect(first.text).toContain('# hand-written note');
    expect(first.text).toContain('# from last year');
    const second = addToLearnedLayer(first.text, [issue('learned-d1-web', 'changed title')], HEADER);
    expect(second).toMatchObject({ added: [], replaced: ['learned-d1-web'] });
    expect(second.text.match(/learned-d1-web/g)).toHaveLength(1);
    expect(second.text).toContain('changed title');
    expect(second.text).toContain('old-one');
  });

  it('refuses a layer that is not learned, and text that is not a layer', () => {
    const org = 'apiVersion: rollwise/v1\nkind: KnowledgeBase\nlayer: { name: org, precedence: 50, trust: organisation }\n';
    expect(() => addToLearnedLayer(org, [issue('x')], HEADER)).toThrow(LearnedLayerProblem);
    expect(() => addToLearnedLayer('- a list\n', [issue('x')], HEADER)).toThrow(/not a knowledge-base layer/);
  });
});

describe('writeLearnedLayer', () => {
  it('writes atomically a file the KB loader reads and the planner turns into a known-issue rule', async () => {
    const file = path.join(dir, 'learned.yaml');
    const r = await writeLearnedLayer(file, [issue('learned-d1-web')], HEADER);
    expect(r).toMatchObject({ file, added: ['learned-d1-web'], replaced: [] });
    const kb = await loadKnowledgeBase([file]);
    const rules = environmentRulesFromKb(kb);
    expect(rules.knownIssues.map((k) => [k.id, k.packages, k.severity])).toEqual([['learned-d1-web', ['web'], 'high']]);
    expect(readdirSync(dir)).toEqual(['learned.yaml']);
  });

  it('an invalid existing file is refused with its position, left as it was, and no temporary file stays', async () => {
    const file = path.join(dir, 'broken.yaml');
    const text = 'apiVersion: rollwise/v1\nkind: KnowledgeBase\nlayer: { name: learned, precedence: 80, trust: learned }\nknownIssues:\n  - id: x\n    severity: extreme\n';
    writeFileSync(file, text);
    await expect(writeLearnedLayer(file, [issue('learned-d1-web')], HEADER)).rejects.toMatchObject({ code: 'RW_LEARN', position: { file, line: expect.any(Number) } });
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a layer people maintain is refused (RW_LEARN), untouched', async () => {
    const file = path.join(dir, 'org.yaml');
    const text = 'apiVersion: rollwise/v1\nkind: KnowledgeBase\nlayer: { name: org, precedence: 50, trust: organisation }\n';
    writeFileSync(file, text);
    await expect(writeLearnedLayer(file, [issue('learned-d1-web')], HEADER)).rejects.toMatchObject({ code: 'RW_LEARN', hint: expect.stringContaining('trust: learned') });
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});
