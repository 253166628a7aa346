import { describe, expect, it } from 'vitest';
import {
  CONFLICTING_PROFILE,
  EMPTY_PROFILE,
  ProfileTable,
  UNSEEN_PROFILE,
  type ProfileId,
} from '../src/sysctl-index/profile-intern.js';
import type { SysctlConfEntry } from '../src/sysctl-index/sysctl-conf.js';

const e = (name: string, value: string): SysctlConfEntry => ({ name, value });

const VM = e('vm.max_map_count', '262144');
const SWAP = e('vm.swappiness', '1');
const SWAP10 = e('vm.swappiness', '10');
const SOMAXCONN = e('net.core.somaxconn', '1024');
const SHMMAX = e('kernel.shmmax', '68719476736');

describe('the profile id constants', () => {
  it('are distinct, with the empty profile at 0 and the sentinels negative', () => {
    expect(EMPTY_PROFILE).toBe(0);
    expect(CONFLICTING_PROFILE).toBeLessThan(0);
    expect(UNSEEN_PROFILE).toBeLessThan(0);
    expect(CONFLICTING_PROFILE).not.toBe(UNSEEN_PROFILE);
  });
});

describe('ProfileTable.intern', () => {
  const sameId: { name: string; a: SysctlConfEntry[]; b: SysctlConfEntry[] }[] = [
    { name: 'no entries intern as the empty profile in both spellings', a: [], b: [] },
    { name: 'one entry interns to one id', a: [VM], b: [VM] },
    { name: 'the same entries in another order intern to the same id', a: [VM, SWAP, SOMAXCONN], b: [SOMAXCONN, VM, SWAP] },
    { name: 'equal entries that are different objects intern to the same id', a: [e('vm.swappiness', '1')], b: [e('vm.swappiness', '1')] },
  ];

  it.each(sameId)('$name', ({ a, b }) => {
    const table = new ProfileTable();
    expect(table.intern(a)).toBe(table.intern(b));
  });

  const differentId: { name: string; a: SysctlConfEntry[]; b: SysctlConfEntry[] }[] = [
    { name: 'different values of one name intern to different ids', a: [SWAP], b: [SWAP10] },
    { name: 'different names intern to different ids', a: [SWAP], b: [VM] },
    { name: 'a subset interns to a different id than its superset', a: [VM], b: [VM, SWAP] },
    { name: 'a non-empty profile never interns as the empty profile', a: [], b: [SWAP] },
    { name: 'values are compared exactly (folding is the caller’s job)', a: [e('net.ipv4.tcp_rmem', '4096 87380')], b: [e('net.ipv4.tcp_rmem', '4096  87380')] },
  ];

  it.each(differentId)('$name', ({ a, b }) => {
    const table = new ProfileTable();
    expect(table.intern(a)).not.toBe(table.intern(b));
  });

  it('the empty profile is id 0 and is there before anything is interned', () => {
    const table = new ProfileTable();
    expect(table.size).toBe(1);
    expect(table.intern([])).toBe(EMPTY_PROFILE);
    expect(table.size).toBe(1);
    expect(table.entries(EMPTY_PROFILE).size).toBe(0);
  });

  it('new profiles get the next ids, and re-interning does not grow the table', () => {
    const table = new ProfileTable();
    expect(table.intern([VM])).toBe(1);
    expect(table.intern([SWAP])).toBe(2);
    expect(table.intern([VM])).toBe(1);
    expect(table.intern([VM, SWAP])).toBe(3);
    expect(table.size).toBe(4);
  });

  it('accepts any iterable of entries', () => {
    const table = new ProfileTable();
    const id = table.intern([VM, SWAP]);
    function* gen() {
      yield SWAP;
      yield VM;
    }
    expect(table.intern(gen())).toBe(id);
    expect(table.intern(new Set([VM, SWAP]))).toBe(id);
  });

  it('entries returns the interned name-value pairs', () => {
    const table = new ProfileTable();
    const id = table.intern([SWAP, VM]);
    expect(Object.fromEntries(table.entries(id))).toEqual({ 'vm.swappiness': '1', 'vm.max_map_count': '262144' });
  });

  it.each([
    { name: 'entries of an id never handed out throws a RangeError', input: 99 },
    { name: 'entries of the conflicting sentinel throws a RangeError', input: CONFLICTING_PROFILE },
    { name: 'entries of the unseen sentinel throws a RangeError', input: UNSEEN_PROFILE },
  ])('$name', ({ input }) => {
    const table = new ProfileTable();
    table.intern([VM]);
    expect(() => table.entries(input)).toThrow(RangeError);
  });

  // Regression: the intern key used to be `name=value` lines, ambiguous for a name holding `=`
  // or a newline (a request body can carry one).
  it.each([
    { name: 'an equals sign in a name does not make two profiles one', a: [e('net.a=b', 'c')], b: [e('net.a', 'b=c')] },
    { name: 'a newline in a name does not make two profiles one', a: [e('net.a=1\nnet.b', '2')], b: [e('net.a', '1'), e('net.b', '2')] },
  ])('$name', ({ a, b }) => {
    const table = new ProfileTable();
    expect(table.intern(a)).not.toBe(table.intern(b));
  });
});

