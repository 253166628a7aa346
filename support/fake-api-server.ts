/**
 * In-process fake Kubernetes API server, for the tests and benchmarks that run without the real
 * one (the real kube-apiserver is test/e2e's, with KUBE_ASSETS).
 *
 * It speaks what the extender and its tools read, on the real wire protocol, so that the
 * unmodified @kubernetes/client-node runs against it: lists (all at once, or in `limit`/
 * `continue` pages read at one resourceVersion), newline-delimited watch streams resumed from a
 * resourceVersion (410 ERROR event once it left the history), a `fieldSelector` of `=`/`!=`
 * terms, the pods/binding subresource, Status error bodies. Tests drive the cluster with
 * create/update/remove and inject what the product must survive: watch lag, failed requests,
 * latency, an unreachable or restarted server. How the reflector reacts to each kind of watch
 * fault is tested against a scripted watch instead (test/reflector.test.ts).
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';

const RESOURCES = {
  nodes: { kind: 'Node', namespaced: false, apiVersion: 'v1' },
  namespaces: { kind: 'Namespace', namespaced: false, apiVersion: 'v1' },
  pods: { kind: 'Pod', namespaced: true, apiVersion: 'v1' },
  configmaps: { kind: 'ConfigMap', namespaced: true, apiVersion: 'v1' },
  daemonsets: { kind: 'DaemonSet', namespaced: true, apiVersion: 'apps/v1' },
} as const;

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

/** What tests hand to create/update: a wire-format object or a client-node model, copied through JSON. */
export interface KubeObjectInput {
  metadata?: { name?: string; namespace?: string } | null;
}

interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: object;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  code: number;
}

const REASONS: Readonly<Record<number, string>> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 410: 'Expired', 500: 'InternalError', 503: 'ServiceUnavailable' };

class StatusError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

function failureStatus(code: number, message: string): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: REASONS[code] ?? 'Unknown', code };
}

function fail(code: number, message: string): StatusError {
  return new StatusError(failureStatus(code, message));
}

type JsonRecord = Record<string, unknown>;

function asRecord(value: unknown): JsonRecord | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonRecord) : undefined;
}

function stringAt(record: JsonRecord | undefined, key: string): string | undefined {
  const value = record?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Cluster-scoped objects have the key `/name`; namespaced ones `namespace/name` (the order lists page in). */
function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

type Predicate = (obj: KubeObject) => boolean;

/** `fieldSelector` terms `path=value` / `path!=value`, e.g. the ConfigMap watcher's `metadata.name=policy`. */
function parseFieldSelector(selector: string): Predicate {
  const terms = selector.split(',').map((term) => {
    const match = /^([^\s!=]+)\s*(!=|==|=)\s*(\S*)$/.exec(term.trim());
    if (!match) throw fail(400, `invalid field selector: ${term}`);
    const [, path = '', op, value = ''] = match;
    const read = (obj: KubeObject): string => {
      let current: unknown = obj;
      for (const segment of path.split('.')) current = asRecord(current)?.[segment];
      return current === undefined || current === null ? '' : String(current);
    };
    return op === '!=' ? (obj: KubeObject) => read(obj) !== value : (obj: KubeObject) => read(obj) === value;
  });
  return (obj) => terms.every((matches) => matches(obj));
}

function requestFilter(namespace: string | undefined, query: URLSearchParams): Predicate {
  const selector = query.get('fieldSelector');
  const fields = selector ? parseFieldSelector(selector) : () => true;
  return (obj) => (namespace === undefined || obj.metadata.namespace === namespace) && fields(obj);
}

// --- the store: a global resourceVersion and a bounded history of changes ------------------

interface ChangeEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: Resource;
  rv: number;
  /** New state; for DELETED, the last state stamped with the deletion's resourceVersion. */
  object: KubeObject;
  /** State before the change: a list page read at an older resourceVersion rolls back to it. */
  previous?: KubeObject;
}

class ObjectStore {
  rv = 0;
  /** Watches and paged lists must start at or after this version; older changes left the history. */
  oldestRv = 0;
  private readonly objects = new Map<Resource, Map<string, KubeObject>>();
  /** Kept changes are `history[head..]`: moving `head` avoids shift() copying a long array per change. */
  private history: ChangeEvent[] = [];
  private head = 0;

  constructor(
    private readonly historySize: number,
    private readonly onChange: (event: ChangeEvent) => void,
  ) {}

