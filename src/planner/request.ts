/**
 * The deployment request: packages to install, remove and upgrade, each with an optional
 * version constraint; parsed from CLI specs (`nginx`, `nginx=1.22.1-9`, `nginx>=1.22`,
 * `nginx (>= 1.22)`) or a YAML request file by the one relation grammar (solver's parseRequestSpec).
 */
import { readFileSync } from 'node:fs';
import { parseDocument, LineCounter } from 'yaml';
import { z } from 'zod';
import { RollwiseError, type SourcePosition } from '../shared/index.js';
import { formatItem, parseRequestSpec, type RequestItem as SolverRequestItem } from '../solver/index.js';

export type { SolverRequestItem };

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

export function formatRequest(r: PlanRequest): string {
  return r.items.map(formatItem).join('; ') || '(empty request)';
}

/** The request from command-line specs; warnings (the obsolete `<`/`>`) go to `onWarning`. */
export function buildRequest(specs: { install?: string[]; remove?: string[]; upgrade?: string[] }, onWarning?: (message: string) => void): PlanRequest {
  const r = createEmptyRequest();
  for (const kind of ['install', 'remove', 'upgrade'] as const) {
    for (const spec of specs[kind] ?? []) r.items.push({ kind, ...parseRequestSpec(spec, `--${kind}`, onWarning) });
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
export function loadRequestFile(file: string, onWarning?: (message: string) => void): PlanRequest {
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
        r.items.push({ kind, ...parseRequestSpec(spec, kind, onWarning) });
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
