import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { ClusterIndex, type NodeView } from '../src/sysctl-index/cluster-index.js';
import { CONFLICTING_PROFILE, EMPTY_PROFILE } from '../src/sysctl-index/profile-intern.js';
import { DB, DB_SMALL, VMS, WEB, daemonSet, namespace, node, pod } from './support/objects.js';

function fresh(): ClusterIndex {
  return new ClusterIndex(DEFAULT_POLICY);
}

function entries(index: ClusterIndex, view: NodeView | undefined): Record<string, string> {
  if (!view || view.profileId < 0) return { conflict: String(view?.profileId) };
  return Object.fromEntries(index.profiles.entries(view.profileId));
}

describe('ClusterIndex updates', () => {
  it('gives a node the unsafe values of its pods on top of what it declares', () => {
    const index = fresh();
    index.upsertNode(node('n', { sysctls: VMS }));
    index.upsertPod(pod('ns', 'p', { node: 'n', sysctls: WEB, needs: VMS }));
    expect(entries(index, index.node('n'))).toEqual({ 'vm.max_map_count': '262144', 'net.core.somaxconn': '4096' });
    expect(index.node('n')?.occupants).toBe(1);
  });

  it('takes a pod moving between nodes off the first one', () => {
    const index = fresh();
    index.upsertNode(node('a'));
    index.upsertNode(node('b'));
    index.upsertPod(pod('ns', 'p', { node: 'a', sysctls: DB }));
    index.upsertPod(pod('ns', 'p', { node: 'b', sysctls: DB }));
    expect(index.node('a')).toMatchObject({ occupants: 0, profileId: EMPTY_PROFILE });
    expect(index.node('b')?.occupants).toBe(1);
    expect(entries(index, index.node('b'))).toEqual({ 'kernel.shmmax': DB['kernel.shmmax'], 'kernel.sem': DB['kernel.sem'] });
  });

  it('keeps the profile until the last pod carrying it leaves', () => {
    const index = fresh();
    index.upsertNode(node('n'));
    index.upsertPod(pod('ns', 'p1', { node: 'n', sysctls: DB }));
    index.upsertPod(pod('ns', 'p2', { node: 'n', sysctls: DB }));
    const withDb = index.node('n')!.profileId;
    index.deletePod('ns', 'p1');
    expect(index.node('n')!.profileId).toBe(withDb);
    index.deletePod('ns', 'p2');
    expect(index.node('n')).toMatchObject({ profileId: EMPTY_PROFILE, occupants: 0 });
  });

  it('marks a node whose pods set one name to two values as conflicting, and clears it when one leaves', () => {
    const index = fresh();
    index.upsertNode(node('n'));
    index.upsertPod(pod('ns', 'p1', { node: 'n', sysctls: DB }));
    index.upsertPod(pod('ns', 'p2', { node: 'n', sysctls: DB_SMALL }));
    expect(index.node('n')!.profileId).toBe(CONFLICTING_PROFILE);
    index.deletePod('ns', 'p2');
    expect(entries(index, index.node('n'))['kernel.shmmax']).toBe(DB['kernel.shmmax']);
  });

  it('a pod that finishes stops occupying its node', () => {
    const index = fresh();
    index.upsertNode(node('n'));
    index.upsertPod(pod('ns', 'job', { node: 'n', sysctls: DB }));
    index.upsertPod(pod('ns', 'job', { node: 'n', sysctls: DB, phase: 'Succeeded' }));
    expect(index.node('n')).toMatchObject({ occupants: 0, profileId: EMPTY_PROFILE });
  });

  it('re-reads a node when its annotations change', () => {
    const index = fresh();
    index.upsertNode(node('n', { sysctls: VMS }));
    index.upsertPod(pod('ns', 'p', { node: 'n', sysctls: WEB }));
    index.upsertNode(node('n', { sysctls: 'vm.swappiness=1', team: 'a' }));
    expect(entries(index, index.node('n'))).toEqual({ 'vm.swappiness': '1', 'net.core.somaxconn': '4096' });
    expect(index.node('n')?.projection?.team).toBe('a');
  });

  it('keeps pods that arrive before their node, and forgets a deleted node once its pods are gone', () => {
    const index = fresh();
    index.upsertPod(pod('ns', 'p', { node: 'late', sysctls: DB }));
    expect(index.node('late')?.projection).toBeUndefined();
    index.upsertNode(node('late'));
    expect(index.node('late')?.occupants).toBe(1);
    index.deleteNode('late');
    expect(index.stats.nodes).toBe(0);
    expect(index.node('late')?.occupants).toBe(1);
    index.deletePod('ns', 'p');
    expect(index.node('late')).toBeUndefined();
  });

  it('follows namespace team labels as they change and go', () => {
    const index = fresh();
    index.upsertNamespace(namespace('ns', 'a'));
    expect(index.teamOfNamespace('ns')).toBe('a');
    index.upsertNamespace(namespace('ns'));
    expect(index.teamOfNamespace('ns')).toBeUndefined();
    index.upsertNamespace(namespace('ns', 'b'));
    index.deleteNamespace('ns');
    expect(index.teamOfNamespace('ns')).toBeUndefined();
    expect(index.stats.namespaces).toBe(0);
  });

  it('refuses objects without the names it needs instead of throwing', () => {
    const index = fresh();
    expect(index.upsertNode({ metadata: {} })).toBe(false);
    expect(index.upsertPod({ metadata: { name: 'x' } })).toBe(false);
    expect(index.upsertNamespace({})).toBe(false);
    expect(index.stats).toMatchObject({ nodes: 0, pods: 0, namespaces: 0 });
  });

  it('finds a pod by UID through assumption, confirmation, replacement and deletion', () => {
    const index = fresh();
    index.upsertNode(node('n'));
    const pending = index.projectPod(pod('ns', 'p', { uid: 'u1' }))!;
    index.assumePod(pending, 'n');
    expect(index.podByUid('u1')).toMatchObject({ nodeName: 'n', assumed: true });
    index.confirmAssumedPod('ns', 'p', 'n');
    expect(index.podByUid('u1')).toMatchObject({ nodeName: 'n', assumed: false });
    expect(index.podByUid('u1')).toBe(index.pod('ns', 'p'));
    // Deleted and created again under the same name: a new UID, the old one forgotten.
    index.upsertPod(pod('ns', 'p', { uid: 'u2', node: 'n' }));
    expect(index.podByUid('u1')).toBeUndefined();
    expect(index.podByUid('u2')).toBe(index.pod('ns', 'p'));
    index.deletePod('ns', 'p');
    expect(index.podByUid('u2')).toBeUndefined();
  });

  it('ends in the same state whatever order the same events arrive in', () => {
    const events = [
      () => ['node', node('n1', { sysctls: VMS })] as const,
      () => ['node', node('n2')] as const,
      () => ['pod', pod('ns', 'a', { node: 'n1', needs: VMS, sysctls: WEB })] as const,
      () => ['pod', pod('ns', 'b', { node: 'n2', sysctls: DB })] as const,
      () => ['pod', pod('ns', 'c', { node: 'n2', daemonSet: true, sysctls: WEB })] as const,
      () => ['pod', pod('ns', 'd', { node: 'n2', sysctls: DB })] as const,
      () => ['daemonset', daemonSet('ns')] as const,
    ];
    const snapshot = (order: number[]) => {
      const index = fresh();
      for (const i of order) {
        const [kind, obj] = events[i]!();
        if (kind === 'node') index.upsertNode(obj);
        else if (kind === 'daemonset') index.upsertDaemonSet(obj);
        else index.upsertPod(obj);
      }
      return ['n1', 'n2'].map((n) => ({ occupants: index.node(n)?.occupants, profile: entries(index, index.node(n)) }));
    };
    const expected = snapshot([0, 1, 2, 3, 4, 5, 6]);
    expect(snapshot([6, 5, 4, 3, 2, 1, 0])).toEqual(expected);
    expect(snapshot([2, 5, 6, 0, 4, 1, 3])).toEqual(expected);
    expect(expected[1]).toMatchObject({ occupants: 2 });
  });
});

