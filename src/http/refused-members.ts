import type { Verdicts } from '../filter/filter-nodes.js';
import type { Rejection } from '../filter/reasons.js';
import { COLON, COMMA, type JsonWriter } from './json-writer.js';
import { reasonJson } from './reason-json.js';

/** More than any one `"name":"reason",` needs (names are at most 253 bytes, reasons short): one bounds check per member. */
export const MEMBER_ROOM = 1024;

/**
 * The reasons met while writing one answer and their JSON bytes. A call meets a handful of
 * distinct rejections, interleaved node by node: a short list searched in order beat a WeakMap
 * lookup per node by about 0.1 ms at 5,000 nodes.
 */
export class SeenReasons {
  private readonly rejections: Rejection[] = [];
  private readonly json: Uint8Array[] = [];

  jsonOf(rejection: Rejection): Uint8Array {
    let k = 0;
    while (k < this.rejections.length && this.rejections[k] !== rejection) k += 1;
    if (k === this.rejections.length) {
      this.rejections.push(rejection);
      this.json.push(reasonJson(rejection));
    }
    return this.json[k]!;
  }
}

/** Where the base list's `j`th name sits in a request that started at `offset` in it. */
export function requestIndex(j: number, offset: number, n: number): number {
  const i = j - offset;
  return i < 0 ? i + n : i;
}

/**
 * `"FailedNodes":{...},"FailedAndUnresolvableNodes":{...}`, the one place their keys are
 * written: `members(unresolvable)` writes each section's members.
 */
export function writeFailedSections(out: JsonWriter, members: (unresolvable: boolean) => void): void {
  out.text('"FailedNodes":{');
  members(false);
  out.text('},"FailedAndUnresolvableNodes":{');
  members(true);
  out.text('}');
}

/**
 * `"name":"reason"` members joined by commas, for `names[from..to)` whose rejection is
 * (un)resolvable as asked; the verdict of `names[j]` is `verdicts[j - offset]` (modulo the
 * length: `verdicts` may be in the order of a request that rotated `names`, failed-nodes-memo.ts). Written into the
 * writer's Buffer directly, one bounds check per member: with a writer call per piece, an
 * answer whose every reason was written took 0.36 ms (served, 48 workloads in turn).
 */
export function writeRefusedMembers(
  out: JsonWriter,
  names: readonly Uint8Array[],
  verdicts: Verdicts,
  offset: number,
  from: number,
  to: number,
  unresolvable: boolean,
  seen: SeenReasons,
): void {
  const n = names.length;
  let i = requestIndex(from, offset, n);
  let buf = out.reserve(0);
  let at = out.length;
  let first = true;
  for (let j = from; j < to; j += 1, i = i + 1 === n ? 0 : i + 1) {
    const rejection = verdicts[i];
    if (!rejection || rejection.unresolvable !== unresolvable) continue;
    const reason = seen.jsonOf(rejection);
    const name = names[j]!;
    if (at + name.length + reason.length + 2 > buf.length) {
      out.advance(at);
      buf = out.reserve(name.length + reason.length + MEMBER_ROOM);
    }
    if (!first) buf[at++] = COMMA;
    first = false;
    buf.set(name, at);
    at += name.length;
    buf[at++] = COLON;
    buf.set(reason, at);
    at += reason.length;
  }
  out.advance(at);
}
