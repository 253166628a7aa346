import { LRUCache } from 'lru-cache';
import { FilterContext, filterNode } from '../filter/filter-node.js';
import { requirementsOfProjection } from '../filter/pod-requirements.js';
import type { Policy } from '../config/policy.js';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { KubePod } from '../sysctl-index/kube-objects.js';
import type { PodProjection } from '../sysctl-index/pod-projection.js';
import type { BindingTarget } from './binding-target.js';

export interface BindRequest {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node: string;
}

export interface BinderOptions {
  readonly index: () => ClusterIndex;
  /** The policy in force: its rule set, and how long an unconfirmed assumption holds. */
  readonly policy: () => Policy;
  readonly target: BindingTarget;
}

/**
 * The bind verb's logic. kube-scheduler filters pod k+1 before the watch has shown pod k on
 * its node; bind therefore re-checks the rules against the index plus every placement assumed
 * so far, assumes the new one (so the next filter sees it), and only then writes the Binding.
 * JavaScript runs the check and the assumption without interleaving, so two binds cannot both
 * pass against the same idle node.
 */
export class Binder {
  /** Placements assumed and not yet confirmed, expiring after the TTL. */
  private readonly assumed: LRUCache<string, { namespace: string; name: string; node: string }>;
  /** Pods seen in filter/prioritize bodies, by UID: the watch may not have shown them yet. */
  private readonly recentPods = new LRUCache<string, KubePod>({ max: 10_000, ttl: 5 * 60_000 });

  constructor(private readonly options: BinderOptions) {
    this.assumed = new LRUCache({
      max: 100_000,
      ttl: options.policy().assumedPlacementTtlSeconds * 1000,
      ttlAutopurge: true,
      dispose: (placement, _key, reason) => {
        if (reason === 'expire' || reason === 'evict') {
          options.index().forgetAssumedPod(placement.namespace, placement.name, placement.node);
        }
      },
    });
  }

  /**
   * Remembers a pod from a filter or prioritize body, for a bind that outruns the watch: only
   * the fields the rules read, not the whole Pod the body carried (kilobytes each).
   */
  rememberPod(pod: KubePod): void {
    const uid = pod.metadata?.uid;
    if (typeof uid !== 'string' || uid === '' || this.recentPods.has(uid)) return;
    const sysctlsAnnotation = pod.metadata?.annotations?.[this.options.policy().keys.sysctlsAnnotation];
    // Bounded by bytes too, not only by count: a real pod's UID is 36 characters and its
    // sysctls a few short lines. A pod beyond these is not remembered; its bind needs the watch.
    const sysctls = pod.spec?.securityContext?.sysctls ?? [];
    if (uid.length > 64 || (sysctlsAnnotation?.length ?? 0) > 4096 || sysctls.length > 64) return;
    if (sysctls.some((s) => (s?.name?.length ?? 0) + (s?.value?.length ?? 0) > 512)) return;
    this.recentPods.set(uid, {
      metadata: {
        name: pod.metadata?.name,
        namespace: pod.metadata?.namespace,
        uid,
        annotations: sysctlsAnnotation === undefined ? {} : { [this.options.policy().keys.sysctlsAnnotation]: sysctlsAnnotation },
        ownerReferences: pod.metadata?.ownerReferences?.map((ref) => ({ kind: ref?.kind, controller: ref?.controller })),
      },
      spec: {
        hostNetwork: pod.spec?.hostNetwork,
        hostIPC: pod.spec?.hostIPC,
        securityContext: { sysctls: pod.spec?.securityContext?.sysctls?.map((s) => ({ name: s?.name, value: s?.value })) },
      },
      status: { phase: pod.status?.phase },
    });
  }

  get assumedCount(): number {
    this.assumed.purgeStale();
    return this.assumed.size;
  }

  /** Resolves to '' on success or the error text kube-scheduler shows; never rejects. */
  async bind(request: BindRequest): Promise<string> {
    const index = this.options.index();
    const pod = this.podOf(request, index);
    if (typeof pod === 'string') return pod;
    if (pod.nodeName !== undefined) {
      if (pod.nodeName === request.node && !pod.assumed) return '';
      return `pod is already ${pod.assumed ? 'being bound' : 'bound'} to another node`;
    }
    const policy = this.options.policy();
    const rejection = filterNode(new FilterContext(requirementsOfProjection(pod, index), policy.policy, index.profiles), index.viewOf(request.node));
    if (rejection) return `binding refused: ${rejection.reason}`;

    const key = `${request.namespace}/${request.name}`;
    index.assumePod(pod, request.node);
    this.assumed.set(key, { namespace: request.namespace, name: request.name, node: request.node }, { ttl: policy.assumedPlacementTtlSeconds * 1000 });
    try {
      await this.options.target.bind(request, request.node);
      return '';
    } catch (err) {
      // Leave nothing behind: the next filter must not count a placement that never happened.
      this.assumed.delete(key);
      this.options.index().forgetAssumedPod(request.namespace, request.name, request.node);
      return `binding through the API failed: ${describeApiError(err)}`;
    }
  }

  /** After the index was rebuilt (new policy keys): assume again what is still unconfirmed. */
  carryAssumptionsTo(index: ClusterIndex): void {
    for (const placement of this.assumed.values()) {
      const pod = index.pod(placement.namespace, placement.name);
      if (pod && pod.nodeName === undefined) index.assumePod(pod, placement.node);
    }
  }

  private podOf(request: BindRequest, index: ClusterIndex): PodProjection | string {
    const indexed = index.pod(request.namespace, request.name);
    if (indexed && (indexed.uid === undefined || request.uid === '' || indexed.uid === request.uid)) return indexed;
    const recent = this.recentPods.get(request.uid);
    const projected = recent && recent.metadata?.namespace === request.namespace && recent.metadata.name === request.name ? index.projectPod(recent) : undefined;
    if (projected) return { ...projected, nodeName: undefined };
    if (indexed) return 'pod UID does not match the pod the extender knows';
    return 'pod is unknown to the extender';
  }
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
