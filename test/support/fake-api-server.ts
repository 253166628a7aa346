/**
 * In-process fake Kubernetes API server for tests.
 *
 * It speaks the real core/v1 REST + list/watch wire protocol (JSON lists carrying a
 * resourceVersion, chunked lists with `limit`/`continue` read at one resourceVersion, chunked
 * newline-delimited watch events, BOOKMARK and 410 ERROR events, Status error bodies), so the
 * unmodified @kubernetes/client-node library (KubeConfig, CoreV1Api, Watch,
 * makeInformer/ListWatch) can run against it. Tests drive the cluster
 * with create/update/remove and inject faults (dropped watches, lag, errors, outages).
 */
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { ContinueTokenError, decodeContinueToken, encodeContinueToken, listPage, sortState, SortedStateCache, type SortedState } from './fake-api-paging.js';

// ---------------------------------------------------------------------------------------
// Resource model
// ---------------------------------------------------------------------------------------

const RESOURCES = {
  nodes: { kind: 'Node', namespaced: false, apiVersion: 'v1' },
  namespaces: { kind: 'Namespace', namespaced: false, apiVersion: 'v1' },
  pods: { kind: 'Pod', namespaced: true, apiVersion: 'v1' },
  configmaps: { kind: 'ConfigMap', namespaced: true, apiVersion: 'v1' },
  daemonsets: { kind: 'DaemonSet', namespaced: true, apiVersion: 'apps/v1' },
} as const;

/** URL prefix of each API group version served: /api/v1/ for the core group, /apis/GROUP/VERSION/ otherwise. */
function apiPrefix(apiVersion: string): string {
  return apiVersion === 'v1' ? '/api/v1/' : `/apis/${apiVersion}/`;
}

/** Plural resource name as it appears in the URL. */
export type Resource = keyof typeof RESOURCES;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  [field: string]: unknown;
}

/** An object as stored and served: plain JSON in wire format. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/**
 * What tests hand to create/update: a plain wire-format object (or a client-node model such
 * as V1Pod). It is copied through JSON, so Dates become RFC 3339 strings.
 */
export interface KubeObjectInput {
  metadata?: { name?: string; namespace?: string } | null;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  /** `continue`: an expired chunked list's offer to carry on, inconsistently, from the latest state. */
  metadata: { continue?: string };
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; kind?: string };
  code: number;
}

/** Thrown by the server's write methods and turned into a Status response over HTTP. */
export class StatusError extends Error {
  constructor(readonly status: Status) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
    this.name = 'StatusError';
  }
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function failureStatus(code: number, message: string, reason = REASONS[code] ?? 'Unknown', details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code, ...(details ? { details } : {}) };
}

function fail(code: number, message: string, reason?: string, details?: Status['details']): StatusError {
  return new StatusError(failureStatus(code, message, reason, details));
}

function notFound(resource: Resource, name: string): StatusError {
  return fail(404, `${resource} "${name}" not found`, 'NotFound', { name, kind: resource });
}

// ---------------------------------------------------------------------------------------
// JSON helpers (the only place untyped data enters)
// ---------------------------------------------------------------------------------------

type JsonRecord = Record<string, unknown>;

function asRecord(value: unknown): JsonRecord | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonRecord) : undefined;
}

