/**
 * Rollwise as apt's external solver (EDSP 0.5): read the scenario apt writes on standard input,
 * solve it, and write the answer apt reads (Progress stanzas, then Install/Remove stanzas, or an
 * Error stanza with the explanation and the verified resolutions); and place the executable apt
 * runs, DIR/usr/lib/apt/solvers/rollwise, a shell script that starts this very program (absolute
 * node and script paths, each single-quoted); with --cudf also the CUDF route through apt-cudf.
 */
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEdspScenario } from '../../kb/index.js';
import { RollwiseError } from '../../shared/index.js';
import { edspError, edspProgress, formatCriteria, solveEdspScenario, writeEdspSolution, type Criterion, type SolveOutcome } from '../../solver/index.js';
import { quoteForShell } from '../../hosts/index.js';
import { describeEdits, renderExplanation } from '../render/explanation.js';

export interface EdspAnswerOptions {
  criteria?: Criterion[];
  timeBudgetMs?: number;
  file?: string;
}

/** The message of an Error stanza for a request with no solution: why, then what would solve it. */
export function edspConflictMessage(out: Exclude<SolveOutcome, { kind: 'solution' }>): string {
  if (out.kind === 'timeout') return `Rollwise found no solution in time: ${out.message}`;
  const lines = ['Rollwise: the request has no solution.', ...renderExplanation(out.explanation)];
  if (out.resolutions.length > 0) {
    lines.push('', 'Resolutions (each solved again):');
    out.resolutions.forEach((r, i) => {
      lines.push(`${i + 1}. ${describeEdits(r.edits)} (${r.cost.removed} removal${r.cost.removed === 1 ? '' : 's'}, ${r.cost.changed} change${r.cost.changed === 1 ? '' : 's'})`);
    });
  } else {
    lines.push('', 'No resolution found that solves.');
  }
  return lines.join('\n');
}

/**
 * Answer one scenario: `write` receives the stanzas in order. Returns the outcome (undefined
 * when the scenario could not be used: then an Error stanza was written and the RollwiseError
 * is thrown so the command exits non-zero).
 */
export async function answerEdsp(input: AsyncIterable<Buffer | string>, write: (text: string) => void, options: EdspAnswerOptions = {}): Promise<SolveOutcome> {
  try {
    const scenario = await readEdspScenario(input, options.file ?? '<stdin>');
    write(edspProgress(10, `Rollwise read ${scenario.packages.count} package versions`));
    const solveOptions = { ...(options.criteria ? { criteria: options.criteria } : {}), ...(options.timeBudgetMs ? { timeBudgetMs: options.timeBudgetMs } : {}) };
    write(edspProgress(30, `Rollwise solving${scenario.request.strictPinning ? '' : ' (strict pinning off: candidates first)'}`));
    const { ep, outcome: out } = solveEdspScenario(scenario, solveOptions);
    if (out.kind === 'solution') {
      write(edspProgress(100, `Rollwise found a solution (${formatCriteria(ep.criteria)}): ${out.transaction.length} change${out.transaction.length === 1 ? '' : 's'}${out.optimal ? '' : ' (not proven optimal: time budget reached)'}`));
      write(writeEdspSolution(ep, out.installedAfter));
    } else {
      write(edspProgress(100, 'Rollwise found no solution'));
      write(edspError(out.kind === 'conflict' ? 'rollwise-no-solution' : 'rollwise-timeout', edspConflictMessage(out)));
    }
    return out;
  } catch (e) {
    if (e instanceof RollwiseError) {
      const where = e.position ? ` (${e.position.file}:${e.position.line}:${e.position.column})` : '';
      write(edspError(e.code, `Rollwise: ${e.code}: ${e.message}${where}\nhint: ${e.hint}`));
    }
    throw e;
  }
}

export interface EdspInstallOptions {
  /** A root directory: the solver goes to ROOT/usr/lib/apt/solvers/rollwise. */
  root?: string;
  /** A solvers directory (apt's Dir::Bin::Solvers): the solver goes to DIR/rollwise. */
  dir?: string;
  /** Solver name (the file name apt's --solver takes). Default rollwise. */
  name?: string;
  /**
   * Also register Rollwise as a CUDF solver of apt-cudf (Debian's package): the specification
   * NAME-cudf in this folder (apt-cudf reads /usr/share/cudf/solvers, or $CUDFSOLVERS), and the
   * solver NAME-cudf beside the EDSP one, a link to apt-cudf. With `root`, `true` means
   * ROOT/usr/share/cudf/solvers.
   */
  cudf?: string | true;
  /** apt-cudf's executable (default /usr/bin/apt-cudf). */
  aptCudf?: string;
}

/** What `edsp install` wrote. */
export interface EdspInstalled {
  solver: string;
  /** With `cudf`: apt-cudf's solver link and the specification it reads. */
  cudf?: { solver: string; spec: string };
}

