/**
 * The long fuzzing run of the extender's HTTP verbs (SPEC section 6: bad input gets a 4xx with a
 * clear message, never a crash or a hang).
 *
 *   npm run fuzz                                    # 100,000 requests
 *   npm run fuzz -- --requests 20000 --concurrency 4 --body-limit 1048576
 *   FUZZ_REQUESTS=1000000 FUZZ_SEED=7 node tools/.build/tools/fuzz.js   # once built (tsc -p tools/tsconfig.json)
 *
 * It starts the real server in a child process (`tools/.build/src/main.js --snapshot
 * <fixtures>/cluster.json --port 0 --host 127.0.0.1`, so a crash shows as the child exiting),
 * then sends random and mutated versions of the real kube-scheduler bodies
 * (support/fuzz/, shared with test/http-fuzz.test.ts) to 127.0.0.1 only, with
 * `concurrency` requests in flight. Per request: never a 5xx, an answer within the timeout, a
 * JSON body (`{"Error": "..."}` for a 4xx), the right shape for a 200. After the run: the child
 * is alive, answers the real filter bodies as before, its built-in prototypes are unchanged and
 * no sentinel leaks through them (checked by a preload in the child, over IPC), and its memory
 * after GC (RSS, and JS heap + external) grew less than the bounds since the warm-up.
 *
 * Options (flag, or environment variable):
 *   --requests N        FUZZ_REQUESTS      requests to send (default 100000)
 *   --seed S            FUZZ_SEED          the generator's seed (default 1); a failure names it
 *   --concurrency C     FUZZ_CONCURRENCY   requests in flight (default 8)
 *   --timeout-ms T      FUZZ_TIMEOUT_MS    a request without an answer by then is a hang (5000)
 *   --max-seconds S     FUZZ_MAX_SECONDS   time bound of the whole run (default 1200)
 *   --body-limit B      FUZZ_BODY_LIMIT    run the server with this bodyLimitBytes (default: its own, 100 MiB)
 *   --huge-bytes B      FUZZ_HUGE_BYTES    largest body made on purpose below the limit (2 MiB)
 *   --rss-bound-mb M    FUZZ_RSS_BOUND_MB  allowed RSS growth after the warm-up (300: the allocator keeps
 *                                          slack from 100 MiB bodies; 30..180 MB seen at 100,000 requests)
 *   --heap-bound-mb M   FUZZ_HEAP_BOUND_MB allowed growth of JS heap used + external after the warm-up (64)
 *   --allow-known       FUZZ_ALLOW_KNOWN=1 known issues (see knownIssue) do not fail the run
 *   --fixtures DIR      FUZZ_FIXTURES      the bodies to start from (default test/fixtures/kube-scheduler)
 *   --server FILE       FUZZ_SERVER        the server entry point (default tools/.build/src/main.js)
 *
 * Exit status: 0 all good; 1 a 5xx, crash, hang, connection failure, invariant violation,
 * memory growth, pollution or wrong final answer; 2 bad usage or the server did not start;
 * 3 the time bound ended the run before all requests were sent. Failing requests are saved,
 * body and all, under tools/results/tmp/fuzz/ with a summary in fuzz-latest.json.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkAnswer, knownIssue } from '../support/fuzz/answer-check.js';
import { compareSummaries, summarizeFilters } from '../support/fuzz/filter-summary.js';
import { POLLUTION_SENTINELS } from '../support/fuzz/pollution.js';
import { RequestFuzzer, type FuzzRequest } from '../support/fuzz/request-fuzzer.js';
import { loadSeedBodies } from '../support/fuzz/seed-bodies.js';
import { sendFuzzRequest, type FuzzOutcome } from '../support/fuzz/send.js';
import { EXTENDER_MAIN, FIXTURES, TMP_DIR } from './paths.js';

const MB = 1024 * 1024;

interface Settings {
  requests: number;
  seed: number;
  concurrency: number;
  timeoutMs: number;
  maxSeconds: number;
  bodyLimit: number | undefined;
  hugeBytes: number;
  rssBoundMb: number;
  heapBoundMb: number;
  allowKnown: boolean;
  fixtures: string;
  server: string;
  outDir: string;
}

function settings(): Settings {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'max-seconds': { type: 'string' },
      'body-limit': { type: 'string' },
      'huge-bytes': { type: 'string' },
      'rss-bound-mb': { type: 'string' },
      'heap-bound-mb': { type: 'string' },
      'allow-known': { type: 'boolean' },
      fixtures: { type: 'string' },
      server: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write('see the comment at the top of tools/fuzz.ts\n');
    process.exit(0);
  }
  const number = (flag: string | undefined, env: string, fallback: number | undefined): number | undefined => {
    const raw = flag ?? process.env[env];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) usage(`${env} must be a non-negative number, not ${raw}`);
    return value;
  };
  const fixtures = values.fixtures ?? process.env.FUZZ_FIXTURES ?? FIXTURES;
  if (!fixtures || !existsSync(join(fixtures, 'cluster.json'))) usage(`no cluster.json in ${fixtures}; pass --fixtures DIR`);
  const server = values.server ?? process.env.FUZZ_SERVER ?? EXTENDER_MAIN;
  if (!existsSync(server)) usage(`no server entry point at ${server}; build first: npx tsc -p tools/tsconfig.json`);
  return {
    requests: number(values.requests, 'FUZZ_REQUESTS', 100_000)!,
    seed: number(values.seed, 'FUZZ_SEED', 1)!,
    concurrency: Math.max(1, number(values.concurrency, 'FUZZ_CONCURRENCY', 8)!),
    timeoutMs: number(values['timeout-ms'], 'FUZZ_TIMEOUT_MS', 5_000)!,
    maxSeconds: number(values['max-seconds'], 'FUZZ_MAX_SECONDS', 1_200)!,
    bodyLimit: number(values['body-limit'], 'FUZZ_BODY_LIMIT', undefined),
    hugeBytes: number(values['huge-bytes'], 'FUZZ_HUGE_BYTES', 2 * MB)!,
    rssBoundMb: number(values['rss-bound-mb'], 'FUZZ_RSS_BOUND_MB', 300)!,
    heapBoundMb: number(values['heap-bound-mb'], 'FUZZ_HEAP_BOUND_MB', 64)!,
    allowKnown: values['allow-known'] ?? process.env.FUZZ_ALLOW_KNOWN === '1',
    fixtures: resolve(fixtures),
    server: resolve(server),
    outDir: process.env.FUZZ_OUT ?? TMP_DIR,
  };
}

function usage(message: string): never {
  process.stderr.write(`fuzz: ${message}\n`);
  process.exit(2);
}

// --- the server under test, in a child process ----------------------------------------------------

/**
 * Loaded into the child before the server (`--import`): remembers the built-in prototypes' own
 * keys and answers probes over IPC with memory (after GC) and any change to them.
 */
