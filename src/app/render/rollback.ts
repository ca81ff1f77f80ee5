/** Rollback plans and model rehearsals in words: the ordered steps, what cannot be undone and the safeguards it needs. */
import type { ForwardSafeguard, GroupRollback, ModelRehearsal, RollbackFlag, RollbackStep } from '../../planner/index.js';
import type { HealthResult } from '../../deploy/index.js';
import type { StepOutcome } from '../../planner/index.js';
import { escapeControls } from '../../shared/index.js';
import type { StagingDifference, StagingMatch, StagingRefusal, StagingRehearsal, StagingOmission } from '../services/index.js';
import { PLAIN, type Palette } from './palette.js';
import { describeDifference, describeStep } from './steps.js';

function change(c: { action: string; name: string; from?: string; to?: string }): string {
  return c.action === 'install' || c.action === 'upgrade' || c.action === 'downgrade' ? `${c.action} ${c.name} ${c.from ? `${c.from} → ` : ''}${c.to}` : `${c.action} ${c.name}${c.from ? ` ${c.from}` : ''}`;
}

export function describeRollbackStep(s: RollbackStep): string {
  switch (s.kind) {
    case 'service': return s.action === 'stop' ? `stop ${s.service}` : `start ${s.service} (if it ran before)`;
    case 'health': return `health checks of ${s.service} (the rollback stops here if they fail)`;
    case 'migrate': return `migrate ${s.database} down: ${s.migration.id} (${s.package.name} ${s.package.version})`;
    case 'restore-database': return `restore ${s.database} from the backup taken before deploying (undoes ${s.undoes.join(', ')}; writes since are lost)`;
    case 'packages': return `${s.transaction ? 'one apt transaction: ' : ''}${s.changes.map(change).join('; ')}${s.debs.length ? ` (from kept .debs: ${s.debs.map((d) => `${d.name}_${d.version}`).join(', ')})` : ''}${s.transaction ? ` — no order of single steps is consistent (${s.transaction.kind ?? 'see --json'})` : ''}`;
    case 'restore-config': return `restore ${s.path} (${s.package}) from the snapshot`;
    case 'restore-conffiles': return `restore the conffiles of ${s.package} as the snapshot has them (none left if it was not installed)`;
  }
}

export function describeRollbackFlag(f: RollbackFlag): string {
  switch (f.kind) {
    case 'irreversible-migration': return `migration ${f.migration} on ${f.database} (${f.package} ${f.version}) cannot be undone (${f.cause === 'marked-irreversible' ? 'declared irreversible' : 'no down script'}): ${f.undo === 'restore-backup' ? 'the rollback restores the backup' : 'the schema stays'}`;
    case 'former-version-unavailable': return `${f.deb.name} ${f.deb.version} is in no loaded index: keep its .deb from the host before deploying`;
    case 'configuration-purged': return `the plan purges ${f.package}: configuration beyond its conffiles cannot come back`;
    case 'left-in-place': return `${f.package} is left at ${f.version ?? 'its new version'} (low impact; policy allows it)`;
    case 'schema-kept': return `${f.package}: migrations ${f.migrations.join(', ')} stay applied on ${f.database} (undone by a downgrade only)`;
    case 'unpack-order-loop': return `${f.packages.join(', ')} form a ${f.because.join('/')} loop: dpkg must break it`;
    case 'former-state-inconsistent': return 'the group\'s former installed set is itself inconsistent (restored as it was)';
    case 'data-converted': return `${f.package} ${f.from} → ${f.to}: the maintainer scripts of ${f.versions.join(', ')} convert data in place${f.paths.length ? ` (${f.paths.join(', ')})` : ''}, which no package change converts back${f.note ? `: ${f.note}` : ''}`;
  }
}

function describeSafeguard(s: ForwardSafeguard): string {
  switch (s.kind) {
    case 'snapshot': return `snapshot before deploying: ${[...s.configFiles, ...s.conffilesOf.map((p) => `conffiles of ${p}`), ...s.databases.map((d) => `schema of ${d}`), ...s.services.map((v) => `state of ${v}`), ...(s.dataFiles ?? []).map((d) => `a copy of ${d}`)].join(', ')}`;
    case 'backup-database': return `back up ${s.database} before migration ${s.before}`;
    case 'approval': return `approval naming the risk (${s.risk})`;
    case 'keep-deb': return `keep ${s.deb.name}_${s.deb.version}.deb (${s.source === 'host' ? 'from the host\'s own archives' : 'from the repository'})`;
  }
}

