import { describe, expect, it } from 'vitest';
import { AllowList } from '../src/sysctl-index/allow-list.js';

function mustParse(source: string): AllowList {
  const parsed = AllowList.parse(source);
  if (!(parsed instanceof AllowList)) throw new Error(`unexpected parse error for ${JSON.stringify(source)}: ${parsed.error}`);
  return parsed;
}

describe('AllowList.parse and allows', () => {
  const cases: { name: string; input: string; allowed: string[]; denied: string[] }[] = [
    {
      name: 'an empty annotation allows nothing',
      input: '',
      allowed: [],
      denied: ['net.core.somaxconn', 'kernel.shmmax', 'vm.swappiness', ''],
    },
    {
      name: 'an annotation of only commas and spaces allows nothing',
      input: ' , ,, ',
      allowed: [],
      denied: ['net.core.somaxconn', 'kernel.msgmax'],
    },
    {
      name: 'an exact name allows only that name',
      input: 'net.core.somaxconn',
      allowed: ['net.core.somaxconn'],
      denied: ['net.core.somaxconn2', 'net.core', 'net.core.rmem_max', 'kernel.shmmax'],
    },
    {
      name: 'a comma list allows each name',
      input: 'kernel.msgmax,net.core.somaxconn',
      allowed: ['kernel.msgmax', 'net.core.somaxconn'],
      denied: ['kernel.msgmnb', 'net.core.rmem_max'],
    },
    {
      name: 'spaces around list items are ignored',
      input: '  kernel.msgmax ,   net.core.somaxconn  ',
      allowed: ['kernel.msgmax', 'net.core.somaxconn'],
      denied: ['kernel.msgmnb'],
    },
    {
      name: 'a trailing comma is ignored',
      input: 'kernel.sem,',
      allowed: ['kernel.sem'],
      denied: ['kernel.sem_foo'],
    },
    {
      name: 'a star suffix without separator is a plain prefix (kernel.shm*)',
      input: 'kernel.shm*',
      allowed: ['kernel.shmmax', 'kernel.shmall', 'kernel.shm_rmid_forced', 'kernel.shm'],
      denied: ['kernel.msgmax', 'kernel.sem', 'kernel.sh'],
    },
    {
      name: 'a star after a dot allows everything under that dot (net.*)',
      input: 'net.*',
      allowed: ['net.core.somaxconn', 'net.ipv4.ip_forward', 'net.ipv4.conf.eno2/100.rp_filter'],
      denied: ['net', 'netfilter.x', 'kernel.shmmax'],
    },
    {
      name: 'a deeper pattern allows only its subtree (net.ipv4.*)',
      input: 'net.ipv4.*',
      allowed: ['net.ipv4.ip_forward', 'net.ipv4.tcp_rmem'],
      denied: ['net.ipv6.conf.all.forwarding', 'net.core.somaxconn', 'net.ipv4'],
    },
    {
      name: 'the fs.mqueue pattern allows message queue sysctls',
      input: 'fs.mqueue.*',
      allowed: ['fs.mqueue.msg_max', 'fs.mqueue.queues_max'],
      denied: ['fs.file-max', 'fs.mqueue'],
    },
    {
      name: 'patterns and names mix in one list',
      input: 'kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.core.somaxconn',
      allowed: ['kernel.shmmax', 'kernel.msgmax', 'kernel.sem', 'fs.mqueue.msg_max', 'net.core.somaxconn'],
      denied: ['kernel.sem_foo', 'net.core.rmem_max', 'vm.swappiness'],
    },
    {
      name: 'a slash-spelled exact name allows the dotted name',
      input: 'net/core/somaxconn',
      allowed: ['net.core.somaxconn'],
      denied: ['net/core/somaxconn', 'net.core.rmem_max'],
    },
    {
      name: 'a slash-spelled pattern allows the dotted subtree (net/ipv4/*)',
      input: 'net/ipv4/*',
      allowed: ['net.ipv4.ip_forward', 'net.ipv4.conf.eno2/100.rp_filter'],
      denied: ['net.core.somaxconn'],
    },
    {
      name: 'a slash-spelled star suffix is a prefix of the dotted names (kernel/shm*)',
      input: 'kernel/shm*',
      allowed: ['kernel.shmmax', 'kernel.shm_rmid_forced'],
      denied: ['kernel.msgmax'],
    },
    {
      name: 'a slash-spelled VLAN interface name allows its normalised form',
      input: 'net/ipv4/conf/eno2.100/rp_filter',
      allowed: ['net.ipv4.conf.eno2/100.rp_filter'],
      denied: ['net.ipv4.conf.eno2.100.rp_filter', 'net.ipv4.conf.eno2.rp_filter'],
    },
    {
      name: 'a slash-spelled VLAN interface pattern allows its normalised subtree',
      input: 'net/ipv4/conf/eno2.100/*',
      allowed: ['net.ipv4.conf.eno2/100.rp_filter', 'net.ipv4.conf.eno2/100.forwarding'],
      denied: ['net.ipv4.conf.eno2.rp_filter', 'net.ipv4.conf.eno3/100.rp_filter'],
    },
    {
      name: 'a dotted VLAN interface name is kept as written',
      input: 'net.ipv4.conf.eno2/100.rp_filter',
      allowed: ['net.ipv4.conf.eno2/100.rp_filter'],
      denied: ['net.ipv4.conf.eno2.100.rp_filter'],
    },
  ];

  it.each(cases)('$name', ({ input, allowed, denied }) => {
    const list = mustParse(input);
    for (const name of allowed) expect(list.allows(name), `${name} should be allowed`).toBe(true);
    for (const name of denied) expect(list.allows(name), `${name} should be denied`).toBe(false);
  });

  it('keeps the source text it was parsed from', () => {
    expect(mustParse(' kernel.shm*, net.* ').source).toBe(' kernel.shm*, net.* ');
  });

  // The kubelet refuses `--allowed-unsafe-sysctls=*` ("not known to be namespaced",
  // pkg/kubelet/sysctl/allowlist.go NewAllowlist): a node whose annotation says so mirrors a
  // kubelet that cannot start, so the list is unreadable.
  it.each(['*', 'kernel.*', 'net*', 'kernel.se*', 'kernel.shmm*', 'kernel.msgm*', 'fs.mqueue*'])('a pattern whose stem is not known to be namespaced (%s) is refused', (input) => {
    expect(AllowList.parse(input)).toEqual({ error: `the kubelet refuses "${input}": its stem is not known to be namespaced` });
  });

  it.each(['vm.swappiness', 'kernel.shm_next_id', 'kernel.msg_next_id', 'kernel.sem_next_id'])('a name not known to be namespaced (%s) is refused', (input) => {
    expect(AllowList.parse(input)).toEqual({ error: `the kubelet refuses "${input}": it is not known to be namespaced` });
  });

  it('kubelets before 1.29 matched IPC stems as prefixes: kernel.shmm* reads there (namespace.go before PR #118705)', () => {
    const legacy = AllowList.parse('kernel.shmm*, kernel.msgm*', 'legacy-ipc');
    if (!(legacy instanceof AllowList)) throw new Error(legacy.error);
    expect(legacy.allows('kernel.shmmax')).toBe(true);
    expect(legacy.allows('kernel.msgmnb')).toBe(true);
    expect(AllowList.parse('kernel.*', 'legacy-ipc')).toHaveProperty('error');
  });

  it('knows which kubelet-safe sysctls it admits (for kubelets that do not count them safe)', () => {
    expect(mustParse('net.ipv4.tcp_rmem, kernel.sem').safeMask).not.toBe(0);
    expect(mustParse('kernel.sem').safeMask).toBe(0);
    expect(mustParse('net.ipv4.*').safeMask).toBe(mustParse('net.*').safeMask);
  });
});

