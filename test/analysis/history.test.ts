import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countHistory, historyKey, parseHistory } from '../../src/analysis/index.js';

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'history.yaml');

describe('parseHistory', () => {
  it('reads a YAML history file', () => {
    const r = parseHistory(readFileSync(FIXTURE, 'utf8'), FIXTURE);
    expect(r.problems).toEqual([]);
    expect(r.entries).toEqual([
      { package: 'shopfront', change: 'upgrade', jump: 'major', outcome: 'rolled-back', at: '2026-10-14T09:12:00Z', host: 'app-03' },
      { package: 'shopfront', change: 'upgrade', jump: 'minor', outcome: 'succeeded', at: '2026-09-01' },
      { package: 'libjemalloc2', change: 'install', outcome: 'failed', at: '2026-10-14T09:15:00+02:00' },
    ]);
    const counts = countHistory(r.entries);
    expect(counts.get(historyKey('shopfront', 'upgrade'))).toEqual({ runs: 2, failures: 1 });
    expect(counts.get(historyKey('libjemalloc2', 'install'))).toEqual({ runs: 1, failures: 1 });
  });

  it('reads a JSON list, and an empty file as no history', () => {
    const json = JSON.stringify([{ package: 'less', change: 'remove', outcome: 'succeeded', at: '2026-01-02T03:04:05Z' }], null, 2);
    expect(parseHistory(json, 'h.json')).toEqual({ entries: [{ package: 'less', change: 'remove', outcome: 'succeeded', at: '2026-01-02T03:04:05Z' }], problems: [] });
    expect(parseHistory('', 'empty.yaml')).toEqual({ entries: [], problems: [] });
    expect(parseHistory('entries: []\n', 'none.yaml')).toEqual({ entries: [], problems: [] });
  });

  it('reports every problem at once with file:line:column, keeping the valid entries', () => {
    const text = [
      'entries:',
      '  - { package: less, change: upgrade, outcome: succeeded, at: 2026-01-01 }',
      '  - package: less',
      '    change: upgrade',
      '    outcome: exploded',
      '    at: yesterday',
      '    colour: red',
      '  - package: Not_A_Name',
      '    change: upgrade',
      '  - just text',
      '',
    ].join('\n');
    const r = parseHistory(text, 'h.yaml');
    expect(r.entries).toEqual([{ package: 'less', change: 'upgrade', outcome: 'succeeded', at: '2026-01-01' }]);
    expect(r.problems).toEqual([
      { kind: 'unknown-key', position: { file: 'h.yaml', line: 7, column: 5 }, path: ['entries', 1], key: 'colour' },
      { kind: 'invalid-value', position: { file: 'h.yaml', line: 5, column: 14 }, path: ['entries', 1], key: 'outcome', expected: ['succeeded', 'failed', 'rolled-back'] },
      { kind: 'invalid-value', position: { file: 'h.yaml', line: 6, column: 9 }, path: ['entries', 1], key: 'at', expected: ['iso-date'] },
      { kind: 'missing-key', position: { file: 'h.yaml', line: 8, column: 5 }, path: ['entries', 2], key: 'outcome' },
      { kind: 'missing-key', position: { file: 'h.yaml', line: 8, column: 5 }, path: ['entries', 2], key: 'at' },
      { kind: 'invalid-value', position: { file: 'h.yaml', line: 8, column: 14 }, path: ['entries', 2], key: 'package', expected: ['package-name'] },
      { kind: 'not-an-entry', position: { file: 'h.yaml', line: 10, column: 5 }, path: ['entries', 3] },
    ]);
  });

  it('reports YAML syntax, aliases and a document of the wrong shape as data', () => {
    expect(parseHistory('entries:\n  - package: less\n    package: more\n', 'dup.yaml').problems).toEqual([
      { kind: 'yaml-syntax', position: { file: 'dup.yaml', line: 3, column: 5 }, yamlCode: 'DUPLICATE_KEY' },
    ]);
    expect(parseHistory('entries: 3\n', 'n.yaml').problems).toEqual([{ kind: 'not-a-history', position: { file: 'n.yaml', line: 1, column: 10 } }]);
    expect(parseHistory('history: []\n', 'k.yaml').problems).toEqual([
      { kind: 'unknown-key', position: { file: 'k.yaml', line: 1, column: 1 }, path: [], key: 'history' },
      { kind: 'missing-key', position: { file: 'k.yaml', line: 1, column: 1 }, path: [], key: 'entries' },
    ]);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    expect(parseHistory(bomb, 'bomb.yaml').problems.map((p) => p.kind)).toEqual(['yaml-aliases']);
  });
});
