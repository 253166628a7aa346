/**
 * What each node's kubelet admits (SPEC sections 1 and 3, issue 15): the safe list by kubelet
 * release and kernel, the exact IPC names, allow-lists parsed as the kubelet parses
 * `--allowed-unsafe-sysctls`, and nodes that declare no allow-list.
 *
 * The table below is written out from upstream, not derived from src/:
 * kubernetes/kubernetes pkg/kubelet/sysctl/safe_sysctls.go (`safeSysctls`, the release of each
 * entry from the PRs and the sysctl-cluster docs: 1.18, 1.22, 1.27 #115374, 1.29 #118846
 * #121240, 1.32 #125234, 1.37 #138389) and pkg/util/kernel/constants.go (the kernel in which
 * each gated entry was namespaced).
 */
import { describe, expect, it } from 'vitest';
import type { Policy } from '../src/config/policy.js';
import { parseKernelVersion, parseKubeletMinor } from '../src/sysctl-index/node-runtime.js';
import type { KubeNode } from '../src/sysctl-index/kube-objects.js';
import { explainPod } from '../src/explain/explain-pod.js';
import { indexOf, policyOf, verdict } from './support/evaluate.js';
import { namespace, node, pod, type NodeOptions } from './support/objects.js';

const UPSTREAM_SAFE: ReadonlyArray<{ name: string; since: number; kernel?: [number, number] }> = [
  { name: 'kernel.shm_rmid_forced', since: 0 },
  { name: 'net.ipv4.ip_local_port_range', since: 0 },
  { name: 'net.ipv4.tcp_syncookies', since: 0 },
  { name: 'net.ipv4.ping_group_range', since: 18 },
  { name: 'net.ipv4.ip_unprivileged_port_start', since: 22 },
  { name: 'net.ipv4.ip_local_reserved_ports', since: 27, kernel: [3, 16] }, // IPLocalReservedPortsNamespacedKernelVersion
  { name: 'net.ipv4.tcp_keepalive_time', since: 29, kernel: [4, 5] }, // TCPKeepAliveTimeNamespacedKernelVersion
  { name: 'net.ipv4.tcp_fin_timeout', since: 29, kernel: [4, 6] }, // TCPFinTimeoutNamespacedKernelVersion
  { name: 'net.ipv4.tcp_keepalive_intvl', since: 29, kernel: [4, 5] }, // TCPKeepAliveIntervalNamespacedKernelVersion
  { name: 'net.ipv4.tcp_keepalive_probes', since: 29, kernel: [4, 5] }, // TCPKeepAliveProbesNamespacedKernelVersion
  { name: 'net.ipv4.tcp_rmem', since: 32, kernel: [4, 15] }, // TCPReceiveMemoryNamespacedKernelVersion
  { name: 'net.ipv4.tcp_wmem', since: 32, kernel: [4, 15] }, // TCPTransmitMemoryNamespacedKernelVersion
  { name: 'net.ipv4.tcp_slow_start_after_idle', since: 37, kernel: [4, 15] }, // TCPSlowStartAfterIdleNamespacedKernelVersion
  { name: 'net.ipv4.tcp_notsent_lowat', since: 37, kernel: [4, 6] }, // TCPNotSentLowatNamespacedKernelVersion
];

const NEWEST = 'v1.37.0';
const NEW_KERNEL = '6.1.0-27-amd64';

interface Row {
  name: string;
  sysctl: string;
  node: NodeOptions;
  want: string;
}

