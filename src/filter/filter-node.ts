import type { AllowList } from '../sysctl-index/allow-list.js';
import type { NodeView } from '../sysctl-index/cluster-index.js';
import type { NodeProjection } from '../sysctl-index/node-projection.js';
import { CONFLICTING_PROFILE, type ProfileTable } from '../sysctl-index/profile-intern.js';
import type { PodRequirements } from './pod-requirements.js';
import { REJECT, type Rejection } from './reasons.js';

/** Which rule a node's profile is judged by (SPEC section 3): equal profiles, or compatible ones. */
export type RuleMode = 'strict' | 'compatible';

/**
 * Per-request memo for work that depends on the pod and a node property shared by many nodes
 * (an allow-list, a profile): computed once, not once per node.
 */
export class FilterContext {
  private readonly allowed = new Map<AllowList, boolean>();
  private readonly compatible = new Map<string, Rejection | undefined>();

  constructor(
    readonly pod: PodRequirements,
    readonly ruleMode: RuleMode,
    readonly profiles: ProfileTable,
  ) {}

  allows(list: AllowList): boolean {
    let verdict = this.allowed.get(list);
    if (verdict === undefined) {
      verdict = this.pod.unsafe.every((s) => list.allows(s.name));
      this.allowed.set(list, verdict);
    }
    return verdict;
  }

  compatibleVerdict(declaredId: number, profileId: number): Rejection | undefined {
    const key = `${declaredId}:${profileId}`;
    if (!this.compatible.has(key)) this.compatible.set(key, compatibleRule(this, declaredId, profileId));
    return this.compatible.get(key);
  }
}

/**
 * SPEC section 3 for one pod and one node: undefined if the pod may run there, else why not.
 * Pure: reads the node view and the pod requirements, changes nothing.
 */
export function filterNode(ctx: FilterContext, node: NodeView): Rejection | undefined {
  const pod = ctx.pod;
  if (pod.problem) return pod.problem;
  const projection = node.projection;
  if (!projection) return REJECT.unknownNode;
  // The view's copy of projection.team (cluster-index.ts says why).
  if (node.team !== undefined && node.team !== pod.team) {
    return pod.team === undefined ? REJECT.namespaceHasNoTeam : REJECT.otherTeam;
  }
  if (projection.annotationProblem !== undefined) {
    return projection.allowListUnreadable ? REJECT.allowListInvalid : REJECT.nodeAnnotationInvalid;
  }
  if (pod.safeMask !== 0 || pod.unsafe.length > 0) {
    const refused = admissionRule(ctx, projection);
    if (refused) return refused;
  }
  if (ctx.ruleMode === 'compatible') return ctx.compatibleVerdict(projection.declaredId, node.profileId);
  return strictRule(pod, projection.declaredId, node);
}

/**
 * Whether the node's kubelet admits the pod's sysctls (pkg/kubelet/sysctl/allowlist.go `Admit`:
 * each must be on the safe list of that kubelet and kernel, or allowed by its
 * `--allowed-unsafe-sysctls`). Integer work per node: the pod's safe sysctls and the node's
 * safe list are bit masks, the allow-list verdict is memoised per shared list.
 */
function admissionRule(ctx: FilterContext, projection: NodeProjection): Rejection | undefined {
  const pod = ctx.pod;
  const runtime = projection.runtime;
  // Safe on the newest kubelets, not here: unsafe on this node, or not namespaced by its kernel at all.
  const notSafeHere = pod.safeMask & ~runtime.safeMask;
  if ((notSafeHere & runtime.kernelMissingMask) !== 0) return REJECT.kernelNotNamespaced;
  if (notSafeHere === 0 && pod.unsafe.length === 0) return undefined;
  const list = projection.allowList;
  if (!list) return pod.undeclaredAllowList;
  if (pod.unsafe.length > 0 && !ctx.allows(list)) return REJECT.unsafeNotAllowed;
  if ((notSafeHere & ~list.safeMask) !== 0) return REJECT.safeNotOnKubelet;
  return undefined;
}

/**
 * strict: the node's profile equals the pod's; or the node is idle and declares exactly the
 * node-level part of the pod's profile, and the pod claims it. An empty pod profile matches
 * only nodes whose profile is empty, so plain pods stay on untuned nodes.
 */
function strictRule(pod: PodRequirements, declaredId: number, node: NodeView): Rejection | undefined {
  if (node.profileId === pod.profileId) return undefined;
  if (declaredId !== pod.nodeLevelId) return REJECT.declaredMismatch;
  if (node.occupants === 0) return undefined;
  return REJECT.busyOtherProfile;
}

/**
 * compatible: no name set to two values, and every node-level value the pod needs is declared.
 * A clash with declared values is unresolvable; one with running pods' values is not.
 */
function compatibleRule(ctx: FilterContext, declaredId: number, profileId: number): Rejection | undefined {
  const declared = ctx.profiles.entries(declaredId);
  for (const { name, value } of ctx.pod.nodeLevel) {
    const have = declared.get(name);
    if (have === undefined) return REJECT.nodeLevelMissing;
    if (have !== value) return REJECT.declaredConflict;
  }
  for (const { name, value } of ctx.pod.unsafe) {
    const have = declared.get(name);
    if (have !== undefined && have !== value) return REJECT.declaredConflict;
  }
  if (profileId === CONFLICTING_PROFILE) return REJECT.podsConflict;
  const inEffect = ctx.profiles.entries(profileId);
  for (const { name, value } of ctx.pod.unsafe) {
    const have = inEffect.get(name);
    if (have !== undefined && have !== value) return REJECT.podsConflict;
  }
  return undefined;
}
