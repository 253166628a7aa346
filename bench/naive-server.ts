/**
 * What the index is for: the same rules (src/filter, src/prioritize) over the same pod and node
 * projections, but without the per-node aggregation. For each candidate node it scans all pods
 * of the cluster to find the node's occupants and profile, as a first implementation would.
 */
import type { Server } from 'node:http';
import type { KubeList } from '../src/cluster/snapshot.js';
import type { Policy } from '../src/config/policy.js';
import { filterContextFor } from '../src/filter/filter-context.js';
import { filterNodes, passing } from '../src/filter/filter-nodes.js';
import { scoreNode } from '../src/prioritize/score-node.js';
import { ClusterIndex, type NodeView } from '../src/sysctl-index/cluster-index.js';
import type { KubeNode, KubePod } from '../src/sysctl-index/kube-objects.js';
import type { NodeProjection } from '../src/sysctl-index/node-projection.js';
import { projectPod, type PodProjection } from '../src/sysctl-index/pod-projection.js';
import type { ProfileId } from '../src/sysctl-index/profile-intern.js';
import { createJsonServer } from './json-http.js';

interface Args {
  Pod: KubePod;
  NodeNames?: string[] | null;
  Nodes?: { items?: KubeNode[] } | null;
}

export class NaiveCluster {
  /** Used only as the registry of namespace teams and interned profiles; it is never fed nodes or pods. */
  private readonly registry: ClusterIndex;
  private readonly nodes = new Map<string, NodeProjection>();
  private readonly pods: PodProjection[] = [];
  /** `namespace/name/uid` of the DaemonSets in the List: only these prove a pod a DaemonSet pod. */
  private readonly daemonSets = new Set<string>();

  constructor(private readonly policy: Policy) {
    this.registry = new ClusterIndex(policy);
  }

  load(list: KubeList): void {
    for (const item of list.items) {
      if (item.kind === 'Namespace') this.registry.upsertNamespace(item);
      else if (item.kind === 'Node') {
        const projection = this.registry.projectNode(item);
        if (projection) this.nodes.set(projection.name, projection);
      } else if (item.kind === 'DaemonSet') {
        const { namespace, name, uid } = item.metadata ?? {};
        this.daemonSets.add(`${namespace}/${name}/${uid}`);
      } else if (item.kind === 'Pod') {
        const projection = projectPod(item, this.policy.keys, this.registry.classifier, this.registry.profiles);
        if (projection) this.pods.push(projection);
      }
    }
  }

  get podCount(): number {
    return this.pods.length;
  }

  handle = (path: string, body: unknown): unknown => {
    const args = body as Args;
    const ctx = filterContextFor(args.Pod, { index: this.registry, policy: this.policy });
    const byName = (name: string) => this.view(name, this.nodes.get(name));
    const byObject = (node: KubeNode) => this.view(node.metadata?.name ?? '', this.registry.projectNode(node));
    if (path === '/prioritize') {
      const views = args.NodeNames ? args.NodeNames.map(byName) : (args.Nodes?.items ?? []).map(byObject);
      return views.map((view) => ({ Host: view.name, Score: scoreNode(ctx, view, this.policy.weights).score }));
    }
    if (path !== '/filter') throw new Error(`unknown path ${path}`);
    const candidates: readonly (string | KubeNode)[] = args.NodeNames ?? args.Nodes?.items ?? [];
    const views = args.NodeNames ? args.NodeNames.map(byName) : (args.Nodes?.items ?? []).map(byObject);
    const verdicts = filterNodes(ctx, views);
    const reasons = (unresolvable: boolean) =>
      Object.fromEntries(views.flatMap((view, i) => (verdicts[i]?.unresolvable === unresolvable ? [[view.name, verdicts[i]!.reason]] : [])));
    return {
      Nodes: args.NodeNames ? null : { metadata: {}, items: passing(candidates, verdicts) },
      NodeNames: args.NodeNames ? passing(candidates, verdicts) : null,
      FailedNodes: reasons(false),
      FailedAndUnresolvableNodes: reasons(true),
      Error: '',
    };
  };

  private provenDaemonSetPod(pod: PodProjection): boolean {
    return pod.daemonSet !== undefined && this.daemonSets.has(`${pod.namespace}/${pod.daemonSet.name}/${pod.daemonSet.uid}`);
  }

  /** The scan the index saves: every pod of the cluster, for one node. */
  private view(name: string, projection: NodeProjection | undefined): NodeView {
    let occupants = 0;
    const unsafeIds = new Set<ProfileId>();
    for (const pod of this.pods) {
      if (pod.nodeName !== name || !pod.occupiesNode || this.provenDaemonSetPod(pod)) continue;
      occupants += 1;
      unsafeIds.add(pod.unsafeId);
    }
    const profileId = this.registry.profiles.union([projection?.declaredId ?? 0, ...unsafeIds]);
    return { name, projection, team: projection?.team, occupants, profileId };
  }
}

export function createNaiveServer(list: KubeList, policy: Policy): { server: Server; pods: number } {
  const cluster = new NaiveCluster(policy);
  cluster.load(list);
  return { server: createJsonServer(cluster.handle), pods: cluster.podCount };
}
