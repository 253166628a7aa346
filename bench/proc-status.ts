/** Memory figures the kernel keeps per process (Linux `/proc/PID/status`), which Node does not report. */
import { readFileSync } from 'node:fs';

/** `VmRSS`: resident now; `VmHWM`: the peak resident size so far. NaN where /proc has no such field. */
export function procStatusBytes(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** CPU time (user + system) the process has used, in clock ticks (`/proc/PID/stat` utime + stime). */
export function procCpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Resolves once none of the processes used CPU over the last `quietMs` (or after `maxMs`): a
 * server still collecting garbage after its run (the naive scan above all, with a heap of
 * 150,000 pods) must not take CPU from the next server's run on a 2-core machine.
 */
export async function waitUntilIdle(pids: readonly number[], quietMs = 300, maxMs = 10_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  const total = () => pids.reduce((sum, pid) => sum + procCpuTicks(pid), 0);
  let before = total();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const now = total();
    // One tick (10 ms) of slack: timers and the odd idle-time task.
    if (now - before <= 1) return;
    before = now;
  }
}

/** Busy and total jiffies of all CPUs since boot (`/proc/stat`); iowait counts as idle. */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((sum, t) => sum + t, 0);
  return { busy: total - (cpu[3] ?? 0) - (cpu[4] ?? 0), total };
}

/**
 * Resolves once the whole machine was busy less than `maxBusyShare` of a `windowMs` window (or
 * after `maxMs`), with the time waited. Right after the test suite, bench:ci's filter ratios
 * were worse than when it ran alone, and waitUntilIdle watches the servers only.
 */
export async function waitUntilMachineQuiet(maxBusyShare = 0.15, windowMs = 1000, maxMs = 30_000): Promise<number> {
  const started = Date.now();
  let before = machineTicks();
  while (Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const now = machineTicks();
    const total = now.total - before.total;
    if (total > 0 && (now.busy - before.busy) / total < maxBusyShare) break;
    before = now;
  }
  return Date.now() - started;
}
