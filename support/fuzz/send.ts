/** Sending one fuzz request to a server, with a hard timeout. */
import type { FuzzRequest } from './request-fuzzer.js';

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export interface FuzzAnswer {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
  readonly ms: number;
}

export type FuzzOutcome = FuzzAnswer | { readonly failure: 'timeout' | 'connection'; readonly message: string; readonly ms: number };

/** Sends one request with a hard timeout; never throws. */
export async function sendFuzzRequest(baseUrl: string, request: FuzzRequest, timeoutMs: number): Promise<FuzzOutcome> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  let body: RequestInit['body'];
  if (request.body !== undefined) {
    const bytes = request.body;
    body = request.chunked
      ? new ReadableStream<Uint8Array>({
          start(controller) {
            for (let at = 0; at < bytes.length; at += 256 * 1024) controller.enqueue(bytes.subarray(at, at + 256 * 1024));
            controller.close();
          },
        })
      : bytes;
  }
  try {
    const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers: request.headers, body, signal };
    if (request.chunked && body !== undefined) init.duplex = 'half';
    const res = await fetch(baseUrl + request.path, init);
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type'), text, ms: performance.now() - started };
  } catch (err) {
    const e = err as { name?: string; message?: string; cause?: { message?: string; code?: string } };
    const ms = performance.now() - started;
    if (e.name === 'TimeoutError' || e.name === 'AbortError' || signal.aborted) return { failure: 'timeout', message: `no answer within ${timeoutMs} ms`, ms };
    return { failure: 'connection', message: `${e.message ?? String(err)}${e.cause ? `: ${e.cause.code ?? ''} ${e.cause.message ?? ''}` : ''}`, ms };
  }
}
