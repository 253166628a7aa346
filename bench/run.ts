/**
 * The full benchmark: latency suite at 500 and 5,000 nodes against the do-nothing and naive
 * servers, the in-process cost of one call by phase, then the index figures; writes
 * bench/results/latest.{json,md} and latency.svg.
 *
 *   node bench/.build/bench/run.js [--rounds 3] [--target-rounds 7] [--duration 2] [--warmup 1] [--connections 1,4]
 *       [--sizes 500,5000] [--seed 1] [--skip-index | --only-index] [--startup-runs 3] [--profile]
 *
 * --target-rounds: rounds of the 5,000-node NodeNames 100% scenarios at one connection, the ones
 * SPEC section 6 sets bars for (at least --rounds).
 * --only-index measures the index figures alone and writes bench/results/tmp/index.{json,md},
 * leaving latest.* (the full run's) alone.
 * The shape matrix (shape-matrix.ts: filter and prioritize at 5,000 nodes on every shape) runs
 * after the sizes; it writes the worst shapes to bench/results/worst-shapes.json for bench:ci.
 * --only-matrix runs it alone (bench/results/matrix.{json,md}); --skip-matrix leaves it out;
 * --shapes id,id picks shapes.
 * --profile writes CPU profiles of the serving extender and do-nothing server to bench/results/tmp/profiles;
 * summarise them with bench/.build/bench/profile-summary.js.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RESULTS_DIR, TMP_DIR } from './bench-paths.js';
import { bounded } from './cli-args.js';
import { measureEventRates, measureMemory, measureStartup, measureWatchMemory, writeSnapshot } from './index-figures.js';
import { runLatencySuite, type GroupResult } from './latency-suite.js';
import { runShapeMatrix } from './matrix.js';
import { MATRIX, shapeNamed, worstShapes, writeWorstShapes } from './shape-matrix.js';
import { checkTargets, environment, writeReport, type IndexResults } from './report.js';
import { clusterSpec, fullScenarios, TARGET_SIZE } from './scenarios.js';
import { measureVerbBreakdown, type VerbBreakdown } from './verb-breakdown.js';

const log = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      'target-rounds': { type: 'string', default: '7' },
      duration: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '1' },
      connections: { type: 'string', default: '1,4' },
      sizes: { type: 'string', default: '500,5000' },
      seed: { type: 'string', default: '1' },
      'skip-index': { type: 'boolean', default: false },
      'only-index': { type: 'boolean', default: false },
      'only-matrix': { type: 'boolean', default: false },
      'skip-matrix': { type: 'boolean', default: false },
      shapes: { type: 'string' },
      'startup-runs': { type: 'string', default: '3' },
      profile: { type: 'boolean', default: false },
    },
  });
  const settings = {
    rounds: bounded(values.rounds, 1, 20),
    targetRounds: bounded(values['target-rounds'], 1, 20),
    durationSeconds: bounded(values.duration, 1, 60),
    warmupSeconds: bounded(values.warmup, 0, 30),
    connections: values.connections.split(',').map((c) => bounded(c, 1, 64)),
    sizes: values.sizes.split(',').map((n) => bounded(n, 10, 65_536)),
    seed: bounded(values.seed, 0, 2 ** 31),
  };
  const onlyIndex = values['only-index'];
  const onlyMatrix = values['only-matrix'];
  if (onlyIndex && values['skip-index']) throw new Error('--only-index and --skip-index exclude each other');
  if (onlyMatrix && (onlyIndex || values['skip-matrix'])) throw new Error('--only-matrix excludes --only-index and --skip-matrix');
  const shapes = values.shapes ? values.shapes.split(',').map(shapeNamed) : MATRIX;
  const startedAt = new Date().toISOString();
  const env = environment();
  log(`sysctl-extender bench: ${JSON.stringify(settings)}`);

  const latency = onlyIndex || onlyMatrix
    ? []
    : await runLatencySuite(fullScenarios(settings.seed, settings.sizes), {
        ...settings,
        servers: ['baseline', 'extender', 'naive'],
        ...(values.profile ? { profile: { kinds: ['baseline', 'extender'], dir: join(TMP_DIR, 'profiles') } } : {}),
        log,
      });

  let matrix: GroupResult[] | undefined;
  if (!onlyIndex && !values['skip-matrix']) {
    matrix = await runShapeMatrix(shapes, settings.seed, { ...settings, log });
    if (shapes.length === MATRIX.length) writeWorstShapes(worstShapes(matrix));
  }

  let breakdown: VerbBreakdown | undefined;
  if (!onlyIndex && !onlyMatrix) {
    log(`[micro] in-process cost of one call at ${TARGET_SIZE} nodes`);
    breakdown = await measureVerbBreakdown(clusterSpec(TARGET_SIZE, settings.seed));
  }

  let index: IndexResults | undefined;
  if (!values['skip-index'] && !onlyMatrix) {
    const cluster = clusterSpec(TARGET_SIZE, settings.seed);
    log(`[index] writing a ${cluster.nodes}-node snapshot file`);
    const snapshot = await writeSnapshot(cluster, join(TMP_DIR, `snapshot-${cluster.nodes}n-${cluster.podsPerNode}ppn-seed${cluster.seed}.json`));
    log(`[index] ${snapshot.items} items, ${(snapshot.bytes / 1e6).toFixed(0)} MB in ${Math.round(snapshot.writeMs)} ms; measuring pod events`);
    const events = await measureEventRates(cluster, 3);
    log(`[index] events/s add ${Math.round(events.addsPerSecond)} update ${Math.round(events.updatesPerSecond)} delete ${Math.round(events.deletesPerSecond)}; measuring memory`);
    const memory = await measureMemory(snapshot.path);
    log(`[index] RSS after GC ${(memory.after.rss / 1e6).toFixed(0)} MB; measuring start-up`);
    const startup = await measureStartup(snapshot.path, bounded(values['startup-runs'], 1, 10));
    log(`[index] ready in ${Math.round(startup.medianMs)} ms (median), peak RSS ${(startup.peakRssBytes / 1e6).toFixed(0)} MB; measuring through list and watch`);
    const watch = await measureWatchMemory(cluster, join(TMP_DIR, 'fake-api-kubeconfig.json'));
    log(
      `[index] watch path: fake API server built in ${Math.round(watch.apiServerLoadMs)} ms; extender ready in ${Math.round(watch.readyMs)} ms, ` +
        `RSS after GC ${(watch.after.rss / 1e6).toFixed(0)} MB, heap used ${(watch.after.heapUsed / 1e6).toFixed(0)} MB, peak RSS ${(watch.peakRssBytes / 1e6).toFixed(0)} MB`,
    );
    index = { snapshot, events, memory, startup, watch };
  }

  env.loadavgAtEnd = loadavg();
  const report = {
    kind: onlyIndex ? ('index' as const) : onlyMatrix ? ('matrix' as const) : ('full' as const),
    startedAt,
    finishedAt: new Date().toISOString(),
    environment: env,
    settings,
    targets: checkTargets([...latency, ...(matrix ?? [])], index),
    latency,
    matrix,
    breakdown,
    index,
  };
  const files = onlyIndex ? writeReport(report, TMP_DIR, 'index') : writeReport(report, RESULTS_DIR, onlyMatrix ? 'matrix' : 'latest');
  for (const t of report.targets) log(`${t.pass ? 'pass' : 'FAIL'}  ${t.what}: ${t.value.toFixed(3)} (${t.bar})`);
  log(`wrote ${files.join(', ')}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
