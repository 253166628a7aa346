/**
 * Tests for the fake API server, driven only through the real @kubernetes/client-node
 * library: if these pass, the library's list/watch/informer code works against the fake.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiException, CoreV1Api, KubeConfig, Watch, makeInformer, type Informer, type ObjectCache, type V1Pod } from '@kubernetes/client-node';
import { FakeApiServer, kubeConfigFor, type FakeApiServerOptions } from './support/fake-api-server.js';

/** A minute: the events come in milliseconds idle, but a busy machine can take seconds. */
const WAIT = { timeout: 60_000, interval: 10 };

// --- fixtures ---------------------------------------------------------------------------

function pod(name: string, opts: { namespace?: string; labels?: Record<string, string>; nodeName?: string } = {}) {
  return {
    metadata: { name, namespace: opts.namespace ?? 'default', ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: { containers: [{ name: 'app', image: 'busybox' }], ...(opts.nodeName ? { nodeName: opts.nodeName } : {}) },
  };
}

function node(name: string, labels: Record<string, string> = {}) {
  return { metadata: { name, labels } };
}

function configMap(name: string, namespace: string, data: Record<string, string>) {
  return { metadata: { name, namespace }, data };
}

// --- harness ----------------------------------------------------------------------------

let server: FakeApiServer;
let kubeConfig: KubeConfig;
let api: CoreV1Api;
let cleanups: (() => Promise<void> | void)[] = [];

async function startServer(options: FakeApiServerOptions = {}): Promise<void> {
  server = new FakeApiServer(options);
  const { url } = await server.start();
  kubeConfig = kubeConfigFor(url);
  api = kubeConfig.makeApiClient(CoreV1Api);
}

beforeEach(async () => {
  await startServer();
});

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  await server.stop();
});

interface SeenEvent {
  type: string;
  name: string | undefined;
  rv: number;
  kind: string | undefined;
  code: number | undefined;
  at: number;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** Flattens a raw watch event object (which the library passes through untyped). */
function seen(type: string, object: unknown): SeenEvent {
  const obj = record(object);
  const meta = record(obj['metadata']);
  return {
    type,
    name: typeof meta['name'] === 'string' ? meta['name'] : undefined,
    rv: Number(meta['resourceVersion']),
    kind: typeof obj['kind'] === 'string' ? obj['kind'] : undefined,
    code: typeof obj['code'] === 'number' ? obj['code'] : undefined,
    at: Date.now(),
  };
}

/** Opens a watch with the library's Watch class and records everything it delivers. */
async function watch(path: string, params: Record<string, string | number | boolean | undefined>) {
  const events: SeenEvent[] = [];
  let resolveDone: (err: unknown) => void = () => undefined;
  const done = new Promise<unknown>((resolve) => (resolveDone = resolve));
  const controller = await new Watch(kubeConfig).watch(path, params, (type, object) => events.push(seen(type, object)), (err) => resolveDone(err));
  cleanups.push(() => controller.abort());
  return { events, done, controller };
}

/** Resolves like `promise`, or fails fast instead of hanging until the test timeout. */
async function within<T>(promise: Promise<T>, ms = WAIT.timeout): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts a pod informer that restarts itself on errors, as the library's docs recommend. */
async function podInformer(namespace = 'default') {
  const informer = makeInformer<V1Pod>(kubeConfig, `/api/v1/namespaces/${namespace}/pods`, () => api.listNamespacedPod({ namespace }));
  const errors: unknown[] = [];
  const deleted: string[] = [];
  let stopped = false;
  informer.on('error', (err) => {
    errors.push(err);
    setTimeout(() => {
      if (!stopped) void informer.start();
    }, 20);
  });
  informer.on('delete', (obj) => deleted.push(obj.metadata?.name ?? ''));
  cleanups.push(async () => {
    stopped = true;
    await informer.stop();
  });
  await informer.start();
  return { informer, errors, deleted };
}

function cachedPods(informer: Informer<V1Pod> & ObjectCache<V1Pod>): Record<string, string | undefined> {
  return Object.fromEntries(informer.list().map((p) => [p.metadata?.name ?? '', p.metadata?.labels?.['v']]));
}

/** Awaits a rejected API call and returns its HTTP code and Status reason. */
async function apiError(call: Promise<unknown>): Promise<{ code: number; reason: unknown }> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiException)) throw new Error(`expected an ApiException, got ${String(err)}`);
  const body: unknown = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
  return { code: err.code, reason: record(body)['reason'] };
}

// --- tests ------------------------------------------------------------------------------

