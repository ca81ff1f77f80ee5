/**
 * The `rollwise` command line. Each command group lives in commands/<group>.ts and exports
 * `register(program)`; this file only wires them and renders errors by code.
 */
import { Command, CommanderError } from 'commander';
import { closestNames, isRollwiseError, RollwiseError } from '../../shared/index.js';
import { commandModules } from './commands/index.js';
import { guardStream, keepsRunningWhenOutputCloses } from './terminal.js';
import { setUniverseCache } from '../services/index.js';

export function createProgram(): Command {
  const program = new Command();
  program
    .name('rollwise')
    .description(
      'Plan package changes across a fleet of Debian hosts: resolve each host group, explain conflicts ' +
        'with verified resolutions, predict the impact, prepare and rehearse the rollback, review and approve, then deploy in waves watched by the monitoring, with automatic rollback.\n' +
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
        // the program's own options given after a command: say where they go
        const global = /unknown option '(--(?:no-)?universe-cache)/.exec(first ?? '');
        const hint = global
          ? `${global[1]} is an option of rollwise itself: put it before the command (rollwise ${global[1]}${global[1] === '--universe-cache' ? ' DIR' : ''} solve ...)`
          : [...rest.map((l) => l.replace(/^\((.*)\)$/, '$1')), 'run with --help for usage'].join('; ');
        write(`rollwise: RW_USAGE: ${first ?? 'bad usage'} (hint: ${hint})\n`);
      },
    })
    .exitOverride()
    // the binary universe cache (src/universe/cache.ts), for every command that loads indexes
    .option('--universe-cache <dir>', 'keep built package universes in DIR (default: .rollwise/universe-cache, or $ROLLWISE_UNIVERSE_CACHE)')
    .option('--no-universe-cache', 'parse the indexes every time: neither read nor write the universe cache')
    .hook('preAction', (root) => {
      const o = root.opts<{ universeCache?: string | false }>();
      setUniverseCache(o.universeCache);
    });
  for (const mod of commandModules) mod.register(program);
  return program;
}

/**
 * The first command word of argv that names no command (`rollwise nosuch`, `rollwise kb vaildate`),
 * found before commander parses: an unknown command is an error (never run as a guess: `deploy`
 * is not `demo`) whose hint names the close commands, and `rollwise nosuch --help` is that error,
 * not the main help.
 */
function unknownCommand(program: Command, argv: readonly string[]): { word: string; close: string[]; group: string } | undefined {
  let cmd = program;
  for (const word of argv) {
    if (word.startsWith('-')) return undefined; // options from here on: commander checks them
    if (cmd.commands.length === 0 || word === 'help') return undefined;
    const next = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) {
      // a group's default subcommand may take the word as its argument (when it has arguments)
      const defaultName = (cmd as Command & { _defaultCommandName?: string | null })._defaultCommandName;
      const fallback = defaultName ? cmd.commands.find((c) => c.name() === defaultName) : undefined;
      if (fallback && fallback.registeredArguments.length > 0) return undefined;
      const close = closestNames(word, cmd.commands.map((c) => c.name()));
      return { word: `${cmd === program ? '' : `${cmd.name()} `}${word}`, close: close.map((c) => `${cmd === program ? '' : `${cmd.name()} `}${c}`), group: cmd === program ? 'rollwise' : `rollwise ${cmd.name()}` };
    }
    cmd = next;
  }
  return undefined;
}

/** Output into a closed pipe (`rollwise plan show ID | head`) ends the command quietly. */
function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  if (stream.listenerCount('error') > 0 && (stream as NodeJS.WriteStream & { rollwisePipe?: true }).rollwisePipe) return;
  (stream as NodeJS.WriteStream & { rollwisePipe?: true }).rollwisePipe = true;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (keepsRunningWhenOutputCloses() && (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED')) return;
    if (e.code === 'EPIPE') {
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    }
    throw e;
  });
}

/** Runs the CLI and returns the exit status (never calls process.exit itself). */
export async function main(argv: string[]): Promise<number> {
  guardStream(process.stdout);
  guardStream(process.stderr);
  endQuietlyOnClosedPipe(process.stdout);
  endQuietlyOnClosedPipe(process.stderr);
  const program = createProgram();
  try {
    const unknown = unknownCommand(program, argv);
    if (unknown !== undefined) {
      const guess = unknown.close.length > 0 ? `did you mean ${unknown.close.map((c) => `'${c}'`).join(' or ')}? ` : '';
      throw new RollwiseError('RW_USAGE', `unknown command '${unknown.word}'`, { hint: `${guess}${unknown.group} --help lists the commands and what each does` });
    }
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
    // Ctrl-C in an interactive prompt: end cleanly, as a shell expects after SIGINT
    if (e instanceof Error && e.name === 'ExitPromptError') {
      process.stderr.write('\n');
      return 130;
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
