import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real servers on port 0; keep them parallel by file, bounded for 2 cores.
    maxWorkers: 2,
    testTimeout: 20_000,
  },
});