describe('AllowList.parse rejects invalid patterns', () => {
  const cases: { name: string; input: string; want: string }[] = [
    { name: 'an upper-case name is rejected', input: 'Net.core.somaxconn', want: 'invalid sysctl pattern "Net.core.somaxconn"' },
    { name: 'a double star is rejected', input: 'kernel.shm**', want: 'invalid sysctl pattern "kernel.shm**"' },
    { name: 'a star in the middle is rejected', input: 'net.*.rp_filter', want: 'invalid sysctl pattern "net.*.rp_filter"' },
    { name: 'a star at the start is rejected', input: '*.somaxconn', want: 'invalid sysctl pattern "*.somaxconn"' },
    { name: 'two separators before the star are rejected', input: 'net..*', want: 'invalid sysctl pattern "net..*"' },
    { name: 'a trailing dot without star is rejected', input: 'net.ipv4.', want: 'invalid sysctl pattern "net.ipv4."' },
    { name: 'a space inside a name is rejected', input: 'kernel. shmmax', want: 'invalid sysctl pattern "kernel. shmmax"' },
    { name: 'a leading dash is rejected', input: '-net.core.somaxconn', want: 'invalid sysctl pattern "-net.core.somaxconn"' },
    { name: 'a name with a value is rejected', input: 'vm.swappiness=1', want: 'invalid sysctl pattern "vm.swappiness=1"' },
    {
      name: 'one invalid item rejects the whole list, naming the item',
      input: 'kernel.shm*, BAD, net.*',
      want: 'invalid sysctl pattern "BAD"',
    },
    {
      name: 'the first invalid item is the one reported',
      input: 'net.*, a..b, C',
      want: 'invalid sysctl pattern "a..b"',
    },
  ];

  it.each(cases)('$name', ({ input, want }) => {
    expect(AllowList.parse(input)).toEqual({ error: want });
  });

  // Regression: a stem that is only a separator used to skip validation.
  it.each([
    { name: 'a star after a lone dot is rejected', input: '.*' },
    { name: 'a star after a lone slash is rejected', input: '/*' },
  ])('$name', ({ input }) => {
    expect(AllowList.parse(input)).toEqual({ error: `invalid sysctl pattern "${input}"` });
  });
});

describe('AllowList.parse accepts every pattern the kubelet accepts', () => {
  // The kubelet's pattern regex ends in `([a-z0-9][-_a-z0-9]*)?[a-z0-9*]`, so a pattern segment
  // may end in `_` or `-` right before the star (`net.ipv4.tcp_*`); these used to be refused.
  it.each([
    { name: 'a star after an underscore is a prefix pattern (net.ipv4.tcp_*)', input: 'net.ipv4.tcp_*', allowed: 'net.ipv4.tcp_rmem', denied: 'net.ipv4.tcpx' },
    { name: 'a star after a dash is a prefix pattern (net.ipv4.conf.br-*)', input: 'net.ipv4.conf.br-*', allowed: 'net.ipv4.conf.br-lan.rp_filter', denied: 'net.ipv4.conf.eth0.rp_filter' },
  ])('$name', ({ input, allowed, denied }) => {
    const list = mustParse(input);
    expect(list.allows(allowed)).toBe(true);
    expect(list.allows(denied)).toBe(false);
  });
});
