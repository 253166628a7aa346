import { describe, expect, it } from 'vitest';
import { AssumedPlacements } from '../src/cluster/assumed-placements.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { ClusterIndex } from '../src/sysctl-index/cluster-index.js';
import { ALLOW_ALL_UNSAFE, DB, namespace, node, pod } from './support/objects.js';

function setup() {
  let clock = 1_000_000;
  let index = new ClusterIndex(DEFAULT_POLICY);
  const fill = (target: ClusterIndex) => {
    target.upsertNamespace(namespace('team-a', 'a'));
    target.upsertNode(node('n1', { allowed: ALLOW_ALL_UNSAFE }));
    target.upsertPod(pod('team-a', 'db', { sysctls: DB }));
  };
  fill(index);
  const store = new AssumedPlacements({ index: () => index, now: () => clock });
  return {
    store,
    index: () => index,
    swapIndex: () => {
      index = new ClusterIndex(DEFAULT_POLICY);
      fill(index);
      return index;
    },
    advance: (ms: number) => (clock += ms),
  };
}

describe('AssumedPlacements', () => {
  it('counts an assumed placement in the index at once', () => {
    const { store, index } = setup();
    store.assume(index(), index().pod('team-a', 'db')!, 'n1', 30_000);
    expect(index().node('n1')?.occupants).toBe(1);
    expect(index().pod('team-a', 'db')).toMatchObject({ nodeName: 'n1', assumed: true });
  });

  it('undoes a placement once its TTL has passed unconfirmed, not before', () => {
    const { store, index, advance } = setup();
    store.assume(index(), index().pod('team-a', 'db')!, 'n1', 30_000);
    advance(29_000);
    store.expire();
    expect(index().node('n1')?.occupants).toBe(1);
    advance(2_000);
    store.expire();
    expect(index().node('n1')?.occupants).toBe(0);
    expect(index().pod('team-a', 'db')).toMatchObject({ nodeName: undefined, assumed: false });
  });

  it('leaves a placement the watch confirmed when its TTL passes', () => {
    const { store, index, advance } = setup();
    store.assume(index(), index().pod('team-a', 'db')!, 'n1', 30_000);
    index().upsertPod(pod('team-a', 'db', { node: 'n1', sysctls: DB }));
    advance(31_000);
    store.expire();
    expect(index().pod('team-a', 'db')).toMatchObject({ nodeName: 'n1', assumed: false });
    expect(index().node('n1')?.occupants).toBe(1);
  });

  it('undo forgets the placement at once', () => {
    const { store, index } = setup();
    const db = index().pod('team-a', 'db')!;
    store.assume(index(), db, 'n1', 30_000);
    store.undo(index(), db, 'n1');
    expect(index().node('n1')?.occupants).toBe(0);
  });

  it('carries unconfirmed placements to a rebuilt index, which then expires them', () => {
    const { store, index, swapIndex, advance } = setup();
    store.assume(index(), index().pod('team-a', 'db')!, 'n1', 30_000);
    const rebuilt = swapIndex();
    expect(rebuilt.node('n1')?.occupants).toBe(0);
    store.carryTo(rebuilt);
    expect(rebuilt.pod('team-a', 'db')).toMatchObject({ nodeName: 'n1', assumed: true });
    advance(31_000);
    store.expire();
    expect(rebuilt.node('n1')?.occupants).toBe(0);
  });
});
