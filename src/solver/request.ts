/**
 * Requests, policies and optimisation criteria: the solver's input vocabulary, and the parsers
 * for the textual forms the CLI accepts (`name`, `name=ver`, `name (>= 1.2)`, and mccs-style
 * criteria strings such as `-removed,-changed,+new`).
 */
import type { PackageRecord, RelationOp } from '../kb/model.js';
import { RollwiseError } from '../shared/errors.js';

export interface PackageSpec {
  name: string;
  op?: RelationOp;
  version?: string;
}

export type RequestItem =
  | ({ kind: 'install' } & PackageSpec)
  | ({ kind: 'remove' } & PackageSpec)
  | ({ kind: 'upgrade' } & PackageSpec)
  | { kind: 'upgrade-all' }
  /** Keep the installed version of a name exactly (or keep it absent when not installed). */
  | { kind: 'hold'; name: string }
  /**
   * Not the operator's wish but the default policy's (nothing removed that was not asked for):
   * an installed name keeps some version installed (it may be upgraded); no effect when the
   * name is not installed. Explanations word it as a protection, not as a hold.
   */
  | { kind: 'protect'; name: string }
  /** CUDF keep of an installed version: `version` keeps it, `package` keeps some version of the name, `feature` keeps what it provides. */
  | { kind: 'keep'; name: string; version: string; keep: 'version' | 'package' | 'feature' }
  /** Only versions matching the constraint may be installed (`host pins libssl3 3.0.11`). */
  | ({ kind: 'pin' } & PackageSpec & { op: RelationOp; version: string });

export interface SolveRequest {
  items: RequestItem[];
}

export type CriterionName = 'removed' | 'changed' | 'notuptodate' | 'new' | 'unmet_recommends';
export const CRITERION_NAMES: readonly CriterionName[] = ['removed', 'changed', 'notuptodate', 'new', 'unmet_recommends'];

export interface Criterion {
  /** '-' minimises the count, '+' maximises it. */
  sign: '-' | '+';
  name: CriterionName;
}

export type CandidateVerdict = true | { reason: string };

export interface SolverPolicy {
  /** Lexicographic criteria; default: operator-friendly (see DEFAULT_CRITERIA). */
  criteria?: Criterion[];
  /** Whether Recommends count (as the soft `unmet_recommends` criterion). Default true. */
  recommends?: boolean;
  /**
   * Whether a package version may be installed on this host (environment requirements from the
   * knowledge base). A refused version is not a candidate; the explanation quotes the reason.
   */
  isCandidate?: (pv: number, record: PackageRecord) => CandidateVerdict;
  /** Wall-clock budget for the whole solve in ms (search + optimisation). Default 10 000. */
  timeBudgetMs?: number;
  /** Cancellation check, polled between solver calls. */
  isCancelled?: () => boolean;
  /** How many verified resolutions to look for when there is no solution. Default 3. */
  maxResolutions?: number;
}

export const PARANOID: Criterion[] = [
  { sign: '-', name: 'removed' },
  { sign: '-', name: 'changed' },
];
export const TRENDY: Criterion[] = [
  { sign: '-', name: 'removed' },
  { sign: '-', name: 'notuptodate' },
  { sign: '-', name: 'unmet_recommends' },
  { sign: '-', name: 'new' },
];
/** Nothing removed that was not asked for, fewest changes, then newest versions. */
export const DEFAULT_CRITERIA: Criterion[] = [
  { sign: '-', name: 'removed' },
  { sign: '-', name: 'changed' },
  { sign: '-', name: 'notuptodate' },
];
/** The default when Recommends are wanted: as above, with recommends satisfied before fewest changes. */
export const DEFAULT_CRITERIA_WITH_RECOMMENDS: Criterion[] = [
  { sign: '-', name: 'removed' },
  { sign: '-', name: 'unmet_recommends' },
  { sign: '-', name: 'changed' },
  { sign: '-', name: 'notuptodate' },
];

export function formatCriteria(c: readonly Criterion[]): string {
  return c.map((x) => `${x.sign}${x.name}`).join(',');
}

