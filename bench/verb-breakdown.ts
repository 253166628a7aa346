/** Parent side of verb-breakdown-child.ts: the in-process cost of one call, phase by phase. */
import { fileURLToPath } from 'node:url';
import { runChild } from './child-runner.js';
import type { ClusterSpec } from '../support/synthetic-cluster/cluster-generator.js';
import { clusterSpecArgs } from './cluster-spec-args.js';
import type { VerbBreakdown } from './verb-breakdown-child.js';

export type { PhaseTimes, VerbBreakdown } from './verb-breakdown-child.js';

const CHILD = fileURLToPath(new URL('./verb-breakdown-child.js', import.meta.url));

export function measureVerbBreakdown(cluster: ClusterSpec): Promise<VerbBreakdown> {
  return runChild<VerbBreakdown>(CHILD, clusterSpecArgs(cluster));
}
