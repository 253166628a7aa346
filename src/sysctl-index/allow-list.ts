import { kernelNamespaceOf } from './classify.js';
import { isValidSysctlName, normalizeSysctlName } from './sysctl-names.js';

/**
 * The kubelet's pattern syntax, `SysctlContainSlashPatternFmt` in kubernetes/kubernetes
 * pkg/apis/policy/validation: a name whose last segment may end in `*`.
 */
const SYSCTL_PATTERN = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]$/;

/**
 * A node kubelet's `--allowed-unsafe-sysctls`, mirrored in the node annotation
 * `sysctl-extender.io/allowed-unsafe-sysctls`: comma-separated names, a trailing `*` makes a
 * prefix pattern. Parsed as the kubelet does (pkg/kubelet/sysctl/allowlist.go): a pattern the
 * kubelet would refuse at start-up, or one not known to be namespaced, makes the list unreadable.
 */
export class AllowList {
  private constructor(
    readonly source: string,
    private readonly exact: ReadonlySet<string>,
    private readonly prefixes: readonly string[],
  ) {}

  allows(normalizedName: string): boolean {
    return this.exact.has(normalizedName) || this.prefixes.some((p) => normalizedName.startsWith(p));
  }

  /**
   * Like parse, but one shared object per distinct text: nodes mostly share a few allow-lists,
   * and filter memoises its allow-list check per object.
   */
  static parseShared(source: string): AllowList | { error: string } {
    let parsed = shared.get(source);
    if (!parsed) {
      if (shared.size >= 1024) shared.clear(); // bounded, whatever the cluster's annotations
      parsed = AllowList.parse(source);
      shared.set(source, parsed);
    }
    return parsed;
  }

  /** Returns the list, or the reason the annotation cannot be read. */
  static parse(source: string): AllowList | { error: string } {
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
      if (!namespaced(stem)) return { error: `sysctl pattern "${item}" is not known to be namespaced` };
      if (isPattern) prefixes.push(stem);
      else exact.add(stem);
    }
    return new AllowList(source, exact, prefixes);
  }
}

const shared = new Map<string, AllowList | { error: string }>();

/**
 * The kubelet's `NamespacedBy` check on a name or a pattern's prefix: `net.*` and `kernel.shm*`
 * pass; `kernel.*`, `net*` or `*` do not (they would reach node-level sysctls).
 */
function namespaced(stem: string): boolean {
  return kernelNamespaceOf(stem) !== undefined;
}
