/**
 * Zod's issues in an operator's words, for every YAML reader (inventory, knowledge base, request
 * file): each names the field by its YAML path (`hosts[2].ssh.port`), says what is expected, read
 * off the schema ("a whole number 1–65535", a regex's own message, a description), and quotes what
 * was found short and escaped. No zod wording ("Invalid input: expected string, received number",
 * "Unrecognized key", "Too big") reaches a person.
 *
 * Nothing here knows any one file format: it takes a zod schema, the data it was given and the
 * issues. Callers add their own codes, positions and hints on top (each issue says its `kind`).
 */
import { z } from 'zod';
import { closestNames, excerpt } from './text.js';
import type { YamlPath } from './yaml.js';

/** What kind of mistake an issue is, for callers that give each kind its own code. */
export type WordedIssueKind =
  | 'unknown-field' // a key the schema does not know (`key` names it)
  | 'bad-key' // a key of a free-form mapping that breaks the rule for its keys (`key` names it)
  | 'missing' // a required field is absent (`path` is the mapping that lacks it)
  | 'type' // the wrong kind of value (text where a number goes, a list where a mapping goes)
  | 'value'; // the right kind of value, but not one accepted (out of range, not in the set, bad form)

/** One issue, worded: where it is (a path; with `key`, the key of that mapping) and what to do. */
export interface WordedIssue {
  kind: WordedIssueKind;
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
  /**
   * What the schema's `.describe()` texts are: `'expectation'` (default) when each says what the
   * field accepts ("a Debian version such as 1.22.1-9") and is shown after "expected"; `'notes'`
   * when they document the field ("higher wins when …"): what is expected is then read off the
   * schema's type and the description is added to the hint.
   */
  descriptions?: 'expectation' | 'notes';
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

/** The schema `s` wraps (optional, nullable, default, prefault, readonly; a pipe's input), if any. */
function inner(s: z.ZodType): z.ZodType | undefined {
  if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodReadonly) {
    return s.unwrap() as z.ZodType;
  }
  if (s instanceof z.ZodPipe) return s.in as z.ZodType;
  return undefined;
}

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let i = 0; i < 10; i++) {
    const next = inner(cur);
    if (!next) break;
    cur = next;
  }
  return cur;
}

