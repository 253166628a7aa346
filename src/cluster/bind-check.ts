import { filterContextForIndexed, type RuleInputs } from '../filter/filter-context.js';
import { filterNode } from '../filter/filter-node.js';
import type { PodProjection } from '../sysctl-index/pod-projection.js';

/** What bind may do with a pod on a node, decided from the index alone. */
export type BindCheck =
  | { readonly verdict: 'place' }
  /** kube-scheduler retried a bind that already happened: nothing to write, nothing to refuse. */
  | { readonly verdict: 'already-placed' }
  /** `reason` is the text kube-scheduler shows. */
  | { readonly verdict: 'refused'; readonly reason: string };

/**
 * The rule re-check of one pod on one node, against the index as it is now (watched pods plus
 * the placements assumed so far). Pure: no I/O, no state of its own.
 */
export function checkBind(pod: PodProjection, node: string, generation: RuleInputs): BindCheck {
  if (pod.nodeName !== undefined) {
    if (pod.nodeName === node && !pod.assumed) return { verdict: 'already-placed' };
    return { verdict: 'refused', reason: `pod is already ${pod.assumed ? 'being bound' : 'bound'} to another node` };
  }
  const rejection = filterNode(filterContextForIndexed(pod, generation), generation.index.viewOf(node));
  return rejection ? { verdict: 'refused', reason: `binding refused: ${rejection.reason}` } : { verdict: 'place' };
}
