import { CoreV1Api, type KubeConfig, type V1Binding } from '@kubernetes/client-node';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import { KubeHttp } from './kube-http.js';

/** Where a binding is finally written. */
export interface BindingTarget {
  bind(pod: { namespace: string; name: string; uid: string }, nodeName: string): Promise<void>;
}

/**
 * Creates the Binding through the API, as kube-scheduler's DefaultBinder would: with a bind
 * verb configured, kube-scheduler leaves that to the extender. The UID makes the API server
 * refuse to bind a pod that was deleted and recreated under the same name.
 *
 * The POST goes through KubeHttp's kept connections: through client-node 1.4 each bind paid
 * for a new TLS connection (49 ms a bind under the real kube-scheduler). Only a cluster behind
 * a proxy, which KubeHttp does not speak, still goes through client-node.
 */
export class ApiBindingTarget implements BindingTarget {
  private readonly post: (path: string, body: V1Binding) => Promise<unknown>;

  constructor(kubeConfig: KubeConfig) {
    if (KubeHttp.supports(kubeConfig)) {
      const client = new KubeHttp(kubeConfig);
      this.post = (path, body) => client.request('POST', path, body);
    } else {
      const api = kubeConfig.makeApiClient(CoreV1Api);
      this.post = (_path, body) => {
        return api.createNamespacedPodBinding({ name: body.metadata!.name!, namespace: body.metadata!.namespace!, body });
      };
    }
  }

  async bind(pod: { namespace: string; name: string; uid: string }, nodeName: string): Promise<void> {
    const path = `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/binding`;
    await this.post(path, {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
      target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
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
