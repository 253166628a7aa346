import type { Policy } from '../config/policy.js';
import { filterContextFor } from '../filter/filter-context.js';
import { filterNodes, passing, type Verdicts } from '../filter/filter-nodes.js';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { CandidateArgs } from './candidate-args.js';
import type { CandidateResolver } from './candidates.js';
import { encodeFilterResult } from './encode.js';
import type { WrittenJson } from './json-writer.js';

export interface VerbDeps {
  readonly index: ClusterIndex;
  readonly resolver: CandidateResolver;
  readonly policy: Policy;
}

/** The filter verb: answers in the mode it was asked in (`NodeNames` or `Nodes`). */
export function runFilter(args: CandidateArgs, deps: VerbDeps): { answer: WrittenJson; verdicts: Verdicts } {
  const ctx = filterContextFor(args.Pod, deps);
  const verdicts = filterNodes(ctx, args.views);
  const passingNodes = args.nodes && passing(args.nodes, verdicts);
  return { verdicts, answer: encodeFilterResult(args.views, verdicts, passingNodes) };
}
