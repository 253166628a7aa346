import type { Logger } from 'pino';
import { Binder } from './cluster/binder.js';
import { IndexBindingTarget, type BindingTarget } from './cluster/binding-target.js';
import type { Policy } from './config/policy.js';
import { createApp, type ExtenderState } from './http/app.js';
import { CandidateResolver } from './http/candidates.js';
import { ExtenderMetrics } from './http/metrics.js';
import { StaticReadiness, type Readiness } from './http/readiness.js';
import { createLogger } from './logging.js';
import { ClusterIndex } from './sysctl-index/cluster-index.js';

export interface Extender {
  readonly index: ClusterIndex;
  readonly app: ReturnType<typeof createApp>;
  readonly metrics: ExtenderMetrics;
  readonly state: ExtenderState;
  readonly binder: Binder;
}

export interface ExtenderOptions {
  readonly policy: Policy;
  readonly logger?: Logger;
  /** Defaults to a StaticReadiness the caller marks loaded (snapshot, demo). */
  readonly readiness?: Readiness;
  /** Where bind writes Bindings; defaults to the index itself (snapshot and demo modes). */
  readonly bindingTarget?: BindingTarget;
}

/** Wires an index, its HTTP app and metrics; feeding the index and listening are the caller's. */
export function createExtender(options: ExtenderOptions): Extender & { readiness: Readiness } {
  const index = new ClusterIndex(options.policy);
  const state: ExtenderState = { index, resolver: new CandidateResolver(index), policy: options.policy };
  const readiness = options.readiness ?? new StaticReadiness();
  const metrics = new ExtenderMetrics(() => state.index);
  const binder = new Binder({
    index: () => state.index,
    target: options.bindingTarget ?? new IndexBindingTarget(() => state.index),
    assumedTtlMs: options.policy.assumedPlacementTtlSeconds * 1000,
  });
  const app = createApp({
    state: () => state,
    readiness,
    metrics,
    binder,
    logger: options.logger ?? createLogger('silent'),
    bodyLimitBytes: options.policy.bodyLimitBytes,
  });
  return { index, app, metrics, state, readiness, binder };
}
