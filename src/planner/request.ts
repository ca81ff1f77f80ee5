/**
 * The deployment request: packages to install, remove and upgrade, each with an optional
 * version constraint; parsed from CLI specs (`nginx`, `nginx=1.22.1-9`, `nginx>=1.22`,
 * `nginx (>= 1.22)`) or a YAML request file by the one relation grammar (solver's parseRequestSpec).
 */
import { z } from 'zod';
import { RollwiseError, closestNames, documentData, locatePath, positionOfPath, readYamlFile, syntaxProblems, wordIssues, type WordedIssue } from '../shared/index.js';
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

const SpecList = z.array(z.string().describe("a package spec such as 'nginx' or 'nginx (>= 1.22)'")).describe('a list of package specs');

const RequestFileSchema = z.strictObject({
  install: SpecList.optional(),
  remove: SpecList.optional(),
  upgrade: SpecList.optional(),
});

/** Reads a request file (`install: [..]`, `remove: [..]`, `upgrade: [..]`); errors carry file:line:column. */
export function loadRequestFile(file: string, onWarning?: (message: string) => void): PlanRequest {
  const hint = 'a request file has install:, remove: and upgrade: lists of specs';
  const src = readYamlFile(file, 'request file');
  const syntax = syntaxProblems(src);
  if (syntax.length) throw new RollwiseError('RW_REQUEST', `YAML syntax: ${syntax[0]!.message}`, { position: syntax[0]!.position, hint });
  const data = documentData(src);
  if (!data.ok) throw new RollwiseError('RW_REQUEST', data.problem.message, { position: data.problem.position, hint });
  if (data.data !== null && typeof data.data === 'object' && !Array.isArray(data.data) && !Object.keys(data.data).some((k) => closestNames(k, ['install', 'remove', 'upgrade']).length > 0)) {
    // none of a request's keys (another kind of file): nothing of it is quoted
    throw new RollwiseError('RW_REQUEST', 'not a request file: it has none of install:, remove:, upgrade: (its content is not shown)', { position: { file, line: 1, column: 1 }, hint });
  }
  const parsed = RequestFileSchema.safeParse(data.data);
  if (!parsed.success) {
    // the first problem, in the words every YAML reader uses (`install: expected a list of package specs, got 42`)
    const w: WordedIssue = wordIssues(parsed.error.issues, { schema: RequestFileSchema, data: data.data })[0] ?? { kind: 'type', path: [], message: 'top level: not a request file' };
    const position = positionOfPath(src, w.path, w.key === undefined ? {} : { key: w.key });
    throw new RollwiseError('RW_REQUEST', w.message, { position, hint: w.hint ?? hint });
  }
  const r = createEmptyRequest();
  for (const kind of ['install', 'remove', 'upgrade'] as const) {
    (parsed.data[kind] ?? []).forEach((spec, i) => {
      try {
        r.items.push({ kind, ...parseRequestSpec(spec, kind, onWarning) });
      } catch (e) {
        if (e instanceof RollwiseError) {
          throw new RollwiseError(e.code, e.message, { position: locatePath(src, [kind, i]), hint: e.hint });
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
