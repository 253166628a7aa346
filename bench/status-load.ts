/**
 * Whether the status page slows a verb (issue 18): filter over every node of a 5,000-node
 * cluster, with nothing else, then while another process fetches /healthz in a loop (the
 * control: the same client and HTTP work, no page), then while it fetches /status. The
 * extender runs as in production, in its own process, the cluster from a snapshot file.
 * A benchmark, not a test: the machines are shared and their timings noisy.
 *
 *   node bench/.build/bench/status-load.js [--calls 300]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EXTENDER_MAIN } from './bench-paths.js';
import { bounded } from './cli-args.js';
import { planCluster, writeSnapshotFile } from '../support/synthetic-cluster/cluster-generator.js';
import { youngGenerationOptions } from '../support/deployment-node-options.js';
import { requestBodies } from './request-bodies.js';

/** Fetches a URL in a loop until killed, one byte on stdout per answer. */
const FETCH_LOOP = `(async () => { for (;;) { const res = await fetch(process.argv[1]); if (res.status !== 200) process.exit(3); await res.arrayBuffer(); process.stdout.write('.'); } })()`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { calls: { type: 'string', default: '300' } } });
  const calls = bounded(values.calls, 10, 10_000);
  const dir = mkdtempSync(join(tmpdir(), 'status-load-'));
  const spec = { nodes: 5000, podsPerNode: 30, seed: 18 };
  const snapshot = join(dir, 'cluster.json');
  await writeSnapshotFile(spec, snapshot);
  const extender = spawn(process.execPath, [...youngGenerationOptions(), EXTENDER_MAIN, '--snapshot', snapshot, '--port', '0', '--metrics-port', '0', '--metrics-host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const { url, opsUrl } = await listening(extender.stdout!);
    const bodies = requestBodies(planCluster(spec), 'names', 1).map((b) => b.body);
    const filterP50 = async (n: number): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < n; i += 1) {
        const start = performance.now();
        const res = await fetch(`${url}/filter`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i % bodies.length] });
        if (res.status !== 200) throw new Error(`filter answered ${res.status}`);
        await res.arrayBuffer();
        times.push(performance.now() - start);
      }
      return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
    };
    const whileFetching = async (path: string): Promise<{ p50: number; answers: number }> => {
      const looper = spawn(process.execPath, ['-e', FETCH_LOOP, `${opsUrl}${path}`], { stdio: ['ignore', 'pipe', 'inherit'] });
      let answers = 0;
      looper.stdout!.on('data', (d: Buffer) => (answers += d.length));
      try {
        return { p50: await filterP50(calls), answers };
      } finally {
        looper.kill('SIGKILL');
      }
    };
    await filterP50(50);
    const quiet = await filterP50(calls);
    const healthz = await whileFetching('/healthz');
    const status = await whileFetching('/status');
    process.stdout.write(
      `filter p50 at 5,000 nodes over ${calls} calls: ${quiet.toFixed(2)} ms alone, ${healthz.p50.toFixed(2)} ms beside a /healthz loop (${healthz.answers} answers), ` +
        `${status.p50.toFixed(2)} ms beside a /status loop (${status.answers} pages); /status over /healthz: ${(status.p50 / healthz.p50).toFixed(2)}\n`,
    );
  } finally {
    extender.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function listening(stdout: NodeJS.ReadableStream): Promise<{ url: string; opsUrl: string }> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no listening lines within 120 s: ${seen}`)), 120_000);
    stdout.on('data', (d: Buffer) => {
      seen += d;
      const verbs = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"listening on/.exec(seen);
      const ops = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"serving metrics/.exec(seen);
      if (verbs && ops) {
        clearTimeout(timer);
        resolve({ url: verbs[1]!, opsUrl: ops[1]! });
      }
    });
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`status-load: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
