import { filterContextFor } from '../filter/filter-context.js';
import { filterNode } from '../filter/filter-node.js';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { PodProjection } from '../sysctl-index/pod-projection.js';
import { decodePreemptionArgs } from './decode.js';
import type { Generation } from './generation.js';
import { parseJson } from './json-body.js';
import type { Verb } from './verb.js';
import { nameMap, type ExtenderPreemptionArgs, type ExtenderPreemptionResult, type MetaVictims } from './wire-types.js';

/**
 * The preempt verb: kube-scheduler proposes, per node, the pods it would evict. We keep the
 * nodes where, once those victims are gone, the pod would pass our rules, with the victims
 * proposed; nodes where eviction cannot help (team, declared values) are dropped. The answer
 * is always `NodeNameToMetaVictims`, which kube-scheduler accepts in both node-cache modes.
 */
export function runPreempt(args: ExtenderPreemptionArgs, generation: Generation): ExtenderPreemptionResult {
  const index = generation.index;
  const ctx = filterContextFor(args.Pod, generation);
  const out = nameMap<MetaVictims>();
  for (const { node, uids, victims, pdbViolations } of proposals(args, index)) {
    const view = index.viewWithout(node, victims);
    if (view && !filterNode(ctx, view)) {
      out[node] = { Pods: uids.map((UID) => ({ UID })), NumPDBViolations: pdbViolations };
    }
  }
  return { NodeNameToMetaVictims: out };
}

/** POST /preempt. */
export const preemptVerb: Verb = {
  name: 'preempt',
  handle: (body, generation) => runPreempt(decodePreemptionArgs(parseJson(body)), generation),
};

interface Proposal {
  node: string;
  uids: string[];
  /**
   * The victims as the index counts them. A victim the index does not know was never counted
   * on the node, so removing it changes nothing: the index, not the request, is the truth.
   */
  victims: PodProjection[];
  pdbViolations: number;
}

function proposals(args: ExtenderPreemptionArgs, index: ClusterIndex): Proposal[] {
  const proposed: Array<[string, string[], number | undefined]> = args.NodeNameToMetaVictims
    ? Object.entries(args.NodeNameToMetaVictims).map(([node, v]) => [node, (v.Pods ?? []).map((p) => p.UID), v.NumPDBViolations])
    : Object.entries(args.NodeNameToVictims ?? {}).map(([node, v]) => [node, (v.Pods ?? []).map((p) => p.metadata?.uid ?? ''), v.NumPDBViolations]);
  return proposed.map(([node, uids, pdbViolations]) => ({
    node,
    uids,
    victims: known(uids.map((uid) => index.podByUid(uid))),
    pdbViolations: pdbViolations ?? 0,
  }));
}

function known(victims: Array<PodProjection | undefined>): PodProjection[] {
  return victims.filter((v): v is PodProjection => v !== undefined);
}