describe('lists and reads through CoreV1Api', () => {
  it('lists every resource with items, kinds and the global resourceVersion', async () => {
    server.create('namespaces', { metadata: { name: 'team-a' } });
    server.create('nodes', node('node-1'));
    server.create('nodes', node('node-2'));
    server.create('pods', pod('web', { namespace: 'team-a' }));
    server.create('pods', pod('db'));
    server.create('configmaps', configMap('settings', 'team-a', { k: 'v' }));

    const nodes = await api.listNode();
    expect(nodes.metadata?.resourceVersion).toBe('6');
    expect(nodes.items.map((n) => n.metadata?.name).sort()).toEqual(['node-1', 'node-2']);
    expect(nodes.items[0]?.kind).toBe('Node');
    expect(nodes.items[0]?.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(nodes.items[0]?.metadata?.creationTimestamp).toBeInstanceOf(Date);

    const allPods = await api.listPodForAllNamespaces();
    expect(allPods.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).sort()).toEqual(['default/db', 'team-a/web']);
    const teamPods = await api.listNamespacedPod({ namespace: 'team-a' });
    expect(teamPods.items.map((p) => p.metadata?.name)).toEqual(['web']);

    expect((await api.listNamespace()).items.map((n) => n.metadata?.name)).toEqual(['team-a']);
    expect((await api.listNamespacedConfigMap({ namespace: 'team-a' })).items[0]?.data).toEqual({ k: 'v' });
    expect(server.listRequests('pods')).toBe(2);
    expect(server.listRequests('nodes')).toBe(1);
  });

  it('filters lists by label and field selectors', async () => {
    server.create('nodes', node('a', { zone: 'x', gpu: 'true' }));
    server.create('nodes', node('b', { zone: 'y' }));
    server.create('nodes', node('c', { zone: 'z' }));
    server.create('pods', pod('bound', { nodeName: 'a' }));
    server.create('pods', pod('pending'));
    server.create('configmaps', configMap('one', 'default', {}));
    server.create('configmaps', configMap('two', 'default', {}));

    const names = (list: { items: { metadata?: { name?: string } }[] }): string[] => list.items.map((i) => i.metadata?.name ?? '').sort();
    expect(names(await api.listNode({ labelSelector: 'zone=x' }))).toEqual(['a']);
    expect(names(await api.listNode({ labelSelector: 'zone!=x' }))).toEqual(['b', 'c']);
    expect(names(await api.listNode({ labelSelector: 'gpu' }))).toEqual(['a']);
    expect(names(await api.listNode({ labelSelector: '!gpu,zone in (x,y,z)' }))).toEqual(['b', 'c']);
    expect(names(await api.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=' }))).toEqual(['pending']);
    expect(names(await api.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=a' }))).toEqual(['bound']);
    expect(names(await api.listNamespacedConfigMap({ namespace: 'default', fieldSelector: 'metadata.name=two' }))).toEqual(['two']);
    expect(await apiError(api.listNode({ labelSelector: 'zone in x' }))).toEqual({ code: 400, reason: 'BadRequest' });
  });

  it('reads single objects and reports a missing one as a NotFound Status', async () => {
    server.create('nodes', node('node-1'));
    server.create('configmaps', configMap('settings', 'default', { a: '1' }));

    expect((await api.readNode({ name: 'node-1' })).metadata?.name).toBe('node-1');
    expect((await api.readNamespacedConfigMap({ namespace: 'default', name: 'settings' })).data).toEqual({ a: '1' });
    expect(await apiError(api.readNamespacedPod({ namespace: 'default', name: 'ghost' }))).toEqual({ code: 404, reason: 'NotFound' });
    expect(await apiError(api.readNamespacedConfigMap({ namespace: 'other', name: 'settings' }))).toEqual({ code: 404, reason: 'NotFound' });
  });
});

describe('watch', () => {
  it('streams ADDED, MODIFIED, DELETED and BOOKMARK in order with increasing resourceVersions', async () => {
    const start = (await api.listNamespacedPod({ namespace: 'default' })).metadata?.resourceVersion;
    const { events } = await watch('/api/v1/namespaces/default/pods', { resourceVersion: start, allowWatchBookmarks: true });
    const plain = await watch('/api/v1/namespaces/default/pods', { resourceVersion: start });

    server.create('pods', pod('a'));
    server.create('pods', pod('other-ns', { namespace: 'elsewhere' }));
    server.update('pods', pod('a', { labels: { v: '2' } }));
    server.remove('pods', 'default', 'a');
    server.sendBookmarks();

    await vi.waitFor(() => expect(events).toHaveLength(4), WAIT);
    expect(events.map((e) => `${e.type}:${e.name ?? e.kind}`)).toEqual(['ADDED:a', 'MODIFIED:a', 'DELETED:a', 'BOOKMARK:Pod']);
    const rvs = events.map((e) => e.rv);
    expect(rvs).toEqual([...rvs].sort((x, y) => x - y));
    expect(new Set(rvs).size).toBe(rvs.length - 1); // the bookmark repeats the latest RV
    expect(events.at(-1)?.rv).toBe(Number(server.resourceVersion));
    // Bookmarks only go to watches that asked for them.
    await vi.waitFor(() => expect(plain.events).toHaveLength(3), WAIT);
    expect(plain.events.map((e) => e.type)).not.toContain('BOOKMARK');
    expect(server.watchRequests('pods')).toBe(2);
  });

  it('replays history after the requested resourceVersion, and current objects for RV 0', async () => {
    server.create('configmaps', configMap('one', 'default', {}));
    const after = server.resourceVersion;
    server.create('configmaps', configMap('two', 'default', {}));
    server.remove('configmaps', 'default', 'one');

    const resumed = await watch('/api/v1/namespaces/default/configmaps', { resourceVersion: after });
    await vi.waitFor(() => expect(resumed.events.map((e) => `${e.type}:${e.name}`)).toEqual(['ADDED:two', 'DELETED:one']), WAIT);

    const fresh = await watch('/api/v1/namespaces/default/configmaps', { resourceVersion: '0' });
    await vi.waitFor(() => expect(fresh.events.map((e) => `${e.type}:${e.name}`)).toEqual(['ADDED:two']), WAIT);
  });

  it('applies selectors to watches, turning relabels into ADDED and DELETED', async () => {
    const rv = server.resourceVersion;
    const { events } = await watch('/api/v1/nodes', { resourceVersion: rv, labelSelector: 'pool=gpu' });
    const byName = await watch('/api/v1/namespaces/default/configmaps', { resourceVersion: rv, fieldSelector: 'metadata.name=wanted' });

    server.create('nodes', node('n1', { pool: 'cpu' }));
    server.update('nodes', node('n1', { pool: 'gpu' }));
    server.update('nodes', node('n1', { pool: 'gpu', extra: 'x' }));
    server.update('nodes', node('n1', { pool: 'cpu' }));
    server.create('configmaps', configMap('unwanted', 'default', {}));
    server.create('configmaps', configMap('wanted', 'default', {}));

    await vi.waitFor(() => expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']), WAIT);
    await vi.waitFor(() => expect(byName.events.map((e) => e.name)).toEqual(['wanted']), WAIT);
  });

  it('answers a compacted resourceVersion with a 410 ERROR event, then ends the stream', async () => {
    server.create('pods', pod('a'));
    const old = server.resourceVersion;
    server.create('pods', pod('b'));
    server.compactHistory();

    const { events, done } = await watch('/api/v1/namespaces/default/pods', { resourceVersion: old });
    expect(await within(done)).toBeNull();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'ERROR', kind: 'Status', code: 410 });
    expect(server.openWatchCount()).toBe(0);
  });

  it('expires resourceVersions that fell out of the history ring', async () => {
    await server.stop();
    await startServer({ historySize: 2 });
    for (const name of ['a', 'b', 'c', 'd']) server.create('pods', pod(name)); // RVs 1..4; ring keeps 3,4

    const kept = await watch('/api/v1/pods', { resourceVersion: '2' });
    await vi.waitFor(() => expect(kept.events.map((e) => e.name)).toEqual(['c', 'd']), WAIT);

    const expired = await watch('/api/v1/pods', { resourceVersion: '1' });
    expect(await within(expired.done)).toBeNull();
    expect(expired.events.map((e) => `${e.type}:${e.code}`)).toEqual(['ERROR:410']);
  });

  it('can answer an expired watch with an HTTP 410 instead', async () => {
    server.setExpiredWatchResponse('http');
    server.create('pods', pod('a'));
    const old = server.resourceVersion;
    server.create('pods', pod('b'));
    server.compactHistory();

    await watch('/api/v1/namespaces/default/pods', { resourceVersion: server.resourceVersion }); // still valid
    const stale = await watch('/api/v1/namespaces/default/pods', { resourceVersion: old });
    expect(record(await within(stale.done))['statusCode']).toBe(410);
    expect(stale.events).toEqual([]);
    expect(server.openWatchCount('pods')).toBe(1);
  });

  it('delays every watch event by the configured watch delay, preserving order', async () => {
    server.setWatchDelay(300);
    const { events } = await watch('/api/v1/namespaces/default/pods', { resourceVersion: server.resourceVersion });
    const createdAt = Date.now();
    server.create('pods', pod('slow-1'));
    server.create('pods', pod('slow-2'));

    await vi.waitFor(() => expect(events).toHaveLength(2), WAIT);
    expect(events.map((e) => e.name)).toEqual(['slow-1', 'slow-2']);
    for (const event of events) expect(event.at - createdAt).toBeGreaterThanOrEqual(290);

    server.setWatchDelay(0);
    const fastAt = Date.now();
    server.create('pods', pod('fast'));
    await vi.waitFor(() => expect(events).toHaveLength(3), WAIT);
    expect((events[2]?.at ?? Infinity) - fastAt).toBeLessThan(290);
  });

  it('survives clients that abort mid-stream, and stop() ends open watches', async () => {
    const aborted = await watch('/api/v1/namespaces/default/pods', { resourceVersion: server.resourceVersion });
    await vi.waitFor(() => expect(server.openWatchCount('pods')).toBe(1), WAIT);
    aborted.controller.abort();
    await vi.waitFor(() => expect(server.openWatchCount('pods')).toBe(0), WAIT);
    server.create('pods', pod('after-abort')); // must not throw writing to a dead socket

    const open = await watch('/api/v1/nodes', { resourceVersion: server.resourceVersion });
    await server.stop();
    await within(open.done); // resolves (with an error or null) once the stream is cut
    await expect(api.listNode()).rejects.toThrow();
    await server.start(); // same port again: the client config still works
    expect((await api.listNamespacedPod({ namespace: 'default' })).items.map((p) => p.metadata?.name)).toEqual(['after-abort']);
  });
});

describe('informer (makeInformer / ListWatch)', () => {
  it('resumes from its resourceVersion after disconnectWatches, without relisting', async () => {
    server.create('pods', pod('keep', { labels: { v: '1' } }));
    server.create('pods', pod('gone'));
    const { informer, deleted, errors } = await podInformer();
    expect(cachedPods(informer)).toEqual({ keep: '1', gone: undefined });
    await vi.waitFor(() => expect(server.openWatchCount('pods')).toBe(1), WAIT);
    const lists = server.listRequests('pods');

    server.disconnectWatches();
    // These run synchronously, so all of them happen before the informer can reconnect.
    server.update('pods', pod('keep', { labels: { v: '2' } }));
    server.remove('pods', 'default', 'gone');
    server.create('pods', pod('new'));

    await vi.waitFor(() => expect(cachedPods(informer)).toEqual({ keep: '2', new: undefined }), WAIT);
    expect(deleted).toEqual(['gone']);
    expect(server.listRequests('pods')).toBe(lists);
    expect(server.watchRequests('pods')).toBeGreaterThan(1);
    // A dropped watch reaches the informer as an error ("Premature close"); it only came back
    // because podInformer() restarts it. The library does not retry by itself.
    expect(errors.length).toBeGreaterThan(0);
  });

  it.each(['event', 'http'] as const)('relists after a 410 (%s) and drops objects deleted meanwhile', async (mode) => {
    server.setExpiredWatchResponse(mode);
    server.create('pods', pod('keep', { labels: { v: '1' } }));
    server.create('pods', pod('gone'));
    const { informer, deleted } = await podInformer();
    await vi.waitFor(() => expect(server.openWatchCount('pods')).toBe(1), WAIT);
    const lists = server.listRequests('pods');

    server.pause(); // drops the watch and resets reconnects until resume()
    server.update('pods', pod('keep', { labels: { v: '2' } }));
    server.remove('pods', 'default', 'gone');
    server.create('pods', pod('new'));
    server.compactHistory();
    server.resume();

    await vi.waitFor(() => expect(cachedPods(informer)).toEqual({ keep: '2', new: undefined }), WAIT);
    expect(deleted).toEqual(['gone']);
    expect(server.listRequests('pods')).toBe(lists + 1);
    await vi.waitFor(() => expect(server.openWatchCount('pods')).toBe(1), WAIT);
  });

  it('catches up after the API server is stopped and started again on the same port', async () => {
    server.create('pods', pod('a'));
    const { informer, errors } = await podInformer();
    await server.stop();
    server.create('pods', pod('b'));
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), WAIT);
    await server.start();
    await vi.waitFor(() => expect(Object.keys(cachedPods(informer)).sort()).toEqual(['a', 'b']), WAIT);
  });
});

describe('pods/binding subresource', () => {
  it('binds a pod, emits MODIFIED, logs the call, and answers a second bind with 409', async () => {
    server.create('pods', pod('p1'));
    const { events } = await watch('/api/v1/namespaces/default/pods', { resourceVersion: server.resourceVersion });
    const body = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1', namespace: 'default' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } };

    await api.createNamespacedPodBinding({ namespace: 'default', name: 'p1', body });
    expect((await api.readNamespacedPod({ namespace: 'default', name: 'p1' })).spec?.nodeName).toBe('node-1');
    await vi.waitFor(() => expect(events.map((e) => `${e.type}:${e.name}`)).toEqual(['MODIFIED:p1']), WAIT);
    expect(server.bindings).toEqual([{ namespace: 'default', pod: 'p1', node: 'node-1', resourceVersion: server.resourceVersion }]);

    const again = { ...body, target: { kind: 'Node', name: 'node-2' } };
    expect(await apiError(api.createNamespacedPodBinding({ namespace: 'default', name: 'p1', body: again }))).toEqual({ code: 409, reason: 'Conflict' });
    expect(server.get('pods', 'default', 'p1')?.['spec']).toMatchObject({ nodeName: 'node-1' });
    expect(server.bindings).toHaveLength(1);
  });

  it('answers 404 for a missing pod, 400 without a target, and also serves /bindings', async () => {
    const target = { kind: 'Node', name: 'node-1' };
    expect(await apiError(api.createNamespacedPodBinding({ namespace: 'default', name: 'ghost', body: { metadata: { name: 'ghost' }, target } }))).toEqual({
      code: 404,
      reason: 'NotFound',
    });
    server.create('pods', pod('p2'));
    expect(await apiError(api.createNamespacedPodBinding({ namespace: 'default', name: 'p2', body: { metadata: { name: 'p2' }, target: { kind: 'Node' } } }))).toEqual({
      code: 400,
      reason: 'BadRequest',
    });

    await api.createNamespacedBinding({ namespace: 'default', body: { metadata: { name: 'p2' }, target } });
    expect(server.get('pods', 'default', 'p2')?.['spec']).toMatchObject({ nodeName: 'node-1' });
  });
});

describe('HTTP writes and fault injection', () => {
  it('creates, replaces (with optimistic concurrency) and deletes over HTTP', async () => {
    const created = await api.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cm' }, data: { a: '1' } } });
    expect(created.metadata?.resourceVersion).toBe('1');
    expect(await apiError(api.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cm' } } }))).toEqual({
      code: 409,
      reason: 'AlreadyExists',
    });

    const replaced = await api.replaceNamespacedConfigMap({ namespace: 'default', name: 'cm', body: { ...created, data: { a: '2' } } });
    expect(replaced.metadata?.uid).toBe(created.metadata?.uid);
    expect(await apiError(api.replaceNamespacedConfigMap({ namespace: 'default', name: 'cm', body: { ...created, data: { a: '3' } } }))).toEqual({
      code: 409,
      reason: 'Conflict',
    });

    await api.deleteNamespacedConfigMap({ namespace: 'default', name: 'cm' });
    expect(server.list('configmaps')).toEqual([]);
    expect(await apiError(api.deleteNamespacedConfigMap({ namespace: 'default', name: 'cm' }))).toEqual({ code: 404, reason: 'NotFound' });

    const ns = await api.createNamespace({ body: { metadata: { name: 'made-over-http' } } });
    expect(ns.kind).toBe('Namespace');
  });

  it('fails the next matching requests with the injected status, then recovers', async () => {
    server.failNext(/^\/api\/v1\/nodes/, 503, 2);
    expect(await apiError(api.listNode())).toEqual({ code: 503, reason: 'ServiceUnavailable' });
    expect(await apiError(api.listNode())).toEqual({ code: 503, reason: 'ServiceUnavailable' });
    expect((await api.listNode()).items).toEqual([]);
    expect(server.listRequests('nodes')).toBe(3);

    server.failNext(/watch=true/, 500);
    const failed = await watch('/api/v1/nodes', {});
    expect(record(await within(failed.done))['statusCode']).toBe(500);
    expect(server.watchRequests('nodes')).toBe(1);
  });

  it('adds the configured latency to every response', async () => {
    server.setLatency(150);
    const startedAt = Date.now();
    await api.listNode();
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
  });
});
