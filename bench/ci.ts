/**
 * The CI gate (a few minutes on 2 cores): filter and prioritize at 5,000 nodes, NodeNames of all
 * nodes, one connection, extender against the do-nothing server in alternating rounds, on the two
 * worst cluster shapes of the last full matrix run (bench/results/worst-shapes.json). Fails
 * (exit 1) when the median over rounds of the p50 or p99 latency ratio exceeds --max-ratio, or
 * when any call failed. Ratios only: no absolute time decides, since CI machines differ.
 * --max-ratio is 2 (the SPEC bar is 1.5): the worst shapes of the matrix of 2026-12-02 measured
 * filter at 1.03 / 1.18 (p50 / p99) in bench:ci alone, 1.26 / 1.69 in .ci/run, and up to 1.57
 * (p50) in a run while this shared machine ran at a third of its speed: 2 leaves room for that noise and still fails a
 * change that brings the worst shape back to where it was before the failed-nodes memo (p99
 * 1.83-2.31). It stood at 3 then. With the verdict cache the worst shapes measured filter at
 * 0.82 / 1.27 alone and 0.76-1.02 / 1.05-1.27 in .ci/run (2026-12-02 afternoon, a slow hour).
 *
 *   node bench/.build/bench/ci.js [--rounds 7] [--duration 2] [--max-ratio 2] [--verbs filter,prioritize]
 *       [--breakdown] [--profile]
 *
 * --breakdown adds the in-process cost of one call by phase to the report (about 15 s more).
 * --profile writes CPU profiles of the serving phase of both servers to bench/results/tmp/profiles
 * (the profiler slows both; read the ratios of a profiled run with care). With --verbs one verb
 * at a time, bench/.build/bench/profile-summary.js gives a clean per-request breakdown.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TMP_DIR } from './bench-paths.js';
import { bounded } from './cli-args.js';
import { checkTargets, environment, writeReport } from './report.js';
import { runShapeMatrix } from './matrix.js';
import { readWorstShapes } from './shape-matrix.js';
import { measureVerbBreakdown } from './verb-breakdown.js';

const log = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '7' },
      duration: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '1' },
      'max-ratio': { type: 'string', default: '2' },
      seed: { type: 'string', default: '1' },
      verbs: { type: 'string', default: 'filter,prioritize' },
      breakdown: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
    },
  });
  const verbs: string[] = values.verbs.split(',');
  const settings = {
    rounds: bounded(values.rounds, 1, 20),
    durationSeconds: bounded(values.duration, 1, 30),
    warmupSeconds: bounded(values.warmup, 0, 10),
    connections: [1],
    maxRatio: bounded(values['max-ratio'], 1, 100),
    seed: bounded(values.seed, 0, 2 ** 31),
  };
  const startedAt = new Date().toISOString();
  const env = environment();
  if (!verbs.every((v) => v === 'filter' || v === 'prioritize') || verbs.length === 0) throw new Error(`--verbs must list filter and/or prioritize, not ${values.verbs}`);
  // The two worst shapes of the last full matrix run (bench/results/worst-shapes.json).
  const shapes = readWorstShapes();
  log(`bench:ci shapes: ${shapes.map((s) => s.id).join(', ')}`);
  const latency = (
    await runShapeMatrix(shapes, settings.seed, {
      ...settings,
      ...(values.profile ? { profile: { kinds: ['baseline', 'extender'], dir: join(TMP_DIR, 'profiles') } } : {}),
      log,
    })
  ).filter((g) => verbs.some((v) => v === g.scenario.verb));
  const scenarios = latency.map((g) => g.scenario);
  const breakdown = values.breakdown ? await measureVerbBreakdown(scenarios[0]!.cluster) : undefined;
  env.loadavgAtEnd = loadavg();
  const targets = checkTargets(latency, undefined, { latencyRatioMax: settings.maxRatio, throughput: false });
  const report = { kind: 'ci' as const, startedAt, finishedAt: new Date().toISOString(), environment: env, settings, targets, latency, breakdown, index: undefined };
  const files = writeReport(report, TMP_DIR, 'ci');

  for (const g of latency) {
    const r = g.ratios.extender;
    if (r) {
      log(
        `${g.scenario.id}: extender/do-nothing throughput ${r.throughput.toFixed(2)}, p50 ${r.p50.toFixed(2)}, p99 ${r.p99.toFixed(2)}` +
          ` (inside the servers: p50 ${r.serverP50.toFixed(2)}, p99 ${r.serverP99.toFixed(2)})`,
      );
    }
  }
  for (const t of targets) log(`${t.pass ? 'pass' : 'FAIL'}  ${t.what}: ${t.value.toFixed(3)} (${t.bar})`);
  log(`wrote ${files.join(', ')}`);
  const failed = targets.length < 2 * latency.length || targets.some((t) => !t.pass);
  if (failed) log(`bench:ci FAILED: a latency ratio exceeds ${settings.maxRatio} (target 1.5) or a call failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:ci: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
