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
  /** The reason as a JSON string literal in UTF-8, encoded once rather than once per rejected node. */
  readonly jsonReason: Uint8Array;
  readonly unresolvable: boolean;
}

function rejection(code: string, reason: string, unresolvable: boolean): Rejection {
  return Object.freeze({ code, reason, jsonReason: Buffer.from(JSON.stringify(reason)), unresolvable });
}

export const REJECT = {
  unknownNode: rejection('unknown_node', 'node is not in the extender index yet', true),
  otherTeam: rejection('other_team', 'node is dedicated to another team', true),
  namespaceHasNoTeam: rejection('namespace_without_team', "node is dedicated to a team and the pod's namespace has none", true),
  nodeAnnotationInvalid: rejection('node_annotation_invalid', 'node sysctl annotations cannot be parsed', true),
  allowListInvalid: rejection('allow_list_invalid', 'node allow-list annotation has a pattern the kubelet refuses, so it cannot be read', true),
  unsafeNotAllowed: rejection('unsafe_not_allowed', "node kubelet does not allow the pod's unsafe sysctls", true),
  safeNotOnKubelet: rejection('safe_not_on_kubelet', "node kubelet does not count the pod's sysctls as safe and its allow-list does not admit them", true),
  kernelNotNamespaced: rejection('kernel_not_namespaced', 'node kernel is too old to namespace a sysctl the pod sets', true),
  declaredMismatch: rejection('declared_mismatch', "node-level sysctls declared on node differ from the pod's", true),
  declaredConflict: rejection('declared_conflict', "node declares sysctl values that conflict with the pod's", true),
  nodeLevelMissing: rejection('node_level_missing', 'node does not declare the node-level sysctls the pod needs', true),
  busyOtherProfile: rejection('busy_other_profile', 'node runs pods with a different sysctl profile', false),
  podsConflict: rejection('pods_conflict', "node runs pods with sysctl values that conflict with the pod's", false),
} as const;

const undeclared = new Map<string, Rejection>();

/**
 * A node without the allow-list annotation, under the default policy: its kubelet is taken to
 * run without `--allowed-unsafe-sysctls`. The text names the annotation (a policy key, the same
 * for every node).
 */
export function allowListUndeclared(annotation: string): Rejection {
  let found = undeclared.get(annotation);
  if (!found) {
    if (undeclared.size >= 16) undeclared.clear();
    found = rejection('allow_list_undeclared', `node declares no ${annotation} annotation, so its kubelet admits only safe sysctls`, true);
    undeclared.set(annotation, found);
  }
  return found;
}

/** A pod that no kubelet would run as written fails on every node with the same, specific text. */
export function podProblem(reason: string): Rejection {
  return rejection('pod_invalid', reason, true);
}
