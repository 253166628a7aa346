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
