import { LRUCache } from 'lru-cache';
import type { KubePod } from '../sysctl-index/kube-objects.js';

/**
 * Pods seen in filter and prioritize bodies, by UID: kube-scheduler may bind a pod the watch
 * has not shown yet. Only the fields the rules read are kept, not the whole Pod the body
 * carried (kilobytes each).
 */
export class RecentPods {
  private readonly pods = new LRUCache<string, KubePod>({ max: 10_000, ttl: 5 * 60_000 });

  /** `sysctlsAnnotation`: the policy's annotation key, the only annotation the rules read. */
  remember(pod: KubePod, sysctlsAnnotation: string): void {
    const uid = pod.metadata?.uid;
    if (typeof uid !== 'string' || uid === '' || this.pods.has(uid)) return;
    const annotation = pod.metadata?.annotations?.[sysctlsAnnotation];
    // Bounded by bytes too, not only by count: a real pod's UID is 36 characters and its
    // sysctls a few short lines. A pod beyond these is not remembered; its bind needs the watch.
    const sysctls = pod.spec?.securityContext?.sysctls ?? [];
    if (uid.length > 64 || (annotation?.length ?? 0) > 4096 || sysctls.length > 64) return;
    if (sysctls.some((s) => (s?.name?.length ?? 0) + (s?.value?.length ?? 0) > 512)) return;
    this.pods.set(uid, {
      metadata: {
        name: pod.metadata?.name,
        namespace: pod.metadata?.namespace,
        uid,
        annotations: annotation === undefined ? {} : { [sysctlsAnnotation]: annotation },
        ownerReferences: pod.metadata?.ownerReferences?.map((ref) => ({ kind: ref?.kind, controller: ref?.controller })),
      },
      spec: {
        hostNetwork: pod.spec?.hostNetwork,
        hostIPC: pod.spec?.hostIPC,
        securityContext: { sysctls: pod.spec?.securityContext?.sysctls?.map((s) => ({ name: s?.name, value: s?.value })) },
      },
      status: { phase: pod.status?.phase },
    });
  }

  /** The pod of this UID, if it was seen under this namespace and name. */
  get(uid: string, namespace: string, name: string): KubePod | undefined {
    const pod = this.pods.get(uid);
    return pod && pod.metadata?.namespace === namespace && pod.metadata.name === name ? pod : undefined;
  }
}
