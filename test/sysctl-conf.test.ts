import { describe, expect, it } from 'vitest';
import { parseSysctlConf, type SysctlConfEntry, type SysctlConfResult } from '../src/sysctl-index/sysctl-conf.js';

const e = (name: string, value: string): SysctlConfEntry => ({ name, value });

interface Case {
  name: string;
  input: string;
  want: SysctlConfResult;
}

const wellFormed: Case[] = [
  { name: 'an empty annotation has no entries and no errors', input: '', want: { entries: [], errors: [] } },
  { name: 'an annotation of only white space has no entries', input: '  \n\t\n  ', want: { entries: [], errors: [] } },
  { name: 'one entry without spaces is read', input: 'vm.swappiness=1', want: { entries: [e('vm.swappiness', '1')], errors: [] } },
  { name: 'spaces around the equals sign are ignored', input: 'vm.swappiness = 1', want: { entries: [e('vm.swappiness', '1')], errors: [] } },
  { name: 'tabs around the equals sign are ignored', input: '\tvm.swappiness\t=\t1\t', want: { entries: [e('vm.swappiness', '1')], errors: [] } },
  {
    name: 'entries on separate lines are read in order',
    input: 'vm.max_map_count = 262144\nvm.swappiness = 1',
    want: { entries: [e('vm.max_map_count', '262144'), e('vm.swappiness', '1')], errors: [] },
  },
  {
    name: 'a semicolon separates entries on one line (the kubectl annotate example)',
    input: 'vm.max_map_count=262144; vm.swappiness=1',
    want: { entries: [e('vm.max_map_count', '262144'), e('vm.swappiness', '1')], errors: [] },
  },
  {
    name: 'empty entries between semicolons are skipped',
    input: ';;vm.swappiness=1;;  ;',
    want: { entries: [e('vm.swappiness', '1')], errors: [] },
  },
  {
    name: 'blank lines are skipped',
    input: '\n\nvm.swappiness=1\n\n\nvm.max_map_count=262144\n',
    want: { entries: [e('vm.swappiness', '1'), e('vm.max_map_count', '262144')], errors: [] },
  },
  {
    name: 'a comment line is ignored',
    input: '# tuned for elasticsearch\nvm.max_map_count=262144',
    want: { entries: [e('vm.max_map_count', '262144')], errors: [] },
  },
  {
    name: 'an indented comment line is ignored',
    input: '   # note\nvm.swappiness=1',
    want: { entries: [e('vm.swappiness', '1')], errors: [] },
  },
  {
    name: 'a comment after a value is not part of the value',
    input: 'vm.swappiness = 1   # keep the page cache',
    want: { entries: [e('vm.swappiness', '1')], errors: [] },
  },
  {
    name: 'a comment runs to the end of its line, hiding semicolon entries after it',
    input: 'vm.swappiness=1 # old: ; vm.max_map_count=65530',
    want: { entries: [e('vm.swappiness', '1')], errors: [] },
  },
  {
    name: 'a comment ends at the end of its line',
    input: 'vm.swappiness=1 # comment\nvm.max_map_count=262144',
    want: { entries: [e('vm.swappiness', '1'), e('vm.max_map_count', '262144')], errors: [] },
  },
  {
    name: 'runs of spaces inside a value fold to one',
    input: 'net.ipv4.ip_local_port_range = 32768   60999',
    want: { entries: [e('net.ipv4.ip_local_port_range', '32768 60999')], errors: [] },
  },
  {
    name: 'tabs inside a value fold to one space',
    input: 'net.ipv4.tcp_rmem = 4096\t87380\t\t6291456',
    want: { entries: [e('net.ipv4.tcp_rmem', '4096 87380 6291456')], errors: [] },
  },
  {
    name: 'a leading dash (ignore failures) is dropped from the name',
    input: '-vm.swappiness = 1',
    want: { entries: [e('vm.swappiness', '1')], errors: [] },
  },
  {
    name: 'an indented leading dash is dropped from the name',
    input: '   -net.core.somaxconn=1024',
    want: { entries: [e('net.core.somaxconn', '1024')], errors: [] },
  },
  {
    name: 'a slash-separated name is normalised to dots',
    input: 'net/ipv4/ip_forward = 1',
    want: { entries: [e('net.ipv4.ip_forward', '1')], errors: [] },
  },
  {
    name: 'a slash-separated VLAN interface name swaps slashes and dots',
    input: 'net/ipv4/conf/eno2.100/rp_filter = 2',
    want: { entries: [e('net.ipv4.conf.eno2/100.rp_filter', '2')], errors: [] },
  },
  {
    name: 'a slash-separated name with a leading dash is normalised',
    input: '-vm/swappiness=1',
    want: { entries: [e('vm.swappiness', '1')], errors: [] },
  },
  {
    name: 'everything after the first equals sign is the value',
    input: 'kernel.core_pattern = |/usr/bin/dump --opt=%p',
    want: { entries: [e('kernel.core_pattern', '|/usr/bin/dump --opt=%p')], errors: [] },
  },
  {
    name: 'the same entry written twice is accepted once',
    input: 'vm.swappiness=1\nvm.swappiness = 1',
    want: { entries: [e('vm.swappiness', '1')], errors: [] },
  },
  {
    name: 'the same entry written twice with different white space is accepted once',
    input: 'net.ipv4.ip_local_port_range=32768 60999; net.ipv4.ip_local_port_range =  32768\t60999 ',
    want: { entries: [e('net.ipv4.ip_local_port_range', '32768 60999')], errors: [] },
  },
  {
    name: 'the same entry in slash and dot spelling is accepted once',
    input: 'net/ipv4/ip_forward=1\nnet.ipv4.ip_forward=1',
    want: { entries: [e('net.ipv4.ip_forward', '1')], errors: [] },
  },
  {
    name: 'CRLF line endings do not leak a carriage return into values',
    input: 'vm.swappiness = 1\r\nvm.max_map_count=262144\r\n',
    want: { entries: [e('vm.swappiness', '1'), e('vm.max_map_count', '262144')], errors: [] },
  },
  {
    name: 'CRLF line endings work with comments and semicolons',
    input: '# header\r\nvm.swappiness=1 # low\r\nnet.core.somaxconn=1024; vm.max_map_count=262144\r\n',
    want: { entries: [e('vm.swappiness', '1'), e('net.core.somaxconn', '1024'), e('vm.max_map_count', '262144')], errors: [] },
  },
  {
    name: 'a CRLF value with two fields keeps both fields and no carriage return',
    input: 'net.ipv4.ip_local_port_range = 32768 60999\r\n',
    want: { entries: [e('net.ipv4.ip_local_port_range', '32768 60999')], errors: [] },
  },
];

