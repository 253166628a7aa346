import type { Policy } from '../config/policy.js';
import { FilterContext } from '../filter/filter-node.js';
import { filterNodes, passing, type Verdicts } from '../filter/filter-nodes.js';
import { podRequirements } from '../filter/pod-requirements.js';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import { viewsOfObjects, type CandidateResolver } from './candidates.js';
import { encodeFilterResult } from './encode.js';
import type { WrittenJson } from './json-writer.js';
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
export function runFilter(args: ExtenderArgs, deps: VerbDeps): { answer: WrittenJson; verdicts: Verdicts } {
  const ctx = filterContext(args, deps);
  if (args.NodeNames) {
    const views = deps.resolver.byNames(args.NodeNames);
    const verdicts = filterNodes(ctx, views);
    return { verdicts, answer: encodeFilterResult(views, verdicts) };
  }
  const items = args.Nodes?.items ?? [];
  const views = viewsOfObjects(deps.resolver, items);
  const verdicts = filterNodes(ctx, views);
  return { verdicts, answer: encodeFilterResult(views, verdicts, passing(items, verdicts)) };
}
