import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // bench/ holds the tests of the bench itself (its generator and reference servers).
    include: ['test/**/*.test.ts', 'bench/**/*.test.ts'],
    // Tests start real servers on port 0; keep them parallel by file, bounded for 2 cores.
    maxWorkers: 2,
    // Generous: on a busy machine (both cores taken) tests wait for events with budgets of a
    // minute (test/support/wait.ts); a test only takes this long when it is failing anyway.
    testTimeout: 120_000,
  },
});