const malformed: Case[] = [
  {
    name: 'an entry without an equals sign is reported',
    input: 'vm.swappiness',
    want: { entries: [], errors: ['entry 1: expected "name = value"'] },
  },
  {
    name: 'an entry without a name is reported',
    input: '= 1',
    want: { entries: [], errors: ['entry 1: missing sysctl name'] },
  },
  {
    name: 'an entry whose name is only the ignore-failures dash is reported as missing a name',
    input: '- = 1',
    want: { entries: [], errors: ['entry 1: missing sysctl name'] },
  },
  {
    name: 'an upper-case name is reported as invalid',
    input: 'VM.Swappiness = 1',
    want: { entries: [], errors: ['entry 1: invalid sysctl name "VM.Swappiness"'] },
  },
  {
    name: 'a name with a space inside is reported as invalid',
    input: 'vm. swappiness = 1',
    want: { entries: [], errors: ['entry 1: invalid sysctl name "vm. swappiness"'] },
  },
  {
    name: 'a glob name is reported as invalid',
    input: 'net.* = 1',
    want: { entries: [], errors: ['entry 1: invalid sysctl name "net.*"'] },
  },
  {
    name: 'a dash separated from the name by a space leaves an invalid name',
    input: '- vm.swappiness = 1',
    want: { entries: [], errors: ['entry 1: invalid sysctl name " vm.swappiness"'] },
  },
  {
    name: 'a very long invalid name is truncated in the report',
    input: `${'X'.repeat(100)}=1`,
    want: { entries: [], errors: [`entry 1: invalid sysctl name "${'X'.repeat(61)}..."`] },
  },
  {
    name: 'an entry without a value is reported',
    input: 'vm.swappiness =',
    want: { entries: [], errors: ['entry 1: missing value for vm.swappiness'] },
  },
  {
    name: 'an entry whose value is only white space is reported',
    input: 'vm.swappiness =   \t ',
    want: { entries: [], errors: ['entry 1: missing value for vm.swappiness'] },
  },
  {
    name: 'an entry whose value is only a comment is reported',
    input: 'vm.swappiness = # later',
    want: { entries: [], errors: ['entry 1: missing value for vm.swappiness'] },
  },
  {
    name: 'a CRLF entry without a value is reported',
    input: 'vm.swappiness =\r\n',
    want: { entries: [], errors: ['entry 1: missing value for vm.swappiness'] },
  },
  {
    name: 'a name set twice with different values keeps the first and reports the second',
    input: 'vm.swappiness=1; vm.swappiness=10',
    want: { entries: [e('vm.swappiness', '1')], errors: ['entry 2: vm.swappiness is set twice with different values'] },
  },
  {
    name: 'a conflict between slash and dot spellings is reported under the normalised name',
    input: 'net/ipv4/ip_forward=1\nnet.ipv4.ip_forward=0',
    want: { entries: [e('net.ipv4.ip_forward', '1')], errors: ['entry 2: net.ipv4.ip_forward is set twice with different values'] },
  },
  {
    name: 'a third writing equal to the first is accepted after a conflicting second',
    input: 'vm.swappiness=1; vm.swappiness=10; vm.swappiness=1',
    want: { entries: [e('vm.swappiness', '1')], errors: ['entry 2: vm.swappiness is set twice with different values'] },
  },
  {
    name: 'malformed entries are reported by position while good entries are kept',
    input: 'vm.swappiness=1\nbogus\nvm.max_map_count=262144; = 3\nVM.X=1',
    want: {
      entries: [e('vm.swappiness', '1'), e('vm.max_map_count', '262144')],
      errors: ['entry 2: expected "name = value"', 'entry 4: missing sysctl name', 'entry 5: invalid sysctl name "VM.X"'],
    },
  },
  {
    name: 'positions count entries, not lines, and skip empty entries and comments',
    input: '# c\n\n;;vm.a=1;\n  ;  bad\n',
    want: { entries: [e('vm.a', '1')], errors: ['entry 2: expected "name = value"'] },
  },
  {
    name: 'control characters are reported, not thrown',
    input: '\u0000=\u0001',
    want: { entries: [], errors: ['entry 1: invalid sysctl name "\u0000"'] },
  },
];

