import { describe, expect, it } from 'vitest';
import { Prng } from '../support/prng.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { ClusterIndex } from '../src/sysctl-index/cluster-index.js';
import { EMPTY_PROFILE } from '../src/sysctl-index/profile-intern.js';
import type { KubePod } from '../src/sysctl-index/kube-objects.js';
import { passingNodes, score } from './support/evaluate.js';
import { ALLOW_ALL_UNSAFE, DB, DB_SMALL, VMS, WEB, namespace, node, pod, type PodOptions } from './support/objects.js';

const PROFILES: PodOptions[] = [
  {},
  { sysctls: { 'net.ipv4.ip_local_port_range': '1024 65000' } },
  { sysctls: DB },
  { sysctls: DB_SMALL },
  { sysctls: WEB },
  { needs: VMS },
  { needs: VMS, sysctls: WEB },
  // More profiles than untuned shared nodes: teamless pods must sometimes be refused.
  { sysctls: { 'kernel.msgmax': '65536' } },
  { sysctls: { 'fs.mqueue.msg_max': '100' } },
];
const NAMESPACES = [namespace('team-a', 'a'), namespace('team-b', 'b'), namespace('no-team')];
const TEAM_OF: Record<string, string | undefined> = { 'team-a': 'a', 'team-b': 'b', 'no-team': undefined };

interface Placed {
  pod: KubePod;
  node: string;
  profile: number;
}

/** Places pods one by one on the best-scoring passing node, as kube-scheduler would, with departures. */
function simulate(seed: number, arrivals: number) {
  const rng = new Prng(seed); // seeded, so that a failure replays
  const rnd = () => rng.next();
  const index = new ClusterIndex(DEFAULT_POLICY);
  NAMESPACES.forEach((ns) => index.upsertNamespace(ns));
  const nodes = [
    ...['a1', 'a2', 'a3'].map((n) => node(n, { team: 'a', allowed: ALLOW_ALL_UNSAFE })),
    ...['b1', 'b2'].map((n) => node(n, { team: 'b', allowed: ALLOW_ALL_UNSAFE })),
    node('b3', { team: 'b', sysctls: VMS }),
    ...['s1', 's2', 's3'].map((n) => node(n, { allowed: ALLOW_ALL_UNSAFE })),
    // Declares no allow-list: takes only pods without unsafe sysctls.
    node('s4', { kubelet: 'v1.31.4-eks-2d98532', kernel: '5.15.0-1048-aws' }),
    ...['t1', 't2'].map((n) => node(n, { sysctls: VMS, allowed: 'net.*' })),
  ];
  nodes.forEach((n) => index.upsertNode(n));
  const placed = new Map<string, Placed>();
  let refused = 0;
  for (let i = 0; i < arrivals; i += 1) {
    if (placed.size > 0 && rnd() < 0.1) {
      const victim = [...placed.keys()][Math.floor(rnd() * placed.size)]!;
      const p = placed.get(victim)!.pod;
      index.deletePod(p.metadata!.namespace!, p.metadata!.name!);
      placed.delete(victim);
    }
    const ns = NAMESPACES[Math.floor(rnd() * NAMESPACES.length)]!.metadata!.name!;
    const options = PROFILES[Math.floor(rnd() * PROFILES.length)]!;
    const candidate = pod(ns, `p${i}`, options);
    const passing = passingNodes(index, candidate);
    if (passing.length === 0) {
      refused += 1;
      continue;
    }
    const best = Math.max(...passing.map((n) => score(index, candidate, n)));
    const ties = passing.filter((n) => score(index, candidate, n) === best);
    const target = ties[Math.floor(rnd() * ties.length)]!;
    const bound = pod(ns, `p${i}`, { ...options, node: target });
    index.upsertPod(bound);
    placed.set(`${ns}/p${i}`, { pod: bound, node: target, profile: index.pod(ns, `p${i}`)!.profileId });
  }
  return { index, nodes, placed: [...placed.values()], refused };
}

