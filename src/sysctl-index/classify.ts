/**
 * Kubernetes' three classes of sysctls.
 *
 * - safe: namespaced and isolated, allowed by every kubelet by default;
 * - unsafe: namespaced but not isolated; admitted only where the kubelet's
 *   `--allowed-unsafe-sysctls` allows them;
 * - node-level: not namespaced at all; only an administrator can set them on the node.
 */

export type SysctlClass = 'safe' | 'unsafe' | 'node-level';

/**
 * The kubelet's safe list, `safeSysctls` in kubernetes/kubernetes pkg/kubelet/sysctl/safe_sysctls.go,
 * with the Kubernetes release that added each entry. The kubelet drops entries whose minimum
 * kernel the node does not have; we cannot see node kernels, so we keep them all: a pod asking
 * for one of them is refused by the kubelet, not misplaced by us.
 */
export const KUBELET_SAFE_SYSCTLS: ReadonlyArray<{ name: string; since: string; minKernel?: string }> = [
  { name: 'kernel.shm_rmid_forced', since: '1.4' },
  { name: 'net.ipv4.ip_local_port_range', since: '1.4' },
  { name: 'net.ipv4.tcp_syncookies', since: '1.4' },
  { name: 'net.ipv4.ping_group_range', since: '1.18' },
  { name: 'net.ipv4.ip_unprivileged_port_start', since: '1.22' },
  { name: 'net.ipv4.ip_local_reserved_ports', since: '1.27', minKernel: '3.16' },
  { name: 'net.ipv4.tcp_keepalive_time', since: '1.29', minKernel: '4.5' },
  { name: 'net.ipv4.tcp_fin_timeout', since: '1.29', minKernel: '4.6' },
  { name: 'net.ipv4.tcp_keepalive_intvl', since: '1.29', minKernel: '4.5' },
  { name: 'net.ipv4.tcp_keepalive_probes', since: '1.29', minKernel: '4.5' },
  { name: 'net.ipv4.tcp_rmem', since: '1.32', minKernel: '4.15' },
  { name: 'net.ipv4.tcp_wmem', since: '1.32', minKernel: '4.15' },
];

/**
 * Sysctls known to be namespaced: `namespaces` and `prefixNamespaces` in
 * kubernetes/kubernetes staging/src/k8s.io/component-helpers/node/util/sysctl/namespace.go.
 */
const NAMESPACED_EXACT = new Map<string, 'ipc' | 'net'>([['kernel.sem', 'ipc']]);
const NAMESPACED_PREFIXES: ReadonlyArray<readonly [string, 'ipc' | 'net']> = [
  ['kernel.shm', 'ipc'],
  ['kernel.msg', 'ipc'],
  ['fs.mqueue.', 'ipc'],
  ['net.', 'net'],
];

/** The Linux namespace a sysctl lives in, or undefined for node-level sysctls. */
export function kernelNamespaceOf(normalizedName: string): 'ipc' | 'net' | undefined {
  const exact = NAMESPACED_EXACT.get(normalizedName);
  if (exact) return exact;
  for (const [prefix, ns] of NAMESPACED_PREFIXES) {
    if (normalizedName.startsWith(prefix)) return ns;
  }
  return undefined;
}

export class SysctlClassifier {
  private readonly safe: ReadonlySet<string>;

  /** `extraSafe`: names an operator declares safe on top of the kubelet's list (already normalised). */
  constructor(extraSafe: Iterable<string> = []) {
    this.safe = new Set([...KUBELET_SAFE_SYSCTLS.map((s) => s.name), ...extraSafe]);
  }

  classify(normalizedName: string): SysctlClass {
    if (this.safe.has(normalizedName)) return 'safe';
    return kernelNamespaceOf(normalizedName) ? 'unsafe' : 'node-level';
  }
}