const PRELOAD = `
const protos = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype, String: String.prototype, Number: Number.prototype, Boolean: Boolean.prototype };
const keysOf = (p) => Reflect.ownKeys(p).map(String).sort();
const before = Object.fromEntries(Object.entries(protos).map(([n, p]) => [n, keysOf(p)]));
process.on('message', (m) => {
  if (!m || m.type !== 'probe') return;
  if (m.gc && typeof globalThis.gc === 'function') { globalThis.gc(); globalThis.gc(); }
  const changed = [];
  for (const [n, p] of Object.entries(protos)) {
    const now = keysOf(p);
    const added = now.filter((k) => !before[n].includes(k));
    const removed = before[n].filter((k) => !now.includes(k));
    if (added.length || removed.length) changed.push(n + ': +' + added.join(',') + ' -' + removed.join(','));
  }
  const probe = {};
  const sentinels = (m.sentinels || []).filter((k) => probe[k] !== undefined);
  const mem = process.memoryUsage();
  process.send({ type: 'probe', id: m.id, rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external, changed, sentinels });
});
`;

interface Probe {
  rss: number;
  heapUsed: number;
  external: number;
  changed: string[];
  sentinels: string[];
}

class ServerChild {
  readonly url: string;
  exited: { code: number | null; signal: string | null } | undefined;
  errorLogLines = 0;
  readonly tail: string[] = [];
  private probes = 0;