/** `numbers`: each group's number as `plan show` lists it (default: 1, 2, ... in the order given). */
export function renderRollback(groups: ReadonlyArray<{ group: string; hosts: string[]; rollback: GroupRollback }>, p: Palette = PLAIN, options: { numbers?: readonly number[] } = {}): string {
  const out = [p.bold('Rollback plan'), '  (generated with the forward plan; every intermediate installed set checked by the resolver)'];
  groups.forEach((g, i) => {
    out.push(`  group ${options.numbers?.[i] ?? i + 1} ${p.dim(g.group)}: ${g.hosts.length} host${g.hosts.length === 1 ? '' : 's'}${g.rollback.kind === 'nothing-to-undo' ? ': nothing to undo' : ''}`);
    g.rollback.steps.forEach((s, j) => out.push(`    ${String(j + 1).padStart(2)}. ${describeRollbackStep(s)}`));
    for (const f of g.rollback.flags) out.push(`    ${p.yellow('!')} ${describeRollbackFlag(f)}`);
    if (g.rollback.forwardSafeguards.length) out.push(`    before deploying: ${g.rollback.forwardSafeguards.map(describeSafeguard).join('; ')}`);
  });
  return out.join('\n') + '\n';
}

function describeModelDifference(d: ModelRehearsal['differences'][number]['difference']): string {
  switch (d.kind) {
    case 'package': return `${d.name}: ${d.before ?? 'absent'} before, ${d.after ?? 'absent'} after`;
    case 'schema': return `schema of ${d.database}: [${d.before.join(', ')}] before, [${d.after.join(', ')}] after`;
    case 'file': return `${d.path} differs from before`;
    case 'service': return `${d.service}: ${d.before} before, ${d.after} after`;
    case 'writes-lost': return `writes to ${d.database} since the backup are lost (the backup is restored)`;
  }
}

function describeModelIncident(i: ModelRehearsal['incidents'][number]['incident']): string {
  switch (i.kind) {
    case 'inconsistent': return `step ${i.step + 1} of the ${i.phase} leaves an inconsistent installed set`;
    case 'pre-depends-unmet': return `step ${i.step + 1}: ${i.package} is unpacked before its pre-dependencies ${i.unmet.join(', ')}`;
    case 'files-replaced': return `step ${i.step + 1}: ${i.package} overwrites files ${i.by} took over`;
    case 'schema-unknown': return `step ${i.step + 1}: ${i.service} runs ${i.package} ${i.version} against a schema of ${i.database} it does not know`;
    case 'deb-unavailable': return `step ${i.step + 1}: ${i.deb.name} ${i.deb.version} is in no index or cache`;
    case 'backup-missing': return `step ${i.step + 1}: no backup of ${i.database} to restore`;
    case 'migration-not-applied': return `step ${i.step + 1}: migration ${i.migration} is not applied on ${i.database}`;
    default: return JSON.stringify(i).slice(0, 160);
  }
}

export function renderModelRehearsal(results: ReadonlyArray<{ group: string; hosts: string[]; rehearsal: ModelRehearsal }>, p: Palette = PLAIN, options: { numbers?: readonly number[] } = {}): string {
  const out = [p.bold('Rehearsal in the model'), '  (forward then rollback on each group\'s model: installed set, schemas, files, services)'];
  results.forEach((r, i) => {
    const x = r.rehearsal;
    const verdict = x.silent > 0 ? p.red(`${x.silent} silent difference${x.silent === 1 ? '' : 's'}`) : x.restored ? p.green('restored exactly') : p.yellow('restored except flagged differences');
    out.push(`  group ${options.numbers?.[i] ?? i + 1} ${p.dim(r.group)}: ${verdict} (${x.checks} consistency checks)`);
    for (const d of x.differences) out.push(`    ${d.cause.kind === 'silent' ? p.red('silent') : `flagged (${d.cause.flags.join(', ')})`}: ${describeModelDifference(d.difference)}`);
    for (const d of x.incidents) out.push(`    ${d.cause.kind === 'silent' ? p.red('silent') : `flagged (${d.cause.flags.join(', ')})`}: ${describeModelIncident(d.incident)}`);
  });
  return out.join('\n') + '\n';
}