/** The first description on `s` or a schema it wraps. */
function descriptionOf(s: z.ZodType | undefined): string | undefined {
  let cur = s;
  for (let i = 0; cur && i < 10; i++) {
    if (cur.description) return cur.description;
    cur = inner(cur);
  }
  return undefined;
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

interface CheckDef { check?: string; format?: string; value?: unknown; minimum?: unknown; maximum?: unknown; inclusive?: boolean; error?: (issue?: unknown) => unknown }

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

function listExpectation(s: z.ZodArray): string {
  let min: number | undefined;
  let max: number | undefined;
  for (const c of checksOf(s)) {
    if (c.check === 'min_length' && typeof c.minimum === 'number') min = c.minimum;
    if (c.check === 'max_length' && typeof c.maximum === 'number') max = c.maximum;
    if (c.check === 'length_equals' && typeof c.value === 'number') [min, max] = [c.value, c.value];
  }
  const items = (n: number) => `${n} item${n === 1 ? '' : 's'}`;
  if (min !== undefined && max !== undefined) return min === max ? `a list of ${items(min)}` : `a list of ${min}–${max} items`;
  if (min === 1) return 'a non-empty list';
  if (min !== undefined && min > 1) return `a list of at least ${items(min)}`;
  if (max !== undefined) return `a list of at most ${items(max)}`;
  return 'a list';
}

function oneOf(values: readonly unknown[]): string {
  const shownValues = values.map((v) => (typeof v === 'string' ? `'${excerpt(v)}'` : String(v)));
  return shownValues.length === 1 ? shownValues[0]! : `one of ${shownValues.join(', ')}`;
}

/**
 * What the schema accepts, in words: its description (unless descriptions are notes), a regex's
 * message, or read off its type.
 */
function expectation(s: z.ZodType | undefined, useDescriptions: boolean): string {
  if (!s) return 'something else';
  const u = unwrap(s);
  if (useDescriptions) {
    const d = descriptionOf(s);
    if (d) return d;
  }
  if (u instanceof z.ZodString) return regexMessages(u)[0] ?? ((u.minLength ?? 0) > 0 ? 'non-empty text' : 'text');
  if (u instanceof z.ZodNumber) return numberExpectation(u);
  if (u instanceof z.ZodBoolean) return 'true or false';
  if (u instanceof z.ZodLiteral) return oneOf([...u.values]);
  if (u instanceof z.ZodEnum) return oneOf(u.options);
  if (u instanceof z.ZodArray) return listExpectation(u);
  if (u instanceof z.ZodObject) {
    const keys = Object.keys(u.shape);
    return keys.length > 0 && keys.length <= 8 ? `a mapping (${keys.join(', ')})` : 'a mapping';
  }
  if (u instanceof z.ZodRecord) return 'a mapping';
  if (u instanceof z.ZodUnion) return (u.options as readonly z.ZodType[]).map((o) => expectation(o, useDescriptions)).join(' or ');
  return 'something else';
}

/** Whether a string schema's form is said in words (a regex message, or a description taken as the expectation). */
function formInWords(s: z.ZodType, useDescriptions: boolean): boolean {
  return regexMessages(s).length > 0 || (useDescriptions && descriptionOf(s) !== undefined);
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

function hints(...parts: Array<string | undefined>): { hint?: string } {
  const given = parts.filter((p): p is string => p !== undefined && p !== '');
  // "did you mean 'high'? how much …", "put it in quotes: …; octal mode as …"
  return given.length ? { hint: given.reduce((all, p) => `${all}${/[?.!]$/.test(all) ? ' ' : '; '}${p}`) } : {};
}

function wordIssue(issue: Issue, at: Array<string | number>, ctx: WordingContext, prefix: YamlPath): WordedIssue[] {
  const full = [...prefix, ...at];
  const where = yamlPathText(full);
  const schema = schemaAt(ctx.schema, at);
  const value = valueAt(ctx.data, at);
  const useDescriptions = ctx.descriptions !== 'notes';
  // descriptions that document a field (not what it accepts) go to the hint
  const note = useDescriptions ? undefined : descriptionOf(schema);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = keysOf(schema);
      return issue.keys.map((k): WordedIssue => {
        const near = closestNames(k, allowed)[0];
        return {
          kind: 'unknown-field', path: full, key: k,
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
      const keyRule = u instanceof z.ZodRecord ? expectation(u.keyType as z.ZodType, useDescriptions) : 'a valid key';
      return [{ kind: 'bad-key', path: [...prefix, ...holder], key: String(key), message: `${yamlPathText([...prefix, ...holder])}: key ${quoted(String(key))} is not ${keyRule}` }];
    }
    case 'invalid_union': {
      // the value has the type of exactly one branch: that branch's issues say what is wrong inside it
      const matching = issue.errors.flatMap((branch, i) => (branch.every((x) => x.code === 'invalid_type' && x.path.length === 0) ? [] : [i]));
      const union = schema && unwrap(schema);
      const branch = matching.length === 1 && union instanceof z.ZodUnion ? (union.options as readonly z.ZodType[])[matching[0]!] : undefined;
      if (branch) return wordIssues(issue.errors[matching[0]!]!, { ...ctx, schema: branch, data: value, prefix: full });
      break;
    }
    case 'custom':
      // written by the caller's own refinements, in its own words
      return [{ kind: 'value', path: full, message: `${where}: ${issue.message}`, ...hints(note) }];
    default:
      break;
  }
  if (value === undefined && full.length > 0) {
    const key = full.at(-1);
    return [{ kind: 'missing', path: full.slice(0, -1), message: `${where}: missing`, ...hints(`add '${String(key)}:' with ${expectation(schema, useDescriptions)}`, note) }];
  }
  const kind: WordedIssueKind = issue.code === 'invalid_type' || (issue.code === 'invalid_union' && matchesNoBranchType(issue)) ? 'type' : 'value';
  if (issue.code === 'invalid_format' && schema) {
    // a regex's own message says best what that string should be (also inside a union)
    if (regexMessages(schema).includes(issue.message)) return [{ kind, path: full, message: `${where}: expected ${issue.message}, got ${shown(value)}`, ...hints(note) }];
    if (!formInWords(schema, useDescriptions)) return [{ kind, path: full, message: `${where}: ${shown(value)} is not in the accepted form`, ...hints(note) }];
  }
  const expected = expectation(schema, useDescriptions);
  if (isText(schema) && (typeof value === 'number' || typeof value === 'boolean')) {
    return [{
      kind, path: full, message: `${where}: expected ${expected}, got the ${typeof value} ${shown(value)}`,
      ...hints(`put it in quotes: unquoted, YAML reads it as a ${typeof value}${typeof value === 'number' ? ' (2.10 as 2.1, 0640 as 640)' : ''}`, note),
    }];
  }
  if ((issue.code === 'too_small' || issue.code === 'too_big') && Array.isArray(value)) {
    const found = value.length === 0 ? 'an empty list' : `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
    return [{ kind, path: full, message: `${where}: expected ${expected}, got ${found}`, ...hints(note) }];
  }
  if (issue.code === 'invalid_value' && typeof value === 'string') {
    const near = closestNames(value, issue.values.filter((v): v is string => typeof v === 'string'))[0];
    return [{ kind, path: full, message: `${where}: expected ${expected}, got ${shown(value)}`, ...hints(near ? `did you mean '${near}'?` : undefined, note) }];
  }
  return [{ kind, path: full, message: `${where}: expected ${expected}, got ${shown(value)}`, ...hints(note) }];
}

/** A union none of whose branches takes a value of this type (a number where text or a list go). */
function matchesNoBranchType(issue: z.core.$ZodIssueInvalidUnion): boolean {
  return issue.errors.every((branch) => branch.every((x) => x.code === 'invalid_type' && x.path.length === 0));
}
