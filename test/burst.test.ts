import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import type { Listening } from '../src/http/serve.js';
import type { ExtenderFilterResult, HostPriority } from '../src/http/wire-types.js';
import type { KubePod } from '../src/sysctl-index/kube-objects.js';
import { FakeApiServer, type KubeObject } from '../support/fake-api-server.js';
import { post } from './support/http.js';
import { ALLOW_ALL_UNSAFE, DB, DB_SMALL, SYSCTLS, TEAM, VMS, WEB, namespace, node, pod, type PodOptions } from './support/objects.js';
import { waitFor } from './support/wait.js';
import { startWatchedExtender, type WatchedExtender } from './support/watched-extender.js';

/**
 * kube-scheduler places pods one after another but binds asynchronously, and the extender's
 * watch lags. This drives the extender like that: filter and prioritize for pod k+1 go out
 * before the bind for pod k, while the fake API server delays every watch event. A refused bind
 * is retried like kube-scheduler does (a fresh cycle). At the end, the SPEC's invariants must
 * hold on the API server's own state, and every pod is bound or cleanly refused.
 */

const PODS = 240;
const PROFILES: PodOptions[] = [{}, { sysctls: DB }, { sysctls: DB_SMALL }, { sysctls: WEB }, { needs: VMS, sysctls: WEB }];
/** Their kubelets allow every unsafe sysctl: the burst is about profiles and teams, not allow-lists. */
const OPEN = { allowed: ALLOW_ALL_UNSAFE };
const NODES = [
  ...Array.from({ length: 5 }, (_, i) => node(`a${i}`, { team: 'a', ...OPEN })),
  ...Array.from({ length: 5 }, (_, i) => node(`b${i}`, { team: 'b', ...OPEN })),
  ...Array.from({ length: 8 }, (_, i) => node(`s${i}`, OPEN)),
  ...Array.from({ length: 2 }, (_, i) => node(`t${i}`, { sysctls: VMS, ...OPEN })),
];
const NAMES = NODES.map((n) => n.metadata!.name!);

let api: FakeApiServer;
let running: WatchedExtender;
let server: Listening;

beforeAll(async () => {
  api = new FakeApiServer({ historySize: 10_000 });
  await api.start();
  api.create('namespaces', namespace('team-a', 'a'));
  api.create('namespaces', namespace('team-b', 'b'));
  for (const n of NODES) api.create('nodes', n);
  running = await startWatchedExtender(api, DEFAULT_POLICY);
  server = running.server;
  api.setWatchDelay(300);
});

afterAll(async () => {
  await running.stop();
  await api.stop();
});

async function call<T>(verb: string, body: unknown): Promise<T> {
  const answer = await post(`${server.url}/${verb}`, JSON.stringify(body));
  expect(answer.status).toBe(200);
  return answer.body as T;
}

/** One scheduling cycle up to the choice of a node; undefined when no node passes. */
async function schedule(p: KubePod): Promise<string | undefined> {
  const filtered = await call<ExtenderFilterResult>('filter', { Pod: p, Nodes: null, NodeNames: NAMES });
  const passing = filtered.NodeNames ?? [];
  if (passing.length === 0) return undefined;
  if (passing.length === 1) return passing[0]; // kube-scheduler skips prioritize then
  const scores = await call<HostPriority[]>('prioritize', { Pod: p, Nodes: null, NodeNames: passing });
  return scores.reduce((best, h) => (h.Score > best.Score ? h : best)).Host;
}

function profileOf(p: KubeObject): string {
  const spec = p['spec'] as KubePod['spec'];
  const sysctls = (spec?.securityContext?.sysctls ?? []).map((s) => `${s.name}=${s.value}`).sort();
  const annotations = p.metadata['annotations'] as Record<string, string> | undefined;
  return JSON.stringify([sysctls, annotations?.[SYSCTLS] ?? '']);
}

