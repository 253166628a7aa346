import type { NodeView } from '../sysctl-index/cluster-index.js';
import { filterNode, type FilterContext } from './filter-node.js';
import type { Rejection } from './reasons.js';

export interface Rejected {
  readonly node: NodeView;
  readonly rejection: Rejection;
}

export interface FilterOutcome<N> {
  readonly passed: N[];
  /** Rejected where running pods cause it: kube-scheduler may preempt them. */
  readonly failed: Rejected[];
  /** Rejected where evicting pods cannot help. */
  readonly unresolvable: Rejected[];
}

/**
 * Applies the rules to each candidate, keeping the caller's items (names or Node objects) for
 * the nodes that pass. `views[i]` is the index's view of `candidates[i]`.
 */
export function filterNodes<N>(ctx: FilterContext, candidates: readonly N[], views: readonly NodeView[]): FilterOutcome<N> {
  const outcome: FilterOutcome<N> = { passed: [], failed: [], unresolvable: [] };
  for (let i = 0; i < candidates.length; i += 1) {
    const node = views[i]!;
    const rejection = filterNode(ctx, node);
    if (!rejection) outcome.passed.push(candidates[i]!);
    else (rejection.unresolvable ? outcome.unresolvable : outcome.failed).push({ node, rejection });
  }
  return outcome;
}
