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
  ownerReferences?: Array<{ kind?: string; controller?: boolean | null }> | null;
}

export interface KubeNode {
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
  status?: { phase?: string | null } | null;
}
