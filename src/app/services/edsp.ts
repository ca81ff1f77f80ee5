/**
 * Rollwise as apt's external solver (EDSP 0.5): read the scenario apt writes on standard input,
 * solve it, and write the answer apt reads (Progress stanzas, then Install/Remove stanzas, or an
 * Error stanza with the explanation and the verified resolutions); and place the executable apt
 * runs, DIR/usr/lib/apt/solvers/rollwise, a shell script that starts this very program (absolute
 * node and script paths, each single-quoted).
 */
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
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
}

/** The program apt should run: this node and this checkout's (or package's) bin/rollwise.js. */
export function rollwiseEntry(): { node: string; script: string } {
  return { node: process.execPath, script: fileURLToPath(new URL('../../../bin/rollwise.js', import.meta.url)) };
}

/** Write the solver executable; returns its path. Errors: RW_USAGE (neither or both of root/dir; a bad name). */
export async function installEdspSolver(o: EdspInstallOptions): Promise<string> {
  if ((o.root === undefined) === (o.dir === undefined)) {
    throw new RollwiseError('RW_USAGE', 'edsp install needs exactly one of --root DIR or --dir DIR', {
      hint: '--root / places /usr/lib/apt/solvers/rollwise for the machine; --dir DIR places DIR/rollwise for apt -o Dir::Bin::Solvers=DIR',
    });
  }
  const name = o.name ?? 'rollwise';
  if (!/^[a-z][A-Za-z0-9_-]*$/.test(name) || name === 'internal') {
    throw new RollwiseError('RW_USAGE', `'${name}' cannot be an apt solver name`, { hint: 'apt solver names start with a lowercase letter and use letters, digits, - and _ (not `internal`)' });
  }
  const dir = o.dir !== undefined ? path.resolve(o.dir) : path.join(path.resolve(o.root!), 'usr', 'lib', 'apt', 'solvers');
  const { node, script } = rollwiseEntry();
  const body = [
    '#!/bin/sh',
    '# apt external solver (EDSP 0.5): Rollwise. Placed by `rollwise edsp install`; apt runs it with the scenario on standard input.',
    `exec ${quoteForShell(node)} ${quoteForShell(script)} edsp "$@"`,
    '',
  ].join('\n');
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, name);
  const tmp = `${target}.tmp-${process.pid}`;
  await writeFile(tmp, body, { mode: 0o755 });
  await chmod(tmp, 0o755);
  await rename(tmp, target);
  return target;
}
