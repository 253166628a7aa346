import { describe, expect, it } from 'vitest';
import { foldSysctlValue, isValidSysctlName, normalizeSysctlName } from '../src/sysctl-index/sysctl-names.js';

describe('isValidSysctlName', () => {
  const cases: { name: string; input: string; want: boolean }[] = [
    { name: 'a dotted kernel name is valid', input: 'kernel.shm_rmid_forced', want: true },
    { name: 'a slashed name is valid', input: 'net/ipv4/ip_forward', want: true },
    { name: 'a name mixing slashes and dots (interface with a VLAN id) is valid', input: 'net/ipv4/conf/eno2.100/rp_filter', want: true },
    { name: 'a single segment is valid', input: 'kernel', want: true },
    { name: 'a single character is valid', input: 'a', want: true },
    { name: 'dashes and underscores inside a segment are valid', input: 'net.bridge.bridge-nf-call_iptables', want: true },
    { name: 'digits are valid anywhere in a segment', input: 'net.ipv6.conf.eth0.accept_ra', want: true },
    { name: 'the empty string is invalid', input: '', want: false },
    { name: 'upper-case letters are invalid', input: 'Kernel.shmmax', want: false },
    { name: 'a leading dot is invalid', input: '.kernel.shmmax', want: false },
    { name: 'a trailing dot is invalid', input: 'kernel.shmmax.', want: false },
    { name: 'a trailing slash is invalid', input: 'net/ipv4/', want: false },
    { name: 'two dots in a row are invalid', input: 'kernel..shmmax', want: false },
    { name: 'a segment starting with a dash is invalid', input: 'net.-ipv4', want: false },
    { name: 'a segment ending with an underscore is invalid', input: 'net.ipv4_', want: false },
    { name: 'a space inside the name is invalid', input: 'kernel. shmmax', want: false },
    { name: 'surrounding white space is invalid', input: ' kernel.shmmax', want: false },
    { name: 'a glob is not a name', input: 'kernel.shm*', want: false },
    { name: 'an equals sign is invalid', input: 'vm.swappiness=1', want: false },
    { name: 'a name of exactly 253 characters is valid', input: 'a'.repeat(253), want: true },
    { name: 'a name of 254 characters is invalid', input: 'a'.repeat(254), want: false },
    { name: 'a dotted name of 253 characters is valid', input: `${'ab.'.repeat(83)}abcd`, want: true },
  ];

  it.each(cases)('$name', ({ input, want }) => {
    expect(isValidSysctlName(input)).toBe(want);
  });

  it('the 253-character cases really are 253 characters long', () => {
    expect(`${'ab.'.repeat(83)}abcd`).toHaveLength(253);
  });
});

describe('normalizeSysctlName', () => {
  const cases: { name: string; input: string; want: string }[] = [
    { name: 'a dotted name is unchanged', input: 'net.ipv4.ip_forward', want: 'net.ipv4.ip_forward' },
    { name: 'a slashed name becomes dotted', input: 'net/ipv4/ip_forward', want: 'net.ipv4.ip_forward' },
    { name: 'a name without separator is unchanged', input: 'kernel', want: 'kernel' },
    { name: 'the empty string is unchanged', input: '', want: '' },
    {
      name: 'when the first separator is a slash, slashes and dots swap (VLAN interface)',
      input: 'net/ipv4/conf/eno2.100/rp_filter',
      want: 'net.ipv4.conf.eno2/100.rp_filter',
    },
    {
      name: 'when the first separator is a dot, later slashes are kept (already normalised VLAN interface)',
      input: 'net.ipv4.conf.eno2/100.rp_filter',
      want: 'net.ipv4.conf.eno2/100.rp_filter',
    },
    { name: 'a single slash becomes a dot', input: 'vm/swappiness', want: 'vm.swappiness' },
    { name: 'a dot after a first slash becomes a slash', input: 'a/b.c', want: 'a.b/c' },
    { name: 'a slash after a first dot stays', input: 'a.b/c', want: 'a.b/c' },
    { name: 'other characters are left alone', input: 'net/bridge/bridge-nf-call_iptables', want: 'net.bridge.bridge-nf-call_iptables' },
  ];

  it.each(cases)('$name', ({ input, want }) => {
    expect(normalizeSysctlName(input)).toBe(want);
  });

  const roundTrips: { name: string; input: string }[] = [
    { name: 'a slashed VLAN name normalises to a fixed point', input: 'net/ipv4/conf/eno2.100/rp_filter' },
    { name: 'a slashed plain name normalises to a fixed point', input: 'kernel/shmmax' },
    { name: 'a dotted name is already a fixed point', input: 'net.ipv4.conf.eno2/100.rp_filter' },
  ];

  it.each(roundTrips)('$name', ({ input }) => {
    const once = normalizeSysctlName(input);
    expect(normalizeSysctlName(once)).toBe(once);
  });
});

describe('foldSysctlValue', () => {
  const cases: { name: string; input: string; want: string }[] = [
    { name: 'a plain value is unchanged', input: '262144', want: '262144' },
    { name: 'leading and trailing spaces are trimmed', input: '  1  ', want: '1' },
    { name: 'a run of spaces folds to one', input: '32768   60999', want: '32768 60999' },
    { name: 'a tab folds to a space', input: '32768\t60999', want: '32768 60999' },
    { name: 'mixed tabs and spaces fold to one space', input: '4096 \t 87380\t\t6291456', want: '4096 87380 6291456' },
    { name: 'a carriage return is trimmed from the end', input: '1\r', want: '1' },
    { name: 'a newline inside folds to a space', input: '1\n2', want: '1 2' },
    { name: 'only white space folds to the empty string', input: ' \t ', want: '' },
    { name: 'the empty string stays empty', input: '', want: '' },
    { name: 'a single space between words is unchanged', input: '0 2147483647', want: '0 2147483647' },
    { name: 'other characters are kept as written', input: 'bbr', want: 'bbr' },
  ];

  it.each(cases)('$name', ({ input, want }) => {
    expect(foldSysctlValue(input)).toBe(want);
  });

  it('two spellings of the same port range fold to equal values', () => {
    expect(foldSysctlValue('32768   60999')).toBe(foldSysctlValue(' 32768 60999 '));
  });
});
