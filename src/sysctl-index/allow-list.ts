import { allowListStemNamespace, KUBELET_SAFE_SYSCTLS, legacyAllowListStemNamespace } from './classify.js';
import { isValidSysctlName, normalizeSysctlName } from './sysctl-names.js';

/**
 * The kubelet's pattern syntax, `SysctlContainSlashPatternFmt` in kubernetes/kubernetes
 * pkg/apis/policy/validation: a name whose last segment may end in `*`.
 */
const SYSCTL_PATTERN = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]$/;

/** Which kubelet parses the list: 1.29+ knows the IPC names exactly; older ones by prefix. */
export type AllowListDialect = 'exact-ipc' | 'legacy-ipc';

/**
 * A node kubelet's `--allowed-unsafe-sysctls`, mirrored in the node annotation
 * `sysctl-extender.io/allowed-unsafe-sysctls`: comma-separated names, a trailing `*` makes a
 * prefix pattern. Parsed as the kubelet does in `NewAllowlist` (kubernetes/kubernetes
 * pkg/kubelet/sysctl/allowlist.go): every entry must match the pattern syntax, and the name, or
 * the stem before a `*`, must be known to be namespaced; otherwise the kubelet refuses the flag
 * and does not start, and the list is unreadable here.
 */
export class AllowList {
  /** Bits of the kubelet-safe sysctls this list also admits (where the kubelet does not count them safe). */
  readonly safeMask: number;

  private constructor(
    readonly source: string,
    private readonly exact: ReadonlySet<string>,
    private readonly prefixes: readonly string[],
  ) {
    let mask = 0;
    for (const entry of KUBELET_SAFE_SYSCTLS) if (this.allows(entry.name)) mask |= 1 << entry.bit;
    this.safeMask = mask;
  }

  allows(normalizedName: string): boolean {
    return this.exact.has(normalizedName) || this.prefixes.some((p) => normalizedName.startsWith(p));
  }

  /**
   * Like parse, but one shared object per distinct text and dialect: nodes mostly share a few
   * allow-lists, and filter memoises its allow-list check per object.
   */
  static parseShared(source: string, dialect: AllowListDialect = 'exact-ipc'): AllowList | { error: string } {
    const cache = dialect === 'exact-ipc' ? shared : sharedLegacy;
    let parsed = cache.get(source);
    if (!parsed) {
      if (cache.size >= 1024) cache.clear(); // bounded, whatever the cluster's annotations
      parsed = AllowList.parse(source, dialect);
      cache.set(source, parsed);
    }
    return parsed;
  }

  /** Returns the list, or the reason the annotation cannot be read. */
  static parse(source: string, dialect: AllowListDialect = 'exact-ipc'): AllowList | { error: string } {
    const namespaceOf = dialect === 'exact-ipc' ? allowListStemNamespace : legacyAllowListStemNamespace;
    const exact = new Set<string>();
    const prefixes: string[] = [];
    for (const raw of source.split(',')) {
      const item = raw.trim();
      if (item === '') continue;
      if (item.length > 253 || !SYSCTL_PATTERN.test(item)) return { error: `invalid sysctl pattern "${item}"` };
      const normalized = normalizeSysctlName(item);
      const isPattern = normalized.endsWith('*');
      const stem = isPattern ? normalized.slice(0, -1) : normalized;
      if (!isPattern && !isValidSysctlName(item)) return { error: `invalid sysctl pattern "${item}"` };
      if (namespaceOf(stem) === undefined) {
        return { error: `the kubelet refuses "${item}": ${isPattern ? 'its stem is' : 'it is'} not known to be namespaced` };
      }
      if (isPattern) prefixes.push(stem);
      else exact.add(stem);
    }
    return new AllowList(source, exact, prefixes);
  }
}

const shared = new Map<string, AllowList | { error: string }>();
const sharedLegacy = new Map<string, AllowList | { error: string }>();
