/**
 * The extender wire protocol, mirroring kubernetes/kubernetes
 * staging/src/k8s.io/kube-scheduler/extender/v1/types.go. Those Go structs have no JSON tags, so
 * fields travel with their Go names, capitalised, and Go decodes them case-insensitively: we
 * accept any case (`canonicalFields`) and always answer capitalised.
 */
import type { KubeNode, KubePod } from '../sysctl-index/kube-objects.js';

/** filter and prioritize request. `NodeNames` when `nodeCacheCapable: true`, else `Nodes`. */
export interface ExtenderArgs {
  Pod: KubePod;
  Nodes?: { metadata?: object; items: KubeNode[] } | null;
  NodeNames?: string[] | null;
}

export interface ExtenderFilterResult {
  Nodes: { metadata: object; items: KubeNode[] } | null;
  NodeNames: string[] | null;
  /** Node name to reason; kube-scheduler may still preempt on these nodes. */
  FailedNodes: Record<string, string>;
  /** Node name to reason; preemption cannot help here. */
  FailedAndUnresolvableNodes: Record<string, string>;
  Error: string;
}

/** prioritize answers a HostPriorityList. */
export interface HostPriority {
  Host: string;
  Score: number;
}

export interface ExtenderBindingArgs {
  PodName: string;
  PodNamespace: string;
  PodUID: string;
  Node: string;
}

export interface MetaPod {
  UID: string;
}

export interface Victims {
  Pods: KubePod[];
  NumPDBViolations: number;
}

export interface MetaVictims {
  Pods: MetaPod[];
  NumPDBViolations: number;
}

export interface ExtenderPreemptionArgs {
  Pod: KubePod;
  NodeNameToVictims?: Record<string, Victims> | null;
  NodeNameToMetaVictims?: Record<string, MetaVictims> | null;
}

export interface ExtenderPreemptionResult {
  NodeNameToMetaVictims: Record<string, MetaVictims>;
}

/**
 * Renames an object's keys to the canonical Go field names, matching case-insensitively the
 * way encoding/json does (an exact match wins over a folded one). Unknown keys are dropped.
 */
export function canonicalFields(value: unknown, fields: readonly string[]): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    if (Object.hasOwn(source, field)) {
      out[field] = source[field];
      continue;
    }
    const folded = Object.keys(source).find((key) => key.toLowerCase() === field.toLowerCase());
    if (folded !== undefined) out[field] = source[folded];
  }
  return out;
}

/** A string-keyed map safe for any key a request sends, `__proto__` included. */
export function nameMap<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}
