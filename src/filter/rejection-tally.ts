import type { Verdicts } from './filter-nodes.js';
import type { Rejection } from './reasons.js';

/** Reason codes and their counts for one filter call: the rejection counter and the status page's log read it. */
export interface RejectionTally {
  readonly codes: readonly string[];
  readonly counts: readonly number[];
}

/** The rejections among `verdicts` by code, in order of first appearance; undefined when none. */
export function tallyRejections(verdicts: Verdicts): RejectionTally | undefined {
  // A call sees a handful of distinct rejections, often the same one for node after node:
  // checking the last one first, then a short list, beats a Map lookup per rejected node.
  const seen: Rejection[] = [];
  const counts: number[] = [];
  let last: Rejection | undefined;
  let k = -1;
  for (let i = 0; i < verdicts.length; i += 1) {
    const rejection = verdicts[i];
    if (!rejection) continue;
    if (rejection !== last) {
      last = rejection;
      k = seen.indexOf(rejection);
      if (k < 0) k = seen.push(rejection) - 1;
    }
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return seen.length === 0 ? undefined : { codes: seen.map((rejection) => rejection.code), counts };
}
