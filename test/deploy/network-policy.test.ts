/** The NetworkPolicy: ingress to the ops listener alone. */
import { describe, expect, it } from 'vitest';
import { only, type Json } from './manifests.js';
import { containerPortOf, deployment, extenderContainer, metricsPort } from './objects.js';

describe('the NetworkPolicy', () => {
  const policy = only('NetworkPolicy');

  it("selects the Deployment's pods, in its namespace, and restricts ingress only (egress must reach the API server)", () => {
    expect(policy.metadata.namespace).toBe(deployment.metadata.namespace);
    expect(Object.keys(policy.spec.podSelector.matchLabels ?? {})).not.toEqual([]);
    expect(deployment.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(policy.spec.podSelector.matchExpressions ?? []).toEqual([]);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
  });

  it("admits ingress to the extender's ops listener alone: no rule without ports, no port but metrics", () => {
    const rules = policy.spec.ingress as Json[];
    expect(rules.length).toBeGreaterThan(0);
    // A rule without ports admits every port, the verbs' included.
    expect(rules.filter((rule) => (rule.ports ?? []).length === 0)).toEqual([]);
    const admitted = rules.flatMap((rule) => rule.ports as Json[]).map((p) => `${p.protocol ?? 'TCP'} ${containerPortOf(extenderContainer, p.port)}${p.endPort ? `-${p.endPort}` : ''}`);
    expect(admitted).toEqual([`TCP ${metricsPort}`]);
  });
});
