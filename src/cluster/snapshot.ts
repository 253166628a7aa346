import { closeSync, openSync, readSync } from 'node:fs';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { KubeDaemonSet, KubeNamespace, KubeNode, KubePod } from '../sysctl-index/kube-objects.js';

/** The output of `kubectl get nodes,pods,namespaces,daemonsets -A -o json`: a `List` of mixed kinds. */
export interface KubeList {
  kind?: string;
  items: SnapshotItem[];
}

/** DaemonSets (`kubectl get nodes,pods,namespaces,daemonsets -A -o json`) prove which pods are DaemonSet pods. */
export type SnapshotItem = (KubeNode | KubePod | KubeNamespace | KubeDaemonSet) & { kind?: string };

export class SnapshotError extends Error {}

const EXPECTED = 'expected kubectl get nodes,pods,namespaces,daemonsets -A -o json';
/** Read size: large enough that the scan, not the system calls, costs the time. */
const CHUNK_BYTES = 1 << 20;

/**
 * Streams a snapshot file's `items`, one parsed item at a time, in file order. The file is
 * never one string: V8 cannot make a string past ~512 MB (150,000 pods in kubectl's format are
 * about 480 MB), and holding the whole parsed List beside the index doubled the resident
 * memory. A small splitter walks the top-level object byte by byte (JSON's structural bytes
 * are ASCII, never inside a UTF-8 sequence), skips every key but `items`, and hands each
 * element of that array to JSON.parse on its own. Errors are one line naming the file.
 */
export function readSnapshotItems(path: string, onItem: (item: SnapshotItem) => void): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new SnapshotError(`cannot read snapshot ${path}: ${(err as Error).message}`);
  }
  try {
    new ListSplitter(new ChunkReader(fd, path), path).run(onItem);
  } finally {
    closeSync(fd);
  }
}

/** Reads a whole snapshot into memory: for small files and tools; the server streams (loadSnapshotFile). */
export function readSnapshotFile(path: string): KubeList {
  const items: SnapshotItem[] = [];
  readSnapshotItems(path, (item) => items.push(item));
  return { kind: 'List', items };
}

export interface LoadCounts {
  namespaces: number;
  nodes: number;
  pods: number;
  daemonSets: number;
  /** Items of other kinds, or without the fields the index needs. */
  skipped: number;
}

function emptyCounts(): LoadCounts {
  return { namespaces: 0, nodes: 0, pods: 0, daemonSets: 0, skipped: 0 };
}

/** Feeds one List item through the same update functions a watch uses. */
function applyItem(index: ClusterIndex, item: SnapshotItem, counts: LoadCounts): void {
  const applied =
    item?.kind === 'Namespace' ? index.upsertNamespace(item) && ++counts.namespaces
    : item?.kind === 'Node' ? index.upsertNode(item as KubeNode) && ++counts.nodes
    : item?.kind === 'Pod' ? index.upsertPod(item as KubePod) && ++counts.pods
    : item?.kind === 'DaemonSet' ? index.upsertDaemonSet(item) && ++counts.daemonSets
    : false;
  if (!applied) counts.skipped += 1;
}

/** Feeds an in-memory List (the demo cluster, tests) into the index. */
export function applyList(index: ClusterIndex, list: KubeList): LoadCounts {
  const counts = emptyCounts();
  for (const item of list.items) applyItem(index, item, counts);
  return counts;
}

/** Streams a snapshot file into the index: the index is the only copy of the cluster held. */
export function loadSnapshotFile(index: ClusterIndex, path: string): LoadCounts {
  const counts = emptyCounts();
  readSnapshotItems(path, (item) => applyItem(index, item, counts));
  return counts;
}

/** Sequential reads of a file, a chunk at a time, with the byte offset of each position. */
class ChunkReader {
  buffer = Buffer.alloc(0);
  /** Next unread byte in `buffer`. */
  pos = 0;
  /** File offset of buffer[0]. */
  base = 0;
  private readonly chunk = Buffer.allocUnsafe(CHUNK_BYTES);

  constructor(
    private readonly fd: number,
    private readonly path: string,
  ) {}

  /** Loads the next chunk once `buffer` is used up; false at the end of the file. */
  refill(): boolean {
    if (this.pos < this.buffer.length) return true;
    let read: number;
    try {
      read = readSync(this.fd, this.chunk, 0, CHUNK_BYTES, null);
    } catch (err) {
      throw new SnapshotError(`cannot read snapshot ${this.path}: ${(err as Error).message}`);
    }
    this.base += this.buffer.length;
    this.buffer = this.chunk.subarray(0, read);
    this.pos = 0;
    return read > 0;
  }

