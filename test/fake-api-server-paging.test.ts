/**
 * Chunked lists (`limit`/`continue`) of the fake API server, driven only through the real
 * @kubernetes/client-node library and the extender's own reflectors, as they list a cluster.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiException, CoreV1Api, type V1Pod, type V1PodList } from '@kubernetes/client-node';
import { ClusterWatch } from '../src/cluster/cluster-watch.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { ClusterIndex } from '../src/sysctl-index/cluster-index.js';
import { FakeApiServer, kubeConfigFor } from './support/fake-api-server.js';
import { node, pod } from './support/objects.js';
import { waitFor } from './support/wait.js';

const PODS = 2_500;
const NAMESPACES = ['ns-a', 'ns-b', 'ns-c'];

let server: FakeApiServer;
let api: CoreV1Api;
let stops: Array<() => Promise<void>> = [];

beforeEach(async () => {
  server = new FakeApiServer();
  await server.start();
  api = kubeConfigFor(server.url).makeApiClient(CoreV1Api);
  server.create('nodes', node('node-1'));
  // Spread over namespaces so that creation order is not key order.
  for (let i = 0; i < PODS; i++) server.create('pods', podNumber(i));
});

afterEach(async () => {
  for (const stop of stops.reverse()) await stop();
  stops = [];
  await server.stop();
});

function podNumber(i: number, labels: Record<string, string> = { tier: i % 2 === 0 ? 'web' : 'batch' }) {
  return pod(NAMESPACES[i % NAMESPACES.length]!, `p-${String(i).padStart(5, '0')}`, { node: 'node-1', labels });
}

function keyOf(obj: { metadata?: { namespace?: string; name?: string } | null }): string {
  return `${obj.metadata?.namespace}/${obj.metadata?.name}`;
}

/** The fake's current pods, key to resourceVersion. */
function serverPods(): Map<string, string> {
  return new Map(server.list('pods').map((p) => [keyOf(p), p.metadata.resourceVersion]));
}

interface Page {
  keys: string[];
  items: V1Pod[];
  rv: string | undefined;
  continueToken: string | undefined;
  remaining: number | undefined;
}

function pageOf(list: V1PodList): Page {
  return {
    keys: list.items.map(keyOf),
    items: list.items,
    rv: list.metadata?.resourceVersion,
    continueToken: list.metadata?._continue,
    remaining: list.metadata?.remainingItemCount,
  };
}

/** Lists page by page as a reflector does; `between` runs after each page but the last. */
async function listInPages(
  listPage: (continueToken: string | undefined) => Promise<V1PodList>,
  between: (pagesSoFar: number) => void = () => undefined,
): Promise<Page[]> {
  const pages: Page[] = [];
  let continueToken: string | undefined;
  do {
    const page = pageOf(await listPage(continueToken));
    pages.push(page);
    continueToken = page.continueToken;
    if (continueToken) between(pages.length);
  } while (continueToken);
  return pages;
}

async function apiError(call: () => Promise<unknown>): Promise<{ code: number; reason: unknown; continueToken: unknown }> {
  const err = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiException)) throw new Error(`expected an ApiException, got ${String(err)}`);
  const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { reason?: unknown; metadata?: { continue?: unknown } };
  return { code: err.code, reason: body.reason, continueToken: body.metadata?.continue };
}

