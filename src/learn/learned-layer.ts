/**
 * What a rollback taught, as a knowledge-base fact, and the edit of a learned layer's text that
 * records it. The fact is a known issue (kb/schema.ts `knownIssues:`), the kind the planner already
 * evaluates: its condition is the culprit's version installed (with the packages the fault needs
 * beside it), so the next plan that would install it flags the hosts it would hit, and the impact
 * counts it as a risk. Provenance: `source` names the deployment, `evidence` says what failed,
 * where, by how much, and when.
 *
 * The edit is pure (text in, text out) and keeps everything the file had: comments, other
 * entries, its layer header; an entry learned before from the same deployment and package is
 * replaced, never duplicated. A new file gets the learned layer's header (precedence 80, trust
 * learned), as examples/kb/learned.yaml shows.
 */
import { isMap, isSeq, parseDocument, YAMLSeq } from 'yaml';
import type { KbKnownIssue } from '../kb/index.js';
import type { Candidate, CulpritAnalysis, CulpritReach } from './culprit.js';
import { describeCheck } from './outcome.js';

type Severity = KbKnownIssue['severity'];
type Impact = KbKnownIssue['effect']['impact'];

/** Which kind of harm a failed check measured, from its name (latency: performance; memory, cpu, disk: resources). */
export function impactOfCheck(check: string): Impact {
  if (/latenc|duration|p9\d|slow|response.?time/i.test(check)) return 'performance';
  if (/mem|rss|cpu|disk|resource/i.test(check)) return 'resources';
  return 'outage';
}

function versionClause(c: Candidate): string | undefined {
  return c.to !== undefined && c.action !== 'remove' && c.action !== 'purge' ? `${c.package} (= ${c.to})` : undefined;
}

function who(c: Candidate): string {
  return c.to !== undefined ? `${c.package} ${c.to}` : `${c.action} ${c.package}`;
}

/** The id a learned issue gets: stable per deployment and package, so learning twice replaces. */
export function learnedIssueId(deployment: string, packages: readonly string[]): string {
  // an identifier is letters, digits and . _ : @ - (a package name may hold a +)
  return `learned-${deployment}-${[...packages].sort().map((p) => p.replace(/[^A-Za-z0-9._:@-]/g, '_')).join('__')}`.slice(0, 120);
}

/** The one-line conclusion (`shopfront 2.0.0 caused the rollback of deployment D (...)`), or why there is none. */
export function conclusionLine(a: CulpritAnalysis): string {
  const metric = a.checks.length > 0 ? ` (${a.checks.slice(0, 2).map(describeCheck).join('; ')}${a.checks.length > 2 ? '; …' : ''})` : '';
  const c = a.conclusion;
  if (c.kind === 'none') {
    if (c.why === 'failing-hosts-unchanged') {
      const hosts = c.hosts ?? a.unchanged.filter((u) => u.failed).map((u) => u.host);
      return `deployment ${a.deployment} is ${a.status}: the failing host(s) ${hosts.join(', ')} had no change from this deployment (each already had what the plan installs): the fault is not its doing${metric}`;
    }
    return c.why === 'no-failure' ? `deployment ${a.deployment} is ${a.status}: no failed check or host to learn from` : `deployment ${a.deployment} is ${a.status}: its failures name no changed host`;
  }
  if (c.kind === 'culprit') {
    const x = c.candidate;
    return `${who(x)}${x.context.length ? ` (with ${x.context.join(', ')} installed)` : ''} caused the rollback of deployment ${a.deployment}${metric}; confidence ${Math.round(x.confidence * 100)}%`;
  }
  const ctx = [...new Set(c.candidates.flatMap((x) => x.context))].sort();
  return `one of ${c.candidates.map(who).join(', ')}${ctx.length ? ` (with ${ctx.join(', ')} installed)` : ''} caused the rollback of deployment ${a.deployment}${metric}; the evidence cannot separate them (bisect the change set on staging)`;
}

