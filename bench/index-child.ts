/**
 * Index figures measured in a fresh process each (run with --expose-gc), reported over IPC:
 *
 *   --mode events --nodes N --pods-per-node P --seed S --rounds R
 *       pod events applied per second through ClusterIndex (add, update, delete), the
 *       generated objects built beforehand so that only the index is timed;
 *   --mode rss --snapshot FILE
 *       resident memory after GC once a snapshot file is loaded the way `--snapshot` does,
 *       right away and once settled;
 *   --mode watch-rss --kubeconfig FILE
 *       the same once the index is filled the way `--kubeconfig` fills it: paged lists, then
 *       watches, from the API server of that kubeconfig (another process), plus the time to
 *       ready and the peak RSS of the lists.
 */
import { parseArgs } from 'node:util';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { ApiBindingTarget } from '../src/cluster/binding-target.js';
import { WatchSource } from '../src/cluster/index-source.js';
import { loadKubeConfig } from '../src/cluster/kube-config.js';
import { applyList, readSnapshotFile } from '../src/cluster/snapshot.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { Extender } from '../src/extender.js';
import { ClusterIndex } from '../src/sysctl-index/cluster-index.js';
import type { KubeNamespace, KubeNode, KubePod } from '../src/sysctl-index/kube-objects.js';
import { generateCluster } from '../support/synthetic-cluster/cluster-generator.js';
import { procStatusBytes } from './proc-status.js';
import { median } from './stats.js';

export interface EventRates {
  readonly pods: number;
  /** Median over rounds, events per second. */
  readonly addsPerSecond: number;
  readonly updatesPerSecond: number;
  readonly deletesPerSecond: number;
  readonly rounds: Array<{ adds: number; updates: number; deletes: number }>;
}

export interface MemoryFigures {
  readonly pods: number;
  readonly nodes: number;
  readonly readMs: number;
  readonly applyMs: number;
  /** process.memoryUsage() after GC, before loading (modules and an empty extender). */
  readonly before: NodeJS.MemoryUsage;
  /** Right after loading and GC: V8 still holds the heap pages the parse needed. */
  readonly afterLoad: NodeJS.MemoryUsage;
  /** After SETTLE_SECONDS of idling with a GC every second: the steady state a pod sees. */
  readonly after: NodeJS.MemoryUsage;
}

export interface WatchMemoryFigures {
  readonly pods: number;
  readonly nodes: number;
  readonly namespaces: number;
  /** Process start to every initial list applied (the watch source ready), ms. */
  readonly readyMs: number;
  /** Of which the paged lists: watches started to ready, ms. */
  readonly listMs: number;
  /** process.memoryUsage() after GC before the watches start (modules and an empty extender). */
  readonly before: NodeJS.MemoryUsage;
  /** Right after ready and GC. */
  readonly afterLoad: NodeJS.MemoryUsage;
  /** Settled as for the snapshot, the watches open. */
  readonly after: NodeJS.MemoryUsage;
  /** VmHWM once settled: the peak resident memory of the process, lists included. */
  readonly peakRssBytes: number;
}

/** V8 and malloc hand freed pages back over seconds, not at once; RSS right after a GC overstates. */
const SETTLE_SECONDS = 10;

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
}

function measureEvents(nodes: number, podsPerNode: number, seed: number, rounds: number): EventRates {
  const { list } = generateCluster({ nodes, podsPerNode, seed });
  const pods = list.items.filter((item): item is KubePod & { kind: string } => item.kind === 'Pod');
  const others = list.items.filter((item) => item.kind !== 'Pod') as Array<(KubeNode | KubeNamespace) & { kind: string }>;
  const results: EventRates['rounds'] = [];
  for (let round = 0; round < rounds; round += 1) {
    const index = new ClusterIndex(DEFAULT_POLICY);
    applyList(index, { items: others });
    collectGarbage();
    const rate = (apply: (pod: KubePod) => void) => {
      const started = performance.now();
      for (const pod of pods) apply(pod);
      return pods.length / ((performance.now() - started) / 1000);
    };
    const adds = rate((pod) => index.upsertPod(pod));
    // A watch MODIFIED event delivers the whole object again: the same path as an add of a known pod.
    const updates = rate((pod) => index.upsertPod(pod));
    const deletes = rate((pod) => index.deletePod(pod.metadata!.namespace!, pod.metadata!.name!));
    if (index.stats.pods !== 0) throw new Error('index still holds pods after deleting them all');
    results.push({ adds, updates, deletes });
  }
  return {
    pods: pods.length,
    addsPerSecond: median(results.map((r) => r.adds)),
    updatesPerSecond: median(results.map((r) => r.updates)),
    deletesPerSecond: median(results.map((r) => r.deletes)),
    rounds: results,
  };
}

