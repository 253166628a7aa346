import type { PolicyKeys } from './policy-keys.js';
import { SysctlClassifier } from './classify.js';
import { detachedCopy, detachedCopyOf, SharedStrings } from './detached-string.js';
import type { KubeDaemonSet, KubeNamespace, KubeNode, KubePod } from './kube-objects.js';
import { projectNode, type NodeProjection } from './node-projection.js';
import { projectPod, type DaemonSetRef, type PodProjection } from './pod-projection.js';
import { ProfileTable, type ProfileId } from './profile-intern.js';
import { normalizeSysctlName } from './sysctl-names.js';

/**
 * How many node changes the index remembers one by one (`nodesChangedSince`). A reader further
 * behind than this starts again from every node; a bind or a watch event changes one or two.
 */
const NODE_JOURNAL = 4096;

/** A node as the rules see it: its projection plus what the pods on it bring. */
export interface NodeView {
  readonly name: string;
  /** Undefined while the index knows of pods on the node but not the Node itself. */
  readonly projection: NodeProjection | undefined;
  /** Pods that make the node busy (not DaemonSet, not finished). Zero: the node is idle. */
  readonly occupants: number;
  /** Declared node-level values plus the unsafe values of its pods; CONFLICTING_PROFILE if they clash. */
  readonly profileId: ProfileId;
  /**
   * The projection's team, on the view itself: the rules check it first, and where most nodes
   * are dedicated most verdicts end there, without reading the projection, a cache miss per
   * node in a large heap (issue 14: at 550,000 pods the rules took 0.5 ms a call cold, 0.1 warm).
   */
  readonly team: string | undefined;
}

class NodeState implements NodeView {
  readonly name: string;
  projection: NodeProjection | undefined;
  team: string | undefined = undefined;
  occupants = 0;
  /** Every pod bound here, DaemonSet and finished ones too: the state is dropped at zero. */
  pods = 0;
  profileId: ProfileId = 0;
  /** How many occupying pods set each distinct unsafe part. */
  readonly unsafeCounts = new Map<ProfileId, number>();

  constructor(name: string) {
    // Also the name every pod on the node keeps (see detached-string.ts).
    this.name = detachedCopy(name);
  }
}

/**
 * The pods of one namespace claiming one DaemonSet (name and UID) as their controller: proven
 * while the watch shows a DaemonSet of that name and UID there. Shared by those pods.
 */
interface DaemonSetClaim extends DaemonSetRef {
  readonly key: string;
  readonly namespace: string;
  proven: boolean;
  /** Names of the claiming pods (each the stored pod's own string). */
  readonly pods: Set<string>;
}

/**
 * What the index reads objects by: the label and annotation keys, and the sysctls the operator
 * adds to the kubelet's safe list. Only these (a Policy has them too): a policy change that
 * leaves them alone keeps the index, so nothing else of a policy may live here.
 */
export interface IndexSettings {
  readonly keys: PolicyKeys;
  readonly extraSafeSysctls: readonly string[];
}

interface NamespaceEntry {
  /** The name pods in the namespace keep, so that 150,000 pods share a few dozen strings. */
  readonly name: string;
  readonly team: string | undefined;
}

/**
 * The in-memory index of the cluster: namespaces to teams, nodes to their projection, pods on
 * nodes and the profile each brings. Every update costs time proportional to the object
 * changed (a node's profile is recomputed from the distinct profiles on that node only).
 * The same update functions serve snapshots and watches.
 */
export class ClusterIndex {
  readonly profiles = new ProfileTable();
  readonly classifier: SysctlClassifier;
  private readonly namespaces = new Map<string, NamespaceEntry>();
  /** A pod's team and a node's are compared for every candidate: one string per team. */
  private readonly teamNames = new SharedStrings();
  private readonly nodes = new Map<string, NodeState>();
  private nodeGeneration = 0;
  /** The last NODE_JOURNAL node states whose view changed, the one of change c at c % NODE_JOURNAL. */
  private readonly nodeJournal = new Array<NodeView | undefined>(NODE_JOURNAL);
  private nodeChangeCount = 0;
  private readonly pods = new Map<string, PodProjection>();
  /** Preemption names its victims by UID only. */
  private readonly podsByUid = new Map<string, PodProjection>();
  /** DaemonSets the watch has shown, namespace/name to UID: they prove the pods that claim them. */
  private readonly daemonSets = new Map<string, string>();
  private readonly claims = new Map<string, DaemonSetClaim>();

