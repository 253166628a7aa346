import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { KubePod } from '../sysctl-index/kube-objects.js';
import type { PodProjection } from '../sysctl-index/pod-projection.js';
import { FilterContext, type RuleMode } from './filter-node.js';
import { podRequirements, requirementsOfProjection, type PodRequirements } from './pod-requirements.js';

/** What the rules read of one policy generation: its index and two settings of its policy. */
export interface RuleInputs {
  readonly index: ClusterIndex;
  readonly policy: { readonly ruleMode: RuleMode; readonly trustUndeclaredAllowList: boolean };
}

/** The context for a pod from a request body (filter, prioritize, preempt, explain). */
export function filterContextFor(pod: KubePod, generation: RuleInputs): FilterContext {
  return contextOf(podRequirements(pod, generation.index, generation.policy.trustUndeclaredAllowList), generation);
}

/** The context for a pod as the index keeps it (bind has no Pod body). */
export function filterContextForIndexed(pod: PodProjection, generation: RuleInputs): FilterContext {
  return contextOf(requirementsOfProjection(pod, generation.index, generation.policy.trustUndeclaredAllowList), generation);
}

function contextOf(requirements: PodRequirements, generation: RuleInputs): FilterContext {
  return new FilterContext(requirements, generation.policy.ruleMode, generation.index.profiles);
}
