/**
 * Runs several CLI commands in one child process (the shipped CLI's `main` from dist/, as
 * bin/rollwise.js runs it; the test suite builds dist/ first) and prints their results as one
 * JSON line: [{status, stdout, stderr}, ...]. The argument is JSON:
 *   { commands: string[][], cwd?: string, umask?: number, readOnly?: string }
 * `readOnly` bind-mounts that folder read-only onto itself first: run the child under
 * `unshare -m` (as root) so the mount exists only in its private mount namespace.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../helpers/cli.js';

const { main } = (await import(path.join(repoRoot, 'dist/app/cli/main.js'))) as { main: (argv: string[]) => Promise<number> };

const spec = JSON.parse(process.argv[2]!) as { commands: string[][]; cwd?: string; umask?: number; readOnly?: string };
if (spec.readOnly) execFileSync('mount', ['--bind', '-o', 'ro', spec.readOnly, spec.readOnly]);
if (spec.umask !== undefined) process.umask(spec.umask);
if (spec.cwd) process.chdir(spec.cwd);

const realOut = process.stdout.write.bind(process.stdout);
const results: Array<{ status: number; stdout: string; stderr: string }> = [];
for (const args of spec.commands) {
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  let status: number;
  try {
    status = await main(args);
  } catch (e) {
    status = 70;
    stderr += `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
  }
  process.exitCode = undefined;
  results.push({ status, stdout, stderr });
}
process.stdout.write = realOut;
realOut(JSON.stringify(results) + '\n');
