/**
 * The deployment request: packages to install, remove and upgrade, each with an optional
 * version constraint, `upgrade-all` (a patch day: every installed package to its newest
 * version the host can take), holds and pins; parsed from CLI specs (`nginx`, `nginx=1.22.1-9`,
 * `nginx>=1.22`, `nginx (>= 1.22)`, apt's `nginx/bookworm-backports`) or a YAML request file by the one relation grammar (solver's
 * parseRequestSpec). parseRequestItem is the one reader of request items for `rollwise plan`,
 * request files and `rollwise solve`.
 */
import { z } from 'zod';
import { RollwiseError, closestNames, excerpt, documentData, locatePath, positionOfPath, readYamlFile, syntaxProblems, wordIssues, type SourcePosition, type WordedIssue } from '../shared/index.js';
import { formatItem, parseRequestSpec, specName, type RequestItem as SolverRequestItem } from '../solver/index.js';

export type { SolverRequestItem };

/**
 * The request: the solver's request items (install/remove/upgrade with constraints; resolutions
 * may add `remove` items, pin a version, or drop an item), so an edited request solves as is.
 */
export interface PlanRequest {
  items: SolverRequestItem[];
}

/** Where each item of a request file was read (file:line:column), for errors found once the packages are loaded. */
const itemPositions = new WeakMap<SolverRequestItem, SourcePosition>();

/** The position of a request item read from a request file; undefined for items given as options. */
export function requestItemPosition(item: SolverRequestItem): SourcePosition | undefined {
  return itemPositions.get(item);
}

export function createEmptyRequest(): PlanRequest {
  return { items: [] };
}

export function formatRequest(r: PlanRequest): string {
  return r.items.map(formatItem).join('; ') || '(empty request)';
}

/** The request items every front end takes, as lists of specs (an option or a request file key each). */
export interface RequestSpecs {
  install?: readonly string[];
  remove?: readonly string[];
  upgrade?: readonly string[];
  /** Upgrade every installed package (a fleet-wide patch day: each host upgrades what it can). */
  upgradeAll?: boolean;
  /** Names kept exactly as installed (or absent when not installed). */
  hold?: readonly string[];
  /** `name=version` or `name (op version)`: only matching versions may be installed. */
  pin?: readonly string[];
}

export type RequestSpecKind = 'install' | 'remove' | 'upgrade' | 'hold' | 'pin';

/**
 * One request item from a spec by the one relation grammar; `where` names the option or key in
 * messages (RW_BAD_NAME, RW_BAD_VERSION, RW_REQUEST). A hold takes a name; a pin needs a version.
 */
export function parseRequestItem(kind: RequestSpecKind, spec: string, where: string, onWarning?: (message: string) => void): SolverRequestItem {
  const slash = spec.indexOf('/');
  if (slash >= 0) return parseReleaseItem(kind, spec, slash, where, onWarning);
  const atom = parseRequestSpec(spec, where, onWarning);
  switch (kind) {
    case 'hold':
      if (atom.op) throw new RollwiseError('RW_REQUEST', `${where} takes a package name, not a version: '${excerpt(spec)}'`, { hint: `a hold keeps the installed version; to allow only some versions, pin: ${where === 'hold' ? 'pin:' : '--pin'} '${excerpt(spec)}'` });
      // `libc6:i386` holds the i386 package (the resolver's name of it), not its native twin
      return { kind: 'hold', name: specName(atom) };
    case 'pin':
      if (!atom.op || atom.version === undefined) throw new RollwiseError('RW_REQUEST', `${where} needs a version: '${excerpt(spec)}'`, { hint: "write 'name=version' or 'name (>= version)'" });
      return { kind: 'pin', ...atom, op: atom.op, version: atom.version };
    default:
      return { kind, ...atom };
  }
}

/**
 * apt's `name/release` (`nginx/bookworm-backports`, `nginx/a=stable`): install the version apt
 * selects from the releases matching it; the release is resolved per host under its apt policy
 * (solver's AptPolicy.selectFromRelease), so the item keeps it as written.
 */
