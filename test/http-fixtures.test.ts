import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../src/config/policy.js';
import type { ExtenderArgs, ExtenderFilterResult, HostPriority } from '../src/http/wire-types.js';
import { FIXTURES, fixture, fixtureCluster, post, startExtender, type RunningExtender } from './support/http.js';

/**
 * Replays the bodies kube-scheduler v1.26.1 really sent (test/fixtures/kube-scheduler) against
 * an index of the capture's cluster (n1 team a, n2 team b, n3 declares vm.max_map_count, n4
 * shared with an allow-list), and checks the answers in the exact shape kube-scheduler decodes.
 */

const EXPECTED_PASSING: Record<string, string[]> = {
  'a-none': ['n1', 'n4'], // untuned nodes of its team or shared; n3 is tuned
  'b-safe': ['n2', 'n4'], // safe sysctls do not count
  'c-unsafe': ['n1', 'n4'], // claims an idle untuned node; n4's allow-list admits kernel.shm*/kernel.sem
  'd-nodelevel': ['n3'], // teamless and needs vm.max_map_count: only n3 declares it
  'e-vm-in-sc': [], // node-level sysctl in securityContext: no kubelet would run it
  'f-slashes': ['n1', 'n4'], // the same profile as c-unsafe once normalised
};

const FILTER_KEYS = ['Error', 'FailedAndUnresolvableNodes', 'FailedNodes', 'NodeNames', 'Nodes'];

/**
 * The capture's nodes had no kubelet behind them and declare no allow-list, except n4: replayed
 * with the trusting setting, as a cluster whose kubelets all allow unsafe sysctls. What the
 * default policy makes of the same capture is checked at the end of this file.
 */
const TRUSTING = parsePolicy({ trustUndeclaredAllowList: true });

let server: RunningExtender;
beforeAll(async () => {
  server = await startExtender(fixtureCluster(), TRUSTING);
});
afterAll(() => server.close());

function inputNames(args: ExtenderArgs): string[] {
  return args.NodeNames ?? args.Nodes!.items.map((n) => n.metadata!.name!);
}

/** Every input node is answered exactly once: passing, failed or unresolvable; none invented. */
function expectPartition(result: ExtenderFilterResult, input: string[], passing: string[]): void {
  const failed = Object.keys(result.FailedNodes);
  const unresolvable = Object.keys(result.FailedAndUnresolvableNodes);
  expect([...passing, ...failed, ...unresolvable].sort()).toEqual([...input].sort());
}

describe.each(['names', 'nodes'])('filter, nodeCacheCapable %s', (mode) => {
  it.each(Object.entries(EXPECTED_PASSING))('%s passes exactly %j', async (pod, expected) => {
    const text = fixture(`${mode}/${pod}-filter.json`);
    const args = JSON.parse(text) as ExtenderArgs;
    const answer = await post(`${server.url}/filter`, text);
    expect(answer.status).toBe(200);
    const result = answer.body as ExtenderFilterResult;
    expect(Object.keys(result).sort()).toEqual(FILTER_KEYS);
    expect(result.Error).toBe('');
    let passing: string[];
    if (mode === 'names') {
      expect(result.Nodes).toBeNull();
      passing = result.NodeNames!;
    } else {
      expect(result.NodeNames).toBeNull();
      passing = result.Nodes!.items.map((n) => n.metadata!.name!);
      // The passing Node objects go back whole, as kube-scheduler sent them.
      for (const item of result.Nodes!.items) {
        expect(item).toEqual(args.Nodes!.items.find((n) => n.metadata!.name === item.metadata!.name));
      }
    }
    expect([...passing].sort()).toEqual(expected);
    expectPartition(result, inputNames(args), passing);
  });

  it('refuses the node-level sysctl in securityContext on every node with one reason naming it', async () => {
    const result = (await post(`${server.url}/filter`, fixture(`${mode}/e-vm-in-sc-filter.json`))).body as ExtenderFilterResult;
    const reasons = new Set(Object.values(result.FailedAndUnresolvableNodes));
    expect(reasons.size).toBe(1);
    expect([...reasons][0]).toMatch(/vm\.max_map_count.*securityContext.*sysctl-extender\.io\/sysctls/);
    expect(Object.keys(result.FailedNodes)).toEqual([]);
  });
});

describe('filter reasons', () => {
  it('are split between unresolvable (team, declarations) and resolvable, with stable texts', async () => {
    const result = (await post(`${server.url}/filter`, fixture('names/d-nodelevel-filter.json'))).body as ExtenderFilterResult;
    expect(result.FailedAndUnresolvableNodes).toEqual({
      n1: "node is dedicated; namespace has no team",
      n2: "node is dedicated; namespace has no team",
      n4: "node sets other node-level sysctls",
    });
    expect(result.FailedNodes).toEqual({});
  });
});

describe.each(['names', 'nodes'])('prioritize, nodeCacheCapable %s', (mode) => {
  it.each(Object.keys(EXPECTED_PASSING))('%s scores every input node 0..10 as a HostPriorityList', async (pod) => {
    const text = fixture(`${mode}/${pod}-prioritize.json`);
    const answer = await post(`${server.url}/prioritize`, text);
    expect(answer.status).toBe(200);
    const list = answer.body as HostPriority[];
    expect(list.map((h) => h.Host)).toEqual(inputNames(JSON.parse(text) as ExtenderArgs));
    for (const entry of list) {
      expect(Object.keys(entry).sort()).toEqual(['Host', 'Score']);
      expect(Number.isInteger(entry.Score) && entry.Score >= 0 && entry.Score <= 10).toBe(true);
    }
    const scoreOf = (host: string) => list.find((h) => h.Host === host)!.Score;
    // Nodes the filter rejects score 0; passing ones rank their own team's node first.
    const failing = ['n1', 'n2', 'n3', 'n4'].filter((n) => !EXPECTED_PASSING[pod]!.includes(n));
    for (const n of failing) expect(scoreOf(n)).toBe(0);
    if (pod === 'c-unsafe') expect(scoreOf('n1')).toBeGreaterThan(scoreOf('n4'));
  });
});

