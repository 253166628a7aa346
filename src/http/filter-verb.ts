import { filterContextFor } from '../filter/filter-context.js';
import { filterNodes, passing, type Verdicts } from '../filter/filter-nodes.js';
import type { CandidateArgs } from './candidate-args.js';
import { encodeFilterResult } from './encode.js';
import type { Generation } from './generation.js';
import type { WrittenJson } from './json-writer.js';

/** The filter verb: answers in the mode it was asked in (`NodeNames` or `Nodes`). */
export function runFilter(args: CandidateArgs, generation: Generation): { answer: WrittenJson; verdicts: Verdicts } {
  const ctx = filterContextFor(args.Pod, generation);
  const verdicts = filterNodes(ctx, args.views);
  const passingNodes = args.nodes && passing(args.nodes, verdicts);
  return { verdicts, answer: encodeFilterResult(args.views, verdicts, passingNodes) };
}
