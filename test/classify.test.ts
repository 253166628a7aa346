import { describe, expect, it } from 'vitest';
import { KUBELET_SAFE_SYSCTLS, SysctlClassifier, kernelNamespaceOf, type SysctlClass } from '../src/sysctl-index/classify.js';

describe('KUBELET_SAFE_SYSCTLS', () => {
  // The kubelet's safe list as of Kubernetes 1.37 (pkg/kubelet/sysctl/safe_sysctls.go, PR #138389).
  const upstream = [
    'kernel.shm_rmid_forced',
    'net.ipv4.ip_local_port_range',
    'net.ipv4.tcp_syncookies',
    'net.ipv4.ping_group_range',
    'net.ipv4.ip_unprivileged_port_start',
    'net.ipv4.ip_local_reserved_ports',
    'net.ipv4.tcp_keepalive_time',
    'net.ipv4.tcp_fin_timeout',
    'net.ipv4.tcp_keepalive_intvl',
    'net.ipv4.tcp_keepalive_probes',
    'net.ipv4.tcp_rmem',
    'net.ipv4.tcp_wmem',
    'net.ipv4.tcp_slow_start_after_idle',
    'net.ipv4.tcp_notsent_lowat',
  ];

  it('holds exactly the upstream safe list', () => {
    expect(KUBELET_SAFE_SYSCTLS.map((s) => s.name).sort()).toEqual([...upstream].sort());
  });

  it('has no duplicate names', () => {
    const names = KUBELET_SAFE_SYSCTLS.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(KUBELET_SAFE_SYSCTLS.map((s) => ({ name: `${s.name} is namespaced, as every safe sysctl must be`, input: s.name })))(
    '$name',
    ({ input }) => {
      expect(kernelNamespaceOf(input)).toBeDefined();
    },
  );
});

describe('kernelNamespaceOf', () => {
  const cases: { name: string; input: string; want: 'ipc' | 'net' | undefined }[] = [
    { name: 'kernel.sem lives in the IPC namespace', input: 'kernel.sem', want: 'ipc' },
    { name: 'kernel.sem is an exact match, so kernel.sem_foo is not namespaced', input: 'kernel.sem_foo', want: undefined },
    { name: 'kernel.semmni is not namespaced (kernel.sem is exact)', input: 'kernel.semmni', want: undefined },
    { name: 'kernel.shmmax lives in the IPC namespace', input: 'kernel.shmmax', want: 'ipc' },
    { name: 'kernel.shm_rmid_forced lives in the IPC namespace', input: 'kernel.shm_rmid_forced', want: 'ipc' },
    { name: 'kernel.shm alone is only a glob stem, no sysctl (namespace.go, PR #118705)', input: 'kernel.shm', want: undefined },
    { name: 'kernel.shm_next_id is not namespaced: IPC names are exact since kubelet 1.29', input: 'kernel.shm_next_id', want: undefined },
    { name: 'kernel.msg_next_id is not namespaced', input: 'kernel.msg_next_id', want: undefined },
    { name: 'kernel.shmall lives in the IPC namespace', input: 'kernel.shmall', want: 'ipc' },
    { name: 'kernel.shmmni lives in the IPC namespace', input: 'kernel.shmmni', want: 'ipc' },
    { name: 'kernel.msgmni lives in the IPC namespace', input: 'kernel.msgmni', want: 'ipc' },
    { name: 'kernel.msgmax lives in the IPC namespace', input: 'kernel.msgmax', want: 'ipc' },
    { name: 'kernel.msgmnb lives in the IPC namespace', input: 'kernel.msgmnb', want: 'ipc' },
    { name: 'fs.mqueue.msg_max lives in the IPC namespace', input: 'fs.mqueue.msg_max', want: 'ipc' },
    { name: 'fs.mqueue without the trailing dot does not match fs.mqueue.', input: 'fs.mqueue', want: undefined },
    { name: 'net.core.somaxconn lives in the network namespace', input: 'net.core.somaxconn', want: 'net' },
    { name: 'net.ipv4.ip_forward lives in the network namespace', input: 'net.ipv4.ip_forward', want: 'net' },
    { name: 'a normalised VLAN interface sysctl lives in the network namespace', input: 'net.ipv4.conf.eno2/100.rp_filter', want: 'net' },
    { name: 'net without a dot is not namespaced', input: 'net', want: undefined },
    { name: 'a name merely starting with "net" is not namespaced', input: 'netfilter.foo', want: undefined },
    { name: 'vm.swappiness is not namespaced', input: 'vm.swappiness', want: undefined },
    { name: 'fs.file-max is not namespaced', input: 'fs.file-max', want: undefined },
    { name: 'kernel.pid_max is not namespaced', input: 'kernel.pid_max', want: undefined },
    { name: 'kernel.hostname is not known to be namespaced by Kubernetes', input: 'kernel.hostname', want: undefined },
    { name: 'a slashed spelling is not recognised: callers must normalise first', input: 'net/core/somaxconn', want: undefined },
  ];

  it.each(cases)('$name', ({ input, want }) => {
    expect(kernelNamespaceOf(input)).toBe(want);
  });
});

describe('SysctlClassifier.classify with the default safe list', () => {
  const classifier = new SysctlClassifier();

  const safeCases = KUBELET_SAFE_SYSCTLS.map((s) => ({
    name: `the kubelet-safe ${s.name} is safe`,
    input: s.name,
    want: 'safe' as SysctlClass,
  }));

  const cases: { name: string; input: string; want: SysctlClass }[] = [
    ...safeCases,
    { name: 'kernel.shm_rmid_forced is safe although kernel.shm* is unsafe', input: 'kernel.shm_rmid_forced', want: 'safe' },
    { name: 'kernel.shmmax is unsafe', input: 'kernel.shmmax', want: 'unsafe' },
    { name: 'kernel.shmall is unsafe', input: 'kernel.shmall', want: 'unsafe' },
    { name: 'kernel.msgmax is unsafe', input: 'kernel.msgmax', want: 'unsafe' },
    { name: 'kernel.sem is unsafe', input: 'kernel.sem', want: 'unsafe' },
    { name: 'kernel.sem_foo is node-level because kernel.sem is an exact match', input: 'kernel.sem_foo', want: 'node-level' },
    { name: 'fs.mqueue.msg_max is unsafe', input: 'fs.mqueue.msg_max', want: 'unsafe' },
    { name: 'net.core.somaxconn is unsafe', input: 'net.core.somaxconn', want: 'unsafe' },
    { name: 'net.ipv4.ip_forward is unsafe', input: 'net.ipv4.ip_forward', want: 'unsafe' },
    { name: 'net.ipv4.tcp_max_syn_backlog is unsafe', input: 'net.ipv4.tcp_max_syn_backlog', want: 'unsafe' },
    { name: 'net.ipv6.conf.all.disable_ipv6 is unsafe', input: 'net.ipv6.conf.all.disable_ipv6', want: 'unsafe' },
    { name: 'a safe name with a suffix is not safe', input: 'net.ipv4.tcp_syncookies_x', want: 'unsafe' },
    { name: 'vm.max_map_count is node-level', input: 'vm.max_map_count', want: 'node-level' },
    { name: 'vm.swappiness is node-level', input: 'vm.swappiness', want: 'node-level' },
    { name: 'fs.file-max is node-level', input: 'fs.file-max', want: 'node-level' },
    { name: 'fs.inotify.max_user_watches is node-level', input: 'fs.inotify.max_user_watches', want: 'node-level' },
    { name: 'kernel.pid_max is node-level', input: 'kernel.pid_max', want: 'node-level' },
    { name: 'kernel.panic is node-level', input: 'kernel.panic', want: 'node-level' },
  ];

  it.each(cases)('$name', ({ input, want }) => {
    expect(classifier.classify(input)).toBe(want);
  });
});

describe('SysctlClassifier.classify with operator-declared extra safe names', () => {
  const classifier = new SysctlClassifier(['net.core.somaxconn', 'kernel.msgmax']);

  const cases: { name: string; input: string; want: SysctlClass }[] = [
    { name: 'an extra safe unsafe sysctl becomes safe', input: 'net.core.somaxconn', want: 'safe' },
    { name: 'an extra safe IPC sysctl becomes safe', input: 'kernel.msgmax', want: 'safe' },
    { name: 'the kubelet safe list still applies', input: 'net.ipv4.tcp_syncookies', want: 'safe' },
    { name: 'other unsafe sysctls stay unsafe', input: 'net.core.rmem_max', want: 'unsafe' },
    { name: 'a neighbour of an extra name is not covered (extra names are exact)', input: 'kernel.msgmnb', want: 'unsafe' },
    { name: 'node-level sysctls stay node-level', input: 'vm.swappiness', want: 'node-level' },
  ];

  it.each(cases)('$name', ({ input, want }) => {
    expect(classifier.classify(input)).toBe(want);
  });

  it('extra safe names do not leak into another classifier', () => {
    expect(new SysctlClassifier().classify('net.core.somaxconn')).toBe('unsafe');
  });

  it('a node-level name declared safe is classified safe (the operator is trusted)', () => {
    expect(new SysctlClassifier(['vm.swappiness']).classify('vm.swappiness')).toBe('safe');
  });
});
