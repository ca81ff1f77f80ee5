/**
 * Zod's issues in an operator's words: each names the field by its YAML path (`hosts[2].ssh.port`),
 * says what is expected, read off the schema ("a whole number 1–65535", a regex's own message),
 * and quotes what was found short and escaped. No zod wording ("Invalid input: expected string,
 * received number", "Unrecognized key", "Too big") reaches a person.
 *
 * Nothing here knows about inventories: it takes any zod schema, the data it was given and the
 * issues, so it can move to src/shared and serve the other YAML readers (see the fleet report).
 */
import { z } from 'zod';
import { closestNames, excerpt, type YamlPath } from '../shared/index.js';

/** One issue, worded: where it is (a path; with `key`, the key of that mapping) and what to do. */
export interface WordedIssue {
  path: YamlPath;
  /** When set, the problem is the key `key` of the mapping at `path` (point at the key, not a value). */
  key?: string;
  message: string;
  hint?: string;
}

export interface WordingContext {
  /** The schema the data was checked against. */
  schema: z.ZodType;
  /** The data as checked (issue paths are relative to it). */
  data: unknown;
  /** Where `data` sits in the document (`['hosts', 2]`), for the paths shown. */
  prefix?: YamlPath;
}

/** `hosts[2].ssh.port`; keys that are not plain words are quoted; the empty path is "top level". */
export function yamlPathText(path: YamlPath): string {
  if (path.length === 0) return 'top level';
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const word = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg) ? seg : quoted(seg);
      out += out === '' ? word : `.${word}`;
    }
  }
  return out;
}

/** A string from the document, short, escaped and in double quotes. */
function quoted(s: string): string {
  return `"${excerpt(s).replace(/"/g, '\\"')}"`;
}

/** What was found, as an operator reads it. */
function shown(v: unknown): string {
  if (v === null) return 'nothing';
  if (typeof v === 'string') return quoted(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return excerpt(String(v));
}

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let i = 0; i < 10; i++) {
    if (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable || cur instanceof z.ZodDefault || cur instanceof z.ZodReadonly) cur = cur.unwrap() as z.ZodType;
    else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType;
    else break;
  }
  return cur;
}

/** The schema of the value at `path` (relative to `root`), if the path follows the schema. */
function schemaAt(root: z.ZodType, path: YamlPath): z.ZodType | undefined {
  let cur: z.ZodType | undefined = root;
  for (const seg of path) {
    if (!cur) return undefined;
    cur = child(unwrap(cur), seg);
  }
  return cur;
}

function child(s: z.ZodType, seg: string | number): z.ZodType | undefined {
  if (s instanceof z.ZodObject && typeof seg === 'string') return (s.shape as Record<string, z.ZodType>)[seg];
  if (s instanceof z.ZodArray && typeof seg === 'number') return s.element as z.ZodType;
  if (s instanceof z.ZodRecord && typeof seg === 'string') return s.valueType as z.ZodType;
  if (s instanceof z.ZodUnion) {
    for (const o of s.options as readonly z.ZodType[]) {
      const c = child(unwrap(o), seg);
      if (c) return c;
    }
  }
  return undefined;
}

function keysOf(s: z.ZodType | undefined): string[] {
  const u = s && unwrap(s);
  return u instanceof z.ZodObject ? Object.keys(u.shape) : [];
}

function valueAt(data: unknown, path: YamlPath): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

interface CheckDef { check?: string; format?: string; value?: unknown; inclusive?: boolean; error?: (issue?: unknown) => unknown }

function checksOf(s: z.ZodType): CheckDef[] {
  const checks = (s.def as { checks?: Array<{ _zod: { def: CheckDef } }> }).checks ?? [];
  return checks.map((c) => c._zod.def);
}

/** The messages given to a string's `.regex(pattern, message)` checks ("a host name (...)"), a union's included. */
function regexMessages(schema: z.ZodType): string[] {
  const s = unwrap(schema);
  if (s instanceof z.ZodUnion) return (s.options as readonly z.ZodType[]).flatMap((o) => regexMessages(o));
  return checksOf(s).flatMap((c) => {
    if (c.check !== 'string_format' || c.format !== 'regex' || !c.error) return [];
    const m = c.error();
    return typeof m === 'string' ? [m] : [];
  });
}

function numberExpectation(s: z.ZodNumber): string {
  const whole = s.isInt === true;
  let low: number | undefined;
  let lowIncl = true;
  let high: number | undefined;
  let highIncl = true;
  for (const c of checksOf(s)) {
    if (typeof c.value !== 'number') continue;
    if (c.check === 'greater_than') [low, lowIncl] = [c.value, c.inclusive === true];
    if (c.check === 'less_than') [high, highIncl] = [c.value, c.inclusive === true];
  }
  if (whole) {
    // whole numbers: say every bound inclusively (> 0 is 1 or more)
    if (low !== undefined && !lowIncl) [low, lowIncl] = [Math.floor(low) + 1, true];
    if (high !== undefined && !highIncl) [high, highIncl] = [Math.ceil(high) - 1, true];
  }
  const base = whole ? 'a whole number' : 'a number';
  if (low !== undefined && high !== undefined && lowIncl && highIncl) return `${base} ${low}–${high}`;
  const parts = [
    ...(low !== undefined ? [lowIncl ? `${low} or more` : `greater than ${low}`] : []),
    ...(high !== undefined ? [highIncl ? `at most ${high}` : `less than ${high}`] : []),
  ];
  return parts.length ? `${base} ${parts.join(' and ')}` : base;
}