/** One row per boundary: the release before and at `since`, the kernel below and at the minimum, and the unknowns. */
function boundaryRows(): Row[] {
  const rows: Row[] = [];
  for (const { name: sysctl, since, kernel } of UPSTREAM_SAFE) {
    const minKernel = kernel ? `${kernel[0]}.${kernel[1]}.0-generic` : undefined;
    const belowKernel = kernel ? `${kernel[0]}.${kernel[1] - 1}.0-generic` : undefined;
    if (since > 0) {
      rows.push({ name: `${sysctl} is refused by a 1.${since - 1} kubelet that declares no allow-list`, sysctl, node: { kubelet: `v1.${since - 1}.9`, kernel: NEW_KERNEL }, want: 'allow_list_undeclared' });
      rows.push({ name: `${sysctl} is admitted by a 1.${since - 1} kubelet whose allow-list names it`, sysctl, node: { kubelet: `v1.${since - 1}.9`, kernel: NEW_KERNEL, allowed: sysctl }, want: 'pass' });
      rows.push({ name: `${sysctl} is refused by a 1.${since - 1} kubelet whose allow-list admits other sysctls only`, sysctl, node: { kubelet: `v1.${since - 1}.9`, kernel: NEW_KERNEL, allowed: 'net.core.*' }, want: 'safe_not_on_kubelet' });
      rows.push({ name: `${sysctl} is refused by a node that reports no kubelet version`, sysctl, node: { kernel: NEW_KERNEL }, want: 'allow_list_undeclared' });
    } else {
      rows.push({ name: `${sysctl} is safe on a node that reports neither kubelet nor kernel`, sysctl, node: {}, want: 'pass' });
    }
    rows.push({ name: `${sysctl} is safe from kubelet 1.${since} on`, sysctl, node: { kubelet: `v1.${since}.0`, kernel: minKernel ?? NEW_KERNEL }, want: 'pass' });
    if (kernel) {
      rows.push({ name: `${sysctl} is safe on kernel ${kernel.join('.')}, the first to namespace it`, sysctl, node: { kubelet: NEWEST, kernel: minKernel }, want: 'pass' });
      rows.push({ name: `${sysctl} cannot run on kernel ${kernel[0]}.${kernel[1] - 1}, which does not namespace it`, sysctl, node: { kubelet: NEWEST, kernel: belowKernel }, want: 'kernel_not_namespaced' });
      rows.push({ name: `${sysctl} cannot run on kernel ${kernel[0]}.${kernel[1] - 1} even where the allow-list names it`, sysctl, node: { kubelet: NEWEST, kernel: belowKernel, allowed: sysctl }, want: 'kernel_not_namespaced' });
      rows.push({ name: `${sysctl} is not safe where the node reports no kernel (the kubelet drops gated entries)`, sysctl, node: { kubelet: NEWEST }, want: 'allow_list_undeclared' });
      rows.push({ name: `${sysctl} is admitted where the node reports no kernel but its allow-list names it`, sysctl, node: { kubelet: NEWEST, allowed: sysctl }, want: 'pass' });
    }
  }
  return rows;
}

const teams = [namespace('team-a', 'a')];

function verdictOn(nodeOptions: NodeOptions, sysctls: Record<string, string>, policy?: Policy, extra: KubeNode[] = []): string {
  const index = indexOf([...teams, node('n', nodeOptions), ...extra.map((n) => ({ ...n, kind: 'Node' }))], policy);
  return verdict(index, pod('team-a', 'p', { sysctls }), 'n')?.code ?? 'pass';
}

describe('the safe list by kubelet release and kernel (safe_sysctls.go, kernel/constants.go)', () => {
  it.each(boundaryRows())('$name', ({ sysctl, node: n, want }) => {
    expect(verdictOn(n, { [sysctl]: '1' })).toBe(want);
  });

  it('has a row for every upstream safe sysctl, and src/ knows no other', async () => {
    const { KUBELET_SAFE_SYSCTLS } = await import('../src/sysctl-index/classify.js');
    expect(KUBELET_SAFE_SYSCTLS.map((s) => s.name).sort()).toEqual(UPSTREAM_SAFE.map((s) => s.name).sort());
  });
});

