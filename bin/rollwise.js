#!/usr/bin/env node
// Entry point of the `rollwise` command. Runs the compiled CLI (built by `npm ci` / `npm run build`).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/app/cli/main.js', import.meta.url));
if (!existsSync(compiled)) {
  process.stderr.write('rollwise: the compiled CLI is missing (dist/). Run `npm ci` or `npm run build` first.\n');
  process.exit(2);
}
// In a checkout, say so when src/ was changed after dist/ was built: the command would run old code.
// (The test suite builds dist/ before it starts and sets ROLLWISE_DIST_CHECKED.)
const src = fileURLToPath(new URL('../src/', import.meta.url));
if (existsSync(src) && !process.env.ROLLWISE_DIST_CHECKED) {
  const built = statSync(compiled).mtimeMs;
  const newer = (dir) => readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() ? newer(`${dir}${e.name}/`) : statSync(`${dir}${e.name}`).mtimeMs > built));
  if (newer(src)) process.stderr.write('rollwise: warning: src/ has changed since dist/ was built; this runs the older build (npm run build)\n');
}
// The one-file build of the same code (scripts/bundle.mjs; starts sooner), unless it is older than dist/.
const bundle = fileURLToPath(new URL('../dist/app/cli/main.bundle.mjs', import.meta.url));
const entry = existsSync(bundle) && statSync(bundle).mtimeMs >= statSync(compiled).mtimeMs ? bundle : compiled;
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
