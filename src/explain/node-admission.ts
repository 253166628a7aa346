import type { PodRequirements } from '../filter/pod-requirements.js';
import { KUBELET_SAFE_SYSCTLS } from '../sysctl-index/classify.js';
import type { NodeProjection } from '../sysctl-index/node-projection.js';
import { formatKernel } from '../sysctl-index/node-runtime.js';

/** The kubelet and kernel a node was judged by, as it reports them and as read. */
export interface NodeRuntimeExplanation {
  /** status.nodeInfo.kubeletVersion, or null where the node reports none. */
  readonly kubeletVersion: string | null;
  /** The release judged by (`1.31`), or null: unreadable, so only the original safe sysctls count. */
  readonly kubeletRelease: string | null;
  readonly kernelVersion: string | null;
  /** `5.15`, or null: unreadable, so no kernel-gated safe sysctl counts. */
  readonly kernelRelease: string | null;
}

export interface RefusedSysctl {
  readonly name: string;
  readonly why: string;
}

export function runtimeExplanation(projection: NodeProjection | undefined): NodeRuntimeExplanation | null {
  if (!projection) return null;
  const r = projection.runtime;
  return {
    kubeletVersion: r.kubeletVersion ?? null,
    kubeletRelease: r.kubeletMinor === undefined ? null : `1.${r.kubeletMinor}`,
    kernelVersion: r.kernelVersion ?? null,
    kernelRelease: r.kernel === undefined ? null : formatKernel(r.kernel),
  };
}

/**
 * Each of the pod's sysctls this node's kubelet would refuse, and why: the node-specific detail
 * behind the filter's short reason (which must stay the same for every node).
 */
export function refusedSysctls(pod: PodRequirements, projection: NodeProjection | undefined, annotation: string, trustUndeclared: boolean): RefusedSysctl[] {
  if (!projection || pod.problem) return [];
  const r = projection.runtime;
  const list = projection.allowList;
  const refused: RefusedSysctl[] = [];
  const notAdmitted = (name: string): string | undefined => {
    if (projection.allowListUnreadable) return undefined; // the node takes no pods at all; its problem says why
    if (list) return list.allows(name) ? undefined : `not allowed by the node's allow-list "${list.source}"`;
    return trustUndeclared ? undefined : `the node declares no ${annotation} annotation`;
  };
  for (const entry of KUBELET_SAFE_SYSCTLS) {
    const bit = 1 << entry.bit;
    if ((pod.safeMask & bit) === 0 || (r.safeMask & bit) !== 0) continue;
    if ((r.kernelMissingMask & bit) !== 0) {
      refused.push({ name: entry.name, why: `not namespaced before kernel ${formatKernel(entry.minKernel!)}; the node runs ${formatKernel(r.kernel!)}` });
      continue;
    }
    const missing = notAdmitted(entry.name);
    if (missing === undefined) continue;
    const releaseLacks = r.kubeletMinor === undefined ? 'the node reports no readable kubelet version, so only the original safe sysctls count'
      : r.kubeletMinor < entry.sinceMinor ? `safe only from kubelet 1.${entry.sinceMinor}; the node runs 1.${r.kubeletMinor}`
      : 'the node reports no readable kernel version, so the kubelet drops kernel-gated safe sysctls';
    refused.push({ name: entry.name, why: `${releaseLacks}, and ${missing}` });
  }
  for (const { name } of pod.unsafe) {
    const missing = notAdmitted(name);
    if (missing !== undefined) refused.push({ name, why: `unsafe: ${missing}` });
  }
  return refused;
}
