import type { PolicyKeys } from '../config/policy.js';
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
   * node whatever its profile, and finished pods hold no kernel state: neither counts.
   */
  readonly occupiesNode: boolean;
  /** The unsafe sysctls it sets, interned. */
  readonly unsafeId: ProfileId;
  /** The node-level values it needs, interned. */
  readonly nodeLevelId: ProfileId;
  /** Its whole profile (unsafe plus node-level), interned. */
  readonly profileId: ProfileId;
  /** Why no kubelet would run it as written (see PodNeeds.problem). */
  readonly problem: string | undefined;
  /** Placed by our bind verb, not yet confirmed by the watch. */
  readonly assumed: boolean;
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
  return {
    namespace: meta.namespace,
    name: meta.name,
    uid: meta.uid,
    nodeName: typeof nodeName === 'string' && nodeName !== '' ? nodeName : undefined,
    occupiesNode: !isDaemonSetPod(pod) && !isFinished(pod),
    unsafeId: profiles.intern(needs.unsafe),
    nodeLevelId: profiles.intern(needs.nodeLevel),
    profileId: profiles.intern([...needs.unsafe, ...needs.nodeLevel]),
    problem: needs.problem,
    assumed: false,
  };
}

export function isDaemonSetPod(pod: KubePod): boolean {
  return (pod.metadata?.ownerReferences ?? []).some((ref) => ref?.kind === 'DaemonSet' && ref.controller === true);
}

function isFinished(pod: KubePod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}
