import type { Verdicts } from '../filter/filter-nodes.js';
import type { Rejection } from '../filter/reasons.js';
import type { VerdictStamp } from '../filter/verdict-cache.js';
import type { NameRotation } from '../sysctl-index/candidates.js';
import { COMMA, JsonWriter } from './json-writer.js';
import { requestIndex, SeenReasons, writeFailedSections, writeRefusedMembers } from './refused-members.js';

/*
 * The `"FailedNodes":{...},"FailedAndUnresolvableNodes":{...}` part of a filter answer, kept
 * from call to call. At 5,000 nodes that part is most of the answer's bytes (a name and a
 * reason per refused node), and writing it was the largest cost of a served call: 0.37 ms of
 * 0.99 ms on fifty-teams-dense (CPU profile, 2026-12-02), where the rules took 0.14 ms.
 *
 * Consecutive pods of one workload get the same verdicts, and kube-scheduler sends the same
 * names each time, rotated (name-table.ts). A map's order means nothing to its reader, so the
 * members are written in the order of the name table's base list, not the request's: then the
 * same verdicts give the same bytes whatever the rotation. The memo judges nothing: it is handed
 * the call's verdicts (from verdict-cache.ts or the rules) and reuses bytes only where they are
 * the same object node by node (rejections are frozen, their text encoded per object:
 * reason-json.ts), so nothing here can go stale: a node whose verdict changed is written again.
 *
 * The base list is cut in chunks of CHUNK nodes, each chunk's two sections kept as bytes with
 * the verdicts they were written from, per workload (ENTRIES of them, found by a fingerprint
 * of the verdicts). A call compares its verdicts chunk by chunk with its entry's and writes
 * again only the chunks that differ: a pod bound to one node changes one chunk, not the answer.
 * A call whose verdicts come with the stamp an entry was last written for (verdict-cache.ts:
 * equal stamps, equal verdicts) skips the fingerprint and the compare.
 */

/** Nodes per chunk: small enough that one changed node re-encodes little, large enough that copies stay few (79 a section at 5,000 nodes). */
const CHUNK = 64;
/** Workloads kept apart: one entry each, up to about 0.5 MB at 5,000 cloud-style names (4 MB for all). */
const ENTRIES = 8;
/**
 * Verdicts are kept at their next sighting once they were seen this many times in the last
 * 2 x ENTRIES calls that had no entry (the third call of a workload). With 48 workloads in turn, pairs of pods with the same verdicts one after the other
 * made an entry every fourth call that was evicted unused: 0.65 ms a call in process against
 * 0.59 without the memo (worker-fifty-teams). A burst of replicas is kept from its third pod.
 */
const SIGHTINGS = 2;

interface Entry {
  /** The fingerprint of the verdicts it holds. */
  print: number;
  /** The name table's base list the chunks are cut from (its identity changes with it). */
  readonly names: readonly Uint8Array[];
  /** Per node of the base, in base order, the verdict its chunk's bytes say. */
  readonly verdicts: (Rejection | undefined)[];
  /** Per chunk, its `"name":"reason"` members joined by commas, per section. */
  readonly resolvable: Uint8Array[];
  readonly unresolvable: Uint8Array[];
  /**
   * Per section, the Buffer a write of every chunk copied its bytes into, reused by the next
   * such write: an entry made for verdicts that are then evicted unused (many workloads in turn)
   * costs no allocation once the entries exist.
   */
  readonly arenas: [Buffer | undefined, Buffer | undefined];
  /** The stamp of the verdicts last written, if they came with one. */
  stamp: VerdictStamp | undefined;
}

export class FailedNodesMemo {
  /** Most recently used first. */
  private entries: Entry[] = [];
  /** Fingerprints of the last calls no entry had, newest last: one that comes back SIGHTINGS times is kept. */
  private recent: number[] = [];
  /** Per chunk of this call: 1 where the bytes must be written (the entry's do not match, or no entry). */
  private stale = new Uint8Array(0);

