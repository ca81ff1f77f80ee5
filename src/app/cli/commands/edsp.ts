/**
 * `rollwise edsp`: apt's external solver (EDSP 0.5) on standard input and output, and
 * `rollwise edsp install --root DIR | --dir DIR`, which places the executable apt runs for
 * `apt-get --solver rollwise`. Parse, call the service, nothing else.
 */
import type { Command } from 'commander';
import { RollwiseError } from '../../../shared/index.js';
import { parseCriteria } from '../../../solver/index.js';
import { answerEdsp, installEdspSolver } from '../../services/index.js';

interface EdspOptions {
  root?: string;
  dir?: string;
  name?: string;
  cudf?: string | true;
  criteria?: string;
  timeBudget?: string;
}

export function register(program: Command): void {
  program
    .command('edsp')
    .description("apt's external solver (EDSP 0.5): read the scenario apt writes on standard input, write Progress stanzas and the Install/Remove stanzas (by APT-ID), or an Error stanza with the explanation and resolutions; `edsp install` places it for apt-get --solver rollwise")
    .argument('[action]', '`install`: write the solver apt runs, ROOT/usr/lib/apt/solvers/rollwise (--root) or DIR/rollwise (--dir)')
    .option('--root <dir>', 'with install: a root directory (/ for this machine: npm run edsp:install)')
    .option('--dir <dir>', "with install: apt's solvers directory (Dir::Bin::Solvers)")
    .option('--name <name>', 'with install: the solver name for --solver (default rollwise)')
    .option('--cudf [dir]', "with install: also the CUDF route, --solver NAME-cudf: a link to apt-cudf beside the solver, and apt-cudf's specification NAME-cudf in DIR (with --root: ROOT/usr/share/cudf/solvers; apt-cudf also reads $CUDFSOLVERS)")
    .option('--criteria <criteria>', "criteria instead of apt's Preferences and the defaults (-removed,-changed,-notuptodate; upgrades -removed,-notuptodate,-new,-changed)")
    .option('--time-budget <ms>', 'time for solving and explaining, in milliseconds (default 60000)')
    .addHelpText('after', '\nExamples:\n  rollwise edsp install --dir /tmp/solvers\n  apt-get -s -o Dir::Bin::Solvers=/tmp/solvers --solver rollwise install hello\n  rollwise edsp install --dir /tmp/solvers --cudf /tmp/cudf-solvers\n  CUDFSOLVERS=/tmp/cudf-solvers apt-get -s -o Dir::Bin::Solvers=/tmp/solvers --solver rollwise-cudf install hello')
    .action(async (action: string | undefined, o: EdspOptions) => {
      if (action === 'install') {
        const placed = await installEdspSolver({ ...(o.root !== undefined ? { root: o.root } : {}), ...(o.dir !== undefined ? { dir: o.dir } : {}), ...(o.name !== undefined ? { name: o.name } : {}), ...(o.cudf !== undefined ? { cudf: o.cudf } : {}) });
        process.stdout.write(`${placed.solver}\n${placed.cudf ? `${placed.cudf.solver}\n${placed.cudf.spec}\n` : ''}`);
        return;
      }
      if (action !== undefined) throw new RollwiseError('RW_USAGE', `unknown edsp action '${action}'`, { hint: 'rollwise edsp (reads a scenario on standard input) or rollwise edsp install --root DIR' });
      if (o.root !== undefined || o.dir !== undefined || o.name !== undefined || o.cudf !== undefined) throw new RollwiseError('RW_USAGE', '--root, --dir, --name and --cudf go with `edsp install`', { hint: 'rollwise edsp install --root DIR' });
      const budget = o.timeBudget !== undefined ? Number(o.timeBudget) : undefined;
      if (budget !== undefined && !(budget > 0)) throw new RollwiseError('RW_USAGE', `--time-budget '${o.timeBudget}' is not a positive number of milliseconds`, { hint: 'e.g. --time-budget 30000' });
      await answerEdsp(process.stdin as AsyncIterable<Buffer>, (t) => process.stdout.write(t), {
        ...(o.criteria ? { criteria: parseCriteria(o.criteria) } : {}),
        ...(budget ? { timeBudgetMs: budget } : {}),
      });
      // no solution is an answer, not a failure: apt reads the Error stanza (EDSP: exit 0)
      process.exitCode = 0;
    });
}