  get offset(): number {
    return this.base + this.pos;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** The top-level object of a List; see readSnapshotItems. */
class ListSplitter {
  constructor(
    private readonly reader: ChunkReader,
    private readonly path: string,
  ) {}

  run(onItem: (item: SnapshotItem) => void): void {
    let sawItems = false;
    this.expect(OPEN_BRACE, 'a JSON object');
    if (this.peek() === CLOSE_BRACE) this.reader.pos += 1;
    else {
      for (;;) {
        const key = this.parse(this.value(), 'a key');
        if (typeof key !== 'string') this.fail('a key');
        this.expect(COLON, '":"');
        if (key === 'items' && this.peek() === OPEN_BRACKET) {
          sawItems = true;
          this.items(onItem);
        } else this.value();
        if (this.next(COMMA, CLOSE_BRACE, '"," or "}"') === CLOSE_BRACE) break;
      }
    }
    if (this.peek() !== undefined) this.fail('the end of the file');
    if (!sawItems) throw new SnapshotError(`snapshot ${this.path} has no "items" list`);
  }

  private items(onItem: (item: SnapshotItem) => void): void {
    this.reader.pos += 1; // [
    if (this.peek() === CLOSE_BRACKET) {
      this.reader.pos += 1;
      return;
    }
    for (let n = 0; ; n++) {
      const at = this.reader.offset;
      onItem(this.parse(this.value(), `item ${n}`, at) as SnapshotItem);
      if (this.next(COMMA, CLOSE_BRACKET, '"," or "]"') === CLOSE_BRACKET) return;
    }
  }

  /**
   * The raw text of the JSON value at the current position: it ends at the bracket that closes
   * it, or (a number, literal or string at depth 0) before the next structural byte.
   */
  private value(): string {
    const r = this.reader;
    if (this.peek() === undefined) this.fail('a value');
    const parts: Buffer[] = [];
    let depth = 0;
    let inString = false;
    let escaped = false;
    let started = false;
    for (;;) {
      const buffer = r.buffer;
      const from = r.pos;
      let i = from;
      let end = -1;
      for (; i < buffer.length; i++) {
        const byte = buffer[i]!;
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === BACKSLASH) escaped = true;
          else if (byte === QUOTE) {
            inString = false;
            if (depth === 0) {
              end = i + 1;
              break;
            }
          }
          continue;
        }
        if (byte === QUOTE) {
          if (depth === 0 && started) {
            end = i;
            break;
          }
          inString = true;
        } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
        else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
          if (depth === 0) {
            end = i;
            break;
          }
          if (--depth === 0) {
            end = i + 1;
            break;
          }
        } else if (depth === 0 && (byte === COMMA || byte === COLON || isSpace(byte))) {
          end = i;
          break;
        }
        started = true;
      }
      if (end >= 0) {
        parts.push(buffer.subarray(from, end));
        r.pos = end;
        break;
      }
      parts.push(Buffer.from(buffer.subarray(from)));
      r.pos = buffer.length;
      if (!r.refill()) break; // the end of the file ends a bare number; anything open fails in parse
    }
    return parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8');
  }

  private parse(text: string, what: string, at = this.reader.offset - Buffer.byteLength(text)): unknown {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new SnapshotError(`snapshot ${this.path} is not JSON (${EXPECTED}): ${what} at byte ${at}: ${oneLine((err as Error).message)}`);
    }
  }

  /** The next non-space byte, not consumed; undefined at the end of the file. */
  private peek(): number | undefined {
    const r = this.reader;
    for (;;) {
      if (!r.refill()) return undefined;
      const byte = r.buffer[r.pos]!;
      if (!isSpace(byte)) return byte;
      r.pos += 1;
    }
  }

  private expect(byte: number, what: string): void {
    if (this.peek() !== byte) this.fail(what);
    this.reader.pos += 1;
  }

  private next(a: number, b: number, what: string): number {
    const byte = this.peek();
    if (byte !== a && byte !== b) this.fail(what);
    this.reader.pos += 1;
    return byte;
  }

  private fail(expected: string): never {
    const byte = this.peek();
    const found = byte === undefined ? 'the end of the file' : JSON.stringify(String.fromCharCode(byte));
    throw new SnapshotError(`snapshot ${this.path} is not JSON (${EXPECTED}): expected ${expected} at byte ${this.reader.offset}, found ${found}`);
  }
}

/** V8's JSON.parse messages quote the input, newlines included: keep one short line. */
function oneLine(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
