/**
 * Host steps, their outcomes and snapshot differences in words, one line each, for logs,
 * journals and the terminal. Pure: data in, text out.
 */
import type { SnapshotDifference, Step, StepOutcome } from '../../planner/index.js';

/** A one-line description of a step. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'refresh-index':
      return 'refresh the package index';
    case 'packages':
      return step.changes
        .map((c) => (c.action === 'remove' || c.action === 'purge' ? `${c.action} ${c.name}` : `${c.action} ${c.name}=${c.to ?? '?'}`))
        .join(', ');
    case 'migrate':
      return `migrate ${step.database.name} ${step.migration.direction} ${step.migration.version}`;
    case 'write-config':
      return `write ${step.path}`;
    case 'restore-config': {
      const main = step.state.kind === 'absent' ? `remove ${step.path}` : `restore ${step.path}`;
      if (!step.sides) return main;
      return `${main}${step.sides.length ? ` (and ${step.sides.map((x) => x.suffix).join(', ')} beside it)` : ''}, removing dpkg's other side files (.dpkg-dist, .dpkg-old, ...)`;
    }
    case 'service':
      return `${step.action} ${step.service}`;
  }
}

/** A one-line description of an outcome. */
export function describeOutcome(o: StepOutcome): string {
  const what = `${o.host}: ${describeStep(o.step)}`;
  if (o.status === 'succeeded') return `${what}: succeeded`;
  if (o.status === 'unknown') return `${what}: unknown (${o.reason})`;
  const f = o.failure;
  switch (f.kind) {
    case 'rejected':
      return `${what}: rejected (${f.code}: ${f.message})`;
    case 'command':
      return `${what}: failed (${f.command[0] ?? '?'} exit ${f.exitCode})`;
    case 'not-started':
      return `${what}: failed (${f.reason})`;
    case 'precondition':
      return `${what}: failed (${f.message})`;
  }
}

const mode = (m: number): string => m.toString(8).padStart(4, '0');
const short = (h: string): string => h.slice(0, 12);

/** One readable line per difference. */
export function describeDifference(d: SnapshotDifference): string {
  switch (d.kind) {
    case 'package-added':
      return `package added: ${d.name}:${d.architecture} ${d.version} (${d.status})`;
    case 'package-removed':
      return `package removed: ${d.name}:${d.architecture} ${d.version} (${d.status})`;
    case 'package-version-changed':
      return `package version changed: ${d.name}:${d.architecture} ${d.before} -> ${d.after}`;
    case 'package-status-changed':
      return `package status changed: ${d.name}:${d.architecture} ${d.before} -> ${d.after}`;
    case 'config-changed':
      return `config changed: ${d.path} (sha256 ${short(d.before)} -> ${short(d.after)})`;
    case 'config-mode-changed':
      return `config mode changed: ${d.path} ${mode(d.before)} -> ${mode(d.after)}`;
    case 'config-missing':
      return `config missing: ${d.path}`;
    case 'config-appeared':
      return `config appeared: ${d.path}`;
    case 'schema-version-changed':
      return `schema version changed: ${d.database} ${d.before ?? '(none)'} -> ${d.after ?? '(none)'}`;
    case 'service-state-changed':
      return `service state changed: ${d.service} ${d.before} -> ${d.after}`;
    case 'tree-entry-appeared':
      return `${d.type} appeared under ${d.tree}: ${d.path}`;
    case 'tree-entry-missing':
      return `${d.type} missing under ${d.tree}: ${d.path}`;
    case 'tree-entry-changed':
      return `${d.what} changed under ${d.tree}: ${d.path} (${d.what === 'content' ? `sha256 ${short(d.before)} -> ${short(d.after)}` : `${d.before} -> ${d.after}`})`;
  }
}

export function formatDifferences(diffs: readonly SnapshotDifference[]): string {
  return diffs.length === 0 ? 'no differences' : diffs.map(describeDifference).join('\n');
}