async function measureMemory(snapshot: string): Promise<MemoryFigures> {
  // Nothing asks: memory only.
  const extender = new Extender({ policy: DEFAULT_POLICY, readiness: { check: () => ({ ready: true }) } });
  collectGarbage();
  const before = process.memoryUsage();
  let started = performance.now();
  let list: ReturnType<typeof readSnapshotFile> | undefined = readSnapshotFile(snapshot);
  const readMs = performance.now() - started;
  started = performance.now();
  const counts = applyList(extender.index, list);
  const applyMs = performance.now() - started;
  list = undefined;
  const { afterLoad, after } = await settleMemory();
  if (extender.index.stats.pods !== counts.pods) throw new Error('index lost pods');
  return { pods: counts.pods, nodes: counts.nodes, readMs, applyMs, before, afterLoad, after };
}

async function measureWatchMemory(kubeconfigFile: string): Promise<WatchMemoryFigures> {
  // What main.ts builds for --kubeconfig: the extender binding through the API, a WatchSource filling its index.
  const kubeConfig = loadKubeConfig(kubeconfigFile);
  if (!kubeConfig) throw new Error(`no cluster in ${kubeconfigFile}`);
  const extender: Extender = new Extender({ policy: DEFAULT_POLICY, readiness: { check: () => source.check() }, bindingTarget: new ApiBindingTarget(kubeConfig) });
  const source = new WatchSource({ kubeConfig, registry: extender.metrics.registry, staleAfterSeconds: extender.generation.policy.staleAfterSeconds });
  collectGarbage();
  const before = process.memoryUsage();
  const started = performance.now();
  source.start(extender.index);
  while (!source.check().ready) await sleep(5);
  // performance.now() counts from the start of the process.
  const readyMs = performance.now();
  const { afterLoad, after } = await settleMemory();
  const peakRssBytes = procStatusBytes('self', 'VmHWM');
  const { pods, nodes, namespaces } = extender.index.stats;
  await source.stop();
  return { pods, nodes, namespaces, readyMs, listMs: readyMs - started, before, afterLoad, after, peakRssBytes };
}

/** Memory after GC right away, and once V8 and malloc have handed the loading's pages back. */
async function settleMemory(): Promise<{ afterLoad: NodeJS.MemoryUsage; after: NodeJS.MemoryUsage }> {
  // Let the loading's garbage go, twice over a turn of the event loop (weak callbacks, external buffers).
  collectGarbage();
  await nextTurn();
  collectGarbage();
  const afterLoad = process.memoryUsage();
  for (let second = 0; second < SETTLE_SECONDS; second += 1) {
    await sleep(1000);
    collectGarbage();
  }
  return { afterLoad, after: process.memoryUsage() };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string' },
      nodes: { type: 'string', default: '5000' },
      'pods-per-node': { type: 'string', default: '30' },
      seed: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '3' },
      snapshot: { type: 'string' },
      kubeconfig: { type: 'string' },
    },
  });
  if (values.mode === 'events') {
    process.send?.(measureEvents(Number(values.nodes), Number(values['pods-per-node']), Number(values.seed), Number(values.rounds)));
  } else if (values.mode === 'rss' && values.snapshot) {
    process.send?.(await measureMemory(values.snapshot));
  } else if (values.mode === 'watch-rss' && values.kubeconfig) {
    process.send?.(await measureWatchMemory(values.kubeconfig));
  } else {
    throw new Error('--mode events, --mode rss --snapshot FILE, or --mode watch-rss --kubeconfig FILE');
  }
  process.disconnect?.();
}

main().catch((err: unknown) => {
  process.stderr.write(`index-child: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
