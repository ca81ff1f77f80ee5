/**
 * Turns zod issues into positioned problems with hints written for people editing YAML.
 */
import type { z } from 'zod';
import { excerpt, locatePath, type YamlPath, type SourceDoc } from '../shared/index.js';
import { createProblem, type KbProblem } from './problems.js';

type AnySchema = z.ZodType;

interface Def {
  type: string;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  innerType?: AnySchema;
  in?: AnySchema;
}

function defOf(s: AnySchema): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (let i = 0; i < 10; i++) {
    const d = defOf(cur);
    if ((d.type === 'optional' || d.type === 'default' || d.type === 'nullable' || d.type === 'prefault') && d.innerType) cur = d.innerType;
    else if (d.type === 'pipe' && d.in) cur = d.in;
    else break;
  }
  return cur;
}

function descriptionOf(s: AnySchema): string | undefined {
  let cur: AnySchema | undefined = s;
  for (let i = 0; cur && i < 10; i++) {
    if (cur.description) return cur.description;
    const d = defOf(cur);
    cur = d.innerType ?? d.in;
  }
  return undefined;
}

/** The schema that describes the value at `path`, if the path follows the schema. */
export function schemaAt(root: AnySchema, path: YamlPath): AnySchema | undefined {
  let cur: AnySchema | undefined = root;
  for (const seg of path) {
    if (!cur) return undefined;
    const d = defOf(unwrap(cur));
    if (d.type === 'object' && d.shape && typeof seg === 'string') cur = d.shape[seg];
    else if (d.type === 'array' && d.element && typeof seg === 'number') cur = d.element;
    else return undefined;
  }
  return cur;
}

function allowedKeys(root: AnySchema, path: YamlPath): string[] {
  const s = schemaAt(root, path);
  if (!s) return [];
  const d = defOf(unwrap(s));
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

function valueAt(data: unknown, path: YamlPath): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** The closest candidate to `word`, if it is close enough to be a likely typo. */
export function suggestName(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string '${excerpt(v)}'`;
  return `the ${typeof v} ${String(v)}`;
}

function expectedName(e: string): string {
  switch (e) {
    case 'array': return 'a list';
    case 'object': return 'a mapping (key: value)';
    case 'string': return 'a string';
    case 'number': return 'a number';
    case 'boolean': return 'true or false';
    default: return e;
  }
}

/** Map zod issues to positioned problems (one per issue; unknown keys: one per key). */
export function problemsFromZodIssues(src: SourceDoc, root: AnySchema, data: unknown, issues: readonly z.core.$ZodIssue[]): KbProblem[] {
  const out: KbProblem[] = [];
  // A misspelt required key shows up twice (unknown key + missing key): keep the unknown key only.
  const typoTargets = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const allowed = allowedKeys(root, path);
    for (const key of issue.keys) {
      const near = suggestName(key, allowed);
      if (near) typoTargets.add(JSON.stringify([...path, near]));
    }
  }
  for (const issue of issues) {
    const issuePath = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code !== 'unrecognized_keys' && valueAt(data, issuePath) === undefined && typoTargets.has(JSON.stringify(issuePath))) continue;
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const keyName = [...path].reverse().find((p): p is string => typeof p === 'string');
    const described = schemaAt(root, path);
    const desc = described ? descriptionOf(described) : undefined;
    switch (issue.code) {
      case 'unrecognized_keys': {
        const allowed = allowedKeys(root, path);
        for (const key of issue.keys) {
          const near = suggestName(key, allowed);
          const hint = near ? `did you mean '${near}'? allowed here: ${allowed.join(', ')}` : `allowed here: ${allowed.join(', ')}`;
          out.push(createProblem('RW_KB_UNKNOWN_KEY', locatePath(src, [...path, key], { key: true }), `unknown key '${key}'`, hint));
        }
        break;
      }
      case 'invalid_type': {
        const actual = valueAt(data, path);
        if (actual === undefined) {
          out.push(createProblem('RW_KB_MISSING_KEY', locatePath(src, path.slice(0, -1)), `missing required key '${String(keyName ?? path.at(-1))}'`, desc ?? `add '${String(path.at(-1))}:'`));
        } else {
          let hint = desc;
          if (issue.expected === 'string' && (typeof actual === 'number' || typeof actual === 'boolean')) {
            hint = `quote it: '${String(actual)}' as written may not be what YAML reads (e.g. 2.10 becomes 2.1, 0640 becomes 640)` + (desc ? `; ${desc}` : '');
          }
          out.push(createProblem('RW_KB_TYPE', locatePath(src, path), `'${String(keyName ?? 'value')}' must be ${expectedName(issue.expected)}, not ${typeName(actual)}`, hint ?? `write ${expectedName(issue.expected)} here (see docs/knowledge-base.md)`));
        }
        break;
      }
      case 'invalid_value': {
        const actual = valueAt(data, path);
        if (actual === undefined) {
          out.push(createProblem('RW_KB_MISSING_KEY', locatePath(src, path.slice(0, -1)), `missing required key '${String(keyName ?? path.at(-1))}'`, `one of: ${issue.values.map(String).join(', ')}`));
          break;
        }
        const values = issue.values.map(String);
        const near = typeof actual === 'string' ? suggestName(actual, values) : undefined;
        out.push(createProblem('RW_KB_INVALID_VALUE', locatePath(src, path), `'${String(keyName ?? 'value')}' is ${typeName(actual)}, expected one of: ${values.join(', ')}`, near ? `did you mean '${near}'?` : desc));
        break;
      }
      case 'invalid_format': {
        const actual = valueAt(data, path);
        out.push(createProblem('RW_KB_INVALID_VALUE', locatePath(src, path), `'${String(keyName ?? 'value')}' has an invalid format: ${typeName(actual)}`, desc ?? issue.message));
        break;
      }
      default: {
        out.push(createProblem('RW_KB_INVALID_VALUE', locatePath(src, path), `'${String(keyName ?? 'value')}': ${issue.message}`, desc));
      }
    }
  }
  return out;
}