/** The program apt should run: this node and this checkout's (or package's) bin/rollwise.js. */
export function rollwiseEntry(): { node: string; script: string } {
  return { node: process.execPath, script: fileURLToPath(new URL('../../../bin/rollwise.js', import.meta.url)) };
}

/** Write the solver executable (and the CUDF route); returns the paths. Errors: RW_USAGE (neither or both of root/dir; a bad name; no apt-cudf). */
export async function installEdspSolver(o: EdspInstallOptions): Promise<EdspInstalled> {
  if ((o.root === undefined) === (o.dir === undefined)) {
    throw new RollwiseError('RW_USAGE', 'edsp install needs exactly one of --root DIR or --dir DIR', {
      hint: '--root / places /usr/lib/apt/solvers/rollwise for the machine; --dir DIR places DIR/rollwise for apt -o Dir::Bin::Solvers=DIR',
    });
  }
  const name = o.name ?? 'rollwise';
  if (!/^[a-z][A-Za-z0-9_-]*$/.test(name) || name === 'internal') {
    throw new RollwiseError('RW_USAGE', `'${name}' cannot be an apt solver name`, { hint: 'apt solver names start with a lowercase letter and use letters, digits, - and _ (not `internal`)' });
  }
  // a root is a directory that exists (a mistyped one is not created); --dir may be a new folder
  if (o.root !== undefined && !statSync(path.resolve(o.root), { throwIfNoEntry: false })?.isDirectory()) {
    throw new RollwiseError('RW_USAGE', `the root ${path.resolve(o.root)} does not exist or is not a directory`, { hint: 'give the directory root of a host (it holds etc/ and var/lib/dpkg/), or --dir DIR for a solvers folder of your own' });
  }
  const dir = o.dir !== undefined ? path.resolve(o.dir) : path.join(path.resolve(o.root!), 'usr', 'lib', 'apt', 'solvers');
  const { node, script } = rollwiseEntry();
  const body = [
    '#!/bin/sh',
    '# apt external solver (EDSP 0.5): Rollwise. Placed by `rollwise edsp install`; apt runs it with the scenario on standard input.',
    `exec ${quoteForShell(node)} ${quoteForShell(script)} edsp "$@"`,
    '',
  ].join('\n');
  let cudf: { dir: string; aptCudf: string } | undefined;
  if (o.cudf !== undefined) {
    const cudfDir = o.cudf === true ? (o.root !== undefined ? path.join(path.resolve(o.root), 'usr', 'share', 'cudf', 'solvers') : undefined) : path.resolve(o.cudf);
    if (cudfDir === undefined) throw new RollwiseError('RW_USAGE', '--cudf needs a folder with --dir', { hint: 'give the folder apt-cudf reads solver specifications from (CUDFSOLVERS), e.g. --cudf /tmp/cudf-solvers' });
    const aptCudf = o.aptCudf ?? '/usr/bin/apt-cudf';
    if (!existsSync(aptCudf)) throw new RollwiseError('RW_USAGE', `apt-cudf is not installed (${aptCudf} is missing)`, { hint: 'apt-get install apt-cudf' });
    // apt-cudf splits the exec line on blanks: the paths in it must have none
    if (/\s/.test(node) || /\s/.test(script)) throw new RollwiseError('RW_USAGE', `apt-cudf cannot run a program whose path has blanks (${node} ${script})`, { hint: 'install Rollwise (and node) under paths without spaces for the CUDF route' });
    cudf = { dir: cudfDir, aptCudf };
  }
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, name);
  await writeAtomically(target, body, 0o755);
  if (!cudf) return { solver: target };
  // apt runs DIR/NAME-cudf, which is apt-cudf; apt-cudf runs the solver its specification names
  const spec = path.join(cudf.dir, `${name}-cudf`);
  await mkdir(cudf.dir, { recursive: true });
  await writeAtomically(spec, [
    'description: Rollwise (CUDF route, placed by `rollwise edsp install --cudf`)',
    `exec: ${node} ${script} cudf --criteria $pref $in $out`,
    'cudf-version: 2.0',
    '',
  ].join('\n'), 0o644);
  const link = path.join(dir, `${name}-cudf`);
  const tmpLink = `${link}.tmp-${process.pid}`;
  await rm(tmpLink, { force: true });
  await symlink(cudf.aptCudf, tmpLink);
  await rename(tmpLink, link);
  return { solver: target, cudf: { solver: link, spec } };
}

/** A file written whole or not at all (a temporary file beside it, then rename). */
async function writeAtomically(target: string, body: string, mode: number): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}`;
  await writeFile(tmp, body, { mode });
  await chmod(tmp, mode);
  await rename(tmp, target);
}
