/**
 * Parent side of the bench's server processes: start one (a server under test from
 * server-child.ts, or the fake API server of fake-api-child.ts), wait until it listens, stop it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ClusterSpec } from '../support/synthetic-cluster/cluster-generator.js';
import { clusterSpecArgs } from './cluster-spec-args.js';
import { youngGenerationOptions } from '../support/deployment-node-options.js';
import type { ChildReady, ServerKind, ServerTimings } from './server-child.js';

/** A child process serving the synthetic cluster on a loopback port. */
export interface ListeningChild {
  readonly url: string;
  readonly pid: number;
  readonly pods: number;
  readonly loadMs: number;
  stop(): Promise<void>;
}

export interface ServerProcess extends ListeningChild {
  readonly kind: ServerKind;
  /** The server's own time per request since the last call, ms (see ServerTimings). */
  takeTimings(): Promise<number[]>;
}

const SERVER_CHILD = fileURLToPath(new URL('./server-child.js', import.meta.url));
const FAKE_API_CHILD = fileURLToPath(new URL('./fake-api-child.js', import.meta.url));
/** Building a 150,000-pod cluster takes seconds; this bounds a child that never answers. */
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 15_000;

/** `profileDir`: write a CPU profile of the serving phase there when the server stops. */
export async function startServer(kind: ServerKind, cluster: ClusterSpec, profileDir?: string): Promise<ServerProcess> {
  const args = ['--kind', kind, ...clusterArgs(cluster)];
  if (profileDir) args.push('--profile-dir', profileDir);
  const { child, ...listening } = await startListeningChild(SERVER_CHILD, args, `${kind} server`);
  return { kind, ...listening, takeTimings: () => askTimings(child) };
}

function askTimings(child: ChildProcess): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ServerTimings) => {
      if (message?.type !== 'timings') return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message.durationsMs);
    };
    const onExit = () => reject(new Error('server exited before reporting its timings'));
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ type: 'timings' });
  });
}

/** The cluster behind a list/watch API (the tests' fake API server), in a process of its own. */
export async function startFakeApiServer(cluster: ClusterSpec): Promise<ListeningChild> {
  const { child: _child, ...listening } = await startListeningChild(FAKE_API_CHILD, clusterArgs(cluster), 'fake API server');
  return listening;
}

const clusterArgs = clusterSpecArgs;

async function startListeningChild(entry: string, args: string[], name: string): Promise<ListeningChild & { child: ChildProcess }> {
  // BENCH_TRACE_GC=1 prints each child's garbage collections (V8 --trace-gc) to the bench's output.
  const execArgv = ['--expose-gc', ...youngGenerationOptions(), ...(process.env.BENCH_TRACE_GC ? ['--trace-gc'] : [])];
  const child = fork(entry, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await waitForReady(child, name);
  return {
    url: `http://127.0.0.1:${ready.port}`,
    pid: child.pid ?? -1,
    pods: ready.pods,
    loadMs: ready.loadMs,
    stop: () => stopChild(child),
    child,
  };
}

function waitForReady(child: ChildProcess, name: string): Promise<ChildReady> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    child.once('message', (message: ChildReady) => {
      clearTimeout(timer);
      resolve(message);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${String(code)} before listening`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  // A clean exit lets the child write its CPU profile; SIGKILL only if it hangs.
  child.send({ type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
