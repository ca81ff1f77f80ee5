/**
 * `rollwise kb validate|stats|show`: load knowledge-base layers, print problems, counts and the
 * merged view of one package or service. Rendering only; the work is in src/kb/.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { collect } from '../terminal.js';
import { addIndexOptions, OUTSIDE_PATHS_HELP, type IndexChoice } from '../options.js';
import { RollwiseError, didYouMean } from '../../../shared/index.js';
import {
  computeStats, createProblem, describePackage, describeService, formatClause, formatProblem, hasErrors, loadKnowledgeBase,
  type KbProblem, type KnowledgeBase, type LoadOptions, type PackageView, type Fact, type KbService, type Provenance,
} from '../../../kb/index.js';
import { DEFAULT_INDEX, DEFAULT_KB, displayPath } from '../../services/index.js';
import { renderLayers } from '../../render/index.js';

interface IndexOptions {
  index?: string[];
  /** commander sets this false for --no-index. */
  defaultIndex?: boolean;
  allowOutsidePaths?: boolean;
}


/**
 * Which indexes to load: those given with --index and index PATHs; when there are none, the
 * embedded default (Debian 12 main) if it exists, unless --no-index.
 */
function indexOptions(opts: IndexOptions): LoadOptions {
  const outside: LoadOptions = opts.allowOutsidePaths ? { allowOutsidePaths: true } : {};
  if (opts.index?.length) return { ...outside, indexes: opts.index };
  if (opts.defaultIndex === false) return outside;
  return { ...outside, fallbackIndexes: [displayPath(DEFAULT_INDEX)] };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Paths that cannot be read at all are bad input for stats/show (validate lists them as problems). */
function failOnUnreadable(problems: readonly KbProblem[]): void {
  const io = problems.find((p) => p.code === 'RW_KB_IO' || p.code === 'RW_KB_INDEX');
  if (io) throw new RollwiseError(io.code === 'RW_KB_IO' ? 'RW_IO' : 'RW_INDEX_PARSE', `${io.file}: ${io.message}`, { hint: io.hint ?? 'give a readable YAML file, directory of them, or Packages index' });
}

function where(p: Provenance): string {
  const extra = [p.trust, p.author, p.date, p.origin].filter((x) => x !== undefined).join(', ');
  return `${p.layer}: ${p.source}${p.line ? `:${p.line}` : ''}${extra ? ` (${extra})` : ''}`;
}

function renderPackage(view: PackageView): string[] {
  const out: string[] = [];
  if (view.known) out.push(`package ${view.name}`);
  for (const v of view.versions) {
    const r = v.effective;
    out.push(`  version ${v.version} (${v.scheme}, ${r.architecture})  from ${where(r.provenance)}`);
    for (const s of v.shadowed) out.push(`    also in ${where(s.provenance)} (lower precedence, shadowed)`);
    const rel = (label: string, items: string[]) => { if (items.length) out.push(`    ${label}: ${items.join(', ')}`); };
    rel('pre-depends', r.preDepends.map(formatClause));
    rel('depends', r.depends.map(formatClause));
    rel('recommends', r.recommends.map(formatClause));
    rel('suggests', r.suggests.map(formatClause));
    rel('conflicts', r.conflicts.map((a) => formatClause([a])));
    rel('breaks', r.breaks.map((a) => formatClause([a])));
    rel('provides', r.provides.map((p) => (p.version ? `${p.name} (= ${p.version})` : p.name)));
    rel('replaces', r.replaces.map((a) => formatClause([a])));
    if (v.environment) {
      const e = v.environment.value;
      const parts = [e.os, e.releases?.length ? `release ${e.releases.join('/')}` : undefined, e.architectures?.join('/'), e.kernel ? `kernel ${e.kernel}` : undefined,
        e.minMemoryMiB ? `≥ ${e.minMemoryMiB} MiB memory` : undefined, e.minDiskMiB ? `≥ ${e.minDiskMiB} MiB disk` : undefined, e.minCpus ? `≥ ${e.minCpus} CPUs` : undefined].filter(Boolean);
      out.push(`    environment: ${parts.join(', ')}`);
    }
    for (const m of v.migrations) out.push(`    migration ${m.value.database}/${m.value.id}: up ${m.value.up}, ${m.value.irreversible ? 'IRREVERSIBLE' : `down ${m.value.down ?? '?'}`}`);
    if (v.resources) {
      const x = v.resources.value;
      const parts = [x.memoryMiB !== undefined ? `memory ${x.memoryMiB >= 0 ? '+' : ''}${x.memoryMiB} MiB` : undefined, x.cpuPercent !== undefined ? `CPU ${x.cpuPercent >= 0 ? '+' : ''}${x.cpuPercent}%` : undefined, x.diskMiB !== undefined ? `disk ${x.diskMiB >= 0 ? '+' : ''}${x.diskMiB} MiB` : undefined].filter(Boolean);
      out.push(`    resources: ${parts.join(', ')}${x.note ? ` (${x.note})` : ''}`);
    }
  }
  if (view.providedBy.length) {
    out.push(`  provided by: ${view.providedBy.slice(0, 20).map((p) => `${p.name} ${p.version}${p.providedVersion ? ` (= ${p.providedVersion})` : ''}`).join(', ')}${view.providedBy.length > 20 ? `, and ${view.providedBy.length - 20} more` : ''}`);
  }
  for (const s of view.services) out.push(`  part of service ${s.value.name} (${s.value.criticality})  from ${where(s.provenance)}`);
  for (const i of view.impacts) out.push(`  impacts service ${i.value.service}: ${i.value.impact}${i.value.reason ? ` (${i.value.reason})` : ''}  from ${where(i.provenance)}`);
  for (const r of view.requirements) out.push(`  functional: ${r.value.packageText} requires ${r.value.requiresText}${r.value.reason ? ` (${r.value.reason})` : ''}  from ${where(r.provenance)}`);
  for (const k of view.knownIssues) out.push(`  known issue ${k.value.id} [${k.value.severity}] ${k.value.title}  from ${where(k.provenance)}`);
  for (const c of view.configFiles) out.push(`  config file ${c.value.path} (${c.value.owner}:${c.value.group} ${c.value.mode})  from ${where(c.provenance)}`);
  return out;
}

function renderService(defs: Array<Fact<KbService>>): string[] {
  const [win, ...shadowed] = defs;
  if (!win) return [];
  const s = win.value;
  const out = [`service ${s.name} (${s.criticality})  from ${where(win.provenance)}`];
  for (const d of shadowed) out.push(`  also in ${where(d.provenance)} (lower precedence, shadowed)`);
  if (s.description) out.push(`  ${s.description}`);
  if (s.packages?.length) out.push(`  packages: ${s.packages.join(', ')}`);
  if (s.dependsOn?.length) out.push(`  depends on services: ${s.dependsOn.join(', ')}`);
  if (s.restart) out.push(`  restart: ${[s.restart.systemd ? `systemd ${s.restart.systemd}` : undefined, s.restart.runit ? `runit ${s.restart.runit}` : undefined, s.restart.command ? `command [${s.restart.command.join(', ')}]` : undefined].filter(Boolean).join('; ')}`);
  for (const h of s.health?.http ?? []) out.push(`  health: GET ${h.url} expects ${h.expectStatus}${h.contains ? ` containing ${h.contains}` : ''} within ${h.timeoutMs} ms`);
  for (const h of s.health?.command ?? []) out.push(`  health: run [${h.argv.join(', ')}] expects exit ${h.expectExit} within ${h.timeoutMs} ms`);
  for (const m of s.metrics ?? []) out.push(`  metric ${m.name}: ${m.promql}  healthy ${[m.min !== undefined ? `≥ ${m.min}` : undefined, m.max !== undefined ? `≤ ${m.max}` : undefined].filter(Boolean).join(' and ')}${m.for ? ` (for ${m.for})` : ''}`);
  return out;
}

async function loadFor(paths: string[], opts: IndexOptions, quiet = true): Promise<KnowledgeBase> {
  const kb = await loadKnowledgeBase(paths, indexOptions(opts));
  if (!quiet) {
    const indexes = kb.layers.filter((l) => l.origin === 'index');
    const note = indexes.length
      ? `references checked against ${indexes.map((l) => l.source).join(', ')}${opts.index?.length || !indexes.some((l) => l.source === displayPath(DEFAULT_INDEX)) ? '' : ' (the default index; --index FILE to choose, --no-index for none)'}`
      : 'no distribution index loaded: references to distribution packages cannot resolve';
    process.stderr.write(`rollwise: ${note}\n`);
  }
  return kb;
}

export function register(program: Command): void {
  const kb = program.command('kb').description('the knowledge base: validate, count and show what the layers say');

  addIndexOptions(kb.command('validate')
    .description('check knowledge-base files (YAML files or directories; Debian Packages indexes as extra layers): every problem with file:line:col; exit 0 if valid, 2 if not')
    .argument('<path...>', 'YAML file, directory of YAML files, or Packages index'), 'Debian Packages index to resolve references against (repeatable)')
    .option('--allow-outside-paths', OUTSIDE_PATHS_HELP, false)
    .option('--json', 'print the problems as JSON')
    .action(async (paths: string[], opts: { index?: IndexChoice; json?: boolean; allowOutsidePaths?: boolean }) => {
      // a path that is not there is a typo: said at once, before the (slow) index is loaded
      const missing = paths.filter((p) => !existsSync(p)).map((p) => createProblem('RW_KB_IO', { file: p }, 'no such file or directory (nothing else was checked)', 'give a YAML file, a directory of them, or a Debian Packages index'));
      if (missing.length > 0) {
        if (opts.json) process.stdout.write(JSON.stringify({ valid: false, problems: missing }, null, 2) + '\n');
        else for (const p of missing) process.stdout.write(formatProblem(p) + '\n');
        process.exitCode = 2;
        return;
      }
      const io = normaliseIndexOpts(opts);
      const loaded = await loadFor(paths, io, opts.json === true);
      const errors = hasErrors(loaded.problems);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ valid: !errors, problems: loaded.problems }, null, 2) + '\n');
      } else {
        for (const p of loaded.problems) process.stdout.write(formatProblem(p) + '\n');
        const files = loaded.layers.reduce((n, l) => n + l.files.length, 0);
        if (!errors) process.stdout.write(`valid: ${files} file${files === 1 ? '' : 's'} in ${loaded.layers.length} layer${loaded.layers.length === 1 ? '' : 's'}\n`);
        else {
          const e = loaded.problems.filter((p) => p.severity === 'error').length;
          const w = loaded.problems.length - e;
          process.stderr.write(`rollwise: ${e} error${e === 1 ? '' : 's'}, ${w} warning${w === 1 ? '' : 's'}\n`);
        }
      }
      process.exitCode = errors ? 2 : 0;
    });

  addIndexOptions(kb.command('stats')
    .description('counts by kind (packages, names, services, functional dependencies, known issues, migrations, config files) per layer, and problems')
    .argument('<path...>', 'YAML file, directory of YAML files, or Packages index (plain, .gz, .xz)'), 'extra Debian Packages index (repeatable)')
    .option('--allow-outside-paths', OUTSIDE_PATHS_HELP, false)
    .option('--json', 'print JSON')
    .action(async (paths: string[], opts: { index?: IndexChoice; json?: boolean; allowOutsidePaths?: boolean }) => {
      const loaded = await loadFor(paths, normaliseIndexOpts(opts));
      failOnUnreadable(loaded.problems);
      const stats = computeStats(loaded);
      if (opts.json) {
        process.stdout.write(JSON.stringify(stats, null, 2) + '\n');
        return;
      }
      const t = stats.total;
      const lines = ['layers (highest precedence first):', ...renderLayers(stats),
        `total: ${plural(t.packages, 'package')}, ${plural(t.names, 'name')}, ${plural(t.services, 'service')}, ${plural(t.functional, 'functional dependency', 'functional dependencies')}, ${plural(t.knownIssues, 'known issue')}, ${plural(t.migrations, 'migration')}, ${plural(t.configFiles, 'config file')}`,
        `problems: ${plural(stats.problems.errors, 'error')}, ${plural(stats.problems.warnings, 'warning')}${stats.problems.errors + stats.problems.warnings ? ' (rollwise kb validate lists them)' : ''}`];
      process.stdout.write(lines.join('\n') + '\n');
    });

  addIndexOptions(kb.command('show')
    .description('what the knowledge base knows about a package or service: versions, relations, services, issues, with provenance across layers')
    .argument('<name>', 'package or service name')
    .option('--kb <path>', 'knowledge-base file or directory (repeatable; default examples/kb)', collect), 'Debian Packages index (repeatable; default the Debian 12 index when present)')
    .option('--allow-outside-paths', OUTSIDE_PATHS_HELP, false)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { kb?: string[]; index?: IndexChoice; json?: boolean; allowOutsidePaths?: boolean }) => {
      const paths = opts.kb ?? [displayPath(DEFAULT_KB)];
      const loaded = await loadFor(paths, normaliseIndexOpts(opts));
      failOnUnreadable(loaded.problems);
      if (hasErrors(loaded.problems)) process.stderr.write(`rollwise: warning: the knowledge base has ${loaded.problems.filter((p) => p.severity === 'error').length} problems (rollwise kb validate ${paths.join(' ')})\n`);
      const view = describePackage(loaded, name);
      const service = describeService(loaded, name);
      const mentioned = view.known || view.providedBy.length || view.impacts.length || view.requirements.length || view.knownIssues.length || view.configFiles.length || view.services.length;
      if (!mentioned && service.length === 0) {
        const names = [...new Set(loaded.layers.flatMap((l) => [...l.records.map((r) => r.name), ...l.services.map((v) => v.value.name)]))];
        throw new RollwiseError('RW_NOT_FOUND', `'${name}' is neither a package nor a service in the loaded layers (${loaded.layers.map((l) => l.name).join(', ') || 'none'})${didYouMean(name, names)}`, {
          hint: 'check the spelling, or load the layer that defines it with --kb PATH / --index FILE',
        });
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify({ package: mentioned ? view : undefined, service: service.length ? service : undefined }, null, 2) + '\n');
        return;
      }
      const lines: string[] = [];
      if (mentioned) lines.push(...(view.known ? [] : [`${name}: not a real package in the loaded layers`]), ...renderPackage(view));
      if (service.length) lines.push(...(lines.length ? [''] : []), ...renderService(service));
      process.stdout.write(lines.join('\n') + '\n');
    });
}

function normaliseIndexOpts(opts: { index?: IndexChoice; allowOutsidePaths?: boolean }): IndexOptions {
  const base: IndexOptions = opts.index?.files.length ? { index: opts.index.files } : opts.index?.noDefault ? { defaultIndex: false } : {};
  return opts.allowOutsidePaths ? { ...base, allowOutsidePaths: true } : base;
}
