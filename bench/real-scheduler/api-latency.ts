/**
 * GET latency against a real kube-apiserver through client-node 1.4 (a new https.Agent, so a
 * new TLS connection, per call) and through KubeHttp (kept connections): one after another
 * and 50 at once. Part of `npm run bench:scheduler` (results in bench/results/), or alone:
 *
 *   KUBE_ASSETS=DIR node bench/.build/real-scheduler/bench/real-scheduler/api-latency.js
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { KubeHttp } from '../../src/cluster/kube-http.js';
import type { ControlPlane } from '../../support/real-cluster/control-plane.js';

export interface LatencyFigures {
  readonly client: string;
  /** Median of sequential GETs, ms. */
  readonly sequentialMedianMs: number;
  /** Wall time of 50 GETs started together, median over the batches, ms. */
  readonly parallel50Ms: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(client: string, get: () => Promise<unknown>, sequential = 200, batches = 7): Promise<LatencyFigures> {
  for (let i = 0; i < 20; i++) await get(); // warm up (JIT, first connections)
  const times: number[] = [];
  for (let i = 0; i < sequential; i++) {
    const start = performance.now();
    await get();
    times.push(performance.now() - start);
  }
  const walls: number[] = [];
  for (let b = 0; b < batches; b++) {
    const start = performance.now();
    await Promise.all(Array.from({ length: 50 }, get));
    walls.push(performance.now() - start);
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  return { client, sequentialMedianMs: round(median(times)), parallel50Ms: round(median(walls)) };
}

export async function apiLatency(plane: ControlPlane): Promise<LatencyFigures[]> {
  const api = plane.kubeConfig.makeApiClient(CoreV1Api);
  const kept = new KubeHttp(plane.kubeConfig);
  // kube-apiserver creates `default` itself a moment after it is ready: wait for it (a minute at most).
  for (let tries = 0; ; tries++) {
    try {
      await api.readNamespace({ name: 'default' });
      break;
    } catch (err) {
      if (tries >= 120) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return [
      await measure('client-node 1.4 (CoreV1Api.readNamespace)', () => api.readNamespace({ name: 'default' })),
      await measure('KubeHttp (keep-alive, pool of 16)', () => kept.request('GET', '/api/v1/namespaces/default')),
    ];
  } finally {
    kept.close();
  }
}
