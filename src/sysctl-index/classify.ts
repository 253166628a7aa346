/**
 * Kubernetes' three classes of sysctls.
 *
 * - safe: namespaced and isolated; the kubelet allows them by default, but which ones depends on
 *   the node's kubelet release and kernel (see node-runtime.ts);
 * - unsafe: namespaced but not isolated; admitted only where the kubelet's
 *   `--allowed-unsafe-sysctls` allows them;
 * - node-level: not namespaced at all; only an administrator can set them on the node.
 */

export type SysctlClass = 'safe' | 'unsafe' | 'node-level';

export interface SafeSysctl {
  readonly name: string;
  /** The kubelet minor release (1.x) that put it on the safe list; 0: since the start. */
  readonly sinceMinor: number;
  /**
   * The first kernel (major * 1000 + minor) in which it is namespaced, for the entries the kubelet
   * gates on the kernel; undefined: namespaced in every kernel Kubernetes runs on.
   */
  readonly minKernel: number | undefined;
  /** Its bit in the masks of node-runtime.ts and PodNeeds.safeMask. */
  readonly bit: number;
}

/** A kernel version `major.minor` as one comparable integer. */
export function kernelCode(major: number, minor: number): number {
  return major * 1000 + minor;
}

/**
 * The kubelet's safe list with the release that added each entry and the kernel it needs:
 * `safeSysctls` in kubernetes/kubernetes pkg/kubelet/sysctl/safe_sysctls.go, the kernel minimums
 * from pkg/util/kernel/constants.go (`IPLocalReservedPortsNamespacedKernelVersion` 3.16,
 * `TCPKeepAliveTimeNamespacedKernelVersion` 4.5, `TCPFinTimeoutNamespacedKernelVersion` 4.6,
 * `TCPKeepAliveIntervalNamespacedKernelVersion` and `TCPKeepAliveProbesNamespacedKernelVersion`
 * 4.5, `TCPReceiveMemoryNamespacedKernelVersion` and `TCPTransmitMemoryNamespacedKernelVersion`
 * 4.15, `TCPSlowStartAfterIdleNamespacedKernelVersion` 4.15,
 * `TCPNotSentLowatNamespacedKernelVersion` 4.6). Releases: ping_group_range 1.18,
 * ip_unprivileged_port_start 1.22, ip_local_reserved_ports 1.27 (PR #115374), the keepalive and
 * fin_timeout entries 1.29 (PRs #118846, #121240), tcp_rmem/tcp_wmem 1.32 (issue #125234),
 * tcp_slow_start_after_idle/tcp_notsent_lowat 1.37 (PR #138389).
 */
export const KUBELET_SAFE_SYSCTLS: readonly SafeSysctl[] = (
  [
    ['kernel.shm_rmid_forced', 0, undefined],
    ['net.ipv4.ip_local_port_range', 0, undefined],
    ['net.ipv4.tcp_syncookies', 0, undefined],
    ['net.ipv4.ping_group_range', 18, undefined],
    ['net.ipv4.ip_unprivileged_port_start', 22, undefined],
    ['net.ipv4.ip_local_reserved_ports', 27, kernelCode(3, 16)],
    ['net.ipv4.tcp_keepalive_time', 29, kernelCode(4, 5)],
    ['net.ipv4.tcp_fin_timeout', 29, kernelCode(4, 6)],
    ['net.ipv4.tcp_keepalive_intvl', 29, kernelCode(4, 5)],
    ['net.ipv4.tcp_keepalive_probes', 29, kernelCode(4, 5)],
    ['net.ipv4.tcp_rmem', 32, kernelCode(4, 15)],
    ['net.ipv4.tcp_wmem', 32, kernelCode(4, 15)],
    ['net.ipv4.tcp_slow_start_after_idle', 37, kernelCode(4, 15)],
    ['net.ipv4.tcp_notsent_lowat', 37, kernelCode(4, 6)],
  ] as const
).map(([name, sinceMinor, minKernel], bit) => Object.freeze({ name, sinceMinor, minKernel, bit }));

const SAFE_BY_NAME = new Map(KUBELET_SAFE_SYSCTLS.map((s) => [s.name, s]));

/** The kubelet-safe entry of that name, if any. */
export function kubeletSafeSysctl(normalizedName: string): SafeSysctl | undefined {
  return SAFE_BY_NAME.get(normalizedName);
}

