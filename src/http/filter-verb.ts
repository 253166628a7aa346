import type { Binder } from '../cluster/binder.js';
import { filterContextFor } from '../filter/filter-context.js';
import { filterNodes, passing, type Verdicts } from '../filter/filter-nodes.js';
import type { Rejection } from '../filter/reasons.js';
import { tallyRejections, type RejectionTally } from '../filter/rejection-tally.js';
import { VerdictCache } from '../filter/verdict-cache.js';
import { decodeCandidateArgs, type CandidateArgs } from './candidate-args.js';
import { encodeFilterResult } from './encode.js';
import { FailedNodesMemo } from './failed-nodes-memo.js';
import type { Generation } from './generation.js';
import type { WrittenJson } from './json-writer.js';
import type { ExtenderMetrics } from './metrics.js';
import type { Verb } from './verb.js';

/** What the filter verb keeps between calls: the verdicts are only read until the call returns; the memo keeps bytes of its own. */
export interface FilterScratch {
  /** Verdicts are written here when it has the candidates' length. */
  verdicts?: (Rejection | undefined)[];
  /** Verdicts of recent requirements over a rotated known list (verdict-cache.ts). */
  kept?: VerdictCache;
  /** The refused nodes' part of recent answers (failed-nodes-memo.ts). */
  memo?: FailedNodesMemo;
}

export interface FilterOutcome {
  readonly answer: WrittenJson;
  /** In request order. */
  readonly verdicts: Verdicts;
  readonly tally: RejectionTally | undefined;
}

/** The filter verb: answers in the mode it was asked in (`NodeNames` or `Nodes`). */
export function runFilter(args: CandidateArgs, generation: Generation, scratch: FilterScratch = {}): FilterOutcome {
  const ctx = filterContextFor(args.Pod, generation);
  const rotation = args.rotation;
  const kept = rotation && scratch.kept?.verdictsFor(generation, ctx, rotation.views);
  const verdicts = kept ? rotated(kept.verdicts, rotation.offset, scratch.verdicts) : filterNodes(ctx, args.views, scratch.verdicts);
  const passingNodes = args.nodes && passing(args.nodes, verdicts);
  const answer = encodeFilterResult(args, verdicts, passingNodes, scratch.memo, kept?.stamp);
  return { answer, verdicts, tally: kept ? kept.tally() : tallyRejections(verdicts) };
}

/** Base-order verdicts in the order of a request that started at `offset` of the base, into `into` if as long. */
function rotated(base: Verdicts, offset: number, into?: (Rejection | undefined)[]): Verdicts {
  const n = base.length;
  const out = into?.length === n ? into : new Array<Rejection | undefined>(n);
  for (let i = 0, j = offset; i < n; i += 1, j = j + 1 === n ? 0 : j + 1) out[i] = base[j];
  return out;
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
  // One verdicts array reused call after call (the verb reads it only until it returns): with
  // the name table's reused rotation arrays, a served call at 5,000 nodes allocates about a
  // fifth of what it did (~35 kB against ~160 kB), and scavenges, each 1-2 ms with the index in
  // the heap, come every ~110 calls instead of every 22: a p99 measured over 2 s no longer
  // catches one per 100 calls.
  const scratch: FilterScratch = { verdicts: [], kept: new VerdictCache(), memo: new FailedNodesMemo() };
  return {
    name: 'filter',
    handle: (body, generation) => {
      const args = decodeCandidateArgs(body, generation.resolver);
      binder.rememberPod(args.Pod);
      if (scratch.verdicts?.length !== args.views.length) scratch.verdicts = new Array<Rejection | undefined>(args.views.length);
      const { answer, verdicts, tally } = runFilter(args, generation, scratch);
      metrics.countRejections(tally);
      if (tally) refusals?.record(args.Pod.metadata?.namespace, args.Pod.metadata?.name, verdicts.length, tally);
      return answer;
    },
  };
}
