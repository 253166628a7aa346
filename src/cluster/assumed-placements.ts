import { LRUCache } from 'lru-cache';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { PodProjection } from '../sysctl-index/pod-projection.js';

interface Placement {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
}

export interface AssumedPlacementsOptions {
  /** The index in service: an expired assumption is undone in it. */
  readonly index: () => ClusterIndex;
  /** Clock of the TTL (milliseconds); injected in tests so that expiry needs no sleeping. */
  readonly now?: () => number;
}

/**
 * Placements bind assumed and the watch has not confirmed yet. Each is counted in the index at
 * once (the next filter must see it) and undone when its TTL passes unconfirmed: a Binding the
 * API server accepted but never showed, or a bind whose answer was lost.
 */
export class AssumedPlacements {
  private readonly placements: LRUCache<string, Placement>;

  constructor(options: AssumedPlacementsOptions) {
    this.placements = new LRUCache({
      max: 100_000,
      // Every entry gets its own TTL in assume(); this default only enables the TTL machinery.
      ttl: 60_000,
      ttlAutopurge: true,
      // An injected clock is read as is: lru-cache otherwise caches its reading for 1 ms.
      ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
      dispose: (placement, _key, reason) => {
        if (reason === 'expire' || reason === 'evict') options.index().forgetAssumedPod(placement.namespace, placement.name, placement.node);
      },
    });
  }

  /** Counts `pod` on `node` in `index` until confirmed, undone, or `ttlMs` has passed. */
  assume(index: ClusterIndex, pod: PodProjection, node: string, ttlMs: number): void {
    index.assumePod(pod, node);
    this.placements.set(keyOf(pod), { namespace: pod.namespace, name: pod.name, node }, { ttl: ttlMs });
  }

  /** The Binding was not written: the next filter must not count a placement that never happened. */
  undo(index: ClusterIndex, pod: PodProjection, node: string): void {
    this.placements.delete(keyOf(pod));
    index.forgetAssumedPod(pod.namespace, pod.name, node);
  }

  /** Undoes every assumption whose TTL has passed (the timers do it too; tests with a fake clock call this). */
  expire(): void {
    this.placements.purgeStale();
  }

  /** After the index was rebuilt (new policy keys): assume again what is still unconfirmed. */
  carryTo(index: ClusterIndex): void {
    for (const placement of this.placements.values()) {
      const pod = index.pod(placement.namespace, placement.name);
      if (pod && pod.nodeName === undefined) index.assumePod(pod, placement.node);
    }
  }
}

function keyOf(pod: { namespace: string; name: string }): string {
  return `${pod.namespace}/${pod.name}`;
}
