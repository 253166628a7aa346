/** Terse builders for the Kubernetes objects the tests feed the index. */
import type { KubeDaemonSet, KubeNamespace, KubeNode, KubePod } from '../../src/sysctl-index/kube-objects.js';

export const TEAM = 'sysctl-extender.io/team';
export const SYSCTLS = 'sysctl-extender.io/sysctls';
export const ALLOWED = 'sysctl-extender.io/allowed-unsafe-sysctls';

export function namespace(name: string, team?: string): KubeNamespace & { kind: 'Namespace' } {
  return { kind: 'Namespace', metadata: { name, labels: team ? { [TEAM]: team } : {} } };
}

export interface NodeOptions {
  team?: string;
  /** The node's sysctls annotation (declared node-level values). */
  sysctls?: string;
  /** The node's allowed-unsafe-sysctls annotation. */
  allowed?: string;
  resourceVersion?: string;
  /** status.nodeInfo.kubeletVersion, e.g. `v1.31.4-eks-2d98532`; absent when not given. */
  kubelet?: string;
  /** status.nodeInfo.kernelVersion, e.g. `5.15.0-1048-aws`; absent when not given. */
  kernel?: string;
}

export function node(name: string, options: NodeOptions = {}): KubeNode & { kind: 'Node' } {
  const annotations: Record<string, string> = {};
  if (options.sysctls !== undefined) annotations[SYSCTLS] = options.sysctls;
  if (options.allowed !== undefined) annotations[ALLOWED] = options.allowed;
  return {
    kind: 'Node',
    metadata: {
      name,
      resourceVersion: options.resourceVersion ?? '1',
      labels: options.team ? { [TEAM]: options.team } : {},
      annotations,
    },
    ...(options.kubelet !== undefined || options.kernel !== undefined
      ? {
          status: {
            nodeInfo: {
              ...(options.kubelet !== undefined ? { kubeletVersion: options.kubelet } : {}),
              ...(options.kernel !== undefined ? { kernelVersion: options.kernel } : {}),
            },
          },
        }
      : {}),
  };
}

export interface PodOptions {
  node?: string;
  /** securityContext.sysctls, name to value. */
  sysctls?: Record<string, string>;
  /** The pod's sysctls annotation (node-level values it needs). */
  needs?: string;
  /** Claims a DaemonSet controller: true for `ds`, or its name; proven only by daemonSet(ns, name) in the index. */
  daemonSet?: boolean | string;
  phase?: string;
  hostNetwork?: boolean;
  hostIPC?: boolean;
  labels?: Record<string, string>;
  uid?: string;
}

export function pod(ns: string, name: string, options: PodOptions = {}): KubePod & { kind: 'Pod' } {
  return {
    kind: 'Pod',
    metadata: {
      namespace: ns,
      name,
      uid: options.uid ?? `uid-${ns}-${name}`,
      labels: options.labels ?? {},
      annotations: options.needs !== undefined ? { [SYSCTLS]: options.needs } : {},
      ownerReferences: options.daemonSet ? [daemonSetOwner(ns, options.daemonSet === true ? 'ds' : options.daemonSet)] : [],
    },
    spec: {
      nodeName: options.node,
      hostNetwork: options.hostNetwork ?? false,
      hostIPC: options.hostIPC ?? false,
      securityContext: {
        sysctls: Object.entries(options.sysctls ?? {}).map(([n, value]) => ({ name: n, value })),
      },
    },
    status: { phase: options.phase ?? (options.node ? 'Running' : 'Pending') },
  };
}

function daemonSetOwner(ns: string, name: string) {
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', name, uid: daemonSetUid(ns, name), controller: true };
}

export function daemonSetUid(ns: string, name: string): string {
  return `uid-ds-${ns}-${name}`;
}

/** The DaemonSet that proves the pods built with `daemonSet: name` in that namespace (same UID unless given). */
export function daemonSet(ns: string, name = 'ds', uid = daemonSetUid(ns, name)): KubeDaemonSet & { kind: 'DaemonSet' } {
  return { kind: 'DaemonSet', metadata: { namespace: ns, name, uid } };
}

/** An allow-list admitting every unsafe sysctl the kubelet knows to be namespaced. */
export const ALLOW_ALL_UNSAFE = 'kernel.shm*,kernel.msg*,kernel.sem,fs.mqueue.*,net.*';

/** Unsafe sysctls of a typical database pod, and two variants that differ in one value. */
export const DB = { 'kernel.shmmax': '68719476736', 'kernel.sem': '250 32000 100 128' };
export const DB_SMALL = { 'kernel.shmmax': '17179869184', 'kernel.sem': '250 32000 100 128' };
export const WEB = { 'net.core.somaxconn': '4096' };
/** A node-level value, in annotation syntax. */
export const VMS = 'vm.max_map_count=262144';
