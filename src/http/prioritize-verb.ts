import { scoreNode } from '../prioritize/score-node.js';
import type { CandidateArgs } from './candidate-args.js';
import { encodeHostPriorities } from './encode.js';
import type { WrittenJson } from './json-writer.js';
import { filterContextFor } from '../filter/filter-context.js';
import type { Generation } from './generation.js';

/** The prioritize verb: a 0..10 score per candidate, 0 for a node the filter would reject. */
export function runPrioritize(args: CandidateArgs, generation: Generation): WrittenJson {
  const ctx = filterContextFor(args.Pod, generation);
  const weights = generation.policy.weights;
  return encodeHostPriorities(args.views, args.views.map((view) => scoreNode(ctx, view, weights).score));
}
