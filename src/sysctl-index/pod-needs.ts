import type { PolicyKeys } from './policy-keys.js';
import type { SysctlClassifier } from './classify.js';
import { kernelNamespaceOf } from './classify.js';
import type { KubePod } from './kube-objects.js';
import { parseSysctlConf, type SysctlConfEntry } from './sysctl-conf.js';
import { foldSysctlValue, isValidSysctlName, normalizeSysctlName } from './sysctl-names.js';

/**
 * What a pod needs from a node, read from fields the pod's author controls: the unsafe sysctls
 * in `spec.securityContext.sysctls` and the node-level values in the sysctls annotation.
 * Safe sysctls are no part of a profile: only their bits are kept, since a node whose kubelet
 * or kernel does not count one as safe admits it only through its allow-list, or not at all.
 */
export interface PodNeeds {
  readonly unsafe: SysctlConfEntry[];
  readonly nodeLevel: SysctlConfEntry[];
  /** Bits (classify.ts KUBELET_SAFE_SYSCTLS) of the kubelet-safe sysctls it sets. */
  readonly safeMask: number;
  /** Why no kubelet would run this pod as written; the same for every node. */
  readonly problem?: string;
}

export function readPodNeeds(pod: KubePod, keys: PolicyKeys, classifier: SysctlClassifier): PodNeeds {
  const unsafe: SysctlConfEntry[] = [];
  const annotation = pod.metadata?.annotations?.[keys.sysctlsAnnotation];
  const declared = typeof annotation === 'string' ? parseSysctlConf(annotation) : { entries: [], errors: [] };
  const nodeLevel: SysctlConfEntry[] = [];
  let safeMask = 0;
  let problem: string | undefined;

  if (declared.errors.length > 0) {
    problem = `pod annotation ${keys.sysctlsAnnotation} cannot be parsed: ${declared.errors[0]}`;
  }
  for (const entry of declared.entries) {
    if (classifier.classify(entry.name) === 'node-level') nodeLevel.push(entry);
    else problem ??= `pod annotation ${keys.sysctlsAnnotation} lists namespaced sysctl ${entry.name}; set it in securityContext.sysctls`;
  }

  const seen = new Map<string, string>();
  for (const raw of pod.spec?.securityContext?.sysctls ?? []) {
    if (typeof raw?.name !== 'string' || typeof raw.value !== 'string') continue;
    // The API server refuses such names; a request body can still carry one.
    if (!isValidSysctlName(raw.name)) {
      problem ??= 'pod sets a sysctl whose name is not valid';
      continue;
    }
    const name = normalizeSysctlName(raw.name);
    const value = foldSysctlValue(raw.value);
    const cls = classifier.classify(name);
    if (cls === 'node-level') {
      problem ??= `pod sets node-level sysctl ${name} in securityContext.sysctls; declare it in annotation ${keys.sysctlsAnnotation}`;
      continue;
    }
    // The kubelet refuses namespaced sysctls of a namespace the pod shares with the host.
    const ns = kernelNamespaceOf(name);
    if ((ns === 'net' && pod.spec?.hostNetwork) || (ns === 'ipc' && pod.spec?.hostIPC)) {
      problem ??= `pod sets ${ns} sysctl ${name} but shares the host ${ns} namespace`;
      continue;
    }
    if (cls === 'safe') {
      safeMask |= classifier.safeBit(name);
      continue;
    }
    const previous = seen.get(name);
    if (previous !== undefined && previous !== value) {
      problem ??= `pod sets sysctl ${name} twice with different values`;
      continue;
    }
    if (previous === undefined) unsafe.push({ name, value });
    seen.set(name, value);
  }
  return problem === undefined ? { unsafe, nodeLevel, safeMask } : { unsafe, nodeLevel, safeMask, problem };
}
