import type { Policy } from '../config/policy.js';
import { FilterContext } from '../filter/filter-node.js';
import { filterNodes, type FilterOutcome } from '../filter/filter-nodes.js';
import { podRequirements } from '../filter/pod-requirements.js';
import type { Rejection } from '../filter/reasons.js';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { CandidateResolver } from './candidates.js';
import { nameMap, type ExtenderArgs, type ExtenderFilterResult } from './wire-types.js';

export interface VerbDeps {
  readonly index: ClusterIndex;
  readonly resolver: CandidateResolver;
  readonly policy: Policy;
}

export function filterContext(args: ExtenderArgs, deps: VerbDeps): FilterContext {
  return new FilterContext(podRequirements(args.Pod, deps.index), deps.policy.policy, deps.index.profiles);
}

/** The filter verb: answers in the mode it was asked in (`NodeNames` or `Nodes`). */
export function runFilter(
  args: ExtenderArgs,
  deps: VerbDeps,
): { result: ExtenderFilterResult; outcome: FilterOutcome<unknown> } {
  const ctx = filterContext(args, deps);
  if (args.NodeNames) {
    const outcome = filterNodes(ctx, args.NodeNames, deps.resolver.byName);
    return { outcome, result: filterResult(outcome, { NodeNames: outcome.passed, Nodes: null }) };
  }
  const outcome = filterNodes(ctx, args.Nodes?.items ?? [], deps.resolver.byObject);
  return { outcome, result: filterResult(outcome, { NodeNames: null, Nodes: { metadata: {}, items: outcome.passed } }) };
}

function filterResult(
  outcome: FilterOutcome<unknown>,
  passing: Pick<ExtenderFilterResult, 'Nodes' | 'NodeNames'>,
): ExtenderFilterResult {
  return {
    ...passing,
    FailedNodes: reasons(outcome.failed),
    FailedAndUnresolvableNodes: reasons(outcome.unresolvable),
    Error: '',
  };
}

function reasons(byNode: Map<string, Rejection>): Record<string, string> {
  const out = nameMap<string>();
  for (const [node, rejection] of byNode) out[node] = rejection.reason;
  return out;
}