  readonly keys: PolicyKeys;

  constructor(settings: IndexSettings) {
    // Copied field by field: a whole Policy passed in must not be kept (its rule mode and weights go stale).
    this.keys = settings.keys;
    this.classifier = new SysctlClassifier(settings.extraSafeSysctls.map(normalizeSysctlName));
  }

  get stats(): { namespaces: number; nodes: number; pods: number; profiles: number } {
    let nodes = 0;
    for (const state of this.nodes.values()) if (state.projection) nodes += 1;
    return { namespaces: this.namespaces.size, nodes, pods: this.pods.size, profiles: this.profiles.size };
  }

  // --- namespaces -------------------------------------------------------------------------

  upsertNamespace(namespace: KubeNamespace): boolean {
    const name = namespace.metadata?.name;
    if (typeof name !== 'string' || name === '') return false;
    const team = namespace.metadata?.labels?.[this.keys.teamLabel];
    const ownName = this.namespaces.get(name)?.name ?? detachedCopy(name);
    this.namespaces.set(ownName, { name: ownName, team: typeof team === 'string' && team !== '' ? this.teamNames.get(team) : undefined });
    return true;
  }

  deleteNamespace(name: string): void {
    this.namespaces.delete(name);
  }

  /** A pod's team comes from its namespace's label only: pods are written by users. */
  teamOfNamespace(namespace: string): string | undefined {
    return this.namespaces.get(namespace)?.team;
  }

  // --- nodes ------------------------------------------------------------------------------

  upsertNode(node: KubeNode): boolean {
    const projection = this.projectNode(node);
    if (!projection) return false;
    const state = this.nodeState(projection.name);
    // Every field listed, in projectNode's order: one hidden class for stored and request-time projections.
    state.projection = {
      name: state.name,
      resourceVersion: detachedCopyOf(projection.resourceVersion),
      team: this.teamNames.getOptional(projection.team),
      declaredId: projection.declaredId,
      allowList: projection.allowList,
      annotationProblem: detachedCopyOf(projection.annotationProblem),
      allowListUnreadable: projection.allowListUnreadable,
      runtime: projection.runtime,
    };
    state.team = state.projection.team;
    this.recomputeProfile(state);
    this.noteChange(state);
    return true;
  }

  deleteNode(name: string): void {
    const state = this.nodes.get(name);
    if (!state) return;
    state.projection = undefined;
    state.team = undefined;
    this.noteChange(state);
    // Pods still bound to a deleted node keep their state until the watch deletes them too.
    if (state.pods === 0) this.dropNodeState(name);
    else this.recomputeProfile(state);
  }

  node(name: string): NodeView | undefined {
    return this.nodes.get(name);
  }

  /** The node's view, or that of a node the index does not know (which every rule rejects). */
  viewOf(name: string): NodeView {
    return this.nodes.get(name) ?? { name, projection: undefined, occupants: 0, profileId: 0, team: undefined };
  }

  /** Iterates known nodes (with a projection) in insertion order. */
  *knownNodes(): IterableIterator<NodeView> {
    for (const state of this.nodes.values()) if (state.projection) yield state;
  }

  projectNode(node: KubeNode): NodeProjection | undefined {
    return projectNode(node, this.keys, this.classifier, this.profiles);
  }

  /**
   * A node as sent in a request (`Nodes` mode) combined with the pods the index knows on it:
   * labels and annotations come from the request, occupancy from the index.
   */
  viewWithProjection(projection: NodeProjection): NodeView {
    const state = this.nodes.get(projection.name);
    if (state?.projection === projection) return state;
    const unsafeIds = state ? state.unsafeCounts.keys() : [];
    return {
      name: projection.name,
      projection,
      team: projection.team,
      occupants: state?.occupants ?? 0,
      profileId: this.profiles.union([projection.declaredId, ...unsafeIds]),
    };
  }

  // --- pods -------------------------------------------------------------------------------

