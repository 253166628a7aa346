import type { PolicyKeys } from './policy-keys.js';
import type { SysctlClassifier } from './classify.js';
import type { KubePod } from './kube-objects.js';
import { readPodNeeds } from './pod-needs.js';
import type { ProfileId, ProfileTable } from './profile-intern.js';

/** What the index keeps of a Pod. */
export interface PodProjection {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
  readonly nodeName: string | undefined;
  /**
   * Whether the pod makes its node busy and gives it a profile. DaemonSet pods run on every
   * node whatever its profile, and finished pods hold no kernel state: neither counts. A pod is
   * a DaemonSet pod only once the index has seen the DaemonSet it claims (ClusterIndex decides:
   * projectPod alone counts every unfinished pod).
   */
  readonly occupiesNode: boolean;
  /** Succeeded or Failed. */
  readonly finished: boolean;
  /** The DaemonSet its controller owner reference names; a claim, proven only by the DaemonSet itself. */
  readonly daemonSet: DaemonSetRef | undefined;
  /** The unsafe sysctls it sets, interned. */
  readonly unsafeId: ProfileId;
  /** The node-level values it needs, interned. */
  readonly nodeLevelId: ProfileId;
  /** Its whole profile (unsafe plus node-level), interned. */
  readonly profileId: ProfileId;
  /** The kubelet-safe sysctls it sets (PodNeeds.safeMask): bind checks them again. */
  readonly safeMask: number;
  /** Why no kubelet would run it as written (see PodNeeds.problem). */
  readonly problem: string | undefined;
  /** Placed by our bind verb, not yet confirmed by the watch. */
  readonly assumed: boolean;
}

/** A DaemonSet as a pod's owner reference names it (in the pod's namespace). */
export interface DaemonSetRef {
  readonly name: string;
  readonly uid: string;
}

export function projectPod(
  pod: KubePod,
  keys: PolicyKeys,
  classifier: SysctlClassifier,
  profiles: ProfileTable,
): PodProjection | undefined {
  const meta = pod.metadata;
  if (!meta || typeof meta.name !== 'string' || typeof meta.namespace !== 'string') return undefined;
  const needs = readPodNeeds(pod, keys, classifier);
  const nodeName = pod.spec?.nodeName;
  const finished = isFinished(pod);
  return {
    namespace: meta.namespace,
    name: meta.name,
    uid: meta.uid,
    nodeName: typeof nodeName === 'string' && nodeName !== '' ? nodeName : undefined,
    occupiesNode: !finished,
    finished,
    daemonSet: claimedDaemonSet(pod),
    unsafeId: profiles.intern(needs.unsafe),
    nodeLevelId: profiles.intern(needs.nodeLevel),
    profileId: profiles.intern([...needs.unsafe, ...needs.nodeLevel]),
    safeMask: needs.safeMask,
    problem: needs.problem,
    assumed: false,
  };
}

/**
 * The DaemonSet the pod's controller owner reference names. Whoever creates a pod writes its
 * owner references, so this is only a claim (SPEC section 1, idle node).
 */
export function claimedDaemonSet(pod: KubePod): DaemonSetRef | undefined {
  const refs = pod.metadata?.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  for (const ref of refs) {
    if (ref?.controller !== true) continue;
    // One controller per object: the API server refuses a second one.
    if (ref.kind !== 'DaemonSet' || (ref.apiVersion !== undefined && ref.apiVersion !== 'apps/v1')) return undefined;
    if (typeof ref.name !== 'string' || ref.name === '' || typeof ref.uid !== 'string' || ref.uid === '') return undefined;
    return { name: ref.name, uid: ref.uid };
  }
  return undefined;
}

function isFinished(pod: KubePod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}