  bucket(resource: Resource): Map<string, KubeObject> {
    let bucket = this.objects.get(resource);
    if (!bucket) this.objects.set(resource, (bucket = new Map()));
    return bucket;
  }

  get(resource: Resource, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.bucket(resource).get(objectKey(RESOURCES[resource].namespaced ? namespace : undefined, name));
  }

  create(resource: Resource, input: unknown): KubeObject {
    const raw = this.identify(resource, input);
    const meta = raw.metadata as ObjectMeta;
    if (this.get(resource, meta.namespace, meta.name)) throw fail(409, `${resource} "${meta.name}" already exists`);
    // Tests may preset uid and creationTimestamp; otherwise they are made up.
    const object = this.stamp(resource, raw, { uid: stringAt(meta, 'uid') ?? randomUUID(), creationTimestamp: stringAt(meta, 'creationTimestamp') ?? new Date().toISOString() });
    this.commit({ type: 'ADDED', resource, rv: this.rv, object });
    return object;
  }

  update(resource: Resource, input: unknown): KubeObject {
    const raw = this.identify(resource, input);
    const meta = raw.metadata as ObjectMeta;
    const previous = this.get(resource, meta.namespace, meta.name);
    if (!previous) throw fail(404, `${resource} "${meta.name}" not found`);
    const object = this.stamp(resource, raw, { uid: previous.metadata.uid, creationTimestamp: previous.metadata.creationTimestamp });
    this.commit({ type: 'MODIFIED', resource, rv: this.rv, object, previous });
    return object;
  }

  remove(resource: Resource, namespace: string | undefined, name: string): KubeObject {
    const previous = this.get(resource, namespace, name);
    if (!previous) throw fail(404, `${resource} "${name}" not found`);
    this.rv++;
    const object: KubeObject = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(this.rv) } };
    this.commit({ type: 'DELETED', resource, rv: this.rv, object, previous });
    return object;
  }

  /** The objects of `resource` at `rv`, rolled back through the history as etcd reads at a revision. */
  stateAt(resource: Resource, rv: number): Map<string, KubeObject> | undefined {
    if (rv < this.oldestRv || rv > this.rv) return undefined;
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

  /** Changes after `rv`, or undefined when some already left the history. */
  eventsSince(rv: number): ChangeEvent[] | undefined {
    if (rv < this.oldestRv) return undefined;
    let low = this.head;
    let high = this.history.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.history[mid]!.rv > rv) high = mid;
      else low = mid + 1;
    }
    return this.history.slice(low);
  }

  private identify(resource: Resource, input: unknown): JsonRecord {
    const raw = asRecord(JSON.parse(JSON.stringify(input ?? {})));
    const meta = asRecord(raw?.['metadata']) ?? {};
    const name = stringAt(meta, 'name');
    if (!raw || !name) throw fail(400, `${resource} name is required`);
    const { namespace, ...rest } = meta;
    raw['metadata'] = RESOURCES[resource].namespaced ? { ...rest, name, namespace: typeof namespace === 'string' && namespace ? namespace : 'default' } : { ...rest, name };
    return raw;
  }

  private stamp(resource: Resource, raw: JsonRecord, identity: { uid: string; creationTimestamp: string }): KubeObject {
    this.rv++;
    const { kind, apiVersion } = RESOURCES[resource];
    return { ...raw, apiVersion, kind, metadata: { ...(raw['metadata'] as ObjectMeta), ...identity, resourceVersion: String(this.rv) } };
  }

  private commit(event: ChangeEvent): void {
    const { namespace, name } = event.object.metadata;
    if (event.type === 'DELETED') this.bucket(event.resource).delete(objectKey(namespace, name));
    else this.bucket(event.resource).set(objectKey(namespace, name), event.object);
    this.history.push(event);
    while (this.history.length - this.head > this.historySize) this.oldestRv = this.history[this.head++]!.rv;
    if (this.head >= Math.max(64, this.historySize >>> 3)) {
      this.history = this.history.slice(this.head);
      this.head = 0;
    }
    this.onChange(event);
  }
}

// --- paged lists -------------------------------------------------------------------------

