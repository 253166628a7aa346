import type { Verdicts } from '../filter/filter-nodes.js';
import type { NodeView } from '../sysctl-index/cluster-index.js';
import type { KubeNode } from '../sysctl-index/kube-objects.js';
import { MAX_EXTENDER_PRIORITY } from '../prioritize/score-node.js';
import { CLOSE_BRACE, CLOSE_BRACKET, COMMA, JsonWriter, jsonStringBytes, OPEN_BRACKET, type WrittenJson } from './json-writer.js';
import { MEMBER_ROOM, SeenReasons, writeFailedSections, writeRefusedMembers } from './refused-members.js';
import type { FailedNodesMemo } from './failed-nodes-memo.js';
import type { VerdictStamp } from '../filter/verdict-cache.js';
import type { NameRotation } from '../sysctl-index/candidates.js';
import { RequestError } from './request-error.js';

/*
 * The verbs' answers, written as JSON bytes directly (see json-writer.ts for why). The shapes
 * are those of wire-types.ts; the tests parse them back.
 */

/** Room for a name and a reason per candidate: the writer grows past it if needed. */
const BYTES_PER_CANDIDATE = 96;

/** What an answer is written for: the candidates, and their names as JSON bytes where the request's bytes gave them. */
export interface AnsweredCandidates {
  readonly views: readonly NodeView[];
  readonly jsonNames?: readonly Uint8Array[];
  /** Where the names are a known list rotated: the failed-nodes memo writes in that list's order. */
  readonly rotation?: NameRotation;
}

/** The names' JSON bytes, encoded here only for bodies that went through the full parser. */
function jsonNamesOf(candidates: AnsweredCandidates): readonly Uint8Array[] {
  return candidates.jsonNames ?? candidates.views.map((view) => jsonStringBytes(view.name));
}

/**
 * ExtenderFilterResult: `NodeNames` when asked by name, else `Nodes` (the passing Node objects
 * echoed back); reasons split by whether preemption can help; an empty Error. With `memo`, a
 * rotated known list's reasons come from it (failed-nodes-memo.ts), which trusts `stamp`.
 */
export function encodeFilterResult(candidates: AnsweredCandidates, verdicts: Verdicts, passingNodes?: readonly KubeNode[], memo?: FailedNodesMemo, stamp?: VerdictStamp): WrittenJson {
  const names = jsonNamesOf(candidates);
  const out = new JsonWriter(names.length * BYTES_PER_CANDIDATE);
  if (passingNodes === undefined) {
    out.text('{"NodeNames":[');
    writePassing(out, names, verdicts);
    out.text('],"Nodes":null');
  } else {
    out.text('{"NodeNames":null,"Nodes":{"metadata":{},"items":').text(stringifyNodes(passingNodes)).char(CLOSE_BRACE);
  }
  out.char(COMMA);
  if (memo && candidates.rotation) {
    memo.write(out, candidates.rotation, verdicts, stamp);
  } else {
    const seen = new SeenReasons();
    writeFailedSections(out, (unresolvable) => writeRefusedMembers(out, names, verdicts, 0, 0, names.length, unresolvable, seen));
  }
  out.text(',"Error":""}');
  return out.finish();
}

/*
 * The loops below write into the writer's Buffer directly, one bounds check per member. The
 * answer is the verb's largest in-process cost (about 0.22 ms at 5,000 nodes on issue 14's
 * worker-many-profiles shape, four times the rules) and is bound by the bytes copied, so what
 * saves time is fewer bytes (short reasons, reasons.ts) rather than fewer calls: against the
 * former method call per member these loops measured the same within the noise.
 */

/** `"a","b"` for the candidates the filter passes. */
function writePassing(out: JsonWriter, names: readonly Uint8Array[], verdicts: Verdicts): void {
  let buf = out.reserve(0);
  let at = out.length;
  let first = true;
  for (let i = 0; i < names.length; i += 1) {
    if (verdicts[i]) continue;
    const name = names[i]!;
    if (at + name.length + 1 > buf.length) {
      out.advance(at);
      buf = out.reserve(name.length + MEMBER_ROOM);
    }
    if (!first) buf[at++] = COMMA;
    first = false;
    buf.set(name, at);
    at += name.length;
  }
  out.advance(at);
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
export function encodeHostPriorities(candidates: AnsweredCandidates, scores: readonly number[]): WrittenJson {
  const names = jsonNamesOf(candidates);
  const out = new JsonWriter(names.length * BYTES_PER_CANDIDATE);
  out.char(OPEN_BRACKET);
  for (let i = 0; i < names.length; i += 1) {
    const score = scores[i]!;
    out.bytes(i === 0 ? FIRST_HOST : NEXT_HOST).bytes(names[i]!);
    out.bytes(SCORE_TAIL[score] ?? scoreTail(score));
  }
  return out.char(CLOSE_BRACKET).finish();
}
