import type { Policy } from '../config/policy.js';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { KubePod } from '../sysctl-index/kube-objects.js';
import type { PodProjection } from '../sysctl-index/pod-projection.js';
import { AssumedPlacements } from './assumed-placements.js';
import { checkBind } from './bind-check.js';
import type { BindingTarget } from './binding-target.js';
import { RecentPods } from './recent-pods.js';

export interface BindRequest {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node: string;
}

/** How a bind ended; `outcome` is the label of `sysctl_extender_binds_total`. */
export type BindResult =
  | { readonly outcome: 'bound' }
  /** The rules or the pod's state forbid the placement; nothing was written. `reason` is what kube-scheduler shows. */
  | { readonly outcome: 'refused'; readonly reason: string }
  /** The API server did not take the Binding; `status` is its HTTP status, if it answered. */
  | { readonly outcome: 'api_failed'; readonly status: number | undefined; readonly detail: string };

/** The `Error` of the answer to kube-scheduler (ExtenderBindingResult in types.go): empty when bound. */
export function bindErrorText(result: BindResult): string {
  switch (result.outcome) {
    case 'bound':
      return '';
    case 'refused':
      return result.reason;
    case 'api_failed':
      return `binding through the API failed: ${result.detail}`;
  }
}

export interface BinderOptions {
  readonly index: () => ClusterIndex;
  /** The policy in force: its rule mode, its annotation key, and how long an unconfirmed assumption holds. */
  readonly policy: () => Policy;
  readonly target: BindingTarget;
  /** Clock of the assumptions' TTL; injected in tests. */
  readonly now?: () => number;
}

/**
 * The bind verb: kube-scheduler filters pod k+1 before the watch has shown pod k on its node,
 * so bind re-checks the rules (checkBind) against the index plus every placement assumed so
 * far, assumes the new one (so the next filter sees it), and only then writes the Binding.
 * JavaScript runs the check and the assumption without interleaving, so two binds cannot both
 * pass against the same idle node.
 */
export class Binder {
  private readonly assumptions: AssumedPlacements;
  private readonly recentPods = new RecentPods();

  constructor(private readonly options: BinderOptions) {
    this.assumptions = new AssumedPlacements({ index: options.index, now: options.now });
  }

  /** Remembers a pod from a filter or prioritize body, for a bind that outruns the watch. */
  rememberPod(pod: KubePod): void {
    this.recentPods.remember(pod, this.options.policy().keys.sysctlsAnnotation);
  }

  /** Never rejects. */
  async bind(request: BindRequest): Promise<BindResult> {
    const index = this.options.index();
    const policy = this.options.policy();
    const pod = this.podOf(request, index);
    if (typeof pod === 'string') return { outcome: 'refused', reason: pod };
    const check = checkBind(pod, request.node, { index, policy });
    if (check.verdict === 'already-placed') return { outcome: 'bound' };
    if (check.verdict === 'refused') return { outcome: 'refused', reason: check.reason };

    this.assumptions.assume(index, pod, request.node, policy.assumedPlacementTtlSeconds * 1000);
    try {
      await this.options.target.bind(request, request.node);
      return { outcome: 'bound' };
    } catch (err) {
      // The index in service now: a policy reload may have swapped it during the call.
      this.assumptions.undo(this.options.index(), pod, request.node);
      return { outcome: 'api_failed', status: statusOf(err), detail: describeApiError(err) };
    }
  }

  /** After the index was rebuilt (new policy keys): assume again what is still unconfirmed. */
  carryAssumptionsTo(index: ClusterIndex): void {
    this.assumptions.carryTo(index);
  }

  /** The pod to bind: the watched one, or one seen in a filter body the watch has not shown yet. */
  private podOf(request: BindRequest, index: ClusterIndex): PodProjection | string {
    const indexed = index.pod(request.namespace, request.name);
    if (indexed && (indexed.uid === undefined || request.uid === '' || indexed.uid === request.uid)) return indexed;
    const recent = this.recentPods.get(request.uid, request.namespace, request.name);
    const projected = recent ? index.projectPod(recent) : undefined;
    if (projected) return { ...projected, nodeName: undefined };
    if (indexed) return 'pod UID does not match the pod the extender knows';
    return 'pod is unknown to the extender';
  }
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A short, secret-free description of a client-node error (its body is the API's Status). */
export function describeApiError(err: unknown): string {
  const e = err as { code?: unknown; body?: unknown; message?: unknown };
  if (typeof e?.code === 'number') {
    let message: string | undefined;
    try {
      const status = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message?: unknown } | undefined;
      if (typeof status?.message === 'string') message = status.message;
    } catch {
      // not a Status body
    }
    return `HTTP ${e.code}${message ? `: ${message}` : ''}`;
  }
  return typeof e?.message === 'string' ? e.message : String(err);
}
