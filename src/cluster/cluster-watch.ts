import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Readiness } from '../readiness.js';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { KubeDaemonSet, KubeNamespace, KubeNode, KubePod } from '../sysctl-index/kube-objects.js';
import type { DelayFn } from '../watch/backoff.js';
import { FailureLog } from './failure-log.js';
import type { WatchMetrics, WatchedKind } from './watch-metrics.js';
import { Reflector, type ListPage, type ReflectorHandle, type ReflectorHandlers } from '../watch/reflector.js';
import { clientNodeWatch, type ResourceWatch } from '../watch/resource-watch.js';

export interface ClusterWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly index: () => ClusterIndex;
  /** /readyz fails once no watch of a kind has been healthy for this long (read at each check). */
  readonly staleAfterMs: number | (() => number);
  /** Where the reflectors count events, relists, restarts and failures. */
  readonly metrics?: WatchMetrics;
  /** Where failing lists and reconnects are reported (rate-limited per kind; see FailureLog). */
  readonly logger?: Logger;
  readonly delay?: DelayFn;
  /** Opens the watch streams; defaults to client-node's Watch over `kubeConfig`. */
  readonly watch?: ResourceWatch;
  readonly now?: () => number;
  readonly watchTimeoutSeconds?: number;
}

type Kind = WatchedKind;

/**
 * Feeds the index from the API server: one reflector (list, then watch) per kind, through the
 * same update functions a snapshot uses. Also the readiness of watch mode: ready once every
 * initial list is in, not ready while any watch has been unhealthy for longer than the bound.
 */
export class ClusterWatch implements Readiness {
  private readonly reflectors: Record<Kind, ReflectorHandle>;
  private readonly now: () => number;

  constructor(private readonly options: ClusterWatchOptions) {
    this.now = options.now ?? Date.now;
    const api = options.kubeConfig.makeApiClient(CoreV1Api);
    const apps = options.kubeConfig.makeApiClient(AppsV1Api);
    const metrics = options.metrics;
    const index = options.index;
    const failureLog = new FailureLog(options.logger, this.now);
    const watch = options.watch ?? clientNodeWatch(options.kubeConfig);
    const reflector = <T extends KubeNamespace | KubeNode | KubePod | KubeDaemonSet>(
      kind: Kind,
      path: string,
      list: (page: { limit: number; continueToken?: string }) => Promise<unknown>,
      handlers: ReflectorHandlers<T>,
    ): ReflectorHandle =>
      new Reflector<T>({
        watch,
        path,
        list: list as (page: { limit: number; continueToken?: string }) => Promise<ListPage<T>>,
        handlers,
        events: {
          onEvent: (type) => metrics?.events.inc({ kind, type }),
          onRelist: () => metrics?.relists.inc({ kind }),
          onRestart: (reason) => metrics?.restarts.inc({ kind, reason }),
          onAttemptFailed: (error, attempt) => {
            metrics?.failedAttempts.inc({ kind });
            failureLog.failed(kind, error, attempt);
          },
          onRecovered: (failedAttempts) => failureLog.recovered(kind, failedAttempts),
        },
        delay: options.delay,
        now: this.now,
        watchTimeoutSeconds: options.watchTimeoutSeconds,
      });

    this.reflectors = {
      namespaces: reflector<KubeNamespace>('namespaces', '/api/v1/namespaces', (p) => api.listNamespace({ limit: p.limit, _continue: p.continueToken }), {
        upsert: (ns) => index().upsertNamespace(ns),
        remove: (ns) => ns.metadata?.name && index().deleteNamespace(ns.metadata.name),
        reconcile: (listed) => removeMissing(index().namespaceNames(), listed, (name) => index().deleteNamespace(name)),
      }),
      nodes: reflector<KubeNode>('nodes', '/api/v1/nodes', (p) => api.listNode({ limit: p.limit, _continue: p.continueToken }), {
        upsert: (node) => index().upsertNode(node),
        remove: (node) => node.metadata?.name && index().deleteNode(node.metadata.name),
        reconcile: (listed) => removeMissing(index().nodeNames(), listed, (name) => index().deleteNode(name)),
      }),
      pods: reflector<KubePod>('pods', '/api/v1/pods', (p) => api.listPodForAllNamespaces({ limit: p.limit, _continue: p.continueToken }), {
        upsert: (pod) => index().upsertPod(pod),
        remove: (pod) => pod.metadata?.namespace && pod.metadata.name && index().deletePod(pod.metadata.namespace, pod.metadata.name),
        reconcile: (listed) => {
          for (const ref of index().podRefs()) if (!listed.has(`${ref.namespace}/${ref.name}`)) index().deletePod(ref.namespace, ref.name);
        },
      }),
      // Only a DaemonSet the watch has shown (name and UID) makes the pods claiming it DaemonSet pods.
      daemonsets: reflector<KubeDaemonSet>('daemonsets', '/apis/apps/v1/daemonsets', (p) => apps.listDaemonSetForAllNamespaces({ limit: p.limit, _continue: p.continueToken }), {
        upsert: (ds) => index().upsertDaemonSet(ds),
        remove: (ds) => ds.metadata?.namespace && ds.metadata.name && index().deleteDaemonSet(ds.metadata.namespace, ds.metadata.name),
        reconcile: (listed) => {
          for (const ref of index().daemonSetRefs()) if (!listed.has(`${ref.namespace}/${ref.name}`)) index().deleteDaemonSet(ref.namespace, ref.name);
        },
      }),
    };
  }

  /** Each kind's reflector, for the metrics. */
  reflectorsByKind(): Array<[Kind, ReflectorHandle]> {
    return Object.entries(this.reflectors) as Array<[Kind, ReflectorHandle]>;
  }

  start(): void {
    for (const r of Object.values(this.reflectors)) r.start();
  }

  async stop(): Promise<void> {
    await Promise.all(Object.values(this.reflectors).map((r) => r.stop()));
  }

  check(): { ready: true } | { ready: false; reason: string } {
    for (const [kind, r] of Object.entries(this.reflectors)) {
      if (!r.synced) return { ready: false, reason: `initial list of ${kind} not complete${r.lastError ? ` (${r.lastError})` : ''}` };
    }
    const bound = typeof this.options.staleAfterMs === 'number' ? this.options.staleAfterMs : this.options.staleAfterMs();
    for (const [kind, r] of Object.entries(this.reflectors)) {
      const unhealthyFor = this.now() - r.lastHealthyAt;
      if (!r.connected && unhealthyFor > bound) {
        const since = new Date(r.lastHealthyAt).toISOString();
        return { ready: false, reason: `watch of ${kind} unhealthy for ${(unhealthyFor / 1000).toFixed(1)}s, since ${since}${r.lastError ? ` (${r.lastError})` : ''}` };
      }
    }
    return { ready: true };
  }
}

function removeMissing(known: string[], listed: ReadonlySet<string>, remove: (name: string) => void): void {
  for (const name of known) if (!listed.has(name)) remove(name);
}
