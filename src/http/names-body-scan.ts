/**
 * Reads a `nodeCacheCapable` request body (`{"Pod": {…}, "Nodes": null, "NodeNames": […]}`)
 * from its bytes, without JSON.parse of the names: the Pod's bytes are handed on to be parsed,
 * and the names array to a reader that matches names against the index's own bytes of them
 * (name-table.ts), so that no string is made per name.
 *
 * Why: kube-scheduler sends all candidate names in every filter and prioritize call. Parsing
 * them made 5,000 strings per call; V8 looks up each short one (`n7`, `worker-12`) in its
 * string table, and in a process holding a large index that cost 2.8 ms per call where the
 * same parse took 0.7 ms in an idle process (issue 14, a cluster named `n0`..`n4999`). The
 * index then looked each string up again in a Map.
 *
 * Only the common, plain form is read here: the three fields (any case, as Go's decoder
 * matches them), `Nodes` null, names of printable ASCII without escapes. Anything else returns
 * undefined, and the caller parses the body in full, which also gives every error its message.
 */

/** Reads a names array from just after its `[`; returns the offset after its `]`, or -1 if not plain. */
export type NamesReader = (body: Buffer, from: number) => number;

export interface ScannedNamesBody {
  /** The Pod value's bytes, to be parsed as JSON. */
  readonly podStart: number;
  readonly podEnd: number;
}

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** FNV-1a over bytes [start, end): the same function the name table hashes the index's names with. */
export function nameHash(bytes: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i += 1) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** The body's Pod span, its names handed to `readNames`; undefined where the body is not in the plain form. */
export function scanNamesBody(body: Buffer, readNames: NamesReader): ScannedNamesBody | undefined {
  const n = body.length;
  let i = skipSpace(body, 0);
  if (body[i] !== OPEN_BRACE) return undefined;
  i = skipSpace(body, i + 1);
  let podStart = -1;
  let podEnd = -1;
  let sawNodes = false;
  let sawNames = false;
  if (body[i] === CLOSE_BRACE) return undefined;
  for (;;) {
    if (body[i] !== QUOTE) return undefined;
    const keyStart = i + 1;
    let keyEnd = keyStart;
    while (keyEnd < n && body[keyEnd] !== QUOTE) {
      if (body[keyEnd] === BACKSLASH || keyEnd - keyStart > 16) return undefined;
      keyEnd += 1;
    }
    if (keyEnd >= n) return undefined;
    i = skipSpace(body, keyEnd + 1);
    if (body[i] !== COLON) return undefined;
    i = skipSpace(body, i + 1);
    const field = fieldOf(body, keyStart, keyEnd);
    if (field === 'pod') {
      if (podStart >= 0 || body[i] !== OPEN_BRACE) return undefined;
      podStart = i;
      i = skipComposite(body, i);
      if (i < 0) return undefined;
      podEnd = i;
    } else if (field === 'nodes') {
      if (sawNodes || !isNull(body, i)) return undefined;
      sawNodes = true;
      i += 4;
    } else if (field === 'nodenames') {
      if (sawNames || body[i] !== OPEN_BRACKET) return undefined;
      sawNames = true;
      i = readNames(body, i + 1);
      if (i < 0) return undefined;
    } else {
      return undefined;
    }
    i = skipSpace(body, i);
    if (body[i] === COMMA) {
      i = skipSpace(body, i + 1);
      continue;
    }
    if (body[i] !== CLOSE_BRACE) return undefined;
    break;
  }
  if (skipSpace(body, i + 1) !== n || podStart < 0 || !sawNames) return undefined;
  return { podStart, podEnd };
}

/** The end (exclusive) of the object or array starting at `from`, strings and nesting followed; -1 if it does not end. */
function skipComposite(body: Uint8Array, from: number): number {
  const n = body.length;
  let depth = 0;
  for (let i = from; i < n; i += 1) {
    const b = body[i]!;
    if (b === QUOTE) {
      i += 1;
      while (i < n && body[i] !== QUOTE) i += body[i] === BACKSLASH ? 2 : 1;
      if (i >= n) return -1;
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      depth += 1;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

export function skipSpace(body: Uint8Array, from: number): number {
  let i = from;
  while (i < body.length && isSpace(body[i]!)) i += 1;
  return i;
}

function isNull(body: Uint8Array, i: number): boolean {
  return body[i] === 0x6e && body[i + 1] === 0x75 && body[i + 2] === 0x6c && body[i + 3] === 0x6c;
}

/** The field a key names, matched case-insensitively as Go's encoding/json does; undefined for others. */
function fieldOf(body: Uint8Array, start: number, end: number): 'pod' | 'nodes' | 'nodenames' | undefined {
  let key = '';
  for (let i = start; i < end; i += 1) {
    const b = body[i]!;
    if (b >= 0x80) return undefined;
    key += String.fromCharCode(b >= 0x41 && b <= 0x5a ? b + 0x20 : b);
  }
  return key === 'pod' || key === 'nodes' || key === 'nodenames' ? key : undefined;
}
