/**
 * Turns bench results into bench/results/latest.json, latest.md and latency.svg, and checks
 * them against the quality bars of SPEC section 6 (ratios to the do-nothing server, never
 * absolute times, for latency).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { SnapshotFile, StartupFigures, WatchPathFigures } from './index-figures.js';
import type { EventRates, MemoryFigures } from './index-child.js';
import type { GroupResult } from './latency-suite.js';
import { isTargetScenario } from './scenarios.js';
import { shapeIdOf, worstPerVerb } from './shape-matrix.js';
import type { ServerKind } from './server-child.js';
import { round3 } from './stats.js';
import { latencyChart } from './svg-chart.js';
import type { PhaseTimes, VerbBreakdown } from './verb-breakdown.js';

export const SPEC_BARS = {
  throughputRatioMin: 1 / 1.5,
  latencyRatioMax: 1.5,
  eventsPerSecondMin: 100_000,
  rssMaxBytes: 500e6,
} as const;

export interface IndexResults {
  readonly snapshot: SnapshotFile;
  readonly events: EventRates;
  readonly memory: MemoryFigures;
  readonly startup: StartupFigures;
  /** The index filled through list and watch from an API server in another process. */
  readonly watch: WatchPathFigures;
}

export interface TargetCheck {
  readonly what: string;
  readonly value: number;
  readonly bar: string;
  readonly pass: boolean;
}

export interface Environment {
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly loadavgAtStart: number[];
  loadavgAtEnd?: number[];
}

export interface BenchReport {
  /** 'index': `run.js --only-index`, no latency suite; 'matrix': `run.js --only-matrix`. */
  readonly kind: 'full' | 'ci' | 'index' | 'matrix';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly environment: Environment;
  readonly settings: Record<string, unknown>;
  readonly targets: TargetCheck[];
  readonly latency: GroupResult[];
  /** The latency suite over the shape matrix (shape-matrix.ts), when run. */
  readonly matrix?: GroupResult[];
  /** In-process cost of one call by phase (the micro tier), when measured. */
  readonly breakdown: VerbBreakdown | undefined;
  readonly index: IndexResults | undefined;
}

export function environment(): Environment {
  return { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryBytes: totalmem(), loadavgAtStart: loadavg() };
}

export interface CheckOptions {
  /** CI gates at a looser ratio than the SPEC's 1.5 (machine noise). */
  readonly latencyRatioMax?: number;
  /** With one connection the throughput ratio mirrors the mean latency: CI leaves it out. */
  readonly throughput?: boolean;
}

/** SPEC section 6 bars for what was measured, plus the median latency ratio CI gates too. */
export function checkTargets(latency: readonly GroupResult[], index: IndexResults | undefined, options: CheckOptions = {}): TargetCheck[] {
  const latencyRatioMax = options.latencyRatioMax ?? SPEC_BARS.latencyRatioMax;
  const checks: TargetCheck[] = [];
  for (const group of latency) {
    const ratios = group.ratios.extender;
    if (!ratios || group.connections !== 1 || !isTargetScenario(group.scenario)) continue;
    const name = `${group.scenario.id}, 1 connection`;
    if (options.throughput ?? true) {
      checks.push({ what: `${name}: throughput / do-nothing`, value: ratios.throughput, bar: `>= ${SPEC_BARS.throughputRatioMin.toFixed(3)}`, pass: ratios.throughput >= SPEC_BARS.throughputRatioMin });
    }
    checks.push(
      { what: `${name}: p50 / do-nothing`, value: ratios.p50, bar: `<= ${latencyRatioMax}`, pass: ratios.p50 <= latencyRatioMax },
      { what: `${name}: p99 / do-nothing`, value: ratios.p99, bar: `<= ${latencyRatioMax}`, pass: ratios.p99 <= latencyRatioMax },
    );
    const errors = group.rounds.reduce((sum, r) => sum + (r.extender?.errors ?? 0) + (r.baseline?.errors ?? 0), 0);
    if (errors > 0 || group.check.problems.length > 0) checks.push({ what: `${name}: errors and answer problems`, value: errors + group.check.problems.length, bar: '= 0', pass: false });
  }
  if (index) {
    const slowest = Math.min(index.events.addsPerSecond, index.events.updatesPerSecond, index.events.deletesPerSecond);
    checks.push({ what: `pod events applied per second (slowest of add, update, delete; ${index.events.pods} pods)`, value: slowest, bar: `>= ${SPEC_BARS.eventsPerSecondMin}`, pass: slowest >= SPEC_BARS.eventsPerSecondMin });
    const rss = (what: string, bytes: number): TargetCheck => ({ what, value: bytes / 1e6, bar: `<= ${SPEC_BARS.rssMaxBytes / 1e6}`, pass: bytes <= SPEC_BARS.rssMaxBytes });
    checks.push(
      rss(`RSS after GC at ${index.watch.pods} pods (listed and watched from an API server, settled), MB`, index.watch.after.rss),
      rss(`RSS after GC at ${index.memory.pods} pods (snapshot loaded, settled), MB`, index.memory.after.rss),
    );
  }
  return checks;
}

