/**
 * The index figures of SPEC section 6 (events per second, memory at 150,000 pods, loaded from a
 * snapshot file and through list and watch) and the time from process start to ready, each in
 * a fresh child process.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { kubeConfigFor } from '../support/fake-api-server.js';
import { EXTENDER_MAIN } from './bench-paths.js';
import { deploymentNodeOptions, youngGenerationOptions } from '../support/deployment-node-options.js';
import { runChild } from './child-runner.js';
import { writeSnapshotFile, type ClusterSpec } from '../support/synthetic-cluster/cluster-generator.js';
import type { EventRates, MemoryFigures, WatchMemoryFigures } from './index-child.js';
import { procStatusBytes } from './proc-status.js';
import { startFakeApiServer } from './server-process.js';
import { median } from './stats.js';

const INDEX_CHILD = fileURLToPath(new URL('./index-child.js', import.meta.url));
const READY_TIMEOUT_MS = 180_000;

export interface SnapshotFile {
  readonly path: string;
  readonly bytes: number;
  readonly items: number;
  readonly writeMs: number;
}

export interface WatchPathFigures extends WatchMemoryFigures {
  /** How long the fake API server took to build the cluster (not the extender's time). */
  readonly apiServerLoadMs: number;
}

export interface StartupFigures {
  /** Process spawn to the first 200 from /readyz, per run. */
  readonly runsMs: number[];
  readonly medianMs: number;
  /** VmRSS of the serving process once ready (no forced GC), median over runs. */
  readonly rssAfterReadyBytes: number;
  /** VmHWM: the peak resident memory while loading, median over runs. */
  readonly peakRssBytes: number;
}

export async function writeSnapshot(cluster: ClusterSpec, path: string): Promise<SnapshotFile> {
  mkdirSync(dirname(path), { recursive: true });
  const started = performance.now();
  const { bytes, items } = await writeSnapshotFile(cluster, path);
  return { path, bytes, items, writeMs: performance.now() - started };
}

export function measureEventRates(cluster: ClusterSpec, rounds: number): Promise<EventRates> {
  const args = ['--mode', 'events', '--nodes', String(cluster.nodes), '--pods-per-node', String(cluster.podsPerNode), '--seed', String(cluster.seed), '--rounds', String(rounds)];
  return runChild<EventRates>(INDEX_CHILD, args, ['--expose-gc', ...youngGenerationOptions()]);
}

export function measureMemory(snapshot: string): Promise<MemoryFigures> {
  return runChild<MemoryFigures>(INDEX_CHILD, ['--mode', 'rss', '--snapshot', snapshot], ['--expose-gc', ...youngGenerationOptions()]);
}

/**
 * Memory and time to ready of the extender filling its index through list and watch, from the
 * fake API server serving `cluster` in another process (its memory is not the extender's),
 * found through a kubeconfig written to `kubeconfigPath`.
 */
export async function measureWatchMemory(cluster: ClusterSpec, kubeconfigPath: string): Promise<WatchPathFigures> {
  const api = await startFakeApiServer(cluster);
  try {
    mkdirSync(dirname(kubeconfigPath), { recursive: true });
    writeFileSync(kubeconfigPath, kubeConfigFor(api.url).exportConfig());
    const figures = await runChild<WatchMemoryFigures>(INDEX_CHILD, ['--mode', 'watch-rss', '--kubeconfig', kubeconfigPath], ['--expose-gc', ...deploymentNodeOptions()]);
    if (figures.pods !== api.pods) throw new Error(`the watched index holds ${figures.pods} pods, the API server ${api.pods}`);
    return { ...figures, apiServerLoadMs: api.loadMs };
  } finally {
    await api.stop();
  }
}

/** Starts `main.js --snapshot FILE --port 0` `runs` times and times each from spawn to /readyz 200. */
export async function measureStartup(snapshot: string, runs: number): Promise<StartupFigures> {
  statSync(snapshot);
  const times: number[] = [];
  const rss: number[] = [];
  const peaks: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const started = performance.now();
    // The Deployment's young generation, not its old-space limit: the snapshot is parsed in one piece.
    const child = spawn(process.execPath, [...youngGenerationOptions(), EXTENDER_MAIN, '--snapshot', snapshot, '--port', '0', '--host', '127.0.0.1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LOG_LEVEL: 'info' },
    });
    try {
      const port = await portFromLog(child.stdout!);
      // Keep draining its log so that the child never blocks on a full pipe.
      child.stdout!.resume();
      await waitForReady(`http://127.0.0.1:${port}/readyz`, started);
      times.push(performance.now() - started);
      rss.push(procStatusBytes(child.pid!, 'VmRSS'));
      peaks.push(procStatusBytes(child.pid!, 'VmHWM'));
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }
  return { runsMs: times, medianMs: median(times), rssAfterReadyBytes: median(rss), peakRssBytes: median(peaks) };
}

/** main.js logs `{"port": N, ...}` once listening. */
async function portFromLog(stdout: NodeJS.ReadableStream): Promise<number> {
  const lines = createInterface({ input: stdout });
  const timer = setTimeout(() => lines.close(), READY_TIMEOUT_MS);
  try {
    for await (const line of lines) {
      try {
        const port = (JSON.parse(line) as { port?: unknown }).port;
        if (typeof port === 'number') return port;
      } catch {
        // Not a JSON log line.
      }
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error('sysctl-extender exited or timed out before logging its port');
}

async function waitForReady(url: string, started: number): Promise<void> {
  while (performance.now() - started < READY_TIMEOUT_MS) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // Not accepting yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${url} not ready within ${READY_TIMEOUT_MS / 1000} s`);
}
