/**
 * The cluster the end-to-end suite and the scheduler benchmark create on a real API server:
 * namespaces of two teams and one without a team, nodes dedicated or shared (some declaring
 * node-level sysctls, most with an unsafe-sysctl allow-list), and pods over five profiles.
 */
import type { KubeHttp } from '../../src/cluster/kube-http.js';

export const TEAM = 'sysctl-extender.io/team';
export const SYSCTLS = 'sysctl-extender.io/sysctls';
export const ALLOWED = 'sysctl-extender.io/allowed-unsafe-sysctls';
export const SCHEDULER_NAME = 'sysctl-scheduler';

export interface Profile {
  readonly name: string;
  /** securityContext.sysctls (unsafe ones). */
  readonly sysctls: Record<string, string>;
  /** The pod's sysctls annotation: node-level values it needs. */
  readonly needs?: string;
}

/** Five profiles: none, a web server, two databases that differ in one value, a search node. */
export const PROFILES: readonly Profile[] = [
  { name: 'plain', sysctls: {} },
  { name: 'web', sysctls: { 'net.core.somaxconn': '4096' } },
  { name: 'db', sysctls: { 'kernel.shmmax': '68719476736', 'kernel.sem': '250 32000 100 128' } },
  { name: 'db-small', sysctls: { 'kernel.shmmax': '17179869184', 'kernel.sem': '250 32000 100 128' } },
  { name: 'search', sysctls: { 'net.core.somaxconn': '1024' }, needs: 'vm.max_map_count=262144' },
];
export const SEARCH_NODE_VALUES = 'vm.max_map_count=262144';
export const ALLOW_LIST = 'net.*,kernel.shm*,kernel.sem,kernel.msg*';

/** Namespace name to team (undefined: no team, shared nodes only). */
export const NAMESPACES: ReadonlyArray<{ name: string; team?: string }> = [
  { name: 'team-a', team: 'a' },
  { name: 'team-b', team: 'b' },
  { name: 'no-team' },
];

export interface NodeSpec {
  readonly name: string;
  readonly team?: string;
  readonly sysctls?: string;
  readonly allowed?: string;
}

/**
 * A quarter of the nodes dedicated to each team, half shared; a fifth of each group declares
 * the search profile's node-level value; one shared node in ten has no allow-list.
 */
export function nodeLayout(count: number): NodeSpec[] {
  const nodes: NodeSpec[] = [];
  for (let i = 0; i < count; i++) {
    const group = i % 4; // 0: team a, 1: team b, 2 and 3: shared
    const team = group === 0 ? 'a' : group === 1 ? 'b' : undefined;
    const declares = Math.floor(i / 4) % 5 === 0;
    const withoutAllowList = team === undefined && !declares && i % 20 === 7;
    nodes.push({ name: `node-${i}`, team, sysctls: declares ? SEARCH_NODE_VALUES : undefined, allowed: withoutAllowList ? undefined : ALLOW_LIST });
  }
  return nodes;
}

export function nodeObject(spec: NodeSpec): object {
  const annotations: Record<string, string> = {};
  if (spec.sysctls) annotations[SYSCTLS] = spec.sysctls;
  if (spec.allowed) annotations[ALLOWED] = spec.allowed;
  const resources = { cpu: '64', memory: '256Gi', pods: '250' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: spec.name, labels: { 'kubernetes.io/hostname': spec.name, ...(spec.team ? { [TEAM]: spec.team } : {}) }, annotations },
    // Created Ready, so that admission adds no not-ready taint (no kubelet runs here).
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'e2e', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
      nodeInfo: { kubeletVersion: 'v1.26.0', kernelVersion: '6.1.0', osImage: 'e2e', containerRuntimeVersion: 'containerd://1.7.0', kubeProxyVersion: 'v1.26.0', operatingSystem: 'linux', architecture: 'amd64', machineID: '', systemUUID: '', bootID: '' },
    },
  };
}

export function podObject(namespace: string, name: string, profile: Profile, schedulerName = SCHEDULER_NAME): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, labels: { profile: profile.name }, annotations: profile.needs ? { [SYSCTLS]: profile.needs } : {} },
    spec: {
      schedulerName,
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      securityContext: { sysctls: Object.entries(profile.sysctls).map(([n, value]) => ({ name: n, value })) },
      containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9' }],
    },
  };
}

/** Pods spread round robin over the namespaces and the profiles. */
export function podBurst(count: number, prefix = 'p'): Array<{ namespace: string; name: string; profile: Profile }> {
  return Array.from({ length: count }, (_, i) => ({
    namespace: NAMESPACES[i % NAMESPACES.length]!.name,
    name: `${prefix}-${i}`,
    profile: PROFILES[Math.floor(i / NAMESPACES.length) % PROFILES.length]!,
  }));
}

/** Runs `work` over `items`, `concurrency` at a time. */
export async function eachLimited<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** Namespaces with their default ServiceAccount (no controller manager makes it here). */
export async function createNamespaces(api: KubeHttp): Promise<void> {
  for (const ns of NAMESPACES) {
    await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels: ns.team ? { [TEAM]: ns.team } : {} } });
    await api.request('POST', `/api/v1/namespaces/${ns.name}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
  }
}

export async function createNodes(api: KubeHttp, nodes: readonly NodeSpec[]): Promise<void> {
  await eachLimited(nodes, 16, (spec) => api.request('POST', '/api/v1/nodes', nodeObject(spec)));
}

export async function createPods(api: KubeHttp, pods: ReadonlyArray<{ namespace: string; name: string; profile: Profile }>, schedulerName = SCHEDULER_NAME): Promise<void> {
  await eachLimited(pods, 16, (p) => api.request('POST', `/api/v1/namespaces/${p.namespace}/pods`, podObject(p.namespace, p.name, p.profile, schedulerName)));
}

export interface PodList {
  items: Array<{ metadata: { namespace: string; name: string; uid: string; annotations?: Record<string, string> }; spec: { nodeName?: string; securityContext?: { sysctls?: Array<{ name: string; value: string }> } } }>;
  metadata: { resourceVersion: string };
}

export async function listPods(api: KubeHttp): Promise<PodList> {
  return api.request<PodList>('GET', '/api/v1/pods');
}

/** Deletes every pod at once (no kubelet would confirm a graceful deletion). */
export async function deleteAllPods(api: KubeHttp): Promise<void> {
  for (const ns of NAMESPACES) await api.request('DELETE', `/api/v1/namespaces/${ns.name}/pods?gracePeriodSeconds=0`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 });
}
