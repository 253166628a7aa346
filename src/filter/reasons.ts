/**
 * Why a node cannot take a pod. kube-scheduler copies the reason text verbatim into the pod's
 * events and counts identical texts (`0/40 nodes are available: 25 node(s) are dedicated to
 * another team, ...`), so node reasons are fixed sentences with no node name or value in them.
 *
 * `unresolvable` decides between `FailedAndUnresolvableNodes` (evicting pods cannot help:
 * ownership, what the node declares) and `FailedNodes` (the conflict comes from running pods,
 * so preemption may help).
 */
export interface Rejection {
  /** Stable identifier, used as a metric label. */
  readonly code: string;
  readonly reason: string;
  readonly unresolvable: boolean;
}

function rejection(code: string, reason: string, unresolvable: boolean): Rejection {
  return Object.freeze({ code, reason, unresolvable });
}

export const REJECT = {
  unknownNode: rejection('unknown_node', 'node is not in the extender index yet', true),
  otherTeam: rejection('other_team', 'node is dedicated to another team', true),
  namespaceHasNoTeam: rejection('namespace_without_team', "node is dedicated; namespace has no team", true),
  nodeAnnotationInvalid: rejection('node_annotation_invalid', 'node sysctl annotations cannot be parsed', true),
  allowListInvalid: rejection('allow_list_invalid', 'node allow-list has a pattern kubelet refuses', true),
  unsafeNotAllowed: rejection('unsafe_not_allowed', "node kubelet forbids the pod's unsafe sysctls", true),
  safeNotOnKubelet: rejection('safe_not_on_kubelet', "node kubelet does not count the pod's sysctls as safe", true),
  kernelNotNamespaced: rejection('kernel_not_namespaced', 'node kernel is too old for these sysctls', true),
  declaredMismatch: rejection('declared_mismatch', "node sets other node-level sysctls", true),
  declaredConflict: rejection('declared_conflict', "node declares sysctls conflicting with the pod's", true),
  nodeLevelMissing: rejection('node_level_missing', 'node lacks the required node-level sysctls', true),
  /**
   * A node without the allow-list annotation, under the default policy: its kubelet is taken
   * to run without `--allowed-unsafe-sysctls` (explain names the annotation).
   */
  allowListUndeclared: rejection('allow_list_undeclared', 'node has no unsafe-sysctl allow-list', true),
  busyOtherProfile: rejection('busy_other_profile', 'node runs another sysctl profile', false),
  podsConflict: rejection('pods_conflict', "node runs pods whose sysctls conflict with the pod's", false),
} as const;

/** A pod that no kubelet would run as written fails on every node with the same, specific text. */
export function podProblem(reason: string): Rejection {
  return rejection('pod_invalid', reason, true);
}
