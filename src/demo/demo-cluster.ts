import type { KubeList } from '../cluster/snapshot.js';
import type { KubeNamespace, KubeNode, KubePod } from '../sysctl-index/kube-objects.js';

/**
 * The cluster `npm start` serves without a real one. Nodes n1..n4 and the namespaces are those
 * of the kube-scheduler capture (shared/fixtures/kube-scheduler/cluster.json), so its real
 * request bodies can be replayed against the demo; n5..n10 add pods and every kind of node.
 */

const TEAM = 'sysctl-extender.io/team';
const SYSCTLS = 'sysctl-extender.io/sysctls';
const ALLOWED = 'sysctl-extender.io/allowed-unsafe-sysctls';

/** The database profile of the c-unsafe fixture pod: n5 already runs it for team a. */
const DB_SYSCTLS = [
  { name: 'kernel.shmmax', value: '68719476736' },
  { name: 'kernel.sem', value: '250 32000 100 128' },
];

export function demoCluster(): KubeList {
  let resourceVersion = 100;
  const meta = (name: string, extra: object = {}) => ({ name, uid: `demo-${name}`, resourceVersion: String(++resourceVersion), ...extra });

  const namespace = (name: string, team?: string): KubeNamespace & { kind: string } => ({
    kind: 'Namespace',
    metadata: meta(name, { labels: team ? { [TEAM]: team } : {} }),
  });
  const node = (name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) =>
    ({ kind: 'Node', metadata: meta(name, { labels: { 'kubernetes.io/hostname': name, ...labels }, annotations }) }) as KubeNode & { kind: string };
  const pod = (namespace: string, name: string, nodeName: string, extra: Partial<KubePod> = {}, annotations: Record<string, string> = {}) =>
    ({
      kind: 'Pod',
      metadata: { ...meta(name, { annotations }), namespace, ...(extra.metadata ?? {}) },
      spec: { nodeName, ...(extra.spec ?? {}) },
      status: { phase: 'Running', ...(extra.status ?? {}) },
    }) as KubePod & { kind: string };
  const daemonSetPod = (nodeName: string) =>
    pod('kube-system', `node-exporter-${nodeName}`, nodeName, {
      metadata: { ownerReferences: [{ kind: 'DaemonSet', controller: true }] },
    });

  const nodes = [
    node('n1', { [TEAM]: 'a' }),
    node('n2', { [TEAM]: 'b' }),
    node('n3', {}, { [SYSCTLS]: 'vm.max_map_count=262144' }),
    node('n4', {}, { [ALLOWED]: 'kernel.shm*,kernel.sem,net.*' }),
    node('n5', { [TEAM]: 'a' }, { [ALLOWED]: 'kernel.shm*,kernel.sem' }),
    node('n6'),
    node('n7', {}, { [SYSCTLS]: 'vm.max_map_count = 262144  # for search engines', [ALLOWED]: 'net.core.*' }),
    node('n8', { [TEAM]: 'b' }, { [ALLOWED]: 'kernel.shm*,kernel.sem' }),
    node('n9'),
    node('n10', {}, { [SYSCTLS]: 'vm.swappiness' }),
  ];
  const pods = [
    pod('team-a', 'postgres-0', 'n5', { spec: { securityContext: { sysctls: DB_SYSCTLS } } }),
    pod('team-b', 'api-1', 'n6'),
    pod('no-team', 'web-1', 'n6', { spec: { securityContext: { sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65000' }] } } }),
    pod('no-team', 'search-0', 'n7', { spec: { securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '4096' }] } } }, { [SYSCTLS]: 'vm.max_map_count=262144' }),
    pod('no-team', 'report-done', 'n4', { status: { phase: 'Succeeded' } }),
    ...nodes.map((n) => daemonSetPod(n.metadata!.name!)),
  ];
  return {
    kind: 'List',
    items: [namespace('team-a', 'a'), namespace('team-b', 'b'), namespace('no-team'), namespace('kube-system'), ...nodes, ...pods],
  };
}
