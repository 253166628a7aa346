/**
 * The latency suite over the shape matrix (shape-matrix.ts): per shape, the cluster is written
 * as a snapshot file and the extender loads it as `--snapshot` does, then filter and prioritize
 * run against the do-nothing server in alternating rounds. The file is removed afterwards (up
 * to 1.7 GB at 110 pods a node).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { TMP_DIR } from './bench-paths.js';
import { writeSnapshot } from './index-figures.js';
import { runLatencySuite, type GroupResult, type SuiteSettings } from './latency-suite.js';
import { matrixCluster, matrixScenarios, type MatrixShape } from './shape-matrix.js';

export async function runShapeMatrix(shapes: readonly MatrixShape[], seed: number, settings: Omit<SuiteSettings, 'servers'>): Promise<GroupResult[]> {
  const results: GroupResult[] = [];
  for (const entry of shapes) {
    const path = join(TMP_DIR, `matrix-${entry.id}.json`);
    const cluster = matrixCluster(entry, seed);
    settings.log(`[shape ${entry.id}] ${cluster.nodes} nodes x ${cluster.podsPerNode} pods; writing the snapshot`);
    const file = await writeSnapshot(cluster, path);
    settings.log(`  ${file.items} items, ${(file.bytes / 1e6).toFixed(0)} MB in ${Math.round(file.writeMs)} ms`);
    try {
      const scenarios = matrixScenarios(seed, [entry]).map((s) => ({ ...s, cluster: { ...s.cluster, snapshotFile: path } }));
      // One connection: the SPEC's bars are set there, and it halves the matrix's time.
      results.push(...(await runLatencySuite(scenarios, { ...settings, connections: [1], servers: ['baseline', 'extender'] })));
    } finally {
      rmSync(path, { force: true });
    }
  }
  return results;
}