describe('DaemonSet pods are proven by the DaemonSet (SPEC section 1, idle node)', () => {
  const build = () => {
    const index = new ClusterIndex(DEFAULT_POLICY);
    index.upsertNode(node('n'));
    index.upsertPod(pod('kube-system', 'cni-n', { node: 'n', daemonSet: 'cni', sysctls: WEB }));
    return index;
  };

  it('a pod claiming a DaemonSet the index has not seen makes its node busy and gives it a profile', () => {
    const index = build();
    expect(index.node('n')?.occupants).toBe(1);
    expect(entries(index, index.node('n'))).toEqual(WEB);
  });

  it('the node turns idle and loses the profile when the DaemonSet appears, and back when it goes', () => {
    const index = build();
    expect(index.upsertDaemonSet(daemonSet('kube-system', 'cni'))).toBe(true);
    expect(index.node('n')).toMatchObject({ occupants: 0, profileId: EMPTY_PROFILE });
    expect(index.pod('kube-system', 'cni-n')?.occupiesNode).toBe(false);
    index.deleteDaemonSet('kube-system', 'cni');
    expect(index.node('n')?.occupants).toBe(1);
    expect(entries(index, index.node('n'))).toEqual(WEB);
  });

  it('a DaemonSet recreated with another UID no longer proves the pods of the old one', () => {
    const index = build();
    index.upsertDaemonSet(daemonSet('kube-system', 'cni'));
    index.upsertDaemonSet(daemonSet('kube-system', 'cni', 'a-new-uid'));
    expect(index.node('n')?.occupants).toBe(1);
    index.upsertPod(pod('kube-system', 'cni-n2', { node: 'n', sysctls: WEB, daemonSet: 'cni' }));
    expect(index.node('n')?.occupants).toBe(2);
  });

  it('a proven pod keeps its standing through updates, and a deleted pod leaves no claim behind', () => {
    const index = build();
    index.upsertDaemonSet(daemonSet('kube-system', 'cni'));
    index.upsertPod(pod('kube-system', 'cni-n', { node: 'n', daemonSet: 'cni', sysctls: WEB, labels: { changed: 'yes' } }));
    expect(index.node('n')?.occupants).toBe(0);
    index.deletePod('kube-system', 'cni-n');
    index.deleteDaemonSet('kube-system', 'cni');
    index.upsertPod(pod('kube-system', 'cni-n', { node: 'n', daemonSet: 'cni' }));
    expect(index.node('n')?.occupants).toBe(1);
  });

  it('a finished pod stays out of the profile whatever its DaemonSet does', () => {
    const index = new ClusterIndex(DEFAULT_POLICY);
    index.upsertNode(node('n'));
    index.upsertPod(pod('kube-system', 'done', { node: 'n', daemonSet: 'cni', sysctls: WEB, phase: 'Succeeded' }));
    index.upsertDaemonSet(daemonSet('kube-system', 'cni'));
    index.deleteDaemonSet('kube-system', 'cni');
    expect(index.node('n')).toMatchObject({ occupants: 0, profileId: EMPTY_PROFILE });
  });

  it('refuses a DaemonSet without namespace, name or UID, and lists the ones it holds', () => {
    const index = new ClusterIndex(DEFAULT_POLICY);
    expect(index.upsertDaemonSet({ metadata: { namespace: 'ns', name: 'x' } })).toBe(false);
    expect(index.upsertDaemonSet({ metadata: { name: 'x', uid: 'u' } })).toBe(false);
    index.upsertDaemonSet(daemonSet('kube-system', 'cni'));
    expect(index.daemonSetRefs()).toEqual([{ namespace: 'kube-system', name: 'cni' }]);
  });
});
