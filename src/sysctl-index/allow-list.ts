import { isValidSysctlName, normalizeSysctlName } from './sysctl-names.js';

/**
 * A node kubelet's `--allowed-unsafe-sysctls`, mirrored in the node annotation
 * `sysctl-extender.io/allowed-unsafe-sysctls`: comma-separated names, a trailing `*` makes a
 * prefix pattern (kubernetes/kubernetes pkg/kubelet/sysctl/allowlist.go).
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

  /** Returns the list, or the reason the annotation cannot be read. */
  static parse(source: string): AllowList | { error: string } {
    const exact = new Set<string>();
    const prefixes: string[] = [];
    for (const raw of source.split(',')) {
      const item = raw.trim();
      if (item === '') continue;
      const isPattern = item.endsWith('*');
      const name = isPattern ? item.slice(0, -1).replace(/[./]$/, '') : item;
      // `*` alone, or `net.*` whose stem is `net`: the stem must itself be a valid name.
      if (name !== '' && !isValidSysctlName(name)) return { error: `invalid sysctl pattern "${item}"` };
      if (!isPattern) exact.add(normalizeSysctlName(name));
      else prefixes.push(normalizeSysctlName(item.slice(0, -1)));
    }
    return new AllowList(source, exact, prefixes);
  }
}
