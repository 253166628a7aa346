/**
 * Entry point of a server under test, run in its own process so that it never shares an event
 * loop with the load generator. It builds the synthetic cluster from the seed, listens on a
 * free loopback port, reports it over IPC, and exits on "stop" (which also flushes a
 * --cpu-prof profile) or when the parent goes away. On "timings" it answers with the time
 * each request took inside this process since the last such message (ServerTimings).
 *
 *   node server-child.js --kind extender|baseline|naive --nodes N --pods-per-node P --seed S [--pending-pods K] [--profile-dir DIR]
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { applyList, loadSnapshotFile } from '../src/cluster/snapshot.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { Extender } from '../src/extender.js';
import { listen } from '../src/http/serve.js';
import { createBaselineServer } from './baseline-server.js';
import { generateCluster } from '../support/synthetic-cluster/cluster-generator.js';
import { CLUSTER_OPTIONS, clusterSpecOf } from './cluster-spec-args.js';
import { listenOnLoopback } from './json-http.js';
import { createNaiveServer } from './naive-server.js';
import { startServingProfile } from './serving-profiler.js';

export type ServerKind = 'baseline' | 'extender' | 'naive';

export interface ChildReady {
  readonly type: 'listening';
  readonly port: number;
  /** Pods the server holds, to check the cluster arrived whole. */
  readonly pods: number;
  readonly loadMs: number;
}

/**
 * Milliseconds from a request's headers arriving to its answer's last byte handed to the
 * kernel, per request: what the server itself took, without the load generator's share.
 */
export interface ServerTimings {
  readonly type: 'timings';
  readonly durationsMs: number[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kind: { type: 'string' },
      ...CLUSTER_OPTIONS,
      'profile-dir': { type: 'string' },
    },
  });
  const spec = clusterSpecOf(values);
  const started = performance.now();
  let server: Server;
  let pods = 0;
  switch (values.kind) {
    case 'baseline': {
      server = createBaselineServer();
      break;
    }
    case 'extender': {
      // Ready from the start: nothing reaches it before the index is loaded and it listens.
      const { index, app } = new Extender({ policy: DEFAULT_POLICY, readiness: { check: () => ({ ready: true }) } });
      pods = spec.snapshotFile ? loadSnapshotFile(index, spec.snapshotFile).pods : applyList(index, generateCluster(spec).list).pods;
      server = (await listen(app, '127.0.0.1', 0)).server;
      break;
    }
    case 'naive': {
      const naive = createNaiveServer(generateCluster(spec).list, DEFAULT_POLICY);
      server = naive.server;
      pods = naive.pods;
      break;
    }
    default:
      throw new Error(`--kind must be baseline, extender or naive, not ${String(values.kind)}`);
  }
  const port = server.listening ? (server.address() as { port: number }).port : await listenOnLoopback(server);
  // Measure the steady state of a long-running process: the objects the cluster was built from
  // are garbage now, and a full GC would reclaim them within minutes anyway. Left in the old
  // generation, they make every scavenge in the first minutes several times slower.
  (globalThis as { gc?: () => void }).gc?.();
  const profileDir = values['profile-dir'];
  const stopProfile = profileDir ? await startServingProfile(profileDir, values.kind) : undefined;
  let requests = 0;
  let durationsMs: number[] = [];
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    requests += 1;
    const start = process.hrtime.bigint();
    res.once('finish', () => durationsMs.push(Number(process.hrtime.bigint() - start) / 1e6));
  });
  const ready: ChildReady = { type: 'listening', port, pods, loadMs: performance.now() - started };
  process.send?.(ready);

  let exiting = false;
  const exit = async () => {
    if (exiting) return;
    exiting = true;
    server.close();
    server.closeAllConnections();
    if (stopProfile) process.stderr.write(`${values.kind} profile: ${await stopProfile(requests)}\n`);
    process.exit(0);
  };
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'stop') void exit();
    if (message?.type === 'timings') {
      const timings: ServerTimings = { type: 'timings', durationsMs };
      durationsMs = [];
      process.send?.(timings);
    }
  });
  process.on('disconnect', () => void exit());
}

main().catch((err: unknown) => {
  process.stderr.write(`server-child: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