describe('a burst of placements with a lagging watch', () => {
  it(`binds ${PODS} pods of 5 profiles and 2 teams onto 20 idle nodes without breaking an invariant`, async () => {
    const queue: Array<{ pod: KubePod; attempts: number }> = [];
    for (let i = 0; i < PODS; i += 1) {
      // Consecutive pods share a team (so they compete for the same nodes) and differ in profile.
      const ns = Math.floor(i / 2) % 2 === 0 ? 'team-a' : 'team-b';
      const created = api.create('pods', pod(ns, `p${i}`, PROFILES[(i * 7) % PROFILES.length]!)) as KubePod;
      queue.push({ pod: created, attempts: 0 });
    }
    await waitFor(() => api.openWatchCount('pods') === 1, 'pod watch open');

    let refusedByFilter = 0;
    let refusedBinds = 0;
    let bound = 0;
    // Filter and prioritize for pod k+1 are sent before the bind for pod k.
    let pendingBind: { item: { pod: KubePod; attempts: number }; node: string } | undefined;
    const sendBind = async (b: NonNullable<typeof pendingBind>) => {
      const p = b.item.pod.metadata!;
      const { Error: error } = await call<{ Error: string }>('bind', { PodName: p.name, PodNamespace: p.namespace, PodUID: p.uid, Node: b.node });
      if (error === '') bound += 1;
      else {
        expect(error).toMatch(/^binding refused: /);
        refusedBinds += 1;
        if (b.item.attempts < 5) queue.push(b.item); // kube-scheduler retries with a new cycle
      }
    };
    while (queue.length > 0 || pendingBind) {
      const item = queue.shift();
      const chosen = item ? await schedule(item.pod) : undefined;
      if (item) item.attempts += 1;
      if (item && chosen === undefined) refusedByFilter += 1;
      if (pendingBind) await sendBind(pendingBind);
      pendingBind = item && chosen !== undefined ? { item, node: chosen } : undefined;
    }

    // The final state, as the API server has it.
    await waitFor(() => api.list('pods').filter((p) => (p['spec'] as KubePod['spec'])?.nodeName).length === bound, 'bindings stored');
    const teamOfNs: Record<string, string> = { 'team-a': 'a', 'team-b': 'b' };
    const nodes = new Map(api.list('nodes').map((n) => [n.metadata.name, n]));
    const profilesOnNode = new Map<string, Set<string>>();
    for (const p of api.list('pods')) {
      const nodeName = (p['spec'] as KubePod['spec'])?.nodeName;
      if (!nodeName) continue;
      const n = nodes.get(nodeName)!;
      // 1. no pod on a node dedicated to another team
      const nodeTeam = n.metadata.labels?.[TEAM];
      if (nodeTeam) expect(`${p.metadata.name} on ${nodeName}: ${nodeTeam}`).toBe(`${p.metadata.name} on ${nodeName}: ${teamOfNs[p.metadata.namespace!]}`);
      // 3. node-level needs only where exactly those values are declared
      const needs = (p.metadata['annotations'] as Record<string, string> | undefined)?.[SYSCTLS];
      expect((n.metadata['annotations'] as Record<string, string> | undefined)?.[SYSCTLS]).toBe(needs);
      profilesOnNode.set(nodeName, (profilesOnNode.get(nodeName) ?? new Set()).add(profileOf(p)));
    }
    // 2. under strict, one profile per node
    for (const [n, profiles] of profilesOnNode) expect([n, profiles.size]).toEqual([n, 1]);

    // Every pod is bound or cleanly refused, and the race was really exercised.
    const unbound = api.list('pods').filter((p) => !(p['spec'] as KubePod['spec'])?.nodeName).length;
    expect(bound + unbound).toBe(PODS);
    expect(bound).toBeGreaterThan(PODS * 0.8);
    expect(refusedBinds).toBeGreaterThan(0);
    expect(refusedByFilter + refusedBinds).toBeGreaterThan(0);
    expect(profilesOnNode.size).toBeGreaterThanOrEqual(5);
  }, 300_000); // bounded by its work, not by time: a busy machine takes several times the idle time
});