/** A resource's objects at one resourceVersion, in key order; cached across the pages of a list. */
interface SortedState {
  readonly rv: number;
  readonly keys: readonly string[];
  readonly objects: readonly KubeObject[];
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

/** The apiserver's token shape: base64url of `{"v":"meta.k8s.io/v1","rv":N,"start":"<last key>\0"}`. */
function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  let decoded: JsonRecord | undefined;
  try {
    decoded = asRecord(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
  } catch {
    decoded = undefined;
  }
  const rv = decoded?.['rv'];
  const start = decoded?.['start'];
  if (decoded?.['v'] !== 'meta.k8s.io/v1' || typeof rv !== 'number' || rv <= 0 || typeof start !== 'string' || start === '') {
    throw fail(400, 'invalid continue token');
  }
  return { rv, start };
}

// --- one open watch response -------------------------------------------------------------

class WatchResponse {
  private readonly closed = new AbortController();
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    private readonly res: http.ServerResponse,
    readonly resource: Resource,
    private readonly matches: Predicate,
    private readonly delayMs: () => number,
  ) {
    res.on('close', () => this.closed.abort());
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    // The client gets its response (and starts reading) only once the headers arrive.
    res.flushHeaders();
  }

  get isOpen(): boolean {
    return !this.closed.signal.aborted;
  }

  onClose(listener: () => void): void {
    this.closed.signal.addEventListener('abort', listener, { once: true });
  }

  sendChange(event: ChangeEvent): void {
    if (this.matches(event.object)) this.send(event.type, event.object);
  }

  sendError(status: Status): void {
    this.send('ERROR', status);
  }

  /** Ends the stream cleanly, after everything already queued. */
  end(): void {
    this.enqueue(() => this.res.end());
  }

  endAfter(ms: number): void {
    sleep(ms, undefined, { signal: this.closed.signal }).then(
      () => this.end(),
      () => undefined,
    );
  }

  /** Kills the connection mid-stream, as a crashed server or a broken network would. */
  destroy(): void {
    this.res.destroy();
  }

  private send(type: string, object: unknown): void {
    const line = JSON.stringify({ type, object }) + '\n';
    this.enqueue(() => this.res.write(line));
  }

  /** Delivers in order, each no earlier than the watch delay after it was queued. */
  private enqueue(action: () => void): void {
    const delay = this.delayMs();
    const run = () => this.isOpen && !this.res.writableEnded && action();
    if (delay <= 0 && this.queued === 0) {
      run();
      return;
    }
    const due = Date.now() + delay;
    this.queued++;
    this.tail = this.tail.then(async () => {
      try {
        await sleep(Math.max(0, due - Date.now()), undefined, { signal: this.closed.signal });
        run();
      } catch {
        // closed while the event was in flight
      } finally {
        this.queued--;
      }
    });
  }
}

// --- HTTP ---------------------------------------------------------------------------------

interface Route {
  resource: Resource;
  /** Undefined for cluster-scoped resources and for all-namespaces lists. */
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Maps /api/v1/... and /apis/apps/v1/... onto a resource; undefined when the fake does not serve the path. */
function parseRoute(pathname: string): Route | undefined {
  const apiVersion = pathname.startsWith('/api/v1/') ? 'v1' : pathname.startsWith('/apis/apps/v1/') ? 'apps/v1' : undefined;
  if (apiVersion === undefined) return undefined;
  let parts: string[];
  try {
    parts = pathname.slice(apiVersion === 'v1' ? 8 : 14).split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const isResource = (value: string | undefined): value is Resource => value !== undefined && Object.hasOwn(RESOURCES, value) && RESOURCES[value as Resource].apiVersion === apiVersion;
  const [first, second, third, fourth, fifth, ...extra] = parts;
  if (extra.length > 0) return undefined;
  if (first === 'namespaces' && second !== undefined && third !== undefined) {
    if (!isResource(third) || !RESOURCES[third].namespaced) return undefined;
    return { resource: third, namespace: second, name: fourth, subresource: fifth };
  }
  if (!isResource(first) || third !== undefined || (second !== undefined && RESOURCES[first].namespaced)) return undefined;
  return { resource: first, name: second };
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

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw fail(400, 'request body is not valid JSON');
  }
}

// --- the server -------------------------------------------------------------------------

export interface FakeApiServerOptions {
  /** Changes kept for watch resumption and paged lists (global, like etcd's history). */
  historySize?: number;
}

export interface BindingRecord {
  namespace: string;
  pod: string;
  node: string;
  resourceVersion: string;
}

export class FakeApiServer {
  /** Every successful pod binding, in order. */
  readonly bindings: BindingRecord[] = [];