  /**
   * Adds or replaces a pod. A watch event that still shows a pod unbound while our bind has
   * assumed it on a node (the watch lags) keeps the assumption; one showing it bound confirms it.
   */
  upsertPod(pod: KubePod): boolean {
    let projection = this.projectPod(pod);
    if (!projection) return false;
    const key = podKey(projection.namespace, projection.name);
    const previous = this.pods.get(key);
    if (previous?.assumed && projection.nodeName === undefined && previous.uid === projection.uid) {
      projection = { ...projection, nodeName: previous.nodeName, assumed: true };
    }
    this.replacePod(key, previous, projection);
    return true;
  }

  deletePod(namespace: string, name: string): void {
    const key = podKey(namespace, name);
    const previous = this.pods.get(key);
    if (!previous) return;
    this.pods.delete(key);
    if (previous.uid !== undefined) this.podsByUid.delete(previous.uid);
    this.unclaim(previous);
    this.removeFromNode(previous);
  }

  pod(namespace: string, name: string): PodProjection | undefined {
    return this.pods.get(podKey(namespace, name));
  }

  podByUid(uid: string): PodProjection | undefined {
    return this.podsByUid.get(uid);
  }

  projectPod(pod: KubePod): PodProjection | undefined {
    return projectPod(pod, this.keys, this.classifier, this.profiles);
  }

  /** Counts a pod on a node before the watch shows it there (bind closes the placement race). */
  assumePod(pod: PodProjection, nodeName: string): void {
    const key = podKey(pod.namespace, pod.name);
    this.replacePod(key, this.pods.get(key), { ...pod, nodeName, assumed: true });
  }

  /** Undoes an assumption the watch has not confirmed; a confirmed or replaced pod is left alone. */
  forgetAssumedPod(namespace: string, name: string, nodeName: string): boolean {
    const key = podKey(namespace, name);
    const current = this.pods.get(key);
    if (!current?.assumed || current.nodeName !== nodeName) return false;
    this.replacePod(key, current, { ...current, nodeName: undefined, assumed: false });
    return true;
  }

  /** Makes an assumption permanent, as a watch event showing the pod bound would. */
  confirmAssumedPod(namespace: string, name: string, nodeName: string): void {
    const key = podKey(namespace, name);
    const current = this.pods.get(key);
    if (!current?.assumed || current.nodeName !== nodeName) return;
    const confirmed = { ...current, assumed: false };
    this.pods.set(key, confirmed);
    if (confirmed.uid !== undefined) this.podsByUid.set(confirmed.uid, confirmed);
  }

  // --- DaemonSets -------------------------------------------------------------------------

  /**
   * A DaemonSet appeared or changed: the pods claiming it (same namespace, name and UID) become
   * DaemonSet pods, which neither make their node busy nor give it a profile.
   */
  upsertDaemonSet(daemonSet: KubeDaemonSet): boolean {
    const meta = daemonSet.metadata;
    const [namespace, name, uid] = [meta?.namespace, meta?.name, meta?.uid];
    if (typeof namespace !== 'string' || typeof name !== 'string' || typeof uid !== 'string' || !namespace || !name || !uid) return false;
    const key = podKey(namespace, name);
    const previous = this.daemonSets.get(key);
    if (previous === uid) return true;
    this.daemonSets.set(previous === undefined ? detachedCopy(key) : key, detachedCopy(uid));
    if (previous !== undefined) this.setClaimProven(claimKey(namespace, name, previous), false);
    this.setClaimProven(claimKey(namespace, name, uid), true);
    return true;
  }

  /** A DaemonSet went: pods still claiming it count like any other pod again. */
  deleteDaemonSet(namespace: string, name: string): void {
    const key = podKey(namespace, name);
    const uid = this.daemonSets.get(key);
    if (uid === undefined) return;
    this.daemonSets.delete(key);
    this.setClaimProven(claimKey(namespace, name, uid), false);
  }

  daemonSetRefs(): Array<{ namespace: string; name: string }> {
    return [...this.daemonSets.keys()].map((key) => {
      const slash = key.indexOf('/');
      return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
    });
  }

  // --- enumeration, for reconciling after a relist -----------------------------------------

