import type { Verdicts } from '../filter/filter-nodes.js';
import type { Rejection } from '../filter/reasons.js';
import type { NameRotation } from '../sysctl-index/candidates.js';
import { COLON, COMMA, JsonWriter } from './json-writer.js';
import { reasonJson } from './reason-json.js';

/*
 * The `"FailedNodes":{...},"FailedAndUnresolvableNodes":{...}` part of a filter answer, kept
 * from call to call. At 5,000 nodes that part is most of the answer's bytes (a name and a
 * reason per refused node), and writing it was the largest cost of a served call: 0.37 ms of
 * 0.99 ms on fifty-teams-dense (CPU profile, 2026-12-02), where the rules took 0.14 ms.
 *
 * Consecutive pods of one workload get the same verdicts, and kube-scheduler sends the same
 * names each time, rotated (name-table.ts). A map's order means nothing to its reader, so the
 * members are written in the order of the name table's base list, not the request's: then the
 * same verdicts give the same bytes whatever the rotation. The rules still run on every call;
 * only their encoding is reused, and only where the verdicts are the same object node by node,
 * so nothing here can go stale: a node whose verdict changed is written again.
 *
 * The base list is cut in chunks of CHUNK nodes, each chunk's two sections kept as bytes with
 * the verdicts they were written from. A call compares its verdicts chunk by chunk with those
 * of one of the last ENTRIES calls (several workloads may be scheduled in turn) and writes
 * again only the chunks that differ: a pod bound to one node changes one chunk, not the answer.
 */

/** Nodes per chunk: small enough that one changed node re-encodes little, large enough that copies stay few (79 a section at 5,000 nodes). */
const CHUNK = 64;
/** Workloads kept apart: one entry each, up to about 0.5 MB at 5,000 cloud-style names. */
const ENTRIES = 8;

interface Entry {
  /** The name table's base list the chunks are cut from (its identity changes with it). */
  readonly names: readonly Uint8Array[];
  /** Per node of the base, in base order, the verdict its chunk's bytes say. */
  readonly verdicts: (Rejection | undefined)[];
  /** Per chunk, its `"name":"reason"` members joined by commas, per section. */
  readonly resolvable: Uint8Array[];
  readonly unresolvable: Uint8Array[];
}

export class FailedNodesMemo {
  /** Most recently used first. */
  private entries: Entry[] = [];
  /** Per chunk of this call: 1 where the entry's bytes do not match the verdicts. */
  private stale = new Uint8Array(0);

  /**
   * Writes both sections for `verdicts` (in request order, that is `rotation` applied to its
   * base list), keys included, without the commas around them.
   */
  write(out: JsonWriter, rotation: NameRotation, verdicts: Verdicts): void {
    const n = rotation.names.length;
    const chunks = Math.ceil(n / CHUNK);
    if (this.stale.length < chunks) this.stale = new Uint8Array(chunks);
    const entry = this.entryFor(rotation, verdicts, chunks);
    const seen: SeenReasons = { rejections: [], json: [] };
    out.text('"FailedNodes":{');
    this.writeSection(out, entry, entry.resolvable, false, chunks, seen);
    out.text('},"FailedAndUnresolvableNodes":{');
    this.writeSection(out, entry, entry.unresolvable, true, chunks, seen);
    out.text('}');
  }

  /**
   * The entry of the base whose verdicts match in at least half the chunks (`stale` marks the
   * others), its verdicts brought up to date; or a new one, every chunk stale.
   */
  private entryFor(rotation: NameRotation, verdicts: Verdicts, chunks: number): Entry {
    const stale = this.stale;
    // Entries of an earlier base can never match again.
    if (this.entries.some((e) => e.names !== rotation.names)) this.entries = this.entries.filter((e) => e.names === rotation.names);
    let found = -1;
    for (let e = 0; e < this.entries.length && found < 0; e += 1) {
      if (compareChunks(this.entries[e]!, rotation.offset, verdicts, stale, chunks)) found = e;
    }
    let entry: Entry;
    if (found >= 0) {
      entry = this.entries.splice(found, 1)[0]!;
    } else {
      const n = rotation.names.length;
      entry = { names: rotation.names, verdicts: new Array<Rejection | undefined>(n), resolvable: new Array<Uint8Array>(chunks), unresolvable: new Array<Uint8Array>(chunks) };
      stale.fill(1, 0, chunks);
      if (this.entries.length >= ENTRIES) this.entries.pop();
    }
    this.entries.unshift(entry);
    for (let c = 0; c < chunks; c += 1) if (stale[c]) copyChunkVerdicts(entry, rotation.offset, verdicts, c);
    return entry;
  }

