import type { Rejected } from '../filter/filter-nodes.js';
import type { NodeView } from '../sysctl-index/cluster-index.js';
import type { KubeNode } from '../sysctl-index/kube-objects.js';
import { RequestError } from './request-error.js';

/**
 * Answers written as JSON text directly. A filter answer at 5,000 nodes holds thousands of
 * `"node":"reason"` pairs; JSON.stringify of an object with that many keys was the largest
 * single cost of the call. Node names and reasons are quoted once (NodeState.quotedName,
 * Rejection.quotedReason) and concatenated here. The shapes are those of wire-types.ts.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

function quoted(node: NodeView): string {
  return node.quotedName ?? JSON.stringify(node.name);
}

function reasonsObject(rejected: readonly Rejected[]): string {
  let out = '{';
  for (let i = 0; i < rejected.length; i += 1) {
    const { node, rejection } = rejected[i]!;
    out += (i === 0 ? '' : ',') + quoted(node) + ':' + rejection.quotedReason;
  }
  return out + '}';
}

/** ExtenderFilterResult: `NodeNames` or `Nodes` as asked, reasons, and an empty Error. */
export function encodeFilterResult(
  outcome: { failed: readonly Rejected[]; unresolvable: readonly Rejected[] },
  passing: { NodeNames: readonly string[] } | { Nodes: readonly KubeNode[] },
): JsonText {
  let head: string;
  if ('NodeNames' in passing) head = `{"NodeNames":${JSON.stringify(passing.NodeNames)},"Nodes":null`;
  else {
    let items: string;
    try {
      items = JSON.stringify(passing.Nodes);
    } catch (err) {
      // A Node nested deeper than the stack allows cannot be echoed back (Go's decoder stops at 10,000 levels too).
      if (err instanceof RangeError) throw new RequestError(400, 'a Node object in the request is nested too deeply');
      throw err;
    }
    head = `{"NodeNames":null,"Nodes":{"metadata":{},"items":${items}}`;
  }
  return new JsonText(
    `${head},"FailedNodes":${reasonsObject(outcome.failed)},"FailedAndUnresolvableNodes":${reasonsObject(outcome.unresolvable)},"Error":""}`,
  );
}

/** HostPriorityList. */
export function encodeHostPriorities(views: readonly NodeView[], scores: readonly number[]): JsonText {
  let out = '[';
  for (let i = 0; i < views.length; i += 1) out += `${i === 0 ? '' : ','}{"Host":${quoted(views[i]!)},"Score":${scores[i]!}}`;
  return new JsonText(out + ']');
}
