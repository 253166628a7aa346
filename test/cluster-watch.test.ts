import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterWatch } from '../src/cluster/cluster-watch.js';
import { WatchMetrics } from '../src/cluster/watch-metrics.js';
import { WatchSource } from '../src/cluster/index-source.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { ClusterIndex } from '../src/sysctl-index/cluster-index.js';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { FakeApiServer, kubeConfigFor } from '../support/fake-api-server.js';
import { DB, daemonSet, namespace, node, pod } from './support/objects.js';
import { waitFor } from './support/wait.js';

let api: FakeApiServer;
let watch: ClusterWatch | undefined;
let index: ClusterIndex;
let registry: Registry;
let clock: number;
/** Backoff delays the reflectors asked for; each waits only 5 ms so tests stay fast. */
let delays: number[];

function startWatch(staleAfterMs = 60_000, logger?: Logger): ClusterWatch {
  watch = new ClusterWatch({
    kubeConfig: kubeConfigFor(api.url),
    index: () => index,
    staleAfterMs,
    metrics: new WatchMetrics(registry, () => watch?.reflectorsByKind() ?? []),
    logger,
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

const KINDS = ['namespaces', 'nodes', 'pods', 'daemonsets'] as const;

/** sysctl_extender_watch_failed_attempts_total of one kind. */
async function failedAttempts(kind: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'sysctl_extender_watch_failed_attempts_total');
  return (metric?.values.find((v) => v.labels.kind === kind)?.value as number | undefined) ?? 0;
}

async function fewestFailedAttempts(): Promise<number> {
  return Math.min(...(await Promise.all(KINDS.map(failedAttempts))));
}

interface LogLine {
  level: number;
  msg: string;
  kind?: string;
  attempt?: number;
  suppressed?: number;
  failedAttempts?: number;
}

function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) }) };
}

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

  it('counts a pod as a DaemonSet pod only while the watch shows its DaemonSet, and re-evaluates the node', async () => {
    api.create('pods', pod('kube-system', 'exporter-n2', { node: 'n2', daemonSet: 'exporter' }));
    const w = startWatch();
    await waitFor(() => w.check().ready, 'ready');
    // The claimed owner has not been shown: the pod counts, n2 is busy.
    expect(index.node('n2')?.occupants).toBe(1);
    // Same name, another UID: proves nothing.
    api.create('daemonsets', daemonSet('kube-system', 'exporter', 'uid-of-another-exporter'));
    await waitFor(() => index.daemonSetRefs().length === 1, 'DaemonSet seen');
    expect(index.node('n2')?.occupants).toBe(1);
    api.remove('daemonsets', 'kube-system', 'exporter');
    api.create('daemonsets', daemonSet('kube-system', 'exporter'));
    await waitFor(() => index.node('n2')?.occupants === 0, 'n2 idle once the DaemonSet is seen');
    api.remove('daemonsets', 'kube-system', 'exporter');
    await waitFor(() => index.node('n2')?.occupants === 1, 'n2 busy again once the DaemonSet is gone');
    expect(api.watchRequests('daemonsets')).toBeGreaterThan(0);
  });

  it('backs off 1 s, 2 s, 4 s … while the API server is down, and reports staleness', async () => {
    const w = startWatch(30_000);
    await waitFor(() => w.check().ready && api.openWatchCount() === KINDS.length, 'watching');
    api.pause();
    await waitFor(() => delays.length >= 4 * KINDS.length, 'four failed reconnects per kind');
    // One reflector per kind, each backing off on its own: 1 s, 2 s, 4 s, 8 s (+ up to 10% jitter).
    const sorted = [...delays].sort((a, b) => a - b).slice(0, 4 * KINDS.length);
    for (const [i, base] of [1000, 2000, 4000, 8000].flatMap((d) => KINDS.map(() => d)).entries()) {
      expect(sorted[i]).toBeGreaterThanOrEqual(base);
      expect(sorted[i]).toBeLessThanOrEqual(base * 1.1);
    }
    expect(w.check().ready).toBe(true); // within the bound
    clock += 31_000;
    expect(w.check()).toMatchObject({ ready: false, reason: expect.stringMatching(/^watch of \w+ unhealthy for 31\.0s, since /) });
    api.resume();
    await waitFor(() => api.openWatchCount() === KINDS.length, 'reconnected');
    await waitFor(() => w.check().ready, 'ready again');
  });

  it('is unready staleAfter after the last healthy moment while reconnects are refused, logs them rate-limited, and recovers', async () => {
    const { logger, lines } = capturingLogger();
    const w = startWatch(5_000, logger);
    await waitFor(() => w.check().ready && api.openWatchCount() === KINDS.length, 'watching');
    const lastHealthy = clock;
    await api.stop(); // the listener closes: every reconnect is refused (ECONNREFUSED)
    await waitFor(async () => (await fewestFailedAttempts()) >= 2, 'two refused reconnects per kind');
    clock = lastHealthy + 5_000;
    expect(w.check()).toEqual({ ready: true }); // at the bound, not past it
    clock = lastHealthy + 5_001;
    const since = new Date(lastHealthy).toISOString().replace(/[.]/g, '\\.');
    const unready = new RegExp(`^watch of (namespaces|nodes|pods) unhealthy for 5\\.0s, since ${since} \\(.*ECONNREFUSED`);
    expect(w.check()).toMatchObject({ ready: false, reason: expect.stringMatching(unready) });
    // More refused reconnects do not restart the clock (they did: issue 16).
    const before = await fewestFailedAttempts();
    await waitFor(async () => (await fewestFailedAttempts()) >= before + 3, 'three more refused reconnects per kind');
    expect(w.check()).toMatchObject({ ready: false, reason: expect.stringMatching(unready) });
    // Logged: the first failure of each kind, then nothing for 30 s, then one line with the count left out.
    const warnings = (kind: string) => lines.filter((l) => l.level === 40 && l.kind === kind);
    for (const kind of KINDS) expect(warnings(kind)).toEqual([expect.objectContaining({ attempt: 1, suppressed: 0 })]);
    clock = lastHealthy + 35_000;
    expect(w.check()).toMatchObject({ ready: false, reason: expect.stringMatching(/unhealthy for 35\.0s/) });
    await waitFor(() => KINDS.every((kind) => warnings(kind).length === 2), 'a second, rate-limited line per kind');
    for (const kind of KINDS) expect(warnings(kind)[1]!.suppressed).toBeGreaterThanOrEqual(3);
    await api.start(); // same port
    await waitFor(() => w.check().ready, 'ready again once every watch is back');
    expect(api.openWatchCount()).toBe(KINDS.length);
    await waitFor(() => KINDS.every((kind) => lines.some((l) => l.kind === kind && l.level === 30 && (l.failedAttempts ?? 0) >= 6)), 'recovery logged');
  });

  it('is not ready, and keeps retrying, while the API server is unreachable at start', async () => {
    api.pause();
    const w = startWatch();
    await waitFor(() => delays.length >= 3, 'retries');
    expect(w.check()).toMatchObject({ ready: false, reason: expect.stringMatching(/initial list of \w+ not complete/) });
    api.resume();
    await waitFor(() => w.check().ready, 'ready after the API server came back');
    expect(index.stats.pods).toBe(1);
  });
});

