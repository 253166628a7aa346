import { describe, expect, it } from 'vitest';
import type { Policy } from '../src/config/policy.js';
import type { KubeDaemonSet, KubeNamespace, KubeNode, KubePod } from '../src/sysctl-index/kube-objects.js';
import { indexOf, policyOf, verdict } from './support/evaluate.js';
import { ALLOW_ALL_UNSAFE, DB, DB_SMALL, WEB, daemonSet, namespace, node, pod } from './support/objects.js';

type Item = (KubeNamespace | KubeNode | KubePod | KubeDaemonSet) & { kind: string };

/** A node whose kubelet allows every namespaced unsafe sysctl: the profile rules alone decide. */
const OPEN = { allowed: ALLOW_ALL_UNSAFE };

interface Case {
  name: string;
  cluster: Item[];
  pod: KubePod;
  node: string;
  /** Rejection code, or 'pass'. */
  want: string;
  policy?: Policy;
}

const teams = [namespace('team-a', 'a'), namespace('team-b', 'b'), namespace('no-team')];
const VM = 'vm.max_map_count=262144';
const compatible = policyOf({ policy: 'compatible' });

/** The strict rule mode unless a case names its policy. */
const cases: Case[] = [
  // --- pods whose profile is empty stay on untuned nodes
  { name: 'a pod without sysctls runs on an idle untuned node', cluster: [node('n', OPEN)], pod: pod('team-a', 'p'), node: 'n', want: 'pass' },
  {
    name: 'a pod with only safe sysctls is placed like one without',
    cluster: [node('n', OPEN)],
    pod: pod('team-a', 'p', { sysctls: { 'net.ipv4.ip_local_port_range': '1024 65000', 'kernel.shm_rmid_forced': '1' } }),
    node: 'n',
    want: 'pass',
  },
  {
    name: 'a pod with only safe sysctls may not run on a node running unsafe pods',
    cluster: [node('n', OPEN), pod('team-a', 'db', { node: 'n', sysctls: DB })],
    pod: pod('team-a', 'p', { sysctls: { 'net.ipv4.tcp_syncookies': '1' } }),
    node: 'n',
    want: 'busy_other_profile',
  },
  { name: 'a pod without sysctls runs on a busy untuned node', cluster: [node('n', OPEN), pod('team-a', 'web', { node: 'n' })], pod: pod('team-a', 'p'), node: 'n', want: 'pass' },
  { name: 'a pod without sysctls may not run on a node declaring node-level values', cluster: [node('n', { ...OPEN, sysctls: VM })], pod: pod('team-a', 'p'), node: 'n', want: 'declared_mismatch' },
  {
    name: 'a pod without sysctls may not run on a node running pods with unsafe sysctls',
    cluster: [node('n', OPEN), pod('team-a', 'db', { node: 'n', sysctls: DB })],
    pod: pod('team-a', 'p'),
    node: 'n',
    want: 'busy_other_profile',
  },
  // --- unsafe sysctls: exact reuse or an idle claim
  { name: 'a pod with unsafe sysctls claims an idle untuned node', cluster: [node('n', OPEN)], pod: pod('team-a', 'p', { sysctls: DB }), node: 'n', want: 'pass' },
  {
    name: 'a pod with unsafe sysctls joins a node running exactly its profile',
    cluster: [node('n', OPEN), pod('team-a', 'db-0', { node: 'n', sysctls: DB })],
    pod: pod('team-a', 'p', { sysctls: DB }),
    node: 'n',
    want: 'pass',
  },
  {
    name: 'a pod with unsafe sysctls may not join a node running another value of them',
    cluster: [node('n', OPEN), pod('team-a', 'db-0', { node: 'n', sysctls: DB_SMALL })],
    pod: pod('team-a', 'p', { sysctls: DB }),
    node: 'n',
    want: 'busy_other_profile',
  },
  {
    name: 'a pod with unsafe sysctls may not join a node running a subset of them',
    cluster: [node('n', OPEN), pod('team-a', 'db-0', { node: 'n', sysctls: { 'kernel.shmmax': DB['kernel.shmmax'] } })],
    pod: pod('team-a', 'p', { sysctls: DB }),
    node: 'n',
    want: 'busy_other_profile',
  },
  {
    name: 'a pod with unsafe sysctls may not join a busy node running plain pods',
    cluster: [node('n', OPEN), pod('team-a', 'web', { node: 'n' })],
    pod: pod('team-a', 'p', { sysctls: DB }),
    node: 'n',
    want: 'busy_other_profile',
  },
  { name: 'a pod with unsafe sysctls may not claim an idle node declaring node-level values', cluster: [node('n', { ...OPEN, sysctls: VM })], pod: pod('team-a', 'p', { sysctls: DB }), node: 'n', want: 'declared_mismatch' },
  // --- node-level values: only where the node declares exactly those
  { name: 'a pod needing node-level values claims an idle node declaring exactly them', cluster: [node('n', { ...OPEN, sysctls: VM })], pod: pod('team-a', 'p', { needs: VM }), node: 'n', want: 'pass' },
  { name: 'a pod needing node-level values may not run on an untuned node', cluster: [node('n', OPEN)], pod: pod('team-a', 'p', { needs: VM }), node: 'n', want: 'declared_mismatch' },
  { name: 'a pod needing node-level values may not run where another value is declared', cluster: [node('n', { sysctls: 'vm.max_map_count=65530' })], pod: pod('team-a', 'p', { needs: VM }), node: 'n', want: 'declared_mismatch' },
  { name: 'a pod needing node-level values may not run where more values are declared', cluster: [node('n', { sysctls: `${VM}; vm.swappiness=1` })], pod: pod('team-a', 'p', { needs: VM }), node: 'n', want: 'declared_mismatch' },
  {
    name: 'a pod needing node-level values joins a busy node declaring them whose pods need the same',
    cluster: [node('n', { ...OPEN, sysctls: VM }), pod('team-a', 'es-0', { node: 'n', needs: VM })],
    pod: pod('team-a', 'p', { needs: VM }),
    node: 'n',
    want: 'pass',
  },
  {
    name: 'a pod needing node-level and unsafe values claims an idle node declaring the node-level part',
    cluster: [node('n', { ...OPEN, sysctls: VM })],
    pod: pod('team-a', 'p', { needs: VM, sysctls: WEB }),
    node: 'n',
    want: 'pass',
  },
  {
    name: 'a pod needing node-level and unsafe values joins a node already carrying that profile',
    cluster: [node('n', { ...OPEN, sysctls: VM }), pod('team-a', 'es-0', { node: 'n', needs: VM, sysctls: WEB })],
    pod: pod('team-a', 'p', { needs: VM, sysctls: WEB }),
    node: 'n',
    want: 'pass',
  },
  {
    name: 'a pod needing only the node-level part may not join a node whose pods add unsafe values',
    cluster: [node('n', { ...OPEN, sysctls: VM }), pod('team-a', 'es-0', { node: 'n', needs: VM, sysctls: WEB })],
    pod: pod('team-a', 'p', { needs: VM }),
    node: 'n',
    want: 'busy_other_profile',
  },
  // --- what does not count
  {
    name: 'DaemonSet pods do not make a node busy',
    cluster: [node('n', OPEN), daemonSet('kube-system'), pod('kube-system', 'exporter', { node: 'n', daemonSet: true })],
    pod: pod('team-a', 'p', { sysctls: DB }),
    node: 'n',
    want: 'pass',
  },
  {
    name: 'DaemonSet pods with unsafe sysctls do not give a node a profile',
    cluster: [node('n', OPEN), daemonSet('kube-system'), pod('kube-system', 'cni', { node: 'n', daemonSet: true, sysctls: WEB })],
    pod: pod('team-a', 'p'),
    node: 'n',
    want: 'pass',
  },
  {
    name: 'a pod claiming a DaemonSet the index has not seen makes its node busy',
    cluster: [node('n', OPEN), pod('team-b', 'fake-exporter', { node: 'n', daemonSet: true })],
    pod: pod('team-a', 'p', { sysctls: DB }),
    node: 'n',
    want: 'busy_other_profile',
  },
  {
    name: 'a pod claiming a DaemonSet of the right name but another UID gives its node a profile',
    cluster: [node('n', OPEN), daemonSet('team-b', 'ds', 'uid-of-the-real-one'), pod('team-b', 'fake-cni', { node: 'n', daemonSet: true, sysctls: WEB })],
    pod: pod('team-a', 'p'),
    node: 'n',
    want: 'busy_other_profile',
  },
  {
    name: 'a pod claiming a DaemonSet of the same name and UID in another namespace is not proven',
    cluster: [node('n', OPEN), daemonSet('kube-system', 'ds', 'uid-ds-team-b-ds'), pod('team-b', 'fake-cni', { node: 'n', daemonSet: true, sysctls: WEB })],
    pod: pod('team-a', 'p'),
    node: 'n',
    want: 'busy_other_profile',
  },
  {
    name: 'finished pods neither make a node busy nor give it a profile',
    cluster: [node('n', OPEN), pod('team-a', 'job-ok', { node: 'n', sysctls: DB_SMALL, phase: 'Succeeded' }), pod('team-a', 'job-ko', { node: 'n', sysctls: WEB, phase: 'Failed' })],
    pod: pod('team-a', 'p', { sysctls: DB }),
    node: 'n',
    want: 'pass',
  },
  {
    name: 'slash-separated names and extra white space equal their dotted, folded form',
    cluster: [node('n', OPEN), pod('team-a', 'db-0', { node: 'n', sysctls: DB })],
    pod: pod('team-a', 'p', { sysctls: { 'kernel/shmmax': ' 68719476736 ', 'kernel/sem': '250  32000\t100   128' } }),
    node: 'n',
    want: 'pass',
  },
  {
    name: 'a node whose pods already disagree takes no pod with a profile',
    cluster: [node('n', OPEN), pod('team-a', 'db-0', { node: 'n', sysctls: DB }), pod('team-a', 'db-1', { node: 'n', sysctls: DB_SMALL })],
    pod: pod('team-a', 'p', { sysctls: DB }),
    node: 'n',
    want: 'busy_other_profile',
  },
  // --- teams
  { name: "a team's pod runs on its team's node", cluster: [node('n', { team: 'a' })], pod: pod('team-a', 'p'), node: 'n', want: 'pass' },
  { name: "a team's pod runs on a shared node", cluster: [node('n', OPEN)], pod: pod('team-a', 'p'), node: 'n', want: 'pass' },
  { name: "a team's pod never runs on another team's node", cluster: [node('n', { team: 'b' })], pod: pod('team-a', 'p'), node: 'n', want: 'other_team' },
  { name: 'a pod whose namespace has no team never runs on a dedicated node', cluster: [node('n', { team: 'a' })], pod: pod('no-team', 'p'), node: 'n', want: 'namespace_without_team' },
  { name: 'a pod in a namespace the index does not know is treated as teamless', cluster: [node('n', { team: 'a' })], pod: pod('ghost', 'p'), node: 'n', want: 'namespace_without_team' },
  {
    name: 'a team label on the pod itself is ignored',
    cluster: [node('n', { team: 'a' })],
    pod: pod('team-b', 'p', { labels: { 'sysctl-extender.io/team': 'a' } }),
    node: 'n',
    want: 'other_team',
  },
  // --- the kubelet's allow-list
  { name: 'unsafe sysctls matched by the allow-list globs are admitted', cluster: [node('n', { allowed: 'kernel.shm*, kernel.sem' })], pod: pod('team-a', 'p', { sysctls: DB }), node: 'n', want: 'pass' },
  { name: 'an unsafe sysctl missing from the allow-list is refused', cluster: [node('n', { allowed: 'kernel.shm*' })], pod: pod('team-a', 'p', { sysctls: DB }), node: 'n', want: 'unsafe_not_allowed' },
  { name: 'an allow-list written with slashes matches dotted names', cluster: [node('n', { allowed: 'net/core/*' })], pod: pod('team-a', 'p', { sysctls: WEB }), node: 'n', want: 'pass' },
  { name: 'an empty allow-list admits no unsafe sysctl', cluster: [node('n', { allowed: '' })], pod: pod('team-a', 'p', { sysctls: WEB }), node: 'n', want: 'unsafe_not_allowed' },
  { name: 'an allow-list does not concern pods without unsafe sysctls', cluster: [node('n', { allowed: '' })], pod: pod('team-a', 'p'), node: 'n', want: 'pass' },
  // --- pods no kubelet would run, nodes that cannot be read
  { name: 'a node-level sysctl in securityContext fails with its own reason', cluster: [node('n', { ...OPEN, sysctls: VM })], pod: pod('team-a', 'p', { sysctls: { 'vm.max_map_count': '262144' } }), node: 'n', want: 'pod_invalid' },
  { name: 'a pod annotation that cannot be parsed fails the pod', cluster: [node('n', OPEN)], pod: pod('team-a', 'p', { needs: 'vm.max_map_count' }), node: 'n', want: 'pod_invalid' },
  { name: 'an unsafe sysctl in the pod annotation fails the pod', cluster: [node('n', OPEN)], pod: pod('team-a', 'p', { needs: 'net.core.somaxconn=4096' }), node: 'n', want: 'pod_invalid' },
  { name: 'a sysctl name the API server would refuse fails the pod', cluster: [node('n', OPEN)], pod: pod('team-a', 'p', { sysctls: { 'net.a=b': 'c' } }), node: 'n', want: 'pod_invalid' },
  { name: 'a net sysctl on a pod sharing the host network fails the pod', cluster: [node('n', OPEN)], pod: pod('team-a', 'p', { sysctls: WEB, hostNetwork: true }), node: 'n', want: 'pod_invalid' },
  { name: 'an ipc sysctl on a pod sharing the host IPC namespace fails the pod', cluster: [node('n', OPEN)], pod: pod('team-a', 'p', { sysctls: DB, hostIPC: true }), node: 'n', want: 'pod_invalid' },
  { name: 'a node whose sysctls annotation cannot be parsed is not treated as untuned', cluster: [node('n', { sysctls: 'vm.swappiness' })], pod: pod('team-a', 'p'), node: 'n', want: 'node_annotation_invalid' },
  { name: 'a node whose allow-list cannot be parsed takes no pods', cluster: [node('n', { allowed: 'Kernel.SHM*' })], pod: pod('team-a', 'p'), node: 'n', want: 'allow_list_invalid' },
  { name: 'a node the index has never seen fails with its own reason', cluster: [], pod: pod('team-a', 'p'), node: 'n', want: 'unknown_node' },
  { name: 'a node known only through its pods is not placed on', cluster: [pod('team-a', 'web', { node: 'n' })], pod: pod('team-a', 'p'), node: 'n', want: 'unknown_node' },
  // --- the compatible rule mode: compatible values share a node, node-level values are declared
  { name: 'compatible: a plain pod runs on a tuned node', cluster: [node('n', { ...OPEN, sysctls: VM })], pod: pod('team-a', 'p'), node: 'n', want: 'pass', policy: compatible },
  {
    name: 'compatible: a pod joins a node whose pods set other, non-conflicting values',
    cluster: [node('n', OPEN), pod('team-a', 'web', { node: 'n', sysctls: WEB })],
    pod: pod('team-a', 'p', { sysctls: DB }),
    node: 'n',
    want: 'pass',
    policy: compatible,
  },
  {
    name: 'compatible: a pod may not join pods that set one of its sysctls to another value',
    cluster: [node('n', OPEN), pod('team-a', 'db-0', { node: 'n', sysctls: DB_SMALL })],
    pod: pod('team-a', 'p', { sysctls: DB }),
    node: 'n',
    want: 'pods_conflict',
    policy: compatible,
  },
  { name: 'compatible: a pod needing an undeclared node-level value is refused', cluster: [node('n', OPEN)], pod: pod('team-a', 'p', { needs: VM }), node: 'n', want: 'node_level_missing', policy: compatible },
  { name: 'compatible: a pod needing a node-level value declared differently is refused', cluster: [node('n', { sysctls: 'vm.max_map_count=1' })], pod: pod('team-a', 'p', { needs: VM }), node: 'n', want: 'declared_conflict', policy: compatible },
  { name: 'compatible: a node declaring more than the pod needs qualifies', cluster: [node('n', { sysctls: `${VM}; vm.swappiness=1` })], pod: pod('team-a', 'p', { needs: VM }), node: 'n', want: 'pass', policy: compatible },
  {
    name: 'compatible: a node whose pods disagree takes no pod with unsafe sysctls',
    cluster: [node('n', OPEN), pod('team-a', 'db-0', { node: 'n', sysctls: DB }), pod('team-a', 'db-1', { node: 'n', sysctls: DB_SMALL })],
    pod: pod('team-a', 'p', { sysctls: WEB }),
    node: 'n',
    want: 'pods_conflict',
    policy: compatible,
  },
  { name: 'compatible: team isolation still holds', cluster: [node('n', { team: 'b' })], pod: pod('team-a', 'p'), node: 'n', want: 'other_team', policy: compatible },
];

