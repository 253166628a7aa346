/**
 * The cluster shapes the latency bars are checked on (SPEC section 6: "for every shape of
 * cluster, not one generator's"). A cross-section rather than the full product: each value of
 * each dimension appears at least once (names short, worker-N and cloud-style; 1, 4, 10 and 50
 * teams; 0 %, 50 % and 90 % dedicated; allow-lists on 0 %, 15 % and 50 % of the nodes; 1, 7
 * and 50 profiles; 10, 30 and 110 pods a node), and the shape of issue 14's report, which cost
 * 8x the do-nothing server, is one of them. All at 5,000 nodes, every node a candidate.
 */
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR } from './bench-paths.js';
import type { ClusterSpec } from '../support/synthetic-cluster/cluster-generator.js';
import { parseShape, type ClusterShape } from '../support/synthetic-cluster/cluster-shape.js';
import type { GroupResult } from './latency-suite.js';
import { scenario, TARGET_SIZE, type CandidateVerb, type Scenario } from './scenarios.js';

export interface MatrixShape {
  readonly id: string;
  readonly shape: ClusterShape;
  readonly podsPerNode: number;
}

const shape = (id: string, text: string, podsPerNode: number): MatrixShape => ({ id, shape: parseShape(text), podsPerNode });

export const MATRIX: readonly MatrixShape[] = [
  shape('issue-14', 'names=short,teams=4,dedicated=0.5,allowLists=0.15,profiles=7', 30),
  shape('bench-default', 'names=cloud,teams=10,dedicated=0.7,allowLists=mixed,profiles=6', 30),
  shape('one-team-plain', 'names=short,teams=1,dedicated=0,allowLists=0,profiles=1', 10),
  shape('fifty-teams-dense', 'names=short,teams=50,dedicated=0.9,allowLists=0.5,profiles=50', 110),
  shape('worker-many-profiles', 'names=worker,teams=10,dedicated=0.5,allowLists=0.15,profiles=50', 30),
  shape('cloud-shared-sparse', 'names=cloud,teams=4,dedicated=0,allowLists=0.5,profiles=50', 10),
  shape('short-dedicated-dense', 'names=short,teams=10,dedicated=0.9,allowLists=0,profiles=7', 110),
  shape('worker-fifty-teams', 'names=worker,teams=50,dedicated=0.5,allowLists=0.15,profiles=1', 30),
];

/** Where the last full matrix run left its two worst shapes, for bench:ci. */
export const WORST_SHAPES_FILE = join(RESULTS_DIR, 'worst-shapes.json');

export function matrixCluster(entry: MatrixShape, seed: number): ClusterSpec {
  return { nodes: TARGET_SIZE, podsPerNode: entry.podsPerNode, seed, shape: entry.shape };
}

/** Filter and prioritize, NodeNames of every node, per shape; the scenario id names the shape. */
export function matrixScenarios(seed: number, shapes: readonly MatrixShape[] = MATRIX): Scenario[] {
  return shapes.flatMap((entry) => {
    const cluster = matrixCluster(entry, seed);
    return (['filter', 'prioritize'] as const).map((verb) => ({ ...scenario(cluster, verb, 'names', 1), id: `${verb} @ ${entry.id}` }));
  });
}

export function shapeNamed(id: string): MatrixShape {
  const found = MATRIX.find((m) => m.id === id);
  if (!found) throw new RangeError(`no shape ${id} in the matrix (${MATRIX.map((m) => m.id).join(', ')})`);
  return found;
}

/** How far a result is from the bars: the largest of p50, p99 and inverse-throughput ratios. */
export function badness(g: GroupResult): number {
  const r = g.ratios.extender;
  return r ? Math.max(r.p50, r.p99, 1 / r.throughput) : Number.POSITIVE_INFINITY;
}

/** The worst shape per verb (one connection). */
export function worstPerVerb(latency: readonly GroupResult[]): Partial<Record<CandidateVerb, GroupResult>> {
  const worst: Partial<Record<CandidateVerb, GroupResult>> = {};
  for (const g of latency) {
    if (g.connections !== 1 || g.scenario.verb === 'bind') continue;
    const verb = g.scenario.verb;
    if (!worst[verb] || badness(g) > badness(worst[verb])) worst[verb] = g;
  }
  return worst;
}

/** The ids of the two worst shapes (one per verb, or the two worst overall when one shape is worst at both). */
export function worstShapes(latency: readonly GroupResult[]): string[] {
  const byShape = new Map<string, number>();
  for (const g of latency) {
    if (g.connections !== 1) continue;
    const id = shapeIdOf(g.scenario);
    byShape.set(id, Math.max(byShape.get(id) ?? 0, badness(g)));
  }
  return [...byShape.entries()].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([id]) => id);
}

export function shapeIdOf(s: Scenario): string {
  return s.id.slice(s.id.indexOf('@ ') + 2);
}

export function writeWorstShapes(ids: readonly string[]): void {
  writeFileSync(WORST_SHAPES_FILE, `${JSON.stringify({ note: 'written by npm run bench (the shape matrix); read by bench:ci', worst: ids }, null, 2)}\n`);
}

/** The two shapes bench:ci runs: the last matrix run's worst, or issue 14's and the bench's own before any. */
export function readWorstShapes(): MatrixShape[] {
  if (!existsSync(WORST_SHAPES_FILE)) return [shapeNamed('issue-14'), shapeNamed('bench-default')];
  const { worst } = JSON.parse(readFileSync(WORST_SHAPES_FILE, 'utf8')) as { worst: string[] };
  return worst.map(shapeNamed);
}

