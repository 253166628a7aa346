import { onePerName } from '../sysctl-index/candidates.js';
import { RequestError } from './request-error.js';
import { describeErrors, validators } from './request-schemas.js';
import {
  canonicalFields,
  type ExtenderArgs,
  type ExtenderBindingArgs,
  type ExtenderPreemptionArgs,
} from './wire-types.js';

/**
 * Turns a parsed JSON body into a typed, validated request, or throws a RequestError (400)
 * that says what is wrong. Field names are matched case-insensitively like Go's decoder.
 */

export function decodeExtenderArgs(body: unknown): ExtenderArgs {
  const args = canonicalFields(requireObject(body), ['Pod', 'Nodes', 'NodeNames']) as Record<string, unknown>;
  if (args.Nodes) args.Nodes = canonicalFields(args.Nodes, ['metadata', 'items']);
  if (!validators.extenderArgs(args)) throw new RequestError(400, describeErrors(validators.extenderArgs));
  const decoded = args as unknown as ExtenderArgs;
  const names = decoded.NodeNames;
  if (names) {
    for (let i = 0; i < names.length; i += 1) {
      const length = names[i]!.length;
      if (length === 0 || length > 253) throw new RequestError(400, `NodeNames.${i} must be a node name of 1 to 253 characters`);
    }
  }
  if (!decoded.NodeNames && !decoded.Nodes) {
    throw new RequestError(400, 'one of NodeNames (nodeCacheCapable: true) or Nodes must be set');
  }
  // Full Node objects are rare and large: one Set per call is nothing beside them. A name twice
  // is answered once (FailedNodes keys unique), as NodeNames are (CandidateResolver.byNames).
  if (decoded.Nodes?.items) decoded.Nodes.items = onePerName(decoded.Nodes.items, (node) => node.metadata?.name ?? undefined);
  return decoded;
}

/** explain takes `{"Pod": …, "NodeNames": […]?}` or a bare Pod (as `kubectl get pod -o json` prints it). */
export function decodeExplainArgs(body: unknown): { Pod: ExtenderArgs['Pod']; NodeNames?: string[] } {
  const object = requireObject(body) as Record<string, unknown>;
  const args = 'metadata' in object && !('Pod' in object) ? { Pod: object } : (canonicalFields(object, ['Pod', 'NodeNames']) as Record<string, unknown>);
  if (!validators.extenderArgs(args)) throw new RequestError(400, describeErrors(validators.extenderArgs));
  return args as { Pod: ExtenderArgs['Pod']; NodeNames?: string[] };
}

export function decodeBindingArgs(body: unknown): ExtenderBindingArgs {
  const args = canonicalFields(requireObject(body), ['PodName', 'PodNamespace', 'PodUID', 'Node']);
  if (!validators.bindingArgs(args)) throw new RequestError(400, describeErrors(validators.bindingArgs));
  return args as ExtenderBindingArgs;
}

export function decodePreemptionArgs(body: unknown): ExtenderPreemptionArgs {
  const args = canonicalFields(requireObject(body), ['Pod', 'NodeNameToVictims', 'NodeNameToMetaVictims']) as Record<
    string,
    unknown
  >;
  for (const field of ['NodeNameToVictims', 'NodeNameToMetaVictims'] as const) {
    const byNode = args[field];
    if (byNode && typeof byNode === 'object' && !Array.isArray(byNode)) {
      args[field] = canonicalVictims(byNode, field === 'NodeNameToMetaVictims');
    }
  }
  if (!validators.preemptionArgs(args)) throw new RequestError(400, describeErrors(validators.preemptionArgs));
  const decoded = args as unknown as ExtenderPreemptionArgs;
  if (!decoded.NodeNameToVictims && !decoded.NodeNameToMetaVictims) {
    throw new RequestError(400, 'one of NodeNameToMetaVictims or NodeNameToVictims must be set');
  }
  return decoded;
}

/** Victims hold full Pods (json-tagged, left alone) or MetaPods (`UID`, Go-named). */
function canonicalVictims(byNode: object, metaPods: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [node, victims] of Object.entries(byNode)) {
    const canonical = canonicalFields(victims, ['Pods', 'NumPDBViolations']) as Record<string, unknown>;
    if (metaPods && Array.isArray(canonical?.Pods)) canonical.Pods = canonical.Pods.map((p) => canonicalFields(p, ['UID']) ?? p);
    out[node] = canonical;
  }
  return out;
}

function requireObject(body: unknown): object {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new RequestError(400, 'request body must be a JSON object');
  }
  return body;
}
