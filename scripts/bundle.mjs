/**
 * `npm run build`, second step: the compiled CLI (dist/app/cli/main.js and the ~200 modules it
 * imports) as one ES module, dist/app/cli/main.bundle.mjs, which bin/rollwise.js runs. Node 20
 * resolves, reads and links each module of an import graph separately; one file starts a
 * command about 0.3 s sooner. The bundle sits beside main.js, so paths it computes from its own
 * location (the repository root, bin/) are the same. Native and optional drivers stay outside
 * (better-sqlite3 is a native addon; pg loads only for a PostgreSQL store). Worker threads
 * (dist/planner/solve-worker.js) run the unbundled modules.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: ['dist/app/cli/main.js'],
  outfile: 'dist/app/cli/main.bundle.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', 'pg', 'pg-native', 'playwright-core'],
  // CommonJS packages inside the bundle call require() for Node's built-in modules
  banner: { js: "import { createRequire as rollwiseCreateRequire } from 'node:module'; const require = rollwiseCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
