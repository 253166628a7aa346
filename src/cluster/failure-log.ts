import type { Logger } from 'pino';

/** The first failure of an outage is logged; after it, at most one line per kind per this long. */
export const FAILURE_LOG_INTERVAL_MS = 30_000;

/**
 * Rate-limited logs of failing lists and reconnects, per kind. An outage of the API server
 * makes every reflector retry every 1..30 s; each failure is counted in a metric, and logged
 * here as: the first one, then one line per interval carrying how many were left out, then
 * one line when the kind recovers.
 */
export class FailureLog {
  private readonly state = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger | undefined,
    private readonly now: () => number,
    private readonly intervalMs = FAILURE_LOG_INTERVAL_MS,
  ) {}

  failed(kind: string, error: string, attempt: number): void {
    const now = this.now();
    const entry = this.state.get(kind);
    if (entry && now - entry.loggedAt < this.intervalMs) {
      entry.suppressed += 1;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.state.set(kind, { loggedAt: now, suppressed: 0 });
    this.logger?.warn({ kind, error, attempt, suppressed }, `watch of ${kind}: attempt ${attempt} failed, retrying with backoff`);
  }

  recovered(kind: string, failedAttempts: number): void {
    this.state.delete(kind);
    this.logger?.info({ kind, failedAttempts }, `watch of ${kind} reconnected after ${failedAttempts} failed attempts`);
  }
}
