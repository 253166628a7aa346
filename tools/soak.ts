/**
 * Soak: mixed filter, prioritize and bind load on the real extender (its own process, watching
 * the in-process fake API server) while the fake churns pods and nodes. Reports errors, p99
 * drift and resident memory at start and end; exits non-zero on an error, a p99 that more than
 * doubles, or memory that keeps growing.
 *
 *   npm run soak                      # 10 minutes
 *   npm run soak -- --duration 60     # seconds (SOAK_SECONDS too); the result goes to tools/results/soak.json
 *
 * Traffic goes to 127.0.0.1 only; every loop is bounded by the duration.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { FakeApiServer } from '../support/fake-api-server.js';
import { Prng } from '../support/prng.js';
import { bounded } from '../bench/cli-args.js';
import { deploymentNodeOptions } from '../support/deployment-node-options.js';
import { procCpuTicks } from '../bench/proc-status.js';
import { EXTENDER_MAIN, RESULTS_DIR } from './paths.js';
const DURATION_S = bounded(argument('--duration') ?? process.env.SOAK_SECONDS ?? '600', 10, 24 * 3600);
const WINDOW_S = Math.max(5, Math.min(60, DURATION_S / 10));
const NODES = 200;
const LIVE_PODS = 2000;
const HISTORY_SIZE = 50_000;
/** Linux's USER_HZ: /proc/PID/stat counts CPU time in hundredths of a second. */
const CLOCK_TICK_MS = 10;
const TEAMS = ['a', 'b', 'c'];
const PROFILES: Array<Array<{ name: string; value: string }>> = [
  [],
  [{ name: 'kernel.shmmax', value: '68719476736' }, { name: 'kernel.sem', value: '250 32000 100 128' }],
  [{ name: 'kernel.shmmax', value: '17179869184' }],
  [{ name: 'net.core.somaxconn', value: '4096' }],
];

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Seeded, so that two soaks churn alike. */
const rng = new Prng(42);
const random = (): number => rng.next();
/** Undefined from an empty list (the caller then makes a pod). */
const pick = <T>(items: readonly T[]): T => items[rng.int(items.length)]!;

/**
 * One window of the soak. The extender figures and the soak figures (this process: load
 * generator, fake API server and its event history) tell apart which side slows down.
 */
interface Window {
  at: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  rssMb: number;
  /** Extender: CPU time (user + system, all threads) per request, in microseconds. */
  extCpuUsPerReq: number;
  /** Extender: mean request duration by its own /metrics histogram, in milliseconds. */
  extServerMs: number;
  /** Soak process: CPU time (user + system, all threads) per request, in microseconds. */
  soakCpuUsPerReq: number;
  /** Soak process: event-loop utilisation over the window, 0-1. */
  soakElu: number;
  /** Soak process: time spent in garbage collection pauses over the window, in milliseconds. */
  soakGcMs: number;
  /** Soak process: V8 heap in use at the window's end, in MB. */
  soakHeapMb: number;
  /** Fake API server: change events held for watch resumption (every change bumps the RV once). */
  historyEvents: number;
}

/** Sum and count of the extender's request-duration histogram over the scheduler verbs, from /metrics. */
async function serverDurations(extender: string): Promise<{ sum: number; count: number }> {
  const totals = { sum: 0, count: 0 };
  try {
    const text = await (await fetch(`${extender}/metrics`)).text();
    for (const match of text.matchAll(/^sysctl_extender_request_duration_seconds_(sum|count)\{[^}]*verb="(?:filter|prioritize|bind)"[^}]*\} (\S+)$/gm)) totals[match[1] as 'sum' | 'count'] += Number(match[2]);
  } catch {
    // A missing figure, not a soak failure.
  }
  return totals;
}

