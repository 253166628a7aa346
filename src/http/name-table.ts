import type { ClusterIndex, NodeView } from '../sysctl-index/cluster-index.js';
import type { NameRotation } from '../sysctl-index/candidates.js';
import { jsonStringBytes } from './json-writer.js';
import { BACKSLASH, CLOSE_BRACKET, COMMA, nameHash, QUOTE, skipSpace } from './names-body-scan.js';

/**
 * Lists kept to compare requests with. kube-scheduler sends filter the nodes its own plugins
 * kept and prioritize the ones the filter kept, so two lists come in turn (more where teams'
 * pods alternate); with one kept, each call replaced the other's and no rotation was ever
 * found under the real scheduler: a filter call after a prioritize body cost 8.1-8.6 ms in
 * process at 5,000 nodes, against 0.22-0.31 ms with four (2026-12-02).
 */
const BASES = 4;

/** Node names are DNS subdomains: at most 253 characters (the request schema's bound too). */
const MAX_NAME_BYTES = 253;

/** A node the table can match: its view and its name as a JSON string literal (the bytes answers are written from). */
interface Entry {
  readonly view: NodeView;
  readonly json: Uint8Array;
  /** False for a name the index does not know: such a list is never a base. */
  readonly indexed: boolean;
}

/**
 * Finds the views of the names in a request body's `NodeNames` array from its bytes
 * (names-body-scan.ts says why no string is made), each node once, unknown names as views the
 * rules reject.
 *
 * kube-scheduler sends the same names each cycle, rotated (`n1..n4`, then `n2,n3,n4,n1`: the
 * fixtures' README). So the array is first compared, in two native compares, with a recent
 * clean list's bytes rotated to its first name (BASES says why more than one): at 5,000
 * cloud-style names that is 250 kB compared in about 20 µs, where reading name by name took
 * 0.5 ms. Otherwise each name is compared with the node that followed the previous one in the
 * list holding the first name, and only a mismatch is hashed and looked up. Rebuilt when the
 * index's set of node states changes (nodeSetGeneration), which node additions and removals
 * do, not pod events.
 *
 * The table also holds each name's JSON bytes and hands them out beside the views
 * (`jsonNames()`), so that answers copy names in without encoding them and the index's views
 * carry no wire bytes.
 */
export class NameTable {
  private generation = -1;
  private byHash = new Map<number, Entry | Entry[]>();
  /** Each known node's name bytes, kept across rebuilds so that a node added encodes one name, not all. */
  private jsonByView = new Map<NodeView, Uint8Array>();
  /** Recent lists read name by name that held known nodes only, each once: most recently used first, at most BASES. */
  private bases: BaseList[] = [];
  /** What the last read found: views, and their names' JSON bytes in the same order; valid until the next read. */
  private found: NodeView[] = [];
  private foundNames: Uint8Array[] = [];
  private foundRotation: NameRotation | undefined;
  /** This read's entries of names the index does not know. */
  private unknown: Map<string, Entry> | undefined;

  constructor(private readonly index: ClusterIndex) {}

  /** Reads the array from just after its `[` (a NamesReader); `views()` then holds the result. */
  read = (body: Buffer, from: number): number => {
    this.refresh();
    this.foundRotation = undefined;
    const rotated = this.readRotation(body, from);
    return rotated >= 0 ? rotated : this.readEach(body, from);
  };

  /** The views of the last read. */
  views(): NodeView[] {
    return this.found;
  }

  /** The names of the last read as JSON string literals, in the order of `views()`. */
  jsonNames(): Uint8Array[] {
    return this.foundNames;
  }

  /** Where the last read was the base list rotated: the base's names and the offset of the first name read. */
  rotation(): NameRotation | undefined {
    return this.foundRotation;
  }

  /** The array if it is one of the base lists rotated, byte for byte: the offset after `]`, or -1. */
  private readRotation(body: Buffer, from: number): number {
    if (this.bases.length === 0) return -1;
    const start = skipSpace(body, from);
    if (body[start] !== QUOTE) return -1;
    const close = body.indexOf(QUOTE, start + 1);
    if (close < 0 || close - start - 1 > MAX_NAME_BYTES) return -1;
    const first = this.known(body, start + 1, close, nameHash(body, start + 1, close));
    if (first === undefined) return -1;
    for (const base of this.bases) {
      const k = base.positions.get(first);
      if (k === undefined) continue;
      const end = base.rotationEnd(body, start, k);
      if (end < 0) continue;
      this.use(base);
      this.found = rotateInto(base.rotatedViews, base.views, k);
      this.foundNames = rotateInto(base.rotatedNames, base.names, k);
      this.foundRotation = { names: base.names, views: base.views, offset: k };
      return end;
    }
    return -1;
  }

