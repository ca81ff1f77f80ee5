/**
 * Explanations and resolutions in words: the solver and the planner keep them as data (facts,
 * typed edits); this is the one place they become sentences, in small named steps (one sentence
 * per fact, long chains summarised, then the conclusion). The terminal, --json (as a convenience
 * beside the data) and the console all read these words.
 */
import { conclusionOf, formatItem, type Explanation, type ExplanationFact, type PackageRef, type RequestItem, type ResolutionEdit } from '../../solver/index.js';
import type { PlanExplanation, PlanFact, PlanResolutionEdit } from '../../planner/index.js';

const label = (p: PackageRef): string => `${p.name} ${p.version}`;

function unmetWords(f: Extract<ExplanationFact, { kind: 'request' }>): string {
  if (f.item.kind === 'hold') return f.installed?.length ? ` (installed: ${f.installed.join(', ')})` : ' (not installed)';
  const u = f.unmet;
  if (!u) return '';
  switch (u.reason) {
    case 'no-version-matches': return `, but no available version matches (available: ${u.available.join(', ')}${u.more > 0 ? ', ...' : ''})`;
    case 'no-provider-matches': return ', but no provider matches the version';
    case 'no-package': return ', but no package of that name is available';
  }
}

/** One fact as one sentence. */
export function describeFact(f: ExplanationFact | PlanFact): string {
  switch (f.kind) {
    case 'request': return `the request asks to ${formatItem(f.item)}${unmetWords(f)}`;
    case 'protected': return `${f.name} ${f.installed.join(', ')} is installed and may not be removed unless allowed`;
    case 'depends': return `${label(f.package)} ${f.field === 'depends' ? 'depends on' : 'pre-depends on'} ${f.relation}${f.satisfiable ? '' : ', which no available package satisfies'}`;
    case 'conflict': return `${label(f.package)} ${f.field === 'breaks' ? 'breaks' : 'conflicts with'} ${f.relation} (${label(f.other)})`;
    case 'one-version': return `only one version of ${f.name} can be installed at a time`;
    case 'essential': return `${f.name} is installed and essential (or Priority: required), so it is kept`;
    case 'not-candidate': return `${label(f.package)} cannot be installed on this host: ${f.reason}`;
    case 'broken-dependency': {
      const names = f.candidates.map(label);
      return `${label(f.package)} ${f.field === 'depends' ? 'depends on' : 'pre-depends on'} ${f.relation}, and ${names.length === 1 ? `${names[0]} is not` : `none of ${names.join(', ')} is`} installable`;
    }
    case 'not-with-essential': return `${label(f.package)} is not installable together with the Essential packages`;
    case 'unasked-removal': return `the request would remove ${f.names.join(', ')}, which nobody asked to remove`;
    case 'no-answer': return `no answer: ${f.message}`;
    case 'costlier': return `${label(f.package)} could be installed, but it takes ${f.changes} changes where the plan's choice takes ${f.chosenChanges} (the criteria prefer fewer changes; ask for it exactly: ${f.package.name}=${f.package.version})`;
    case 'kept-by-request': return `the request asks to ${formatItem(f.item)}, which keeps ${f.package.name} from ${f.package.version}`;
    case 'text': return f.text;
    case 'requirement-unmet': {
      const short = f.short.map((x) => `${hostWords(x.hosts)} ${x.hosts.length === 1 ? 'runs' : 'run'} ${x.installed ? `${x.installed.name} ${x.installed.version}` : 'none of it'}`);
      return `${f.package} requires ${f.requires} on the hosts that run it${f.reason ? ` (${f.reason})` : ''}; source: ${f.source}; after this plan ${short.join('; ')}`;
    }
  }
}

/** `db-1, db-2 and 3 more` */
function hostWords(hosts: readonly string[], max = 3): string {
  return hosts.length <= max ? hosts.join(', ') : `${hosts.slice(0, max).join(', ')} and ${hosts.length - max} more`;
}

/** The conclusion of a requirement across hosts: what the requiring hosts cannot take until it is met. */
function requirementConclusion(f: Extract<PlanFact, { kind: 'requirement-unmet' }>): string {
  const taking = [...new Set(f.requiring.map((r) => `${r.package.name} ${r.package.version}`.trim()))].join(', ');
  const hosts = f.requiring.flatMap((r) => r.hosts);
  return `so ${hostWords(hosts)} cannot take ${taking} while ${f.requires} is not met there`;
}

