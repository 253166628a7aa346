import type { NodeView } from '../sysctl-index/cluster-index.js';
import { filterNode, type FilterContext } from './filter-node.js';
import type { Rejection } from './reasons.js';

/**
 * The filter's verdict on each candidate, in request order: why the node cannot take the pod,
 * or undefined where it may run. One array rather than an object per rejected node: at 5,000
 * candidates that allocation showed up as garbage-collection time.
 */
export type Verdicts = readonly (Rejection | undefined)[];

/**
 * Applies the rules to each candidate view. `into`, if as long as `views`, is overwritten and
 * returned instead of a new array (the filter verb keeps one: see filter-verb.ts).
 */
export function filterNodes(ctx: FilterContext, views: readonly NodeView[], into?: (Rejection | undefined)[]): Verdicts {
  // Sized up front: pushing 5,000 verdicts regrew the array a dozen times per call.
  const verdicts = into?.length === views.length ? into : new Array<Rejection | undefined>(views.length);
  for (let i = 0; i < views.length; i += 1) verdicts[i] = filterNode(ctx, views[i]!);
  return verdicts;
}

/** The candidates (names or Node objects) whose verdict lets the pod run. */
export function passing<N>(candidates: readonly N[], verdicts: Verdicts): N[] {
  const passed: N[] = [];
  for (let i = 0; i < candidates.length; i += 1) if (!verdicts[i]) passed.push(candidates[i]!);
  return passed;
}
