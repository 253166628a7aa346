/**
 * Sysctl names and values as the kubelet compares them.
 *
 * Names may use `/` or `.` as separator. Kubernetes converts with
 * `ConvertSysctlVariableToDotsSeparator` (k8s.io/component-helpers/node/util/sysctl): when the
 * first separator is a slash, slashes and dots swap, so `net/ipv4/conf/eno2.100/rp_filter`
 * becomes `net.ipv4.conf.eno2/100.rp_filter`. We do the same so that both spellings meet.
 */

/** The API server's validation regex for sysctl names (pkg/apis/core/validation). */
const SYSCTL_NAME = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;
const SYSCTL_NAME_MAX_LENGTH = 253;

export function isValidSysctlName(name: string): boolean {
  return name.length <= SYSCTL_NAME_MAX_LENGTH && SYSCTL_NAME.test(name);
}

export function normalizeSysctlName(name: string): string {
  const firstSeparator = name.search(/[./]/);
  if (firstSeparator < 0 || name[firstSeparator] === '.') return name;
  return name.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}

/** Values compare after trimming and folding runs of white space (`"1  2"` equals `"1 2"`). */
export function foldSysctlValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}
