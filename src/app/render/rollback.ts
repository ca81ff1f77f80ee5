/** Rollback plans and model rehearsals in words: the ordered steps, what cannot be undone and the safeguards it needs. */
import type { ForwardSafeguard, GroupRollback, ModelRehearsal, RollbackFlag, RollbackStep } from '../../planner/index.js';
import { PLAIN, type Palette } from './palette.js';

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
    case 'restore-conffiles': return `restore the conffiles of ${s.package} from the snapshot`;
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
  }
}

function describeSafeguard(s: ForwardSafeguard): string {
  switch (s.kind) {
    case 'snapshot': return `snapshot before deploying: ${[...s.configFiles, ...s.conffilesOf.map((p) => `conffiles of ${p}`), ...s.databases.map((d) => `schema of ${d}`), ...s.services.map((v) => `state of ${v}`)].join(', ')}`;
    case 'backup-database': return `back up ${s.database} before migration ${s.before}`;
    case 'approval': return `approval naming the risk (${s.risk})`;
    case 'keep-deb': return `keep ${s.deb.name}_${s.deb.version}.deb (${s.source === 'host' ? 'from the host\'s own archives' : 'from the repository'})`;
  }
}

export function renderRollback(groups: ReadonlyArray<{ group: string; hosts: string[]; rollback: GroupRollback }>, p: Palette = PLAIN): string {
  const out = [p.bold('Rollback plan'), '  (generated with the forward plan; every intermediate installed set checked by the resolver)'];
  groups.forEach((g, i) => {
    out.push(`  group ${i + 1} ${p.dim(g.group)}: ${g.hosts.length} host${g.hosts.length === 1 ? '' : 's'}${g.rollback.kind === 'nothing-to-undo' ? ': nothing to undo' : ''}`);
    g.rollback.steps.forEach((s, j) => out.push(`    ${String(j + 1).padStart(2)}. ${describeRollbackStep(s)}`));
    for (const f of g.rollback.flags) out.push(`    ${p.yellow('!')} ${describeRollbackFlag(f)}`);
    if (g.rollback.forwardSafeguards.length) out.push(`    before deploying: ${g.rollback.forwardSafeguards.map(describeSafeguard).join('; ')}`);
  });
  return out.join('\n') + '\n';
}

export function renderModelRehearsal(results: ReadonlyArray<{ group: string; hosts: string[]; rehearsal: ModelRehearsal }>, p: Palette = PLAIN): string {
  const out = [p.bold('Rehearsal in the model'), '  (forward then rollback on each group\'s model: installed set, schemas, files, services)'];
  results.forEach((r, i) => {
    const x = r.rehearsal;
    const verdict = x.silent > 0 ? p.red(`${x.silent} silent difference${x.silent === 1 ? '' : 's'}`) : x.restored ? p.green('restored exactly') : p.yellow('restored except flagged differences');
    out.push(`  group ${i + 1} ${p.dim(r.group)}: ${verdict} (${x.checks} consistency checks)`);
    for (const d of x.differences) out.push(`    ${d.cause.kind === 'silent' ? p.red('silent') : 'flagged'}: ${JSON.stringify(d.difference)}`);
    for (const d of x.incidents) out.push(`    ${d.cause.kind === 'silent' ? p.red('silent') : 'flagged'} incident: ${JSON.stringify(d.incident).slice(0, 200)}`);
  });
  return out.join('\n') + '\n';
}
