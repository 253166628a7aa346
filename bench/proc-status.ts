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
 * Samples every `windowMs` until `windowWasQuiet` says the window just ended was quiet, or
 * `maxMs` have passed; resolves with the time waited.
 */
async function waitForQuietWindow(windowMs: number, maxMs: number, windowWasQuiet: () => boolean): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    if (windowWasQuiet()) break;
  }
  return Date.now() - started;
}

/**
 * Resolves once none of the processes used CPU over the last `quietMs` (or after `maxMs`): a
 * server still collecting garbage after its run (the naive scan above all, with a heap of
 * 150,000 pods) must not take CPU from the next server's run on a 2-core machine.
 */
export function waitUntilIdle(pids: readonly number[], quietMs = 300, maxMs = 10_000): Promise<number> {
  const total = () => pids.reduce((sum, pid) => sum + procCpuTicks(pid), 0);
  let before = total();
  return waitForQuietWindow(quietMs, maxMs, () => {
    const now = total();
    // One tick (10 ms) of slack: timers and the odd idle-time task.
    const quiet = now - before <= 1;
    before = now;
    return quiet;
  });
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
export function waitUntilMachineQuiet(maxBusyShare = 0.15, windowMs = 1000, maxMs = 30_000): Promise<number> {
  let before = machineTicks();
  return waitForQuietWindow(windowMs, maxMs, () => {
    const now = machineTicks();
    const total = now.total - before.total;
    const quiet = total > 0 && (now.busy - before.busy) / total < maxBusyShare;
    before = now;
    return quiet;
  });
}