// ---- rehearsal on a staging host ---------------------------------------------------------------

const esc = escapeControls;
const ms = (n: number): string => (n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`);
const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;

/** A difference between a staging root and a group, in one line. */
export function describeStagingDifference(d: StagingDifference): string {
  switch (d.kind) {
    case 'changed-package': {
      const group = d.group === undefined ? 'not installed' : d.group;
      const root = d.root === undefined ? 'not installed' : `${d.root}${d.rootStatus && d.rootStatus !== 'ii' ? ` (dpkg status ${d.rootStatus})` : ''}`;
      return `${d.name} (the plan's ${d.action}): ${group} in the group, ${root} on the root`;
    }
    case 'not-in-repository':
      return `${d.package} ${d.version} is in none of the root's repositories`;
    case 'dependency-unmet':
      return `${d.package} ${d.version} needs ${d.relation}: ${d.onRoot.length === 0 ? 'not on the root' : `the root has ${d.onRoot.map((r) => `${r.name} ${r.version}`).join(', ')}`}`;
    case 'conflict':
      return `${d.package} ${d.version} ${d.relation} ${d.with.name} ${d.with.version} on the root`;
  }
}

function matchSummary(m: StagingMatch): string {
  const names = (xs: ReadonlyArray<{ name: string }>): string => (xs.length === 0 ? '' : `: ${xs.slice(0, 4).map((x) => x.name).join(', ')}${xs.length > 4 ? ` and ${xs.length - 4} more` : ''}`);
  return [
    `${plural(m.onlyInGroup.length, 'package')} of the group not on the root${names(m.onlyInGroup)}`,
    `${plural(m.onlyOnRoot.length, 'package')} on the root the group lacks${names(m.onlyOnRoot)}`,
    `${plural(m.otherVersions.length, 'package')} at other versions${names(m.otherVersions)}`,
  ].join('; ');
}

/** Why a staging root was refused, for an error message: the differences of the closest groups. */
export function describeStagingRefusal(r: StagingRefusal): { message: string; hint: string } {
  const c = r.choice;
  const root = esc(r.root);
  if (r.failure) {
    return {
      message: `the staging root ${root} refused the plan's transaction before anything ran: ${r.failure.code}: ${esc(r.failure.message)}`,
      hint: `${r.failure.hint ? `${r.failure.hint}; ` : ''}nothing was changed or recorded; rollwise rehearse --chroot runs apt, dpkg and the maintainer scripts inside a complete Debian root instead`,
    };
  }
  if (c.kind === 'ambiguous') {
    return {
      message: `the staging root ${root} matches ${c.matches.length} groups equally: ${c.matches.map((m) => `group ${m.number} (${m.group})`).join(', ')}`,
      hint: `choose one with --group ${c.matches[0]!.number}`,
    };
  }
  if (c.kind === 'no-match') {
    const shown = c.matches.slice(0, c.asked ? 1 : 3);
    const parts = shown.map((m) => `group ${m.number} (${m.group}): ${esc(m.matters.slice(0, 6).map(describeStagingDifference).join('; '))}${m.matters.length > 6 ? `; and ${m.matters.length - 6} more` : ''}`);
    return {
      message: `the staging root ${root} does not stand for ${c.asked ? 'the group' : 'any changing group of the plan'}: ${parts.join(' | ')}`,
      hint: 'the root needs the group\'s version of every package the plan changes, everything the new versions depend on and nothing they conflict with, and apt sources holding the new versions (apt-get update on the root after adding them); rollwise plan show lists the groups',
    };
  }
  return { message: `the staging root ${root} was refused`, hint: 'see rollwise rehearse --help' };
}

function describeOmission(o: StagingOmission): string {
  switch (o.kind) {
    case 'database-step': return `${o.step === 'migrate' ? 'migrate' : 'restore'} ${o.database}: ${o.what} — not rehearsed (no database address is known for the staging root)`;
    case 'schema-not-compared': return `the schema of ${o.database} is not compared (no database address is known for the staging root)`;
    case 'service-not-supervised': return `${o.service} is not supervised on the root (${o.state}): its stop, start and health checks did not run`;
    case 'health-as-service-state': return `${o.service}: the knowledge base's health probes were not run; the rehearsal checked that it runs`;
  }
}

