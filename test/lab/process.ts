/**
 * Process helpers for the lab (test fixtures): argument arrays only, and a clear failure naming
 * the Debian package to install when a tool is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { TOOL_PACKAGES } from '../../src/hosts/index.js';

export interface LabRunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Which Debian package provides each tool the lab uses (the hosts layer's list). */
export { TOOL_PACKAGES };

const found = new Map<string, string>();

/** The absolute path of a tool, or an Error naming the Debian package that provides it. */
export function requireTool(tool: string, extraDirs: string[] = []): string {
  const cached = found.get(tool);
  if (cached) return cached;
  const dirs = [...extraDirs, '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const d of dirs) {
    const p = `${d}/${tool}`;
    if (existsSync(p)) {
      found.set(tool, p);
      return p;
    }
  }
  const pkg = TOOL_PACKAGES[tool] ?? 'the package providing it';
  throw new Error(`the lab needs '${tool}', which is not installed: install the Debian package '${pkg}' (scripts/install-test-deps.sh does)`);
}

/** Run a command; resolve with its code and output (never throws for a non-zero exit). */
export function runTool(argv: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<LabRunResult> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    if (!file) return reject(new Error('empty command'));
    const child = spawn(file, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.stdin.on('error', () => undefined); // a command that exits without reading its input
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(options.input ?? '');
  });
}

/** Run a command and throw with its output if it fails. */
export async function runChecked(argv: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  const r = await runTool(argv, options);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Synchronous variant, for exit hooks. */
export function runQuiet(argv: string[]): number {
  const [file, ...args] = argv;
  if (!file) return -1;
  const r = spawnSync(file, args, { stdio: 'ignore', timeout: 10_000 });
  return r.status ?? -1;
}
