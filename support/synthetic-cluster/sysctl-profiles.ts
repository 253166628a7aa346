/**
 * The sysctl profiles of the synthetic cluster: what middleware of the SPEC's story needs
 * (databases: shared memory and semaphores; search engines: vm.max_map_count; ingress: a
 * deeper accept queue) with the share of nodes each one runs on.
 */
export interface SysctlProfile {
  readonly name: string;
  /** Share of nodes carrying this profile (relative weight). */
  readonly weight: number;
  /** Unsafe sysctls its pods set in `spec.securityContext.sysctls`. */
  readonly unsafe: Readonly<Record<string, string>>;
  /** Node-level values its nodes declare and its pods annotate that they need. */
  readonly nodeLevel: Readonly<Record<string, string>>;
}

export const PROFILES: readonly SysctlProfile[] = [
  { name: 'plain', weight: 55, unsafe: {}, nodeLevel: {} },
  // The c-unsafe fixture pod's profile.
  { name: 'postgres', weight: 15, unsafe: { 'kernel.shmmax': '68719476736', 'kernel.sem': '250 32000 100 128' }, nodeLevel: {} },
  { name: 'elasticsearch', weight: 10, unsafe: {}, nodeLevel: { 'vm.max_map_count': '262144' } },
  { name: 'ingress', weight: 10, unsafe: { 'net.core.somaxconn': '4096' }, nodeLevel: {} },
  // The d-nodelevel fixture pod's profile: a node-level value plus an unsafe one.
  { name: 'search', weight: 5, unsafe: { 'net.core.somaxconn': '4096' }, nodeLevel: { 'vm.max_map_count': '262144' } },
  { name: 'mq', weight: 5, unsafe: { 'kernel.msgmax': '65536', 'kernel.msgmnb': '65536' }, nodeLevel: {} },
];

export const PLAIN = PROFILES[0]!;

/**
 * The first `count` profiles of a cluster shape: 1 is plain nodes only; up to 7 the story's
 * middleware (a cache besides the six above); past that, variants of them with other values,
 * as teams tune the same middleware differently. Plain nodes keep their share; the rest split
 * the remainder evenly.
 */
export function profilesOf(count: number): readonly SysctlProfile[] {
  if (!Number.isInteger(count) || count < 1 || count > 500) throw new RangeError('profiles must be an integer in 1..500');
  if (count === PROFILES.length) return PROFILES;
  const named = [...PROFILES, CACHE].slice(0, count);
  const variants = Array.from({ length: Math.max(0, count - named.length) }, (_, k) => variantOf(named[1 + (k % (named.length - 1))]!, k));
  const tuned = [...named.slice(1), ...variants];
  const share = (100 - PLAIN.weight) / Math.max(1, tuned.length);
  return [PLAIN, ...tuned.map((p) => ({ ...p, weight: share }))];
}

const CACHE: SysctlProfile = { name: 'cache', weight: 5, unsafe: { 'net.core.somaxconn': '511' }, nodeLevel: { 'vm.overcommit_memory': '1' } };

/** The same middleware with its first value changed: another profile, same names. */
function variantOf(base: SysctlProfile, k: number): SysctlProfile {
  const bump = (values: Readonly<Record<string, string>>, first: boolean) =>
    Object.fromEntries(Object.entries(values).map(([name, value], i) => [name, first && i === 0 ? `${value.split(' ')[0]}${k + 1}${value.includes(' ') ? value.slice(value.indexOf(' ')) : ''}` : value]));
  const unsafeFirst = Object.keys(base.unsafe).length > 0;
  return { name: `${base.name}-v${k + 1}`, weight: base.weight, unsafe: bump(base.unsafe, unsafeFirst), nodeLevel: bump(base.nodeLevel, !unsafeFirst) };
}

export function profileNamed(name: string): SysctlProfile {
  const profile = PROFILES.find((p) => p.name === name);
  if (!profile) throw new RangeError(`no sysctl profile ${name}`);
  return profile;
}

/** What nodes running unsafe profiles let their kubelet admit (like node n4 of the fixtures). */
export const ALLOW_ALL_UNSAFE = 'kernel.shm*,kernel.sem,kernel.msg*,net.*';

/** Allow-lists of plain nodes: none declared (no check), a narrow one, or the broad one. */
export const PLAIN_NODE_ALLOW_LISTS: readonly (string | undefined)[] = [undefined, 'net.core.somaxconn', ALLOW_ALL_UNSAFE];

/** `sysctl.conf` text for an annotation, `; `-separated as in the SPEC's kubectl example. */
export function sysctlConf(values: Readonly<Record<string, string>>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
}

export function podSysctls(values: Readonly<Record<string, string>>): Array<{ name: string; value: string }> {
  return Object.entries(values).map(([name, value]) => ({ name, value }));
}
