/**
 * Deployment history: what happened when a package was changed before. Entries are plain data
 * (the store persists them later); a history file is YAML or JSON (JSON is read as YAML), either
 * a list of entries or a mapping with an `entries:` list:
 *
 *   entries:
 *     - { package: shopfront, change: upgrade, jump: major, outcome: rolled-back, at: 2026-10-14T09:12:00Z, host: app-03 }
 *
 * Parsing returns every problem at once, each as typed data with its file:line:column (the
 * shared YAML reader), and the entries that were valid.
 */
import { documentData, locatePath, parseSource, syntaxProblems, type SourceDoc, type SourcePosition, type YamlPath } from '../shared/index.js';
import { PACKAGE_NAME_PATTERN } from '../kb/index.js';
import { VERSION_JUMPS, type ChangeKind, type VersionJump } from './model.js';

export type DeploymentOutcome = 'succeeded' | 'failed' | 'rolled-back';
export const DEPLOYMENT_OUTCOMES: readonly DeploymentOutcome[] = ['succeeded', 'failed', 'rolled-back'];
export const CHANGE_KINDS: readonly ChangeKind[] = ['install', 'upgrade', 'downgrade', 'remove'];

export interface DeploymentHistoryEntry {
  package: string;
  change: ChangeKind;
  jump?: VersionJump;
  outcome: DeploymentOutcome;
  /** ISO 8601 date or date-time. */
  at: string;
  host?: string;
}

/** What a history file got wrong, as data (the application words it). */
export type HistoryProblem =
  | { kind: 'yaml-syntax'; position: SourcePosition; yamlCode: string }
  /** Aliases expand too much (a resource-exhaustion attack). */
  | { kind: 'yaml-aliases'; position: SourcePosition }
  /** The document is neither a list of entries nor a mapping with an `entries:` list. */
  | { kind: 'not-a-history'; position: SourcePosition }
  | { kind: 'not-an-entry'; position: SourcePosition; path: Array<string | number> }
  | { kind: 'unknown-key'; position: SourcePosition; path: Array<string | number>; key: string }
  | { kind: 'missing-key'; position: SourcePosition; path: Array<string | number>; key: string }
  /** `expected`: the allowed values, or the grammar's name (`package-name`, `iso-date`, `string`). */
  | { kind: 'invalid-value'; position: SourcePosition; path: Array<string | number>; key: string; expected: string[] };

export interface HistoryParse {
  entries: DeploymentHistoryEntry[];
  problems: HistoryProblem[];
}

const KEYS = ['package', 'change', 'jump', 'outcome', 'at', 'host'] as const;
const REQUIRED = ['package', 'change', 'outcome', 'at'] as const;
const NAME = new RegExp(PACKAGE_NAME_PATTERN);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Parses a history file's text (`file` names it in positions). */
export function parseHistory(text: string, file: string): HistoryParse {
  const src = parseSource(file, text);
  const syntax = syntaxProblems(src);
  if (syntax.length > 0) return { entries: [], problems: syntax.map((s) => ({ kind: 'yaml-syntax', position: s.position, yamlCode: s.code })) };
  const data = documentData(src);
  if (!data.ok) return { entries: [], problems: [{ kind: 'yaml-aliases', position: data.problem.position }] };
  const doc = data.data;
  if (doc === null || doc === undefined) return { entries: [], problems: [] };
  let list: unknown;
  let base: YamlPath;
  if (Array.isArray(doc)) {
    list = doc;
    base = [];
  } else if (isRecord(doc)) {
    const extra = Object.keys(doc).filter((k) => k !== 'entries');
    if (extra.length > 0 || doc.entries === undefined) {
      return {
        entries: [],
        problems: [
          ...extra.map((key): HistoryProblem => ({ kind: 'unknown-key', position: locatePath(src, [key], { key: true }), path: [], key })),
          ...(doc.entries === undefined ? [{ kind: 'missing-key', position: locatePath(src, []), path: [], key: 'entries' } as HistoryProblem] : []),
        ],
      };
    }
    list = doc.entries ?? [];
    base = ['entries'];
  } else {
    return { entries: [], problems: [{ kind: 'not-a-history', position: locatePath(src, []) }] };
  }
  if (!Array.isArray(list)) return { entries: [], problems: [{ kind: 'not-a-history', position: locatePath(src, base) }] };
  const entries: DeploymentHistoryEntry[] = [];
  const problems: HistoryProblem[] = [];
  list.forEach((item, i) => {
    const entry = readEntry(src, [...base, i], item, problems);
    if (entry) entries.push(entry);
  });
  return { entries, problems };
}

function readEntry(src: SourceDoc, path: Array<string | number>, item: unknown, problems: HistoryProblem[]): DeploymentHistoryEntry | undefined {
  if (!isRecord(item)) {
    problems.push({ kind: 'not-an-entry', position: locatePath(src, path), path });
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(item)) {
    if (!(KEYS as readonly string[]).includes(key)) problems.push({ kind: 'unknown-key', position: locatePath(src, [...path, key], { key: true }), path, key });
  }
  for (const key of REQUIRED) {
    if (item[key] === undefined || item[key] === null) problems.push({ kind: 'missing-key', position: locatePath(src, path), path, key });
  }
  const check = (key: (typeof KEYS)[number], ok: (v: unknown) => boolean, expected: string[]): void => {
    const v = item[key];
    if (v === undefined || v === null || ok(v)) return;
    problems.push({ kind: 'invalid-value', position: locatePath(src, [...path, key]), path, key, expected });
  };
  const isString = (v: unknown): v is string => typeof v === 'string';
  check('package', (v) => isString(v) && NAME.test(v), ['package-name']);
  check('change', (v) => isString(v) && (CHANGE_KINDS as readonly string[]).includes(v), [...CHANGE_KINDS]);
  check('jump', (v) => isString(v) && (VERSION_JUMPS as readonly string[]).includes(v), [...VERSION_JUMPS]);
  check('outcome', (v) => isString(v) && (DEPLOYMENT_OUTCOMES as readonly string[]).includes(v), [...DEPLOYMENT_OUTCOMES]);
  check('at', (v) => isString(v) && ISO_DATE.test(v) && !Number.isNaN(Date.parse(v)), ['iso-date']);
  check('host', (v) => isString(v) && v.length > 0, ['string']);
  if (problems.length > before) return undefined;
  const entry: DeploymentHistoryEntry = {
    package: item.package as string,
    change: item.change as ChangeKind,
    outcome: item.outcome as DeploymentOutcome,
    at: item.at as string,
  };
  if (item.jump !== undefined && item.jump !== null) entry.jump = item.jump as VersionJump;
  if (item.host !== undefined && item.host !== null) entry.host = item.host as string;
  return entry;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A failure is an outcome that did not stay: `failed` or `rolled-back`. */
export function isFailure(outcome: DeploymentOutcome): boolean {
  return outcome !== 'succeeded';
}

export interface HistoryCount {
  runs: number;
  failures: number;
}

/** Runs and failures per package and change kind (key `package\0change`). */
export function countHistory(entries: readonly DeploymentHistoryEntry[]): Map<string, HistoryCount> {
  const out = new Map<string, HistoryCount>();
  for (const e of entries) {
    const key = historyKey(e.package, e.change);
    const c = out.get(key) ?? { runs: 0, failures: 0 };
    c.runs++;
    if (isFailure(e.outcome)) c.failures++;
    out.set(key, c);
  }
  return out;
}

export function historyKey(pkg: string, change: ChangeKind): string {
  return `${pkg}\0${change}`;
}
