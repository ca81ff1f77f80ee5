/**
 * The resolver's commands: `rollwise solve`, `why`, `why-not`, `cudf`, and
 * `rollwise kb check-installable` (registered on the `kb` group when it exists, else as
 * `rollwise check-installable`). Parse, call the solving services, render: no domain logic here.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { RollwiseError, didYouMean, excerpt } from '../../../shared/index.js';
import {
  checkInstallable,
  createUniverseView,
  formatCriteria,
  formatItem,
  effectiveCriteria,
  parseCriteria,
  parseRequestSpec,
  solveCudf,
  solveRequest,
  type PackageChange,
  type PackageSet,
  type RequestItem,
  type SolveOutcome,
  type SolverPolicy,
} from '../../../solver/index.js';
import { parseRequestItems } from '../../../planner/index.js';
import { addIndexOptions, type IndexChoice } from '../options.js';
import { indexInputs, loadArchive, loadSolveProblem } from '../../services/index.js';
import { collect, warn } from '../terminal.js';
import { describeEdits, renderBrokenChain, renderExplanation } from '../../render/index.js';

interface SolveOptions {
  root?: string;
  index?: IndexChoice;
  allowRemovals?: boolean;
  kb?: string[];
  status?: string;
  install?: string[];
  remove?: string[];
  upgrade?: string[];
  upgradeAll?: boolean;
  hold?: string[];
  pin?: string[];
  criteria?: string;
  recommends?: boolean;
  json?: boolean;
  timeBudget?: string;
}

function addInputOptions(cmd: Command): Command {
  return addIndexOptions(cmd, 'Debian Packages index (plain, .gz or .xz); repeatable, later ones override (default: the Debian 12 index beside the repository, when there)')
    .option('--kb <path>', 'knowledge-base YAML file or directory whose packages are added as a layer; repeatable', collect)
    .option('--status <file>', 'dpkg status file of the host (default: nothing installed)')
    .option('--root <dir>', "a directory-root host: its dpkg status (unless --status) and its apt sources and preferences (etc/apt): the solve sees only those repositories, under apt's candidate policy")
    .option('--install <spec>', "install `name`, `name=ver`, `name>=ver` or `name (>= 1.2)`; `name:arch` for a foreign architecture (zlib1g:i386), `name/release` for the version apt selects from a release (with --root); repeatable", collect)
    .option('--remove <spec>', 'remove a package; repeatable', collect)
    .option('--upgrade <spec>', 'upgrade a package to its newest allowed version; repeatable', collect)
    .option('--upgrade-all', 'upgrade every installed package')
    .option('--hold <name>', 'keep a package exactly as installed; repeatable', collect)
    .option('--pin <spec>', "allow only matching versions, e.g. 'libssl3=3.0.11'; repeatable", collect)
    .option('--allow-removals', 'let the solution remove installed packages nobody asked to remove (as apt does); by default such a removal is a conflict whose resolutions include allowing it')
    .option('--criteria <criteria>', 'paranoid, trendy, or a list like -removed,-changed,-notuptodate')
    .option('--no-recommends', 'do not install Recommends')
    .option('--time-budget <ms>', 'stop optimising after this many milliseconds (the result then says not optimal)')
    .option('--json', 'print JSON');
}

/** The request items, by the one reader `rollwise plan` and request files use too (planner's parseRequestItems). */
function buildItems(o: SolveOptions): RequestItem[] {
  return parseRequestItems(o, warn);
}

function buildPolicy(o: SolveOptions): SolverPolicy {
  const policy: SolverPolicy = { recommends: o.recommends !== false, keepInstalled: o.allowRemovals !== true };
  if (o.criteria) policy.criteria = parseCriteria(o.criteria);
  if (o.timeBudget !== undefined) {
    const ms = Number(o.timeBudget);
    if (!Number.isFinite(ms) || ms <= 0) throw new RollwiseError('RW_USAGE', `--time-budget must be a positive number of milliseconds, not '${excerpt(String(o.timeBudget))}'`, { hint: 'e.g. --time-budget 5000 (five seconds)' });
    policy.timeBudgetMs = ms;
  }
  return policy;
}

