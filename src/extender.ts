import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Binder } from './cluster/binder.js';
import { IndexBindingTarget, type BindingTarget } from './cluster/binding-target.js';
import type { Policy } from './config/policy.js';
import { createApp, createOpsApp } from './http/app.js';
import { generationOf, type Generation } from './http/generation.js';
import { ExtenderMetrics } from './http/metrics.js';
import type { Readiness } from './readiness.js';
import { createLogger } from './logging.js';
import { RefusalLog } from './status/refusal-log.js';
import { statusRoutes } from './status/status-routes.js';
import { ClusterIndex } from './sysctl-index/cluster-index.js';

export interface ExtenderOptions {
  readonly policy: Policy;
  readonly logger?: Logger;
  /** What /readyz and the verbs ask: the index source's, and the policy source's. */
  readonly readiness: Readiness;
  /** Where bind writes Bindings; defaults to the index itself (snapshot and demo modes). */
  readonly bindingTarget?: BindingTarget;
  /** What GET /config shows besides the policy (its source, a rejected reload). */
  readonly configStatus?: () => object;
  /** Where the metrics go; main's, which the watch and the policy reloader register on too. */
  readonly registry?: Registry;
}

/**
 * An index, the HTTP app serving it, metrics and the binder. Feeding the index and listening
 * are the caller's. The policy (and, when the keys change, the index) can be swapped between
 * requests: each request reads the generation once.
 */
export class Extender {
  readonly app: ReturnType<typeof createApp>;
  /** Health, readiness, metrics, config and the status page, for a listener others may reach. */
  readonly opsApp: ReturnType<typeof createOpsApp>;
  readonly metrics: ExtenderMetrics;
  readonly binder: Binder;
  readonly readiness: Readiness;
  /** The last filter calls that refused nodes, for GET /status. */
  readonly refusals = new RefusalLog();
  private current: Generation;

  constructor(options: ExtenderOptions) {
    this.current = generationOf(options.policy, new ClusterIndex(options.policy));
    this.readiness = options.readiness;
    this.metrics = new ExtenderMetrics(() => this.current.index, options.registry);
    this.metrics.trackReadiness(this.readiness);
    this.binder = new Binder({
      index: () => this.current.index,
      policy: () => this.current.policy,
      target: options.bindingTarget ?? new IndexBindingTarget(() => this.current.index),
    });
    const deps = {
      generation: () => this.current,
      readiness: this.readiness,
      metrics: this.metrics,
      binder: this.binder,
      logger: options.logger ?? createLogger('silent'),
      configStatus: options.configStatus,
      refusals: this.refusals,
    };
    this.app = createApp(deps);
    // The status page is for operators: on the operations listener only, never beside the verbs.
    this.opsApp = createOpsApp(deps, statusRoutes(deps));
  }

  get generation(): Generation {
    return this.current;
  }

  get index(): ClusterIndex {
    return this.current.index;
  }

  /** Puts a new policy in force; with a new index (rebuilt for new keys), placements assumed so far carry over. */
  swap(policy: Policy, index: ClusterIndex = this.current.index): void {
    if (index !== this.current.index) this.binder.carryAssumptionsTo(index);
    this.current = generationOf(policy, index, this.current);
  }
}
