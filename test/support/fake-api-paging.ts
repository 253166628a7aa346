/**
 * Chunked lists (`?limit=N&continue=TOKEN`) as the real API server's etcd store serves them:
 * items in key order (`namespace/name`), every page read from the state as of the first
 * page's resourceVersion, and a continue token shaped like the apiserver's own
 * (base64url of `{"v":"meta.k8s.io/v1","rv":N,"start":"<last key>\u0000"}`).
 *
 * Errors as the apiserver gives them: a token it cannot read is 400 BadRequest ("invalid
 * continue token"); a readable one whose resourceVersion etcd has compacted (here: has left
 * the event history) is 410 Gone, reason Expired, whose Status offers in `metadata.continue`
 * a token (rv -1) carrying on, inconsistently, from the latest state.
 *
 * Generic over the stored object so that it depends on nothing of the server.
 */

/** A resource's objects as of one resourceVersion, sorted by key for binary search. */
export interface SortedState<T> {
  readonly rv: number;
  readonly keys: readonly string[];
  readonly objects: readonly T[];
}

export function sortState<T>(rv: number, state: ReadonlyMap<string, T>): SortedState<T> {
  const entries = [...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { rv, keys: entries.map(([key]) => key), objects: entries.map(([, object]) => object) };
}

/** A token the server cannot read: the apiserver answers 400 BadRequest "invalid continue token". */
export class ContinueTokenError extends Error {}

const TOKEN_VERSION = 'meta.k8s.io/v1';

/** `rv` -1 asks for an inconsistent continuation from the latest state (what a 410 offers). */
export function encodeContinueToken(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: TOKEN_VERSION, rv, start })).toString('base64url');
}

export function decodeContinueToken(token: string): { rv: number; start: string } {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (err) {
    throw new ContinueTokenError(`continue key is not valid: ${(err as Error).message}`);
  }
  const { v, rv, start } = (typeof decoded === 'object' && decoded !== null ? decoded : {}) as Record<string, unknown>;
  if (v !== TOKEN_VERSION) throw new ContinueTokenError(`got unrecognized encoded version ${JSON.stringify(v)}`);
  if (typeof rv !== 'number' || !Number.isInteger(rv)) throw new ContinueTokenError('continue resource version is not an integer');
  if (rv === 0) throw new ContinueTokenError('0 continue resource version is not allowed when using continue');
  if (typeof start !== 'string' || start === '') throw new ContinueTokenError('continue key is empty');
  return { rv, start };
}

export interface PageRequest<T> {
  /** Only keys with this prefix (a namespace's `ns/`); undefined: all. */
  readonly prefix?: string;
  /** First key to consider (from the continue token). */
  readonly start?: string;
  readonly limit: number;
  readonly matches: (object: T) => boolean;
  /** The apiserver counts the rest only when no label or field selector filters it. */
  readonly countRemaining: boolean;
}

export interface Page<T> {
  readonly items: T[];
  /** Start key of the next page; undefined on the last page. */
  readonly next?: string;
  readonly remainingItemCount?: number;
}

/** One page, in O(limit + log n) when nothing is filtered out: 150,000 pods page in linear time overall. */
export function listPage<T>(state: SortedState<T>, request: PageRequest<T>): Page<T> {
  const { keys, objects } = state;
  // Keys with prefix "ns/" run from "ns/" up to "ns0" ('0' follows '/').
  const rangeStart = request.prefix === undefined ? 0 : lowerBound(keys, request.prefix);
  const rangeEnd = request.prefix === undefined ? keys.length : lowerBound(keys, request.prefix.slice(0, -1) + '0');
  let i = Math.max(rangeStart, request.start === undefined ? 0 : lowerBound(keys, request.start));
  const items: T[] = [];
  for (; i < rangeEnd && items.length < request.limit; i++) {
    if (request.matches(objects[i]!)) items.push(objects[i]!);
  }
  if (i >= rangeEnd) return { items };
  return {
    items,
    next: `${keys[i - 1]!}\u0000`,
    ...(request.countRemaining ? { remainingItemCount: rangeEnd - i } : {}),
  };
}

function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The sorted states recent chunked lists read from, so that a page costs no re-sort. Only a
 * cache: a state evicted while its resourceVersion is still in history is rebuilt on demand.
 */
export class SortedStateCache<T> {
  private readonly states = new Map<string, SortedState<T>>();

  constructor(private readonly capacity = 8) {}

  get(key: string, build: () => SortedState<T>): SortedState<T> {
    let state = this.states.get(key);
    if (state) {
      this.states.delete(key); // re-inserted below: most recently used last
    } else {
      state = build();
    }
    this.states.set(key, state);
    while (this.states.size > this.capacity) this.states.delete(this.states.keys().next().value!);
    return state;
  }
}
