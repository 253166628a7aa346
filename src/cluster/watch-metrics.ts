import { Counter, Gauge, type Registry } from 'prom-client';
import type { ReflectorHandle } from '../watch/reflector.js';

/** The watched kinds, as the metrics label them. */
export type WatchedKind = 'namespaces' | 'nodes' | 'pods' | 'daemonsets';

/**
 * The watch metrics of one extender, registered once on its registry. A policy reload that
 * rebuilds the index starts a second ClusterWatch: both count into these, and the age gauge
 * reads the reflectors of the watch in service, which `reflectors` returns.
 */
export class WatchMetrics {
  readonly events: Counter<'kind' | 'type'>;
  readonly relists: Counter<'kind'>;
  readonly restarts: Counter<'kind' | 'reason'>;
  readonly failedAttempts: Counter<'kind'>;

  constructor(registry: Registry, reflectors: () => Iterable<[WatchedKind, ReflectorHandle]>, now: () => number = Date.now) {
    new Gauge({
      name: 'sysctl_extender_watch_last_event_age_seconds',
      help: 'Seconds since the last watch event (bookmarks included), by kind.',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        for (const [kind, r] of reflectors()) if (r.lastEventAt !== undefined) this.set({ kind }, (now() - r.lastEventAt) / 1000);
      },
    });
    this.events = new Counter({ name: 'sysctl_extender_watch_events_total', help: 'Watch events applied, by kind and type.', labelNames: ['kind', 'type'], registers: [registry] });
    this.relists = new Counter({ name: 'sysctl_extender_watch_relists_total', help: 'Full lists (start, 410 Gone), by kind.', labelNames: ['kind'], registers: [registry] });
    this.restarts = new Counter({
      name: 'sysctl_extender_watch_restarts_total',
      help: 'Watch restarts, by kind and reason (closed, expired, error).',
      labelNames: ['kind', 'reason'],
      registers: [registry],
    });
    this.failedAttempts = new Counter({
      name: 'sysctl_extender_watch_failed_attempts_total',
      help: 'Lists and watch (re)connects that failed (refused, error status, dropped), by kind.',
      labelNames: ['kind'],
      registers: [registry],
    });
  }
}