/** The lines of apt's or dpkg's output that say why (errors, unmet relations, a file another package owns); else the last ones. */
function toolLines(output: string): string[] {
  const lines = output.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  const why = lines.filter((l) => /^(E: |dpkg: error|dpkg-deb: error)|trying to overwrite|^\S+ : (Depends|Pre-Depends|Conflicts|Breaks):/.test(l));
  return (why.length > 0 ? why : lines).slice(why.length > 0 ? 0 : -3).slice(0, 4);
}

function describeHostOutcome(o: StepOutcome): string {
  if (o.status === 'succeeded') return `succeeded (${ms(o.durationMs)})`;
  if (o.status === 'unknown') return `unknown: ${o.reason}`;
  const f = o.failure;
  switch (f.kind) {
    case 'rejected': return `rejected: ${f.code}: ${f.message}${f.hint ? ` (hint: ${f.hint})` : ''}`;
    case 'command': return `failed: ${f.command[0] ?? '?'} exited ${f.exitCode}${f.output ? `: ${toolLines(f.output).join(' / ')}` : ''}`;
    case 'not-started': return `failed: ${f.reason}`;
    case 'precondition': return `failed: ${f.message}`;
  }
}

function healthLine(h: HealthResult): string {
  const what = h.check.kind === 'service' ? `${h.check.service} ${h.check.state}` : h.check.argv.join(' ');
  if (h.status === 'not-run') return `${what}: not run (${h.reason === 'forward-stopped' ? 'the plan stopped' : 'no command runner'})`;
  const seen = h.observed.kind === 'service' ? h.observed.state : h.observed.kind === 'exited' ? `exit ${h.observed.exitCode}` : h.observed.kind;
  return `${what}: ${h.status} (${seen}, ${plural(h.attempts, 'attempt')}, ${ms(h.durationMs)})`;
}