export function writeReport(report: BenchReport, dir: string, basename: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, `${basename}.json`), join(dir, `${basename}.md`)];
  writeFileSync(files[0]!, `${JSON.stringify(report, roundNumbers, 2)}\n`);
  writeFileSync(files[1]!, renderMarkdown(report));
  if (report.kind === 'full') {
    files.push(join(dir, 'latency.svg'));
    writeFileSync(files[2]!, latencyChart(report.latency));
  }
  return files;
}

function roundNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? round3(value) : value;
}

export function renderMarkdown(report: BenchReport): string {
  const env = report.environment;
  const lines = [
    `# sysctl-extender benchmark (${report.kind})`,
    '',
    `${report.startedAt} to ${report.finishedAt}; Node ${env.node}; ${env.cores} x ${env.cpu}; ` +
      `load average ${env.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')} at start, ${env.loadavgAtEnd?.map((l) => l.toFixed(2)).join(' ') ?? '?'} at end.`,
    '',
    `Settings: ${Object.entries(report.settings).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ')}.`,
    ...(report.latency.length > 0
      ? [
          'Each server runs in its own process; autocannon drives it from the bench process. Ratios are to the do-nothing server',
          '(node:http, JSON.parse, JSON.stringify of a pass-all answer) measured in the same rounds, medians of the per-round ratios.',
        ]
      : []),
    '',
    '## SPEC section 6 bars',
    '',
    '| what | measured | bar | |',
    '|---|---:|---|---|',
    ...report.targets.map((t) => `| ${t.what} | ${fmt(t.value)} | ${t.bar} | ${t.pass ? 'pass' : '**FAIL**'} |`),
  ];
  if (report.matrix && report.matrix.length > 0) lines.push('', ...matrixLines(report.matrix));
  if (report.latency.length > 0) lines.push('', ...latencyLines(report.latency));
  if (report.breakdown) lines.push('', ...breakdownLines(report.breakdown));
  if (report.index) lines.push('', ...indexLines(report.index));
  return `${lines.join('\n')}\n`;
}

/** Every shape, then the worst per verb: the figure that holds for clusters, not for one generator's. */
function matrixLines(matrix: readonly GroupResult[]): string[] {
  const worst = worstPerVerb(matrix);
  const row = (g: GroupResult) => {
    const r = g.ratios.extender;
    const s = g.scenario.cluster.shape;
    const shape = s ? `${s.names}, ${s.teams} teams, ${s.dedicatedShare * 100}% dedicated, allow-lists ${s.allowListShare === undefined ? 'mixed' : `${s.allowListShare * 100}%`}, ${s.profiles} profiles, ${g.scenario.cluster.podsPerNode} pods/node` : '';
    return `| ${g.scenario.id} | ${shape} | ${r ? [fmt(r.throughput), fmt(r.p50), fmt(r.p99), fmt(r.serverP50), fmt(r.serverP99)].join(' | ') : ' | | | | '} |`;
  };
  return [
    '## Shapes (5,000 nodes, NodeNames of every node, 1 connection)',
    '',
    'Ratios to the do-nothing server of the same rounds (medians over rounds); bars: throughput >= 0.667, p50 and p99 <= 1.5.',
    '',
    `Worst: ${(['filter', 'prioritize'] as const).map((verb) => (worst[verb] ? `${verb} at ${shapeIdOf(worst[verb].scenario)} (x thr ${fmt(worst[verb].ratios.extender?.throughput ?? NaN)}, x p50 ${fmt(worst[verb].ratios.extender?.p50 ?? NaN)}, x p99 ${fmt(worst[verb].ratios.extender?.p99 ?? NaN)})` : '')).join('; ')}.`,
    '',
    '| scenario | shape | x thr | x p50 | x p99 | inside x p50 | inside x p99 |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...matrix.map(row),
  ];
}

