import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/** A page body, and the same gzipped (compressed on libuv's thread pool, off the event loop). */
export interface StatusBody {
  readonly raw: Buffer;
  readonly gzip: Buffer;
}

/**
 * Page bodies kept for a moment, one per query, plain and gzipped (a 5,000-node page is 345 KiB,
 * about a tenth of that compressed: less for the event loop to write per request): the page reloads every 15 s, so a body up to
 * `ttlMs` old is as good as a new one, and a loop fetching the page then costs one build per
 * `ttlMs` however fast it asks. Concurrent requests for a body being built share that build.
 * Building yields to the event loop between its steps, so that a verb's request queued behind
 * it waits for one step at most, not the whole page.
 */
export class StatusCache {
  private readonly entries = new Map<string, { at: number; body: Promise<StatusBody> }>();

  constructor(
    private readonly ttlMs = 2000,
    private readonly maxEntries = 32,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, steps: () => AsyncGenerator<void, Buffer>): Promise<StatusBody> {
    const at = this.now();
    const cached = this.entries.get(key);
    if (cached && at - cached.at < this.ttlMs) return cached.body;
    if (this.entries.size >= this.maxEntries) this.prune(at);
    const body = run(steps());
    this.entries.set(key, { at, body });
    // A failed build is not kept.
    body.catch(() => this.entries.get(key)?.body === body && this.entries.delete(key));
    return body;
  }

  private prune(at: number): void {
    for (const [key, entry] of this.entries) if (at - entry.at >= this.ttlMs) this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.clear();
  }
}

async function run(steps: AsyncGenerator<void, Buffer>): Promise<StatusBody> {
  for (;;) {
    const step = await steps.next();
    if (step.done) return { raw: step.value, gzip: await gzipAsync(step.value) };
    await yieldToEventLoop();
  }
}
