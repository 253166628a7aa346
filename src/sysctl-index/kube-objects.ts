/**
 * The few fields of Kubernetes objects this project reads. Objects arrive from JSON (request
 * bodies, snapshots) or from @kubernetes/client-node (watches); both have these shapes, and
 * everything is optional because input is untrusted.
 */

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  ownerReferences?: Array<{ apiVersion?: string; kind?: string; name?: string; uid?: string; controller?: boolean | null }> | null;
}

export interface KubeNode {
  kind?: string;
  metadata?: ObjectMeta | null;
  status?: KubeStatus | null;
}

/**
 * The status fields read, of Nodes and Pods alike: one shape, so that a List's mixed items
 * (snapshot.ts) pass as either kind. A Node's `nodeInfo` is what its kubelet reports of itself:
 * its release and its kernel decide which sysctls are safe there.
 */
export interface KubeStatus {
  phase?: string | null;
  nodeInfo?: { kubeletVersion?: string | null; kernelVersion?: string | null } | null;
}

/** Only its identity matters: it proves the pods that name it as their controller. */
export interface KubeDaemonSet {
  kind?: string;
  metadata?: ObjectMeta | null;
}

export interface KubeNamespace {
  kind?: string;
  metadata?: ObjectMeta | null;
}

export interface KubePod {
  kind?: string;
  metadata?: ObjectMeta | null;
  spec?: {
    nodeName?: string | null;
    hostNetwork?: boolean | null;
    hostIPC?: boolean | null;
    securityContext?: { sysctls?: Array<{ name?: string; value?: string }> | null } | null;
  } | null;
  status?: KubeStatus | null;
}
