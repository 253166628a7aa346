import { setTimeout as sleep } from 'node:timers/promises';

/** Waits `ms`, or less if the signal aborts. Injected in tests so that backoff needs no sleeping. */
export type DelayFn = (ms: number, signal: AbortSignal) => Promise<void>;

export const realDelay: DelayFn = (ms, signal) => sleep(ms, undefined, { signal }).catch(() => undefined);

/**
 * Exponential backoff for reconnecting watches: 1 s, 2 s, 4 s … capped at 30 s, with up to 10%
 * jitter so that many extenders (or resources) do not reconnect in lockstep.
 */
export function backoffDelay(failures: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (1 + 0.1 * random()));
}
