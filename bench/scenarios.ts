/**
 * What the latency suite measures. Candidate shares: 10% is what kube-scheduler's default
 * `percentageOfNodesToScore` sends at 5,000 nodes (50 - nodes/125 percent), 100% the worst case
 * and the SPEC section 6 bar.
 */
import type { ClusterSpec } from '../support/synthetic-cluster/cluster-generator.js';
import type { CandidateMode } from './request-bodies.js';

/** bind: kube-scheduler's last call per pod, `{"PodName", "PodNamespace", "PodUID", "Node"}`. */
export type Verb = 'filter' | 'prioritize' | 'bind';
/** The verbs that take candidate nodes. */
export type CandidateVerb = Exclude<Verb, 'bind'>;

export interface Scenario {
  readonly id: string;
  readonly cluster: ClusterSpec;
  readonly verb: Verb;
  /** How candidates are sent (bind sends none). */
  readonly mode: CandidateMode;
  /** Share of the cluster's nodes sent as candidates (0 for bind). */
  readonly share: number;
}

export const PODS_PER_NODE = 30;
export const FULL_SIZES = [500, 5000] as const;
/** The SPEC section 6 bar: 5,000 nodes, NodeNames, all nodes as candidates, one connection. */
export const TARGET_SIZE = 5000;

export function scenario(cluster: ClusterSpec, verb: CandidateVerb, mode: CandidateMode, share: number): Scenario {
  const id = `${verb} ${mode === 'names' ? 'NodeNames' : 'Nodes'} ${Math.round(share * 100)}% @ ${cluster.nodes} nodes`;
  return { id, cluster, verb, mode, share };
}

/**
 * Bind runs are bounded by a request count, each request binding a pod of the pool once:
 * a warm-up, then one run per round, per connection count. The pool covers 5 rounds of 2.
 */
export const BIND_RUN_REQUESTS = 4000;
export const BIND_WARMUP_REQUESTS = 1000;
const BIND_POOL = 2 * (BIND_WARMUP_REQUESTS + 5 * BIND_RUN_REQUESTS) + 100;

/**
 * Bind of a pending pod to a node the rules accept. Its cluster carries the pool of pending
 * pods, so it gets servers of its own: the filter and prioritize figures stay those of the
 * cluster without them, and no bind changes what they answer.
 */
export function bindScenario(nodes: number, seed: number): Scenario {
  const cluster = { ...clusterSpec(nodes, seed), pendingPods: BIND_POOL };
  return { id: `bind @ ${nodes} nodes`, cluster, verb: 'bind', mode: 'names', share: 0 };
}

export function clusterSpec(nodes: number, seed: number): ClusterSpec {
  return { nodes, podsPerNode: PODS_PER_NODE, seed };
}

export function fullScenarios(seed: number, sizes: readonly number[] = FULL_SIZES): Scenario[] {
  return sizes.flatMap((nodes) => {
    const cluster = clusterSpec(nodes, seed);
    const byNames = (['filter', 'prioritize'] as const).flatMap((verb) => [0.1, 1].map((share) => scenario(cluster, verb, 'names', share)));
    // Full Node objects run to megabytes per call; kube-scheduler sends them only without nodeCacheCapable.
    const withNodes = nodes === 500 ? [...byNames, scenario(cluster, 'filter', 'nodes', 1)] : byNames;
    return [...withNodes, bindScenario(nodes, seed)];
  });
}

/** Whether a scenario at one connection is one SPEC section 6 holds the extender to. */
export function isTargetScenario(s: Scenario): boolean {
  return s.cluster.nodes === TARGET_SIZE && s.mode === 'names' && s.share === 1;
}