describe('ProfileTable.lookup', () => {
  const cases: { name: string; interned: SysctlConfEntry[][]; input: SysctlConfEntry[]; want: ProfileId | 'same-as-interned' }[] = [
    { name: 'looking up no entries finds the empty profile', interned: [], input: [], want: EMPTY_PROFILE },
    { name: 'looking up a profile never interned gives UNSEEN_PROFILE', interned: [[VM]], input: [SWAP], want: UNSEEN_PROFILE },
    { name: 'looking up a subset of an interned profile gives UNSEEN_PROFILE', interned: [[VM, SWAP]], input: [VM], want: UNSEEN_PROFILE },
    { name: 'looking up another value of an interned name gives UNSEEN_PROFILE', interned: [[SWAP]], input: [SWAP10], want: UNSEEN_PROFILE },
    { name: 'looking up an interned profile in another order finds it', interned: [[VM, SWAP]], input: [SWAP, VM], want: 'same-as-interned' },
  ];

  it.each(cases)('$name', ({ interned, input, want }) => {
    const table = new ProfileTable();
    const ids = interned.map((entries) => table.intern(entries));
    const sizeBefore = table.size;
    const got = table.lookup(input);
    expect(got).toBe(want === 'same-as-interned' ? ids[0] : want);
    expect(table.size, 'lookup must never add').toBe(sizeBefore);
  });

  it('a looked-up profile is still unseen until it is interned', () => {
    const table = new ProfileTable();
    expect(table.lookup([SOMAXCONN])).toBe(UNSEEN_PROFILE);
    expect(table.lookup([SOMAXCONN])).toBe(UNSEEN_PROFILE);
    expect(table.size).toBe(1);
    const id = table.intern([SOMAXCONN]);
    expect(table.lookup([SOMAXCONN])).toBe(id);
  });
});

