import type { FilterContext } from '../filter/filter-node.js';
import { filterNode } from '../filter/filter-node.js';
import type { NodeView } from '../sysctl-index/cluster-index.js';

/** kube-scheduler's `MaxExtenderPriority` (pkg/scheduler/framework/interface.go). */
export const MAX_EXTENDER_PRIORITY = 10;

/** How much each term counts; the policy's `weights` (config/policy.ts), tuned by the operator. */
export type Weights = Readonly<{ profileReuse: number; ownTeam: number }>;

/** Each term is 0 or 1; the score is their weighted mean scaled to 0..10. */
export interface ScoreTerms {
  /** The node already runs pods with exactly the pod's profile: reuse it, keep idle nodes free. */
  readonly profileReuse: number;
  /** The node is dedicated to the pod's team: leave shared capacity to teams without nodes. */
  readonly ownTeam: number;
}

export interface NodeScore {
  readonly score: number;
  /** Undefined where the node fails the filter (it then scores 0). */
  readonly terms: ScoreTerms | undefined;
}

/** Most candidates fail the filter: one shared answer for them, not an object each. */
const FAILS_FILTER: NodeScore = Object.freeze({ score: 0, terms: undefined });

export function scoreNode(ctx: FilterContext, node: NodeView, weights: Weights): NodeScore {
  if (filterNode(ctx, node)) return FAILS_FILTER;
  const terms: ScoreTerms = {
    profileReuse: node.occupants > 0 && node.profileId === ctx.pod.profileId ? 1 : 0,
    ownTeam: node.team !== undefined && node.team === ctx.pod.team ? 1 : 0,
  };
  return { score: weightedScore(terms, weights), terms };
}

export function weightedScore(terms: ScoreTerms, weights: Weights): number {
  const total = weights.profileReuse + weights.ownTeam;
  if (total === 0) return 0;
  const mean = (terms.profileReuse * weights.profileReuse + terms.ownTeam * weights.ownTeam) / total;
  return Math.round(mean * MAX_EXTENDER_PRIORITY);
}
