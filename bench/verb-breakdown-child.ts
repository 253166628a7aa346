/**
 * The micro tier: what one call costs in-process, phase by phase, without HTTP or express,
 * for the extender's verbs and for the do-nothing answer, on the same bodies (NodeNames, all
 * nodes). Tells the HTTP figures apart: parse and encode are shared costs, validation and the
 * verb are the extender's own, and a bigger answer costs more to encode and send.
 *
 *   node verb-breakdown-child.js --nodes N --pods-per-node P --seed S   (reports over IPC)
 */
import { parseArgs } from 'node:util';
import { applyList } from '../src/cluster/snapshot.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { Extender } from '../src/extender.js';
import { decodeCandidateArgs, type CandidateArgs } from '../src/http/candidate-args.js';
import { FailedNodesMemo } from '../src/http/failed-nodes-memo.js';
import { runFilter, type FilterScratch } from '../src/http/filter-verb.js';
import { VerdictCache } from '../src/filter/verdict-cache.js';
import { runPrioritize } from '../src/http/prioritize-verb.js';
import { passAll } from './baseline-server.js';
import type { KubePod } from '../src/sysctl-index/kube-objects.js';
import { generateCluster, type ClusterPlan, type ClusterSpec } from '../support/synthetic-cluster/cluster-generator.js';
import { CLUSTER_OPTIONS, clusterSpecOf } from './cluster-spec-args.js';
import { requestBodies, type RequestBody } from './request-bodies.js';
import type { CandidateVerb } from './scenarios.js';
import { median, sortedPercentile } from './stats.js';

export interface PhaseTimes {
  /** JSON.parse of the request body. */
  readonly parseMs: number;
  /** decodeExtenderArgs after the parse (field names, JSON Schema); 0 for the do-nothing answer. */
  readonly validateMs: number;
  /** runFilter / runPrioritize; building the pass-all answer for the do-nothing server. Filter writes every refused node's reason. */
  readonly verbMs: number;
  /**
   * Filter only: the same call with the verb's kept verdicts (verdict-cache.ts) and memo of
   * refused nodes' bytes (failed-nodes-memo.ts) warm, as a served call for a workload seen
   * before; verbMs is a call that judges every node and writes every reason.
   */
  readonly verbReusedMs?: number;
  /**
   * Filter only: as verbReusedMs, but a pod assumed on or forgotten from one node between calls
   * (a bind's change, made outside the timing), so that kept verdicts are redone for that node.
   */
  readonly verbOneChangedMs?: number;
  /**
   * Filter only: as verbReusedMs, but pods of `classes` different requirements in turn (each
   * placed pod in each team's namespace), more than the verdict cache and the memo keep: what a
   * cluster of many workloads placed by turns costs, every call judging every node.
   */
  readonly verbManyClassesMs?: number;
  /**
   * Filter only: reading the body and the verb, warm, each call after a prioritize body naming
   * the nodes the filter kept (read outside the timing), as kube-scheduler sends them in turn;
   * `decodedReusedMs` is the same without the prioritize bodies between.
   */
  readonly verbAfterPrioritizeMs?: number;
  readonly decodedReusedMs?: number;
  readonly classes?: number;
  /** JSON.stringify of the answer. */
  readonly encodeMs: number;
  readonly answerBytes: number;
}

export interface VerbBreakdown {
  readonly nodes: number;
  readonly candidates: number;
  readonly byVerb: Record<CandidateVerb, { readonly extender: PhaseTimes; readonly baseline: PhaseTimes }>;
}

const WARMUP = 30;
const ITERATIONS = 150;

/** Median time of `fn` in milliseconds. */
function time(fn: () => unknown): number {
  return timeAfter(() => undefined, fn);
}

/** Median time of `fn` in milliseconds, `between` run before each call and not timed. */
function timeAfter(between: (i: number) => void, fn: () => unknown): number {
  for (let i = 0; i < WARMUP; i += 1) {
    between(i);
    fn();
  }
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i += 1) {
    between(i);
    const started = performance.now();
    fn();
    samples.push(performance.now() - started);
  }
  return sortedPercentile(samples.sort((a, b) => a - b), 0.5);
}

function medianPhases(all: PhaseTimes[]): PhaseTimes {
  const of = (pick: (p: PhaseTimes) => number) => median(all.map(pick));
  const reused = all.every((p) => p.verbReusedMs !== undefined && p.verbOneChangedMs !== undefined && p.verbManyClassesMs !== undefined && p.verbAfterPrioritizeMs !== undefined)
    ? {
        verbReusedMs: of((p) => p.verbReusedMs!),
        verbOneChangedMs: of((p) => p.verbOneChangedMs!),
        verbManyClassesMs: of((p) => p.verbManyClassesMs!),
        classes: of((p) => p.classes!),
        verbAfterPrioritizeMs: of((p) => p.verbAfterPrioritizeMs!),
        decodedReusedMs: of((p) => p.decodedReusedMs!),
      }
    : {};
  return { parseMs: of((p) => p.parseMs), validateMs: of((p) => p.validateMs), verbMs: of((p) => p.verbMs), ...reused, encodeMs: of((p) => p.encodeMs), answerBytes: of((p) => p.answerBytes) };
}

