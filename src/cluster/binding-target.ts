import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';

/** Where a binding is finally written. */
export interface BindingTarget {
  bind(pod: { namespace: string; name: string; uid: string }, nodeName: string): Promise<void>;
}

/**
 * Creates the Binding through the API, as kube-scheduler's DefaultBinder would: with a bind
 * verb configured, kube-scheduler leaves that to the extender. The UID makes the API server
 * refuse to bind a pod that was deleted and recreated under the same name.
 */
export class ApiBindingTarget implements BindingTarget {
  private readonly api: CoreV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  async bind(pod: { namespace: string; name: string; uid: string }, nodeName: string): Promise<void> {
    await this.api.createNamespacedPodBinding({
      name: pod.name,
      namespace: pod.namespace,
      body: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      },
    });
  }
}

/**
 * Without a cluster (snapshot, demo) a binding is written into the index itself, so that a
 * sequence of filter and bind calls shows its effect.
 */
export class IndexBindingTarget implements BindingTarget {
  constructor(private readonly index: () => ClusterIndex) {}

  async bind(pod: { namespace: string; name: string }, nodeName: string): Promise<void> {
    const index = this.index();
    const current = index.pod(pod.namespace, pod.name);
    if (current) index.confirmAssumedPod(pod.namespace, pod.name, nodeName);
  }
}
