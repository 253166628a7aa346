import type { PolicyKeys } from './policy-keys.js';
import { AllowList } from './allow-list.js';
import type { SysctlClassifier } from './classify.js';
import type { KubeNode } from './kube-objects.js';
import { nodeRuntimeOf, type NodeRuntime } from './node-runtime.js';
import type { ProfileId, ProfileTable } from './profile-intern.js';
import { parseSysctlConf } from './sysctl-conf.js';

/** What the rules need of a Node object, and nothing more (memory target: projections, not objects). */
export interface NodeProjection {
  readonly name: string;
  readonly resourceVersion: string | undefined;
  /** Dedicated to this team; undefined: shared. */
  readonly team: string | undefined;
  /** Node-level values the node declares, interned. */
  readonly declaredId: ProfileId;
  /** The allow-list annotation; undefined where the node does not declare one. */
  readonly allowList: AllowList | undefined;
  /** Why the node's annotations cannot be read; such a node takes no pods at all. */
  readonly annotationProblem: string | undefined;
  /** The allow-list annotation is among them: it has a pattern the kubelet refuses at start. */
  readonly allowListUnreadable: boolean;
  /** Its kubelet release and kernel, and the safe sysctls they admit (shared between nodes). */
  readonly runtime: NodeRuntime;
}

export function projectNode(
  node: KubeNode,
  keys: PolicyKeys,
  classifier: SysctlClassifier,
  profiles: ProfileTable,
): NodeProjection | undefined {
  const meta = node.metadata;
  if (!meta || typeof meta.name !== 'string' || meta.name === '') return undefined;
  const annotations = meta.annotations ?? {};
  const problems: string[] = [];

  const declared = parseSysctlConf(stringOr(annotations[keys.sysctlsAnnotation], ''));
  problems.push(...declared.errors.map((e) => `${keys.sysctlsAnnotation}: ${e}`));
  // Namespaced values on a node do not reach pods' namespaces: declaring one is an operator error.
  const nodeLevel = declared.entries.filter((e) => {
    const isNodeLevel = classifier.classify(e.name) === 'node-level';
    if (!isNodeLevel) problems.push(`${keys.sysctlsAnnotation}: ${e.name} is namespaced, not node-level`);
    return isNodeLevel;
  });

  const runtime = nodeRuntimeOf(node);
  let allowList: AllowList | undefined;
  let allowListUnreadable = false;
  const allowSource = annotations[keys.allowedUnsafeSysctlsAnnotation];
  if (typeof allowSource === 'string') {
    // Parsed as this node's kubelet parses its flag; an unknown release by the stricter 1.29+ rules.
    const dialect = runtime.kubeletMinor !== undefined && runtime.kubeletMinor < 29 ? 'legacy-ipc' : 'exact-ipc';
    const parsed = AllowList.parseShared(allowSource, dialect);
    if (parsed instanceof AllowList) allowList = parsed;
    else {
      allowListUnreadable = true;
      problems.push(`${keys.allowedUnsafeSysctlsAnnotation}: ${parsed.error}`);
    }
  }

  const team = meta.labels?.[keys.teamLabel];
  return {
    name: meta.name,
    resourceVersion: meta.resourceVersion,
    team: typeof team === 'string' && team !== '' ? team : undefined,
    declaredId: profiles.intern(nodeLevel),
    allowList,
    annotationProblem: problems.length > 0 ? problems.join('; ') : undefined,
    allowListUnreadable,
    runtime,
  };
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}
