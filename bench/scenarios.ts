/**
 * What the latency suite measures. Candidate shares: 10% is what kube-scheduler's default
 * `percentageOfNodesToScore` sends at 5,000 nodes (50 - nodes/125 percent), 100% the worst case
 * and the SPEC section 6 bar.
 */
import type { ClusterSpec } from './cluster-generator.js';
import type { CandidateMode } from './request-bodies.js';

/*
 * BIND: not implemented by the extender yet (SPEC section 4). Once POST /bind exists, add
 * 'bind' here, give it bodies shaped like names/c-unsafe-bind.json ({"PodName", "PodNamespace",
 * "PodUID", "Node"}) in request-bodies.ts, and add bind scenarios in `fullScenarios` and
 * `ciScenarios`. The baseline server already answers /bind with {"Error":""}.
 */
export type Verb = 'filter' | 'prioritize';

export interface Scenario {
  readonly id: string;
  readonly cluster: ClusterSpec;
  readonly verb: Verb;
  readonly mode: CandidateMode;
  /** Share of the cluster's nodes sent as candidates. */
  readonly share: number;
}

export const PODS_PER_NODE = 30;
export const FULL_SIZES = [500, 5000] as const;
/** The SPEC section 6 bar: 5,000 nodes, NodeNames, all nodes as candidates, one connection. */
export const TARGET_SIZE = 5000;

export function scenario(cluster: ClusterSpec, verb: Verb, mode: CandidateMode, share: number): Scenario {
  const id = `${verb} ${mode === 'names' ? 'NodeNames' : 'Nodes'} ${Math.round(share * 100)}% @ ${cluster.nodes} nodes`;
  return { id, cluster, verb, mode, share };
}

export function clusterSpec(nodes: number, seed: number): ClusterSpec {
  return { nodes, podsPerNode: PODS_PER_NODE, seed };
}

export function fullScenarios(seed: number, sizes: readonly number[] = FULL_SIZES): Scenario[] {
  return sizes.flatMap((nodes) => {
    const cluster = clusterSpec(nodes, seed);
    const byNames = (['filter', 'prioritize'] as const).flatMap((verb) => [0.1, 1].map((share) => scenario(cluster, verb, 'names', share)));
    // Full Node objects run to megabytes per call; kube-scheduler sends them only without nodeCacheCapable.
    return nodes === 500 ? [...byNames, scenario(cluster, 'filter', 'nodes', 1)] : byNames;
  });
}

export function ciScenarios(seed: number): Scenario[] {
  const cluster = clusterSpec(TARGET_SIZE, seed);
  return [scenario(cluster, 'filter', 'names', 1), scenario(cluster, 'prioritize', 'names', 1)];
}

/** Whether a scenario at one connection is one SPEC section 6 holds the extender to. */
export function isTargetScenario(s: Scenario): boolean {
  return s.cluster.nodes === TARGET_SIZE && s.mode === 'names' && s.share === 1;
}
