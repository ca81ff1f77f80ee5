/**
 * The deployment request: packages to install, remove and upgrade, each with an optional
 * version constraint; parsed from CLI specs (`nginx`, `nginx=1.22.1-9`, `nginx>=1.22`,
 * `nginx (>= 1.22)`) or a YAML request file, validated by the package-name and version grammar.
 */
import { readFileSync } from 'node:fs';
import { parseDocument, LineCounter } from 'yaml';
import { z } from 'zod';
import { RollwiseError, type SourcePosition } from '../shared/errors.js';
import { isValidDebianVersion } from '../versions/index.js';
import { isValidPackageName, type CompareOp } from '../fleet/index.js';
import { formatItem, type RequestItem as SolverRequestItem } from '../solver/index.js';

export type { SolverRequestItem };

export type RequestOp = Exclude<CompareOp, '!='>;

export interface RequestItem {
  name: string;
  op?: RequestOp;
  version?: string;
}

/**
 * The request: the solver's request items (install/remove/upgrade with constraints; resolutions
 * may add `remove` items, pin a version, or drop an item), so an edited request solves as is.
 */
export interface PlanRequest {
  items: SolverRequestItem[];
}

export function createEmptyRequest(): PlanRequest {
  return { items: [] };
}

const SPEC = /^\s*([^\s(<>=!]+)\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^\s)]+)\s*\)|(<<|<=|>=|>>|=|<|>)\s*(\S+))?\s*$/;

/** Parses one CLI spec; throws RW_REQUEST (bad input, exit 2) naming what is wrong. */
export function parseRequestSpec(spec: string, where = 'request'): RequestItem {
  const m = SPEC.exec(spec);
  if (!m) throw new RollwiseError('RW_REQUEST', `${where}: cannot read '${spec}'`, { hint: 'write NAME, NAME=VERSION, NAME>=VERSION or "NAME (>= VERSION)"' });
  const name = m[1]!;
  if (!isValidPackageName(name)) throw new RollwiseError('RW_BAD_NAME', `${where}: '${name}' is not a valid Debian package name`, { hint: 'lowercase letters, digits and + - . (at least two characters)' });
  let op = (m[2] ?? m[4]) as string | undefined;
  const version = m[3] ?? m[5];
  if (op === '<') op = '<<';
  if (op === '>') op = '>>';
  if (op === undefined || version === undefined) return { name };
  if (!isValidDebianVersion(version)) throw new RollwiseError('RW_BAD_VERSION', `${where}: '${version}' is not a valid Debian version (in '${spec}')`, { hint: 'versions are [epoch:]upstream[-revision], e.g. 1.22.1-9' });
  return { name, op: op as RequestOp, version };
}

export function formatRequest(r: PlanRequest): string {
  return r.items.map(formatItem).join('; ') || '(empty request)';
}

export function buildRequest(specs: { install?: string[]; remove?: string[]; upgrade?: string[] }): PlanRequest {
  const r = createEmptyRequest();
  for (const kind of ['install', 'remove', 'upgrade'] as const) {
    for (const spec of specs[kind] ?? []) r.items.push({ kind, ...parseRequestSpec(spec, `--${kind}`) });
  }
  checkRequestNotEmpty(r);
  return r;
}

function checkRequestNotEmpty(r: PlanRequest): void {
  if (r.items.length === 0) throw new RollwiseError('RW_REQUEST', 'the request is empty', { hint: 'give --install, --remove or --upgrade (or --request FILE)' });
}

const RequestFileSchema = z.strictObject({
  install: z.array(z.string()).optional(),
  remove: z.array(z.string()).optional(),
  upgrade: z.array(z.string()).optional(),
});

/** Reads a request file (`install: [..]`, `remove: [..]`, `upgrade: [..]`); errors carry file:line:column. */
export function loadRequestFile(file: string): PlanRequest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RollwiseError('RW_IO', `cannot read request file ${file}: ${(e as Error).message}`);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const pos = (offset: number): SourcePosition => {
    const p = lc.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
  if (doc.errors.length) throw new RollwiseError('RW_REQUEST', doc.errors[0]!.message.split('\n')[0]!, { position: pos(doc.errors[0]!.pos[0]) });
  const parsed = RequestFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const node = doc.getIn(issue.path as Array<string | number>, true) as { range?: [number, number, number] } | undefined;
    const msg = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : issue.message;
    throw new RollwiseError('RW_REQUEST', msg, { position: pos(node?.range?.[0] ?? 0), hint: 'a request file has install:, remove: and upgrade: lists of specs' });
  }
  const r = createEmptyRequest();
  for (const kind of ['install', 'remove', 'upgrade'] as const) {
    (parsed.data[kind] ?? []).forEach((spec, i) => {
      try {
        r.items.push({ kind, ...parseRequestSpec(spec, kind) });
      } catch (e) {
        if (e instanceof RollwiseError) {
          const node = doc.getIn([kind, i], true) as { range?: [number, number, number] } | undefined;
          throw new RollwiseError(e.code, e.message, { position: pos(node?.range?.[0] ?? 0), ...(e.hint ? { hint: e.hint } : {}) });
        }
        throw e;
      }
    });
  }
  checkRequestNotEmpty(r);
  return r;
}

/** Every package name the request mentions (for "unknown package" checks before solving). */
export function requestedNames(r: PlanRequest): string[] {
  return [...new Set(r.items.flatMap((i) => ('name' in i ? [i.name] : [])))];
}
