import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RejectionTally } from '../filter/rejection-tally.js';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { Readiness } from '../readiness.js';
import type { BindResult } from '../cluster/binder.js';

/** Prometheus metrics of one extender instance, on its own registry (tests run several). */
export class ExtenderMetrics {
  readonly registry: Registry;
  private readonly requestDuration: Histogram;
  private readonly rejections: Counter;
  private readonly binds: Counter;

  /** `registry`: where these go; the caller's when sources register their own metrics beside them. */
  constructor(index: () => ClusterIndex, registry: Registry = new Registry()) {
    this.registry = registry;
    this.requestDuration = new Histogram({
      name: 'sysctl_extender_request_duration_seconds',
      help: 'Time to answer a kube-scheduler call, by verb and HTTP status code.',
      labelNames: ['verb', 'code'],
      // Around the 1 ms a filter over 5,000 node names takes, up to kube-scheduler's 5 s timeout.
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [this.registry],
    });
    this.rejections = new Counter({
      name: 'sysctl_extender_filter_rejections_total',
      help: 'Nodes rejected by filter, by reason code.',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    this.binds = new Counter({
      name: 'sysctl_extender_binds_total',
      help: 'Bind calls by outcome: bound, refused (by the rules or the pod\'s state), api_failed (the API server did not take the Binding).',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    const gauge = (name: string, help: string, read: (s: ClusterIndex['stats']) => number): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(index().stats));
        },
      });
    };
    gauge('sysctl_extender_index_nodes', 'Nodes in the index.', (s) => s.nodes);
    gauge('sysctl_extender_index_pods', 'Pods in the index.', (s) => s.pods);
    gauge('sysctl_extender_index_namespaces', 'Namespaces in the index.', (s) => s.namespaces);
    gauge('sysctl_extender_index_profiles', 'Distinct sysctl profiles interned.', (s) => s.profiles);
    collectDefaultMetrics({ register: this.registry, prefix: 'sysctl_extender_' });
  }

  /** `sysctl_extender_ready`: 1 while the verbs answer, 0 while they refuse with 503 (what /readyz says, for alerts). */
  trackReadiness(readiness: Readiness): void {
    new Gauge({
      name: 'sysctl_extender_ready',
      help: '1 while the index can be trusted and the verbs answer; 0 while they answer 503 (see /readyz for why).',
      registers: [this.registry],
      collect() {
        this.set(readiness.check().ready ? 1 : 0);
      },
    });
  }

  observeRequest(verb: string, code: number, seconds: number): void {
    this.requestDuration.observe({ verb, code: String(code) }, seconds);
  }

  countBind(outcome: BindResult['outcome']): void {
    this.binds.inc({ outcome });
  }

  /** Counts one call's rejections by reason (filter/rejection-tally.ts tallies them). */
  countRejections(tally: RejectionTally | undefined): void {
    if (!tally) return;
    tally.codes.forEach((code, k) => this.rejections.inc({ reason: code }, tally.counts[k]!));
  }
}
