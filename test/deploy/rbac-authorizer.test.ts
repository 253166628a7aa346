import { describe, expect, it } from 'vitest';
import { requestAttributes, ruleAllows } from './rbac-authorizer.js';

describe('the RBAC authorizer', () => {
  it('has teeth: rules, resource names, subresources, and the request mapping', () => {
    const lease = { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['sysctl-scheduler'], verbs: ['get', 'update'] };
    expect(ruleAllows(lease, { verb: 'get', group: 'coordination.k8s.io', resource: 'leases', name: 'sysctl-scheduler' })).toBe(true);
    expect(ruleAllows(lease, { verb: 'get', group: 'coordination.k8s.io', resource: 'leases', name: 'kube-scheduler' })).toBe(false);
    expect(ruleAllows(lease, { verb: 'create', group: 'coordination.k8s.io', resource: 'leases' })).toBe(false);
    const pods = { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] };
    expect(ruleAllows(pods, { verb: 'create', group: '', resource: 'pods/binding' })).toBe(false);
    expect(ruleAllows(pods, { verb: 'list', group: 'apps', resource: 'pods' })).toBe(false);
    expect(requestAttributes('POST', '/api/v1/namespaces/a/pods/p/binding')).toEqual({ verb: 'create', group: '', resource: 'pods/binding', namespace: 'a', name: 'p' });
    expect(requestAttributes('GET', '/api/v1/pods?watch=true&resourceVersion=5')).toEqual({ verb: 'watch', group: '', resource: 'pods', namespace: undefined, name: undefined });
    expect(requestAttributes('GET', '/api/v1/namespaces?limit=500')).toMatchObject({ verb: 'list', resource: 'namespaces', namespace: undefined });
    expect(requestAttributes('GET', '/api/v1/namespaces/kube-system/configmaps?fieldSelector=metadata.name%3Dp&watch=1')).toEqual({
      verb: 'watch',
      group: '',
      resource: 'configmaps',
      namespace: 'kube-system',
      name: 'p',
    });
    expect(requestAttributes('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l')).toMatchObject({ verb: 'update', group: 'coordination.k8s.io', name: 'l' });
  });
});
