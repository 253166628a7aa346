/**
 * Proc.cpuSeconds, which bench:scheduler's CPU-per-pod table is built from: it must count the
 * CPU a process burned (not its wall time, not nothing), and say undefined once it is gone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Proc } from '../support/real-cluster/control-plane.js';
import { waitFor } from './support/wait.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proc-cpu-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(process.platform !== 'linux')('Proc.cpuSeconds (Linux /proc)', () => {
  it('counts the CPU a child burns, not the time it sleeps, and is undefined after exit', async () => {
    // Burns 0.5 s of its own CPU (not of wall time: on a busy machine that would be less), then sleeps until stopped.
    const script = 'for (let u = process.cpuUsage(); u.user + u.system < 500_000; u = process.cpuUsage()); setInterval(() => {}, 60_000);';
    const started = performance.now();
    const proc = Proc.start('burner', process.execPath, ['-e', script], path.join(dir, 'burner.log'));
    try {
      await waitFor(() => (proc.cpuSeconds() ?? 0) >= 0.4, 'the child to burn 0.4 s of CPU');
      const burned = proc.cpuSeconds()!;
      // Sleeping adds next to nothing: the count settles while the wall clock runs on.
      await waitFor(() => performance.now() - started > 2_000 + burned * 1000, 'two seconds of sleep');
      const later = proc.cpuSeconds()!;
      expect(later - burned).toBeLessThan(0.3);
      expect(later).toBeLessThan((performance.now() - started) / 1000);
    } finally {
      await proc.stop();
    }
    expect(proc.cpuSeconds()).toBeUndefined();
  });
});
