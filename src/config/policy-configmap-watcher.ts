import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { DelayFn } from '../watch/backoff.js';
import { Reflector, type ListPage } from '../watch/reflector.js';
import { clientNodeWatch } from '../watch/resource-watch.js';
import type { Readiness } from '../readiness.js';
import type { PolicyOffer } from './policy-reloader.js';

/** The ConfigMap data key holding the policy (JSON or YAML). */
export const POLICY_DATA_KEY = 'policy.yaml';

interface ConfigMapLike {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string } | null;
  data?: Record<string, string> | null;
}

/**
 * Watches one ConfigMap (`--config-map NAMESPACE/NAME`) through the API, so a change applies
 * within a second, without the kubelet's minute-long mounted-volume sync. Deleting the
 * ConfigMap, or its key, keeps the policy in force and says so.
 */
export class PolicyConfigMapWatcher implements Readiness {
  private readonly reflector: Reflector<ConfigMapLike>;
  private seen = false;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
    readonly name: string,
    offer: (offer: PolicyOffer) => Promise<void>,
    delay?: DelayFn,
  ) {
    const api = kubeConfig.makeApiClient(CoreV1Api);
    const fieldSelector = `metadata.name=${name}`;
    const offerOf = (cm: ConfigMapLike): PolicyOffer => {
      const text = cm.data?.[POLICY_DATA_KEY];
      return typeof text === 'string' ? { text } : { missing: `ConfigMap ${namespace}/${name} has no key ${POLICY_DATA_KEY}` };
    };
    const gone: PolicyOffer = { missing: `ConfigMap ${namespace}/${name} not found` };
    this.reflector = new Reflector<ConfigMapLike>({
      watch: clientNodeWatch(kubeConfig),
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`,
      query: { fieldSelector },
      list: (page) =>
        api.listNamespacedConfigMap({ namespace, fieldSelector, limit: page.limit, _continue: page.continueToken }) as Promise<ListPage<ConfigMapLike>>,
      handlers: {
        upsert: (cm) => void offer(offerOf(cm)),
        remove: () => void offer(gone),
        reconcile: (listed) => {
          this.seen = true;
          if (listed.size === 0) void offer(gone);
        },
      },
      delay,
    });
  }

  start(): void {
    this.reflector.start();
  }

  stop(): Promise<void> {
    return this.reflector.stop();
  }

  /** Whether the first list came back: until then the operator's policy is not known. */
  get synced(): boolean {
    return this.seen;
  }

  /** Not ready until synced: the verbs must not answer by a policy the operator replaced. */
  check(): { ready: true } | { ready: false; reason: string } {
    return this.seen ? { ready: true } : { ready: false, reason: `policy ConfigMap ${this.namespace}/${this.name} not read yet` };
  }
}

export function parseConfigMapRef(ref: string): { namespace: string; name: string } {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(ref);
  if (!match) throw new Error(`--config-map must be NAMESPACE/NAME, got "${ref}"`);
  return { namespace: match[1]!, name: match[3]! };
}
