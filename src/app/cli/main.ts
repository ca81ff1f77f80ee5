/**
 * The `rollwise` command line. Each command group lives in commands/<group>.ts and exports
 * `register(program)`; this file only wires them and renders errors by code.
 */
import { Command, CommanderError } from 'commander';
import { isRollwiseError } from '../../shared/index.js';
import { commandModules } from './commands/index.js';
import { guardStream } from './terminal.js';

export function createProgram(): Command {
  const program = new Command();
  program
    .name('rollwise')
    .description(
      'Plan, predict, deploy and roll back package changes across a fleet of Debian hosts.\n' +
        'Start with `rollwise demo` (the example knowledge base and fleet), then `rollwise <command> --help`.',
    )
    .version('0.1.0')
    // Options after a subcommand belong to it (so `plan show ID --version 2` is the plan's version).
    .enablePositionalOptions()
    // Parser errors read like every other error: one line, a stable code, a hint.
    .configureOutput({
      outputError: (text, write) => {
        const lines = text.trim().replace(/^error: /, '').split('\n').map((l) => l.trim()).filter(Boolean);
        const [first, ...rest] = lines;
        const hint = [...rest.map((l) => l.replace(/^\((.*)\)$/, '$1')), 'run with --help for usage'].join('; ');
        write(`rollwise: RW_USAGE: ${first ?? 'bad usage'} (hint: ${hint})\n`);
      },
    })
    .exitOverride();
  for (const mod of commandModules) mod.register(program);
  return program;
}

/** Runs the CLI and returns the exit status (never calls process.exit itself). */
export async function main(argv: string[]): Promise<number> {
  guardStream(process.stdout);
  guardStream(process.stderr);
  const program = createProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isRollwiseError(e)) {
      process.stderr.write(`rollwise: ${e.render()}\n`);
      return e.exitCode;
    }
    throw e;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`rollwise: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