  private readonly store: ObjectStore;
  private readonly sortedStates = new Map<string, SortedState>();
  private readonly watches = new Set<WatchResponse>();
  private readonly listCounts = new Map<Resource, number>();
  private readonly watchCounts = new Map<Resource, number>();
  private failures: Array<{ pattern: RegExp; code: number; remaining: number }> = [];
  private latencyMs = 0;
  private watchDelayMs = 0;
  private paused = false;
  private server: http.Server | undefined;
  private port = 0;

  constructor(options: FakeApiServerOptions = {}) {
    this.store = new ObjectStore(options.historySize ?? 1000, (event) => {
      for (const watch of this.watches) if (watch.resource === event.resource) watch.sendChange(event);
    });
  }

  // --- lifecycle -------------------------------------------------------------------------

  /** Listens on 127.0.0.1; after stop(), start() takes the same port again so that clients reconnect. */
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
      this.port = (server.address() as { port: number }).port;
      this.server = server;
    }
    return { url: this.url };
  }

  /** Closes the listener and every connection, open watches included. */
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

  // --- cluster state -----------------------------------------------------------------------

  get resourceVersion(): string {
    return String(this.store.rv);
  }

  create<T extends KubeObjectInput>(resource: Resource, obj: T): KubeObject {
    return structuredClone(this.store.create(resource, obj));
  }

  /** Unconditional replace, emitting MODIFIED. */
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
    return [...this.store.bucket(resource).values()].filter((obj) => namespace === undefined || obj.metadata.namespace === namespace).map((obj) => structuredClone(obj));
  }

  // --- faults and counters -----------------------------------------------------------------

  /** Destroys every open watch connection mid-stream. */
  disconnectWatches(): void {
    for (const watch of this.watches) watch.destroy();
    this.watches.clear();
  }

  openWatchCount(resource?: Resource): number {
    return [...this.watches].filter((watch) => watch.isOpen && (resource === undefined || watch.resource === resource)).length;
  }

  /** Delays every watch event queued from now on by `ms`, in order: a watch lagging behind the binds. */
  setWatchDelay(ms: number): void {
    this.watchDelayMs = ms;
  }

  /** Delays the handling of every request by `ms`. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Answers the next `count` requests whose URL (path and query) matches with `code`. */
  failNext(pattern: RegExp, code: number, count = 1): void {
    this.failures.push({ pattern, code, remaining: count });
  }

  /** List requests received for a resource, failed ones included. */
  listRequests(resource: Resource): number {
    return this.listCounts.get(resource) ?? 0;
  }

  /** Watch requests received for a resource, failed ones included. */
  watchRequests(resource: Resource): number {
    return this.watchCounts.get(resource) ?? 0;
  }

  // --- requests ------------------------------------------------------------------------------

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    if (this.paused) {
      req.socket.destroy();
      return;
    }
    this.handle(req, res).catch((err: unknown) => {
      const status = err instanceof StatusError ? err.status : failureStatus(500, err instanceof Error ? err.message : String(err));
      sendJson(res, status.code, status);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, 'http://fake.invalid');
    const method = req.method ?? 'GET';
    const route = parseRoute(url.pathname);
    const query = url.searchParams;
    const watch = query.get('watch') === 'true' || query.get('watch') === '1';
    if (route && method === 'GET' && route.name === undefined) {
      const counts = watch ? this.watchCounts : this.listCounts;
      counts.set(route.resource, (counts.get(route.resource) ?? 0) + 1);
    }
    const rule = this.failures.find((candidate) => candidate.pattern.test(rawUrl));
    if (rule) {
      if (--rule.remaining <= 0) this.failures = this.failures.filter((candidate) => candidate !== rule);
      throw fail(rule.code, `injected failure for ${method} ${rawUrl}`);
    }
    if (route && method === 'POST' && route.resource === 'pods' && route.subresource === 'binding' && route.namespace !== undefined && route.name !== undefined) {
      sendJson(res, 201, this.bind(route.namespace, route.name, await readJson(req)));
    } else if (route && method === 'GET' && route.name === undefined) {
      if (watch) this.serveWatch(res, route, query);
      else sendJson(res, 200, this.listResponse(route, query));
    } else {
      throw fail(404, `the server could not find the requested resource (${method} ${url.pathname})`);
    }
  }

  private listResponse(route: Route, query: URLSearchParams): JsonRecord {
    const { kind, apiVersion } = RESOURCES[route.resource];
    const matches = requestFilter(route.namespace, query);
    const limit = Number(query.get('limit') ?? '');
    const token = query.get('continue') ?? '';
    if (!(limit > 0) && token === '') {
      return { kind: `${kind}List`, apiVersion, metadata: { resourceVersion: this.resourceVersion }, items: this.list(route.resource).filter(matches) };
    }
    // Every page is read at the first page's resourceVersion, as the apiserver's etcd store does.
    const { rv, start } = token === '' ? { rv: this.store.rv, start: undefined } : decodeContinue(token);
    const state = this.sortedState(route.resource, rv);
    if (!state) throw fail(410, 'The provided continue parameter is too old to display a consistent list result.');
    const prefix = route.namespace === undefined ? undefined : `${route.namespace}/`;
    // Keys with prefix "ns/" run from "ns/" up to "ns0" ('0' follows '/').
    const end = prefix === undefined ? state.keys.length : lowerBound(state.keys, prefix.slice(0, -1) + '0');
    let i = Math.max(prefix === undefined ? 0 : lowerBound(state.keys, prefix), start === undefined ? 0 : lowerBound(state.keys, start));
    const items: KubeObject[] = [];
    for (; i < end && items.length < (limit > 0 ? limit : Infinity); i++) if (matches(state.objects[i]!)) items.push(state.objects[i]!);
    const next = i < end ? encodeContinue(state.rv, `${state.keys[i - 1]!}\u0000`) : undefined;
    return { kind: `${kind}List`, apiVersion, metadata: { resourceVersion: String(state.rv), ...(next ? { continue: next } : {}) }, items };
  }

  /** The objects at `rv` in key order, built once for all the pages of a list (8 lists kept). */
  private sortedState(resource: Resource, rv: number): SortedState | undefined {
    if (rv < this.store.oldestRv) return undefined;
    const key = `${resource}@${rv}`;
    let state = this.sortedStates.get(key);
    if (!state) {
      const objects = this.store.stateAt(resource, rv);
      if (!objects) return undefined;
      const entries = [...objects].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      state = { rv, keys: entries.map(([k]) => k), objects: entries.map(([, o]) => o) };
    }
    this.sortedStates.delete(key);
    this.sortedStates.set(key, state);
    if (this.sortedStates.size > 8) this.sortedStates.delete(this.sortedStates.keys().next().value!);
    return state;
  }

  private serveWatch(res: http.ServerResponse, route: Route, query: URLSearchParams): void {
    const matches = requestFilter(route.namespace, query);
    const fromRv = Number(query.get('resourceVersion') || '0');
    if (!Number.isInteger(fromRv) || fromRv < 0) throw fail(400, `invalid resource version: ${query.get('resourceVersion')}`);
    // Version unset or 0: start from the current objects, as ADDED.
    const backlog =
      fromRv === 0
        ? this.list(route.resource).map((object): ChangeEvent => ({ type: 'ADDED', resource: route.resource, rv: this.store.rv, object }))
        : this.store.eventsSince(fromRv)?.filter((event) => event.resource === route.resource);
    const stream = new WatchResponse(res, route.resource, matches, () => this.watchDelayMs);
    if (backlog === undefined) {
      // As the API server does: a 200 stream with one 410 ERROR event, then the end.
      stream.sendError(failureStatus(410, `too old resource version: ${fromRv} (${this.store.oldestRv})`));
      stream.end();
      return;
    }
    for (const event of backlog) stream.sendChange(event);
    this.watches.add(stream);
    stream.onClose(() => this.watches.delete(stream));
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '');
    if (timeoutSeconds > 0) stream.endAfter(timeoutSeconds * 1000);
  }

  /** The pods/binding subresource, as kube-scheduler's binder (and the extender's) posts it. */
  private bind(namespace: string, podName: string, body: unknown): Status {
    const node = stringAt(asRecord(asRecord(body)?.['target']), 'name');
    if (!node) throw fail(400, 'Binding target.name is required');
    const pod = this.store.get('pods', namespace, podName);
    if (!pod) throw fail(404, `pods "${podName}" not found`);
    const spec = asRecord(pod['spec']) ?? {};
    const assigned = stringAt(spec, 'nodeName');
    if (assigned) throw fail(409, `Operation cannot be fulfilled on pods/binding "${podName}": pod ${podName} is already assigned to node "${assigned}"`);
    const updated = this.store.update('pods', { ...pod, spec: { ...spec, nodeName: node } });
    this.bindings.push({ namespace, pod: podName, node, resourceVersion: updated.metadata.resourceVersion });
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  }
}

/** A KubeConfig (cluster, token user, context) pointing at a fake server's URL. */
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