describe('later scheduling cycles', () => {
  it('answers the retry after a refused bind like the first attempt', async () => {
    const result = (await post(`${server.url}/filter`, fixture('retry/names-c-unsafe-retry-filter.json'))).body as ExtenderFilterResult;
    expect([...result.NodeNames!].sort()).toEqual(['n1', 'n4']);
  });

  // `high` is team-a with the c-unsafe sysctls; after preemption kube-scheduler asks only about
  // the nominated node (n4 in names/, n1 in nodes/), and both qualify for it.
  it.each([
    ['names', 'n4'],
    ['nodes', 'n1'],
  ])('answers the filter after preemption (%s), the pod nominated to %s', async (mode, nominated) => {
    const result = (await post(`${server.url}/filter`, fixture(`preempt/${mode}-after-preempt-filter.json`))).body as ExtenderFilterResult;
    expect(result.Error).toBe('');
    expect(result.NodeNames ?? result.Nodes!.items.map((n) => n.metadata!.name!)).toEqual([nominated]);
  });
});

describe('Go-style field names', () => {
  it('decodes lower-case keys like encoding/json and still answers capitalised', async () => {
    const text = fixture('names/c-unsafe-filter.json').replace('"Pod":', '"pod":').replace('"NodeNames":', '"nodenames":').replace('"Nodes":', '"NODES":');
    const answer = await post(`${server.url}/filter`, text);
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body as object).sort()).toEqual(FILTER_KEYS);
    expect([...(answer.body as ExtenderFilterResult).NodeNames!].sort()).toEqual(['n1', 'n4']);
  });
});

describe('fixture coverage', () => {
  it('replays every filter, prioritize and bind body in the fixture folder', () => {
    const bodies = ['names', 'nodes'].flatMap((dir) => readdirSync(join(FIXTURES, dir)).filter((f) => /-(filter|prioritize|bind)\.json$/.test(f)));
    expect(bodies).toHaveLength(Object.keys(EXPECTED_PASSING).length * 6);
  });
});

describe('bind, replayed', () => {
  // Each bind follows its own filter call (kube-scheduler's cycle); the node in the bind body is
  // the one kube-scheduler's default plugins picked, which our rules may refuse.
  const cases: Array<[filterBody: string, bindBody: string, pod: string]> = [
    ...['names', 'nodes'].flatMap((mode) =>
      Object.keys(EXPECTED_PASSING).map((pod): [string, string, string] => [`${mode}/${pod}-filter.json`, `${mode}/${pod}-bind.json`, pod]),
    ),
    ['retry/names-c-unsafe-retry-filter.json', 'retry/names-c-unsafe-bind-refused.json', 'c-unsafe'],
    ['preempt/names-after-preempt-filter.json', 'preempt/names-after-preempt-bind.json', 'c-unsafe'],
    ['preempt/nodes-after-preempt-filter.json', 'preempt/nodes-after-preempt-bind.json', 'c-unsafe'],
  ];

  it.each(cases)('%s then %s', async (filterBody, bindBody, pod) => {
    const fresh = await startExtender(fixtureCluster(), TRUSTING);
    try {
      await post(`${fresh.url}/filter`, fixture(filterBody));
      const node = (JSON.parse(fixture(bindBody)) as { Node: string }).Node;
      const answer = await post(`${fresh.url}/bind`, fixture(bindBody));
      expect(answer.status).toBe(200);
      expect(Object.keys(answer.body as object)).toEqual(['Error']);
      const error = (answer.body as { Error: string }).Error;
      if (EXPECTED_PASSING[pod]!.includes(node)) expect(error).toBe('');
      else expect(error).toMatch(/^binding refused: /);
    } finally {
      await fresh.close();
    }
  });
});

describe('the same capture under the default policy (no trust in undeclared allow-lists)', () => {
  let strict: RunningExtender;
  beforeAll(async () => {
    strict = await startExtender(fixtureCluster());
  });
  afterAll(() => strict.close());

  it('sends unsafe sysctls only to n4, the node that declares its allow-list, and says elsewhere that the node has no allow-list', async () => {
    const result = (await post(`${strict.url}/filter`, fixture('names/c-unsafe-filter.json'))).body as ExtenderFilterResult;
    expect(result.NodeNames).toEqual(['n4']);
    expect(result.FailedAndUnresolvableNodes['n1']).toBe('node has no unsafe-sysctl allow-list');
    const d = (await post(`${strict.url}/filter`, fixture('names/d-nodelevel-filter.json'))).body as ExtenderFilterResult;
    expect(d.NodeNames).toEqual([]);
    expect(d.FailedAndUnresolvableNodes['n3']).toBe('node has no unsafe-sysctl allow-list');
  });

  it('places pods with no or only safe sysctls as before', async () => {
    for (const [pod, expected] of [['a-none', ['n1', 'n4']], ['b-safe', ['n2', 'n4']]] as const) {
      const result = (await post(`${strict.url}/filter`, fixture(`names/${pod}-filter.json`))).body as ExtenderFilterResult;
      expect([...result.NodeNames!].sort()).toEqual(expected);
    }
  });
});
