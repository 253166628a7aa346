import type { Verdicts } from '../filter/filter-nodes.js';
import type { NodeView } from '../sysctl-index/cluster-index.js';
import type { KubeNode } from '../sysctl-index/kube-objects.js';
import { MAX_EXTENDER_PRIORITY } from '../prioritize/score-node.js';
import { CLOSE_BRACE, CLOSE_BRACKET, COMMA, JsonWriter, OPEN_BRACE, OPEN_BRACKET, type WrittenJson } from './json-writer.js';
import { RequestError } from './request-error.js';

/*
 * The verbs' answers, written as JSON bytes directly (see json-writer.ts for why). The shapes
 * are those of wire-types.ts; the tests parse them back.
 */

/** Room for a name and a reason per candidate: the writer grows past it if needed. */
const BYTES_PER_CANDIDATE = 96;

function jsonName(node: NodeView): Uint8Array {
  return node.jsonName ?? Buffer.from(JSON.stringify(node.name));
}

/**
 * ExtenderFilterResult: `NodeNames` when asked by name, else `Nodes` (the passing Node objects
 * echoed back); reasons split by whether preemption can help; an empty Error.
 */
export function encodeFilterResult(views: readonly NodeView[], verdicts: Verdicts, passingNodes?: readonly KubeNode[]): WrittenJson {
  const out = new JsonWriter(views.length * BYTES_PER_CANDIDATE);
  if (passingNodes === undefined) {
    out.text('{"NodeNames":[');
    let first = true;
    for (let i = 0; i < views.length; i += 1) {
      if (verdicts[i]) continue;
      if (!first) out.char(COMMA);
      first = false;
      out.bytes(jsonName(views[i]!));
    }
    out.text('],"Nodes":null');
  } else {
    out.text('{"NodeNames":null,"Nodes":{"metadata":{},"items":').text(stringifyNodes(passingNodes)).char(CLOSE_BRACE);
  }
  out.text(',"FailedNodes":');
  writeReasons(out, views, verdicts, false);
  out.text(',"FailedAndUnresolvableNodes":');
  writeReasons(out, views, verdicts, true);
  out.text(',"Error":""}');
  return out.finish();
}

/** `{"node":"reason",...}` for the rejected nodes whose rejection is (un)resolvable as asked. */
function writeReasons(out: JsonWriter, views: readonly NodeView[], verdicts: Verdicts, unresolvable: boolean): void {
  out.char(OPEN_BRACE);
  let first = true;
  for (let i = 0; i < views.length; i += 1) {
    const rejection = verdicts[i];
    if (!rejection || rejection.unresolvable !== unresolvable) continue;
    out.member(first, jsonName(views[i]!), rejection.jsonReason);
    first = false;
  }
  out.char(CLOSE_BRACE);
}

function stringifyNodes(nodes: readonly KubeNode[]): string {
  try {
    return JSON.stringify(nodes);
  } catch (err) {
    // A Node nested deeper than the stack allows cannot be echoed back (Go's decoder stops at 10,000 levels too).
    if (err instanceof RangeError) throw new RequestError(400, 'a Node object in the request is nested too deeply');
    throw err;
  }
}

const FIRST_HOST = Buffer.from('{"Host":');
const NEXT_HOST = Buffer.from(',{"Host":');
const scoreTail = (score: number): Buffer => Buffer.from(`,"Score":${score}}`);
/** Scores are 0..MAX_EXTENDER_PRIORITY: `,"Score":N}` is encoded once per score, not written in three pieces per node. */
const SCORE_TAIL = Array.from({ length: MAX_EXTENDER_PRIORITY + 1 }, (_, score) => scoreTail(score));

/** HostPriorityList, in three copies per node: with six, the verb took a quarter longer at 5,000 nodes. */
export function encodeHostPriorities(views: readonly NodeView[], scores: readonly number[]): WrittenJson {
  const out = new JsonWriter(views.length * BYTES_PER_CANDIDATE);
  out.char(OPEN_BRACKET);
  for (let i = 0; i < views.length; i += 1) {
    const score = scores[i]!;
    out.bytes(i === 0 ? FIRST_HOST : NEXT_HOST).bytes(jsonName(views[i]!));
    out.bytes(SCORE_TAIL[score] ?? scoreTail(score));
  }
  return out.char(CLOSE_BRACKET).finish();
}