/** `names`: what the command asks about besides the request (why/why-not's PKG), checked against a --root's sources too. */
function loadProblem(o: SolveOptions, items: readonly RequestItem[] = [], names: readonly string[] = []) {
  const { indexes, fallbackIndexes } = indexInputs(o.index);
  return loadSolveProblem({ index: indexes, fallbackIndexes, kb: o.kb ?? [], ...(o.status ? { status: o.status } : {}), ...(o.root ? { root: o.root } : {}), items, names, recommends: o.recommends !== false });
}

/** Names the loaded universe does not have (no version, no provider): RW_UNKNOWN_PACKAGE, with the closest names it has. */
function assertKnownNames(set: PackageSet, names: readonly string[]): void {
  const known = (n: string): boolean => set.versionsOf(n).length > 0 || set.isProvided(n);
  const unknown = [...new Set(names)].filter((n) => !known(n));
  if (unknown.length === 0) return;
  throw new RollwiseError('RW_UNKNOWN_PACKAGE', unknown.map((n) => `no package ${n}${didYouMean(n, set.names, 3, known)}`).join('; '), {
    hint: 'no index or knowledge-base layer loaded has it: check the spelling, or give the --index / --kb that has it',
  });
}

function itemNames(items: readonly RequestItem[]): string[] {
  return items.flatMap((i) => ('name' in i ? [i.name] : []));
}

function formatStep(s: PackageChange): string {
  switch (s.action) {
    case 'install':
      return `install    ${s.name} ${s.to} (${s.architecture})`;
    case 'remove':
      return `remove     ${s.name} ${s.from}`;
    default:
      return `${s.action.padEnd(10)} ${s.name} ${s.from} -> ${s.to}`;
  }
}

const STOPPED: Record<string, string> = {
  count: 'more may exist: the number asked for was reached',
  time: 'more may exist: the time budget ran out',
  size: 'resolutions needing more edits were not looked for',
};

/** `heading` names what has no solution (why-not says the request plus the package). */
function renderOutcome(out: SolveOutcome, heading = 'No solution'): string {
  const lines: string[] = [];
  if (out.kind === 'solution') {
    const crit = out.criteria.map((c) => `${c.sign}${c.name}=${c.value}`).join(' ');
    lines.push(`Solution: ${out.transaction.length} change${out.transaction.length === 1 ? '' : 's'} (${crit}; ${out.optimal ? 'optimal' : 'NOT proven optimal: time budget reached'}; ${out.stats.ms} ms)`);
    for (const s of out.transaction) lines.push(`  ${formatStep(s)}`);
  } else if (out.kind === 'conflict') {
    lines.push(`${heading}:`);
    const why = renderExplanation(out.explanation);
    why.forEach((l, i) => lines.push(`  ${l}${i < why.length - 1 ? ';' : ''}`));
    if (out.resolutions.length > 0) {
      lines.push('', 'Resolutions (each solved again; fewest edits, then removals, then changes first):');
      out.resolutions.forEach((r, i) => {
        const edits = r.edits.length > 1 ? `${r.edits.length} edits, ` : '';
        lines.push(`  ${i + 1}. ${describeEdits(r.edits)} (${edits}${r.cost.removed} removal${r.cost.removed === 1 ? '' : 's'}, ${r.cost.changed} change${r.cost.changed === 1 ? '' : 's'})`);
        for (const s of r.transaction.slice(0, 8)) lines.push(`       ${formatStep(s)}`);
        if (r.transaction.length > 8) lines.push(`       ... ${r.transaction.length - 8} more`);
      });
      const stopped = out.resolutionSearch ? STOPPED[out.resolutionSearch.stopped] : undefined;
      if (stopped) lines.push(`  (${stopped})`);
    } else lines.push('', out.resolutionSearch?.stopped === 'time' ? 'No resolution found that solves before the time budget ran out.' : 'No resolution found that solves.');
  } else {
    lines.push(`No answer: ${out.message}`);
  }
  return lines.join('\n') + '\n';
}

/** The outcome for programs: data first (facts, typed edits), with their words beside them (`text`, `description`). */
function outcomeJson(out: SolveOutcome): unknown {
  if (out.kind === 'solution') {
    const { installedAfter: _ia, ...rest } = out;
    return rest;
  }
  if (out.kind === 'conflict') {
    return {
      ...out,
      explanation: { ...out.explanation, text: renderExplanation(out.explanation) },
      resolutions: out.resolutions.map((r) => ({ ...r, description: describeEdits(r.edits) })),
    };
  }
  return out;
}

