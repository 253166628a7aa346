/** One way to hand a ClusterSpec to a child process on its command line, and read it back. */
import type { ClusterSpec } from '../support/synthetic-cluster/cluster-generator.js';
import { DEFAULT_SHAPE, describeShape, parseShape } from '../support/synthetic-cluster/cluster-shape.js';

/** parseArgs options of every child that builds a cluster. */
export const CLUSTER_OPTIONS = {
  nodes: { type: 'string', default: '500' },
  'pods-per-node': { type: 'string', default: '30' },
  seed: { type: 'string', default: '1' },
  'pending-pods': { type: 'string', default: '0' },
  shape: { type: 'string', default: describeShape(DEFAULT_SHAPE) },
  snapshot: { type: 'string' },
} as const;

export function clusterSpecArgs(spec: ClusterSpec): string[] {
  return [
    '--nodes', String(spec.nodes),
    '--pods-per-node', String(spec.podsPerNode),
    '--seed', String(spec.seed),
    '--pending-pods', String(spec.pendingPods ?? 0),
    '--shape', describeShape(spec.shape ?? DEFAULT_SHAPE),
    ...(spec.snapshotFile ? ['--snapshot', spec.snapshotFile] : []),
  ];
}

export function clusterSpecOf(values: { nodes?: string; 'pods-per-node'?: string; seed?: string; 'pending-pods'?: string; shape?: string; snapshot?: string }): ClusterSpec {
  return {
    nodes: Number(values.nodes),
    podsPerNode: Number(values['pods-per-node']),
    seed: Number(values.seed),
    pendingPods: Number(values['pending-pods'] ?? 0),
    shape: parseShape(values.shape ?? describeShape(DEFAULT_SHAPE)),
    ...(values.snapshot ? { snapshotFile: values.snapshot } : {}),
  };
}