async function main(): Promise<void> {
  const api = new FakeApiServer({ historySize: HISTORY_SIZE });
  const { url } = await api.start();
  for (const team of TEAMS) api.create('namespaces', { metadata: { name: `team-${team}`, labels: { 'sysctl-extender.io/team': team } } });
  api.create('namespaces', { metadata: { name: 'shared-ns' } });
  const nodeName = (i: number) => `node-${i}`;
  const nodeObject = (i: number, generation = 0) => ({
    metadata: {
      name: nodeName(i),
      labels: i % 4 === 3 ? {} : { 'sysctl-extender.io/team': TEAMS[i % 3]! },
      annotations: { 'sysctl-extender.io/allowed-unsafe-sysctls': 'kernel.shm*,kernel.sem,net.*', generation: String(generation) },
    },
  });
  for (let i = 0; i < NODES; i += 1) api.create('nodes', nodeObject(i));
  let podSerial = 0;
  const livePods: Array<{ ns: string; name: string }> = [];
  const newPod = (bound: boolean) => {
    const ns = pick(['team-a', 'team-b', 'team-c', 'shared-ns']);
    const name = `p-${podSerial++}`;
    const sysctls = pick(PROFILES);
    api.create('pods', {
      metadata: { name, namespace: ns },
      spec: { containers: [{ name: 'c', image: 'pause' }], securityContext: { sysctls }, ...(bound ? { nodeName: nodeName(Math.floor(random() * NODES)) } : {}) },
      status: { phase: bound ? 'Running' : 'Pending' },
    });
    livePods.push({ ns, name });
    return { ns, name };
  };
  for (let i = 0; i < LIVE_PODS; i += 1) newPod(false);

  const dir = mkdtempSync(join(tmpdir(), 'soak-'));
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: fake, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: soak}}]\ncontexts: [{name: fake, context: {cluster: fake, user: u}}]\ncurrent-context: fake\n`,
  );
  // The Deployment's Node options, heap limit included: the soak is the extender as it ships.
  const child = spawn(process.execPath, [...deploymentNodeOptions(), EXTENDER_MAIN, '--kubeconfig', kubeconfig, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'info' } });
  const extender = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => {
      seen += d;
      const match = /"url":"(http:\/\/[^"]+)"/.exec(seen);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`extender exited with ${code}`)));
  });
  for (let i = 0; i < 600; i += 1) {
    if ((await fetch(`${extender}/readyz`)).ok) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // Churn: pods come and go, nodes are relabelled, as in a busy cluster.
  let churned = 0;
  const churn = setInterval(() => {
    for (let k = 0; k < 10; k += 1) {
      if (livePods.length > LIVE_PODS && random() < 0.6) {
        const gone = livePods.splice(Math.floor(random() * livePods.length), 1)[0]!;
        if (api.get('pods', gone.ns, gone.name)) api.remove('pods', gone.ns, gone.name);
      } else newPod(random() < 0.5);
      churned += 1;
    }
    const i = Math.floor(random() * NODES);
    api.update('nodes', nodeObject(i, churned));
  }, 50);

  const names = Array.from({ length: NODES }, (_, i) => nodeName(i));
  const windows: Window[] = [];
  const errors: string[] = [];
  const started = Date.now();
  let latencies: number[] = [];
  let windowErrors = 0;
  let windowStart = Date.now();
  let total = 0;
  /** The extender's resident memory, in MB, from the kernel's view of its process. */
  const rss = (): number => {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    } catch {
      return 0;
    }
  };
  let gcMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  /** Cumulative figures at the start of the window, to take differences from. */
  const mark = async () => ({
    extCpuMs: procCpuTicks(child.pid!) * CLOCK_TICK_MS,
    server: await serverDurations(extender),
    cpu: process.cpuUsage(),
    elu: performance.eventLoopUtilization(),
    gcMs,
  });
  let since = await mark();
  while (Date.now() - started < DURATION_S * 1000) {
    const target = pick(livePods.filter((_, i) => i % 7 === 0).slice(-50)) ?? newPod(false);
    const pod = api.get('pods', target.ns, target.name);
    if (!pod) continue;
    const verbRoll = random();
    const verb = verbRoll < 0.6 ? 'filter' : verbRoll < 0.9 ? 'prioritize' : 'bind';
    const t0 = performance.now();
    try {
      let body: unknown;
      if (verb === 'bind') {
        const filtered = (await (await fetch(`${extender}/filter`, { method: 'POST', body: JSON.stringify({ Pod: pod, NodeNames: names }) })).json()) as { NodeNames?: string[] };
        const node = filtered.NodeNames?.[0];
        if (!node) continue;
        body = { PodName: target.name, PodNamespace: target.ns, PodUID: pod.metadata.uid, Node: node };
      } else body = { Pod: pod, Nodes: null, NodeNames: names };
      const res = await fetch(`${extender}/${verb}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
      const answer = (await res.json()) as { Error?: string };
      latencies.push(performance.now() - t0);
      // A refused bind is the extender doing its job (the pod moved, or the churn deleted it,
      // meanwhile); anything else is an error.
      const bindError = verb === 'bind' && answer.Error && !/^binding refused|already (being )?bound|binding through the API failed: HTTP (409|404)/.test(answer.Error);
      if (res.status !== 200 || bindError) {
        windowErrors += 1;
        if (errors.length < 20) errors.push(`${verb} ${res.status} ${answer.Error ?? ''}`);
      }
    } catch (err) {
      windowErrors += 1;
      if (errors.length < 20) errors.push(`${verb}: ${(err as Error).message}`);
    }
    total += 1;
    if (Date.now() - windowStart >= WINDOW_S * 1000) {
      latencies.sort((a, b) => a - b);
      const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
      const requests = latencies.length;
      const now = await mark();
      windows.push({
        at: Math.round((Date.now() - started) / 1000),
        requests,
        errors: windowErrors,
        p50: q(0.5),
        p99: q(0.99),
        rssMb: rss(),
        extCpuUsPerReq: ((now.extCpuMs - since.extCpuMs) * 1000) / requests,
        extServerMs: ((now.server.sum - since.server.sum) * 1000) / (now.server.count - since.server.count),
        soakCpuUsPerReq: (now.cpu.user + now.cpu.system - since.cpu.user - since.cpu.system) / requests,
        soakElu: performance.eventLoopUtilization(now.elu, since.elu).utilization,
        soakGcMs: now.gcMs - since.gcMs,
        soakHeapMb: process.memoryUsage().heapUsed / 2 ** 20,
        historyEvents: Math.min(Number(api.resourceVersion), HISTORY_SIZE),
      });
      console.log(JSON.stringify(windows.at(-1), (_key, value: unknown) => (typeof value === 'number' && !Number.isInteger(value) ? Number(value.toFixed(3)) : value)));
      since = now;
      latencies = [];
      windowErrors = 0;
      windowStart = Date.now();
    }
  }
  clearInterval(churn);
  gcObserver.disconnect();
  child.kill('SIGTERM');
  await api.stop();

  // Medians of the first and last three windows: one noisy window on a shared machine is not drift.
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const edge = (ws: Window[]) => ({
    p99: median(ws.map((w) => w.p99)),
    rssMb: median(ws.map((w) => w.rssMb)),
    extCpuUsPerReq: median(ws.map((w) => w.extCpuUsPerReq)),
    soakCpuUsPerReq: median(ws.map((w) => w.soakCpuUsPerReq)),
  });
  const first = edge(windows.slice(0, 3));
  const last = edge(windows.slice(-3));
  const totalErrors = windows.reduce((sum, w) => sum + w.errors, 0);
  const summary = {
    durationSeconds: DURATION_S,
    requests: total,
    churnedPods: churned,
    errors: totalErrors,
    firstErrors: errors,
    p99: { startMs: first.p99, endMs: last.p99, ratio: last.p99 / first.p99, basis: 'median of the first and of the last three windows' },
    rssMb: { start: first.rssMb, end: last.rssMb, max: Math.max(...windows.map((w) => w.rssMb)) },
    cpuUsPerRequest: {
      extender: { start: first.extCpuUsPerReq, end: last.extCpuUsPerReq },
      soak: { start: first.soakCpuUsPerReq, end: last.soakCpuUsPerReq },
      basis: 'median of the first and of the last three windows; soak = load generator + fake API server, one process',
    },
    windows,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'soak.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    `soak ${DURATION_S}s: ${total} requests, ${churned} pod changes, ${totalErrors} errors; p99 ${first.p99.toFixed(2)} -> ${last.p99.toFixed(2)} ms; RSS ${first.rssMb.toFixed(0)} -> ${last.rssMb.toFixed(0)} MB (max ${summary.rssMb.max.toFixed(0)}); ` +
      `CPU per request: extender ${first.extCpuUsPerReq.toFixed(0)} -> ${last.extCpuUsPerReq.toFixed(0)} us, soak ${first.soakCpuUsPerReq.toFixed(0)} -> ${last.soakCpuUsPerReq.toFixed(0)} us`,
  );
  const failed = totalErrors > 0 || summary.p99.ratio > 2 || last.rssMb - first.rssMb > 150;
  process.exit(failed ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
