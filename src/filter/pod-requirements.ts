import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { KubePod } from '../sysctl-index/kube-objects.js';
import type { PodProjection } from '../sysctl-index/pod-projection.js';
import { readPodNeeds } from '../sysctl-index/pod-needs.js';
import type { ProfileId } from '../sysctl-index/profile-intern.js';
import type { SysctlConfEntry } from '../sysctl-index/sysctl-conf.js';
import { podProblem, REJECT, type Rejection } from './reasons.js';

/**
 * Everything the rules need of the pod being placed, computed once per request so that the
 * per-node work is a few integer comparisons (like kube-scheduler's PreScore/Score split).
 */
export interface PodRequirements {
  readonly namespace: string;
  /** From the namespace's label only, never from the pod. */
  readonly team: string | undefined;
  /** The pod's whole profile; UNSEEN_PROFILE if no node or pod in the index has it. */
  readonly profileId: ProfileId;
  /** The node-level part of the profile (what an idle node must declare to be claimed). */
  readonly nodeLevelId: ProfileId;
  readonly unsafe: readonly SysctlConfEntry[];
  readonly nodeLevel: readonly SysctlConfEntry[];
  /** The kubelet-safe sysctls it sets (classify.ts bits): safe only where the node's kubelet and kernel say so. */
  readonly safeMask: number;
  /** Set when no kubelet would run the pod as written. */
  readonly problem: Rejection | undefined;
  /**
   * Where a node declares no allow-list: undefined if it is trusted to admit every unsafe sysctl
   * (policy trustUndeclaredAllowList), else the rejection it gets for any sysctl not safe there.
   */
  readonly undeclaredAllowList: Rejection | undefined;
}

/**
 * A text equal for two pods exactly when the rules give them the same verdict on every node
 * under one policy and index (verdict-cache.ts keeps verdicts by it): every field the rules
 * read but the namespace, which counts only through its team. The entries are written out, since
 * pods of profiles no node has yet share UNSEEN_PROFILE. Undefined for a pod with a problem:
 * its verdict is the same everywhere and costs nothing to repeat.
 */
export function requirementsKey(pod: PodRequirements): string | undefined {
  if (pod.problem) return undefined;
  return JSON.stringify([pod.team ?? null, pod.profileId, pod.nodeLevelId, pod.safeMask, pod.undeclaredAllowList?.code ?? null, pod.unsafe, pod.nodeLevel]);
}

/** What a node without the allow-list annotation the index reads gives the pod. */
function undeclaredAllowList(trustUndeclaredAllowList: boolean): Rejection | undefined {
  return trustUndeclaredAllowList ? undefined : REJECT.allowListUndeclared;
}

export function podRequirements(pod: KubePod, index: ClusterIndex, trustUndeclaredAllowList: boolean): PodRequirements {
  const namespace = pod.metadata?.namespace ?? '';
  const needs = readPodNeeds(pod, index.keys, index.classifier);
  return {
    namespace,
    team: index.teamOfNamespace(namespace),
    // lookup, not intern: request bodies must not grow the index.
    profileId: index.profiles.lookup([...needs.unsafe, ...needs.nodeLevel]),
    nodeLevelId: index.profiles.lookup(needs.nodeLevel),
    unsafe: needs.unsafe,
    nodeLevel: needs.nodeLevel,
    safeMask: needs.safeMask,
    problem: needs.problem === undefined ? undefined : podProblem(needs.problem),
    undeclaredAllowList: undeclaredAllowList(trustUndeclaredAllowList),
  };
}

/** The same requirements, rebuilt from what the index keeps of a pod (bind has no Pod body). */
export function requirementsOfProjection(pod: PodProjection, index: ClusterIndex, trustUndeclaredAllowList: boolean): PodRequirements {
  const entriesOf = (id: ProfileId) => [...index.profiles.entries(id)].map(([name, value]) => ({ name, value }));
  return {
    namespace: pod.namespace,
    team: index.teamOfNamespace(pod.namespace),
    profileId: pod.profileId,
    nodeLevelId: pod.nodeLevelId,
    unsafe: entriesOf(pod.unsafeId),
    nodeLevel: entriesOf(pod.nodeLevelId),
    safeMask: pod.safeMask,
    problem: pod.problem === undefined ? undefined : podProblem(pod.problem),
    undeclaredAllowList: undeclaredAllowList(trustUndeclaredAllowList),
  };
}