function latencyLines(latency: readonly GroupResult[]): string[] {
  return [
    '## Latency',
    '',
    'Throughput in requests/s, latencies in ms (medians over rounds); ratios to the do-nothing server.',
    '',
    '| scenario | conns | body kB | do-nothing req/s | p50 | p99 | extender req/s | p50 | p99 | x thr | x p50 | x p99 | naive req/s | p50 | p99 | x p50 | naive agrees |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...latency.map(latencyRow),
    '',
    ...serverSideLines(latency),
    '',
    'Candidates passing the extender (per placed pod, first connection count):',
    '',
    ...passingLines(latency),
  ];
}

function latencyRow(g: GroupResult): string {
  const m = g.medians;
  const server = (kind: ServerKind) => (m[kind] ? [fmt(m[kind].throughput), fmt(m[kind].p50Ms), fmt(m[kind].p99Ms)] : ['', '', '']);
  const ext = g.ratios.extender;
  const naive = g.ratios.naive;
  const agrees = g.check.naiveAgrees === undefined ? '' : g.check.naiveAgrees ? 'yes' : '**no**';
  return `| ${g.scenario.id} | ${g.connections} | ${fmt(g.bodyBytes / 1000)} | ${server('baseline').join(' | ')} | ${server('extender').join(' | ')} | ${ext ? [fmt(ext.throughput), fmt(ext.p50), fmt(ext.p99)].join(' | ') : ' | | '} | ${server('naive').join(' | ')} | ${naive ? fmt(naive.p50) : ''} | ${agrees} |`;
}

/**
 * The same runs as each server timed itself: the load generator's own pauses (its garbage
 * collection grows with the answers it reads, and the extender's are larger) drop out.
 */
function serverSideLines(latency: readonly GroupResult[]): string[] {
  const row = (g: GroupResult) => {
    const own = (kind: ServerKind) => (g.medians[kind] ? [fmt(g.medians[kind].serverP50Ms), fmt(g.medians[kind].serverP99Ms)] : ['', '']);
    const ext = g.ratios.extender;
    return `| ${g.scenario.id} | ${g.connections} | ${own('baseline').join(' | ')} | ${own('extender').join(' | ')} | ${ext ? `${fmt(ext.serverP50)} | ${fmt(ext.serverP99)}` : ' | '} |`;
  };
  return [
    'Time inside each server (request headers in to the last answer byte handed to the kernel), ms, medians over rounds:',
    '',
    '| scenario | conns | do-nothing p50 | p99 | extender p50 | p99 | x p50 | x p99 |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...latency.map(row),
  ];
}

function passingLines(latency: readonly GroupResult[]): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const g of latency) {
    if (seen.has(g.scenario.id) || g.check.passing.length === 0) continue;
    seen.add(g.scenario.id);
    lines.push(`- ${g.scenario.id}: ${g.check.passing.map((p) => `${p.pod} ${p.passing}/${p.candidates}`).join(', ')}`);
  }
  return lines;
}

function breakdownLines(b: VerbBreakdown): string[] {
  const row = (name: string, pick: (p: PhaseTimes) => number, verb: 'filter' | 'prioritize') =>
    `| ${verb} | ${name} | ${fmt(pick(b.byVerb[verb].baseline))} | ${fmt(pick(b.byVerb[verb].extender))} |`;
  const total = (p: PhaseTimes) => p.parseMs + p.validateMs + p.verbMs + p.encodeMs;
  return [
    `## In-process cost of one call (no HTTP), ${b.nodes} nodes, ${b.candidates} NodeNames`,
    '',
    'Medians in ms over the placed pods; the do-nothing column is what the do-nothing server computes for the same body.',
    '',
    '| verb | phase | do-nothing | extender |',
    '|---|---|---:|---:|',
    ...(['filter', 'prioritize'] as const).flatMap((verb) => [
      row('JSON.parse of the body', (p) => p.parseMs, verb),
      row('decodeExtenderArgs after the parse (field names, JSON Schema)', (p) => p.validateMs, verb),
      row(verb === 'filter' ? 'the verb, every reason written (runFilter; pass-all answer)' : 'the verb (runPrioritize; pass-all answer)', (p) => p.verbMs, verb),
      ...(b.byVerb[verb].extender.verbReusedMs !== undefined
        ? [
            `| ${verb} | the verb, same pod as a call before (verdict-cache.ts, failed-nodes-memo.ts) | - | ${fmt(b.byVerb[verb].extender.verbReusedMs!)} |`,
            `| ${verb} | the same, one node changed since (a bind) | - | ${fmt(b.byVerb[verb].extender.verbOneChangedMs ?? Number.NaN)} |`,
            `| ${verb} | the same, ${b.byVerb[verb].extender.classes ?? '?'} pod classes in turn (more than are kept) | - | ${fmt(b.byVerb[verb].extender.verbManyClassesMs ?? Number.NaN)} |`,
            `| ${verb} | reading the body and the verb, same pod as a call before | - | ${fmt(b.byVerb[verb].extender.decodedReusedMs ?? Number.NaN)} |`,
            `| ${verb} | the same, a prioritize body of the nodes it kept read between (as kube-scheduler sends them) | - | ${fmt(b.byVerb[verb].extender.verbAfterPrioritizeMs ?? Number.NaN)} |`,
          ]
        : []),
      row('JSON.stringify of the answer', (p) => p.encodeMs, verb),
      row('**total**', total, verb),
      `| ${verb} | answer size, kB | ${fmt(b.byVerb[verb].baseline.answerBytes / 1000)} | ${fmt(b.byVerb[verb].extender.answerBytes / 1000)} |`,
    ]),
  ];
}