  namespaceNames(): string[] {
    return [...this.namespaces.keys()];
  }

  nodeNames(): string[] {
    return [...this.knownNodes()].map((n) => n.name);
  }

  podRefs(): Array<{ namespace: string; name: string }> {
    return [...this.pods.values()].map((p) => ({ namespace: p.namespace, name: p.name }));
  }

  /**
   * A node as it would be once the given pods were gone: what preemption asks. Victims not in
   * the index, or not on this node, change nothing.
   */
  viewWithout(nodeName: string, victims: readonly PodProjection[]): NodeView | undefined {
    const state = this.nodes.get(nodeName);
    if (!state) return undefined;
    const counts = new Map(state.unsafeCounts);
    let occupants = state.occupants;
    for (const victim of victims) {
      if (victim.nodeName !== nodeName || !victim.occupiesNode) continue;
      occupants -= 1;
      const count = (counts.get(victim.unsafeId) ?? 1) - 1;
      if (count > 0) counts.set(victim.unsafeId, count);
      else counts.delete(victim.unsafeId);
    }
    return {
      name: nodeName,
      projection: state.projection,
      team: state.team,
      occupants,
      profileId: this.profiles.union([state.projection?.declaredId ?? 0, ...counts.keys()]),
    };
  }

  // --- internals --------------------------------------------------------------------------

  private replacePod(key: string, previous: PodProjection | undefined, next: PodProjection): void {
    if (previous) {
      this.removeFromNode(previous);
      this.unclaim(previous);
      if (previous.uid !== undefined) this.podsByUid.delete(previous.uid);
    }
    // A known key stays the Map's own; a new one is a flat copy, not pieces of the object's strings.
    const ownKey = previous ? key : detachedCopy(key);
    const stored = this.storedPod(next, previous, ownKey);
    this.pods.set(ownKey, stored);
    if (stored.uid !== undefined) this.podsByUid.set(stored.uid, stored);
    this.addToNode(stored);
  }

  /**
   * The projection as kept: no string of the object it was read from (see detached-string.ts).
   * Names repeated on many pods are shared; a pod seen before keeps its own copies.
   */
  private storedPod(next: PodProjection, previous: PodProjection | undefined, ownKey: string): PodProjection {
    // Same key: same namespace and name.
    const namespace = previous?.namespace ?? this.namespaces.get(next.namespace)?.name ?? detachedCopy(next.namespace);
    // The name is the copied key's tail (a namespace has no '/'): one copy less per new pod.
    const name = previous?.name ?? ownKey.slice(next.namespace.length + 1);
    const daemonSet = next.daemonSet === undefined ? undefined : this.claim(namespace, next.daemonSet, name);
    // Every field listed, in projectPod's order: one hidden class for every projection.
    return {
      namespace,
      name,
      uid: previous !== undefined && previous.uid === next.uid ? previous.uid : detachedCopyOf(next.uid),
      nodeName: next.nodeName === undefined ? undefined : this.nodeState(next.nodeName).name,
      // A claimed DaemonSet counts only once the watch has shown it (SPEC section 1).
      occupiesNode: !next.finished && !daemonSet?.proven,
      finished: next.finished,
      daemonSet,
      unsafeId: next.unsafeId,
      nodeLevelId: next.nodeLevelId,
      profileId: next.profileId,
      safeMask: next.safeMask,
      problem: next.problem === previous?.problem ? previous?.problem : detachedCopyOf(next.problem),
      assumed: next.assumed,
    };
  }

  /**
   * Changes whenever a node's state object is created or dropped: views held since the last
   * change are still the live ones (candidates.ts caches them across requests).
   */
  get nodeSetGeneration(): number {
    return this.nodeGeneration;
  }

  /**
   * Counts every change of a node's view (projection, team, occupancy, profile): a reader that
   * kept what it derived from the views at one count asks `nodesChangedSince` what to redo.
   */
  get nodeChanges(): number {
    return this.nodeChangeCount;
  }

