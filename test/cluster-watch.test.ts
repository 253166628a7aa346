import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterWatch } from '../src/cluster/cluster-watch.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { ClusterIndex } from '../src/sysctl-index/cluster-index.js';
import { Registry } from 'prom-client';
import { FakeApiServer, kubeConfigFor } from './support/fake-api-server.js';
import { DB, namespace, node, pod } from './support/objects.js';
import { waitFor } from './support/wait.js';

let api: FakeApiServer;
let watch: ClusterWatch | undefined;
let index: ClusterIndex;
let registry: Registry;
let clock: number;
/** Backoff delays the reflectors asked for; each waits only 5 ms so tests stay fast. */
let delays: number[];

function startWatch(staleAfterMs = 60_000): ClusterWatch {
  watch = new ClusterWatch({
    kubeConfig: kubeConfigFor(api.url),
    index: () => index,
    staleAfterMs,
    registry,
    now: () => clock,
    delay: async (ms) => {
      delays.push(ms);
      await new Promise((resolve) => setTimeout(resolve, 5));
    },
  });
  watch.start();
  return watch;
}

beforeEach(async () => {
  api = new FakeApiServer();
  await api.start();
  index = new ClusterIndex(DEFAULT_POLICY);
  registry = new Registry();
  clock = 1_000_000;
  delays = [];
  api.create('namespaces', namespace('team-a', 'a'));
  api.create('nodes', node('n1', { team: 'a' }));
  api.create('nodes', node('n2'));
  api.create('pods', pod('team-a', 'db-0', { node: 'n1', sysctls: DB }));
});

afterEach(async () => {
  await watch?.stop();
  watch = undefined;
  await api.stop();
});

const podOn = (ns: string, name: string) => index.pod(ns, name)?.nodeName;

describe('ClusterWatch', () => {
  it('is not ready before the initial lists, then holds the cluster', async () => {
    const w = startWatch();
    expect(w.check()).toMatchObject({ ready: false });
    await waitFor(() => w.check().ready, 'ready');
    expect(index.stats).toMatchObject({ namespaces: 1, nodes: 2, pods: 1 });
    expect(index.teamOfNamespace('team-a')).toBe('a');
    expect(index.node('n1')?.occupants).toBe(1);
  });

  it('applies added, modified and deleted objects as they happen', async () => {
    const w = startWatch();
    await waitFor(() => w.check().ready, 'ready');
    api.create('pods', pod('team-a', 'web', { node: 'n2' }));
    await waitFor(() => podOn('team-a', 'web') === 'n2', 'pod added');
    api.update('pods', pod('team-a', 'web', { node: 'n2', phase: 'Succeeded' }));
    await waitFor(() => index.node('n2')?.occupants === 0, 'pod finished');
    api.remove('pods', 'team-a', 'web');
    await waitFor(() => index.pod('team-a', 'web') === undefined, 'pod deleted');
    api.update('nodes', node('n2', { team: 'a' }));
    await waitFor(() => index.node('n2')?.projection?.team === 'a', 'node relabelled');
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/sysctl_extender_watch_events_total\{kind="pods",type="MODIFIED"\} [1-9]/);
    expect(metrics).toMatch(/sysctl_extender_watch_events_total\{kind="pods",type="DELETED"\} 1/);
  });

  it('resumes a dropped watch from its resourceVersion, without relisting', async () => {
    const w = startWatch();
    await waitFor(() => w.check().ready && api.openWatchCount('pods') === 1, 'watching');
    const lists = api.listRequests('pods');
    const watches = api.watchRequests('pods');
    api.disconnectWatches();
    api.create('pods', pod('team-a', 'after-drop', { node: 'n2' }));
    await waitFor(() => podOn('team-a', 'after-drop') === 'n2', 'event after reconnect');
    expect(api.watchRequests('pods')).toBeGreaterThan(watches);
    expect(api.listRequests('pods')).toBe(lists);
    expect(delays.length).toBeGreaterThan(0);
  });

  it.each(['event', 'http'] as const)('relists after 410 Gone (%s) and drops what was deleted meanwhile', async (mode) => {
    api.setExpiredWatchResponse(mode);
    const w = startWatch();
    await waitFor(() => w.check().ready && api.openWatchCount() === 3, 'watching');
    const lists = api.listRequests('pods');
    api.pause();
    api.remove('pods', 'team-a', 'db-0');
    api.remove('nodes', undefined, 'n2');
    api.create('pods', pod('team-a', 'new', { node: 'n1' }));
    api.compactHistory();
    api.resume();
    // Each kind relists on its own schedule: wait for both.
    await waitFor(() => index.pod('team-a', 'db-0') === undefined && podOn('team-a', 'new') === 'n1' && index.node('n2') === undefined, 'relisted state');
    expect(index.node('n1')).toMatchObject({ occupants: 1, profileId: 0 });
    expect(api.listRequests('pods')).toBeGreaterThan(lists);
    expect(await registry.metrics()).toMatch(/sysctl_extender_watch_relists_total\{kind="pods"\} [2-9]/);
  });

  it('backs off 1 s, 2 s, 4 s … while the API server is down, and reports staleness', async () => {
    const w = startWatch(30_000);
    await waitFor(() => w.check().ready && api.openWatchCount() === 3, 'watching');
    api.pause();
    await waitFor(() => delays.length >= 12, 'four failed reconnects per kind');
    // Three reflectors back off independently: each sees 1 s, 2 s, 4 s, 8 s (+ up to 10% jitter).
    const sorted = [...delays].sort((a, b) => a - b).slice(0, 12);
    for (const [i, base] of [1000, 1000, 1000, 2000, 2000, 2000, 4000, 4000, 4000, 8000, 8000, 8000].entries()) {
      expect(sorted[i]).toBeGreaterThanOrEqual(base);
      expect(sorted[i]).toBeLessThanOrEqual(base * 1.1);
    }
    expect(w.check().ready).toBe(true); // within the bound
    clock += 31_000;
    expect(w.check()).toMatchObject({ ready: false, reason: expect.stringMatching(/^watch of \w+ down for 31s/) });
    api.resume();
    await waitFor(() => api.openWatchCount() === 3, 'reconnected');
    await waitFor(() => w.check().ready, 'ready again');
  });

  it('copes with an API server slow to answer', async () => {
    api.setLatency(300);
    const w = startWatch();
    expect(w.check().ready).toBe(false);
    await waitFor(() => w.check().ready, 'ready despite latency');
    api.create('pods', pod('team-a', 'slow', { node: 'n2' }));
    await waitFor(() => podOn('team-a', 'slow') === 'n2', 'event through a slow server');
    expect(delays).toEqual([]); // slowness is not failure: no backoff
  });

  it('stops at once even while the API server has not answered yet', async () => {
    const w = startWatch();
    await waitFor(() => w.check().ready && api.openWatchCount() === 3, 'watching');
    api.setLatency(10_000);
    api.disconnectWatches(); // each reflector backs off once, then its reconnect hangs
    await waitFor(() => delays.length >= 3, 'reconnects in flight');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await w.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    watch = undefined;
  });

  it('is not ready, and keeps retrying, while the API server is unreachable at start', async () => {
    api.pause();
    const w = startWatch();
    await waitFor(() => delays.length >= 3, 'retries');
    expect(w.check()).toMatchObject({ ready: false, reason: expect.stringMatching(/initial list of \w+ not complete/) });
    api.resume();
    await waitFor(() => w.check().ready, 'ready after the API server came back', 10_000);
    expect(index.stats.pods).toBe(1);
  });
});
