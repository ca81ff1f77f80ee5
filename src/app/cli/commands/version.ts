import type { Command } from 'commander';
import { RollwiseError } from '../../../shared/errors.js';
import { parseDebianVersion, satisfiesDebian, DEBIAN_RELATIONS } from '../../../versions/index.js';

export function register(program: Command): void {
  const version = program.command('version').description('compare and sort versions (for scripts)');
  version
    .command('compare')
    .description('exit 0 if `A OP B` holds, 1 if not (like `dpkg --compare-versions`); OP is one of << <= = >= >> (or lt le eq ge gt)')
    .argument('<a>', 'first version')
    .argument('<op>', 'relation')
    .argument('<b>', 'second version')
    .action((a: string, op: string, b: string) => {
      parseDebianVersion(a);
      parseDebianVersion(b);
      const ops = [...DEBIAN_RELATIONS, 'lt', 'le', 'eq', 'ne', 'ge', 'gt'];
      if (!ops.includes(op)) throw new RollwiseError('RW_USAGE', `unknown relation '${op}'`, { hint: `use one of ${ops.join(' ')}` });
      process.exitCode = satisfiesDebian(a, op, b) ? 0 : 1;
    });
}
