/**
 * Under the real kube-scheduler v1.26 and kube-apiserver: a burst of pods over five profiles,
 * two teams and a namespace without one, placed through the extender's filter, prioritize
 * and bind; the assertions read the API server's final state. Skipped, saying why, where
 * $KUBE_ASSETS or etcd is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane, findKubeAssets, probe, waitUntil, type Proc } from '../../support/real-cluster/control-plane.js';
import { createNamespaces, createNodes, createPods, listPods, nodeLayout, podBurst, SYSCTLS, type PodList } from '../../support/real-cluster/cluster-objects.js';
import { violations } from '../../support/real-cluster/invariants.js';
import { schedulerConfig } from '../../support/real-cluster/scheduler-config.js';

const found = findKubeAssets();
if ('missing' in found) console.warn(`end-to-end suite skipped: ${found.missing}`);
const describeE2e = 'assets' in found ? describe : describe.skip;

const NODES = 40;
const PODS = 300;
const STALE_AFTER_SECONDS = 5;
/** Needs a node-level value that no node declares: every node refuses it. */
const REFUSED = { namespace: 'no-team', name: 'refused', profile: { name: 'refused', sysctls: {}, needs: 'vm.swappiness=1' } };

describeE2e('under the real kube-scheduler', () => {
  let plane: ControlPlane;
  let extender: { proc: Proc; url: string };

  beforeAll(async () => {
    if (!('assets' in found)) return;
    plane = await ControlPlane.start({ assets: found.assets, keepDir: process.env.E2E_KEEP === '1' });
    await createNamespaces(plane.api);
    await createNodes(plane.api, nodeLayout(NODES));
    const policy = plane.writeFile('policy.yaml', `staleAfterSeconds: ${STALE_AFTER_SECONDS}\n`);
    extender = await plane.startServer('sysctl-extender', 'dist/main.js', ['--config', policy], ['--max-semi-space-size=4']);
    await waitUntil(async () => (await probe(`${extender.url}/readyz`)) === 200, 'the extender to be ready');
  });

  afterAll(async () => {
    await plane?.stop();
  });

  it(`places a burst of ${PODS} pods with no invariant violated, and refuses one with the extender's reasons`, async () => {
    const burst = podBurst(PODS);
    await createPods(plane.api, [...burst, REFUSED]);
    await plane.startScheduler(schedulerConfig(extender.url));

    let pods: PodList['items'] = [];
    await waitUntil(
      async () => {
        pods = (await listPods(plane.api)).items;
        return pods.filter((p) => p.metadata.name !== REFUSED.name && p.spec.nodeName).length === PODS;
      },
      `all ${PODS} placeable pods bound`,
      240_000,
      500,
    );
    const nodes = (await plane.api.request<{ items: any[] }>('GET', '/api/v1/nodes')).items;
    const namespaces = (await plane.api.request<{ items: any[] }>('GET', '/api/v1/namespaces')).items;
    expect(violations(pods, nodes, namespaces)).toEqual([]);
    expect(pods.find((p) => p.metadata.name === REFUSED.name)?.spec.nodeName).toBeUndefined();
    // Every profile and namespace took part (the burst is not one easy shape).
    expect(new Set(pods.map((p) => p.spec.nodeName)).size).toBeGreaterThan(5);

    // What the extender's filter says of the refused pod, and what kube-scheduler told the user.
    const refused = await plane.api.request<Record<string, any>>('GET', `/api/v1/namespaces/${REFUSED.namespace}/pods/${REFUSED.name}`);
    expect(refused.metadata.annotations[SYSCTLS]).toBe(REFUSED.profile.needs);
    const verdict = await (await fetch(`${extender.url}/filter`, { method: 'POST', body: JSON.stringify({ Pod: refused, NodeNames: nodes.map((n) => n.metadata.name) }) })).json() as Record<string, any>;
    const reasons = new Set<string>([...Object.values<string>(verdict.FailedNodes ?? {}), ...Object.values<string>(verdict.FailedAndUnresolvableNodes ?? {})]);
    expect(verdict.NodeNames ?? []).toEqual([]);
    expect(reasons.size).toBeGreaterThan(0);
    let message = '';
    await waitUntil(
      async () => {
        const events = await plane.api.request<{ items: any[] }>('GET', `/api/v1/namespaces/${REFUSED.namespace}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${REFUSED.name}`)}`);
        message = events.items.find((e) => e.reason === 'FailedScheduling')?.message ?? '';
        return message !== '';
      },
      'a FailedScheduling event for the refused pod',
    );
    expect(message).toMatch(new RegExp(`^0/${NODES} nodes are available`));
    for (const reason of reasons) expect(message).toContain(reason);
  });

  it(`turns /readyz 503 within staleAfterSeconds + 1 s of the API server stopping, and 200 once it is back`, async () => {
    expect(await probe(`${extender.url}/readyz`)).toBe(200);
    await plane.stopApiServer();
    const stopped = Date.now();
    await waitUntil(async () => (await probe(`${extender.url}/readyz`)) === 503, '/readyz 503', 60_000, 100);
    const notReadyAfterMs = Date.now() - stopped;
    // The bound (SPEC section 6): within staleAfterSeconds, plus a second, of the watch last
    // being healthy, which it was until the API server went away.
    expect(notReadyAfterMs).toBeLessThanOrEqual((STALE_AFTER_SECONDS + 1) * 1000);
    await plane.startApiServer();
    await waitUntil(async () => (await probe(`${extender.url}/readyz`)) === 200, '/readyz 200 after the API server is back', 120_000, 100);
  });
});

// Keeps the file non-empty for vitest where the suite is skipped.
describe('end-to-end suite', () => {
  it('knows where its binaries are, or says why not', () => {
    if ('missing' in found) expect(found.missing).toMatch(/KUBE_ASSETS|etcd|executable/);
    else expect(found.assets.kubeApiserver).toMatch(/kube-apiserver$/);
  });
});
