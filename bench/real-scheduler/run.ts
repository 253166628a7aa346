/**
 * Scheduling throughput under the real kube-scheduler v1.26 (npm run bench:scheduler):
 * kube-scheduler alone, with the minimal extender (minimal-extender.ts: the same three round
 * trips, the least work) and with this extender, alternated in one run (A B C A B C …), at
 * 40 nodes / 300 pods and 500 nodes / 1,000 pods. The pods exist before kube-scheduler
 * starts; throughput runs from the first bind to the last, as the API server's watch shows
 * them. Results: bench/results/real-scheduler.{json,md}.
 *
 *   KUBE_ASSETS=DIR npm run bench:scheduler -- [--rounds N] [--sizes 40x300,500x1000]
 *                                              [--before DIR]   (a checkout whose dist/ is built)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ControlPlane, findKubeAssets, probe, waitUntil, type Proc } from '../../support/real-cluster/control-plane.js';
import { createNamespaces, createNodes, createPods, deleteAllPods, listPods, nodeLayout, podBurst } from '../../support/real-cluster/cluster-objects.js';
import { violations } from '../../support/real-cluster/invariants.js';
import { schedulerConfig } from '../../support/real-cluster/scheduler-config.js';
import { apiLatency, type LatencyFigures } from './api-latency.js';

interface Variant {
  readonly name: string;
  readonly description: string;
  /** Starts the extender; undefined: kube-scheduler alone. */
  readonly start?: (plane: ControlPlane) => Promise<{ proc: Proc; url: string }>;
}

interface RunResult {
  readonly variant: string;
  readonly round: number;
  readonly podsPerSecond: number;
  /** From kube-scheduler's start to the last bind. */
  readonly totalSeconds: number;
  readonly violations: number;
  /** The extender's own mean time per call, from its /metrics (ms). */
  readonly verbMs?: Record<string, number>;
  /** CPU milliseconds per pod placed, by component, from kube-scheduler's start to the last bind (Linux only). */
  readonly cpuMsPerPod?: CpuPerPod;
}

/** Where the machine's CPU went per pod: throughput alone cannot tell a slower extender from one that makes the others work more. */
interface CpuPerPod {
  readonly scheduler: number;
  readonly apiserver: number;
  readonly etcd: number;
  readonly extender?: number;
}

const COMPONENTS = ['scheduler', 'apiserver', 'etcd', 'extender'] as const;

function cpuNow(plane: ControlPlane, scheduler: Proc | undefined, extender: Proc | undefined): Record<(typeof COMPONENTS)[number], number | undefined> {
  return { ...plane.cpuSeconds(), scheduler: scheduler?.cpuSeconds(), extender: extender?.cpuSeconds() };
}

function cpuPerPod(before: ReturnType<typeof cpuNow>, after: ReturnType<typeof cpuNow>, pods: number): CpuPerPod | undefined {
  const per = (k: (typeof COMPONENTS)[number]) => {
    const end = after[k];
    if (end === undefined) return undefined;
    return Math.round(((end - (before[k] ?? 0)) / pods) * 1e4) / 10;
  };
  const [scheduler, apiserver, etcd, extender] = COMPONENTS.map(per);
  if (scheduler === undefined || apiserver === undefined || etcd === undefined) return undefined;
  return { scheduler, apiserver, etcd, ...(extender === undefined ? {} : { extender }) };
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const ROOT = process.cwd();
const LOAD_AT_START = os.loadavg().map((x) => Math.round(x * 100) / 100);
const rounds = Number(option('rounds') ?? 3);
const sizes = (option('sizes') ?? '40x300,500x1000').split(',').map((s) => {
  const [nodes, pods] = s.split('x').map(Number);
  if (!nodes || !pods) throw new Error(`--sizes: "${s}" is not NODESxPODS`);
  return { nodes, pods };
});
const before = option('before');
const minimalScript = path.join(path.dirname(new URL(import.meta.url).pathname), 'minimal-extender.js');
// BENCH_PROFILE_DIR=DIR writes a CPU profile of each extender process there (bench/.build/bench/profile-summary.js reads them).
const NODE_OPTIONS = ['--max-semi-space-size=4', ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [])];

async function startExtender(plane: ControlPlane, script: string, name: string): Promise<{ proc: Proc; url: string }> {
  const started = await plane.startServer(name, script, [], NODE_OPTIONS);
  await waitUntil(async () => (await probe(`${started.url}/readyz`)) === 200, `${name} ready`, 120_000);
  return started;
}

const variants: Variant[] = [
  { name: 'scheduler-alone', description: 'kube-scheduler, no extender' },
  { name: 'minimal-extender', description: 'filter passes every node, prioritize scores 0, bind POSTs the Binding (keep-alive)', start: (plane) => plane.startServer('minimal-extender', minimalScript, [], NODE_OPTIONS) },
  { name: 'sysctl-extender', description: 'this extender (dist/main.js)', start: (plane) => startExtender(plane, path.join(ROOT, 'dist/main.js'), 'sysctl-extender') },
];
if (before) variants.push({ name: 'sysctl-extender-before', description: `this extender as built in ${before}`, start: (plane) => startExtender(plane, path.join(before, 'dist/main.js'), 'sysctl-extender-before') });

