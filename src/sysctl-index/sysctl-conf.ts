import { foldSysctlValue, isValidSysctlName, normalizeSysctlName } from './sysctl-names.js';

/**
 * Parser for the `sysctl-extender.io/sysctls` annotations, in `/etc/sysctl.conf` syntax:
 * `key = value` entries separated by new lines (LF, CRLF or CR) or `;`, `#` starting a comment. A leading `-`
 * (sysctl.conf's "ignore failures" mark) is accepted and dropped.
 *
 * It never throws: every malformed entry is reported, and the caller decides what an
 * unreadable annotation means (for a node: not untuned, but unusable).
 */

export interface SysctlConfEntry {
  /** Normalised to dot separators. */
  readonly name: string;
  /** Folded white space. */
  readonly value: string;
}

export interface SysctlConfResult {
  readonly entries: SysctlConfEntry[];
  /** One short message per malformed entry, numbered from 1 in the order written. */
  readonly errors: string[];
}

/** Bounds what one annotation may cost to parse; the API server caps annotations at 256 KiB anyway. */
const MAX_ENTRIES = 1024;

export function parseSysctlConf(text: string): SysctlConfResult {
  const entries: SysctlConfEntry[] = [];
  const errors: string[] = [];
  const seen = new Map<string, string>();
  let position = 0;
  for (const line of text.split(/\r\n|\r|\n/)) {
    const uncommented = line.split('#', 1)[0] ?? '';
    for (const raw of uncommented.split(';')) {
      const entry = raw.trim();
      if (entry === '') continue;
      position += 1;
      if (position > MAX_ENTRIES) {
        errors.push(`more than ${MAX_ENTRIES} entries`);
        return { entries, errors };
      }
      const parsed = parseEntry(entry);
      if (typeof parsed === 'string') {
        errors.push(`entry ${position}: ${parsed}`);
        continue;
      }
      const previous = seen.get(parsed.name);
      if (previous !== undefined && previous !== parsed.value) {
        errors.push(`entry ${position}: ${parsed.name} is set twice with different values`);
        continue;
      }
      if (previous === undefined) {
        seen.set(parsed.name, parsed.value);
        entries.push(parsed);
      }
    }
  }
  return { entries, errors };
}

function parseEntry(entry: string): SysctlConfEntry | string {
  const equals = entry.indexOf('=');
  if (equals < 0) return 'expected "name = value"';
  const rawName = entry.slice(0, equals).trim().replace(/^-/, '');
  if (rawName === '') return 'missing sysctl name';
  if (!isValidSysctlName(rawName)) return `invalid sysctl name "${truncate(rawName)}"`;
  const value = foldSysctlValue(entry.slice(equals + 1));
  if (value === '') return `missing value for ${rawName}`;
  return { name: normalizeSysctlName(rawName), value };
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}
