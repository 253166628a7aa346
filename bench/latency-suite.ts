/**
 * The HTTP latency suite: per cluster size, start each server under test in its own process,
 * then for each scenario and connection count run the servers in alternating order round after
 * round (A B C, C B A, ...), so that drift of this shared machine hits them alike. Each round
 * gives the extender's (and the naive server's) ratio to the do-nothing server of that round;
 * the reported ratio is the median over rounds.
 */
import { checkAnswers, type AnswerCheck } from './answer-check.js';
import { BindPool, bindOutcomes, checkBinds } from './bind-pool.js';
import { planCluster, type ClusterPlan } from '../support/synthetic-cluster/cluster-generator.js';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';
import { waitUntilIdle, waitUntilMachineQuiet } from './proc-status.js';
import { bindBodies, requestBodies } from './request-bodies.js';
import { BIND_RUN_REQUESTS, BIND_WARMUP_REQUESTS, isTargetScenario, type CandidateVerb, type Scenario } from './scenarios.js';
import type { ServerKind } from './server-child.js';
import { startServer, type ServerProcess } from './server-process.js';
import { median, sortedPercentile } from './stats.js';

export interface SuiteSettings {
  readonly rounds: number;
  /**
   * Rounds of the scenarios SPEC section 6 sets bars for, at one connection (default: rounds).
   * Their median over three rounds swung by half between full runs on this shared machine.
   */
  readonly targetRounds?: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly connections: readonly number[];
  /** Servers to compare; 'baseline' is required (ratios are to it). */
  readonly servers: readonly ServerKind[];
  /** Profile the serving phase of these servers into `dir` (bench/profile-summary.ts reads them). */
  readonly profile?: { readonly kinds: readonly ServerKind[]; readonly dir: string };
  readonly log: (line: string) => void;
}

export interface ServerFigures {
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly responses: number;
  /** The same percentiles of the server's own time per request (ServerTimings). */
  readonly serverP50Ms: number;
  readonly serverP99Ms: number;
}

export interface Ratios {
  readonly throughput: number;
  readonly p50: number;
  readonly p99: number;
  /**
   * Of the server's own times: without what the load generator adds (a Node process too, whose
   * garbage collection grows with the size of the answers it reads).
   */
  readonly serverP50: number;
  readonly serverP99: number;
}

/** One run against one server: as the load generator saw it, and as the server timed itself. */
export interface RunResult extends LoadResult {
  readonly serverP50Ms: number;
  readonly serverP99Ms: number;
}

export interface GroupResult {
  readonly scenario: Scenario;
  readonly connections: number;
  readonly bodyBytes: number;
  readonly check: AnswerCheck;
  readonly rounds: Array<Partial<Record<ServerKind, RunResult>>>;
  /** Per server, the median over rounds of each figure. */
  readonly medians: Partial<Record<ServerKind, ServerFigures>>;
  /** Per server, the median over rounds of its ratio to the do-nothing server of the same round. */
  readonly ratios: Partial<Record<ServerKind, Ratios>>;
}

const TIMEOUT_SECONDS = 30;
/** Binds each server answers before it is measured. */
const BIND_CHECKS = 4;
/** The naive scan may take seconds per call: bound its runs by a request count instead of a duration. */
const SLOW_CALL_MS = 100;
/** Beyond this, several connections only queue behind the naive scan: measure it with one. */
const NAIVE_ONE_CONNECTION_MS = 1000;