describe('SPEC invariants under a stream of placements and departures', () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    it(`hold for seed ${seed}`, () => {
      const { index, nodes, placed, refused } = simulate(seed, 400);
      const teamOfNode = new Map(nodes.map((n) => [n.metadata!.name!, n.metadata!.labels?.['sysctl-extender.io/team']]));
      const declaredOf = new Map(nodes.map((n) => [n.metadata!.name!, n.metadata!.annotations?.['sysctl-extender.io/sysctls']]));
      const profilesOnNode = new Map<string, Set<number>>();
      for (const { pod: p, node: n, profile } of placed) {
        // the kubelet admits what it runs: s4 declares no allow-list, so nothing unsafe goes there
        if (n === 's4') expect(index.pod(p.metadata!.namespace!, p.metadata!.name!)?.unsafeId).toBe(EMPTY_PROFILE);
        // 1. no pod runs on a node dedicated to another team (teamless pods: shared nodes only)
        const nodeTeam = teamOfNode.get(n);
        if (nodeTeam !== undefined) expect(TEAM_OF[p.metadata!.namespace!]).toBe(nodeTeam);
        // 3. a pod needing node-level values runs only where exactly those are declared
        const needs = p.metadata!.annotations?.['sysctl-extender.io/sysctls'];
        expect(declaredOf.get(n)).toBe(needs);
        profilesOnNode.set(n, (profilesOnNode.get(n) ?? new Set()).add(profile));
      }
      // 2. under strict, no node runs two pods with different profiles
      for (const [n, profiles] of profilesOnNode) expect([n, profiles.size]).toEqual([n, 1]);
      // the run is not vacuous: many placements, several profiles side by side, and some refusals
      expect(placed.length).toBeGreaterThan(50);
      expect(new Set(placed.map((p) => p.profile)).size).toBeGreaterThanOrEqual(4);
      expect(refused).toBeGreaterThan(0);
      expect(index.stats.pods).toBe(placed.length);
    });
  }
});

describe('scoring', () => {
  const cluster = () => {
    const index = new ClusterIndex(DEFAULT_POLICY);
    NAMESPACES.forEach((ns) => index.upsertNamespace(ns));
    const open = { allowed: ALLOW_ALL_UNSAFE };
    for (const n of [node('own-idle', { team: 'a', ...open }), node('own-db', { team: 'a', ...open }), node('shared-idle', open), node('shared-db', open), node('shared-busy', open)]) index.upsertNode(n);
    index.upsertPod(pod('team-a', 'db-0', { node: 'own-db', sysctls: DB }));
    index.upsertPod(pod('team-b', 'db-1', { node: 'shared-db', sysctls: DB }));
    index.upsertPod(pod('team-b', 'web', { node: 'shared-busy' }));
    return index;
  };

  it('ranks own-team reuse over shared reuse over own idle claim over shared idle claim (default weights)', () => {
    const index = cluster();
    const p = pod('team-a', 'p', { sysctls: DB });
    const scores = ['own-db', 'shared-db', 'own-idle', 'shared-idle'].map((n) => score(index, p, n));
    expect(scores).toEqual([10, 6, 4, 0]);
  });

  it('packs plain pods onto busy untuned nodes, keeping idle nodes for profiles', () => {
    const index = cluster();
    const p = pod('no-team', 'p');
    expect(score(index, p, 'shared-busy')).toBeGreaterThan(score(index, p, 'shared-idle'));
  });

  it('gives 0 to a node the filter rejects', () => {
    const index = cluster();
    expect(score(index, pod('team-b', 'p', { sysctls: DB }), 'own-db')).toBe(0);
  });

  it('follows the weights of the policy', async () => {
    const { parsePolicy } = await import('../src/config/policy.js');
    const policy = parsePolicy({ weights: { profileReuse: 0, ownTeam: 1 } });
    const index = new ClusterIndex(policy);
    NAMESPACES.forEach((ns) => index.upsertNamespace(ns));
    index.upsertNode(node('own', { team: 'a', allowed: ALLOW_ALL_UNSAFE }));
    index.upsertNode(node('shared', { allowed: ALLOW_ALL_UNSAFE }));
    index.upsertPod(pod('team-b', 'db', { node: 'shared', sysctls: DB }));
    const p = pod('team-a', 'p', { sysctls: DB });
    expect([score(index, p, 'own', policy), score(index, p, 'shared', policy)]).toEqual([10, 0]);
  });
});