describe('chunked lists through CoreV1Api', () => {
  it('serves 2,500 pods with limit 500 in 5 pages, in key order, at one resourceVersion', async () => {
    const pages = await listInPages((token) => api.listPodForAllNamespaces({ limit: 500, _continue: token }));

    expect(pages.map((p) => p.items.length)).toEqual([500, 500, 500, 500, 500]);
    expect(pages.map((p) => p.remaining)).toEqual([2000, 1500, 1000, 500, undefined]);
    expect(pages.map((p) => Boolean(p.continueToken))).toEqual([true, true, true, true, false]);
    expect(new Set(pages.map((p) => p.rv))).toEqual(new Set([server.resourceVersion]));
    const keys = pages.flatMap((p) => p.keys);
    expect(keys).toEqual([...serverPods().keys()].sort());
    expect(server.listRequests('pods')).toBe(5);
  });

  it('keeps answering from the first page’s state while pods are deleted, updated and created', async () => {
    const before = serverPods();
    const snapshotRv = server.resourceVersion;
    const sorted = [...before.keys()].sort();
    const deleted = sorted.filter((_, i) => i % 20 === 7); // in every page, already served or not
    const updated = sorted.filter((_, i) => i % 20 === 13);
    const pages = await listInPages(
      (token) => api.listPodForAllNamespaces({ limit: 500, _continue: token }),
      (served) => {
        // Between pages, a fifth of each batch at a time: the cluster keeps moving.
        for (const key of deleted.filter((_, i) => i % 4 === served - 1)) server.remove('pods', ...splitKey(key));
        for (const key of updated.filter((_, i) => i % 4 === served - 1)) {
          const [ns, name] = splitKey(key);
          server.update('pods', { ...server.get('pods', ns, name)!, metadata: { namespace: ns, name, labels: { tier: 'changed' } } });
        }
        for (let i = 0; i < 25; i++) server.create('pods', podNumber(PODS + served * 100 + i));
      },
    );

    expect(pages.map((p) => p.items.length)).toEqual([500, 500, 500, 500, 500]);
    expect(new Set(pages.map((p) => p.rv))).toEqual(new Set([snapshotRv]));
    const items = pages.flatMap((p) => p.items);
    // Exactly the pods of the first page's moment, each as it was then.
    expect(new Map(items.map((p) => [keyOf(p), p.metadata?.resourceVersion]))).toEqual(before);
    expect(items.filter((p) => p.metadata?.labels?.['tier'] === 'changed')).toEqual([]);

    // The writes did happen: a new list sees them.
    const now = await api.listPodForAllNamespaces({});
    expect(now.items).toHaveLength(PODS - deleted.length + 4 * 25);
    expect(now.items.filter((p) => p.metadata?.labels?.['tier'] === 'changed')).toHaveLength(updated.length);
  });

  it('serves an old list consistently even after newer lists pushed its state out of the cache', async () => {
    // Ten lists, each started one pod later; their continuations come back in reverse order.
    const firstPages: Page[] = [];
    for (let n = 0; n < 10; n++) {
      firstPages.push(pageOf(await api.listPodForAllNamespaces({ limit: 500 })));
      server.create('pods', podNumber(PODS + n));
    }
    for (const [n, first] of [...firstPages.entries()].reverse()) {
      let token = first.continueToken;
      const keys = [...first.keys];
      while (token) {
        const page = pageOf(await api.listPodForAllNamespaces({ limit: 500, _continue: token }));
        expect(page.rv).toBe(first.rv);
        keys.push(...page.keys);
        token = page.continueToken;
      }
      expect(new Set(keys).size).toBe(PODS + n);
    }
  });

  it('pages a namespace, and filters by selector without counting the rest', async () => {
    const inB = [...serverPods().keys()].filter((key) => key.startsWith('ns-b/')).sort();
    const namespaced = await listInPages((token) => api.listNamespacedPod({ namespace: 'ns-b', limit: 300, _continue: token }));
    expect(namespaced.flatMap((p) => p.keys)).toEqual(inB);
    expect(namespaced.map((p) => p.remaining)).toEqual([inB.length - 300, inB.length - 600, undefined]);

    const web = await listInPages((token) => api.listPodForAllNamespaces({ labelSelector: 'tier=web', limit: 500, _continue: token }));
    expect(web.map((p) => p.items.length)).toEqual([500, 500, 250]);
    expect(web.every((p) => p.remaining === undefined)).toBe(true);
    expect(web.flatMap((p) => p.items).every((p) => p.metadata?.labels?.['tier'] === 'web')).toBe(true);
  });

  it('without limit, answers the whole list at once as before', async () => {
    const all = await api.listPodForAllNamespaces({});
    expect(all.items).toHaveLength(PODS);
    expect(all.metadata?._continue).toBeUndefined();
    expect(all.metadata?.remainingItemCount).toBeUndefined();
    const oneBigPage = await api.listPodForAllNamespaces({ limit: 10_000 });
    expect(oneBigPage.items).toHaveLength(PODS);
    expect(oneBigPage.metadata?._continue).toBeUndefined();
  });

  it('answers 400 BadRequest to a garbled token, like the apiserver', async () => {
    expect(await apiError(() => api.listPodForAllNamespaces({ limit: 500, _continue: 'not-a-token' }))).toMatchObject({ code: 400, reason: 'BadRequest' });
    const rvZero = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 0, start: 'ns-a/p\u0000' })).toString('base64url');
    expect(await apiError(() => api.listPodForAllNamespaces({ limit: 500, _continue: rvZero }))).toMatchObject({ code: 400, reason: 'BadRequest' });
    const first = await api.listPodForAllNamespaces({ limit: 500 });
    expect(
      await apiError(() => api.listPodForAllNamespaces({ limit: 500, _continue: first.metadata?._continue, resourceVersion: server.resourceVersion })),
    ).toMatchObject({ code: 400, reason: 'BadRequest' });
  });

  it('answers 410 Expired once the token’s resourceVersion left the history, offering an inconsistent remainder', async () => {
    const first = pageOf(await api.listPodForAllNamespaces({ limit: 500 }));
    const late = server.create('pods', podNumber(99_999)); // ns-a/p-99999: after the first page's keys
    server.compactHistory();

    const expired = await apiError(() => api.listPodForAllNamespaces({ limit: 500, _continue: first.continueToken }));
    expect(expired).toMatchObject({ code: 410, reason: 'Expired' });
    expect(typeof expired.continueToken).toBe('string');

    // The offered token carries on from the latest state, right after the first page.
    const rest = await listInPages((token) => api.listPodForAllNamespaces({ limit: 500, _continue: token ?? String(expired.continueToken) }));
    expect(rest[0]!.rv).toBe(server.resourceVersion);
    const keys = [...first.keys, ...rest.flatMap((p) => p.keys)];
    expect(keys).toEqual([...serverPods().keys()].sort());
    expect(keys).toContain(keyOf(late));
  });
});

