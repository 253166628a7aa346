import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FilterOutcome } from '../filter/filter-nodes.js';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';

/** Prometheus metrics of one extender instance, on its own registry (tests run several). */
export class ExtenderMetrics {
  readonly registry = new Registry();

  private readonly requestDuration = new Histogram({
    name: 'sysctl_extender_request_duration_seconds',
    help: 'Time to answer a kube-scheduler call, by verb and HTTP status code.',
    labelNames: ['verb', 'code'],
    // Around the 1 ms a filter over 5,000 node names takes, up to kube-scheduler's 5 s timeout.
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });

  private readonly rejections = new Counter({
    name: 'sysctl_extender_filter_rejections_total',
    help: 'Nodes rejected by filter, by reason code.',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  private readonly binds = new Counter({
    name: 'sysctl_extender_binds_total',
    help: 'Bind calls by outcome (bound, refused).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  constructor(index: () => ClusterIndex) {
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

  observeRequest(verb: string, code: number, seconds: number): void {
    this.requestDuration.observe({ verb, code: String(code) }, seconds);
  }

  countBind(outcome: 'bound' | 'refused'): void {
    this.binds.inc({ outcome });
  }

  countRejections(outcome: FilterOutcome<unknown>): void {
    const counts = new Map<string, number>();
    for (const rejected of [outcome.failed, outcome.unresolvable]) {
      for (const { rejection } of rejected) counts.set(rejection.code, (counts.get(rejection.code) ?? 0) + 1);
    }
    for (const [reason, count] of counts) this.rejections.inc({ reason }, count);
  }
}