describe('placement rules (SPEC section 3)', () => {
  it.each(cases)('$name', ({ cluster, pod: p, node: n, want, policy }) => {
    const index = indexOf([...teams, ...cluster], policy);
    expect(verdict(index, p, n)?.code ?? 'pass').toBe(want);
  });
});

describe('which reasons preemption can resolve', () => {
  it('conflicts caused by running pods go to FailedNodes; ownership and declarations do not', () => {
    const index = indexOf([...teams, node('busy', OPEN), pod('team-a', 'db', { node: 'busy', sysctls: DB_SMALL }), node('b', { team: 'b' }), node('tuned', { ...OPEN, sysctls: VM })]);
    const p = pod('team-a', 'p', { sysctls: DB });
    expect(verdict(index, p, 'busy')).toMatchObject({ code: 'busy_other_profile', unresolvable: false });
    expect(verdict(index, p, 'b')).toMatchObject({ code: 'other_team', unresolvable: true });
    expect(verdict(index, p, 'tuned')).toMatchObject({ code: 'declared_mismatch', unresolvable: true });
  });

  it('the reason for a node-level sysctl in securityContext names it and the annotation to use', () => {
    const index = indexOf([...teams, node('n', OPEN)]);
    const reason = verdict(index, pod('team-a', 'p', { sysctls: { 'vm/swappiness': '1' } }), 'n')?.reason;
    expect(reason).toContain('vm.swappiness');
    expect(reason).toContain('sysctl-extender.io/sysctls');
  });

  it('node reasons carry no node name or value, so kube-scheduler can aggregate them', () => {
    const index = indexOf([...teams, node('node-x', { team: 'b' }), node('node-y', { team: 'c' })]);
    const p = pod('team-a', 'p');
    expect(verdict(index, p, 'node-x')?.reason).toBe(verdict(index, p, 'node-y')?.reason);
    expect(verdict(index, p, 'node-x')?.reason).not.toMatch(/node-x|\bb\b/);
  });
});