function oneOf(values: readonly unknown[]): string {
  const shownValues = values.map((v) => (typeof v === 'string' ? `'${excerpt(v)}'` : String(v)));
  return shownValues.length === 1 ? shownValues[0]! : `one of ${shownValues.join(', ')}`;
}

/** What the schema accepts, in words: its description, a regex's message, or read off its type. */
export function expectation(s: z.ZodType | undefined): string {
  if (!s) return 'something else';
  if (s.description) return s.description;
  const u = unwrap(s);
  if (u.description) return u.description;
  if (u instanceof z.ZodString) return regexMessages(u)[0] ?? ((u.minLength ?? 0) > 0 ? 'non-empty text' : 'text');
  if (u instanceof z.ZodNumber) return numberExpectation(u);
  if (u instanceof z.ZodBoolean) return 'true or false';
  if (u instanceof z.ZodLiteral) return oneOf([...u.values]);
  if (u instanceof z.ZodEnum) return oneOf(u.options);
  if (u instanceof z.ZodArray) return 'a list';
  if (u instanceof z.ZodObject) {
    const keys = Object.keys(u.shape);
    return keys.length > 0 && keys.length <= 8 ? `a mapping (${keys.join(', ')})` : 'a mapping';
  }
  if (u instanceof z.ZodRecord) return 'a mapping';
  if (u instanceof z.ZodUnion) return (u.options as readonly z.ZodType[]).map((o) => expectation(o)).join(' or ');
  return 'something else';
}

function isText(s: z.ZodType | undefined): boolean {
  return s !== undefined && unwrap(s) instanceof z.ZodString;
}

type Issue = z.core.$ZodIssue;

function pathOf(issue: { path: readonly PropertyKey[] }): Array<string | number> {
  return issue.path.filter((p): p is string | number => typeof p !== 'symbol');
}

/** Every issue worded (an unknown key: one per key); a misspelt required key is its unknown key only. */
export function wordIssues(issues: readonly Issue[], ctx: WordingContext): WordedIssue[] {
  const prefix = ctx.prefix ?? [];
  // A misspelt required key shows up twice (unknown key + missing key): keep the unknown key only.
  const typoTargets = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const at = pathOf(issue);
    const allowed = keysOf(schemaAt(ctx.schema, at));
    for (const k of issue.keys) {
      const near = closestNames(k, allowed)[0];
      if (near) typoTargets.add(JSON.stringify([...at, near]));
    }
  }
  const out: WordedIssue[] = [];
  for (const issue of issues) {
    const at = pathOf(issue);
    if (issue.code !== 'unrecognized_keys' && valueAt(ctx.data, at) === undefined && typoTargets.has(JSON.stringify(at))) continue;
    out.push(...wordIssue(issue, at, ctx, prefix));
  }
  return out;
}

function wordIssue(issue: Issue, at: Array<string | number>, ctx: WordingContext, prefix: YamlPath): WordedIssue[] {
  const full = [...prefix, ...at];
  const where = yamlPathText(full);
  const schema = schemaAt(ctx.schema, at);
  const value = valueAt(ctx.data, at);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = keysOf(schema);
      return issue.keys.map((k): WordedIssue => {
        const near = closestNames(k, allowed)[0];
        return {
          path: full, key: k,
          message: `${where}: unknown field '${excerpt(k)}'${near ? ` (did you mean '${near}'?)` : ''}`,
          ...(allowed.length ? { hint: `fields allowed here: ${allowed.join(', ')}` } : {}),
        };
      });
    }
    case 'invalid_key': {
      // zod's path ends with the offending key; point at it, name the mapping that holds it
      const key = at.at(-1);
      const holder = at.slice(0, -1);
      const record = schemaAt(ctx.schema, holder);
      const u = record && unwrap(record);
      const keyRule = u instanceof z.ZodRecord ? expectation(u.keyType as z.ZodType) : 'a valid key';
      return [{ path: [...prefix, ...holder], key: String(key), message: `${yamlPathText([...prefix, ...holder])}: key ${quoted(String(key))} is not ${keyRule}` }];
    }
    case 'invalid_union': {
      // the value has the type of exactly one branch: that branch's issues say what is wrong inside it
      const matching = issue.errors.flatMap((branch, i) => (branch.every((x) => x.code === 'invalid_type' && x.path.length === 0) ? [] : [i]));
      const union = schema && unwrap(schema);
      const branch = matching.length === 1 && union instanceof z.ZodUnion ? (union.options as readonly z.ZodType[])[matching[0]!] : undefined;
      if (branch) return wordIssues(issue.errors[matching[0]!]!, { schema: branch, data: value, prefix: full });
      break;
    }
    case 'custom':
      // written by this project's refinements, in its own words
      return [{ path: full, message: `${where}: ${issue.message}` }];
    default:
      break;
  }
  if (value === undefined && full.length > 0) {
    const key = full.at(-1);
    return [{ path: full.slice(0, -1), message: `${where}: missing`, hint: `add '${String(key)}:' with ${expectation(schema)}` }];
  }
  // a regex's own message says best what that string should be (also inside a union)
  const expected = issue.code === 'invalid_format' && schema && regexMessages(schema).includes(issue.message) ? issue.message : expectation(schema);
  if (isText(schema) && (typeof value === 'number' || typeof value === 'boolean')) {
    return [{
      path: full, message: `${where}: expected ${expected}, got the ${typeof value} ${shown(value)}`,
      hint: `put it in quotes: unquoted, YAML reads it as a ${typeof value}${typeof value === 'number' ? ', and 2.10 as 2.1' : ''}`,
    }];
  }
  return [{ path: full, message: `${where}: expected ${expected}, got ${shown(value)}` }];
}
