import { readFileSync } from 'node:fs';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { KubeNamespace, KubeNode, KubePod } from '../sysctl-index/kube-objects.js';

/** The output of `kubectl get nodes,pods,namespaces -o json`: a `List` of mixed kinds. */
export interface KubeList {
  kind?: string;
  items: Array<(KubeNode | KubePod | KubeNamespace) & { kind?: string }>;
}

export class SnapshotError extends Error {}

export function readSnapshotFile(path: string): KubeList {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SnapshotError(`cannot read snapshot ${path}: ${(err as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new SnapshotError(`snapshot ${path} is not JSON (expected kubectl get nodes,pods,namespaces -o json): ${(err as Error).message}`);
  }
  const items = (document as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw new SnapshotError(`snapshot ${path} has no "items" list`);
  return document as KubeList;
}

export interface LoadCounts {
  namespaces: number;
  nodes: number;
  pods: number;
  /** Items of other kinds, or without the fields the index needs. */
  skipped: number;
}

/** Feeds a List through the same update functions a watch uses. */
export function applyList(index: ClusterIndex, list: KubeList): LoadCounts {
  const counts: LoadCounts = { namespaces: 0, nodes: 0, pods: 0, skipped: 0 };
  for (const item of list.items) {
    const applied =
      item?.kind === 'Namespace' ? index.upsertNamespace(item) && ++counts.namespaces
      : item?.kind === 'Node' ? index.upsertNode(item) && ++counts.nodes
      : item?.kind === 'Pod' ? index.upsertPod(item) && ++counts.pods
      : false;
    if (!applied) counts.skipped += 1;
  }
  return counts;
}
