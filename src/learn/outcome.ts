/**
 * A finished deployment's outcome as deployment-history entries (analysis/history.ts), so the
 * impact prediction of a later plan weighs it: one entry per host group and package change. A
 * deployment that succeeded records `succeeded` for every group it changed; one rolled back
 * records `rolled-back` (`failed` when a host needed a person) for the groups with a failing host,
 * with the failing checks in the entries' source. Groups rolled back only because another group
 * failed are not recorded: their hosts neither kept the change nor failed with it. An aborted or
 * unfinished deployment records nothing. A host the deployment reached and changed nothing on (re-solved:
 * it already had what the plan installs) is no outcome of a change and is not recorded, whether it
 * passed or failed; a group's entries are the changes its recorded hosts really got.
 *
 * An entry's `host` is the group's first failing (or changed) host: the history keys entries by
 * package, change, outcome, time and host, so two groups of one deployment stay two entries, and
 * recording a deployment again adds nothing.
 */
import type { DeploymentHistoryEntry } from '../analysis/index.js';
import type { PackageChange } from '../solver/index.js';
import { analyseCulprit, changesByHost, type CulpritAnalysis, type CulpritInput, type FailedCheck } from './culprit.js';

export interface HistoryRecord {
  /** Where the entries came from, for the store: deployment, group and the failing checks. */
  source: string;
  entries: DeploymentHistoryEntry[];
}

const kindOf = (c: PackageChange): DeploymentHistoryEntry['change'] => (c.action === 'purge' ? 'remove' : c.action);

export function describeCheck(c: FailedCheck): string {
  const values = c.failingValue !== undefined ? ` ${c.failingValue}${c.baselineValue !== undefined ? ` vs ${c.baselineValue}` : ''}` : '';
  return `${c.check}${values}`;
}

function entriesFor(changes: readonly PackageChange[], outcome: DeploymentHistoryEntry['outcome'], at: string, host: string): DeploymentHistoryEntry[] {
  const seen = new Set<string>();
  const out: DeploymentHistoryEntry[] = [];
  for (const c of changes) {
    const change = kindOf(c);
    const key = `${c.name}\0${change}`;
    if (seen.has(key)) continue; // the same change on two architectures is one
    seen.add(key);
    out.push({ package: c.name, change, outcome, at, host });
  }
  return out;
}

/** The history entries of a finished deployment (none for an unfinished or aborted one). */
export function historyFromDeployment(input: CulpritInput, analysis: CulpritAnalysis = analyseCulprit(input)): HistoryRecord[] {
  const { status, id, updatedAt } = input.deployment;
  const at = updatedAt;
  const out: HistoryRecord[] = [];
  const groups = new Map(input.groups.map((g) => [g.key, g]));
  const byHost = changesByHost(input);
  const changesOn = (hosts: readonly string[], fallback: readonly PackageChange[]): PackageChange[] => hosts.flatMap((h) => byHost.get(h) ?? fallback);
  if (status === 'succeeded') {
    const changed = new Set(analysis.healthy);
    for (const g of input.groups) {
      const hosts = g.hosts.filter((h) => changed.has(h));
      const changes = changesOn(hosts, g.changes);
      if (hosts.length === 0 || changes.length === 0) continue;
      out.push({ source: `deployment ${id} group ${g.key}: succeeded on ${hosts.length} host(s)`, entries: entriesFor(changes, 'succeeded', at, hosts[0]!) });
    }
    return out;
  }
  if (status !== 'rolled-back' && status !== 'needs-attention') return out;
  const outcome = status === 'rolled-back' ? 'rolled-back' : 'failed';
  const byGroup = new Map<string, string[]>();
  for (const f of analysis.failing) byGroup.set(f.group, [...(byGroup.get(f.group) ?? []), f.host]);
  for (const [key, hosts] of [...byGroup].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const g = groups.get(key);
    const changes = g ? changesOn(hosts, g.changes) : [];
    if (changes.length === 0) continue;
    const failingChecks = analysis.checks.filter((c) => c.hosts.some((h) => hosts.includes(h)));
    const reasons = analysis.failing.filter((f) => hosts.includes(f.host)).flatMap((f) => f.because.filter((b) => b.kind === 'host-failed').map((b) => `${f.host}: ${b.reason}`));
    const why = [...failingChecks.map(describeCheck), ...reasons].join('; ') || 'failed';
    out.push({ source: `deployment ${id} group ${key}: ${outcome} on ${hosts.join(', ')}; ${why}`, entries: entriesFor(changes, outcome, at, hosts[0]!) });
  }
  return out;
}