  /** Name by name, each compared with the one after the previous in a base list first. */
  private readEach(body: Buffer, from: number): number {
    this.unknown = undefined;
    // The base the walk follows: the most recent one holding the first name.
    let base: readonly Entry[] = [];
    const entries: Entry[] = [];
    // While every name is the one after the previous in the base (which holds each node once)
    // and the list is no longer than it, no name can repeat: nothing to track.
    let position = -1;
    let seen: Set<Entry> | undefined;
    let clean = true;
    let i = skipSpace(body, from);
    if (body[i] === CLOSE_BRACKET) return this.finish(entries, true, i + 1);
    for (;;) {
      if (body[i] !== QUOTE) return -1;
      const start = i + 1;
      let entry: Entry | undefined;
      let end = -1;
      if (position >= 0) {
        end = matchName(body, start, base[position]!.json);
        if (end >= 0) entry = base[position];
      }
      if (entry === undefined) {
        end = nameEnd(body, start);
        if (end < 0) return -1;
        entry = this.lookUp(body, start, end);
        if (!entry.indexed) clean = false;
        if (entries.length === 0) {
          const walked = this.bases.find((b) => b.positions.has(entry!));
          base = walked?.entries ?? [];
          position = walked?.positions.get(entry) ?? -1;
        } else position = -1;
        if (position < 0) seen ??= new Set(entries);
      }
      // Past the base's length the walk may have come round to its start again.
      if (!seen && entries.length >= base.length) seen = new Set(entries);
      if (!seen) entries.push(entry);
      else if (seen.has(entry)) clean = false;
      else {
        seen.add(entry);
        entries.push(entry);
      }
      if (position >= 0) position = position + 1 === base.length ? 0 : position + 1;
      i = skipSpace(body, end + 1);
      if (body[i] === COMMA) {
        i = skipSpace(body, i + 1);
        continue;
      }
      if (body[i] !== CLOSE_BRACKET) return -1;
      return this.finish(entries, clean, i + 1);
    }
  }

  private finish(entries: Entry[], clean: boolean, end: number): number {
    const n = entries.length;
    const views = new Array<NodeView>(n);
    const names = new Array<Uint8Array>(n);
    for (let k = 0; k < n; k += 1) {
      views[k] = entries[k]!.view;
      names[k] = entries[k]!.json;
    }
    this.found = views;
    this.foundNames = names;
    if (!clean || n === 0) return end;
    // A clean list becomes a base the next (rotated) requests are compared with.
    // Equal to a kept list (read name by name, say for spaces between names): that list, not a copy.
    let base = this.bases.find((b) => b.entries.length === n && b.positions.get(entries[0]!) === 0 && sameOrder(entries, b.entries));
    if (base === undefined) {
      base = new BaseList(entries, views, names);
      this.bases.unshift(base);
      if (this.bases.length > BASES) this.bases.pop();
    }
    this.use(base);
    this.foundRotation = { names: base.names, views: base.views, offset: 0 };
    return end;
  }

  /** `base` to the front: the least recently used is the one a new list replaces. */
  private use(base: BaseList): void {
    const at = this.bases.indexOf(base);
    if (at <= 0) return;
    this.bases.splice(at, 1);
    this.bases.unshift(base);
  }

  /** A known node by its name's bytes; undefined if the index has none of that name. */
  private known(body: Buffer, start: number, end: number, hash: number): Entry | undefined {
    const found = this.byHash.get(hash);
    if (found === undefined) return undefined;
    if (!Array.isArray(found)) return matchName(body, start, found.json) === end ? found : undefined;
    for (const entry of found) if (matchName(body, start, entry.json) === end) return entry;
    return undefined;
  }

  private lookUp(body: Buffer, start: number, end: number): Entry {
    const hash = nameHash(body, start, end);
    const known = this.known(body, start, end, hash);
    if (known) return known;
    // Printable ASCII (nameEnd checked): latin1 decodes it exactly.
    const name = body.toString('latin1', start, end);
    const state = this.index.node(name);
    // A state the table was built without (pods came before their Node): add it for next time.
    if (state) return this.add(hash, this.entryOf(state));
    // Not in the index: one entry per name and read, so that a repeat is answered once.
    this.unknown ??= new Map();
    const seen = this.unknown.get(name);
    if (seen) return seen;
    const entry = { view: this.index.viewOf(name), json: Buffer.from(body.subarray(start - 1, end + 1)), indexed: false };
    this.unknown.set(name, entry);
    return entry;
  }

  private refresh(): void {
    const generation = this.index.nodeSetGeneration;
    if (generation === this.generation) return;
    this.generation = generation;
    const previous = this.jsonByView;
    this.jsonByView = new Map();
    this.byHash = new Map();
    this.bases = [];
    for (const view of this.index.knownNodes()) {
      const entry = this.entryOf(view, previous.get(view));
      this.add(nameHash(entry.json, 1, entry.json.length - 1), entry);
    }
  }

