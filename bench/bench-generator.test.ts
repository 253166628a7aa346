import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { passAll } from './baseline-server.js';
import { BindPool, bindOutcomes } from './bind-pool.js';
import { generateCluster, planCluster } from '../support/synthetic-cluster/cluster-generator.js';
import { NaiveCluster } from './naive-server.js';
import { bindBodies, requestBodies } from './request-bodies.js';
import { median, percentile } from './stats.js';
import { applyList } from '../src/cluster/snapshot.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { Extender } from '../src/extender.js';
import { decodeCandidateArgs } from '../src/http/candidate-args.js';
import { runFilter } from '../src/http/filter-verb.js';
import { runPrioritize } from '../src/http/prioritize-verb.js';
import { listen } from '../src/http/serve.js';
import { CONFLICTING_PROFILE } from '../src/sysctl-index/profile-intern.js';
import type { KubePod } from '../src/sysctl-index/kube-objects.js';

/**
 * The benchmark's synthetic cluster must be what the bench claims it is (sizes, the strict
 * invariant, teams), its bodies shaped like kube-scheduler's, and its reference servers right,
 * or the figures it reports mean nothing. It lives beside the bench because it tests the bench
 * (test/ tests the product); vitest runs it with the suite.
 */

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'kube-scheduler');

const SMALL = { nodes: 60, podsPerNode: 12, seed: 7 };
const TEAM = DEFAULT_POLICY.keys.teamLabel;

function loaded(spec = SMALL) {
  const { plan, list } = generateCluster(spec);
  const extender = new Extender({ policy: DEFAULT_POLICY, readiness: { check: () => ({ ready: true }) } });
  const counts = applyList(extender.index, list);
  return { plan, list, extender, counts };
}

describe('synthetic cluster', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(JSON.stringify(generateCluster(SMALL).list)).toBe(JSON.stringify(generateCluster(SMALL).list));
    expect(JSON.stringify(planCluster({ ...SMALL, seed: 8 }).nodes)).not.toBe(JSON.stringify(planCluster(SMALL).nodes));
  });

  it('has exactly nodes x podsPerNode pods, all indexed, with unique names', () => {
    const { list, counts } = loaded();
    expect(counts).toMatchObject({ nodes: SMALL.nodes, pods: SMALL.nodes * SMALL.podsPerNode, skipped: 0 });
    const keys = list.items.filter((i) => i.kind === 'Pod').map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('keeps one profile per node (the strict invariant), with every tenth node idle', () => {
    const { plan, extender } = loaded();
    for (const planned of plan.nodes) {
      const view = extender.index.node(planned.name)!;
      expect(view.profileId).not.toBe(CONFLICTING_PROFILE);
      expect(view.occupants === 0).toBe(planned.idle);
    }
    expect(plan.nodes.filter((n) => n.idle)).toHaveLength(SMALL.nodes / 10);
  });

  it('puts on a dedicated node only pods of its team, DaemonSet pods aside', () => {
    const { plan, list } = loaded();
    const teamOf = new Map(list.items.filter((i) => i.kind === 'Namespace').map((ns) => [ns.metadata?.name, ns.metadata?.labels?.[TEAM]]));
    const nodeTeam = new Map(plan.nodes.map((n) => [n.name, n.team]));
    for (const pod of list.items.filter((i) => i.kind === 'Pod') as KubePod[]) {
      const team = nodeTeam.get(pod.spec?.nodeName ?? '');
      if (team === undefined || pod.metadata?.namespace === 'kube-system') continue;
      expect(teamOf.get(pod.metadata?.namespace)).toBe(team);
    }
  });

  it('marks DaemonSet pods the way the index recognises them', () => {
    const { list } = loaded();
    const daemonSetPods = list.items.filter((i) => (i as KubePod).metadata?.ownerReferences?.some((r) => r.kind === 'DaemonSet' && r.controller));
    expect(daemonSetPods).toHaveLength(SMALL.nodes * 3);
  });
});

describe('request bodies', () => {
  const plan = planCluster(SMALL);

  it('are written like kube-scheduler writes them: Pod, Nodes, NodeNames in that order', () => {
    for (const { body } of requestBodies(plan, 'names', 1)) {
      expect(Object.keys(JSON.parse(body))).toEqual(['Pod', 'Nodes', 'NodeNames']);
      expect(body).toContain('"Nodes":null,"NodeNames":[');
    }
    const [nodes] = requestBodies(plan, 'nodes', 0.1);
    expect(JSON.parse(nodes!.body)).toMatchObject({ Nodes: { metadata: {}, items: expect.any(Array) }, NodeNames: null });
  });

  it('send the requested share of the nodes as candidates', () => {
    expect(requestBodies(plan, 'names', 0.1).map((b) => JSON.parse(b.body).NodeNames.length)).toEqual([6, 6, 6, 6]);
    expect(new Set(JSON.parse(requestBodies(plan, 'names', 1)[1]!.body).NodeNames).size).toBe(SMALL.nodes);
  });

  it('carry a pod with the fields of the captured one', () => {
    const path = join(FIXTURES, 'names', 'c-unsafe-filter.json');
    if (!existsSync(path)) return;
    const captured = JSON.parse(readFileSync(path, 'utf8')).Pod;
    const ours = JSON.parse(requestBodies(plan, 'names', 0.1)[2]!.body).Pod;
    expect(Object.keys(ours.metadata).filter((k) => k !== 'annotations')).toEqual(Object.keys(captured.metadata));
    expect(Object.keys(ours.spec)).toEqual(Object.keys(captured.spec));
    expect(ours.spec.securityContext).toEqual(captured.spec.securityContext);
  });
});

