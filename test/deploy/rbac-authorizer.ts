/**
 * A small RBAC authorizer over the manifests' Roles and bindings, and the attributes the API
 * server derives from a request's method and URL.
 */
import { find, type Json, type KubeObject } from './manifests.js';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** What RBAC authorizes on: the resource includes its subresource, e.g. `pods/binding`. */
export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
}

export function ruleAllows(rule: PolicyRule, request: RequestAttributes): boolean {
  const names = rule.resourceNames ?? [];
  return (
    rule.verbs.some((v) => v === '*' || v === request.verb) &&
    (rule.apiGroups ?? []).some((g) => g === '*' || g === request.group) &&
    (rule.resources ?? []).some((r) => r === '*' || r === request.resource) &&
    (names.length === 0 || (request.name !== undefined && names.includes(request.name)))
  );
}

export interface Subject {
  name: string;
  namespace: string;
}

export function serviceAccountOf(d: KubeObject): Subject {
  return { name: d.spec.template.spec.serviceAccountName, namespace: d.metadata.namespace ?? 'default' };
}

export function binds(binding: KubeObject, subject: Subject): boolean {
  return ((binding.subjects ?? []) as Json[]).some(
    (s) => s.kind === 'ServiceAccount' && s.name === subject.name && s.namespace === subject.namespace,
  );
}

/**
 * The rules of the Roles and ClusterRoles defined here that apply to `subject` in `namespace`
 * (undefined: cluster-scoped or all namespaces). Built-in roles bound by name are not here:
 * they are the cluster's, and nothing below relies on them.
 */
export function rulesFor(subject: Subject, namespace: string | undefined): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const binding of find('ClusterRoleBinding').filter((b) => binds(b, subject))) {
    for (const role of find('ClusterRole', binding.roleRef.name)) rules.push(...(role.rules as PolicyRule[]));
  }
  if (namespace === undefined) return rules;
  for (const binding of find('RoleBinding').filter((b) => binds(b, subject) && b.metadata.namespace === namespace)) {
    const roles =
      binding.roleRef.kind === 'ClusterRole'
        ? find('ClusterRole', binding.roleRef.name)
        : find('Role', binding.roleRef.name).filter((r) => r.metadata.namespace === namespace);
    for (const role of roles) rules.push(...(role.rules as PolicyRule[]));
  }
  return rules;
}

/** The RBAC attributes of an API request, as the API server derives them from method and URL. */
export function requestAttributes(method: string, rawUrl: string): RequestAttributes | undefined {
  const url = new URL(rawUrl, 'http://api.invalid');
  const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) [group, rest] = ['', parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 3) [group, rest] = [parts[1]!, parts.slice(3)];
  else return undefined;
  // /namespaces/NS/RESOURCE[/NAME[/SUB]], else RESOURCE[/NAME[/SUB]] (namespaces itself included).
  const [namespace, resource, name, subresource] = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(1) : [undefined, ...rest];
  if (resource === undefined) return undefined;
  const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
  const verbs: Record<string, string> = {
    GET: name !== undefined ? 'get' : watch ? 'watch' : 'list',
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: name !== undefined ? 'delete' : 'deletecollection',
  };
  const verb = verbs[method];
  if (!verb) return undefined;
  // A list or watch narrowed to one object by name is matched against resourceNames.
  const byField = /(?:^|,)metadata\.name==?([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
  return { verb, group, resource: subresource ? `${resource}/${subresource}` : resource, namespace, name: name ?? byField };
}

export function permission(a: RequestAttributes): string {
  return `${a.verb} ${a.group === '' ? 'core' : a.group}/${a.resource}`;
}