function measure(spec: ClusterSpec): VerbBreakdown {
  const nodes = spec.nodes;
  const { plan, list } = generateCluster(spec);
  // The verbs are called directly: readiness is never asked.
  const extender = new Extender({ policy: DEFAULT_POLICY, readiness: { check: () => ({ ready: true }) } });
  applyList(extender.index, list);
  const bodies = requestBodies(plan, 'names', 1);
  const byVerb = {} as VerbBreakdown['byVerb'];
  for (const verb of ['filter', 'prioritize'] as const) {
    // The verbs now encode their answer themselves: verbMs includes it, encodeMs is ~0.
    // The answer's buffer goes back to the pool as the server does once it is sent.
    const run = (args: CandidateArgs, scratch?: FilterScratch): number => {
      const answer = verb === 'filter' ? runFilter(args, extender.generation, scratch).answer : runPrioritize(args, extender.generation);
      const bytes = answer.bytes.length;
      answer.release();
      return bytes;
    };
    const ext: PhaseTimes[] = [];
    const base: PhaseTimes[] = [];
    const warm: FilterScratch = { kept: new VerdictCache(), memo: new FailedNodesMemo() };
    const classes = podClasses(plan, bodies);
    for (const { body } of bodies) {
      const parseMs = time(() => JSON.parse(body));
      const bytes = Buffer.from(body);
      const args = decodeCandidateArgs(bytes, extender.generation.resolver);
      const answer = run(args);
      const prioritizeBody = verb === 'filter' ? keptBody(args, extender) : undefined;
      ext.push({
        // The extender reads names from the bytes (candidate-args.ts): its decode is one phase.
        parseMs: time(() => decodeCandidateArgs(bytes, extender.generation.resolver)),
        validateMs: 0,
        verbMs: time(() => run(args)),
        ...(verb === 'filter'
          ? {
              verbReusedMs: time(() => run(args, warm)),
              verbOneChangedMs: timeAfter(flipOneNode(extender, args), () => run(args, warm)),
              verbManyClassesMs: time(inTurn(classes.map((Pod) => ({ ...args, Pod })), (each) => run(each, warm))),
              classes: classes.length,
              decodedReusedMs: time(() => run(decodeCandidateArgs(bytes, extender.generation.resolver), warm)),
              verbAfterPrioritizeMs: timeAfter(
                () => decodeCandidateArgs(prioritizeBody!, extender.generation.resolver),
                () => run(decodeCandidateArgs(bytes, extender.generation.resolver), warm),
              ),
            }
          : {}),
        encodeMs: 0,
        answerBytes: answer,
      });
      const parsed: unknown = JSON.parse(body);
      const passing = passAll(`/${verb}`, parsed);
      base.push({
        parseMs,
        validateMs: 0,
        verbMs: time(() => passAll(`/${verb}`, parsed)),
        encodeMs: time(() => JSON.stringify(passing)),
        answerBytes: Buffer.byteLength(JSON.stringify(passing)),
      });
    }
    byVerb[verb] = { extender: medianPhases(ext), baseline: medianPhases(base) };
  }
  return { nodes, candidates: bodies[0]?.candidates ?? 0, byVerb };
}

/** Each placed pod in the apps namespace of every team: as many requirements as teams x placed pods. */
function podClasses(plan: ClusterPlan, bodies: readonly RequestBody[]): KubePod[] {
  const namespaces = plan.namespaces.filter((ns) => ns.team !== undefined && ns.name.endsWith('-apps')).map((ns) => ns.name);
  const pods = bodies.map(({ body }) => (JSON.parse(body) as { Pod: KubePod }).Pod);
  return namespaces.flatMap((namespace) => pods.map((pod) => ({ ...pod, metadata: { ...pod.metadata, namespace } })));
}

/** The prioritize body kube-scheduler sends after this filter body: the same Pod, the nodes the filter kept. */
function keptBody(args: CandidateArgs, extender: Extender): Buffer {
  const verdicts = runFilter(args, extender.generation).verdicts;
  const kept = args.views.filter((_, i) => verdicts[i] === undefined).map((view) => view.name);
  return Buffer.from(JSON.stringify({ Pod: args.Pod, Nodes: null, NodeNames: kept }));
}

/** A call that takes the next of `all` each time. */
function inTurn<T>(all: readonly T[], fn: (each: T) => unknown): () => unknown {
  let next = 0;
  return () => fn(all[next++ % all.length]!);
}

/** Between calls: the call's pod assumed on a node, then forgotten, a different node each time (what a bind does to the index). */
function flipOneNode(extender: Extender, args: CandidateArgs): (i: number) => void {
  const pod = extender.index.projectPod(args.Pod);
  if (!pod) throw new Error('the placed pod has no projection');
  return (i) => {
    const node = args.views[(i >> 1) % args.views.length]!.name;
    if (i % 2 === 0) extender.index.assumePod(pod, node);
    else extender.index.forgetAssumedPod(pod.namespace, pod.name, node);
  };
}

const { values } = parseArgs({
  options: {
    ...CLUSTER_OPTIONS,
  },
});
process.send?.(measure(clusterSpecOf(values)));
process.disconnect?.();
