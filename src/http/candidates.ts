import { LRUCache } from 'lru-cache';
import type { ClusterIndex, NodeView } from '../sysctl-index/cluster-index.js';
import type { KubeNode } from '../sysctl-index/kube-objects.js';
import type { NodeProjection } from '../sysctl-index/node-projection.js';

/**
 * Maps the candidates of a request to the index's view of them. With `NodeNames` the index is
 * the whole truth; with full `Nodes` the request's labels and annotations count (they are what
 * kube-scheduler sees), combined with the pods the index knows on each node.
 */
export class CandidateResolver {
  /** Projections of request Node objects by name and resourceVersion: parse annotations once. */
  private readonly projections = new LRUCache<string, NodeProjection>({ max: 20_000 });

  constructor(private readonly index: ClusterIndex) {}

  byName = (name: string): NodeView => this.index.node(name) ?? unknownNode(name);

  byObject = (node: KubeNode): NodeView => {
    const name = node.metadata?.name ?? '';
    const rv = node.metadata?.resourceVersion;
    const indexed = this.index.node(name);
    if (rv !== undefined && indexed?.projection?.resourceVersion === rv) return indexed;
    const cacheKey = rv === undefined ? undefined : `${name}\u0000${rv}`;
    let projection = cacheKey === undefined ? undefined : this.projections.get(cacheKey);
    if (!projection) {
      projection = this.index.projectNode(node);
      if (!projection) return unknownNode(name);
      if (cacheKey !== undefined) this.projections.set(cacheKey, projection);
    }
    return this.index.viewWithProjection(projection);
  };
}

function unknownNode(name: string): NodeView {
  return { name, projection: undefined, occupants: 0, profileId: 0 };
}
