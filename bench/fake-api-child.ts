/**
 * The API server of the watch-path figures: the tests' fake API server (list with
 * `limit`/`continue`, watch) holding the synthetic cluster, in a process of its own so that
 * none of its memory is counted in the extender's. Reports its port over IPC as server-child.ts
 * does, and exits on "stop" or when the parent goes away.
 *
 *   node fake-api-child.js --nodes N --pods-per-node P --seed S
 */
import { parseArgs } from 'node:util';
import { FakeApiServer, type Resource } from '../support/fake-api-server.js';
import { clusterItems, planCluster } from '../support/synthetic-cluster/cluster-generator.js';
import { CLUSTER_OPTIONS, clusterSpecOf } from './cluster-spec-args.js';
import type { ChildReady } from './server-child.js';

const RESOURCES: Readonly<Record<string, Resource>> = { Namespace: 'namespaces', Node: 'nodes', Pod: 'pods', DaemonSet: 'daemonsets' };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...CLUSTER_OPTIONS,
    },
  });
  const started = performance.now();
  const api = new FakeApiServer();
  let pods = 0;
  for (const item of clusterItems(planCluster(clusterSpecOf(values)))) {
    const resource = RESOURCES[item.kind];
    if (!resource) throw new Error(`the generator made a ${item.kind}, which the fake API server does not serve`);
    api.create(resource, item);
    if (resource === 'pods') pods += 1;
  }
  const { url } = await api.start();
  // Nothing of the build is needed any more; a collected heap serves the lists faster.
  (globalThis as { gc?: () => void }).gc?.();
  const ready: ChildReady = { type: 'listening', port: Number(new URL(url).port), pods, loadMs: performance.now() - started };
  process.send?.(ready);

  const exit = () => void api.stop().then(() => process.exit(0));
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'stop') exit();
  });
  process.on('disconnect', exit);
}

main().catch((err: unknown) => {
  process.stderr.write(`fake-api-child: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
