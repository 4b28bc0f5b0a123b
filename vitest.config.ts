import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Forks, not threads: tests start worker threads, child processes and wasm instances of their
    // own, and a test that crashes its process must not take the others with it.
    pool: 'forks',
    // Builds what is stale (wasm, TypeScript) so tests that run bin/siplb.js see current code even
    // when vitest is started directly instead of through `npm test`.
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    // .ci/run reads this report; its second run, on Node 24, names another file (a reporter's own
    // outputFile wins over vitest's --outputFile, so the name comes from the environment).
    reporters: ['default', ['json', { outputFile: process.env.TEST_REPORT_FILE ?? '.vitest-report.json' }]],
  },
});
