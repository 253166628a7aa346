/**
 * SPEC section 3's invariants 1–3, checked on the API server's own objects and written
 * independently of the extender's code (so that a bug there cannot hide here): these pods
 * carry no safe sysctls, so a pod's profile is all its sysctls plus its declared needs.
 */
import { SYSCTLS, TEAM, type PodList } from './cluster-objects.js';

interface NodeObject {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}
interface NamespaceObject {
  metadata: { name: string; labels?: Record<string, string> };
}

/** `/etc/sysctl.conf` syntax: `key = value` per line or `;`, `#` comments; dots for slashes. */
export function parseSysctlAnnotation(text: string | undefined): Map<string, string> {
  const values = new Map<string, string>();
  for (const entry of (text ?? '').split(/[\n;]/)) {
    const line = entry.replace(/#.*/, '').trim();
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    values.set(line.slice(0, eq).trim().replaceAll('/', '.'), fold(line.slice(eq + 1)));
  }
  return values;
}

function fold(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

function key(values: Map<string, string>): string {
  return [...values].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('; ');
}

export function violations(pods: PodList['items'], nodes: NodeObject[], namespaces: NamespaceObject[]): string[] {
  const teamOfNamespace = new Map(namespaces.map((ns) => [ns.metadata.name, ns.metadata.labels?.[TEAM]]));
  const nodeByName = new Map(nodes.map((n) => [n.metadata.name, n]));
  const profilesOnNode = new Map<string, Set<string>>();
  const found: string[] = [];
  for (const pod of pods) {
    const nodeName = pod.spec.nodeName;
    if (!nodeName) continue;
    const where = `${pod.metadata.namespace}/${pod.metadata.name} on ${nodeName}`;
    const node = nodeByName.get(nodeName);
    if (!node) {
      found.push(`${where}: no such node`);
      continue;
    }
    const nodeTeam = node.metadata.labels?.[TEAM];
    if (nodeTeam !== undefined && nodeTeam !== teamOfNamespace.get(pod.metadata.namespace)) found.push(`${where}: invariant 1, node dedicated to team ${nodeTeam}`);
    const needs = parseSysctlAnnotation(pod.metadata.annotations?.[SYSCTLS]);
    const profile = new Map(needs);
    for (const s of pod.spec.securityContext?.sysctls ?? []) profile.set(s.name.replaceAll('/', '.'), fold(s.value));
    const seen = profilesOnNode.get(nodeName) ?? new Set<string>();
    seen.add(key(profile));
    profilesOnNode.set(nodeName, seen);
    if (seen.size > 1) found.push(`${where}: invariant 2, node runs profiles ${[...seen].map((p) => `[${p}]`).join(' and ')}`);
    if (needs.size > 0 && key(needs) !== key(parseSysctlAnnotation(node.metadata.annotations?.[SYSCTLS]))) found.push(`${where}: invariant 3, node does not declare exactly [${key(needs)}]`);
  }
  return found;
}
