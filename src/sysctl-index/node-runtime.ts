import { kernelCode, KUBELET_SAFE_SYSCTLS } from './classify.js';
import { detachedCopyOf } from './detached-string.js';
import type { KubeNode } from './kube-objects.js';

/**
 * What the kubelet admits on a node depends on its release and its kernel, both reported in
 * `status.nodeInfo` (`kubeletVersion`, `kernelVersion`). Computed once per distinct pair and
 * shared by every node reporting it, so that the filter compares two integers per node.
 */
export interface NodeRuntime {
  /** As the node reports them (for explain); undefined where absent or not a string. */
  readonly kubeletVersion: string | undefined;
  readonly kernelVersion: string | undefined;
  /** The kubelet's minor release (1.x); undefined where absent or unreadable. */
  readonly kubeletMinor: number | undefined;
  /** The kernel as major * 1000 + minor; undefined where absent or unreadable. */
  readonly kernel: number | undefined;
  /** Bits (KUBELET_SAFE_SYSCTLS[i].bit) of the sysctls this kubelet, on this kernel, counts as safe. */
  readonly safeMask: number;
  /** Bits of the sysctls this (known) kernel does not namespace: a pod setting one cannot run here. */
  readonly kernelMissingMask: number;
}

/**
 * `v1.31.4-eks-2d98532`, `v1.29.0`, `1.30.2+k3s1`: the minor of a 1.x release. Kubelet versions
 * are Go semver strings (`k8s.io/apimachinery/pkg/util/version`); anything else is unreadable.
 */
export function parseKubeletMinor(version: unknown): number | undefined {
  if (typeof version !== 'string' || version.length > 128) return undefined;
  const match = /^v?1\.(\d{1,4})(?:\.\d{1,9})?(?:[-+.][0-9A-Za-z.+-]*)?$/.exec(version.trim());
  return match ? Number(match[1]) : undefined;
}

/**
 * `5.15.0-1048-aws`, `6.1.0-27-amd64`, `3.10.0-1160.el7.x86_64`: `uname -r`, read as the kubelet
 * reads it (`version.ParseGeneric`: at least major.minor, anything after).
 */
export function parseKernelVersion(version: unknown): number | undefined {
  if (typeof version !== 'string' || version.length > 256) return undefined;
  const match = /^v?(\d{1,4})\.(\d{1,3})(?:\.\d+)*(?:[^0-9.][^]*)?$/.exec(version.trim());
  return match ? kernelCode(Number(match[1]), Number(match[2])) : undefined;
}

/**
 * The kubelet's `getSafeSysctlAllowlist` (pkg/kubelet/sysctl/safe_sysctls.go) for a release and
 * kernel: entries newer than the release are not safe; kernel-gated entries are safe only on a
 * kernel known to reach their minimum. An unknown release gets the original three entries.
 */
export function runtimeMasks(kubeletMinor: number | undefined, kernel: number | undefined): { safeMask: number; kernelMissingMask: number } {
  let safeMask = 0;
  let kernelMissingMask = 0;
  for (const entry of KUBELET_SAFE_SYSCTLS) {
    const bit = 1 << entry.bit;
    if (entry.minKernel !== undefined && kernel !== undefined && kernel < entry.minKernel) kernelMissingMask |= bit;
    const releaseHasIt = entry.sinceMinor === 0 || (kubeletMinor !== undefined && kubeletMinor >= entry.sinceMinor);
    const kernelHasIt = entry.minKernel === undefined || (kernel !== undefined && kernel >= entry.minKernel);
    if (releaseHasIt && kernelHasIt) safeMask |= bit;
  }
  return { safeMask, kernelMissingMask };
}

const shared = new Map<string, NodeRuntime>();

/** The node's runtime, one shared object per distinct (kubelet, kernel) pair. */
export function nodeRuntimeOf(node: KubeNode): NodeRuntime {
  const info = node.status?.nodeInfo;
  const kubeletVersion = typeof info?.kubeletVersion === 'string' ? info.kubeletVersion : undefined;
  const kernelVersion = typeof info?.kernelVersion === 'string' ? info.kernelVersion : undefined;
  const key = `${kubeletVersion ?? ''}\u0000${kernelVersion ?? ''}`;
  let runtime = shared.get(key);
  if (!runtime) {
    if (shared.size >= 1024) shared.clear(); // bounded, whatever the cluster reports
    const kubeletMinor = parseKubeletMinor(kubeletVersion);
    const kernel = parseKernelVersion(kernelVersion);
    runtime = Object.freeze({
      // Own copies: the runtime outlives the Node object it was read from (see detached-string.ts).
      kubeletVersion: detachedCopyOf(kubeletVersion),
      kernelVersion: detachedCopyOf(kernelVersion),
      kubeletMinor,
      kernel,
      ...runtimeMasks(kubeletMinor, kernel),
    });
    shared.set(detachedCopyOf(key)!, runtime);
  }
  return runtime;
}

/** How explain names the kernel code: `4.15`. */
export function formatKernel(kernel: number): string {
  return `${Math.floor(kernel / 1000)}.${kernel % 1000}`;
}
