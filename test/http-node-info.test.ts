/**
 * Issue 15 over HTTP: Node objects carrying `status.nodeInfo` as real kubelets report it, in
 * both request forms (full Node objects with `nodeCacheCapable: false`, names with the index
 * fed from a List), DaemonSets from a snapshot file, and GET /config saying which allow-list
 * default is in force.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshotFile, type KubeList } from '../src/cluster/snapshot.js';
import { DEFAULT_POLICY, parsePolicy } from '../src/config/policy.js';
import type { ExtenderFilterResult } from '../src/http/wire-types.js';
import { ClusterIndex } from '../src/sysctl-index/cluster-index.js';
import type { KubeNode } from '../src/sysctl-index/kube-objects.js';
import { post, startExtender, type RunningExtender } from './support/http.js';
import { ALLOWED, daemonSet, namespace, pod } from './support/objects.js';

/** A Node as the API server returns it for a kubelet of that release on that kernel (trimmed to the usual fields). */
function kubeletNode(name: string, nodeInfo: { kubeletVersion?: string; kernelVersion?: string } | undefined, annotations: Record<string, string> = {}): KubeNode & { kind: string } {
  return {
    kind: 'Node',
    metadata: { name, uid: `uid-${name}`, resourceVersion: '4242', labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' }, annotations },
    status: {
      capacity: { cpu: '8', memory: '32Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
      ...(nodeInfo
        ? {
            nodeInfo: {
              machineID: 'ec2a6b5d', systemUUID: 'ec2a6b5d-0000', bootID: '5c1f', osImage: 'Amazon Linux 2', containerRuntimeVersion: 'containerd://1.7.22',
              kubeProxyVersion: nodeInfo.kubeletVersion ?? '', operatingSystem: 'linux', architecture: 'amd64', ...nodeInfo,
            },
          }
        : {}),
    },
  } as KubeNode & { kind: string };
}

const NODES = [
  kubeletNode('eks-131', { kubeletVersion: 'v1.31.4-eks-2d98532', kernelVersion: '5.15.0-1048-aws' }),
  kubeletNode('eks-131-allowing', { kubeletVersion: 'v1.31.4-eks-2d98532', kernelVersion: '5.15.0-1048-aws' }, { [ALLOWED]: 'net.ipv4.tcp_rmem' }),
  kubeletNode('debian-132', { kubeletVersion: 'v1.32.1', kernelVersion: '6.1.0-27-amd64' }),
  kubeletNode('old-kernel', { kubeletVersion: 'v1.32.1', kernelVersion: '4.4.0-210-generic' }),
  kubeletNode('silent', undefined),
  kubeletNode('garbage', { kubeletVersion: 'vX.Y', kernelVersion: 'linux' }),
];
const EXPECTED: Record<string, string | null> = {
  'eks-131': 'node has no unsafe-sysctl allow-list',
  'eks-131-allowing': null,
  'debian-132': null,
  'old-kernel': 'node kernel is too old for these sysctls',
  silent: 'node has no unsafe-sysctl allow-list',
  garbage: 'node has no unsafe-sysctl allow-list',
};
const RMEM_POD = pod('team-a', 'cassandra-0', { sysctls: { 'net.ipv4.tcp_rmem': '4096 87380 16777216' } });

function expectVerdicts(result: ExtenderFilterResult, passing: string[]): void {
  expect(result.Error).toBe('');
  expect(result.FailedNodes).toEqual({});
  const want = Object.fromEntries(Object.entries(EXPECTED).filter(([, reason]) => reason !== null));
  expect(result.FailedAndUnresolvableNodes).toEqual(want);
  expect([...passing].sort()).toEqual(Object.keys(EXPECTED).filter((n) => EXPECTED[n] === null).sort());
}

let server: RunningExtender;
beforeAll(async () => {
  server = await startExtender({ kind: 'List', items: [namespace('team-a', 'a'), ...NODES] });
});
afterAll(() => server.close());

describe('a tcp_rmem pod (safe since kubelet 1.32, kernel 4.15) against nodes as real kubelets report them', () => {
  it('nodeCacheCapable false: judged by the nodeInfo of the Node objects sent', async () => {
    const answer = await post(`${server.url}/filter`, JSON.stringify({ Pod: RMEM_POD, Nodes: { items: NODES } }));
    expect(answer.status).toBe(200);
    const result = answer.body as ExtenderFilterResult;
    expectVerdicts(result, result.Nodes!.items.map((n) => n.metadata!.name!));
  });

  it('nodeCacheCapable true: judged by the nodeInfo the index holds', async () => {
    const answer = await post(`${server.url}/filter`, JSON.stringify({ Pod: RMEM_POD, NodeNames: NODES.map((n) => n.metadata!.name) }));
    expect(answer.status).toBe(200);
    const result = answer.body as ExtenderFilterResult;
    expectVerdicts(result, result.NodeNames!);
  });

  it('a newer nodeInfo in the request wins over the index: the same node upgraded to 1.32 passes', async () => {
    const upgraded = kubeletNode('eks-131', { kubeletVersion: 'v1.32.0-eks-aeac579', kernelVersion: '5.15.0-1048-aws' });
    upgraded.metadata!.resourceVersion = '4243'; // the kubelet's new status is a new version of the Node
    const result = (await post(`${server.url}/filter`, JSON.stringify({ Pod: RMEM_POD, Nodes: { items: [upgraded] } }))).body as ExtenderFilterResult;
    expect(result.Nodes!.items.map((n) => n.metadata!.name)).toEqual(['eks-131']);
  });

  it('explain names the release and kernel each node was judged by', async () => {
    const e = (await post(`${server.url}/explain`, JSON.stringify({ Pod: RMEM_POD }))).body as { nodes: Array<{ node: string; runtime: unknown; refusedSysctls: unknown[] }> };
    const on = (name: string) => e.nodes.find((n) => n.node === name)!;
    expect(on('eks-131').runtime).toEqual({ kubeletVersion: 'v1.31.4-eks-2d98532', kubeletRelease: '1.31', kernelVersion: '5.15.0-1048-aws', kernelRelease: '5.15' });
    expect(on('garbage').runtime).toEqual({ kubeletVersion: 'vX.Y', kubeletRelease: null, kernelVersion: 'linux', kernelRelease: null });
    expect(on('silent').refusedSysctls).toEqual([
      { name: 'net.ipv4.tcp_rmem', why: 'the node reports no readable kubelet version, so only the original safe sysctls count, and the node declares no sysctl-extender.io/allowed-unsafe-sysctls annotation' },
    ]);
  });
});

describe('GET /config', () => {
  it('shows that nodes without an allow-list are not trusted, by default', async () => {
    const config = (await (await fetch(`${server.url}/config`)).json()) as { policy: { trustUndeclaredAllowList: boolean } };
    expect(config.policy.trustUndeclaredAllowList).toBe(false);
  });

  it('shows the trusting default when the policy restores it, and the filter follows', async () => {
    const trusting = await startExtender({ kind: 'List', items: [namespace('team-a', 'a'), ...NODES] }, parsePolicy({ trustUndeclaredAllowList: true }));
    try {
      const config = (await (await fetch(`${trusting.url}/config`)).json()) as { policy: { trustUndeclaredAllowList: boolean } };
      expect(config.policy.trustUndeclaredAllowList).toBe(true);
      const result = (await post(`${trusting.url}/filter`, JSON.stringify({ Pod: RMEM_POD, NodeNames: ['eks-131', 'old-kernel'] }))).body as ExtenderFilterResult;
      expect(result.NodeNames).toEqual(['eks-131']);
      expect(result.FailedAndUnresolvableNodes).toEqual({ 'old-kernel': 'node kernel is too old for these sysctls' });
    } finally {
      await trusting.close();
    }
  });
  it('follows a reload of trustUndeclaredAllowList alone, with the same index (no rebuild)', async () => {
    const running = await startExtender({ kind: 'List', items: [namespace('team-a', 'a'), ...NODES] });
    try {
      const filter = async () => (await post(`${running.url}/filter`, JSON.stringify({ Pod: RMEM_POD, NodeNames: ['eks-131', 'old-kernel'] }))).body as ExtenderFilterResult;
      const index = running.extender.index;
      expect((await filter()).NodeNames).toEqual([]);
      running.extender.swap(parsePolicy({ trustUndeclaredAllowList: true }));
      expect(running.extender.index).toBe(index);
      expect((await filter()).NodeNames).toEqual(['eks-131']);
    } finally {
      await running.close();
    }
  });
});

describe('snapshot mode (kubectl get nodes,pods,namespaces,daemonsets -A -o json)', () => {
  const list = (withDaemonSet: boolean): KubeList => ({
    kind: 'List',
    items: [
      namespace('kube-system'),
      kubeletNode('n', { kubeletVersion: 'v1.31.4-eks-2d98532', kernelVersion: '5.15.0-1048-aws' }),
      pod('kube-system', 'exporter-n', { node: 'n', daemonSet: 'exporter' }),
      ...(withDaemonSet ? [daemonSet('kube-system', 'exporter')] : []),
    ],
  });

  it.each([
    [true, 0],
    [false, 1],
  ])('with the DaemonSet in the file: %s, the node has %i occupant(s)', (withDaemonSet, occupants) => {
    const file = join(mkdtempSync(join(tmpdir(), 'snapshot-')), 'cluster.json');
    writeFileSync(file, JSON.stringify(list(withDaemonSet)));
    const index = new ClusterIndex(DEFAULT_POLICY);
    const counts = loadSnapshotFile(index, file);
    expect(counts).toMatchObject({ nodes: 1, pods: 1, daemonSets: withDaemonSet ? 1 : 0 });
    expect(index.node('n')?.occupants).toBe(occupants);
  });
});