  /** One section: kept chunks copied, stale ones written and then kept (copied out in one piece). */
  private writeSection(out: JsonWriter, entry: Entry, parts: Uint8Array[], unresolvable: boolean, chunks: number, seen: SeenReasons): void {
    const stale = this.stale;
    let first = true;
    // Where each stale chunk's members landed in `out`, to keep them once the section is written.
    const written: number[] = [];
    for (let c = 0; c < chunks; c += 1) {
      if (stale[c]) {
        if (!first) out.char(COMMA);
        const start = out.length;
        writeChunk(out, entry, c, unresolvable, seen);
        written.push(c, start, out.length);
        // A chunk with no members adds nothing: the next one's comma must not follow a comma.
        if (out.length === start && !first) out.advance(start - 1);
        else if (out.length > start) first = false;
        continue;
      }
      const part = parts[c]!;
      if (part.length === 0) continue;
      if (!first) out.char(COMMA);
      first = false;
      out.bytes(part);
    }
    keep(out, parts, written);
  }
}

/** Reasons met in this call and their JSON bytes: a handful, searched in order (faster than a WeakMap per node). */
interface SeenReasons {
  readonly rejections: Rejection[];
  readonly json: Uint8Array[];
}

/** Whether the entry matches in at least half the chunks; `stale` marks those that do not. Gives up as soon as too many differ. */
function compareChunks(entry: Entry, offset: number, verdicts: Verdicts, stale: Uint8Array, chunks: number): boolean {
  const n = entry.names.length;
  const kept = entry.verdicts;
  const allowed = chunks >> 1;
  let differing = 0;
  for (let c = 0; c < chunks; c += 1) {
    const end = Math.min(n, (c + 1) * CHUNK);
    let i = c * CHUNK - offset;
    if (i < 0) i += n;
    let same = 1;
    for (let j = c * CHUNK; j < end; j += 1) {
      if (kept[j] !== verdicts[i]) {
        same = 0;
        break;
      }
      i = i + 1 === n ? 0 : i + 1;
    }
    stale[c] = 1 - same;
    if (!same && ++differing > allowed) return false;
  }
  return true;
}

function copyChunkVerdicts(entry: Entry, offset: number, verdicts: Verdicts, c: number): void {
  const n = entry.names.length;
  const end = Math.min(n, (c + 1) * CHUNK);
  let i = c * CHUNK - offset;
  if (i < 0) i += n;
  for (let j = c * CHUNK; j < end; j += 1) {
    entry.verdicts[j] = verdicts[i];
    i = i + 1 === n ? 0 : i + 1;
  }
}

/** A chunk's `"name":"reason"` members of one section, joined by commas. */
function writeChunk(out: JsonWriter, entry: Entry, c: number, unresolvable: boolean, seen: SeenReasons): void {
  const names = entry.names;
  const verdicts = entry.verdicts;
  const end = Math.min(names.length, (c + 1) * CHUNK);
  let first = true;
  for (let j = c * CHUNK; j < end; j += 1) {
    const rejection = verdicts[j];
    if (!rejection || rejection.unresolvable !== unresolvable) continue;
    let k = 0;
    while (k < seen.rejections.length && seen.rejections[k] !== rejection) k += 1;
    if (k === seen.rejections.length) {
      seen.rejections.push(rejection);
      seen.json.push(reasonJson(rejection));
    }
    if (!first) out.char(COMMA);
    first = false;
    out.bytes(names[j]!).char(COLON).bytes(seen.json[k]!);
  }
}

/** Copies the stale chunks' new bytes (`written`: chunk, start, end triples) out of `out` into one Buffer the parts point into. */
function keep(out: JsonWriter, parts: Uint8Array[], written: readonly number[]): void {
  if (written.length === 0) return;
  let size = 0;
  for (let w = 0; w < written.length; w += 3) size += Math.max(0, written[w + 2]! - written[w + 1]!);
  const bytes = out.reserve(0);
  const arena = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (let w = 0; w < written.length; w += 3) {
    const start = written[w + 1]!;
    const length = Math.max(0, written[w + 2]! - start);
    bytes.copy(arena, at, start, start + length);
    parts[written[w]!] = arena.subarray(at, at + length);
    at += length;
  }
}