/** Long chains are summarised: the first steps and the last ones, with a count in between. */
export function summariseChain(lines: string[], keep = 10): string[] {
  if (lines.length <= keep + 2) return lines;
  const head = lines.slice(0, keep - 3);
  const tail = lines.slice(-3);
  return [...head, `... ${lines.length - head.length - tail.length} more dependency steps ...`, ...tail];
}

/** The conclusion of a solver explanation: which request items cannot be satisfied together. */
export function describeConclusion(ex: Explanation): string {
  const { requests, protected: kept } = conclusionOf(ex);
  const keeping = kept.length === 0 ? '' : ` while keeping ${kept.join(', ')} installed`;
  const conclusion =
    requests.length === 0
      ? kept.length === 0
        ? 'so the installed system itself is inconsistent'
        : `so ${kept.join(', ')} cannot all stay installed`
      : requests.length === 1
        ? `so the request to ${formatItem(requests[0]!)} cannot be satisfied${keeping}`
        : `so these request items cannot all be satisfied together${keeping}: ${requests.map((r) => formatItem(r)).join('; ')}`;
  return `${conclusion}${ex.minimal ? '' : ' (explanation not proven minimal: time budget reached)'}`;
}

/** A solver explanation as lines: the chain (summarised when long), then the conclusion. */
export function renderExplanation(ex: Explanation): string[] {
  return [...summariseChain(ex.facts.map(describeFact)), describeConclusion(ex)];
}

/** A plan conflict's explanation as lines (its facts, and the conclusion when it comes from the solver). */
export function renderPlanExplanation(ex: PlanExplanation): string[] {
  const lines = summariseChain(ex.facts.map(describeFact));
  if (ex.facts.some((f) => f.kind === 'request' || f.kind === 'protected')) lines.push(describeConclusion({ facts: ex.facts as ExplanationFact[], minimal: ex.minimal }));
  for (const f of ex.facts) if (f.kind === 'requirement-unmet') lines.push(requirementConclusion(f));
  return lines;
}

/** An installability chain in one line (`kb check-installable`). */
export function renderBrokenChain(facts: readonly ExplanationFact[]): string {
  const chain = facts.map(describeFact);
  if (chain.length <= 8) return chain.join('; ');
  return [...chain.slice(0, 4), `... ${chain.length - 7} more steps ...`, ...chain.slice(-3)].join('; ');
}

const withoutVerb = (item: RequestItem): string => formatItem(item).replace(/^\w+ /, '');

/** A resolution's edit in words. */
export function describeEdit(e: ResolutionEdit | PlanResolutionEdit): string {
  switch (e.kind) {
    case 'choose-version': return `choose another version: install ${e.name}=${e.version} instead of ${withoutVerb(e.instead)}`;
    case 'alternative': return `choose an alternative provider: install ${e.name}=${e.version} instead of ${withoutVerb(e.instead)}`;
    case 'relax': return `relax ${formatItem(e.item)} to any version of ${'name' in e.item ? e.item.name : '?'}`;
    case 'allow-downgrade': return `allow a downgrade of ${e.name}`;
    case 'skip': return `skip ${formatItem(e.item)}`;
    case 'lift': return `lift ${formatItem(e.item)} (allows changing ${'name' in e.item ? e.item.name : '?'})`;
    case 'allow-removal': return `allow removal of the installed package${e.names.length > 1 ? 's' : ''} ${e.names.join(', ')}`;
    case 'upgrade-first': return `first ${formatItem(e.item)} on the ${e.hosts === 1 ? 'host' : `${e.hosts} hosts`} running it that fall${e.hosts === 1 ? 's' : ''} short (${e.groups.length === 1 ? '1 group' : `${e.groups.length} groups`}), before the hosts that need it`;
    case 'hold': return `hold ${e.name} at its installed version on the hosts that need ${e.rule.replace(/^functional:.* requires /, '')}`;
    case 'described': return e.description;
    case 'all-of': return describeEdits(e.edits);
  }
}

/** A resolution's edits, applied together, in words. */
export function describeEdits(edits: ReadonlyArray<ResolutionEdit | PlanResolutionEdit>): string {
  return edits.map(describeEdit).join(', and ');
}
