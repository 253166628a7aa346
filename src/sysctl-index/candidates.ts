import { LRUCache } from 'lru-cache';
import type { ClusterIndex, NodeView } from './cluster-index.js';
import type { KubeNode } from './kube-objects.js';
import type { NodeProjection } from './node-projection.js';

/**
 * What reads a request body's NodeNames array as bytes against the index (http/name-table.ts):
 * `read` takes the body and the offset just after `[`, returns the offset after `]` (or -1 to
 * leave the body to the full parser); `views` then holds the views read.
 */
export interface NameReading {
  readonly read: (body: Buffer, from: number) => number;
  views(): NodeView[];
  /** The names of `views()` as JSON string literals, in the same order (answers are written from them). */
  jsonNames(): Uint8Array[];
  /** Where the last read was a known list rotated (kube-scheduler's usual request): the list, and where the request started in it. */
  rotation(): NameRotation | undefined;
}

/**
 * `names[offset]` was the request's first name, `names[offset - 1]` its last; `views` are their
 * views in the same order. Both keep their identity while the list stays the same.
 */
export interface NameRotation {
  readonly names: readonly Uint8Array[];
  readonly views: readonly NodeView[];
  readonly offset: number;
}

/**
 * Maps the candidates of a request to the index's view of them. With `NodeNames` the index is
 * the whole truth; with full `Nodes` the request's labels and annotations count (they are what
 * kube-scheduler sees), combined with the pods the index knows on each node.
 */
export class CandidateResolver {
  /** Projections of request Node objects by name and resourceVersion: parse annotations once. */
  private readonly projections = new LRUCache<string, NodeProjection>({ max: 20_000 });

  constructor(
    private readonly index: ClusterIndex,
    private readonly names: NameReading,
  ) {}

  /** Reads a body's names array as bytes (http/names-body-scan.ts); `namedViews()` then holds the views, each node once. */
  readonly readNames = (body: Buffer, from: number): number => this.names.read(body, from);

  namedViews(): NodeView[] {
    return this.names.views();
  }

  /** The names of `namedViews()` as JSON string literals, in the same order. */
  namedJsonNames(): Uint8Array[] {
    return this.names.jsonNames();
  }

  namedRotation(): NameRotation | undefined {
    return this.names.rotation();
  }

  byName = (name: string): NodeView => this.index.viewOf(name);

  /**
   * Views for a parsed NodeNames list, each node once. Only bodies the byte reader leaves to
   * the full parser come here (escapes, non-ASCII, other fields: rare), so it keeps no cache;
   * kube-scheduler's rotated lists are the name table's to walk.
   */
  byNames(names: readonly string[]): NodeView[] {
    return onePerName(names.map(this.byName));
  }

  byObject = (node: KubeNode): NodeView => {
    const name = node.metadata?.name ?? '';
    const rv = node.metadata?.resourceVersion;
    const indexed = this.index.node(name);
    if (rv !== undefined && indexed?.projection?.resourceVersion === rv) return indexed;
    const cacheKey = rv === undefined ? undefined : `${name}\u0000${rv}`;
    let projection = cacheKey === undefined ? undefined : this.projections.get(cacheKey);
    if (!projection) {
      projection = this.index.projectNode(node);
      if (!projection) return this.index.viewOf(name);
      if (cacheKey !== undefined) this.projections.set(cacheKey, projection);
    }
    return this.index.viewWithProjection(projection);
  };
}

/** Views for full Node objects (`Nodes` mode). */
export function viewsOfObjects(resolver: CandidateResolver, nodes: readonly KubeNode[]): NodeView[] {
  return nodes.map(resolver.byObject);
}

/**
 * Each node once, the first of a repeated name kept (JSON objects want unique keys: FailedNodes
 * answers each name once); the same array when no name repeats.
 */
export function onePerName<T>(items: T[], nameOf: (item: T) => string | undefined = (item) => (item as { name?: string }).name): T[] {
  const seen = new Set<string | undefined>();
  let unique: T[] | undefined;
  for (let i = 0; i < items.length; i += 1) {
    const name = nameOf(items[i]!);
    if (name !== undefined && seen.has(name)) {
      unique ??= items.slice(0, i);
      continue;
    }
    seen.add(name);
    unique?.push(items[i]!);
  }
  return unique ?? items;
}
