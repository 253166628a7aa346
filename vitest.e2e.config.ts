import { defineConfig } from 'vitest/config';

// The end-to-end suite (npm run test:e2e): a real etcd, kube-apiserver and kube-scheduler
// from $KUBE_ASSETS. One file at a time: each starts its own control plane on 2 cores.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
