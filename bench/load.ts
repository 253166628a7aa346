/**
 * One autocannon run against one server. Latencies are taken from autocannon's per-response
 * event (float milliseconds from process.hrtime): its own histogram stores whole milliseconds,
 * too coarse for calls that take about 1 ms.
 */
import autocannon from 'autocannon';
import { mean, sortedPercentile } from './stats.js';

export interface LoadOptions {
  readonly url: string;
  readonly path: string;
  /** Sent in turn on each connection; ignored when `nextBody` is given. */
  readonly bodies: readonly string[];
  /** Each request's body, taken when it is built, across all connections (bind: one pod each). */
  readonly nextBody?: () => string;
  readonly connections: number;
  /** Run for this long, unless `amount` is set. */
  readonly durationSeconds: number;
  /** Stop after this many responses instead (slow servers: the naive scan). */
  readonly amount?: number;
  readonly timeoutSeconds: number;
}

export interface LoadResult {
  readonly responses: number;
  /** Non-2xx answers, timeouts and socket errors: any of them invalidates the run. */
  readonly errors: number;
  /** From the start to the last response: autocannon ends a run counted by `amount` on its next whole second only. */
  readonly elapsedSeconds: number;
  /** 2xx responses per second. */
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = process.hrtime.bigint();
  let lastResponse = started;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        duration: options.durationSeconds,
        ...(options.amount !== undefined ? { amount: options.amount } : {}),
        timeout: options.timeoutSeconds,
        // autocannon annotates request objects; give each run its own.
        requests: requestsOf(options),
      },
      (err: unknown, done: autocannon.Result) => (err ? reject(err as Error) : resolve(done)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      lastResponse = process.hrtime.bigint();
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else errors += 1;
    });
  });
  const elapsedSeconds = Number(lastResponse - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    responses: latencies.length,
    errors: errors + result.errors + result.timeouts,
    elapsedSeconds,
    throughput: latencies.length / elapsedSeconds,
    p50Ms: sortedPercentile(latencies, 0.5),
    p99Ms: sortedPercentile(latencies, 0.99),
    meanMs: mean(latencies),
    maxMs: latencies[latencies.length - 1] ?? Number.NaN,
  };
}

function requestsOf(options: LoadOptions): autocannon.Request[] {
  const base = { method: 'POST' as const, path: options.path, headers: { 'content-type': 'application/json' } };
  const next = options.nextBody;
  // autocannon calls setupRequest whenever it builds a request, and sends each built one at most once.
  if (next) return [{ ...base, setupRequest: (request: autocannon.Request) => ({ ...request, body: next() }) }];
  return options.bodies.map((body) => ({ ...base, body }));
}

/** One POST outside autocannon: warm-up, answer checks and timing a single slow call. */
export async function postOnce(url: string, body: string, timeoutMs = 120_000): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
}
