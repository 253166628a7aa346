/** deploy/scheduler-config: every manifest parsed and valid against the Kubernetes API schemas. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { schemaProblems, unknownFields } from './api-schema.js';
import { DEPLOY, KUBE_YAML, describeObject, manifestFiles, manifests, type Json } from './manifests.js';
import { deployment } from './objects.js';

describe('deploy/scheduler-config manifests', () => {
  it('parse as YAML into Kubernetes objects, each named once', () => {
    expect(manifestFiles()).toEqual(['deployment.yaml', 'kube-scheduler-config.yaml', 'networkpolicy.yaml', 'policy-configmap.yaml', 'rbac.yaml']);
    expect(manifests.length).toBeGreaterThanOrEqual(11);
    for (const m of manifests) {
      expect(m.object.apiVersion, m.file).toMatch(/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/);
      expect(m.object.kind, m.file).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(m.object.metadata?.name, m.file).toMatch(/^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$/);
    }
    const keys = manifests.map((m) => describeObject(m));
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it('are all listed in kustomization.yaml, and it lists nothing else', () => {
    const kustomization = parseDocument(readFileSync(join(DEPLOY, 'kustomization.yaml'), 'utf8'), KUBE_YAML).toJS() as Json;
    expect(kustomization.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(kustomization.kind).toBe('Kustomization');
    expect([...(kustomization.resources as string[])].sort()).toEqual(manifestFiles());
  });

  it.each(manifests.map((m) => ({ ...m, name: describeObject(m) })))('$name ($file) is valid against the Kubernetes API schema', async ({ object }) => {
    expect(await schemaProblems(object)).toEqual([]);
    expect(unknownFields(object)).toEqual([]);
  });

  it('the schema checks catch a wrong type, a missing required field and a misspelt field', async () => {
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].ports = [{ containerPort: '10259' }];
    delete broken.spec.selector;
    broken.spec.template.spec.serviceAcountName = 'typo';
    const problems = (await schemaProblems(broken)).join('\n');
    expect(problems).toMatch(/containerPort must be integer/);
    expect(problems).toMatch(/spec must have required property '?selector'?/);
    expect(unknownFields(broken)).toEqual(['.spec.template.spec.serviceAcountName']);
  });
});
