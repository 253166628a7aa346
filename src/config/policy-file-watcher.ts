import { readFile } from 'node:fs/promises';
import type { PolicyOffer } from './policy-reloader.js';

/**
 * Watches a policy file by reading it every `intervalMs`. Polling, rather than fs.watch, sees
 * the kubelet's update of a mounted ConfigMap, which swaps a `..data` symlink instead of
 * writing the file, and costs one small read a second.
 */
export class PolicyFileWatcher {
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(
    private readonly path: string,
    private readonly offer: (offer: PolicyOffer) => Promise<void>,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One read; exported for tests and for the first load. */
  async poll(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const text = await readFile(this.path, 'utf8').catch((err: NodeJS.ErrnoException) => ({ missing: `cannot read policy file ${this.path}: ${err.code ?? err.message}` }));
      await this.offer(typeof text === 'string' ? { text } : text);
    } finally {
      this.reading = false;
    }
  }
}