describe('parseSysctlConf', () => {
  describe('well-formed annotations', () => {
    it.each(wellFormed)('$name', ({ input, want }) => {
      expect(parseSysctlConf(input)).toEqual(want);
    });
  });

  describe('malformed entries are reported, never thrown', () => {
    it.each(malformed)('$name', ({ input, want }) => {
      expect(parseSysctlConf(input)).toEqual(want);
    });
  });

  describe('the entry limit', () => {
    const lines = (n: number, sep = '\n') => Array.from({ length: n }, (_, i) => `net.ipv4.conf.if${i}.rp_filter=1`).join(sep);

    const cases: { name: string; input: string; want: { entries: number; errors: string[] } }[] = [
      { name: '1024 entries are accepted', input: lines(1024), want: { entries: 1024, errors: [] } },
      { name: '1024 entries on one line are accepted', input: lines(1024, ';'), want: { entries: 1024, errors: [] } },
      { name: 'more than 1024 entries are reported once and parsing stops', input: lines(1025), want: { entries: 1024, errors: ['more than 1024 entries'] } },
      { name: 'far more than 1024 entries are reported once', input: lines(5000, ';'), want: { entries: 1024, errors: ['more than 1024 entries'] } },
      {
        name: 'comments and blank lines do not count toward the limit',
        input: `${'# c\n\n'.repeat(2000)}${lines(1024)}`,
        want: { entries: 1024, errors: [] },
      },
      {
        name: 'repeated identical entries count toward the limit',
        input: Array.from({ length: 1025 }, () => 'vm.swappiness=1').join('\n'),
        want: { entries: 1, errors: ['more than 1024 entries'] },
      },
    ];

    it.each(cases)('$name', ({ input, want }) => {
      const got = parseSysctlConf(input);
      expect(got.entries).toHaveLength(want.entries);
      expect(got.errors).toEqual(want.errors);
    });

    it('malformed entries count toward the limit and keep their own reports', () => {
      const got = parseSysctlConf(Array.from({ length: 1025 }, () => 'bogus').join('\n'));
      expect(got.entries).toEqual([]);
      expect(got.errors).toHaveLength(1025);
      expect(got.errors[0]).toBe('entry 1: expected "name = value"');
      expect(got.errors[1023]).toBe('entry 1024: expected "name = value"');
      expect(got.errors[1024]).toBe('more than 1024 entries');
    });
  });

  // Regression: only "\n" used to separate lines.
  // line endings; also a line break in YAML) is not a separator, and because folding turns it
  // into a space the next entry is silently swallowed into the value: this input parses as the
  // single entry vm.swappiness = "1 vm.max_map_count=262144" with no error.
  it('bare carriage-return line endings separate entries', () => {
    expect(parseSysctlConf('vm.swappiness=1\rvm.max_map_count=262144')).toEqual({
      entries: [e('vm.swappiness', '1'), e('vm.max_map_count', '262144')],
      errors: [],
    });
  });
});