// How the reflector pages is tested against a scripted list in reflector.test.ts.
describe("the extender's watch lists in pages", () => {
  it("ClusterWatch feeds the extender's index every pod while writes race the paged list", async () => {
    const index = new ClusterIndex(DEFAULT_POLICY);
    const watch = new ClusterWatch({ kubeConfig: kubeConfigFor(server.url), index: () => index, staleAfterMs: 60_000, delay: async () => undefined });
    stops.push(() => watch.stop());
    server.setLatency(10); // each page takes a while: the writer below gets turns between them
    let next = PODS;
    let writesWhileListing = 0;
    watch.start();
    while (!watch.check().ready) {
      // Net zero per turn, so the list's state always holds 2,500 pods: 5 pages.
      const victim = `p-${String(next - PODS).padStart(5, '0')}`;
      server.remove('pods', NAMESPACES[(next - PODS) % NAMESPACES.length]!, victim);
      server.create('pods', podNumber(next++));
      writesWhileListing++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    server.setLatency(0);

    expect(writesWhileListing).toBeGreaterThan(5);
    expect(server.listRequests('pods')).toBe(5);
    await waitFor(() => index.stats.pods === PODS && sameKeys(index.podRefs().map((r) => `${r.namespace}/${r.name}`), serverPods()), 'index caught up');
    expect(index.pod('ns-a', 'p-00000')).toBeUndefined();
    expect(index.pod(NAMESPACES[(next - 1) % NAMESPACES.length]!, `p-${String(next - 1).padStart(5, '0')}`)).toBeDefined();
  });
});

function splitKey(key: string): [string, string] {
  const [ns = '', name = ''] = key.split('/');
  return [ns, name];
}

function sameKeys(keys: readonly string[], expected: ReadonlyMap<string, unknown>): boolean {
  return keys.length === expected.size && keys.every((key) => expected.has(key));
}