/** Parses `paranoid`, `trendy`, `default`, or `-removed,-changed,+new` (mccs/aspcud syntax). */
export function parseCriteria(text: string): Criterion[] {
  const t = text.trim();
  if (t === 'paranoid') return PARANOID.slice();
  if (t === 'trendy') return TRENDY.slice();
  if (t === 'default') return DEFAULT_CRITERIA.slice();
  const out: Criterion[] = [];
  let col = 1;
  for (const raw of t.split(',')) {
    const part = raw.trim();
    const m = /^([+-])([a-z_]+)(?:\([^)]*\))?$/.exec(part);
    if (!m || !(CRITERION_NAMES as readonly string[]).includes(m[2]!)) {
      throw new RollwiseError('RW_USAGE', `bad criterion '${part}' at column ${col} of '${text}'`, {
        hint: `use paranoid, trendy, or a list like -removed,-changed,-notuptodate,-new,-unmet_recommends`,
      });
    }
    out.push({ sign: m[1] as '-' | '+', name: m[2] as CriterionName });
    col += raw.length + 1;
  }
  if (out.length === 0) throw new RollwiseError('RW_USAGE', 'empty criteria', { hint: 'use paranoid, trendy or -removed,-changed' });
  return out;
}

const NAME_RE = /^[a-z0-9][a-z0-9+.-]*$/;
const VERSION_RE = /^[A-Za-z0-9.+~:-]+$/;
const OPS: readonly RelationOp[] = ['<<', '<=', '=', '>=', '>>'];

/** Parses `name`, `name=ver`, `name (op ver)` or `name op ver`. */
export function parsePackageSpec(text: string): PackageSpec {
  const t = text.trim();
  let m = /^([^\s=(<>]+)\s*=\s*(\S+)$/.exec(t);
  let spec: PackageSpec | undefined;
  if (m) spec = { name: m[1]!, op: '=', version: m[2]! };
  else if ((m = /^([^\s(<>=]+)\s*\(\s*(<<|<=|=|>=|>>|<|>)\s*([^\s)]+)\s*\)$/.exec(t)) || (m = /^([^\s(<>=]+)\s+(<<|<=|=|>=|>>)\s*(\S+)$/.exec(t))) {
    const op = m[2] === '<' ? '<=' : m[2] === '>' ? '>=' : (m[2] as RelationOp);
    spec = { name: m[1]!, op, version: m[3]! };
  } else if (/^\S+$/.test(t)) spec = { name: t };
  if (!spec) throw new RollwiseError('RW_REQUEST', `cannot read package spec '${text}'`, { hint: "write 'name', 'name=1.2-1' or 'name (>= 1.2)'" });
  if (!NAME_RE.test(spec.name)) throw new RollwiseError('RW_BAD_NAME', `'${spec.name}' is not a valid package name`, { hint: 'names use a-z 0-9 + - . and start with a letter or digit' });
  if (spec.version !== undefined && !VERSION_RE.test(spec.version)) throw new RollwiseError('RW_BAD_VERSION', `'${spec.version}' is not a valid version`, { hint: 'versions use A-Z a-z 0-9 . + ~ : -' });
  if (spec.op !== undefined && !OPS.includes(spec.op)) throw new RollwiseError('RW_REQUEST', `unknown relation '${spec.op}'`);
  return spec;
}

export function formatSpec(s: PackageSpec): string {
  return s.op ? `${s.name} (${s.op} ${s.version})` : s.name;
}

export function formatItem(item: RequestItem): string {
  switch (item.kind) {
    case 'upgrade-all':
      return 'upgrade all';
    case 'hold':
      return `hold ${item.name}`;
    case 'protect':
      return `keep ${item.name} installed`;
    case 'keep':
      return `keep ${item.keep} of ${item.name} ${item.version}`;
    case 'pin':
      return `pin ${formatSpec(item)}`;
    default:
      return `${item.kind} ${formatSpec(item)}`;
  }
}
