/**
 * Requests, policies and optimisation criteria: the solver's input vocabulary, and the parsers
 * for the textual forms the CLI accepts (specs through the one relation grammar, and mccs-style
 * criteria strings such as `-removed,-changed,+new`).
 */
import { formatAtom, parsePackageSpec, toAtom, type PackageAtom, type PackageRecord, type RelationOp } from '../kb/index.js';
import { RollwiseError } from '../shared/index.js';

/** A package named in a request, optionally with an architecture and a version constraint. */
export type PackageSpec = PackageAtom;

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
  /**
   * Nothing installed is removed unless a `remove` item names it (the operator's policy in
   * `rollwise solve` and `plan`): a solution that would remove an installed package nobody asked
   * to remove becomes a conflict, explained with that package protected, whose resolutions
   * include allowing the removal. Default false (the criteria alone decide, as CUDF solvers do).
   */
  keepInstalled?: boolean;
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

/**
 * Reads a request spec a person typed (`name`, `name:arch`, `name=1.2-1`, `name (>= 1.2)`,
 * `name>=1.2`) with the one relation grammar (src/kb/relations.ts); throws RW_BAD_NAME,
 * RW_BAD_VERSION or RW_REQUEST naming `where` and what is wrong. Warnings (the obsolete `<`
 * and `>`, which mean `<=` and `>=`) go to `onWarning`.
 */
export function parseRequestSpec(text: string, where = 'request', onWarning?: (message: string) => void): PackageSpec {
  const r = parsePackageSpec(text);
  if (!r.ok) {
    const p = r.problem;
    const code = /not a valid Debian package name/.test(p.message) ? 'RW_BAD_NAME' : /not a valid Debian version/.test(p.message) ? 'RW_BAD_VERSION' : 'RW_REQUEST';
    throw new RollwiseError(code, `${where}: ${p.message} (column ${p.offset + 1})`, { hint: p.hint });
  }
  for (const w of r.warnings) onWarning?.(`${where}: ${w.message} in '${text}' (${w.hint})`);
  return toAtom(r.value);
}

export function formatSpec(s: PackageSpec): string {
  return formatAtom(s);
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