  /**
   * Writes both sections for `verdicts` (in request order, that is `rotation` applied to its
   * base list), keys included, without the commas around them.
   */
  write(out: JsonWriter, rotation: NameRotation, verdicts: Verdicts, stamp?: VerdictStamp): void {
    const n = rotation.names.length;
    const chunks = Math.ceil(n / CHUNK);
    if (this.stale.length < chunks) this.stale = new Uint8Array(chunks);
    const entry = this.entryFor(rotation, verdicts, chunks, stamp);
    const seen = new SeenReasons();
    try {
      writeFailedSections(out, (unresolvable) => this.writeSection(out, rotation, verdicts, entry, unresolvable, chunks, seen));
    } catch (err) {
      // The entry already says the new verdicts; its bytes may not: it must not answer again.
      if (entry) this.entries = this.entries.filter((e) => e !== entry);
      throw err;
    }
  }

  /**
   * The entry last written for `stamp`, every chunk current; else the entry of these verdicts;
   * or the latest entry if at least half its chunks match (the same workload after a bind
   * changed a node); or a new one if the verdicts were seen twice in the last calls; or none.
   * `stale` then marks the chunks whose bytes must be written.
   */
  private entryFor(rotation: NameRotation, verdicts: Verdicts, chunks: number, stamp: VerdictStamp | undefined): Entry | undefined {
    const stale = this.stale;
    // Entries of an earlier base can never match again.
    if (this.entries.some((e) => e.names !== rotation.names)) {
      this.entries = this.entries.filter((e) => e.names === rotation.names);
      this.recent = [];
    }
    const vouched = stamp && this.entries.findIndex((e) => sameStamp(e.stamp, stamp));
    if (vouched !== undefined && vouched >= 0) {
      const entry = this.entries.splice(vouched, 1)[0]!;
      this.entries.unshift(entry);
      stale.fill(0, 0, chunks);
      return entry;
    }
    const entry = this.entryByVerdicts(rotation, verdicts, chunks);
    if (entry) entry.stamp = stamp;
    return entry;
  }

  private entryByVerdicts(rotation: NameRotation, verdicts: Verdicts, chunks: number): Entry | undefined {
    const stale = this.stale;
    const print = fingerprint(rotation, verdicts);
    let at = this.entries.findIndex((e) => e.print === print);
    if (at >= 0) compareChunks(this.entries[at]!, rotation.offset, verdicts, stale, chunks, chunks);
    else if (this.entries.length > 0 && compareChunks(this.entries[0]!, rotation.offset, verdicts, stale, chunks, chunks >> 1)) at = 0;
    let entry: Entry;
    if (at >= 0) {
      entry = this.entries.splice(at, 1)[0]!;
      entry.print = print;
    } else {
      stale.fill(1, 0, chunks);
      let sightings = 0;
      for (const seen of this.recent) if (seen === print) sightings += 1;
      if (sightings < SIGHTINGS) {
        this.recent.push(print);
        if (this.recent.length > 2 * ENTRIES) this.recent.shift();
        return undefined;
      }
      this.recent = this.recent.filter((seen) => seen !== print);
      const evicted = this.entries.length >= ENTRIES ? this.entries.pop() : undefined;
      entry = evicted ? Object.assign(evicted, { print }) : newEntry(print, rotation.names, chunks);
    }
    this.entries.unshift(entry);
    for (let c = 0; c < chunks; c += 1) if (stale[c]) copyChunkVerdicts(entry, rotation.offset, verdicts, c);
    return entry;
  }

