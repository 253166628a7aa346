/**
 * The fake API server (support/fake-api-server.ts), driven only through @kubernetes/client-node:
 * the protocol the plain suite's watch, bind and ConfigMap tests rely on. What the real
 * kube-apiserver does beyond it is test/e2e's to check.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiException, CoreV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import { FakeApiServer, kubeConfigFor } from '../support/fake-api-server.js';
import { node, pod } from './support/objects.js';
import { waitFor } from './support/wait.js';

let server: FakeApiServer;
let kubeConfig: KubeConfig;
let api: CoreV1Api;
const aborts: Array<() => void> = [];

beforeEach(async () => {
  server = new FakeApiServer({ historySize: 50 });
  kubeConfig = kubeConfigFor((await server.start()).url);
  api = kubeConfig.makeApiClient(CoreV1Api);
});

afterEach(async () => {
  for (const abort of aborts.splice(0)) abort();
  await server.stop();
});

/** Opens a watch through client-node's Watch and records what it delivers. */
async function watch(path: string, query: Record<string, string | number | boolean>) {
  const events: Array<{ type: string; name?: string; rv: string; code?: number }> = [];
  let ended: unknown = 'open';
  const controller = await new Watch(kubeConfig).watch(
    path,
    query,
    (type, obj: { metadata?: { name?: string; resourceVersion?: string }; code?: number }) =>
      events.push({ type, name: obj.metadata?.name, rv: obj.metadata?.resourceVersion ?? '', code: obj.code }),
    (err) => (ended = err),
  );
  aborts.push(() => controller.abort());
  return { events, ended: () => ended };
}

async function apiError(call: Promise<unknown>): Promise<number> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiException)) throw new Error(`expected an ApiException, got ${String(err)}`);
  return err.code;
}

const names = (list: { items: Array<{ metadata?: { name?: string } }> }) => list.items.map((i) => i.metadata?.name);

describe('FakeApiServer', () => {
  it('lists with a global resourceVersion, by namespace and by field selector', async () => {
    server.create('nodes', node('n1'));
    server.create('pods', pod('team-a', 'db'));
    server.create('pods', pod('team-b', 'web'));
    const all = await api.listPodForAllNamespaces();
    expect(names(all)).toEqual(['db', 'web']);
    expect(all.metadata?.resourceVersion).toBe(server.resourceVersion);
    expect(names(await api.listNamespacedPod({ namespace: 'team-b' }))).toEqual(['web']);
    expect(names(await api.listPodForAllNamespaces({ fieldSelector: 'metadata.name=db' }))).toEqual(['db']);
    expect(names(await api.listNode())).toEqual(['n1']);
  });

  it('pages a list at the first page’s resourceVersion while the cluster changes', async () => {
    for (let i = 0; i < 5; i += 1) server.create('pods', pod('ns', `p${i}`));
    const first = await api.listPodForAllNamespaces({ limit: 2 });
    server.remove('pods', 'ns', 'p4');
    server.create('pods', pod('ns', 'p5'));
    const second = await api.listPodForAllNamespaces({ limit: 2, _continue: first.metadata?._continue });
    const third = await api.listPodForAllNamespaces({ limit: 2, _continue: second.metadata?._continue });
    expect([first, second, third].map(names)).toEqual([['p0', 'p1'], ['p2', 'p3'], ['p4']]);
    expect(third.metadata?._continue).toBeUndefined();
    expect(new Set([first, second, third].map((p) => p.metadata?.resourceVersion)).size).toBe(1);
    expect(await apiError(api.listPodForAllNamespaces({ limit: 2, _continue: 'garbled' }))).toBe(400);
  });

  it('streams ADDED, MODIFIED and DELETED from a resourceVersion, and 410 once it left the history', async () => {
    server.create('nodes', node('first'));
    const from = server.resourceVersion; // 0 would mean: the current objects, as ADDED
    server.create('pods', pod('ns', 'before'));
    const w = await watch('/api/v1/pods', { resourceVersion: from });
    server.update('pods', pod('ns', 'before', { phase: 'Running' }));
    server.remove('pods', 'ns', 'before');
    await waitFor(() => w.events.length === 3, 'three events');
    expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(w.events.map((e) => Number(e.rv))).toEqual([Number(from) + 1, Number(from) + 2, Number(from) + 3]);

    for (let i = 0; i < 60; i += 1) server.create('nodes', node(`n${i}`));
    const expired = await watch('/api/v1/pods', { resourceVersion: from });
    await waitFor(() => expired.ended() !== 'open', 'the expired stream ended');
    expect(expired.events).toEqual([{ type: 'ERROR', name: undefined, rv: '', code: 410 }]);
  });

  it('binds a pod once (201, then 409), 404 for a missing one, and shows the binding on the watch', async () => {
    server.create('pods', pod('ns', 'db'));
    const w = await watch('/api/v1/pods', { resourceVersion: server.resourceVersion });
    const binding = (name: string) => ({ namespace: 'ns', name, body: { metadata: { name }, target: { name: 'n1' } } });
    await api.createNamespacedPodBinding(binding('db'));
    expect(server.bindings).toEqual([expect.objectContaining({ namespace: 'ns', pod: 'db', node: 'n1' })]);
    expect(await apiError(api.createNamespacedPodBinding(binding('db')))).toBe(409);
    expect(await apiError(api.createNamespacedPodBinding(binding('ghost')))).toBe(404);
    await waitFor(() => w.events.some((e) => e.type === 'MODIFIED'), 'MODIFIED');
    expect(server.get('pods', 'ns', 'db')?.spec).toMatchObject({ nodeName: 'n1' });
  });

  it('fails the next matching requests with the status asked for, then recovers', async () => {
    server.failNext(/\/api\/v1\/nodes/, 503, 2);
    expect(await apiError(api.listNode())).toBe(503);
    expect(await apiError(api.listNode())).toBe(503);
    expect(names(await api.listNode())).toEqual([]);
    expect(server.listRequests('nodes')).toBe(3);
  });

  it('holds watch events back by the watch delay: a lagging watch', async () => {
    const w = await watch('/api/v1/pods', { resourceVersion: server.resourceVersion });
    server.setWatchDelay(60_000);
    server.create('pods', pod('ns', 'a'));
    expect(names(await api.listPodForAllNamespaces())).toEqual(['a']);
    expect(w.events).toEqual([]);
  });

  it('while paused resets every connection; stop() ends open watches, and start() takes the same port again', async () => {
    const w = await watch('/api/v1/pods', { resourceVersion: server.resourceVersion });
    expect(server.openWatchCount('pods')).toBe(1);
    server.pause();
    await waitFor(() => w.ended() !== 'open', 'watch dropped');
    await expect(api.listNode()).rejects.toThrow();
    server.resume();
    const url = server.url;
    await server.stop();
    await server.start();
    expect(server.url).toBe(url);
    expect(names(await api.listNode())).toEqual([]);
  });
});
