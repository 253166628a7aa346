import { describe, expect, it } from 'vitest';
import type { KubePod } from '../src/sysctl-index/kube-objects.js';
import { indexOf, passingNodes, verdict } from './support/evaluate.js';
import { TEAM, namespace, node, pod } from './support/objects.js';

/**
 * A pod's author controls every field of the pod, so none of them may move it onto another
 * team's node: the team comes from the namespace label alone (SPEC section 2).
 */

const cluster = () => indexOf([namespace('team-a', 'a'), namespace('team-b', 'b'), namespace('loose'), node('b-node', { team: 'b' }), node('a-node', { team: 'a' }), node('shared')]);

function attempt(ns: string, mutate: (p: KubePod & Record<string, any>) => void): KubePod {
  const p = pod(ns, 'intruder') as KubePod & Record<string, any>;
  mutate(p);
  return p;
}

const attempts: Array<[string, (p: any) => void]> = [
  ['a team label on the pod', (p) => (p.metadata.labels = { [TEAM]: 'b' })],
  ['a team annotation on the pod', (p) => (p.metadata.annotations = { [TEAM]: 'b' })],
  ['a nodeSelector on the team label', (p) => (p.spec.nodeSelector = { [TEAM]: 'b' })],
  ['a node affinity to the node', (p) => (p.spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b-node'] }] }] } } })],
  ['tolerations for every taint', (p) => (p.spec.tolerations = [{ operator: 'Exists' }])],
  ['a nodeName hint', (p) => (p.spec.nodeName = 'b-node')],
  ['a nominatedNodeName in its status', (p) => (p.status = { phase: 'Pending', nominatedNodeName: 'b-node' })],
  ['an owner reference claiming to be a DaemonSet', (p) => (p.metadata.ownerReferences = [{ kind: 'DaemonSet', controller: true, name: 'x', apiVersion: 'apps/v1', uid: 'u' }])],
  ['a priority class', (p) => ((p.spec.priorityClassName = 'system-node-critical'), (p.spec.priority = 2000001000))],
  ['a service account of the other team', (p) => (p.spec.serviceAccountName = 'team-b-admin')],
];

describe("a pod cannot reach another team's node through fields it controls", () => {
  it.each(attempts)('%s', (_name, mutate) => {
    const index = cluster();
    expect(verdict(index, attempt('team-a', mutate), 'b-node')?.code).toBe('other_team');
  });

  it.each(attempts)('%s, from a namespace without a team', (_name, mutate) => {
    const index = cluster();
    expect(passingNodes(index, attempt('loose', mutate))).toEqual(['shared']);
  });
});

describe('namespaces without a team', () => {
  it('reach shared nodes only', () => {
    expect(passingNodes(cluster(), pod('loose', 'p'))).toEqual(['shared']);
  });

  it('an unknown namespace reaches shared nodes only', () => {
    expect(passingNodes(cluster(), pod('not-in-index', 'p'))).toEqual(['shared']);
  });

  it('a namespace losing its team label loses its nodes at once', () => {
    const index = cluster();
    expect(passingNodes(index, pod('team-a', 'p')).sort()).toEqual(['a-node', 'shared']);
    index.upsertNamespace(namespace('team-a'));
    expect(passingNodes(index, pod('team-a', 'p'))).toEqual(['shared']);
  });
});

describe('a pod cannot escape its node\'s profile by claiming a DaemonSet owner (issue 15)', () => {
  const DB = { 'kernel.shmmax': '68719476736', 'kernel.sem': '250 32000 100 128' };
  const OTHER = { 'kernel.shmmax': '17179869184', 'kernel.sem': '250 32000 100 128' };
  const allowing = { allowed: 'kernel.shm*,kernel.sem' };
  const claims: Array<[string, Record<string, unknown>]> = [
    ['a DaemonSet that does not exist', { kind: 'DaemonSet', apiVersion: 'apps/v1', controller: true, name: 'ghost', uid: 'uid-ghost' }],
    ['a real DaemonSet of another namespace, with its UID', { kind: 'DaemonSet', apiVersion: 'apps/v1', controller: true, name: 'node-exporter', uid: 'uid-node-exporter' }],
    ['a real DaemonSet name in its own namespace, with a made-up UID', { kind: 'DaemonSet', apiVersion: 'apps/v1', controller: true, name: 'agent', uid: 'made-up' }],
    ['a DaemonSet owner that is not the controller', { kind: 'DaemonSet', apiVersion: 'apps/v1', controller: false, name: 'agent', uid: 'uid-agent' }],
  ];

  it.each(claims)('claiming %s, the pod still gives its node its profile', (_name, owner) => {
    const squatter = pod('team-a', 'squatter', { node: 'n', sysctls: OTHER });
    squatter.metadata!.ownerReferences = [owner as never];
    const index = indexOf([
      namespace('team-a', 'a'),
      node('n', { team: 'a', ...allowing }),
      { kind: 'DaemonSet', metadata: { namespace: 'kube-system', name: 'node-exporter', uid: 'uid-node-exporter' } },
      { kind: 'DaemonSet', metadata: { namespace: 'team-a', name: 'agent', uid: 'uid-agent' } },
      squatter,
    ]);
    expect(index.node('n')?.occupants).toBe(1);
    expect(verdict(index, pod('team-a', 'db', { sysctls: DB }), 'n')?.code).toBe('busy_other_profile');
  });
});