describe('ClusterWatch over a paged list', () => {
  it("feeds the index every pod while writes race the list's pages", async () => {
    const PODS = 2_500;
    const NAMESPACES = ['ns-a', 'ns-b', 'ns-c'];
    const podNumber = (i: number) => pod(NAMESPACES[i % NAMESPACES.length]!, `p-${String(i).padStart(5, '0')}`, { node: 'n1' });
    for (let i = 0; i < PODS; i++) api.create('pods', podNumber(i));
    api.setLatency(10); // each page takes a while: the writer below gets turns between them
    const w = startWatch();
    let next = PODS;
    let writesWhileListing = 0;
    while (!w.check().ready) {
      // Net zero per turn, so the list's state always holds the same number of pods: 6 pages of 500.
      api.remove('pods', NAMESPACES[(next - PODS) % NAMESPACES.length]!, `p-${String(next - PODS).padStart(5, '0')}`);
      api.create('pods', podNumber(next++));
      writesWhileListing++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    api.setLatency(0);
    expect(writesWhileListing).toBeGreaterThan(5);
    expect(api.listRequests('pods')).toBe(6);
    const expected = new Set(api.list('pods').map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
    const indexed = () => index.podRefs().map((r) => `${r.namespace}/${r.name}`);
    await waitFor(() => indexed().length === expected.size && indexed().every((key) => expected.has(key)), 'index caught up');
    expect(index.pod('ns-a', 'p-00000')).toBeUndefined();
  });
});

describe('WatchSource', () => {
  it('registers the watch metrics once: a rebuild for new keys counts into them, and the age gauge follows the watch in service', async () => {
    const source = new WatchSource({ kubeConfig: kubeConfigFor(api.url), registry, staleAfterSeconds: 60 });
    source.start(index);
    await waitFor(() => source.check().ready, 'ready');
    const rebuilt = await source.rebuild(DEFAULT_POLICY);
    api.create('pods', pod('team-a', 'after-rebuild', { node: 'n2' }));
    await waitFor(() => rebuilt.pod('team-a', 'after-rebuild') !== undefined, 'the new watch applies events');
    await source.stop();
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/sysctl_extender_watch_relists_total\{kind="pods"\} 2/);
    expect(metrics).toMatch(/sysctl_extender_watch_events_total\{kind="pods",type="ADDED"\} [1-9]/);
    // Read from the new watch: the event came after the swap, and the old watch is stopped.
    expect(metrics).toMatch(/^sysctl_extender_watch_last_event_age_seconds\{kind="pods"\} \d/m);
  });
});