describe('nodeInfo as real kubelets report it', () => {
  it.each([
    ['v1.31.4-eks-2d98532', 31],
    ['v1.29.0', 29],
    ['v1.30.2+k3s1', 30],
    ['1.32.1', 32],
    ['v1.28.15-gke.1020000', 28],
    [' v1.31.4 ', 31],
    ['', undefined],
    ['v2.0.0', undefined],
    ['vX', undefined],
    ['kubelet', undefined],
    [42, undefined],
    [null, undefined],
    ['v1.' + '9'.repeat(300), undefined],
  ])('kubelet version %j reads as minor %j', (text, minor) => {
    expect(parseKubeletMinor(text)).toBe(minor);
  });

  it.each([
    ['5.15.0-1048-aws', 5015],
    ['6.1.0-27-amd64', 6001],
    ['3.10.0-1160.el7.x86_64', 3010],
    ['4.4.0-210-generic', 4004],
    ['6.8.0', 6008],
    ['5.10', 5010],
    ['', undefined],
    ['5', undefined],
    ['linux', undefined],
    ['.5.15', undefined],
    [undefined, undefined],
  ])('kernel version %j reads as %j', (text, code) => {
    expect(parseKernelVersion(text)).toBe(code);
  });

  it('a 1.31 EKS kubelet on 5.15 refuses tcp_rmem (safe since 1.32) unless its allow-list admits it', () => {
    const eks = { kubelet: 'v1.31.4-eks-2d98532', kernel: '5.15.0-1048-aws' };
    expect(verdictOn(eks, { 'net.ipv4.tcp_rmem': '4096 87380 16777216' })).toBe('allow_list_undeclared');
    expect(verdictOn({ ...eks, allowed: 'net.ipv4.tcp_rmem' }, { 'net.ipv4.tcp_rmem': '4096 87380 16777216' })).toBe('pass');
    expect(verdictOn(eks, { 'net.ipv4.tcp_keepalive_time': '600' })).toBe('pass');
  });

  it('a 1.37 kubelet on Debian 6.1 admits tcp_slow_start_after_idle and tcp_notsent_lowat as safe', () => {
    const node137 = { kubelet: 'v1.37.0', kernel: '6.1.0-27-amd64' };
    expect(verdictOn(node137, { 'net.ipv4.tcp_slow_start_after_idle': '0', 'net.ipv4.tcp_notsent_lowat': '16384' })).toBe('pass');
  });

  it('a pod with only the original safe sysctls runs on a node that reports nothing', () => {
    expect(verdictOn({}, { 'net.ipv4.ip_local_port_range': '1024 65000', 'net.ipv4.tcp_syncookies': '1' })).toBe('pass');
  });
});

describe('IPC names are exact since kubelet 1.29 (namespace.go, PR #118705)', () => {
  it.each(['kernel.shm_next_id', 'kernel.msg_next_id', 'kernel.shm', 'kernel.msg', 'kernel.sem_next_id'])(
    '%s in securityContext.sysctls fails on every node, even one allowing kernel.shm* and kernel.msg*',
    (sysctl) => {
      const index = indexOf([...teams, node('open', { allowed: 'kernel.shm*,kernel.msg*,kernel.sem' }), node('bare')]);
      for (const n of ['open', 'bare']) {
        const rejection = verdict(index, pod('team-a', 'p', { sysctls: { [sysctl]: '1' } }), n);
        expect(rejection?.code).toBe('pod_invalid');
        expect(rejection?.reason).toBe(`pod sets node-level sysctl ${sysctl} in securityContext.sysctls; declare it in annotation sysctl-extender.io/sysctls`);
      }
    },
  );

  it.each(['kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem'])(
    '%s is an unsafe sysctl a kernel.shm*,kernel.msg*,kernel.sem allow-list admits',
    (sysctl) => {
      expect(verdictOn({ allowed: 'kernel.shm*,kernel.msg*,kernel.sem' }, { [sysctl]: '1' })).toBe('pass');
    },
  );

  it('a node may declare kernel.shm_next_id as a node-level value, and a pod needing it goes there', () => {
    const index = indexOf([...teams, node('n', { sysctls: 'kernel.shm_next_id=-1' })]);
    expect(verdict(index, pod('team-a', 'p', { needs: 'kernel.shm_next_id=-1' }), 'n')).toBeUndefined();
  });
});

describe('allow-list patterns the kubelet refuses at start (allowlist.go NewAllowlist)', () => {
  it.each(['net*', 'kernel.*', '*', 'kernel.shmm*', 'kernel.shm_next_id', 'fs.mqueue*', 'vm.*', 'net.core.somaxconn,kernel.*'])(
    'a node whose allow-list holds %s takes no pods, with a reason that says why',
    (allowed) => {
      const index = indexOf([...teams, node('n', { allowed, kubelet: 'v1.31.4-eks-2d98532' })]);
      const rejection = verdict(index, pod('team-a', 'p'), 'n');
      expect(rejection?.code).toBe('allow_list_invalid');
      expect(rejection?.reason).toBe('node allow-list has a pattern kubelet refuses');
      expect(index.node('n')?.projection?.annotationProblem).toMatch(/refuses|invalid/);
    },
  );

  it('a 1.28 kubelet still reads kernel.shmm* (IPC stems were prefixes then), a 1.29 one refuses it', () => {
    expect(verdictOn({ allowed: 'kernel.shmm*', kubelet: 'v1.28.15' }, { 'kernel.shmmax': '1' })).toBe('pass');
    expect(verdictOn({ allowed: 'kernel.shmm*', kubelet: 'v1.29.0' }, { 'kernel.shmmax': '1' })).toBe('allow_list_invalid');
  });

  it.each(['net.*', 'kernel.shm*', 'kernel.msg*', 'kernel.sem', 'fs.mqueue.*', 'net.ipv4.tcp_*', 'kernel.shm', 'kernel.shmmax'])('%s is a pattern the kubelet accepts', (allowed) => {
    expect(verdictOn({ allowed, kubelet: 'v1.31.4' }, {})).toBe('pass');
  });
});