type KernelNamespace = 'ipc' | 'net';

/**
 * Sysctls known to be namespaced, exactly as kubelet 1.29+ has them: `nameToNamespace` and
 * `prefixToNamespace` in kubernetes/kubernetes
 * staging/src/k8s.io/component-helpers/node/util/sysctl/namespace.go (PR #118705), the names
 * runc's validator accepts. `kernel.shm_next_id` or `kernel.msg_next_id` are not namespaced.
 */
const NAMESPACED_NAMES = new Map<string, KernelNamespace>([
  ['kernel.sem', 'ipc'],
  ['kernel.shmall', 'ipc'],
  ['kernel.shmmax', 'ipc'],
  ['kernel.shmmni', 'ipc'],
  ['kernel.shm_rmid_forced', 'ipc'],
  ['kernel.msgmax', 'ipc'],
  ['kernel.msgmnb', 'ipc'],
  ['kernel.msgmni', 'ipc'],
]);
const NAMESPACED_PREFIXES: ReadonlyArray<readonly [string, KernelNamespace]> = [
  ['fs.mqueue.', 'ipc'],
  ['net.', 'net'],
];
/**
 * namespace.go also maps `kernel.shm` and `kernel.msg` "for backward compatibility": they are
 * no sysctls, only the stems of allow-list globs such as `kernel.shm*`.
 */
const GLOB_ONLY_STEMS = new Map<string, KernelNamespace>([
  ['kernel.shm', 'ipc'],
  ['kernel.msg', 'ipc'],
]);

/** The Linux namespace a sysctl lives in, or undefined for node-level sysctls. */
export function kernelNamespaceOf(normalizedName: string): KernelNamespace | undefined {
  const exact = NAMESPACED_NAMES.get(normalizedName);
  if (exact) return exact;
  for (const [prefix, ns] of NAMESPACED_PREFIXES) {
    if (normalizedName.startsWith(prefix)) return ns;
  }
  return undefined;
}

/**
 * The namespace the kubelet (1.29+) finds for an allow-list entry or a glob's stem (the text
 * before the `*`), `namespaceOf` in namespace.go: `net.*` and `kernel.shm*` pass; `net*`,
 * `kernel.*`, `kernel.shmm*` and `*` do not, and such a flag stops the kubelet at start.
 */
export function allowListStemNamespace(stem: string): KernelNamespace | undefined {
  return GLOB_ONLY_STEMS.get(stem) ?? kernelNamespaceOf(stem);
}

/**
 * The same check as kubelets before 1.29 made it (`namespaces` and `prefixNamespaces` in the
 * namespace.go of that time: `kernel.sem` exact, `kernel.shm`, `kernel.msg`, `fs.mqueue.` and
 * `net.` as prefixes), so `kernel.shmm*` still passes on those nodes.
 */
export function legacyAllowListStemNamespace(stem: string): KernelNamespace | undefined {
  if (stem === 'kernel.sem') return 'ipc';
  for (const prefix of ['kernel.shm', 'kernel.msg', 'fs.mqueue.']) if (stem.startsWith(prefix)) return 'ipc';
  return stem.startsWith('net.') ? 'net' : undefined;
}

export class SysctlClassifier {
  private readonly extraSafe: ReadonlySet<string>;

  /** `extraSafe`: names an operator declares safe on top of the kubelet's list (already normalised). */
  constructor(extraSafe: Iterable<string> = []) {
    this.extraSafe = new Set(extraSafe);
  }

  /** Safe means: on the newest kubelet's list (or declared safe by the operator). */
  classify(normalizedName: string): SysctlClass {
    if (SAFE_BY_NAME.has(normalizedName) || this.extraSafe.has(normalizedName)) return 'safe';
    return kernelNamespaceOf(normalizedName) ? 'unsafe' : 'node-level';
  }

  /**
   * The bit of a kubelet-safe sysctl, which then restricts a pod to nodes whose kubelet and kernel
   * admit it; 0 for the operator's extra safe names (even one on the kubelet's list), which the
   * operator vouches for on every node and which never restrict placement.
   */
  safeBit(normalizedName: string): number {
    if (this.extraSafe.has(normalizedName)) return 0;
    const entry = SAFE_BY_NAME.get(normalizedName);
    return entry === undefined ? 0 : 1 << entry.bit;
  }
}
