import type { NodeView } from '../sysctl-index/cluster-index.js';
import { filterNode, type FilterContext } from './filter-node.js';
import type { Rejection } from './reasons.js';

export interface FilterOutcome<N> {
  readonly passed: N[];
  /** Rejected where running pods cause it: kube-scheduler may preempt them. */
  readonly failed: Map<string, Rejection>;
  /** Rejected where evicting pods cannot help. */
  readonly unresolvable: Map<string, Rejection>;
}

/**
 * Applies the rules to each candidate, keeping the caller's items (names or Node objects) for
 * the nodes that pass. `view` maps a candidate to the index's view of it.
 */
export function filterNodes<N>(
  ctx: FilterContext,
  candidates: readonly N[],
  view: (candidate: N) => NodeView,
): FilterOutcome<N> {
  const outcome: FilterOutcome<N> = { passed: [], failed: new Map(), unresolvable: new Map() };
  for (const candidate of candidates) {
    const node = view(candidate);
    const rejection = filterNode(ctx, node);
    if (!rejection) outcome.passed.push(candidate);
    else (rejection.unresolvable ? outcome.unresolvable : outcome.failed).set(node.name, rejection);
  }
  return outcome;
}