/** A rehearsal on a staging host: the group, every step and its outcome, every difference (flagged or silent), what was left out, timings. */
export function renderStagingRehearsal(r: StagingRehearsal, p: Palette = PLAIN): string {
  const x = r.report;
  const m = r.choice.match;
  const out: string[] = [p.bold(`Rehearsal on the staging host ${esc(r.where)}`) + ` (${esc(r.root)}; ${r.mode === 'chroot' ? 'apt, dpkg and maintainer scripts inside the root with chroot' : 'a directory root: packages with maintainer scripts are refused, never run on this machine'})`];
  out.push(`  group ${m.number} ${p.dim(m.group)}: ${plural(m.hosts.length, 'host')}; ${r.choice.by === 'group-option' ? 'chosen with --group' : 'its installed set is the root\'s'}${r.choice.alsoMatching.length ? ` (also matching, less closely: ${r.choice.alsoMatching.map((a) => `group ${a.number}`).join(', ')})` : ''}`);
  out.push(`  the root against the group: every package the plan changes at the group's version, every relation of the new versions met; ${esc(matchSummary(m))}`);
  const spec = r.snapshotSpec;
  out.push(`  snapshots: installed set, dpkg conffiles${spec.configFiles?.length ? `, ${spec.configFiles.filter((f) => !/\.dpkg-(dist|old|new)$/.test(f)).join(', ') || 'no config files'} (and dpkg's .dpkg-dist/-old/-new copies beside them)` : ''}${spec.services?.length ? `, services ${spec.services.join(', ')}` : ''}`);
  x.forward.outcomes.forEach((o, i) => out.push(`  forward ${i + 1}. ${esc(describeStep(o.step))}: ${o.status === 'succeeded' ? p.green(esc(describeHostOutcome(o))) : p.red(esc(describeHostOutcome(o)))}`));
  if (x.forward.notRun > 0) out.push(`  forward: ${plural(x.forward.notRun, 'step')} not run`);
  if (x.forwardChanges) out.push(`    it changed: ${x.forwardChanges.length === 0 ? 'nothing' : esc(x.forwardChanges.map(describeDifference).join('; '))}`);
  for (const d of r.unplannedForwardChanges) out.push(`    ${p.yellow('!')} not in the plan's transaction: ${esc(describeDifference(d))}`);
  if (x.debs.kept.length) out.push(`  former .debs kept${r.debSource ? ` from ${esc(r.debSource)}` : ''}: ${x.debs.kept.map((k) => `${esc(`${k.name} ${k.version}`)} (${k.outcome.kind === 'kept' ? 'kept' : esc(`${k.outcome.kind}: ${k.outcome.reason}`)})`).join(', ')}`);
  else if (!r.debSource) out.push('  former .debs: not kept (the root has no flat file: repository); the rollback installs them from its repository');
  for (const d of x.debs.uncached) out.push(`    ${p.yellow('!')} ${esc(`${d.name} ${d.version}`)} is not in the .deb cache: undoing it needs the repository`);
  for (const h of x.health.afterForward) out.push(`  health after the plan: ${esc(healthLine(h))}`);
  out.push(`  rollback: ${plural(x.rollback.steps.length, 'host step')} from the ${plural(r.rollback.rollback.steps.length, 'step')} of the rollback plan${x.rollback.source === 'restore' ? ' (restored from the snapshot)' : ''}, filled from the snapshots:`);
  x.rollback.steps.forEach((s, i) => {
    const o = x.rollback.outcomes[i];
    out.push(`    ${String(i + 1).padStart(2)}. ${esc(describeStep(s))}: ${o ? (o.status === 'succeeded' ? esc(describeHostOutcome(o)) : p.red(esc(describeHostOutcome(o)))) : 'not run'}`);
  });
  if (x.rollback.notPlanned) out.push(`    ${p.red('no rollback steps')}: ${x.rollback.notPlanned.kind === 'materializer-failed' ? esc(x.rollback.notPlanned.message) : `the snapshot after the plan failed (${esc(x.rollback.notPlanned.failure.message)})`}`);
  for (const h of x.health.afterRollback) out.push(`  health after the rollback: ${esc(healthLine(h))}`);
  for (const o of r.omissions) out.push(`  ${p.yellow('not rehearsed')}: ${esc(describeOmission(o))}`);
  for (const f of x.snapshotFailures) out.push(`  ${p.red('snapshot failed')} (${f.phase}): ${esc(f.message)}`);
  const flagged = x.differences.filter((d) => d.flag === 'flagged').length;
  const silent = x.differences.length - flagged;
  const verdict = x.outcome === 'identical' ? p.green('identical: the root is back to its former state (packages, conffiles, config files and services compared)')
    : x.outcome === 'flagged-only' ? p.yellow(`back to its former state except ${plural(flagged, 'flagged difference')}`)
      : x.outcome === 'different' ? p.red(`${plural(silent, 'silent difference')}${flagged ? ` and ${plural(flagged, 'flagged one')}` : ''} after the rollback`)
        : x.outcome === 'not-started' ? p.red('not started: the first snapshot failed (nothing was applied)') : p.red('not compared: the last snapshot failed');
  out.push(`  result: ${verdict}`);
  for (const d of x.differences) out.push(`    ${d.flag === 'silent' ? p.red('silent') : 'flagged'}: ${esc(describeDifference(d.difference))}`);
  for (const e of x.expectedNotSeen) out.push(`    expected (flagged in advance) but not seen: ${esc(Object.entries(e).map(([k, v]) => (k === 'kind' ? String(v) : `${k} ${String(v)}`)).join(' '))}`);
  const t = x.timings;
  out.push(`  timings: snapshot ${ms(t.snapshotBeforeMs)}, keep .debs ${ms(t.keepDebsMs)}, plan ${ms(t.forwardMs)}, snapshot ${ms(t.snapshotForwardMs)}, health ${ms(t.healthMs)}, rollback ${ms(t.rollbackMs)}, snapshot ${ms(t.snapshotAfterMs)}, health ${ms(t.healthAfterRollbackMs)}; total ${ms(t.totalMs)}`);
  const why = r.ok ? '' : [!x.forward.completed ? 'the plan did not complete' : '', x.rollback.outcomes.some((o) => o.status !== 'succeeded') ? 'a rollback step failed' : '', x.outcome === 'different' ? 'silent differences' : '', x.outcome === 'not-started' || x.outcome === 'not-compared' ? 'not compared' : '', [...x.health.afterForward, ...x.health.afterRollback].some((h) => h.status === 'failed') ? 'a health check failed' : ''].filter(Boolean).join(', ');
  out.push(`  ${r.ok ? p.green('rehearsal succeeded') : p.red(`rehearsal failed (${why || 'see above'})`)}${r.recorded ? `; recorded with plan ${r.plan.id} version ${r.plan.version}${r.ok ? ' (a critical impact\'s approval gate counts it)' : ''}` : ''}`);
  return out.join('\n') + '\n';
}
