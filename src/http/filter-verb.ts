import type { Policy } from '../config/policy.js';
import { FilterContext } from '../filter/filter-node.js';
import { filterNodes, type FilterOutcome } from '../filter/filter-nodes.js';
import { podRequirements } from '../filter/pod-requirements.js';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import { viewsOfObjects, type CandidateResolver } from './candidates.js';
import { encodeFilterResult, type JsonText } from './encode.js';
import type { ExtenderArgs } from './wire-types.js';

export interface VerbDeps {
  readonly index: ClusterIndex;
  readonly resolver: CandidateResolver;
  readonly policy: Policy;
}

export function filterContext(args: { Pod: ExtenderArgs['Pod'] }, deps: VerbDeps): FilterContext {
  return new FilterContext(podRequirements(args.Pod, deps.index), deps.policy.policy, deps.index.profiles);
}

/** The filter verb: answers in the mode it was asked in (`NodeNames` or `Nodes`). */
export function runFilter(args: ExtenderArgs, deps: VerbDeps): { answer: JsonText; outcome: FilterOutcome<unknown> } {
  const ctx = filterContext(args, deps);
  if (args.NodeNames) {
    const outcome = filterNodes(ctx, args.NodeNames, deps.resolver.byNames(args.NodeNames));
    return { outcome, answer: encodeFilterResult(outcome, { NodeNames: outcome.passed }) };
  }
  const items = args.Nodes?.items ?? [];
  const outcome = filterNodes(ctx, items, viewsOfObjects(deps.resolver, items));
  return { outcome, answer: encodeFilterResult(outcome, { Nodes: outcome.passed }) };
}
