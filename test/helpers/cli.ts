import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** The command a user runs: bin/rollwise.js (the compiled CLI; test/helpers/global-setup.ts keeps dist/ current). */
export const CLI_ENTRY = `${repoRoot}bin/rollwise.js`;

/** Runs the CLI as users run it, in a child process, so exit codes and output are real. */
export function runCli(args: string[], options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    cwd: options.cwd ?? repoRoot,
    input: options.input,
    encoding: 'utf8',
    env: { ...process.env, ...options.env, NO_COLOR: '1', ROLLWISE_DIST_CHECKED: '1' },
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