  private entryOf(view: NodeView, json: Uint8Array = jsonStringBytes(view.name)): Entry {
    this.jsonByView.set(view, json);
    return { view, json, indexed: true };
  }

  private add(hash: number, entry: Entry): Entry {
    const found = this.byHash.get(hash);
    if (found === undefined) this.byHash.set(hash, entry);
    else if (Array.isArray(found)) found.push(entry);
    else if (found.view !== entry.view) this.byHash.set(hash, [found, entry]);
    return entry;
  }
}

/**
 * A list of known nodes, each once, as kube-scheduler sent it: its entries, views and names,
 * its bytes (names joined by commas) and where each name starts in them.
 */
class BaseList {
  /** Each entry's position: a request's first name is found in it by lookup, not by a scan of 5,000 entries. */
  readonly positions: Map<Entry, number>;
  /**
   * Where a rotation is written, call after call: two fresh 5,000-element arrays per call were
   * half of what a served filter allocated (about 160 kB a call), and with a 4 MB young
   * generation every 22nd call paid a 1-2 ms scavenge (filter-verb.ts has the figures).
   */
  readonly rotatedViews: NodeView[];
  readonly rotatedNames: Uint8Array[];
  private readonly text: Buffer;
  private readonly offsets: Int32Array;

  /**
   * `views` and `names` are arrays of their own, though `entries` holds both: rotating them
   * straight from the entries (one array, one loop) measured slower served (throughput
   * 0.70-0.71 of the do-nothing server against 0.77, worker-many-profiles, two runs).
   */
  constructor(
    readonly entries: readonly Entry[],
    readonly views: readonly NodeView[],
    readonly names: readonly Uint8Array[],
  ) {
    this.positions = new Map(entries.map((entry, k) => [entry, k]));
    this.rotatedViews = new Array<NodeView>(views.length);
    this.rotatedNames = new Array<Uint8Array>(names.length);
    this.offsets = new Int32Array(entries.length);
    let size = entries.length - 1;
    for (const json of names) size += json.length;
    const text = Buffer.allocUnsafe(size);
    let at = 0;
    for (let k = 0; k < names.length; k += 1) {
      if (k > 0) text[at++] = COMMA;
      this.offsets[k] = at;
      const json = names[k]!;
      text.set(json, at);
      at += json.length;
    }
    this.text = text;
  }

  /** Where the array ends (after `]`) if `body` from `start` holds this list from name k round to k - 1, byte for byte; else -1. */
  rotationEnd(body: Buffer, start: number, k: number): number {
    const text = this.text;
    // Names k.. then, after a comma, names ..k-1: the bytes from k's quote, then up to it.
    const at = this.offsets[k]!;
    const tail = text.length - at;
    if (Buffer.compare(body.subarray(start, start + tail), text.subarray(at)) !== 0) return -1;
    let end = start + tail;
    if (k > 0) {
      if (body[end] !== COMMA || Buffer.compare(body.subarray(end + 1, end + at), text.subarray(0, at - 1)) !== 0) return -1;
      end += at;
    }
    end = skipSpace(body, end);
    return body[end] === CLOSE_BRACKET ? end + 1 : -1;
  }
}

/**
 * Where a name whose JSON bytes are `json` ends if the body holds it from `start` (the offset
 * of its closing quote), else -1. A match needs no other check: the node's own name is a valid one.
 */
function matchName(body: Buffer, start: number, json: Uint8Array): number {
  const last = json.length - 1;
  let j = start;
  for (let k = 1; k < last; k += 1, j += 1) if (body[j] !== json[k]) return -1;
  return body[j] === QUOTE ? j : -1;
}

/** The offset of the closing quote of a name starting at `start`; -1 unless it is 1..253 bytes of printable ASCII without escapes. */
function nameEnd(body: Buffer, start: number): number {
  const n = body.length;
  let j = start;
  for (; j < n; j += 1) {
    const b = body[j]!;
    if (b === QUOTE) break;
    // Escapes, control characters and non-ASCII: the full parser decides what they mean.
    if (b === BACKSLASH || b < 0x20 || b >= 0x7f) return -1;
  }
  if (j >= n || j === start || j - start > MAX_NAME_BYTES) return -1;
  return j;
}

/** `items` from position k round to k - 1, written into `out` (of the same length). */
function rotateInto<T>(out: T[], items: readonly T[], k: number): T[] {
  const n = items.length;
  for (let i = 0, j = k; i < n; i += 1, j = j + 1 === n ? 0 : j + 1) out[i] = items[j]!;
  return out;
}

function sameOrder(a: readonly Entry[], b: readonly Entry[]): boolean {
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}