export function register(program: Command): void {
  addInputOptions(program.command('solve').description('resolve a request (install/remove/upgrade/hold/pin) over Debian indexes and a dpkg status: prints the transaction, or the explanation and verified resolutions; exit 1 when there is no solution')).action(
    async (o: SolveOptions) => {
      const items = buildItems(o);
      if (items.length === 0 && !o.status) {
        throw new RollwiseError('RW_USAGE', 'nothing to solve: no request and no installed packages', {
          hint: 'ask for something (--install, --remove, --upgrade, --upgrade-all, --hold, --pin), or give --status FILE to check an installed set as it is',
        });
      }
      const policy = buildPolicy(o);
      const problem = await loadProblem(o, items);
      assertKnownNames(problem.set, itemNames(items));
      const out = solveRequest(problem, { items: problem.items ?? items }, policy);
      process.stdout.write(o.json ? JSON.stringify(outcomeJson(out), null, 2) + '\n' : renderOutcome(out));
      process.exitCode = out.kind === 'solution' ? 0 : 1;
    },
  );

  addInputOptions(program.command('why').description('solve the request, then show the chain of reasons that brings PKG into the solution').argument('<pkg>', 'package name')).action(
    async (pkg: string, o: SolveOptions) => {
      const name = parseRequestSpec(pkg, 'PKG', warn).name;
      const items = buildItems(o);
      if (items.length === 0) {
        throw new RollwiseError('RW_USAGE', `why ${name}: no request to explain`, {
          hint: `give the request that brings it in, e.g. rollwise why ${name} --install PKG (also --remove, --upgrade, --upgrade-all, --hold, --pin; --status FILE for the installed set)`,
        });
      }
      const problem = await loadProblem(o, items, [name]);
      assertKnownNames(problem.set, [name, ...itemNames(items)]);
      const out = solveRequest(problem, { items: problem.items ?? items }, buildPolicy(o));
      if (out.kind !== 'solution') {
        process.stdout.write(o.json ? JSON.stringify({ package: name, solved: false, outcome: outcomeJson(out) }, null, 2) + '\n' : `The request has no solution, so nothing is installed:\n${renderOutcome(out)}`);
        process.exitCode = 1;
        return;
      }
      const key = Object.keys(out.reasons).find((k) => k.startsWith(`${name}=`));
      const kept = out.installedAfter.find((pv) => problem.set.nameOf(pv) === name && problem.installed[pv]);
      let chain: string[] | undefined;
      let text: string;
      if (key) {
        chain = out.reasons[key]!;
        text = `${key.replace('=', ' ')} is in the solution because:\n${chain.map((c, i) => `${'  '.repeat(i + 1)}${c}`).join('\n')}\n`;
      } else if (kept !== undefined) {
        text = `${problem.set.label(kept)} is already installed and stays installed.\n`;
      } else {
        text = `${name} is not part of the solution (try: rollwise why-not ${name}).\n`;
        process.exitCode = 1;
      }
      process.stdout.write(o.json ? JSON.stringify({ package: name, inSolution: key !== undefined || kept !== undefined, reasons: chain ?? [] }, null, 2) + '\n' : text);
    },
  );

  addInputOptions(program.command('why-not').description('explain why PKG is not in the solution of the request: the minimal set of facts that keeps it out, or that the optimisation left it out').argument('<pkg>', 'package spec (name, name=ver, name (>= v))')).action(
    async (pkg: string, o: SolveOptions) => {
      const spec = parseRequestSpec(pkg, 'PKG', warn);
      const requested = buildItems(o);
      const problem = await loadProblem(o, requested, [spec.name]);
      const items = problem.items ?? requested;
      assertKnownNames(problem.set, [spec.name, ...itemNames(items)]);
      const policy = buildPolicy(o);
      const base = solveRequest(problem, { items }, { ...policy, maxResolutions: 0 });
      const item: RequestItem = { kind: 'install', ...spec };
      const forced = solveRequest(problem, { items: [...items, item] }, policy);
      let text: string;
      if (forced.kind === 'conflict') {
        const what = formatItem(item).replace(/^install /, '');
        const heading = base.kind === 'conflict' ? `The request has no solution, with or without ${what}` : `The request plus ${what} has no solution`;
        text = `${what} cannot be part of the solution.\n${renderOutcome(forced, heading)}`;
      } else if (forced.kind === 'solution' && base.kind === 'solution') {
        const inBase = base.installedAfter.some((pv) => problem.set.nameOf(pv) === spec.name);
        text = inBase
          ? `${spec.name} is part of the solution (try: rollwise why ${spec.name}).\n`
          : `${spec.name} could be installed, but the request does not need it and the criteria (${formatCriteria(effectiveCriteria(policy))}) prefer leaving it out; with it:\n${renderOutcome(forced)}`;
      } else {
        text = renderOutcome(forced);
      }
      process.stdout.write(o.json ? JSON.stringify({ package: spec.name, base: outcomeJson(base), withPackage: outcomeJson(forced) }, null, 2) + '\n' : text);
    },
  );

  program
    .command('cudf')
    .description('solve a CUDF problem (file or standard input) and write the CUDF solution (file or standard output), or FAIL with the explanation; usable as an external solver for opam')
    .argument('[in]', 'CUDF problem file (default: standard input)')
    .argument('[out]', 'solution file (default: standard output)')
    .option('--criteria <criteria>', 'paranoid (default), trendy, or a list like -removed,-changed,-notuptodate,-new')
    .option('--time-budget <ms>', 'time for solving and explaining, in milliseconds (default 60000): a solution found by then is written marked not proven optimal, an explanation still being minimised is printed marked not proven minimal')
    .action((input: string | undefined, output: string | undefined, o: { criteria?: string; timeBudget?: string }) => {
      const criteria = o.criteria ? parseCriteria(o.criteria) : undefined;
      if (input !== undefined && input !== '-' && !existsSync(input)) throw new RollwiseError('RW_IO', `cannot read the CUDF document ${input}: no such file`, { hint: 'give a CUDF document, or - to read standard input' });
      const text = readFileSync(input === undefined || input === '-' ? 0 : input, 'utf8');
      const budget = o.timeBudget !== undefined ? Number(o.timeBudget) : undefined;
      const r = solveCudf(text, { file: input ?? '<stdin>', ...(criteria ? { criteria } : {}), ...(budget ? { timeBudgetMs: budget } : {}) });
      const doc = r.kind === 'solution' ? r.text : `FAIL\n${r.outcome.kind === 'conflict' ? renderExplanation(r.outcome.explanation).join(';\n') : r.outcome.message}\n`;
      if (output !== undefined && output !== '-') writeFileSync(output, doc);
      else process.stdout.write(doc);
      process.exitCode = 0;
    });

  const kb = program.commands.find((c) => c.name() === 'kb');
  const parent = kb ?? program;
  parent
    .command('check-installable')
    .description("list every package of an archive that cannot be installed (dose-distcheck's meaning: with the Essential packages), each with its explanation")
    .argument('<index...>', 'Debian Packages indexes (plain, .gz or .xz)')
    .option('--json', 'print one object with a `broken` array of {package, version, architecture, explanation (words), facts (data)}')
    .option('--no-essential', 'do not install the Essential packages with each package checked')
    .option('--no-explain', 'skip explanations (faster)')
    .addHelpText('after', '\nExit status (as dose-distcheck):\n  0  every package version can be installed\n  1  some cannot (they are listed)\n  2  bad input (an index that cannot be read)')
    .action(async (indexes: string[], o: { json?: boolean; essential?: boolean; explain?: boolean }) => {
      const universe = await loadArchive(indexes);
      const report = checkInstallable(createUniverseView(universe), { withEssential: o.essential !== false, explain: o.explain !== false });
      const broken = report.broken.map((b) => ({ package: b.package, version: b.version, architecture: b.architecture, explanation: renderBrokenChain(b.explanation), facts: b.explanation }));
      if (o.json) {
        process.stdout.write(JSON.stringify({ checked: report.checked, broken, complete: report.complete, ms: report.ms }, null, 2) + '\n');
      } else {
        for (const b of broken) process.stdout.write(`${b.package} ${b.version} (${b.architecture}): ${b.explanation}\n`);
        process.stdout.write(`${broken.length} of ${report.checked} package versions cannot be installed (${report.ms} ms)\n`);
      }
      // as dose-distcheck: 1 when some package cannot be installed (an outcome to act on)
      process.exitCode = broken.length > 0 ? 1 : 0;
    });
}
