import type { Binder } from '../cluster/binder.js';
import { filterContextFor } from '../filter/filter-context.js';
import { scoreNode } from '../prioritize/score-node.js';
import { decodeCandidateArgs, type CandidateArgs } from './candidate-args.js';
import { encodeHostPriorities } from './encode.js';
import type { Generation } from './generation.js';
import type { WrittenJson } from './json-writer.js';
import type { Verb } from './verb.js';

/** The prioritize verb: a 0..10 score per candidate, 0 for a node the filter would reject. */
export function runPrioritize(args: CandidateArgs, generation: Generation): WrittenJson {
  const ctx = filterContextFor(args.Pod, generation);
  const weights = generation.policy.weights;
  return encodeHostPriorities(args, args.views.map((view) => scoreNode(ctx, view, weights).score));
}

/** POST /prioritize: remembers the pod for bind, like filter. */
export function prioritizeVerb(binder: Binder): Verb {
  return {
    name: 'prioritize',
    handle: (body, generation) => {
      const args = decodeCandidateArgs(body, generation.resolver);
      binder.rememberPod(args.Pod);
      return runPrioritize(args, generation);
    },
  };
}