describe('a node that declares no allow-list', () => {
  it('admits only its safe sysctls by default, with a reason naming the annotation to set', () => {
    const index = indexOf([...teams, node('n', { kubelet: 'v1.31.4-eks-2d98532', kernel: '5.15.0-1048-aws' })]);
    const rejection = verdict(index, pod('team-a', 'p', { sysctls: { 'net.core.somaxconn': '4096' } }), 'n');
    expect(rejection).toMatchObject({ code: 'allow_list_undeclared', unresolvable: true });
    expect(rejection?.reason).toBe('node has no unsafe-sysctl allow-list');
    expect(verdict(index, pod('team-a', 'q', { sysctls: { 'net.ipv4.tcp_keepalive_time': '600' } }), 'n')).toBeUndefined();
  });

  it('gives the same reason whatever annotation the policy configures, and explain names that annotation', () => {
    const policy = policyOf({ keys: { allowedUnsafeSysctlsAnnotation: 'example.com/unsafe' } });
    const index = indexOf([...teams, node('n')], policy);
    const semPod = pod('team-a', 'p', { sysctls: { 'kernel.sem': '1 2 3 4' } });
    expect(verdict(index, semPod, 'n')?.reason).toBe('node has no unsafe-sysctl allow-list');
    expect(JSON.stringify(explainPod(semPod, { index, policy }, ['n']))).toContain('declares no example.com/unsafe annotation');
  });

  it('is trusted to admit every unsafe sysctl when the policy sets trustUndeclaredAllowList', () => {
    const trusting = policyOf({ trustUndeclaredAllowList: true });
    expect(verdictOn({ kubelet: 'v1.31.4' }, { 'net.core.somaxconn': '4096' }, trusting)).toBe('pass');
    // A newer safe sysctl is unsafe on this kubelet, and admitted by the trust like any unsafe one.
    expect(verdictOn({ kubelet: 'v1.31.4', kernel: '5.15.0-1048-aws' }, { 'net.ipv4.tcp_rmem': '4096 87380 16777216' }, trusting)).toBe('pass');
    // What the kernel does not namespace cannot run, trusted or not.
    expect(verdictOn({ kubelet: 'v1.31.4', kernel: '4.4.0-210-generic' }, { 'net.ipv4.tcp_keepalive_time': '600' }, trusting)).toBe('kernel_not_namespaced');
    // A declared allow-list is still read as written.
    expect(verdictOn({ kubelet: 'v1.31.4', allowed: 'kernel.sem' }, { 'net.core.somaxconn': '4096' }, trusting)).toBe('unsafe_not_allowed');
  });
});

describe('new reasons are stable sentences kube-scheduler can aggregate', () => {
  it('carry no node name, version or value', () => {
    const index = indexOf([
      ...teams,
      node('node-x', { kubelet: 'v1.27.3', kernel: '4.4.0-1-generic' }),
      node('node-y', { kubelet: 'v1.31.4-eks-2d98532', kernel: '4.4.0-2-aws' }),
      node('node-z', { allowed: 'net*' }),
      node('node-w', { allowed: '*' }),
    ]);
    const p = pod('team-a', 'p', { sysctls: { 'net.ipv4.tcp_keepalive_time': '600' } });
    expect(verdict(index, p, 'node-x')?.reason).toBe(verdict(index, p, 'node-y')?.reason);
    expect(verdict(index, p, 'node-z')?.reason).toBe(verdict(index, p, 'node-w')?.reason);
    for (const n of ['node-x', 'node-y', 'node-z']) expect(verdict(index, p, n)?.reason).not.toMatch(/node-|1\.\d|4\.4|600|net\*/);
  });
});