  private constructor(
    readonly child: ChildProcess,
    port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(s: Settings): Promise<ServerChild> {
    const args = ['--snapshot', join(s.fixtures, 'cluster.json'), '--port', '0', '--host', '127.0.0.1'];
    if (s.bodyLimit !== undefined) {
      const config = join(tmpdir(), `sysctl-extender-fuzz-${process.pid}.json`);
      writeFileSync(config, JSON.stringify({ bodyLimitBytes: s.bodyLimit }));
      args.push('--config', config);
    }
    const child = fork(s.server, args, {
      execArgv: ['--expose-gc', '--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, LOG_LEVEL: 'info' },
    });
    const lines: string[] = [];
    let onPort: ((port: number) => void) | undefined;
    let self: ServerChild | undefined;
    const consume = (stream: NodeJS.ReadableStream | null) => {
      let pending = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        pending += chunk;
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          const target = self?.tail ?? lines;
          target.push(line.slice(0, 2_000));
          if (target.length > 40) target.shift();
          const port = /"port":(\d+)/.exec(line)?.[1];
          if (port && onPort) onPort(Number(port));
          if (/"level":(5\d|60)/.test(line) && self) self.errorLogLines += 1;
        }
      });
    };
    consume(child.stdout);
    consume(child.stderr);
    const port = await new Promise<number>((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error('the server did not print its port within 30 s')), 30_000);
      onPort = (p) => {
        clearTimeout(timer);
        resolvePort(p);
      };
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the server exited (${String(code ?? signal)}) before listening:\n${lines.join('\n')}`));
      });
    });
    self = new ServerChild(child, port);
    self.tail.push(...lines);
    child.on('exit', (code, signal) => (self!.exited = { code, signal }));
    return self;
  }

  async probe(gc: boolean): Promise<Probe> {
    const id = ++this.probes;
    this.child.send({ type: 'probe', id, gc, sentinels: POLLUTION_SENTINELS });
    const timeout = AbortSignal.timeout(10_000);
    for (;;) {
      const [message] = (await once(this.child, 'message', { signal: timeout })) as [Probe & { type: string; id: number }];
      if (message?.type === 'probe' && message.id === id) return message;
    }
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exit = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(timer);
  }
}

// --- the run ---------------------------------------------------------------------------------

interface Violation {
  seq: number;
  kind: string;
  method: string;
  path: string;
  seed: string | undefined;
  bodyBytes: number;
  status: number | string;
  problems: string[];
  file?: string;
}

/** How many answers the server itself timed over 1 s and over 5 s (sysctl_extender_request_duration_seconds). */
async function slowAnswers(url: string, timeoutMs: number): Promise<{ over1s: number; over5s: number } | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })).text();
    const sum = (le: string) =>
      text
        .split('\n')
        .filter((line) => line.startsWith('sysctl_extender_request_duration_seconds_bucket{') && line.includes(`le="${le}"`))
        .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    const all = sum('+Inf');
    return { over1s: all - sum('1'), over5s: all - sum('5') };
  } catch {
    return undefined;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const s = settings();
  const seeds = loadSeedBodies(s.fixtures);
  const failuresDir = join(s.outDir, 'fuzz');
  mkdirSync(failuresDir, { recursive: true });
  process.stdout.write(`fuzz: ${s.requests} requests, seed ${s.seed}, concurrency ${s.concurrency}, ${seeds.length} seed bodies from ${s.fixtures}\n`);

  let server: ServerChild;
  try {
    server = await ServerChild.start(s);
  } catch (err) {
    usage((err as Error).message);
  }
  if (!server.url.startsWith('http://127.0.0.1:')) usage(`refusing to fuzz ${server.url}: loopback only`);
  const bodyLimit = s.bodyLimit ?? 100 * MB;
  const fuzzer = new RequestFuzzer(seeds, {
    seed: s.seed,
    bodyLimitBytes: bodyLimit,
    maxHugeBytes: Math.min(s.hugeBytes, Math.floor(bodyLimit * 0.9)),
    // Bodies past a 100 MiB limit are expensive to send: about one in 5,000 requests then.
    oversizeWeight: bodyLimit >= 16 * MB ? 0.02 : 0.5,
    // Huge bodies (16 KiB .. hugeBytes) in about 2% of the requests: they dominate the run time.
    hugeWeight: 2,
  });

  const before = await summarizeFilters(server.url, seeds);
  const startProbe = await server.probe(true);
  const started = performance.now();
  const deadline = started + s.maxSeconds * 1000;
  const warmup = Math.min(2_000, Math.floor(s.requests / 10));

  const byStatus = new Map<string, number>();
  const byKind = new Map<string, number>();
  const known = new Map<string, number>();
  const violations: Violation[] = [];
  const latencies = new Float64Array(s.requests);
  let slowest = { ms: 0, kind: '', seq: 0 };
  let sent = 0;
  let issued = 0;
  /** Requests to issue in the current phase: the warm-up, then all of them. */
  let limit = warmup;
  let stopReason: string | undefined;
  let baseline: Probe | undefined;
  const rssSamples: Array<{ sent: number; rssMb: number }> = [];
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

  const record = (request: FuzzRequest, outcome: FuzzOutcome) => {
    latencies[sent] = outcome.ms;
    sent += 1;
    if (outcome.ms > slowest.ms) slowest = { ms: outcome.ms, kind: request.kind, seq: request.seq };
    const status = 'failure' in outcome ? outcome.failure : String(outcome.status);
    bump(byStatus, status);
    bump(byKind, request.kind.split(/[:>+]/, 2).join(':'));
    let problems = checkAnswer(request, outcome);
    if (server.exited) problems = [...problems, `server exited (${String(server.exited.code ?? server.exited.signal)})`];
    if (problems.length === 0) return;
    const issue = knownIssue(request, outcome);
    if (issue) bump(known, issue);
    if (issue && s.allowKnown) return;
    const violation: Violation = { seq: request.seq, kind: request.kind, method: request.method, path: request.path.slice(0, 200), seed: request.seed, bodyBytes: request.body?.length ?? 0, status, problems: issue ? [`known: ${issue}`, ...problems] : problems };
    // Keep the bodies of the first unknown violations, and of a few of each known issue.
    const kept = issue ? (known.get(issue) ?? 0) <= 3 : violations.filter((v) => !v.problems[0]?.startsWith('known:')).length < 50;
    if (kept) {
      violation.file = join(failuresDir, `${s.seed}-${request.seq}.body`);
      writeFileSync(violation.file, request.body ?? new Uint8Array());
      writeFileSync(`${violation.file}.json`, JSON.stringify({ ...violation, headers: request.headers, chunked: request.chunked }, null, 2));
    }
    violations.push(violation);
  };

  const worker = async () => {
    while (issued < limit && !stopReason) {
      if (performance.now() > deadline) {
        stopReason = `time bound of ${s.maxSeconds} s reached`;
        break;
      }
      if (server.exited) {
        stopReason = `server exited (${String(server.exited.code ?? server.exited.signal)})`;
        break;
      }
      issued += 1;
      const request = fuzzer.next();
      record(request, await sendFuzzRequest(server.url, request, s.timeoutMs));
    }
  };

  const progress = setInterval(() => {
    void server
      .probe(false)
      .then((p) => {
        rssSamples.push({ sent, rssMb: Math.round(p.rss / MB) });
        const rate = sent / ((performance.now() - started) / 1000);
        process.stdout.write(`  ${sent} sent, ${rate.toFixed(0)}/s, ${violations.length} violations, child RSS ${(p.rss / MB).toFixed(0)} MB\n`);
      })
      .catch(() => undefined);
  }, 10_000);

  // Warm-up (counted and checked like the rest), then the RSS baseline.
  await Promise.all(Array.from({ length: s.concurrency }, worker));
  limit = s.requests;
  if (!server.exited) baseline = await server.probe(true);
  await Promise.all(Array.from({ length: s.concurrency }, worker));
  clearInterval(progress);
  const elapsed = (performance.now() - started) / 1000;

  // --- after the run ---
  const finalProblems: string[] = [];
  let endProbe: Probe | undefined;
  let serverSlow: { over1s: number; over5s: number } | undefined;
  if (server.exited) finalProblems.push(`server crashed: exit ${String(server.exited.code ?? server.exited.signal)}`);
  else {
    finalProblems.push(...compareSummaries(before, await summarizeFilters(server.url, seeds)).map((p) => `final answer: ${p}`));
    const health = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(s.timeoutMs) }).catch((err: Error) => err);
    if (health instanceof Error || health.status !== 200) finalProblems.push(`/healthz: ${health instanceof Error ? health.message : health.status}`);
    serverSlow = await slowAnswers(server.url, s.timeoutMs);
    // RSS after GC still carries allocator slack from the last big bodies: idle a moment and
    // keep the lowest of a few probes.
    for (let i = 0; i < 3; i += 1) {
      await new Promise((done) => setTimeout(done, 700));
      const probe = await server.probe(true);
      if (!endProbe || probe.rss < endProbe.rss) endProbe = probe;
    }
    endProbe ??= await server.probe(true);
    if (endProbe.changed.length > 0) finalProblems.push(`built-in prototypes changed: ${endProbe.changed.join('; ')}`);
    if (endProbe.sentinels.length > 0) finalProblems.push(`Object.prototype polluted: ${endProbe.sentinels.join(', ')}`);
    const from = baseline ?? startProbe;
    const growthMb = (endProbe.rss - from.rss) / MB;
    if (growthMb > s.rssBoundMb) finalProblems.push(`RSS grew ${growthMb.toFixed(0)} MB after the warm-up (bound ${s.rssBoundMb} MB)`);
    const jsGrowthMb = (endProbe.heapUsed + endProbe.external - from.heapUsed - from.external) / MB;
    if (jsGrowthMb > s.heapBoundMb) finalProblems.push(`JS heap + external memory grew ${jsGrowthMb.toFixed(0)} MB after the warm-up (bound ${s.heapBoundMb} MB)`);
  }
  await server.stop();

  const sorted = latencies.slice(0, sent).sort();
  const summary = {
    settings: { ...s, bodyLimit },
    sent,
    elapsedSeconds: Number(elapsed.toFixed(1)),
    requestsPerSecond: Math.round(sent / elapsed),
    byStatus: Object.fromEntries([...byStatus].sort()),
    byKind: Object.fromEntries([...byKind].sort((a, b) => b[1] - a[1])),
    latencyMs: { p50: +percentile(sorted, 50).toFixed(2), p99: +percentile(sorted, 99).toFixed(2), max: +slowest.ms.toFixed(1), slowest },
    rssMb: {
      start: Math.round(startProbe.rss / MB),
      afterWarmup: baseline ? Math.round(baseline.rss / MB) : undefined,
      end: endProbe ? Math.round(endProbe.rss / MB) : undefined,
      samples: rssSamples,
    },
    heapUsedMb: { afterWarmup: baseline ? Math.round(baseline.heapUsed / MB) : undefined, end: endProbe ? Math.round(endProbe.heapUsed / MB) : undefined },
    externalMb: { afterWarmup: baseline ? Math.round(baseline.external / MB) : undefined, end: endProbe ? Math.round(endProbe.external / MB) : undefined },
    serverErrorLogLines: server.errorLogLines,
    /** From the server's own request-duration histogram (time from request to answer). */
    serverSlowAnswers: serverSlow,
    knownIssues: Object.fromEntries(known),
    violations: violations.length,
    // New problems first, then examples of the known issues.
    firstViolations: [...violations.filter((v) => !v.problems[0]?.startsWith('known:')).slice(0, 30), ...violations.filter((v) => v.file && v.problems[0]?.startsWith('known:'))],
    finalProblems,
    stopReason,
    serverTail: server.exited ? server.tail : undefined,
  };
  writeFileSync(join(s.outDir, 'fuzz-latest.json'), `${JSON.stringify(summary, null, 2)}\n`);

  const out = process.stdout;
  out.write(`\nfuzz: ${sent} requests in ${elapsed.toFixed(1)} s (${summary.requestsPerSecond}/s), seed ${s.seed}\n`);
  out.write(`  by status: ${Object.entries(summary.byStatus).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  out.write(`  latency: p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms, max ${summary.latencyMs.max} ms (#${slowest.seq} ${slowest.kind})\n`);
  out.write(`  child RSS: start ${summary.rssMb.start} MB, after warm-up ${summary.rssMb.afterWarmup ?? '-'} MB, end ${summary.rssMb.end ?? '-'} MB (after GC); heap used ${summary.heapUsedMb.afterWarmup ?? '-'} -> ${summary.heapUsedMb.end ?? '-'} MB, external ${summary.externalMb.afterWarmup ?? '-'} -> ${summary.externalMb.end ?? '-'} MB\n`);
  if (serverSlow) out.write(`  server-side (its /metrics histogram): ${serverSlow.over1s} answers took over 1 s, ${serverSlow.over5s} over 5 s; ${server.errorLogLines} error log lines\n`);
  for (const [issue, count] of known) out.write(`  known issue x${count}: ${issue}\n`);
  const shown = summary.firstViolations.slice(0, 15);
  for (const v of shown) out.write(`  VIOLATION #${v.seq} ${v.kind} ${v.method} ${v.path.slice(0, 60)} (${v.bodyBytes} B from ${v.seed ?? '-'}): ${v.problems.join('; ')}${v.file ? ` [${v.file}]` : ''}\n`);
  if (violations.length > shown.length) out.write(`  ... ${violations.length - shown.length} more violations (${violations.filter((v) => !v.problems[0]?.startsWith('known:')).length} not known)\n`);
  for (const p of finalProblems) out.write(`  FINAL: ${p}\n`);
  out.write(`  summary: ${join(s.outDir, 'fuzz-latest.json')}\n`);

  if (violations.length > 0 || finalProblems.length > 0) {
    out.write('fuzz: FAILED\n');
    process.exit(1);
  }
  if (stopReason || sent < s.requests) {
    out.write(`fuzz: INCOMPLETE (${stopReason ?? 'stopped early'})\n`);
    process.exit(3);
  }
  out.write('fuzz: OK\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`fuzz: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
