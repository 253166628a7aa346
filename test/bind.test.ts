import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClusterWatch } from '../src/cluster/cluster-watch.js';
import { parsePolicy } from '../src/config/policy.js';
import type { Extender } from '../src/extender.js';
import type { Listening } from '../src/http/serve.js';
import type { ExtenderFilterResult } from '../src/http/wire-types.js';
import type { KubePod } from '../src/sysctl-index/kube-objects.js';
import { FakeApiServer } from '../support/fake-api-server.js';
import { post } from './support/http.js';
import { ALLOW_ALL_UNSAFE, DB, WEB, namespace, node, pod } from './support/objects.js';
import { waitFor } from './support/wait.js';
import { startWatchedExtender } from './support/watched-extender.js';

let api: FakeApiServer;
let extender: Extender;
let watch: ClusterWatch;
let server: Listening;

async function start(ttlSeconds = 30): Promise<void> {
  ({ extender, watch, server } = await startWatchedExtender(api, parsePolicy({ assumedPlacementTtlSeconds: ttlSeconds })));
}

function createPending(p: KubePod): KubePod {
  return api.create('pods', p) as KubePod;
}

async function filter(p: KubePod, nodes: string[]): Promise<ExtenderFilterResult> {
  return (await post(`${server.url}/filter`, JSON.stringify({ Pod: p, Nodes: null, NodeNames: nodes }))).body as ExtenderFilterResult;
}

async function bind(p: KubePod, nodeName: string): Promise<string> {
  const body = { PodName: p.metadata!.name, PodNamespace: p.metadata!.namespace, PodUID: p.metadata!.uid, Node: nodeName };
  const answer = await post(`${server.url}/bind`, JSON.stringify(body));
  expect(answer.status).toBe(200);
  expect(Object.keys(answer.body as object)).toEqual(['Error']);
  return (answer.body as { Error: string }).Error;
}

beforeEach(async () => {
  api = new FakeApiServer();
  await api.start();
  api.create('namespaces', namespace('team-a', 'a'));
  // Their kubelets allow the pods' unsafe sysctls: bind is about the placement race, not the allow-list.
  api.create('nodes', node('n1', { allowed: ALLOW_ALL_UNSAFE }));
  api.create('nodes', node('n2', { allowed: ALLOW_ALL_UNSAFE }));
});

afterEach(async () => {
  await server?.close();
  await watch?.stop();
  await api.stop();
});