/** The known issue a culprit analysis teaches; undefined when it concludes nothing or names only removals. */
export function learnedIssue(a: CulpritAnalysis, reach: readonly CulpritReach[] = []): KbKnownIssue | undefined {
  const c = a.conclusion;
  if (c.kind === 'none') return undefined;
  const blamed = c.kind === 'culprit' ? [c.candidate] : c.candidates;
  const clauses = blamed.map(versionClause).filter((x): x is string => x !== undefined);
  if (clauses.length === 0) return undefined;
  const context = [...new Set(blamed.flatMap((x) => x.context))].sort();
  const services = [...new Set(a.checks.flatMap((x) => (x.service ? [x.service] : [])))].sort();
  const criticalities = reach.filter((r) => services.includes(r.service) && r.criticality).map((r) => r.criticality!);
  const severity: Severity = criticalities.includes('critical') ? 'critical' : 'high';
  const impacts = a.checks.map((x) => impactOfCheck(x.check));
  const impact: Impact = impacts.includes('outage') || impacts.length === 0 ? 'outage' : impacts[0]!;
  const date = a.at.slice(0, 10);
  const failingHosts = a.failing.map((f) => f.host);
  const line = conclusionLine(a).replace(/; confidence \d+%$/, '').replace(/; the evidence cannot separate them \(bisect the change set on staging\)$/, '');
  return {
    id: learnedIssueId(a.deployment, blamed.map((x) => x.package)),
    title: line,
    when: { packages: [...clauses, ...context] },
    effect: {
      impact,
      ...(services.length ? { services } : {}),
      description: `${c.kind === 'ambiguous' ? 'one of these changes' : 'this change'} made ${a.checks.length ? a.checks.map(describeCheck).join('; ') : 'the hosts fail'} on ${failingHosts.join(', ')}; deployment ${a.deployment} was rolled back on ${date}`,
    },
    severity,
    evidence: [
      `deployment ${a.deployment}${a.plan ? ` (plan ${a.plan.id} v${a.plan.version})` : ''} ${a.status} at ${a.at}`,
      ...a.checks.map((x) => `${x.check} failed on ${x.hosts.join(', ')}${x.failingValue !== undefined ? `: ${x.failingValue}` : ''}${x.baselineValue !== undefined ? ` against ${x.baselineValue} (${x.against ?? 'other hosts'})` : ''}${x.wave !== undefined ? ` in wave ${x.wave}` : ''}${x.query ? `; query ${x.query}` : ''}`),
      ...a.failing.flatMap((f) => f.because.filter((b) => b.kind === 'host-failed').map((b) => `${f.host}: ${b.reason}`)),
      ...(a.healthy.length ? [`healthy with the same checks: ${a.healthy.join(', ')}`] : []),
      ...blamed.map((x) => `${who(x)}: confidence ${Math.round(x.confidence * 100)}%`),
    ],
    source: `rollwise learn: rollback of deployment ${a.deployment}`,
  };
}

export interface LayerHeaderDefaults {
  /** ISO date of the header of a new file. */
  date: string;
  source: string;
}

export interface LayerEdit {
  text: string;
  added: string[];
  replaced: string[];
}

/** Raised when the file is not YAML a learned layer can be added to (the app words it with the position). */
export class LearnedLayerProblem extends Error {
  constructor(readonly kind: 'yaml' | 'not-a-layer' | 'not-learned', message: string, readonly line?: number, readonly column?: number) {
    super(message);
  }
}

/** Adds (or replaces, by id) known issues in a learned layer's YAML text; `existing` undefined: a new file. */
export function addToLearnedLayer(existing: string | undefined, issues: readonly KbKnownIssue[], header: LayerHeaderDefaults): LayerEdit {
  const doc = parseDocument(existing && existing.trim() !== '' ? existing : [
    '# Facts learned from earlier deployments (rollwise learn), a layer above the organisation\'s own.',
    'apiVersion: rollwise/v1',
    'kind: KnowledgeBase',
    'layer:',
    '  name: learned',
    '  precedence: 80',
    '  trust: learned',
    '  author: rollwise learn',
    `  date: ${JSON.stringify(header.date)}`,
    `  source: ${JSON.stringify(header.source)}`,
    '',
  ].join('\n'), { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new LearnedLayerProblem('yaml', e.message.split('\n')[0] ?? e.message, e.linePos?.[0]?.line, e.linePos?.[0]?.col);
  }
  if (!isMap(doc.contents) || doc.get('kind') !== 'KnowledgeBase' || !isMap(doc.get('layer'))) {
    throw new LearnedLayerProblem('not-a-layer', 'not a knowledge-base layer file (apiVersion, kind: KnowledgeBase, layer:)', 1, 1);
  }
  const trust = doc.getIn(['layer', 'trust']);
  if (trust !== 'learned') throw new LearnedLayerProblem('not-learned', `its layer ${String(doc.getIn(['layer', 'name']))} has trust ${String(trust ?? 'organisation')}, not learned`, 1, 1);
  let seq = doc.get('knownIssues', true);
  if (!isSeq(seq)) {
    seq = new YAMLSeq();
    doc.set('knownIssues', seq);
  }
  const list = seq as YAMLSeq;
  const added: string[] = [];
  const replaced: string[] = [];
  for (const issue of issues) {
    const node = doc.createNode(issue);
    const at = list.items.findIndex((x) => isMap(x) && x.get('id') === issue.id);
    if (at >= 0) {
      list.items[at] = node;
      replaced.push(issue.id);
    } else {
      list.items.push(node);
      added.push(issue.id);
    }
  }
  return { text: doc.toString({ lineWidth: 0 }), added, replaced };
}