describe('ProfileTable.union', () => {
  // Each case interns `profiles` in order (ids 1, 2, ...), then unions the ids picked by `input`
  // (indices into `profiles`, or the literal sentinels). `want` is the expected entries of the
  // union, or a sentinel id.
  type Pick = number | 'empty' | 'conflicting';
  const cases: {
    name: string;
    profiles: SysctlConfEntry[][];
    input: Pick[];
    want: Record<string, string> | 'empty' | 'conflicting' | { sameAs: number };
  }[] = [
    { name: 'the union of nothing is the empty profile', profiles: [], input: [], want: 'empty' },
    { name: 'the union of empty profiles is the empty profile', profiles: [], input: ['empty', 'empty'], want: 'empty' },
    { name: 'the union of one profile is that profile', profiles: [[VM]], input: [0], want: { sameAs: 0 } },
    { name: 'the union of a profile with itself is that profile', profiles: [[VM]], input: [0, 0, 0], want: { sameAs: 0 } },
    { name: 'the empty profile is neutral in a union', profiles: [[VM]], input: ['empty', 0, 'empty'], want: { sameAs: 0 } },
    { name: 'the union of a profile and its subset is the profile', profiles: [[VM, SWAP], [VM]], input: [0, 1], want: { sameAs: 0 } },
    {
      name: 'the union of disjoint profiles has all their entries',
      profiles: [[VM], [SOMAXCONN]],
      input: [0, 1],
      want: { 'vm.max_map_count': '262144', 'net.core.somaxconn': '1024' },
    },
    {
      name: 'the union of three profiles sharing agreeing entries has each entry once',
      profiles: [[VM, SWAP], [SWAP, SOMAXCONN], [SHMMAX]],
      input: [2, 0, 1],
      want: { 'vm.max_map_count': '262144', 'vm.swappiness': '1', 'net.core.somaxconn': '1024', 'kernel.shmmax': '68719476736' },
    },
    { name: 'a union setting one name to two values is conflicting', profiles: [[SWAP], [SWAP10]], input: [0, 1], want: 'conflicting' },
    {
      name: 'a conflict anywhere among several profiles makes the union conflicting',
      profiles: [[VM], [SOMAXCONN, SWAP], [SHMMAX, SWAP10]],
      input: [0, 1, 2],
      want: 'conflicting',
    },
    { name: 'a conflicting id alone stays conflicting', profiles: [], input: ['conflicting'], want: 'conflicting' },
    { name: 'a conflicting id makes any union conflicting', profiles: [[VM]], input: [0, 'conflicting'], want: 'conflicting' },
    { name: 'a conflicting id with the empty profile stays conflicting', profiles: [], input: ['empty', 'conflicting'], want: 'conflicting' },
  ];

  it.each(cases)('$name', ({ profiles, input, want }) => {
    const table = new ProfileTable();
    const ids = profiles.map((entries) => table.intern(entries));
    const pick = (p: Pick): ProfileId => (p === 'empty' ? EMPTY_PROFILE : p === 'conflicting' ? CONFLICTING_PROFILE : ids[p]!);
    const got = table.union(input.map(pick));
    if (want === 'empty') expect(got).toBe(EMPTY_PROFILE);
    else if (want === 'conflicting') expect(got).toBe(CONFLICTING_PROFILE);
    else if ('sameAs' in want && typeof want.sameAs === 'number') expect(got).toBe(ids[want.sameAs]);
    else {
      expect(got).toBeGreaterThan(EMPTY_PROFILE);
      expect(Object.fromEntries(table.entries(got))).toEqual(want);
    }
  });

  it('the union of disjoint profiles is the same id as interning their entries together', () => {
    const table = new ProfileTable();
    const together = table.intern([VM, SOMAXCONN]);
    const a = table.intern([VM]);
    const b = table.intern([SOMAXCONN]);
    expect(table.union([a, b])).toBe(together);
  });

  it('a union interned before its parts is found again by intern and lookup', () => {
    const table = new ProfileTable();
    const a = table.intern([VM]);
    const b = table.intern([SOMAXCONN]);
    const u = table.union([a, b]);
    expect(table.intern([SOMAXCONN, VM])).toBe(u);
    expect(table.lookup([VM, SOMAXCONN])).toBe(u);
  });

  it('the union does not depend on the order of its ids', () => {
    const table = new ProfileTable();
    const a = table.intern([VM]);
    const b = table.intern([SOMAXCONN]);
    const c = table.intern([SHMMAX]);
    const first = table.union([a, b, c]);
    expect(table.union([c, a, b])).toBe(first);
    expect(table.union([b, c, a, b])).toBe(first);
    expect(table.union(new Set([c, b, a]))).toBe(first);
  });

  it('the union memo is stable: asking again gives the same id and does not grow the table', () => {
    const table = new ProfileTable();
    const a = table.intern([VM]);
    const b = table.intern([SOMAXCONN]);
    const first = table.union([a, b]);
    const size = table.size;
    for (let i = 0; i < 3; i += 1) expect(table.union([b, a])).toBe(first);
    expect(table.size).toBe(size);
  });

  it('a memoised union stays correct after more profiles are interned', () => {
    const table = new ProfileTable();
    const a = table.intern([VM]);
    const b = table.intern([SOMAXCONN]);
    const first = table.union([a, b]);
    table.intern([SHMMAX]);
    table.intern([SWAP]);
    expect(table.union([a, b])).toBe(first);
    expect(Object.fromEntries(table.entries(first))).toEqual({ 'vm.max_map_count': '262144', 'net.core.somaxconn': '1024' });
  });

  it('a conflicting union is memoised as conflicting and interns nothing', () => {
    const table = new ProfileTable();
    const a = table.intern([SWAP]);
    const b = table.intern([SWAP10]);
    const size = table.size;
    expect(table.union([a, b])).toBe(CONFLICTING_PROFILE);
    expect(table.union([b, a])).toBe(CONFLICTING_PROFILE);
    expect(table.size).toBe(size);
  });

  it('a union of an id never handed out throws a RangeError', () => {
    const table = new ProfileTable();
    const a = table.intern([VM]);
    expect(() => table.union([a, 42])).toThrow(RangeError);
  });
});