async function verbMeans(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sums = new Map<string, [number, number]>();
  for (const line of text.split('\n')) {
    const m = /^sysctl_extender_request_duration_seconds_(sum|count)\{verb="(\w+)",code="200"\} (\S+)/.exec(line);
    if (!m) continue;
    const entry = sums.get(m[2]!) ?? [0, 0];
    entry[m[1] === 'sum' ? 0 : 1] += Number(m[3]);
    sums.set(m[2]!, entry);
  }
  return Object.fromEntries([...sums].filter(([verb, [, n]]) => verb !== 'other' && n > 0).map(([verb, [sum, n]]) => [verb, Math.round((sum / n) * 1e5) / 100]));
}

async function runOnce(plane: ControlPlane, variant: Variant, round: number, podCount: number): Promise<RunResult> {
  await deleteAllPods(plane.api);
  await waitUntil(async () => (await listPods(plane.api)).items.length === 0, 'pods deleted', 120_000, 200);
  const extender = variant.start ? await variant.start(plane) : undefined;
  const pods = podBurst(podCount, `r${round}`);
  await createPods(plane.api, pods);
  const { metadata } = await listPods(plane.api);

  const boundAt = new Map<string, number>();
  const stopWatch = plane.watch(`/api/v1/pods?watch=1&resourceVersion=${metadata.resourceVersion}`, (event) => {
    const uid = event.object?.metadata?.uid as string | undefined;
    if (uid && event.object.spec?.nodeName && !boundAt.has(uid)) boundAt.set(uid, performance.now());
  });
  const started = performance.now();
  // kube-scheduler's CPU counts from its own start (before: undefined, taken as 0).
  const cpuBefore = cpuNow(plane, undefined, extender?.proc);
  const scheduler = await plane.startScheduler(schedulerConfig(extender?.url, ROOT), `kube-scheduler-${variant.name}`);
  let cpuAfter: ReturnType<typeof cpuNow>;
  try {
    await waitUntil(() => boundAt.size >= podCount, `${podCount} binds (${variant.name})`, 600_000, 20);
    cpuAfter = cpuNow(plane, scheduler, extender?.proc);
  } finally {
    stopWatch();
    await scheduler.stop();
  }
  const times = [...boundAt.values()].sort((a, b) => a - b);
  const first = times[0]!;
  const last = times[times.length - 1]!;
  const verbMs = extender && variant.name.startsWith('sysctl') ? await verbMeans(extender.url) : undefined;
  await extender?.proc.stop();
  const state = await listPods(plane.api);
  const nodes = (await plane.api.request<{ items: any[] }>('GET', '/api/v1/nodes')).items;
  const namespaces = (await plane.api.request<{ items: any[] }>('GET', '/api/v1/namespaces')).items;
  return {
    variant: variant.name,
    round,
    podsPerSecond: Math.round(((podCount - 1) / ((last - first) / 1000)) * 10) / 10,
    totalSeconds: Math.round((last - started) / 100) / 10,
    violations: violations(state.items, nodes, namespaces).length,
    verbMs,
    cpuMsPerPod: cpuPerPod(cpuBefore, cpuAfter, podCount),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const found = findKubeAssets();
  if ('missing' in found) {
    process.stderr.write(`bench:scheduler needs the Kubernetes binaries: ${found.missing}\n`);
    process.exit(2);
  }
  const report: Array<{ nodes: number; pods: number; runs: RunResult[]; medians: Record<string, number>; ratios: Record<string, number> }> = [];
  let latency: LatencyFigures[] = [];
  for (const size of sizes) {
    const plane = await ControlPlane.start({ assets: found.assets });
    const runs: RunResult[] = [];
    try {
      if (latency.length === 0) {
        latency = await apiLatency(plane);
        for (const l of latency) process.stdout.write(`GET through ${l.client}: ${l.sequentialMedianMs} ms in sequence (median), ${l.parallel50Ms} ms for 50 at once\n`);
      }
      await createNamespaces(plane.api);
      await createNodes(plane.api, nodeLayout(size.nodes));
      for (let round = 1; round <= rounds; round++) {
        for (const variant of variants) {
          const result = await runOnce(plane, variant, round, size.pods);
          runs.push(result);
          process.stdout.write(`${size.nodes} nodes / ${size.pods} pods, round ${round}, ${variant.name}: ${result.podsPerSecond} pods/s, ${result.violations} violations${result.verbMs ? `, ms per call ${JSON.stringify(result.verbMs)}` : ''}${result.cpuMsPerPod ? `, CPU ms per pod ${JSON.stringify(result.cpuMsPerPod)}` : ''}\n`);
        }
      }
    } finally {
      await plane.stop();
    }
    const medians = Object.fromEntries(variants.map((v) => [v.name, median(runs.filter((r) => r.variant === v.name).map((r) => r.podsPerSecond))]));
    // Per round, each extender against the minimal one run beside it; then the median.
    const ratioOf = (name: string, base: string) => round2(median(Array.from({ length: rounds }, (_, i) => {
      const of = (n: string) => runs.find((r) => r.variant === n && r.round === i + 1)!.podsPerSecond;
      return of(name) / of(base);
    })));
    const ratios: Record<string, number> = {
      'sysctl-extender / minimal-extender': ratioOf('sysctl-extender', 'minimal-extender'),
      'sysctl-extender / scheduler-alone': ratioOf('sysctl-extender', 'scheduler-alone'),
      'minimal-extender / scheduler-alone': ratioOf('minimal-extender', 'scheduler-alone'),
    };
    if (before) ratios['sysctl-extender-before / minimal-extender'] = ratioOf('sysctl-extender-before', 'minimal-extender');
    report.push({ nodes: size.nodes, pods: size.pods, runs, medians, ratios });
  }
  writeResults(report, latency);
}

function writeResults(report: Array<{ nodes: number; pods: number; runs: RunResult[]; medians: Record<string, number>; ratios: Record<string, number> }>, latency: LatencyFigures[]): void {
  const dir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, date: new Date().toISOString(), loadAverageAtStart: LOAD_AT_START, loadAverageAtEnd: os.loadavg().map((x) => round2(x)) };
  fs.writeFileSync(path.join(dir, 'real-scheduler.json'), `${JSON.stringify({ machine, rounds, apiLatency: latency, variants: variants.map(({ name, description }) => ({ name, description })), sizes: report }, null, 2)}\n`);
  const lines = [
    '# Under the real kube-scheduler',
    '',
    `kube-scheduler v1.26.0 and kube-apiserver v1.26.0 on loopback (etcd 3.4), ${machine.cpus} cores (${machine.cpuModel}), Node ${machine.node}, ${machine.date}; load average ${machine.loadAverageAtStart.join(' ')} at the start, ${machine.loadAverageAtEnd.join(' ')} at the end.`,
    `Pods created before kube-scheduler starts; throughput from the first bind to the last (the API server's watch). ${rounds} rounds, variants alternated within each round. \`npm run bench:scheduler\`.`,
    '',
    ...variants.map((v) => `- **${v.name}**: ${v.description}`),
    '',
    '## GET latency against the same kube-apiserver',
    '',
    '| client | in sequence, median (ms) | 50 at once, wall (ms) |',
    '|---|---:|---:|',
    ...latency.map((l) => `| ${l.client} | ${l.sequentialMedianMs} | ${l.parallel50Ms} |`),
    '',
  ];
  for (const size of report) {
    lines.push(`## ${size.nodes} nodes, ${size.pods} pods`, '', '| variant | median pods/s | runs (pods/s) | invariant violations (only the sysctl-extender applies the rules) |', '|---|---:|---|---:|');
    for (const v of variants) {
      const runs = size.runs.filter((r) => r.variant === v.name);
      lines.push(`| ${v.name} | ${size.medians[v.name]} | ${runs.map((r) => r.podsPerSecond).join(', ')} | ${runs.reduce((n, r) => n + r.violations, 0)} |`);
    }
    lines.push('', '| ratio (median of per-round ratios) | value |', '|---|---:|', ...Object.entries(size.ratios).map(([k, v]) => `| ${k} | ${v} |`), '');
    const cpu = size.runs.filter((r) => r.cpuMsPerPod);
    if (cpu.length) {
      lines.push(
        'CPU per pod placed (ms, user + system from /proc, from kube-scheduler\'s start to the last bind):',
        '',
        '| variant | round | kube-scheduler | kube-apiserver | etcd | extender | total |',
        '|---|---:|---:|---:|---:|---:|---:|',
      );
      for (const r of cpu) {
        const c = r.cpuMsPerPod!;
        const total = Math.round((c.scheduler + c.apiserver + c.etcd + (c.extender ?? 0)) * 10) / 10;
        lines.push(`| ${r.variant} | ${r.round} | ${c.scheduler} | ${c.apiserver} | ${c.etcd} | ${c.extender ?? '-'} | ${total} |`);
      }
      lines.push('');
    }
    const verb = size.runs.filter((r) => r.verbMs);
    if (verb.length) {
      lines.push('The extenders\' own mean time per call (ms, from their /metrics):', '', '| variant | round | filter | prioritize | bind |', '|---|---:|---:|---:|---:|');
      for (const r of verb) lines.push(`| ${r.variant} | ${r.round} | ${r.verbMs!.filter ?? ''} | ${r.verbMs!.prioritize ?? ''} | ${r.verbMs!.bind ?? ''} |`);
      lines.push('');
    }
  }
  fs.writeFileSync(path.join(dir, 'real-scheduler.md'), `${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
