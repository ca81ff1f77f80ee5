/**
 * Before any test: the compiled CLI (dist/, what `rollwise` and bin/rollwise.js run) must be the
 * code under test. When a file of src/ is newer than dist/, build it once, so a CLI test never
 * runs yesterday's code; then the one-file bundle bin/rollwise.js runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  const compiled = path.join(repoRoot, 'dist', 'app', 'cli', 'main.js');
  if (!existsSync(compiled) || statSync(compiled).mtimeMs < newestMtime(path.join(repoRoot, 'src'))) {
    const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: repoRoot, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building dist/ for the CLI tests failed (npm run build):\n${r.stdout}${r.stderr}`);
  }
  // the one-file CLI bin/rollwise.js runs (scripts/bundle.mjs), made from what was just compiled
  const bundle = path.join(repoRoot, 'dist', 'app', 'cli', 'main.bundle.mjs');
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= statSync(compiled).mtimeMs) return;
  const b = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'bundle.mjs')], { cwd: repoRoot, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`bundling the CLI for the tests failed (npm run build):\n${b.stdout}${b.stderr}`);
}