function parseReleaseItem(kind: RequestSpecKind, spec: string, slash: number, where: string, onWarning?: (message: string) => void): SolverRequestItem {
  const release = spec.slice(slash + 1).trim();
  const hint = "write 'name/release' with an archive or codename, e.g. 'nginx/bookworm-backports' (as apt-get install takes it)";
  if (kind !== 'install') throw new RollwiseError('RW_REQUEST', `${where} does not take a release: '${excerpt(spec)}'`, { hint: 'only install items take name/release (apt-get install name/release)' });
  if (!release || /\s|\//.test(release)) throw new RollwiseError('RW_REQUEST', `${where}: '${excerpt(spec)}' names no single release after '/' (column ${slash + 2})`, { hint });
  const atom = parseRequestSpec(spec.slice(0, slash), where, onWarning);
  if (atom.op) throw new RollwiseError('RW_REQUEST', `${where}: '${excerpt(spec)}' gives both a version and a release`, { hint: "give one: 'name=version' or 'name/release'" });
  return { kind: 'install', ...atom, release };
}

/** The items unchanged when none names a release; RW_REQUEST otherwise (a host without known apt sources cannot resolve `name/release`). */
export function requireNoRelease<T extends SolverRequestItem>(items: readonly T[]): T[] {
  const item = items.find((i) => i.kind === 'install' && i.release !== undefined);
  if (item && item.kind === 'install') {
    throw new RollwiseError('RW_REQUEST', `${item.name}/${item.release ?? ''}: a release needs the host's apt sources, and they are not known here`, { hint: "give the host's apt configuration (a directory root, --local, or the inventory's apt:), or install without /release" });
  }
  return [...items];
}

const SPEC_KINDS: readonly RequestSpecKind[] = ['install', 'remove', 'upgrade', 'hold', 'pin'];

/** Request items from lists of specs (options are named `--install`, `--hold`, ...), in the order install, remove, upgrade, upgrade-all, hold, pin. */
export function parseRequestItems(specs: RequestSpecs, onWarning?: (message: string) => void): SolverRequestItem[] {
  const items: SolverRequestItem[] = [];
  for (const kind of SPEC_KINDS.slice(0, 3)) for (const spec of specs[kind] ?? []) items.push(parseRequestItem(kind, spec, `--${kind}`, onWarning));
  if (specs.upgradeAll) items.push({ kind: 'upgrade-all' });
  for (const kind of SPEC_KINDS.slice(3)) for (const spec of specs[kind] ?? []) items.push(parseRequestItem(kind, spec, `--${kind}`, onWarning));
  return items;
}

/** The request from command-line specs; warnings (the obsolete `<`/`>`) go to `onWarning`. */
export function buildRequest(specs: RequestSpecs, onWarning?: (message: string) => void): PlanRequest {
  const r: PlanRequest = { items: parseRequestItems(specs, onWarning) };
  checkRequestNotEmpty(r);
  return r;
}

function checkRequestNotEmpty(r: PlanRequest): void {
  // holds and pins alone change nothing
  if (!r.items.some((i) => i.kind === 'install' || i.kind === 'remove' || i.kind === 'upgrade' || i.kind === 'upgrade-all')) {
    throw new RollwiseError('RW_REQUEST', r.items.length === 0 ? 'the request is empty' : 'the request only holds or pins packages: it asks for no change', { hint: 'give --install, --remove, --upgrade or --upgrade-all (or --request FILE)' });
  }
}

const SpecList = z.array(z.string().describe("a package spec such as 'nginx' or 'nginx (>= 1.22)'")).describe('a list of package specs');

const RequestFileSchema = z.strictObject({
  install: SpecList.optional(),
  remove: SpecList.optional(),
  upgrade: SpecList.optional(),
  'upgrade-all': z.boolean().describe('true to upgrade every installed package').optional(),
  hold: z.array(z.string().describe("a package name such as 'nginx'")).describe('a list of package names').optional(),
  pin: z.array(z.string().describe("a package spec with a version such as 'libssl3=3.0.11-1'")).describe('a list of package specs with versions').optional(),
});

const FILE_KEYS = ['install', 'remove', 'upgrade', 'upgrade-all', 'hold', 'pin'];

/** Reads a request file (`install:`, `remove:`, `upgrade:`, `hold:`, `pin:` lists, `upgrade-all: true`); errors carry file:line:column. */
export function loadRequestFile(file: string, onWarning?: (message: string) => void): PlanRequest {
  const hint = 'a request file has install:, remove:, upgrade:, hold: and pin: lists of specs, and upgrade-all: true';
  const src = readYamlFile(file, 'request file');
  const syntax = syntaxProblems(src);
  if (syntax.length) throw new RollwiseError('RW_REQUEST', `YAML syntax: ${syntax[0]!.message}`, { position: syntax[0]!.position, hint });
  const data = documentData(src);
  if (!data.ok) throw new RollwiseError('RW_REQUEST', data.problem.message, { position: data.problem.position, hint });
  if (data.data !== null && typeof data.data === 'object' && !Array.isArray(data.data) && !Object.keys(data.data).some((k) => closestNames(k, FILE_KEYS).length > 0)) {
    // none of a request's keys (another kind of file): nothing of it is quoted
    throw new RollwiseError('RW_REQUEST', 'not a request file: it has none of install:, remove:, upgrade:, upgrade-all:, hold:, pin: (its content is not shown)', { position: { file, line: 1, column: 1 }, hint });
  }
  const parsed = RequestFileSchema.safeParse(data.data);
  if (!parsed.success) {
    // the first problem, in the words every YAML reader uses (`install: expected a list of package specs, got 42`)
    const w: WordedIssue = wordIssues(parsed.error.issues, { schema: RequestFileSchema, data: data.data })[0] ?? { kind: 'type', path: [], message: 'top level: not a request file' };
    const position = positionOfPath(src, w.path, w.key === undefined ? {} : { key: w.key });
    throw new RollwiseError('RW_REQUEST', w.message, { position, hint: w.hint ?? hint });
  }
  const r = createEmptyRequest();
  const read = (kind: RequestSpecKind): void => {
    (parsed.data[kind] ?? []).forEach((spec, i) => {
      try {
        const item = parseRequestItem(kind, spec, kind, onWarning);
        itemPositions.set(item, locatePath(src, [kind, i]));
        r.items.push(item);
      } catch (e) {
        if (e instanceof RollwiseError) {
          throw new RollwiseError(e.code, e.message, { position: locatePath(src, [kind, i]), hint: e.hint });
        }
        throw e;
      }
    });
  };
  for (const kind of ['install', 'remove', 'upgrade'] as const) read(kind);
  if (parsed.data['upgrade-all'] === true) r.items.push({ kind: 'upgrade-all' });
  for (const kind of ['hold', 'pin'] as const) read(kind);
  try {
    checkRequestNotEmpty(r);
  } catch (e) {
    if (e instanceof RollwiseError) throw new RollwiseError(e.code, e.message, { position: { file, line: 1, column: 1 }, hint });
    throw e;
  }
  return r;
}

/** Every package name the request mentions (for "unknown package" checks before solving). */
export function requestedNames(r: PlanRequest): string[] {
  return [...new Set(r.items.flatMap((i) => ('name' in i ? [i.name] : [])))];
}
