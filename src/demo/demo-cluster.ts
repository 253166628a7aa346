import type { KubeList } from '../cluster/snapshot.js';
import type { KubeDaemonSet, KubeNamespace, KubeNode, KubePod } from '../sysctl-index/kube-objects.js';

/**
 * The cluster `npm start` serves without a real one. Nodes n1..n4 and the namespaces are those
 * of the kube-scheduler capture (shared/fixtures/kube-scheduler/cluster.json), so its real
 * request bodies can be replayed against the demo; n5..n12 add pods and every kind of node,
 * and each node reports the kubelet and kernel a real one would (`status.nodeInfo`).
 */

const TEAM = 'sysctl-extender.io/team';
const SYSCTLS = 'sysctl-extender.io/sysctls';
const ALLOWED = 'sysctl-extender.io/allowed-unsafe-sysctls';

/** The database profile of the c-unsafe fixture pod: n5 already runs it for team a. */
const DB_SYSCTLS = [
  { name: 'kernel.shmmax', value: '68719476736' },
  { name: 'kernel.sem', value: '250 32000 100 128' },
];

/** What a kubelet reports in status.nodeInfo: an EKS 1.31 node, newer ones, and an old kernel. */
const EKS_131 = { kubeletVersion: 'v1.31.4-eks-2d98532', kernelVersion: '5.15.0-1048-aws' };
const DEBIAN_132 = { kubeletVersion: 'v1.32.1', kernelVersion: '6.1.0-27-amd64' };
const DEBIAN_133 = { kubeletVersion: 'v1.33.2', kernelVersion: '6.1.0-27-amd64' };
/** Kernel 4.4 namespaces neither tcp_keepalive_time (4.5) nor tcp_rmem (4.15). */
const OLD_KERNEL_129 = { kubeletVersion: 'v1.29.0', kernelVersion: '4.4.0-210-generic' };
const OPEN = 'kernel.shm*,kernel.sem,net.*';

export function demoCluster(): KubeList {
  let resourceVersion = 100;
  const meta = (name: string, extra: object = {}) => ({ name, uid: `demo-${name}`, resourceVersion: String(++resourceVersion), ...extra });

  const namespace = (name: string, team?: string): KubeNamespace & { kind: string } => ({
    kind: 'Namespace',
    metadata: meta(name, { labels: team ? { [TEAM]: team } : {} }),
  });
  const node = (name: string, nodeInfo: object | undefined, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) =>
    ({
      kind: 'Node',
      metadata: meta(name, { labels: { 'kubernetes.io/hostname': name, ...labels }, annotations }),
      ...(nodeInfo ? { status: { nodeInfo: { operatingSystem: 'linux', architecture: 'amd64', ...nodeInfo } } } : {}),
    }) as KubeNode & { kind: string };
  const pod = (namespace: string, name: string, nodeName: string, extra: Partial<KubePod> = {}, annotations: Record<string, string> = {}) =>
    ({
      kind: 'Pod',
      metadata: { ...meta(name, { annotations }), namespace, ...(extra.metadata ?? {}) },
      spec: { nodeName, ...(extra.spec ?? {}) },
      status: { phase: 'Running', ...(extra.status ?? {}) },
    }) as KubePod & { kind: string };
  const exporter: KubeDaemonSet & { kind: string } = { kind: 'DaemonSet', metadata: { ...meta('node-exporter'), namespace: 'kube-system' } };
  const ownedBy = (name: string, uid: string) => ({ ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name, uid, controller: true }] });
  const daemonSetPod = (nodeName: string) => pod('kube-system', `node-exporter-${nodeName}`, nodeName, { metadata: ownedBy('node-exporter', exporter.metadata!.uid!) });

  const nodes = [
    node('n1', EKS_131, { [TEAM]: 'a' }),
    node('n2', EKS_131, { [TEAM]: 'b' }),
    node('n3', DEBIAN_132, {}, { [SYSCTLS]: 'vm.max_map_count=262144' }),
    node('n4', DEBIAN_133, {}, { [ALLOWED]: OPEN }),
    node('n5', EKS_131, { [TEAM]: 'a' }, { [ALLOWED]: 'kernel.shm*,kernel.sem' }),
    node('n6', undefined, {}, { [ALLOWED]: OPEN }),
    node('n7', OLD_KERNEL_129, {}, { [SYSCTLS]: 'vm.max_map_count = 262144  # for search engines', [ALLOWED]: 'net.core.*' }),
    node('n8', EKS_131, { [TEAM]: 'b' }, { [ALLOWED]: 'kernel.shm*,kernel.sem' }),
    node('n9', EKS_131, {}, { [ALLOWED]: OPEN }),
    node('n10', EKS_131, {}, { [SYSCTLS]: 'vm.swappiness' }),
    // `net*` (no dot) is not a namespace: a kubelet given this flag refuses to start.
    node('n11', EKS_131, {}, { [ALLOWED]: 'kernel.shm*,net*' }),
    node('n12', EKS_131, {}, { [ALLOWED]: OPEN }),
  ];
  const pods = [
    pod('team-a', 'postgres-0', 'n5', { spec: { securityContext: { sysctls: DB_SYSCTLS } } }),
    pod('team-b', 'api-1', 'n6'),
    pod('no-team', 'web-1', 'n6', { spec: { securityContext: { sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65000' }] } } }),
    pod('no-team', 'search-0', 'n7', { spec: { securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '4096' }] } } }, { [SYSCTLS]: 'vm.max_map_count=262144' }),
    pod('no-team', 'report-done', 'n4', { status: { phase: 'Succeeded' } }),
    // Claims a DaemonSet that does not exist: it counts like any other pod, so n12 is busy.
    pod('no-team', 'log-agent-n12', 'n12', { metadata: ownedBy('log-agent', 'demo-no-such-daemonset') }),
    ...nodes.map((n) => daemonSetPod(n.metadata!.name!)),
  ];
  return {
    kind: 'List',
    items: [namespace('team-a', 'a'), namespace('team-b', 'b'), namespace('no-team'), namespace('kube-system'), exporter, ...nodes, ...pods],
  };
}