function indexLines(index: IndexResults): string[] {
  const mb = (bytes: number) => fmt(bytes / 1e6);
  const e = index.events;
  const m = index.memory;
  const s = index.startup;
  const w = index.watch;
  return [
    '## Index',
    '',
    '| figure | value |',
    '|---|---:|',
    `| pod adds applied per second (upsertPod, ${e.pods} pods) | ${fmt(e.addsPerSecond)} |`,
    `| pod updates applied per second (upsertPod of known pods) | ${fmt(e.updatesPerSecond)} |`,
    `| pod deletes applied per second (deletePod) | ${fmt(e.deletesPerSecond)} |`,
    `| RSS after GC, ${m.pods} pods / ${m.nodes} nodes loaded from the snapshot, settled (10 s idle), MB | ${mb(m.after.rss)} |`,
    `| of which V8 heap used / committed, MB | ${mb(m.after.heapUsed)} / ${mb(m.after.heapTotal)} |`,
    `| RSS after GC right after loading, MB | ${mb(m.afterLoad.rss)} |`,
    // Committed far above used means the index is spread thin over pages the load left: every scavenge walks them.
    `| of which V8 heap used / committed, MB | ${mb(m.afterLoad.heapUsed)} / ${mb(m.afterLoad.heapTotal)} |`,
    `| RSS after GC before loading (modules, empty extender), MB | ${mb(m.before.rss)} |`,
    `| V8 heap used by the loaded index (after minus before), MB | ${mb(m.after.heapUsed - m.before.heapUsed)} |`,
    `| snapshot read + JSON.parse, ms | ${fmt(m.readMs)} |`,
    `| applyList into the index, ms | ${fmt(m.applyMs)} |`,
    `| snapshot file size, MB (${index.snapshot.items} items) | ${mb(index.snapshot.bytes)} |`,
    `| process start to /readyz 200 with that snapshot, ms (median of ${s.runsMs.length}) | ${fmt(s.medianMs)} |`,
    `| RSS of that process once ready (no forced GC), MB | ${mb(s.rssAfterReadyBytes)} |`,
    `| peak RSS of that process while loading (VmHWM), MB | ${mb(s.peakRssBytes)} |`,
    `| RSS after GC, ${w.pods} pods / ${w.nodes} nodes listed (pages of 500) and watched from a fake API server in another process, settled (10 s idle), MB | ${mb(w.after.rss)} |`,
    `| of which V8 heap used / committed, MB | ${mb(w.after.heapUsed)} / ${mb(w.after.heapTotal)} |`,
    `| RSS after GC right after the lists, MB | ${mb(w.afterLoad.rss)} |`,
    `| of which V8 heap used / committed, MB | ${mb(w.afterLoad.heapUsed)} / ${mb(w.afterLoad.heapTotal)} |`,
    `| RSS after GC before the watches started (modules, empty extender), MB | ${mb(w.before.rss)} |`,
    `| peak RSS of that process (VmHWM), MB | ${mb(w.peakRssBytes)} |`,
    `| process start to every initial list applied (watch source ready), ms | ${fmt(w.readyMs)} |`,
    `| of which the paged lists, ms | ${fmt(w.listMs)} |`,
  ];
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return String(round3(value));
}
