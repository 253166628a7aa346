import { KubeConfig } from '@kubernetes/client-node';

/**
 * The cluster to watch, if any: `--kubeconfig FILE`, else `$KUBECONFIG`, else the in-cluster
 * service account. Undefined means no cluster (demo mode).
 */
export function loadKubeConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeConfig | undefined {
  const config = new KubeConfig();
  if (file) config.loadFromFile(file);
  else if (env.KUBECONFIG) config.loadFromDefault();
  else if (env.KUBERNETES_SERVICE_HOST) config.loadFromCluster();
  else return undefined;
  if (!config.getCurrentCluster()) throw new Error('the kubeconfig names no current cluster');
  return config;
}