function stringAt(record: JsonRecord | undefined, key: string): string | undefined {
  const value = record?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Deep copy through JSON: exactly what a real client/server round trip would do. */
function jsonCopy(value: unknown): JsonRecord {
  const copy = asRecord(JSON.parse(JSON.stringify(value ?? {})));
  if (!copy) throw fail(400, 'object body must be a JSON object');
  return copy;
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

// ---------------------------------------------------------------------------------------
// Selectors
// ---------------------------------------------------------------------------------------

type Predicate<T> = (value: T) => boolean;

/** Splits on commas that are not inside `in (a,b)` value lists. */
function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

function parseLabelRequirement(requirement: string): Predicate<Record<string, string>> {
  const equality = /^([^\s!=]+)\s*(!=|==|=)\s*([^\s]*)$/.exec(requirement);
  if (equality) {
    const [, key = '', op, value = ''] = equality;
    // `k!=v` also matches objects without the label, as in Kubernetes.
    return op === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(requirement);
  if (set) {
    const [, key = '', op, list = ''] = set;
    const values = list.split(',').map((v) => v.trim());
    const isIn = (labels: Record<string, string>): boolean => {
      const value = labels[key];
      return value !== undefined && values.includes(value);
    };
    return op === 'in' ? isIn : (labels) => !isIn(labels);
  }
  const existence = /^(!?)([A-Za-z0-9][-A-Za-z0-9_./]*)$/.exec(requirement);
  if (existence) {
    const [, negated, key = ''] = existence;
    return negated ? (labels) => !(key in labels) : (labels) => key in labels;
  }
  throw fail(400, `unable to parse requirement: ${requirement}`);
}

function labelsOf(obj: KubeObject): Record<string, string> {
  return obj.metadata.labels ?? {};
}

function parseLabelSelector(selector: string): Predicate<KubeObject> {
  const requirements = splitRequirements(selector).map(parseLabelRequirement);
  return (obj) => requirements.every((matches) => matches(labelsOf(obj)));
}

/** Reads a dotted field path such as `spec.nodeName`; absent fields read as "". */
function fieldValue(obj: KubeObject, path: string): string {
  let current: unknown = obj;
  for (const segment of path.split('.')) current = asRecord(current)?.[segment];
  return current === undefined || current === null ? '' : String(current);
}

function parseFieldSelector(selector: string): Predicate<KubeObject> {
  const requirements = splitRequirements(selector).map((requirement): Predicate<KubeObject> => {
    const match = /^([^\s!=]+)\s*(!=|==|=)\s*([^\s]*)$/.exec(requirement);
    if (!match) throw fail(400, `invalid field selector: ${requirement}`);
    const [, path = '', op, value = ''] = match;
    return op === '!=' ? (obj) => fieldValue(obj, path) !== value : (obj) => fieldValue(obj, path) === value;
  });
  return (obj) => requirements.every((matches) => matches(obj));
}

/** The set of objects a list or watch request can see: its namespace plus both selectors. */
function requestFilter(namespace: string | undefined, query: URLSearchParams): Predicate<KubeObject> {
  const checks: Predicate<KubeObject>[] = [];
  if (namespace !== undefined) checks.push((obj) => obj.metadata.namespace === namespace);
  const labelSelector = query.get('labelSelector');
  if (labelSelector) checks.push(parseLabelSelector(labelSelector));
  const fieldSelector = query.get('fieldSelector');
  if (fieldSelector) checks.push(parseFieldSelector(fieldSelector));
  return (obj) => checks.every((check) => check(obj));
}

// ---------------------------------------------------------------------------------------
// Object store with a global resourceVersion and a bounded event history
// ---------------------------------------------------------------------------------------

type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface ChangeEvent {
  type: ChangeType;
  resource: Resource;
  rv: number;
  /** New state; for DELETED, the last state stamped with the deletion's resourceVersion. */
  object: KubeObject;
  /** State before the change, so selector watches can see objects move in or out of scope. */
  previous?: KubeObject;
}

class ObjectStore {
  private rv = 0;
  private readonly objects = new Map<Resource, Map<string, KubeObject>>();
  /**
   * The kept events are `history[head..]`, oldest first (RVs ascending). Dropping the oldest
   * moves `head` instead of calling shift(), which copies the whole array once it is large
   * (tens of microseconds per change at 50,000 events); the dead prefix is cut off in one go
   * once it reaches an eighth of the window, which copies a few pointers per change on
   * average and keeps few dropped events (whole objects) alive.
   */
  private history: ChangeEvent[] = [];
  private head = 0;
  /** Watches must start at or after this RV; anything older has been dropped from history. */
  private compactedRv = 0;
  private readonly listeners = new Set<(event: ChangeEvent) => void>();

  constructor(private readonly historySize: number) {}

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestWatchableRv(): number {
    return this.compactedRv;
  }

  onChange(listener: (event: ChangeEvent) => void): void {
    this.listeners.add(listener);
  }

  get(resource: Resource, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.bucket(resource).get(objectKey(RESOURCES[resource].namespaced ? namespace : undefined, name));
  }

  list(resource: Resource): KubeObject[] {
    return [...this.bucket(resource).values()];
  }

  create(resource: Resource, input: unknown): KubeObject {
    const raw = jsonCopy(input);
    const { name, namespace, meta } = this.identify(resource, raw);
    if (this.get(resource, namespace, name)) {
      throw fail(409, `${resource} "${name}" already exists`, 'AlreadyExists', { name, kind: resource });
    }
    // Tests may preset uid/creationTimestamp (e.g. to fake an object's age); otherwise generate them.
    const object = this.stamp(resource, raw, {
      uid: stringAt(meta, 'uid') ?? randomUUID(),
      creationTimestamp: stringAt(meta, 'creationTimestamp') ?? new Date().toISOString(),
    });
    this.commit({ type: 'ADDED', resource, rv: this.rv, object });
    return object;
  }

  /** Replaces an object. `expectedRv` enables optimistic concurrency like a real PUT. */
  update(resource: Resource, input: unknown, expectedRv?: string): KubeObject {
    const raw = jsonCopy(input);
    const { name, namespace } = this.identify(resource, raw);
    const previous = this.get(resource, namespace, name);
    if (!previous) throw notFound(resource, name);
    if (expectedRv !== undefined && expectedRv !== previous.metadata.resourceVersion) {
      throw fail(
        409,
        `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        'Conflict',
        { name, kind: resource },
      );
    }
    const { uid, creationTimestamp } = previous.metadata;
    const object = this.stamp(resource, raw, { uid, creationTimestamp });
    this.commit({ type: 'MODIFIED', resource, rv: this.rv, object, previous });
    return object;
  }

  remove(resource: Resource, namespace: string | undefined, name: string): KubeObject {
    const previous = this.get(resource, namespace, name);
    if (!previous) throw notFound(resource, name);
    this.rv++;
    const object: KubeObject = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(this.rv) } };
    this.commit({ type: 'DELETED', resource, rv: this.rv, object, previous });
    return object;
  }

  /**
   * The objects of `resource` as they were at `rv`, rolled back through the history like an
   * etcd read at a revision; undefined once `rv` has been compacted away.
   */
  stateAt(resource: Resource, rv: number): Map<string, KubeObject> | undefined {
    if (rv < this.compactedRv || rv > this.rv) return undefined;
    const state = new Map(this.bucket(resource));
    for (let i = this.history.length - 1; i >= this.head && this.history[i]!.rv > rv; i--) {
      const event = this.history[i]!;
      if (event.resource !== resource) continue;
      const key = objectKey(event.object.metadata.namespace, event.object.metadata.name);
      if (event.type === 'ADDED') state.delete(key);
      else if (event.previous) state.set(key, event.previous);
    }
    return state;
  }

  /** Events after `rv`, or undefined when some of them were already compacted away. */
  eventsSince(rv: number): ChangeEvent[] | undefined {
    if (rv < this.compactedRv) return undefined;
    // RVs ascend: binary search for the first event after `rv`.
    let low = this.head;
    let high = this.history.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.history[mid]!.rv > rv) high = mid;
      else low = mid + 1;
    }
    return this.history.slice(low);
  }

  compact(): void {
    this.history = [];
    this.head = 0;
    this.compactedRv = this.rv;
  }

  private bucket(resource: Resource): Map<string, KubeObject> {
    let bucket = this.objects.get(resource);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(resource, bucket);
    }
    return bucket;
  }

  /** Resolves name (honouring generateName) and namespace, writing them back into `raw`. */
  private identify(resource: Resource, raw: JsonRecord): { name: string; namespace?: string; meta: JsonRecord } {
    const meta = asRecord(raw['metadata']) ?? {};
    const generateName = stringAt(meta, 'generateName');
    const name = stringAt(meta, 'name') ?? (generateName ? generateName + randomBytes(3).toString('hex').slice(0, 5) : undefined);
    if (!name) throw fail(422, `${resource} name is required`, 'Invalid');
    const namespace = RESOURCES[resource].namespaced ? (stringAt(meta, 'namespace') ?? 'default') : undefined;
    const { namespace: _ignored, ...rest } = meta;
    const resolved = { ...rest, name, ...(namespace !== undefined ? { namespace } : {}) };
    raw['metadata'] = resolved;
    return { name, namespace, meta: resolved };
  }

  /** Bumps the global RV and produces the stored form of an identified object. */
  private stamp(resource: Resource, raw: JsonRecord, identity: { uid: string; creationTimestamp: string }): KubeObject {
    this.rv++;
    const meta = asRecord(raw['metadata']) ?? {};
    const name = stringAt(meta, 'name') ?? '';
    return {
      ...raw,
      apiVersion: RESOURCES[resource].apiVersion,
      kind: RESOURCES[resource].kind,
      metadata: { ...meta, name, ...identity, resourceVersion: String(this.rv) },
    };
  }

  private commit(event: ChangeEvent): void {
    const { namespace, name } = event.object.metadata;
    const bucket = this.bucket(event.resource);
    if (event.type === 'DELETED') bucket.delete(objectKey(namespace, name));
    else bucket.set(objectKey(namespace, name), event.object);

    this.history.push(event);
    while (this.history.length - this.head > this.historySize) {
      this.compactedRv = this.history[this.head]!.rv;
      this.head++;
    }
    if (this.head >= Math.max(64, this.historySize >>> 3)) {
      this.history = this.history.slice(this.head);
      this.head = 0;
    }
    for (const listener of this.listeners) listener(event);
  }
}

// ---------------------------------------------------------------------------------------
// One open watch response
// ---------------------------------------------------------------------------------------

type WatchEventType = ChangeType | 'BOOKMARK' | 'ERROR';

/** How a change looks to a watcher whose selector may not match both before and after. */
function visibleType(event: ChangeEvent, matches: Predicate<KubeObject>): ChangeType | undefined {
  const now = matches(event.object);
  const before = event.previous !== undefined && matches(event.previous);
  switch (event.type) {
    case 'ADDED':
    case 'DELETED':
      return now ? event.type : undefined;
    case 'MODIFIED':
      if (before) return now ? 'MODIFIED' : 'DELETED';
      return now ? 'ADDED' : undefined;
  }
}

class WatchStream {
  private readonly closed = new AbortController();
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    private readonly res: http.ServerResponse,
    readonly resource: Resource,
    private readonly matches: Predicate<KubeObject>,
    private readonly bookmarks: boolean,
    private readonly delayMs: () => number,
  ) {
    res.on('close', () => this.closed.abort());
  }

  get isOpen(): boolean {
    return !this.closed.signal.aborted;
  }

  onClose(listener: () => void): void {
    if (!this.isOpen) listener();
    else this.closed.signal.addEventListener('abort', listener, { once: true });
  }

  open(): void {
    this.res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache, private',
    });
    // The client only gets its response (and starts reading) once headers arrive.
    this.res.flushHeaders();
  }

  sendChange(event: ChangeEvent): void {
    const type = visibleType(event, this.matches);
    if (type) this.send(type, event.object);
  }

  sendBookmark(rv: number): void {
    if (!this.bookmarks) return;
    const { kind, apiVersion } = RESOURCES[this.resource];
    this.send('BOOKMARK', { kind, apiVersion, metadata: { resourceVersion: String(rv) } });
  }

  sendError(status: Status): void {
    this.send('ERROR', status);
  }

  /** Ends the stream cleanly, after everything already queued has been delivered. */
  end(): void {
    this.enqueue(() => this.res.end());
  }

  endAfter(ms: number): void {
    sleep(ms, undefined, { signal: this.closed.signal }).then(
      () => this.end(),
      () => undefined, // closed earlier
    );
  }

  /** Kills the TCP connection mid-stream, as a crashed server or a broken network would. */
  destroy(): void {
    this.res.destroy();
  }

  private send(type: WatchEventType, object: unknown): void {
    const line = JSON.stringify({ type, object }) + '\n';
    this.enqueue(() => this.res.write(line));
  }

  /** Delivers actions in order, each no earlier than the watch delay after it was queued. */
  private enqueue(action: () => void): void {
    const delay = this.delayMs();
    if (delay <= 0 && this.queued === 0) {
      this.runIfOpen(action);
      return;
    }
    const due = Date.now() + delay;
    this.queued++;
    this.tail = this.tail.then(async () => {
      try {
        await sleep(Math.max(0, due - Date.now()), undefined, { signal: this.closed.signal });
        this.runIfOpen(action);
      } catch {
        // The stream closed while the event was in flight; drop it.
      } finally {
        this.queued--;
      }
    });
  }

  private runIfOpen(action: () => void): void {
    if (this.isOpen && !this.res.writableEnded) action();
  }
}

// ---------------------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------------------

interface Route {
  resource: Resource;
  /** Undefined for cluster-scoped resources and for all-namespaces lists. */
  namespace?: string;
  name?: string;
  subresource?: string;
}

function isResource(value: string | undefined): value is Resource {
  return value !== undefined && Object.hasOwn(RESOURCES, value);
}

/** Maps a /api/v1/... (or /apis/apps/v1/...) path onto a resource; undefined when the fake does not serve it. */
function parseRoute(pathname: string): Route | undefined {
  const apiVersion = pathname.startsWith('/api/v1/') ? 'v1' : pathname.startsWith('/apis/apps/v1/') ? 'apps/v1' : undefined;
  if (apiVersion === undefined) return undefined;
  const route = parseResourcePath(pathname, apiPrefix(apiVersion));
  return route && RESOURCES[route.resource].apiVersion === apiVersion ? route : undefined;
}

function parseResourcePath(pathname: string, prefix: string): Route | undefined {
  let parts: string[];
  try {
    parts = pathname.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const [first, second, third, fourth, fifth, ...extra] = parts;
  if (extra.length > 0) return undefined;

  if (first === 'namespaces' && second !== undefined && third !== undefined) {
    // POST /api/v1/namespaces/{ns}/bindings names the pod in the body.
    if (third === 'bindings' && fourth === undefined) return { resource: 'pods', namespace: second, subresource: 'binding' };
    if (!isResource(third) || !RESOURCES[third].namespaced) return undefined;
    if (fifth !== undefined && fourth === undefined) return undefined;
    return { resource: third, namespace: second, name: fourth, subresource: fifth };
  }
  if (!isResource(first) || third !== undefined) return undefined;
  // A name directly under a namespaced resource (/api/v1/pods/x) is not a valid path.
  if (second !== undefined && RESOURCES[first].namespaced) return undefined;
  return { resource: first, name: second };
}

function isWatchRequest(method: string, route: Route, query: URLSearchParams): boolean {
  const watch = query.get('watch');
  return method === 'GET' && route.name === undefined && (watch === 'true' || watch === '1');
}

function isListRequest(method: string, route: Route, query: URLSearchParams): boolean {
  return method === 'GET' && route.name === undefined && !isWatchRequest(method, route, query);
}

/** The apiserver's message for a continue token whose resourceVersion etcd has compacted. */
const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, ' +
  'or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an ' +
  'inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** `limit`: absent, empty, 0 or negative means the whole list, as in the apiserver. */
function parseLimit(value: string | null): number | undefined {
  if (value === null || value === '') return undefined;
  const limit = Number(value);
  if (!Number.isInteger(limit)) throw fail(400, `invalid limit: ${value}`);
  return limit > 0 ? limit : undefined;
}

function sendJson(res: http.ServerResponse, code: number, body: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  if (res.headersSent) {
    res.destroy(); // mid-stream: nothing sensible left to say
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
  res.end(payload);
}

function sendStatus(res: http.ServerResponse, status: Status): void {
  sendJson(res, status.code, status);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw fail(400, 'request body is required');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw fail(400, 'request body is not valid JSON');
  }
}

// ---------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------

export interface FakeApiServerOptions {
  /** Number of change events kept for watch resumption (global, like etcd's history). */
  historySize?: number;
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /**
   * How to answer a watch from a compacted resourceVersion: 'event' (default, what a real
   * API server does) streams a single 410 ERROR event then ends; 'http' replies HTTP 410.
   */
  expiredWatch?: 'event' | 'http';
}

export interface BindingRecord {
  namespace: string;
  pod: string;
  node: string;
  resourceVersion: string;
}

interface FailureRule {
  pattern: RegExp;
  code: number;
  remaining: number;
}

export class FakeApiServer {
  /** Every successful pod binding, in order. */
  readonly bindings: BindingRecord[] = [];

  private readonly store: ObjectStore;
  private readonly sortedStates = new SortedStateCache<KubeObject>();
  private readonly watches = new Set<WatchStream>();
  private readonly listCounts = new Map<Resource, number>();
  private readonly watchCounts = new Map<Resource, number>();
  private failures: FailureRule[] = [];
  private expiredWatch: 'event' | 'http';
  private latencyMs = 0;
  private watchDelayMs = 0;
  private paused = false;
  private server: http.Server | undefined;
  private port: number;

  constructor(options: FakeApiServerOptions = {}) {
    this.store = new ObjectStore(options.historySize ?? 1000);
    this.port = options.port ?? 0;
    this.expiredWatch = options.expiredWatch ?? 'event';
    this.store.onChange((event) => this.broadcast(event));
  }

  // --- lifecycle -----------------------------------------------------------------------

  /** Listens on 127.0.0.1; after stop(), start() reuses the same port so clients can reconnect. */
  async start(): Promise<{ url: string }> {
    if (!this.server) {
      const server = http.createServer((req, res) => this.onRequest(req, res));
      server.on('connection', (socket) => {
        socket.on('error', () => undefined); // a client vanishing must never crash the test process
        if (this.paused) socket.destroy();
      });
      server.on('clientError', (_err, socket) => socket.destroy());
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address();
      if (address !== null && typeof address === 'object') this.port = address.port;
      this.server = server;
    }
    return { url: this.url };
  }

  /** Closes the listener and every connection, including open watch streams. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.disconnectWatches();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** While paused every connection is reset on arrival: the API server looks unreachable. */
  pause(): void {
    this.paused = true;
    this.disconnectWatches();
    this.server?.closeAllConnections();
  }

  resume(): void {
    this.paused = false;
  }

  get url(): string {
    if (!this.server) throw new Error('FakeApiServer is not started');
    return `http://127.0.0.1:${this.port}`;
  }

  // --- cluster state -------------------------------------------------------------------

  get resourceVersion(): string {
    return String(this.store.resourceVersion);
  }

  create<T extends KubeObjectInput>(resource: Resource, obj: T): KubeObject {
    return structuredClone(this.store.create(resource, obj));
  }

  /** Unconditional replace (ignores metadata.resourceVersion), emitting MODIFIED. */
  update<T extends KubeObjectInput>(resource: Resource, obj: T): KubeObject {
    return structuredClone(this.store.update(resource, obj));
  }

  remove(resource: Resource, namespace: string | undefined, name: string): KubeObject {
    return structuredClone(this.store.remove(resource, namespace, name));
  }

  get(resource: Resource, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.store.get(resource, namespace, name);
    return found && structuredClone(found);
  }

  list(resource: Resource, namespace?: string): KubeObject[] {
    return this.store
      .list(resource)
      .filter((obj) => namespace === undefined || obj.metadata.namespace === namespace)
      .map((obj) => structuredClone(obj));
  }

  // --- watch control -------------------------------------------------------------------

  /** Sends a BOOKMARK at the current resourceVersion to every watch that allowed bookmarks. */
  sendBookmarks(): void {
    for (const watch of this.watches) watch.sendBookmark(this.store.resourceVersion);
  }

  /** Forgets all history: any watch from an RV before now gets 410 Expired. */
  compactHistory(): void {
    this.store.compact();
  }

  /** Destroys every open watch connection mid-stream. */
  disconnectWatches(): void {
    for (const watch of this.watches) watch.destroy();
    this.watches.clear();
  }

  openWatchCount(resource?: Resource): number {
    return [...this.watches].filter((watch) => watch.isOpen && (resource === undefined || watch.resource === resource)).length;
  }

  // --- fault injection -----------------------------------------------------------------

  /** Delays delivery of every watch event (queued from now on) by `ms`, preserving order. */
  setWatchDelay(ms: number): void {
    this.watchDelayMs = ms;
  }

  /** Delays the handling of every request by `ms`. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Answers the next `count` requests whose method-less URL (path + query) matches with `code`. */
  failNext(pattern: RegExp, code: number, count = 1): void {
    this.failures.push({ pattern, code, remaining: count });
  }

  setExpiredWatchResponse(mode: 'event' | 'http'): void {
    this.expiredWatch = mode;
  }

  // --- counters ------------------------------------------------------------------------

  /** List requests received for a resource, including ones answered with an injected failure. */
  listRequests(resource: Resource): number {
    return this.listCounts.get(resource) ?? 0;
  }

  /** Watch requests received for a resource, including ones answered with an injected failure. */
  watchRequests(resource: Resource): number {
    return this.watchCounts.get(resource) ?? 0;
  }

  // --- request handling ----------------------------------------------------------------

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    if (this.paused) {
      req.socket.destroy();
      return;
    }
    this.handle(req, res).catch((err: unknown) => {
      const status = err instanceof StatusError ? err.status : failureStatus(500, err instanceof Error ? err.message : String(err));
      sendStatus(res, status);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, 'http://fake.invalid');
    const method = req.method ?? 'GET';
    const route = parseRoute(url.pathname);
    if (route) this.count(method, route, url.searchParams);

    const injected = this.takeFailure(rawUrl);
    if (injected !== undefined) throw fail(injected, `injected failure for ${method} ${rawUrl}`);
    if (!route) throw fail(404, `the server could not find the requested resource (${method} ${url.pathname})`);
    await this.dispatch(req, res, method, route, url.searchParams);
  }

  private count(method: string, route: Route, query: URLSearchParams): void {
    const counts = isWatchRequest(method, route, query) ? this.watchCounts : isListRequest(method, route, query) ? this.listCounts : undefined;
    counts?.set(route.resource, (counts.get(route.resource) ?? 0) + 1);
  }

  private takeFailure(rawUrl: string): number | undefined {
    const rule = this.failures.find((candidate) => candidate.pattern.test(rawUrl));
    if (!rule) return undefined;
    rule.remaining--;
    if (rule.remaining <= 0) this.failures = this.failures.filter((candidate) => candidate !== rule);
    return rule.code;
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse, method: string, route: Route, query: URLSearchParams): Promise<void> {
    if (route.subresource !== undefined) {
      if (route.subresource !== 'binding' || route.resource !== 'pods' || route.namespace === undefined) {
        throw fail(404, `the server could not find the requested resource (${route.resource}/${route.subresource})`);
      }
      if (method !== 'POST') throw fail(405, `${method} is not supported on bindings`);
      sendJson(res, 201, this.bind(route.namespace, route.name, await readJson(req)));
      return;
    }
    const { resource, namespace, name } = route;
    switch (method) {
      case 'GET':
        if (name !== undefined) sendJson(res, 200, this.store.get(resource, namespace, name) ?? this.throwNotFound(resource, name));
        else if (isWatchRequest(method, route, query)) this.serveWatch(res, route, query);
        else sendJson(res, 200, this.listResponse(route, query));
        return;
      case 'POST':
        if (name !== undefined) throw fail(405, 'POST must target the collection');
        sendJson(res, 201, this.store.create(resource, this.withRouteNamespace(route, await readJson(req))));
        return;
      case 'PUT': {
        if (name === undefined) throw fail(405, 'PUT must target an object');
        const body = this.withRouteNamespace(route, await readJson(req));
        const bodyName = stringAt(asRecord(body['metadata']), 'name');
        if (bodyName !== name) throw fail(400, `the name of the object (${bodyName ?? ''}) does not match the name on the URL (${name})`);
        const expectedRv = stringAt(asRecord(body['metadata']), 'resourceVersion');
        sendJson(res, 200, this.store.update(resource, body, expectedRv));
        return;
      }
      case 'DELETE':
        if (name === undefined) throw fail(405, 'DELETE must target an object');
        sendJson(res, 200, this.store.remove(resource, namespace, name));
        return;
      default:
        throw fail(405, `method ${method} is not supported`);
    }
  }

  private throwNotFound(resource: Resource, name: string): never {
    throw notFound(resource, name);
  }

  /** Fills in the URL's namespace and rejects a body that names a different one. */
  private withRouteNamespace(route: Route, body: unknown): JsonRecord {
    const object = asRecord(body);
    if (!object) throw fail(400, 'object body must be a JSON object');
    if (route.namespace === undefined) return object;
    const meta = asRecord(object['metadata']) ?? {};
    const bodyNamespace = stringAt(meta, 'namespace');
    if (bodyNamespace !== undefined && bodyNamespace !== route.namespace) {
      throw fail(400, 'the namespace of the provided object does not match the namespace sent on the request');
    }
    return { ...object, metadata: { ...meta, namespace: route.namespace } };
  }

  private listResponse(route: Route, query: URLSearchParams): JsonRecord {
    const matches = requestFilter(route.namespace, query);
    const limit = parseLimit(query.get('limit'));
    const token = query.get('continue') ?? '';
    if (limit === undefined && token === '') {
      // One response with everything, in creation order (as this fake always answered).
      return {
        kind: `${RESOURCES[route.resource].kind}List`,
        apiVersion: RESOURCES[route.resource].apiVersion,
        metadata: { resourceVersion: String(this.store.resourceVersion) },
        items: this.store.list(route.resource).filter(matches),
      };
    }
    return this.chunkedList(route, query, matches, limit ?? Number.POSITIVE_INFINITY, token);
  }

  /**
   * One chunk of a list, as the apiserver's etcd store serves it: every chunk is read at the
   * first chunk's resourceVersion. A garbled token is a 400; a token whose resourceVersion has
   * left the history (etcd compacted it) is a 410 Expired offering an inconsistent continuation.
   */
  private chunkedList(route: Route, query: URLSearchParams, matches: Predicate<KubeObject>, limit: number, token: string): JsonRecord {
    let rv = this.store.resourceVersion;
    let start: string | undefined;
    if (token !== '') {
      const rvParam = query.get('resourceVersion') ?? '';
      if (rvParam !== '' && rvParam !== '0') throw fail(400, 'specifying resource version is not allowed when using continue');
      let decoded: { rv: number; start: string };
      try {
        decoded = decodeContinueToken(token);
      } catch (err) {
        if (err instanceof ContinueTokenError) throw fail(400, `invalid continue token: ${err.message}`);
        throw err;
      }
      start = decoded.start;
      // A negative rv is the inconsistent continuation a 410 offers: go on from the latest state.
      if (decoded.rv > 0) rv = decoded.rv;
      if (rv > this.store.resourceVersion) throw fail(400, `invalid continue token: resource version ${rv} is in the future`);
    }
    const state = this.sortedState(route.resource, rv);
    if (!state) {
      const expired = failureStatus(410, CONTINUE_EXPIRED, 'Expired');
      throw new StatusError({ ...expired, metadata: { continue: encodeContinueToken(-1, start ?? '\u0000') } });
    }
    const page = listPage(state, {
      prefix: route.namespace === undefined ? undefined : `${route.namespace}/`,
      start,
      limit,
      matches,
      countRemaining: !query.get('labelSelector') && !query.get('fieldSelector'),
    });
    return {
      kind: `${RESOURCES[route.resource].kind}List`,
      apiVersion: RESOURCES[route.resource].apiVersion,
      metadata: {
        resourceVersion: String(state.rv),
        ...(page.next !== undefined ? { continue: encodeContinueToken(state.rv, page.next) } : {}),
        ...(page.remainingItemCount !== undefined ? { remainingItemCount: page.remainingItemCount } : {}),
      },
      items: page.items,
    };
  }

  /** The resource's objects at `rv` in key order, cached across the chunks of a list; undefined once compacted. */
  private sortedState(resource: Resource, rv: number): SortedState<KubeObject> | undefined {
    if (rv < this.store.oldestWatchableRv) return undefined;
    return this.sortedStates.get(`${resource}@${rv}`, () => sortState(rv, this.store.stateAt(resource, rv)!));
  }

  private serveWatch(res: http.ServerResponse, route: Route, query: URLSearchParams): void {
    const matches = requestFilter(route.namespace, query);
    const rvParam = query.get('resourceVersion') ?? '';
    const fromRv = rvParam === '' ? 0 : Number(rvParam);
    if (!Number.isInteger(fromRv) || fromRv < 0) throw fail(400, `invalid resource version: ${rvParam}`);

    // RV unset or "0" means "start from any state": synthesize ADDED for the current objects.
    const backlog =
      fromRv === 0
        ? this.store.list(route.resource).map((object): ChangeEvent => ({ type: 'ADDED', resource: route.resource, rv: this.store.resourceVersion, object }))
        : this.store.eventsSince(fromRv)?.filter((event) => event.resource === route.resource);

    if (backlog === undefined && this.expiredWatch === 'http') {
      throw fail(410, this.tooOldMessage(fromRv), 'Expired');
    }

    const stream = new WatchStream(res, route.resource, matches, query.get('allowWatchBookmarks') === 'true', () => this.watchDelayMs);
    stream.open();
    if (backlog === undefined) {
      // A real API server reports an expired RV inside a 200 stream, then closes it.
      stream.sendError(failureStatus(410, this.tooOldMessage(fromRv), 'Expired'));
      stream.end();
      return;
    }
    for (const event of backlog) stream.sendChange(event);
    this.watches.add(stream);
    stream.onClose(() => this.watches.delete(stream));

    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '');
    if (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0) stream.endAfter(timeoutSeconds * 1000);
  }

  private tooOldMessage(fromRv: number): string {
    return `too old resource version: ${fromRv} (${this.store.oldestWatchableRv})`;
  }

  private broadcast(event: ChangeEvent): void {
    for (const watch of this.watches) {
      if (watch.resource === event.resource) watch.sendChange(event);
    }
  }

  /** The pods/binding subresource, as the scheduler uses it. */
  private bind(namespace: string, podFromUrl: string | undefined, body: unknown): Status {
    const binding = asRecord(body);
    const node = stringAt(asRecord(binding?.['target']), 'name');
    const podName = podFromUrl ?? stringAt(asRecord(binding?.['metadata']), 'name');
    if (!node) throw fail(400, 'Binding target.name is required');
    if (!podName) throw fail(400, 'Binding metadata.name is required');

    const pod = this.store.get('pods', namespace, podName);
    if (!pod) throw notFound('pods', podName);
    const spec = asRecord(pod['spec']) ?? {};
    const assigned = stringAt(spec, 'nodeName');
    if (assigned) {
      throw fail(409, `Operation cannot be fulfilled on pods/binding "${podName}": pod ${podName} is already assigned to node "${assigned}"`, 'Conflict', {
        name: podName,
        kind: 'pods/binding',
      });
    }
    const updated = this.store.update('pods', { ...pod, spec: { ...spec, nodeName: node } });
    this.bindings.push({ namespace, pod: podName, node, resourceVersion: updated.metadata.resourceVersion });
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  }
}

/** A loaded KubeConfig (cluster, token user, context) pointing at a fake server URL. */
export function kubeConfigFor(url: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'fake-user', token: 'fake-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user' }],
    currentContext: 'fake',
  });
  return kubeConfig;
}