  /**
   * Calls `visit` with each node whose view changed since `nodeChanges` was `since` (a node
   * may come more than once); false, visiting none, if more changed than the journal holds.
   */
  nodesChangedSince(since: number, visit: (view: NodeView) => void): boolean {
    if (since > this.nodeChangeCount || this.nodeChangeCount - since > NODE_JOURNAL) return false;
    for (let c = since; c < this.nodeChangeCount; c += 1) visit(this.nodeJournal[c % NODE_JOURNAL]!);
    return true;
  }

  private noteChange(state: NodeState): void {
    this.nodeJournal[this.nodeChangeCount % NODE_JOURNAL] = state;
    this.nodeChangeCount += 1;
  }

  private nodeState(name: string): NodeState {
    let state = this.nodes.get(name);
    if (!state) {
      state = new NodeState(name);
      this.nodes.set(state.name, state);
      this.nodeGeneration += 1;
    }
    return state;
  }

  private dropNodeState(name: string): void {
    this.nodes.delete(name);
    this.nodeGeneration += 1;
  }

  private addToNode(pod: PodProjection): void {
    if (!pod.nodeName) return;
    const state = this.nodeState(pod.nodeName);
    state.pods += 1;
    if (!pod.occupiesNode) return;
    state.occupants += 1;
    const count = state.unsafeCounts.get(pod.unsafeId) ?? 0;
    state.unsafeCounts.set(pod.unsafeId, count + 1);
    if (count === 0) this.recomputeProfile(state);
    this.noteChange(state);
  }

  private removeFromNode(pod: PodProjection): void {
    if (!pod.nodeName) return;
    const state = this.nodes.get(pod.nodeName);
    if (!state) return;
    state.pods -= 1;
    if (pod.occupiesNode) {
      state.occupants -= 1;
      const count = (state.unsafeCounts.get(pod.unsafeId) ?? 1) - 1;
      if (count > 0) state.unsafeCounts.set(pod.unsafeId, count);
      else {
        state.unsafeCounts.delete(pod.unsafeId);
        this.recomputeProfile(state);
      }
      this.noteChange(state);
    }
    if (state.pods === 0 && !state.projection) this.dropNodeState(state.name);
  }

  /** The shared claim of pods in `namespace` on that DaemonSet, now with `podName` among them. */
  private claim(namespace: string, ref: DaemonSetRef, podName: string): DaemonSetClaim {
    const key = claimKey(namespace, ref.name, ref.uid);
    let claim = this.claims.get(key);
    if (!claim) {
      const own = detachedCopy(key);
      claim = {
        key: own,
        namespace,
        name: detachedCopy(ref.name),
        uid: detachedCopy(ref.uid),
        proven: this.daemonSets.get(podKey(namespace, ref.name)) === ref.uid,
        pods: new Set(),
      };
      this.claims.set(own, claim);
    }
    claim.pods.add(podName);
    return claim;
  }

  private unclaim(pod: PodProjection): void {
    if (!pod.daemonSet) return;
    const key = claimKey(pod.namespace, pod.daemonSet.name, pod.daemonSet.uid);
    const claim = this.claims.get(key);
    if (!claim) return;
    claim.pods.delete(pod.name);
    if (claim.pods.size === 0) this.claims.delete(key);
  }

  /** Re-evaluates the claiming pods, and so their nodes' occupancy and profiles. */
  private setClaimProven(key: string, proven: boolean): void {
    const claim = this.claims.get(key);
    if (!claim || claim.proven === proven) return;
    claim.proven = proven;
    for (const name of claim.pods) {
      const podKeyText = podKey(claim.namespace, name);
      const pod = this.pods.get(podKeyText);
      if (!pod || pod.finished || pod.occupiesNode === !proven) continue;
      const next: PodProjection = { ...pod, occupiesNode: !proven };
      this.pods.set(podKeyText, next);
      if (next.uid !== undefined) this.podsByUid.set(next.uid, next);
      // Added before removed: the node's state is never dropped in between.
      this.addToNode(next);
      this.removeFromNode(pod);
    }
  }

  private recomputeProfile(state: NodeState): void {
    state.profileId = this.profiles.union([state.projection?.declaredId ?? 0, ...state.unsafeCounts.keys()]);
  }
}

function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function claimKey(namespace: string, name: string, uid: string): string {
  return `${namespace}/${name}/${uid}`;
}
