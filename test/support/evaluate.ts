import { DEFAULT_POLICY, parsePolicy, type Policy } from '../../src/config/policy.js';
import { filterContextFor } from '../../src/filter/filter-context.js';
import { filterNode } from '../../src/filter/filter-node.js';
import type { Rejection } from '../../src/filter/reasons.js';
import { scoreNode } from '../../src/prioritize/score-node.js';
import { ClusterIndex } from '../../src/sysctl-index/cluster-index.js';
import type { KubeDaemonSet, KubeNamespace, KubeNode, KubePod } from '../../src/sysctl-index/kube-objects.js';

type Item = (KubeNamespace | KubeNode | KubePod | KubeDaemonSet) & { kind: string };

/** The policy each index of indexOf was built with: the rules read it beside the index. */
const policies = new WeakMap<ClusterIndex, Policy>();

/** An index holding exactly these objects. */
export function indexOf(items: Item[], policy: Policy = DEFAULT_POLICY): ClusterIndex {
  const index = new ClusterIndex(policy);
  policies.set(index, policy);
  for (const item of items) {
    if (item.kind === 'Namespace') index.upsertNamespace(item);
    else if (item.kind === 'Node') index.upsertNode(item);
    else if (item.kind === 'DaemonSet') index.upsertDaemonSet(item);
    else index.upsertPod(item as KubePod);
  }
  return index;
}

export function policyOf(overrides: object): Policy {
  return parsePolicy(overrides);
}

/** The filter verdict for one pod on one node of the index: undefined means it passes. */
export function verdict(index: ClusterIndex, pod: KubePod, nodeName: string, policy = policies.get(index) ?? DEFAULT_POLICY): Rejection | undefined {
  const ctx = filterContextFor(pod, { index, policy });
  const view = index.viewOf(nodeName);
  return filterNode(ctx, view);
}

export function passingNodes(index: ClusterIndex, pod: KubePod): string[] {
  return [...index.knownNodes()].filter((n) => verdict(index, pod, n.name) === undefined).map((n) => n.name);
}

export function score(index: ClusterIndex, pod: KubePod, nodeName: string, policy = policies.get(index) ?? DEFAULT_POLICY): number {
  const ctx = filterContextFor(pod, { index, policy });
  return scoreNode(ctx, index.node(nodeName)!, policy.weights).score;
}
