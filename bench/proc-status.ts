/** Memory figures the kernel keeps per process (Linux `/proc/PID/status`), which Node does not report. */
import { readFileSync } from 'node:fs';

/** `VmRSS`: resident now; `VmHWM`: the peak resident size so far. NaN where /proc has no such field. */
export function procStatusBytes(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}
