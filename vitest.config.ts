import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // the CLI tests run the compiled CLI (bin/rollwise.js → dist/): build it when src/ is newer
    globalSetup: ['./test/helpers/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // The lab (dpkg roots, network namespaces, PostgreSQL) is heavy: keep parallelism to the core count.
    maxWorkers: 2,
    reporters: ['default', './tools/summary-reporter.ts'],
  },
});
