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
  /** `release`: apt's `name/release` (the version apt selects from the releases matching it; resolved under a host's apt policy). */
  | ({ kind: 'install' } & PackageSpec & { release?: string })
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
  /** The most edits one resolution may combine (the largest correction set looked for). Default 4. */
  maxResolutionEdits?: number;
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

const CRITERIA_HINT =
  'use paranoid, trendy, or a list of signed criteria: -removed,-changed,-notuptodate,-new,-unmet_recommends, or their MISC 2012 forms -count(removed),-count(changed),-count(new),-notuptodate(solution),-unsat_recommends(solution)';

/** Words of the legacy (mccs/aspcud 2011) syntax, and the MISC 2012 count() selectors, mapped onto criteria. */
const LEGACY_WORDS: Record<string, CriterionName> = {
  removed: 'removed', changed: 'changed', new: 'new', notuptodate: 'notuptodate',
  unmet_recommends: 'unmet_recommends', unsat_recommends: 'unmet_recommends',
};
const COUNT_SELECTORS: Record<string, CriterionName> = { removed: 'removed', changed: 'changed', new: 'new' };

/** One signed criterion as written: its function, its arguments, and where it starts. */
interface CriterionTerm {
  sign: '-' | '+';
  fn: string;
  args: string[] | undefined;
  column: number;
  text: string;
}

/**
 * Parses `paranoid`, `trendy`, `default`, the legacy lists (`-removed,-changed,+new`, as mccs
 * and aspcud 2011 read them) and MISC 2012 criteria as apt-cudf hands them to a CUDF solver:
 * `-count(removed)`, `-count(changed)`, `-count(new)`, `-notuptodate(solution)`,
 * `-unsat_recommends(solution)`, optionally wrapped in `-lex[...]`. The whole MISC 2012 grammar
 * is read (`sum(selector,property)`, `aligned(...)`, `count(selector)` with any selector,
 * apt-cudf's `count(selector,field:=/text/)` and `:~/regex/` extensions), so anything the
 * solver cannot optimise is reported as unsupported, named, with its column, never as a syntax
 * error and never silently dropped. Errors: RW_USAGE.
 */
export function parseCriteria(text: string): Criterion[] {
  const t = text.trim();
  if (t === 'paranoid') return PARANOID.slice();
  if (t === 'trendy') return TRENDY.slice();
  if (t === 'default') return DEFAULT_CRITERIA.slice();
  const out: Criterion[] = [];
  for (const term of readCriteriaTerms(text)) {
    const name = criterionOf(term);
    if (!name) {
      throw new RollwiseError('RW_USAGE', `criterion '${term.text}' at column ${term.column} of '${text}' is not supported: ${unsupportedWhy(term)}`, { hint: CRITERIA_HINT });
    }
    out.push({ sign: term.sign, name });
  }
  if (out.length === 0) throw new RollwiseError('RW_USAGE', 'empty criteria', { hint: CRITERIA_HINT });
  return out;
}

function criterionOf(term: CriterionTerm): CriterionName | undefined {
  const { fn, args } = term;
  if (args === undefined) return LEGACY_WORDS[fn];
  if (fn === 'count' && args.length === 1) return COUNT_SELECTORS[args[0]!];
  if ((fn === 'notuptodate' || fn === 'unsat_recommends' || fn === 'unmet_recommends') && args.length === 1 && args[0] === 'solution') return LEGACY_WORDS[fn];
  return undefined;
}

function unsupportedWhy(term: CriterionTerm): string {
  const { fn, args } = term;
  if (args === undefined) return `'${fn}' is not a criterion`;
  if (fn === 'sum') return 'sums of a package property (such as installedsize) are not optimised by Rollwise';
  if (fn === 'aligned') return 'aligned() (source-version alignment) is not optimised by Rollwise';
  if (fn === 'count' && args.length > 1) return 'counting packages by an EDSP field (apt-cudf\'s extension) is not optimised by Rollwise';
  if (fn === 'count') return `Rollwise counts the selectors removed, changed and new, not '${args[0] ?? ''}'`;
  if (fn === 'notuptodate' || fn === 'unsat_recommends') return `Rollwise evaluates ${fn}() over the solution only, not '${args.join(',')}'`;
  return `'${fn}' is not a MISC 2012 function`;
}

/** Splits criteria text into signed terms (MISC 2012 grammar), with 1-based columns; RW_USAGE on a syntax error. */
function readCriteriaTerms(text: string): CriterionTerm[] {
  const terms: CriterionTerm[] = [];
  let i = 0;
  const n = text.length;
  const fail = (at: number, what: string): never => {
    throw new RollwiseError('RW_USAGE', `bad criteria at column ${at + 1} of '${text}': ${what}`, { hint: CRITERIA_HINT });
  };
  const ws = (): void => { while (i < n && /\s/.test(text[i]!)) i++; };
  const ident = (): string => {
    const s = i;
    while (i < n && /[A-Za-z0-9_-]/.test(text[i]!)) i++;
    return text.slice(s, i);
  };
  let depthLex = 0;
  ws();
  for (;;) {
    ws();
    if (i >= n) fail(i, 'a criterion is missing');
    const s = i;
    const c = text[i];
    if (c !== '-' && c !== '+') fail(i, `expected '-' or '+' before a criterion, found '${text.slice(i, i + 12)}'`);
    i++;
    ws();
    const fn = ident().toLowerCase();
    if (!fn) fail(i, 'expected a criterion name after the sign');
    ws();
    if (fn === 'lex' && text[i] === '[') {
      if (c !== '-') fail(s, "only '-lex[...]' is meaningful");
      i++;
      depthLex++;
      continue;
    }
    let args: string[] | undefined;
    if (text[i] === '(') {
      i++;
      args = [];
      for (;;) {
        ws();
        const as = i;
        const a = ident();
        if (!a) fail(i, 'expected a selector or property name');
        ws();
        if (text[i] === ':' && (text[i + 1] === '=' || text[i + 1] === '~')) {
          // apt-cudf's extension: field:=/plain/ or field:~/regex/ (any delimiter, no escapes)
          i += 2;
          const d = text[i];
          if (d === undefined) fail(i, 'expected a delimiter after := or :~');
          const close = text.indexOf(d!, i + 1);
          if (close < 0) fail(i, `the text after ${text.slice(as, i)} is not closed by '${d}'`);
          i = close + 1;
          ws();
        }
        args.push(text.slice(as, i).trim());
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ')') { i++; break; }
        fail(i, `expected ',' or ')' in ${fn}(...)`);
      }
      ws();
    }
    terms.push({ sign: c as '-' | '+', fn, args, column: s + 1, text: text.slice(s, i).trim() });
    while (depthLex > 0 && text[i] === ']') { depthLex--; i++; ws(); }
    if (i >= n) break;
    if (text[i] !== ',') fail(i, `expected ',' between criteria, found '${text.slice(i, i + 12)}'`);
    i++;
  }
  if (depthLex > 0) fail(n, "'-lex[' is not closed by ']'");
  return terms;
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
    case 'install':
      return `install ${formatSpec(item)}${item.release !== undefined ? `/${item.release}` : ''}`;
    default:
      return `${item.kind} ${formatSpec(item)}`;
  }
}
