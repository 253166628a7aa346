import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/**
 * Page bodies kept for a moment, one per query: the page reloads every 15 s, so a body up to
 * `ttlMs` old is as good as a new one, and a loop fetching the page then costs one build per
 * `ttlMs` however fast it asks. Concurrent requests for a body being built share that build.
 * Building yields to the event loop between its steps, so that a verb's request queued behind
 * it waits for one step at most, not the whole page.
 */
export class StatusCache {
  private readonly entries = new Map<string, { at: number; body: Promise<Buffer> }>();

  constructor(
    private readonly ttlMs = 2000,
    private readonly maxEntries = 32,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, steps: () => AsyncGenerator<void, Buffer>): Promise<Buffer> {
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

async function run(steps: AsyncGenerator<void, Buffer>): Promise<Buffer> {
  for (;;) {
    const step = await steps.next();
    if (step.done) return step.value;
    await yieldToEventLoop();
  }
}
