/**
 * Fuzzing the HTTP verbs: a few thousand random and mutated versions of the real kube-scheduler
 * bodies (support/fuzz/) against an in-process extender. Every answer must be a
 * non-5xx JSON answer within 5 s (a 4xx as `{"Error": "<message>"}`, a 200 in the shape
 * kube-scheduler decodes); afterwards the server must answer the real bodies as before, the
 * built-in prototypes must be untouched and memory must not have grown without bound.
 *
 * Deterministic: FUZZ_SEED (default below) fixes the sequence, FUZZ_TEST_REQUESTS its length.
 * The long run is tools/fuzz.ts (npm run fuzz). Faults it found are kept at the end as regression tests.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../src/config/policy.js';
import { checkAnswer, knownIssue } from '../support/fuzz/answer-check.js';
import { compareSummaries, summarizeFilters, type FilterSummary } from '../support/fuzz/filter-summary.js';
import { pollutionSeen, prototypeKeys } from '../support/fuzz/pollution.js';
import { RequestFuzzer, deepArray, deepObject, type FuzzRequest } from '../support/fuzz/request-fuzzer.js';
import { loadSeedBodies, type SeedBody } from '../support/fuzz/seed-bodies.js';
import { sendFuzzRequest } from '../support/fuzz/send.js';
import { FIXTURES, fixture, fixtureCluster, post, startExtender, type RunningExtender } from './support/http.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_251_123);
const REQUESTS = Number(process.env.FUZZ_TEST_REQUESTS ?? 3_000);
const BODY_LIMIT = 1024 * 1024;
const CONCURRENCY = 4;
const TIMEOUT_MS = 5_000;
const MB = 1024 * 1024;

/** A real `gc()` even without --expose-gc, so that memory is compared after collection. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
const gc = collector();

function memory(): { rss: number; heapUsed: number; external: number } {
  gc();
  gc();
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, heapUsed, external };
}

interface Campaign {
  sent: number;
  byStatus: Map<string, number>;
  byKind: Map<string, number>;
  violations: Array<{ request: FuzzRequest; problems: string[] }>;
  known: Map<string, number>;
  maxMs: number;
}

async function runCampaign(url: string, fuzzer: RequestFuzzer, count: number): Promise<Campaign> {
  const campaign: Campaign = { sent: 0, byStatus: new Map(), byKind: new Map(), violations: [], known: new Map(), maxMs: 0 };
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  let issued = 0;
  const worker = async () => {
    while (issued < count) {
      issued += 1;
      const request = fuzzer.next();
      const outcome = await sendFuzzRequest(url, request, TIMEOUT_MS);
      campaign.sent += 1;
      campaign.maxMs = Math.max(campaign.maxMs, outcome.ms);
      bump(campaign.byStatus, 'failure' in outcome ? outcome.failure : String(outcome.status));
      bump(campaign.byKind, request.kind.split(/[:>+]/, 2).join(':'));
      const problems = checkAnswer(request, outcome);
      if (problems.length === 0) continue;
      const known = knownIssue(request, outcome);
      if (known) bump(campaign.known, known);
      else campaign.violations.push({ request, problems });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return campaign;
}

function describeViolation({ request, problems }: Campaign['violations'][number]): string {
  const preview = request.body ? Buffer.from(request.body.subarray(0, 160)).toString('latin1') : '';
  return `#${request.seq} ${request.kind} ${request.method} ${request.path.slice(0, 60)} from ${request.seed ?? '-'}: ${problems.join('; ')} | body ${request.body?.length ?? 0} B: ${preview}`;
}

describe('fuzzing the HTTP verbs', () => {
  let server: RunningExtender;
  let seeds: SeedBody[];
  let before: Map<string, FilterSummary | string>;
  let prototypesBefore: Record<string, string[]>;
  let memoryBefore: { rss: number; heapUsed: number; external: number };

  beforeAll(async () => {
    // The capture's kubelet-less nodes, trusted as in the fixture replay (test/http-fixtures.test.ts).
    server = await startExtender(fixtureCluster(), parsePolicy({ bodyLimitBytes: BODY_LIMIT, trustUndeclaredAllowList: true }));
    seeds = loadSeedBodies(FIXTURES);
    before = await summarizeFilters(server.url, seeds);
    prototypesBefore = prototypeKeys();
    // Warm up first (allocator arenas, JIT, caches): the bound is on growth over the campaign.
    await runCampaign(server.url, new RequestFuzzer(seeds, { seed: SEED + 1, bodyLimitBytes: BODY_LIMIT, maxHugeBytes: 256 * 1024, oversizeWeight: 2 }), 1_000);
    memoryBefore = memory();
  }, 300_000); // bounded by its work, not by time: a busy machine takes several times the idle time
  afterAll(() => server.close());

  it('loads every real request body as a seed', () => {
    expect(seeds.map((s) => s.verb).sort()).toEqual(expect.arrayContaining(['bind', 'filter', 'preempt', 'prioritize']));
    expect(seeds.length).toBeGreaterThanOrEqual(40);
    // The reference answers are sane before fuzzing starts.
    expect(before.get('names/d-nodelevel-filter.json')).toEqual({ passing: ['n3'], failed: {}, unresolvable: expect.any(Object) });
    expect(before.get('nodes/c-unsafe-filter.json')).toMatchObject({ passing: ['n1', 'n4'], failed: {} });
  });

  it(`answers ${REQUESTS} broken requests with JSON, never a 5xx or a hang, and stays correct`, async () => {
    const fuzzer = new RequestFuzzer(seeds, { seed: SEED, bodyLimitBytes: BODY_LIMIT, maxHugeBytes: 256 * 1024, oversizeWeight: 0.5 });
    const campaign = await runCampaign(server.url, fuzzer, REQUESTS);

    expect(campaign.violations.slice(0, 10).map(describeViolation), `seed ${SEED}`).toEqual([]);
    expect(campaign.sent).toBe(REQUESTS);
    expect(campaign.maxMs).toBeLessThan(TIMEOUT_MS);
    // Not vacuous: good answers, client errors of several kinds, oversized bodies, and every category.
    expect(campaign.byStatus.get('200') ?? 0).toBeGreaterThan(REQUESTS / 10);
    expect(campaign.byStatus.get('400') ?? 0).toBeGreaterThan(REQUESTS / 10);
    expect([...campaign.byStatus.keys()]).toEqual(expect.arrayContaining(['404', '405', '413', '415']));
    for (const kind of ['good', 'tree', 'bytes', 'root', 'huge', 'crossVerb', 'request', 'headers']) {
      expect([...campaign.byKind.keys()].some((k) => k.startsWith(kind)), kind).toBe(true);
    }

    // Still answers the real bodies right (binds made during the campaign may only have made
    // idle nodes busy), and still serves the other endpoints.
    expect(compareSummaries(before, await summarizeFilters(server.url, seeds))).toEqual([]);
    const good = await post(`${server.url}/filter`, fixture('names/e-vm-in-sc-filter.json'));
    expect(good.status).toBe(200);
    expect(Object.values((good.body as { FailedAndUnresolvableNodes: Record<string, string> }).FailedAndUnresolvableNodes)).toEqual(
      Array(4).fill('pod sets node-level sysctl vm.max_map_count in securityContext.sysctls; declare it in annotation sysctl-extender.io/sysctls'),
    );
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    // No prototype pollution, and memory did not run away.
    expect(pollutionSeen()).toEqual([]);
    expect(prototypeKeys()).toEqual(prototypesBefore);
    const after = memory();
    if (process.env.FUZZ_VERBOSE) {
      console.log({ byStatus: Object.fromEntries(campaign.byStatus), known: Object.fromEntries(campaign.known), maxMs: Math.round(campaign.maxMs), heapGrowthMB: (after.heapUsed - memoryBefore.heapUsed) / MB, externalGrowthMB: (after.external - memoryBefore.external) / MB, rssGrowthMB: (after.rss - memoryBefore.rss) / MB });
    }
    expect(after.heapUsed - memoryBefore.heapUsed).toBeLessThan(64 * MB);
    expect(after.rss - memoryBefore.rss).toBeLessThan(200 * MB);
  }, 300_000); // bounded by its work, not by time: a busy machine takes several times the idle time

  it('the checker itself catches a 5xx, a non-JSON body, an empty error and a wrong filter answer', () => {
    const request: FuzzRequest = { seq: 1, kind: 'good', seed: undefined, method: 'POST', path: '/filter', headers: {}, body: new TextEncoder().encode('{"Pod":{},"NodeNames":["n1","n2"]}'), chunked: false };
    const answer = (status: number, text: string) => ({ status, text, contentType: 'application/json', ms: 1 });
    expect(checkAnswer(request, answer(500, '{"Error":"internal error"}'))).toEqual(['status 500']);
    expect(checkAnswer(request, answer(400, 'Bad Request'))[0]).toMatch(/not JSON/);
    expect(checkAnswer(request, answer(400, '{"Error":""}'))[0]).toMatch(/without \{"Error"/);
    expect(checkAnswer(request, { failure: 'timeout', message: 'no answer within 5000 ms', ms: 5000 })).toEqual(['timeout: no answer within 5000 ms']);
    const filterAnswer = (names: string[], failed: object) => answer(200, JSON.stringify({ NodeNames: names, Nodes: null, FailedNodes: failed, FailedAndUnresolvableNodes: {}, Error: '' }));
    expect(checkAnswer(request, filterAnswer(['n1'], { n2: 'busy' }))).toEqual([]);
    expect(checkAnswer(request, filterAnswer(['n1', 'n3'], { n2: 'busy' })).join()).toMatch(/not asked about/);
    expect(checkAnswer(request, filterAnswer(['n1'], {})).join()).toMatch(/"n2" answered 0 times/);
  });
});

/** Faults the fuzzing found, each fixed; kept as regression tests. */
describe('faults found by fuzzing', () => {
  let server: RunningExtender;
  beforeAll(async () => {
    server = await startExtender(fixtureCluster(), parsePolicy({ bodyLimitBytes: 4 * MB }));
  });
  afterAll(() => server.close());

  // Fixed: in `Nodes` mode (nodeCacheCapable: false) filter echoes the passing Node objects whole;
  // one carrying a value nested 5,000+ levels deep makes JSON.stringify throw RangeError (call
  // stack) while the answer is written, and the error handler answers 500 "internal error".
  // kube-scheduler reports a 500 from filter as a scheduling error. Expected: a 4xx saying the
  // body is nested too deeply (Go's own decoder stops at 10,000 levels), or a 200.
  it('a passing Node object with a 10,000-level nested field gets a 4xx or 200, not a 500', async () => {
    const body = fixture('nodes/a-none-filter.json').replace('"Nodes":{"metadata":{},"items":[{', `"Nodes":{"metadata":{},"items":[{"extra":${deepArray(10_000)},`);
    expect(body).toContain(deepArray(10_000));
    const answer = await post(`${server.url}/filter`, body);
    expect(answer.status).toBeLessThan(500);
    expect(answer.body).toBeDefined();
  });

  it('the same with {"a":{"a":...}} nesting', async () => {
    const body = fixture('nodes/a-none-filter.json').replace('"Nodes":{"metadata":{},"items":[{', `"Nodes":{"metadata":{},"items":[{"extra":${deepObject(10_000)},`);
    const answer = await post(`${server.url}/filter`, body);
    expect(answer.status).toBeLessThan(500);
  });

  // Fixed: requests Node's HTTP parser refuses never reach express: a request line plus
  // headers over Node's 16 KiB limit gets `431` with an empty body, a method llhttp does not
  // know gets `400` with an empty body; not JSON, no {"Error"}. Expected: a JSON error like
  // every other 4xx (e.g. a `clientError` handler on the server writing one).
  it('a 20 kB URL gets a JSON error', async () => {
    const res = await fetch(`${server.url}/${'b'.repeat(20_000)}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    expect(res.status).toBeLessThan(500);
    expect(JSON.parse(await res.text())).toHaveProperty('Error');
  });

  // Same cause: a method llhttp does not know gets an empty 400 from Node, not express's JSON 405.
  it('an unknown method gets a JSON error', async () => {
    const res = await fetch(`${server.url}/filter`, { method: 'FOO', body: fixture('names/a-none-filter.json'), signal: AbortSignal.timeout(TIMEOUT_MS) });
    expect(res.status).toBeLessThan(500);
    expect(JSON.parse(await res.text())).toHaveProperty('Error');
  });

  // Fixed: filter and prioritize remember each request's pod by UID for bind (Binder.rememberPod:
  // an LRU of 10,000 entries, 5 min TTL, bounded by count, not by bytes). It now keeps only the
  // fields the rules read, but those are unbounded in size: the sysctls annotation (any length),
  // the UID itself (no maxLength in the request schema), up to 1,024 sysctls of 4 KiB each.
  // Here 300 filter calls whose pods carry a 1 MB sysctls annotation (a comment) under distinct
  // UIDs keep ~300 MB on the heap; 10,000 such calls within 5 minutes would keep ~10 GB.
  // Expected: memory bounded regardless of body size (bound the cache by bytes, or cap the
  // sizes of what it keeps: a kube-scheduler UID is 36 characters, annotations 256 KiB in all).
  it('filter bodies with big pods of distinct UIDs do not pile up on the heap', async () => {
    const args = JSON.parse(fixture('names/a-none-filter.json')) as { Pod: { metadata: { uid: string; annotations: Record<string, string> } } };
    const comment = `# ${'x'.repeat(MB)}`;
    const start = memory();
    const statuses = new Set<number>();
    for (let i = 0; i < 300; i += 1) {
      args.Pod.metadata.uid = `fuzz-uid-${i}`;
      args.Pod.metadata.annotations = { 'sysctl-extender.io/sysctls': `${comment}${i}` };
      statuses.add((await post(`${server.url}/filter`, JSON.stringify(args))).status);
    }
    if (statuses.size !== 1 || !statuses.has(200)) return; // precondition: every call answered
    const grown = memory().heapUsed - start.heapUsed;
    if (process.env.FUZZ_VERBOSE) console.log(`heap grew ${(grown / MB).toFixed(0)} MB over 300 calls`);
    expect(grown).toBeLessThan(100 * MB);
  }, 300_000); // bounded by its work, not by time: a busy machine takes several times the idle time
});