describe('bind', () => {
  it('creates the Binding through the API and counts the placement before the watch shows it', async () => {
    await start();
    const db = createPending(pod('team-a', 'db', { sysctls: DB }));
    const web = createPending(pod('team-a', 'web', { sysctls: WEB }));
    await waitFor(() => extender.index.pod('team-a', 'web') !== undefined, 'pods seen');
    api.setWatchDelay(60_000); // the watch lags: n1 still looks idle to it

    expect(await bind(db, 'n1')).toBe('');
    expect(api.bindings).toEqual([expect.objectContaining({ namespace: 'team-a', pod: 'db', node: 'n1' })]);
    // kube-scheduler now filters the next pod: n1 must already count as taken by db's profile.
    const result = await filter(web, ['n1', 'n2']);
    expect(result.NodeNames).toEqual(['n2']);
    expect(result.FailedNodes).toEqual({ n1: 'node runs another sysctl profile' });
  });

  it('refuses a placement that conflicts with one assumed a moment before, and binds nothing', async () => {
    await start();
    const db = createPending(pod('team-a', 'db', { sysctls: DB }));
    const web = createPending(pod('team-a', 'web', { sysctls: WEB }));
    await waitFor(() => extender.index.pod('team-a', 'web') !== undefined, 'pods seen');
    api.setWatchDelay(60_000);
    // Both were filtered while n1 was idle; kube-scheduler sends both binds.
    const answers = await Promise.all([bind(db, 'n1'), bind(web, 'n1')]);
    // Whichever arrives first wins; the other is refused and never reaches the API.
    expect([...answers].sort()).toEqual(['', 'binding refused: node runs another sysctl profile']);
    expect(api.bindings.map((b) => b.pod)).toEqual([answers[0] === '' ? 'db' : 'web']);
  });

  it('undoes its assumption when the API refuses the Binding', async () => {
    await start();
    const db = createPending(pod('team-a', 'db', { sysctls: DB }));
    const web = createPending(pod('team-a', 'web', { sysctls: WEB }));
    await waitFor(() => extender.index.pod('team-a', 'web') !== undefined, 'pods seen');
    api.failNext(/\/binding/, 500);
    expect(await bind(db, 'n1')).toMatch(/^binding through the API failed: HTTP 500/);
    expect(api.bindings).toEqual([]);
    expect(extender.index.node('n1')).toMatchObject({ occupants: 0 });
    expect((await filter(web, ['n1'])).NodeNames).toEqual(['n1']);
    // Counted apart from rule refusals: an alert can tell a failing API server from racing placements.
    expect(await bind(web, 'n1')).toBe('');
    expect(await bind(db, 'n1')).toMatch(/^binding refused: /);
    const metrics = await extender.metrics.registry.metrics();
    for (const outcome of ['bound', 'refused', 'api_failed']) expect(metrics).toMatch(new RegExp(`^sysctl_extender_binds_total\\{outcome="${outcome}"\\} 1$`, 'm'));
  });

  it('lets an assumed placement expire when the watch never confirms it', async () => {
    await start(1);
    const db = createPending(pod('team-a', 'db', { sysctls: DB }));
    await waitFor(() => extender.index.pod('team-a', 'db') !== undefined, 'pod seen');
    api.setWatchDelay(60_000);
    expect(await bind(db, 'n1')).toBe('');
    expect(extender.index.node('n1')?.occupants).toBe(1);
    await waitFor(() => extender.index.node('n1')?.occupants === 0, 'assumption expired');
    expect(extender.index.pod('team-a', 'db')).toMatchObject({ nodeName: undefined, assumed: false });
  });

  it('keeps a placement the watch confirmed, past the TTL', async () => {
    await start(1);
    const db = createPending(pod('team-a', 'db', { sysctls: DB }));
    await waitFor(() => extender.index.pod('team-a', 'db') !== undefined, 'pod seen');
    expect(await bind(db, 'n1')).toBe('');
    await waitFor(() => extender.index.pod('team-a', 'db')?.assumed === false, 'watch confirmed the binding');
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(extender.index.node('n1')?.occupants).toBe(1);
  });

  it('binds a pod the watch has not shown yet, known from its filter call', async () => {
    await start();
    api.setWatchDelay(60_000);
    const late = createPending(pod('team-a', 'late', { sysctls: DB }));
    expect((await filter(late, ['n1'])).NodeNames).toEqual(['n1']);
    expect(await bind(late, 'n1')).toBe('');
    expect(api.bindings.map((b) => b.pod)).toEqual(['late']);
  });

  it.each([
    ['an unknown pod', { PodName: 'ghost', PodNamespace: 'team-a', PodUID: 'x', Node: 'n1' }, 'pod is unknown to the extender'],
    ['an unknown node', { PodName: 'db', PodNamespace: 'team-a', PodUID: '', Node: 'n9' }, 'binding refused: node is not in the extender index yet'],
  ])('refuses %s with a clear error', async (_name, body, error) => {
    await start();
    createPending(pod('team-a', 'db'));
    await waitFor(() => extender.index.pod('team-a', 'db') !== undefined, 'pod seen');
    const answer = await post(`${server.url}/bind`, JSON.stringify(body));
    expect(answer.body).toEqual({ Error: error });
    expect(api.bindings).toEqual([]);
  });

  it('answers a malformed bind request with 400', async () => {
    await start();
    const answer = await post(`${server.url}/bind`, JSON.stringify({ PodName: 'x' }));
    expect(answer.status).toBe(400);
    expect((answer.body as { Error: string }).Error).toMatch(/PodNamespace is required/);
  });
});
