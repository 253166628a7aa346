import { describe, expect, it } from 'vitest';
import { checkBind } from '../src/cluster/bind-check.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { ClusterIndex } from '../src/sysctl-index/cluster-index.js';
import type { KubePod } from '../src/sysctl-index/kube-objects.js';
import { ALLOW_ALL_UNSAFE, DB, WEB, namespace, node, pod } from './support/objects.js';

function indexWith(...pods: KubePod[]): ClusterIndex {
  const index = new ClusterIndex(DEFAULT_POLICY);
  index.upsertNamespace(namespace('team-a', 'a'));
  index.upsertNode(node('n1', { allowed: ALLOW_ALL_UNSAFE }));
  index.upsertNode(node('n2', { allowed: ALLOW_ALL_UNSAFE }));
  for (const p of pods) index.upsertPod(p);
  return index;
}

describe('checkBind: the rule re-check of one pod on one node', () => {
  it.each([
    ['a pending pod on an idle node is placed', [], pod('team-a', 'db', { sysctls: DB }), 'n1', { verdict: 'place' }],
    ['a pod already bound to that node is already placed (a retried bind)', [], pod('team-a', 'db', { node: 'n1', sysctls: DB }), 'n1', { verdict: 'already-placed' }],
    [
      'a pod bound to another node is refused',
      [],
      pod('team-a', 'db', { node: 'n2', sysctls: DB }),
      'n1',
      { verdict: 'refused', reason: 'pod is already bound to another node' },
    ],
    [
      'a pod next to another profile is refused with the rule’s reason',
      [pod('team-a', 'web', { node: 'n1', sysctls: WEB })],
      pod('team-a', 'db', { sysctls: DB }),
      'n1',
      { verdict: 'refused', reason: 'binding refused: node runs another sysctl profile' },
    ],
    [
      'a pod next to the same profile is placed',
      [pod('team-a', 'db-0', { node: 'n1', sysctls: DB })],
      pod('team-a', 'db', { sysctls: DB }),
      'n1',
      { verdict: 'place' },
    ],
    ['a node the index does not hold is refused', [], pod('team-a', 'db', { sysctls: DB }), 'n9', { verdict: 'refused', reason: 'binding refused: node is not in the extender index yet' }],
  ])('%s', (_name, others, candidate, nodeName, expected) => {
    const index = indexWith(...(others as KubePod[]), candidate as KubePod);
    const projection = index.pod('team-a', 'db')!;
    expect(checkBind(projection, nodeName as string, { index, policy: DEFAULT_POLICY })).toEqual(expected);
  });

  it('a pod assumed on a node by an earlier bind is refused as being bound, even to that node', () => {
    const index = indexWith(pod('team-a', 'db', { sysctls: DB }));
    index.assumePod(index.pod('team-a', 'db')!, 'n1');
    expect(checkBind(index.pod('team-a', 'db')!, 'n1', { index, policy: DEFAULT_POLICY })).toEqual({ verdict: 'refused', reason: 'pod is already being bound to another node' });
  });

  it('counts assumed placements: a pod of another profile is refused on a node assumed a moment before', () => {
    const index = indexWith(pod('team-a', 'db', { sysctls: DB }), pod('team-a', 'web', { sysctls: WEB }));
    index.assumePod(index.pod('team-a', 'db')!, 'n1');
    expect(checkBind(index.pod('team-a', 'web')!, 'n1', { index, policy: DEFAULT_POLICY })).toMatchObject({ verdict: 'refused' });
    expect(checkBind(index.pod('team-a', 'web')!, 'n2', { index, policy: DEFAULT_POLICY })).toEqual({ verdict: 'place' });
  });
});
