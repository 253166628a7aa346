import type { Policy } from '../config/policy.js';
import { filterContextFor } from '../filter/filter-context.js';
import { filterNode, type RuleMode } from '../filter/filter-node.js';
import { scoreNode, type ScoreTerms } from '../prioritize/score-node.js';
import type { ClusterIndex, NodeView } from '../sysctl-index/cluster-index.js';
import type { KubePod } from '../sysctl-index/kube-objects.js';
import { refusedSysctls, runtimeExplanation, type NodeRuntimeExplanation, type RefusedSysctl } from './node-admission.js';

export interface NodeExplanation {
  readonly node: string;
  readonly verdict: 'pass' | 'fail';
  /** Why the node fails; null when it passes. */
  readonly reason: string | null;
  /** Whether evicting pods could make it pass (FailedNodes rather than FailedAndUnresolvableNodes). */
  readonly resolvable: boolean | null;
  readonly score: number;
  /** Each scoring term with its weight; null for a failing node (it scores 0). */
  readonly terms: { readonly [K in keyof ScoreTerms]: { readonly value: number; readonly weight: number } } | null;
  /** The kubelet and kernel the node was judged by; null for a node the index does not know. */
  readonly runtime: NodeRuntimeExplanation | null;
  /** The pod's sysctls this node's kubelet would refuse, each with why. */
  readonly refusedSysctls: RefusedSysctl[];
  /** Why the node's annotations cannot be read, where they cannot. */
  readonly annotationProblem: string | null;
}

export interface Explanation {
  readonly pod: string;
  readonly team: string | null;
  readonly profile: Record<string, string>;
  /** The rule mode, under the policy file's own name for it. */
  readonly policy: RuleMode;
  /** Whether nodes without an allow-list annotation are trusted to admit every unsafe sysctl. */
  readonly trustUndeclaredAllowList: boolean;
  readonly nodes: NodeExplanation[];
}

/**
 * Why a pod would go where it goes: the same filter and scoring kube-scheduler gets, for every
 * node (or the named ones), best first. Read-only: nothing is assumed or bound.
 */
export function explainPod(pod: KubePod, generation: { readonly index: ClusterIndex; readonly policy: Policy }, nodeNames?: readonly string[]): Explanation {
  const { index, policy } = generation;
  const ctx = filterContextFor(pod, generation);
  const requirements = ctx.pod;
  const views: NodeView[] = nodeNames
    ? nodeNames.map((name) => index.viewOf(name))
    : [...index.knownNodes()];
  const nodes = views.map((view): NodeExplanation => {
    const rejection = filterNode(ctx, view);
    const { score, terms } = scoreNode(ctx, view, policy.weights);
    return {
      node: view.name,
      verdict: rejection ? 'fail' : 'pass',
      reason: rejection?.reason ?? null,
      resolvable: rejection ? !rejection.unresolvable : null,
      score,
      terms: terms
        ? {
            profileReuse: { value: terms.profileReuse, weight: policy.weights.profileReuse },
            ownTeam: { value: terms.ownTeam, weight: policy.weights.ownTeam },
          }
        : null,
      runtime: runtimeExplanation(view.projection),
      refusedSysctls: refusedSysctls(requirements, view.projection, index.keys.allowedUnsafeSysctlsAnnotation, policy.trustUndeclaredAllowList),
      annotationProblem: view.projection?.annotationProblem ?? null,
    };
  });
  nodes.sort((a, b) => Number(b.verdict === 'pass') - Number(a.verdict === 'pass') || b.score - a.score || a.node.localeCompare(b.node));
  return {
    pod: `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`,
    team: requirements.team ?? null,
    profile: Object.fromEntries([...requirements.unsafe, ...requirements.nodeLevel].map((e) => [e.name, e.value])),
    policy: policy.ruleMode,
    trustUndeclaredAllowList: policy.trustUndeclaredAllowList,
    nodes,
  };
}
