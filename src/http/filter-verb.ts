import type { Binder } from '../cluster/binder.js';
import { filterContextFor } from '../filter/filter-context.js';
import { filterNodes, passing, type Verdicts } from '../filter/filter-nodes.js';
import { decodeCandidateArgs, type CandidateArgs } from './candidate-args.js';
import { encodeFilterResult } from './encode.js';
import type { Generation } from './generation.js';
import type { WrittenJson } from './json-writer.js';
import type { ExtenderMetrics, RejectionTally } from './metrics.js';
import type { Verb } from './verb.js';

/** The filter verb: answers in the mode it was asked in (`NodeNames` or `Nodes`). */
export function runFilter(args: CandidateArgs, generation: Generation): { answer: WrittenJson; verdicts: Verdicts } {
  const ctx = filterContextFor(args.Pod, generation);
  const verdicts = filterNodes(ctx, args.views);
  const passingNodes = args.nodes && passing(args.nodes, verdicts);
  return { verdicts, answer: encodeFilterResult(args, verdicts, passingNodes) };
}

/** Where filter records the calls that refused nodes (the status page's RefusalLog). */
export interface RefusalRecorder {
  record(namespace: string | undefined, name: string | undefined, candidates: number, tally: RejectionTally): void;
}

/**
 * POST /filter: remembers the pod for a bind that outruns the watch, counts the rejections by
 * reason, and records a call that refused nodes for GET /status.
 */
export function filterVerb(binder: Binder, metrics: ExtenderMetrics, refusals?: RefusalRecorder): Verb {
  return {
    name: 'filter',
    handle: (body, generation) => {
      const args = decodeCandidateArgs(body, generation.resolver);
      binder.rememberPod(args.Pod);
      const { answer, verdicts } = runFilter(args, generation);
      const tally = metrics.countRejections(verdicts);
      if (tally) refusals?.record(args.Pod.metadata?.namespace, args.Pod.metadata?.name, verdicts.length, tally);
      return answer;
    },
  };
}