describe('bind pool', () => {
  const spec = { ...SMALL, pendingPods: 150 };

  it('adds the pending pods unbound, beside exactly nodes x podsPerNode bound ones', () => {
    const { list, counts, extender } = loaded(spec);
    expect(counts.pods).toBe(SMALL.nodes * SMALL.podsPerNode + 150);
    const pending = list.items.filter((i) => i.kind === 'Pod' && !(i as KubePod).spec?.nodeName) as KubePod[];
    expect(pending).toHaveLength(150);
    expect(pending.every((p) => p.status?.phase === 'Pending')).toBe(true);
    expect(extender.index.pod(pending[0]!.metadata!.namespace!, pending[0]!.metadata!.name!)?.nodeName).toBeUndefined();
  });

  it('binds every pod of the pool, and no bind changes what filter and prioritize answer', async () => {
    const { plan, extender } = loaded(spec);
    const answers = () =>
      requestBodies(plan, 'names', 1).map(({ body }) => {
        const args = decodeCandidateArgs(Buffer.from(body), extender.generation.resolver);
        return [runFilter(args, extender.generation).answer.bytes.toString(), runPrioritize(args, extender.generation).bytes.toString()];
      });
    const before = answers();
    const bodies = bindBodies(plan);
    expect(new Set(bodies).size).toBe(150);
    for (const body of bodies) {
      const { PodName, PodNamespace, PodUID, Node } = JSON.parse(body);
      expect(await extender.binder.bind({ namespace: PodNamespace, name: PodName, uid: PodUID, node: Node })).toEqual({ outcome: 'bound' });
      expect(extender.index.pod(PodNamespace, PodName)?.nodeName).toBe(Node);
    }
    expect(answers()).toEqual(before);
  });

  it('hands out each body once, then refuses instead of repeating one', () => {
    const pool = new BindPool(['a', 'b']);
    expect([pool.next(), pool.next()]).toEqual(['a', 'b']);
    expect(() => pool.next()).toThrow(/bind pool of 2 pending pods is used up/);
  });

  it("reads the extender's bind outcomes from its metrics", async () => {
    const { plan, extender } = loaded(spec);
    const server = await listen(extender.app, '127.0.0.1', 0);
    try {
      const first = JSON.parse(bindBodies(plan)[0]!);
      const post = (body: object) => fetch(`${server.url}/bind`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());
      expect(await post(first)).toEqual({ Error: '' });
      const elsewhere = plan.nodes.find((n) => n.name !== first.Node)!.name;
      expect(await post({ ...first, Node: elsewhere })).toEqual({ Error: 'pod is already bound to another node' });
      expect(await bindOutcomes(server.url)).toEqual({ bound: 1, refused: 1 });
    } finally {
      await server.close();
    }
  });
});

describe('reference servers', () => {
  it('the do-nothing answer passes every node and scores every node 0', () => {
    const names = ['a', 'b'];
    expect(passAll('/filter', { NodeNames: names })).toEqual({ Nodes: null, NodeNames: names, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' });
    expect(passAll('/prioritize', { NodeNames: names })).toEqual([{ Host: 'a', Score: 0 }, { Host: 'b', Score: 0 }]);
  });

  it('the naive scan answers exactly like the extender', () => {
    const { plan, list, extender } = loaded();
    const naive = new NaiveCluster(DEFAULT_POLICY);
    naive.load(list);
    for (const mode of ['names', 'nodes'] as const) {
      for (const { body } of requestBodies(plan, mode, 1)) {
        const args = decodeCandidateArgs(Buffer.from(body), extender.generation.resolver);
        expect(JSON.parse(JSON.stringify(naive.handle('/filter', JSON.parse(body))))).toEqual(JSON.parse(runFilter(args, extender.generation).answer.bytes.toString()));
        expect(naive.handle('/prioritize', JSON.parse(body))).toEqual(JSON.parse(runPrioritize(args, extender.generation).bytes.toString()));
      }
    }
  });
});

describe('bench statistics', () => {
  it('takes nearest-rank percentiles and medians', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(samples, 0.5)).toBe(50);
    expect(percentile(samples, 0.99)).toBe(99);
    expect(median([3, 1, 2, Number.NaN])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