export async function runLatencySuite(scenarios: readonly Scenario[], settings: SuiteSettings): Promise<GroupResult[]> {
  if (!settings.servers.includes('baseline')) throw new Error('the do-nothing baseline server is required');
  const results: GroupResult[] = [];
  for (const group of byCluster(scenarios)) {
    const cluster = group[0]!.cluster;
    checkBindPool(group, settings);
    // The naive scan is about the index's lookups: it does not bind.
    const kinds = group.every((s) => s.verb === 'bind') ? settings.servers.filter((k) => k !== 'naive') : settings.servers;
    const pending = cluster.pendingPods ? ` + ${cluster.pendingPods} pending` : '';
    settings.log(`[${cluster.nodes} nodes] starting ${kinds.join(', ')} (${cluster.nodes * cluster.podsPerNode} pods${pending})`);
    const servers = await startAll({ ...settings, servers: kinds }, cluster);
    try {
      settings.log(`  machine quiet after ${await waitUntilMachineQuiet()} ms`);
      const plan = planCluster(cluster);
      for (const scenario of group) {
        const work = scenario.verb === 'bind' ? await bindWork(servers, plan) : await candidateWork(servers, plan, scenario, scenario.verb);
        for (const problem of work.check.problems) settings.log(`  ! ${problem}`);
        for (const connections of settings.connections) {
          const rounds = await measure(servers, scenario, work, connections, settings);
          results.push(summarise(scenario, connections, work.bodyBytes, work.check, rounds));
        }
        if (scenario.verb === 'bind') await checkEveryBindBound(servers, work, settings);
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  }
  return results;
}

/** What a scenario sends each server, and the check of their first answers. */
interface ScenarioWork {
  readonly check: AnswerCheck;
  readonly bodyBytes: number;
  /** Bodies sent in turn (filter, prioritize). */
  readonly bodies: string[];
  /** Per server, a body taken for each request (bind). */
  readonly pools?: Partial<Record<ServerKind, BindPool>>;
  /** Per server, the 2xx answers counted so far (bind: each one a pod bound). */
  readonly answered: Partial<Record<ServerKind, number>>;
}

async function candidateWork(servers: readonly ServerProcess[], plan: ClusterPlan, scenario: Scenario, verb: CandidateVerb): Promise<ScenarioWork> {
  const bodies = requestBodies(plan, scenario.mode, scenario.share);
  // The answer check also warms every server up and times one call of each.
  const check = await checkAnswers(urlsOf(servers), verb, bodies);
  const texts = bodies.map((b) => b.body);
  return { check, bodyBytes: meanBytes(texts), bodies: texts, answered: {} };
}

async function bindWork(servers: readonly ServerProcess[], plan: ClusterPlan): Promise<ScenarioWork> {
  const bodies = bindBodies(plan);
  const pools = Object.fromEntries(servers.map((s) => [s.kind, new BindPool(bodies)]));
  const { check, answered } = await checkBinds(urlsOf(servers), pools, BIND_CHECKS);
  return { check, bodyBytes: meanBytes(bodies.slice(0, 100)), bodies: [], pools, answered };
}

/** Fails before any server starts if the runs asked for would use up a bind scenario's pool. */
function checkBindPool(group: readonly Scenario[], settings: SuiteSettings): void {
  for (const scenario of group) {
    if (scenario.verb !== 'bind') continue;
    const needed = settings.connections.length * ((settings.warmupSeconds > 0 ? BIND_WARMUP_REQUESTS : 0) + settings.rounds * BIND_RUN_REQUESTS) + BIND_CHECKS;
    const pool = scenario.cluster.pendingPods ?? 0;
    if (needed > pool) throw new Error(`${scenario.id}: ${needed} binds asked for, the pool has ${pool} pending pods (fewer rounds or connection counts, or raise BIND_POOL in scenarios.ts)`);
  }
}

/** Every bind the extender answered 2xx must have bound a pod: its own counters say so. */
async function checkEveryBindBound(servers: readonly ServerProcess[], work: ScenarioWork, settings: SuiteSettings): Promise<void> {
  const extender = servers.find((s) => s.kind === 'extender');
  if (!extender) return;
  const { bound, refused } = await bindOutcomes(extender.url);
  const answered = work.answered.extender ?? 0;
  settings.log(`  extender binds: ${bound} bound, ${refused} refused, ${answered} answered`);
  if (refused > 0 || bound !== answered) work.check.problems.push(`extender bound ${bound} and refused ${refused} pods of ${answered} bind calls answered`);
}

function urlsOf(servers: readonly ServerProcess[]): Partial<Record<ServerKind, string>> {
  return Object.fromEntries(servers.map((s) => [s.kind, s.url]));
}

function meanBytes(texts: readonly string[]): number {
  return Math.round(texts.reduce((sum, t) => sum + Buffer.byteLength(t), 0) / Math.max(1, texts.length));
}

async function startAll(settings: SuiteSettings, cluster: Scenario['cluster']): Promise<ServerProcess[]> {
  const started = await Promise.allSettled(settings.servers.map((kind) => startServer(kind, cluster, settings.profile?.kinds.includes(kind) ? settings.profile.dir : undefined)));
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(servers.map((s) => s.stop()));
    throw failed.reason;
  }
  for (const s of servers) settings.log(`  ${s.kind}: pid ${s.pid}, ${s.pods} pods, ready in ${Math.round(s.loadMs)} ms`);
  return servers;
}

async function measure(
  servers: readonly ServerProcess[],
  scenario: Scenario,
  work: ScenarioWork,
  connections: number,
  settings: SuiteSettings,
): Promise<Array<Partial<Record<ServerKind, RunResult>>>> {
  const path = `/${scenario.verb}`;
  const naiveCallMs = work.check.callMs.naive ?? 0;
  const active = servers.filter((s) => !(s.kind === 'naive' && connections > 1 && naiveCallMs > NAIVE_ONE_CONNECTION_MS));
  const optionsFor = (server: ServerProcess, durationSeconds: number, warmup = false): LoadOptions => {
    const pool = work.pools?.[server.kind];
    // Binds are counted out of the pool: a run by duration could use it up.
    if (pool) return { url: server.url, path, bodies: [], nextBody: pool.next, connections, durationSeconds, amount: warmup ? BIND_WARMUP_REQUESTS : BIND_RUN_REQUESTS, timeoutSeconds: TIMEOUT_SECONDS };
    const slow = server.kind === 'naive' && naiveCallMs > SLOW_CALL_MS;
    return {
      url: server.url,
      path,
      bodies: work.bodies,
      connections,
      durationSeconds,
      ...(slow ? { amount: Math.max(connections, Math.round((durationSeconds * 1000) / naiveCallMs)) } : {}),
      timeoutSeconds: slow ? Math.ceil((naiveCallMs * connections * 3) / 1000) + TIMEOUT_SECONDS : TIMEOUT_SECONDS,
    };
  };
  const run = async (server: ServerProcess, options: LoadOptions): Promise<LoadResult> => {
    const load = await runLoad(options);
    work.answered[server.kind] = (work.answered[server.kind] ?? 0) + load.responses;
    return load;
  };
  // Warm-up: JIT, connection set-up, and the first large allocations (the slow naive server: its answer check).
  for (const server of active) {
    if (settings.warmupSeconds > 0 && !(server.kind === 'naive' && naiveCallMs > SLOW_CALL_MS)) await run(server, optionsFor(server, settings.warmupSeconds, true));
  }

  const rounds: Array<Partial<Record<ServerKind, RunResult>>> = [];
  const roundCount = isTargetScenario(scenario) && connections === 1 ? Math.max(settings.rounds, settings.targetRounds ?? 0) : settings.rounds;
  for (let round = 0; round < roundCount; round += 1) {
    const order = round % 2 === 0 ? active : [...active].reverse();
    const results: Partial<Record<ServerKind, RunResult>> = {};
    for (const server of order) {
      await waitUntilIdle(servers.map((s) => s.pid));
      // Drop what the server timed before this run (answer checks, warm-up).
      await server.takeTimings();
      const load = await run(server, optionsFor(server, settings.durationSeconds));
      const own = (await server.takeTimings()).sort((a, b) => a - b);
      const result: RunResult = { ...load, serverP50Ms: sortedPercentile(own, 0.5), serverP99Ms: sortedPercentile(own, 0.99) };
      results[server.kind] = result;
      settings.log(
        `  ${scenario.id} x${connections} round ${round + 1}/${roundCount} ${server.kind.padEnd(8)} ` +
          `${result.throughput.toFixed(1)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms` +
          `  (own p50 ${result.serverP50Ms.toFixed(2)}, p99 ${result.serverP99Ms.toFixed(2)})` +
          (result.errors > 0 ? `  ${result.errors} ERRORS` : ''),
      );
    }
    rounds.push(results);
  }
  return rounds;
}

function summarise(
  scenario: Scenario,
  connections: number,
  bodyBytes: number,
  check: AnswerCheck,
  rounds: Array<Partial<Record<ServerKind, RunResult>>>,
): GroupResult {
  const kinds = Object.keys(rounds[0] ?? {}) as ServerKind[];
  const medians: GroupResult['medians'] = {};
  const ratios: GroupResult['ratios'] = {};
  for (const kind of kinds) {
    const of = (pick: (r: RunResult) => number) => median(rounds.map((r) => (r[kind] ? pick(r[kind]) : Number.NaN)));
    medians[kind] = {
      throughput: of((r) => r.throughput),
      p50Ms: of((r) => r.p50Ms),
      p99Ms: of((r) => r.p99Ms),
      responses: of((r) => r.responses),
      serverP50Ms: of((r) => r.serverP50Ms),
      serverP99Ms: of((r) => r.serverP99Ms),
    };
    if (kind === 'baseline') continue;
    const ratio = (pick: (r: RunResult) => number) =>
      median(rounds.map((r) => (r[kind] && r.baseline ? pick(r[kind]) / pick(r.baseline) : Number.NaN)));
    ratios[kind] = {
      throughput: ratio((r) => r.throughput),
      p50: ratio((r) => r.p50Ms),
      p99: ratio((r) => r.p99Ms),
      serverP50: ratio((r) => r.serverP50Ms),
      serverP99: ratio((r) => r.serverP99Ms),
    };
  }
  return { scenario, connections, bodyBytes, check, rounds, medians, ratios };
}

/** Scenarios grouped by cluster, in first-seen order: one set of server processes per cluster. */
function byCluster(scenarios: readonly Scenario[]): Scenario[][] {
  const groups = new Map<string, Scenario[]>();
  for (const s of scenarios) {
    const key = JSON.stringify(s.cluster);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()];
}