  /** One section: an entry's matching chunks copied, the others written (and kept in the entry, copied out in one piece). */
  private writeSection(out: JsonWriter, rotation: NameRotation, verdicts: Verdicts, entry: Entry | undefined, unresolvable: boolean, chunks: number, seen: SeenReasons): void {
    const stale = this.stale;
    const parts = entry ? (unresolvable ? entry.unresolvable : entry.resolvable) : undefined;
    const n = rotation.names.length;
    let first = true;
    // Where each stale chunk's members landed in `out`, to keep them once the section is written.
    const written: number[] = [];
    for (let c = 0; c < chunks; c += 1) {
      if (stale[c] || !parts) {
        if (!first) out.char(COMMA);
        const start = out.length;
        writeRefusedMembers(out, rotation.names, verdicts, rotation.offset, c * CHUNK, Math.min(n, (c + 1) * CHUNK), unresolvable, seen);
        if (parts) written.push(c, start, out.length);
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
    if (entry && parts) keep(out, entry, unresolvable ? 1 : 0, parts, written, chunks);
  }
}

/**
 * A hash of the verdicts in base order, whatever the rotation: each node's rejection as the
 * rank of its first appearance, then the codes in that order. Equal verdicts give equal
 * prints; equal prints are checked node by node all the same.
 */
function fingerprint(rotation: NameRotation, verdicts: Verdicts): number {
  const n = rotation.names.length;
  // Rank 0: no rejection.
  const kinds: (Rejection | undefined)[] = [undefined];
  let last: Rejection | undefined;
  let rank = 0;
  let h = 0x811c9dc5 ^ n;
  let i = requestIndex(0, rotation.offset, n);
  for (let j = 0; j < n; j += 1) {
    const rejection = verdicts[i];
    if (rejection !== last) {
      last = rejection;
      rank = kinds.indexOf(rejection);
      if (rank < 0) rank = kinds.push(rejection) - 1;
    }
    h = Math.imul(h ^ rank, 0x01000193);
    i = i + 1 === n ? 0 : i + 1;
  }
  for (const kind of kinds) {
    const code = kind ? kind.code : '';
    for (let k = 0; k < code.length; k += 1) h = Math.imul(h ^ code.charCodeAt(k), 0x01000193);
    h = Math.imul(h ^ 0xff, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Marks in `stale` the chunks whose kept verdicts differ from the call's; false, leaving
 * `stale` partly written, as soon as more than `allowed` differ.
 */
function compareChunks(entry: Entry, offset: number, verdicts: Verdicts, stale: Uint8Array, chunks: number, allowed: number): boolean {
  const n = entry.names.length;
  const kept = entry.verdicts;
  let differing = 0;
  for (let c = 0; c < chunks; c += 1) {
    const end = Math.min(n, (c + 1) * CHUNK);
    let i = requestIndex(c * CHUNK, offset, n);
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
  let i = requestIndex(c * CHUNK, offset, n);
  for (let j = c * CHUNK; j < end; j += 1) {
    entry.verdicts[j] = verdicts[i];
    i = i + 1 === n ? 0 : i + 1;
  }
}

function newEntry(print: number, names: readonly Uint8Array[], chunks: number): Entry {
  return { print, names, verdicts: new Array<Rejection | undefined>(names.length), resolvable: new Array<Uint8Array>(chunks), unresolvable: new Array<Uint8Array>(chunks), arenas: [undefined, undefined], stamp: undefined };
}

function sameStamp(a: VerdictStamp | undefined, b: VerdictStamp): boolean {
  return a !== undefined && a.source === b.source && a.version === b.version;
}

/**
 * Copies the stale chunks' new bytes (`written`: chunk, start, end triples) out of `out` into
 * one Buffer the parts point into: the section's own arena when every chunk was written (the
 * parts it held are all replaced), a new Buffer for a few.
 */
function keep(out: JsonWriter, entry: Entry, section: 0 | 1, parts: Uint8Array[], written: readonly number[], chunks: number): void {
  if (written.length === 0) return;
  let size = 0;
  for (let w = 0; w < written.length; w += 3) size += written[w + 2]! - written[w + 1]!;
  const every = written.length === chunks * 3;
  let arena = every ? entry.arenas[section] : undefined;
  if (arena === undefined || arena.length < size) {
    // Room to grow: the same workload's answer changes size by a few members.
    arena = Buffer.allocUnsafeSlow(every ? size + (size >> 3) : size);
    if (every) entry.arenas[section] = arena;
  }
  const bytes = out.reserve(0);
  let at = 0;
  for (let w = 0; w < written.length; w += 3) {
    const start = written[w + 1]!;
    const length = written[w + 2]! - start;
    bytes.copy(arena, at, start, start + length);
    parts[written[w]!] = arena.subarray(at, at + length);
    at += length;
  }
}