describe('configurable keys', () => {
  it('reads teams and sysctls from the keys the policy names', () => {
    const policy = policyOf({ keys: { teamLabel: 'example.com/owner', sysctlsAnnotation: 'example.com/kernel' } });
    const index = indexOf(
      [
        { kind: 'Namespace', metadata: { name: 'ns', labels: { 'example.com/owner': 'x' } } },
        { kind: 'Node', metadata: { name: 'mine', labels: { 'example.com/owner': 'x' }, annotations: { 'example.com/kernel': VM } } },
        { kind: 'Node', metadata: { name: 'theirs', labels: { 'example.com/owner': 'y' }, annotations: { 'example.com/kernel': VM } } },
      ],
      policy,
    );
    const p: KubePod = { metadata: { name: 'p', namespace: 'ns', annotations: { 'example.com/kernel': VM } } };
    expect(verdict(index, p, 'mine')).toBeUndefined();
    expect(verdict(index, p, 'theirs')?.code).toBe('other_team');
  });

  it('treats the extra safe sysctls of the policy as safe', () => {
    const index = indexOf([...teams, node('n', OPEN), pod('team-a', 'web', { node: 'n' })], policyOf({ extraSafeSysctls: ['net.core.somaxconn'] }));
    expect(verdict(index, pod('team-a', 'p', { sysctls: WEB }), 'n')).toBeUndefined();
  });
});
