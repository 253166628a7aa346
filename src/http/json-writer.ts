/**
 * Writes JSON text straight into one Buffer. A filter answer at 5,000 nodes is thousands of
 * `"node":"reason"` pairs: built as a string, it became a rope of thousands of pieces whose
 * flattening and UTF-8 encoding took more time than the rules. Here names and reasons are
 * UTF-8 bytes encoded once (name-table.ts, reason-json.ts) and copied in.
 *
 * The Buffer comes from a small pool and goes back once the answer is sent (`release`): a
 * fresh half-megabyte Buffer per call counted as external memory and brought on extra
 * garbage collections of the whole heap, index included.
 */
export class JsonWriter {
  private buf: Buffer;
  private at = 0;

  constructor(sizeHint: number) {
    this.buf = takeScratch(Math.max(256, sizeHint));
  }

  /** Bytes that are already JSON text (a pre-encoded string literal). */
  bytes(json: Uint8Array): this {
    this.room(json.length);
    this.buf.set(json, this.at);
    this.at += json.length;
    return this;
  }

  /** One ASCII character of punctuation: `{`, `,`, `:`. */
  char(code: number): this {
    this.room(1);
    this.buf[this.at++] = code;
    return this;
  }

  /** Text that is already JSON (punctuation, keys, a stringified value). */
  text(json: string): this {
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8. Long text (echoed Node
    // objects, megabytes) is measured instead, not to take a buffer three times its size.
    this.room(json.length > 64 * 1024 ? Buffer.byteLength(json) : json.length * 3);
    this.at += this.buf.write(json, this.at, 'utf8');
    return this;
  }

  /**
   * For loops that copy thousands of pieces (encode.ts): room for `bytes` more, and the Buffer to
   * write them into from `length`; `advance` then moves past what was written. Saves a call and
   * a bounds check per piece.
   */
  reserve(bytes: number): Buffer {
    this.room(bytes);
    return this.buf;
  }

  get length(): number {
    return this.at;
  }

  advance(to: number): void {
    this.at = to;
  }

  /** What was written; the writer must not be used afterwards. */
  finish(): WrittenJson {
    return new WrittenJson(this.buf, this.at);
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = takeScratch(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(grown, 0, 0, this.at);
    releaseScratch(this.buf);
    this.buf = grown;
  }
}

/** JSON bytes in a pooled Buffer. */
export class WrittenJson {
  private released = false;

  constructor(
    private readonly scratch: Buffer,
    private readonly length: number,
  ) {}

  get bytes(): Buffer {
    if (this.released) throw new Error('answer read after its buffer was released');
    return this.scratch.subarray(0, this.length);
  }

  /** Hands the Buffer back for a later answer: call once the bytes have been sent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    releaseScratch(this.scratch);
  }
}

/** A string as a JSON string literal in UTF-8: names and reasons are encoded so once, then copied into answers. */
export function jsonStringBytes(text: string): Buffer {
  return Buffer.from(JSON.stringify(text));
}

export const COMMA = 0x2c;
export const COLON = 0x3a;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;

/** kube-scheduler calls one at a time; a few more cover overlapping calls. */
const POOL_SIZE = 4;
/** Larger buffers (full `Nodes` answers) are left to the garbage collector, not kept. */
const MAX_POOLED_BYTES = 4 * 1024 * 1024;
const pool: Buffer[] = [];

function takeScratch(bytes: number): Buffer {
  // The most recently released fit first: its memory is the likeliest to be in cache still.
  for (let i = pool.length - 1; i >= 0; i -= 1) if (pool[i]!.length >= bytes) return pool.splice(i, 1)[0]!;
  // Round up so that answers of slowly growing size reuse one buffer.
  return Buffer.allocUnsafeSlow(Math.min(2 ** Math.ceil(Math.log2(bytes)), Math.max(bytes, MAX_POOLED_BYTES)));
}

function releaseScratch(buf: Buffer): void {
  if (buf.length > MAX_POOLED_BYTES) return;
  if (pool.length >= POOL_SIZE) pool.shift();
  pool.push(buf);
}
