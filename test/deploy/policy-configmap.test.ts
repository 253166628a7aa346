/** The policy ConfigMap the extender mounts: read by the extender's own loader, every knob spelt out. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { DEFAULT_POLICY, loadPolicyFile, parsePolicy, PolicyError } from '../../src/config/policy.js';
import policySchema from '../../src/config/policy.schema.json' with { type: 'json' };
import type { Json } from './manifests.js';
import { extenderContainer, mountedConfig } from './objects.js';

describe('the policy ConfigMap', () => {
  it('is mounted where --config points, and its policy passes the policy schema', () => {
    const { configMap, key, text } = mountedConfig(extenderContainer);
    expect(configMap.metadata.name).toBe('sysctl-extender-policy');
    // Through the extender's own loader, as it reads the mounted file.
    const file = join(mkdtempSync(join(tmpdir(), 'policy-')), key);
    writeFileSync(file, text);
    const policy = loadPolicyFile(file);
    expect(policy.ruleMode).toBe('strict');
    // The loader has teeth: an unknown knob is refused.
    writeFileSync(file, `${text}\nbogusKnob: 1\n`);
    expect(() => loadPolicyFile(file)).toThrow(PolicyError);
  });

  it('spells out every knob of the schema, at its default', () => {
    const document = parseDocument(mountedConfig(extenderContainer).text).toJS() as Json;
    expect(Object.keys(document).sort()).toEqual(Object.keys(policySchema.properties).sort());
    expect(parsePolicy(document)).toEqual(DEFAULT_POLICY);
  });
});
