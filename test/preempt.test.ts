import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../src/config/policy.js';
import type { KubeList } from '../src/cluster/snapshot.js';
import type { ExtenderPreemptionResult } from '../src/http/wire-types.js';
import type { KubePod } from '../src/sysctl-index/kube-objects.js';
import { fixture, fixtureCluster, post, startExtender, type RunningExtender } from './support/http.js';

/**
 * Replays kube-scheduler's preempt calls. The pod `high` (team-a, the c-unsafe sysctls) may
 * evict one low-priority pod per node. The cluster index holds those victims on their nodes:
 * n1 a plain team-a pod, n2 (team b) a team-a pod with kernel.shmmax, n3 (declares
 * vm.max_map_count) a team-b pod, n4 (shared, allow-listed) a teamless pod with
 * net.core.somaxconn. Evicting helps on n1 and n4 only: n2 belongs to another team and n3
 * declares values `high` does not need.
 */

const nodesBody = fixture('preempt/nodes-preempt.json');
const victims = JSON.parse(nodesBody).NodeNameToVictims as Record<string, { Pods: KubePod[] }>;
/** names-preempt.json was captured in another run: its victims have other UIDs. */
const metaVictims = JSON.parse(fixture('preempt/names-preempt.json')).NodeNameToMetaVictims as Record<string, { Pods: Array<{ UID: string }> }>;

function clusterWithVictims(uidOf: (node: string, pod: KubePod) => string): KubeList {
  const list = fixtureCluster();
  for (const [node, v] of Object.entries(victims)) {
    for (const p of v.Pods) list.items.push({ ...p, kind: 'Pod', metadata: { ...p.metadata, uid: uidOf(node, p) } });
  }
  return list;
}

describe.each([
  ['nodes', nodesBody, (_node: string, p: KubePod) => p.metadata!.uid!],
  ['names', fixture('preempt/names-preempt.json'), (node: string) => metaVictims[node]!.Pods[0]!.UID],
])('preempt, nodeCacheCapable %s', (_mode, body, uidOf) => {
  let server: RunningExtender;
  beforeAll(async () => {
    // The capture's nodes have no kubelet and (but n4) no allow-list: trusted, as in the fixture replay.
    server = await startExtender(clusterWithVictims(uidOf), parsePolicy({ trustUndeclaredAllowList: true }));
  });
  afterAll(() => server.close());

  it('keeps the nodes where evicting the proposed victims lets the pod in, with those victims', async () => {
    const answer = await post(`${server.url}/preempt`, body);
    expect(answer.status).toBe(200);
    const result = answer.body as ExtenderPreemptionResult;
    expect(Object.keys(result)).toEqual(['NodeNameToMetaVictims']);
    expect(Object.keys(result.NodeNameToMetaVictims).sort()).toEqual(['n1', 'n4']);
    for (const node of ['n1', 'n4']) {
      expect(result.NodeNameToMetaVictims[node]).toEqual({ Pods: [{ UID: uidOf(node, victims[node]!.Pods[0]!) }], NumPDBViolations: 0 });
    }
  });

  it('without victims the busy nodes do not qualify: the verb really simulates eviction', async () => {
    const args = JSON.parse(body);
    for (const field of ['NodeNameToVictims', 'NodeNameToMetaVictims']) {
      for (const v of Object.values((args[field] ?? {}) as Record<string, { Pods: unknown[] }>)) v.Pods = [];
    }
    const result = (await post(`${server.url}/preempt`, JSON.stringify(args))).body as ExtenderPreemptionResult;
    expect(result.NodeNameToMetaVictims).toEqual({});
  });
});

describe('preempt input', () => {
  it('refuses a body with neither victim map, clearly', async () => {
    const server = await startExtender(fixtureCluster());
    try {
      const answer = await post(`${server.url}/preempt`, JSON.stringify({ Pod: JSON.parse(nodesBody).Pod }));
      expect(answer.status).toBe(400);
      expect((answer.body as { Error: string }).Error).toMatch(/NodeNameToMetaVictims or NodeNameToVictims must be set/);
    } finally {
      await server.close();
    }
  });

  it('matches the recorded answer shape kube-scheduler accepted', () => {
    const recorded = JSON.parse(fixture('preempt/names-preempt.response.json')) as ExtenderPreemptionResult;
    expect(Object.keys(recorded)).toEqual(['NodeNameToMetaVictims']);
    expect(Object.keys(Object.values(recorded.NodeNameToMetaVictims)[0]!).sort()).toEqual(['NumPDBViolations', 'Pods']);
  });
});
