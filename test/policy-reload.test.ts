import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, needsReindex, parsePolicy, policyDocument, type Policy } from '../src/config/policy.js';
import { PolicyConfigMapWatcher } from '../src/config/policy-configmap-watcher.js';
import { PolicyFileWatcher } from '../src/config/policy-file-watcher.js';
import { PolicyReloader } from '../src/config/policy-reloader.js';
import { createLogger } from '../src/logging.js';
import { allReady } from '../src/readiness.js';
import { FakeApiServer, kubeConfigFor } from '../support/fake-api-server.js';
import { waitFor } from './support/wait.js';

function reloaderFor(apply: (p: Policy) => Promise<void> = async () => {}) {
  let current: Policy = DEFAULT_POLICY;
  const registry = new Registry();
  const reloader = new PolicyReloader({
    source: 'test',
    current: () => current,
    apply: async (next) => {
      await apply(next);
      current = next;
    },
    logger: createLogger('silent'),
    registry,
  });
  return { reloader, registry, current: () => current };
}

describe('PolicyReloader', () => {
  it('applies a valid document whole', async () => {
    const { reloader, current, registry } = reloaderFor();
    await reloader.offer({ text: 'policy: compatible\nweights: {ownTeam: 9}\n' });
    expect(current()).toMatchObject({ ruleMode: 'compatible', weights: { ownTeam: 9, profileReuse: 6 } });
    expect(reloader.status.rejected).toBeUndefined();
    expect(await registry.metrics()).toMatch(/sysctl_extender_policy_reloads_total\{result="applied"\} 1/);
  });

  it.each([
    // Each beside a valid change (weights.profileReuse: 1) that must not slip through alone.
    ['an unknown policy', 'weights: {profileReuse: 1}\npolicy: lenient', /\/policy must be equal to one of the allowed values/],
    ['a negative weight', 'weights: {profileReuse: 1, ownTeam: -1}', /\/weights\/ownTeam must be >= 0/],
    ['an unknown field', 'weights: {profileReuse: 1}\npolcy: strict', /must NOT have additional properties/],
    ['a body limit below 64 KiB', 'weights: {profileReuse: 1}\nbodyLimitBytes: 10', /\/bodyLimitBytes must be >= 65536/],
    ['broken YAML', 'weights: {profileReuse: 1}\npolicy: [strict', /not valid YAML or JSON/],
    ['a document that is not a mapping', '- weights: {profileReuse: 1}', /must be object/],
  ])('refuses %s as a whole, keeping the previous policy, and says why', async (_name, text, reason) => {
    const { reloader, current, registry } = reloaderFor();
    await reloader.offer({ text: 'policy: compatible' });
    await reloader.offer({ text });
    expect(current()).toMatchObject({ ruleMode: 'compatible', weights: { profileReuse: 6 } });
    expect(reloader.status.rejected?.reason).toMatch(reason);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/sysctl_extender_policy_reloads_total\{result="rejected"\} 1/);
    expect(metrics).toMatch(/^sysctl_extender_policy_rejected 1$/m);
  });

  it('clears the rejection once a good document arrives', async () => {
    const { reloader, registry } = reloaderFor();
    await reloader.offer({ text: 'policy: nope' });
    await reloader.offer({ text: 'policy: compatible' });
    expect(reloader.status.rejected).toBeUndefined();
    expect(await registry.metrics()).toMatch(/^sysctl_extender_policy_rejected 0$/m);
  });

  it('refuses a change whose application fails, and retries the same document later', async () => {
    let fail = true;
    const { reloader, current } = reloaderFor(async () => {
      if (fail) throw new Error('rebuild timed out');
    });
    await reloader.offer({ text: 'keys: {teamLabel: example.com/team}' });
    expect(reloader.status.rejected?.reason).toBe('applying the policy failed: rebuild timed out');
    expect(current().keys.teamLabel).toBe('sysctl-extender.io/team');
    fail = false;
    await reloader.offer({ text: 'keys: {teamLabel: example.com/team}' });
    expect(current().keys.teamLabel).toBe('example.com/team');
  });

  it('keeps the policy when its source disappears, reporting it once', async () => {
    const { reloader, current, registry } = reloaderFor();
    await reloader.offer({ text: 'policy: compatible' });
    await reloader.offer({ missing: 'ConfigMap ns/x not found' });
    await reloader.offer({ missing: 'ConfigMap ns/x not found' });
    expect(current().ruleMode).toBe('compatible');
    expect(reloader.status.rejected?.reason).toBe('ConfigMap ns/x not found; keeping the policy in force');
    expect(await registry.metrics()).toMatch(/sysctl_extender_policy_reloads_total\{result="rejected"\} 1/);
  });

  it('reads the rule mode from the file key policy, and shows the policy in the file format, schema order', () => {
    const parsed = parsePolicy({ weights: { ownTeam: 1 }, policy: 'compatible' });
    expect(parsed.ruleMode).toBe('compatible');
    expect(JSON.stringify(policyDocument(parsed))).toBe(
      '{"policy":"compatible","weights":{"profileReuse":6,"ownTeam":1},"keys":{"teamLabel":"sysctl-extender.io/team","sysctlsAnnotation":"sysctl-extender.io/sysctls","allowedUnsafeSysctlsAnnotation":"sysctl-extender.io/allowed-unsafe-sysctls"},"extraSafeSysctls":[],"trustUndeclaredAllowList":false,"assumedPlacementTtlSeconds":30,"staleAfterSeconds":60,"bodyLimitBytes":104857600}',
    );
    expect(parsePolicy(policyDocument(parsed))).toEqual(parsed);
  });

  it('knows which changes need the index rebuilt', () => {
    expect(needsReindex(DEFAULT_POLICY, parsePolicy({ policy: 'compatible', weights: { ownTeam: 1 } }))).toBe(false);
    expect(needsReindex(DEFAULT_POLICY, parsePolicy({ keys: { teamLabel: 'x/y' } }))).toBe(true);
    expect(needsReindex(DEFAULT_POLICY, parsePolicy({ extraSafeSysctls: ['net.core.somaxconn'] }))).toBe(true);
    // The rules read it from the generation's policy, beside the index: no rebuild.
    expect(needsReindex(DEFAULT_POLICY, parsePolicy({ trustUndeclaredAllowList: true }))).toBe(false);
  });
});

describe('PolicyFileWatcher', () => {
  let dir: string;
  let watcher: PolicyFileWatcher | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'policy-'));
  });
  afterEach(() => {
    watcher?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows the symlink swap the kubelet does for a mounted ConfigMap', async () => {
    // The kubelet's layout: policy.yaml -> ..data/policy.yaml, ..data -> ..<timestamp>/
    const version = (n: number, text: string) => {
      mkdirSync(join(dir, `..v${n}`));
      writeFileSync(join(dir, `..v${n}`, 'policy.yaml'), text);
      symlinkSync(`..v${n}`, join(dir, `..data_tmp`));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    version(1, 'policy: strict');
    symlinkSync('..data/policy.yaml', join(dir, 'policy.yaml'));
    const { reloader, current } = reloaderFor();
    watcher = new PolicyFileWatcher(join(dir, 'policy.yaml'), (o) => reloader.offer(o), 50);
    watcher.start();
    version(2, 'policy: compatible');
    await waitFor(() => current().ruleMode === 'compatible', 'the swapped file applied', 2000);
    version(3, 'policy: [broken');
    await waitFor(() => reloader.status.rejected !== undefined, 'the broken file refused', 2000);
    expect(current().ruleMode).toBe('compatible');
  });

  it('reports a removed file and keeps the policy', async () => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, 'policy: compatible');
    const { reloader, current } = reloaderFor();
    watcher = new PolicyFileWatcher(file, (o) => reloader.offer(o), 50);
    await watcher.poll();
    rmSync(file);
    await watcher.poll();
    expect(current().ruleMode).toBe('compatible');
    expect(reloader.status.rejected?.reason).toMatch(/cannot read policy file .*policy\.yaml: ENOENT; keeping the policy in force/);
  });
});

describe('PolicyConfigMapWatcher', () => {
  it('is not ready before its first list, naming the ConfigMap; allReady gives the first reason', () => {
    const unread = new PolicyConfigMapWatcher(kubeConfigFor('http://127.0.0.1:9'), 'ns', 'policy', async () => {});
    expect(unread.check()).toEqual({ ready: false, reason: 'policy ConfigMap ns/policy not read yet' });
    expect(allReady(unread, { check: () => ({ ready: false, reason: 'index' }) }).check()).toEqual(unread.check());
    expect(allReady(undefined, { check: () => ({ ready: true }) }).check()).toEqual({ ready: true });
  });

  let api: FakeApiServer;
  let watcher: PolicyConfigMapWatcher | undefined;
  beforeEach(async () => {
    api = new FakeApiServer();
    await api.start();
  });
  afterEach(async () => {
    await watcher?.stop();
    await api.stop();
  });

  const configMap = (text: string | undefined, name = 'policy') => ({
    metadata: { name, namespace: 'kube-system' },
    data: text === undefined ? {} : { 'policy.yaml': text },
  });

  it('applies changes to the ConfigMap, refuses bad ones, and survives its deletion', async () => {
    api.create('configmaps', configMap('policy: compatible'));
    api.create('configmaps', configMap('policy: strict', 'unrelated'));
    const { reloader, current } = reloaderFor();
    watcher = new PolicyConfigMapWatcher(kubeConfigFor(api.url), 'kube-system', 'policy', (o) => reloader.offer(o), async () => {});
    watcher.start();
    await waitFor(() => watcher!.synced && current().ruleMode === 'compatible', 'first policy');

    api.update('configmaps', configMap('policy: compatible\nweights: {ownTeam: 7}'));
    await waitFor(() => current().weights.ownTeam === 7, 'updated policy');
    api.update('configmaps', configMap('unrelated', 'unrelated')); // another ConfigMap changes nothing
    api.update('configmaps', configMap('weights: {ownTeam: "seven"}'));
    await waitFor(() => reloader.status.rejected !== undefined, 'invalid policy refused');
    expect(reloader.status.rejected?.reason).toMatch(/\/weights\/ownTeam must be number/);
    expect(current().weights.ownTeam).toBe(7);

    api.update('configmaps', configMap(undefined));
    await waitFor(() => /has no key policy\.yaml/.test(reloader.status.rejected?.reason ?? ''), 'missing key reported');
    api.remove('configmaps', 'kube-system', 'policy');
    await waitFor(() => /ConfigMap kube-system\/policy not found/.test(reloader.status.rejected?.reason ?? ''), 'deletion reported');
    expect(current()).toMatchObject({ ruleMode: 'compatible', weights: { ownTeam: 7 } });
  });
});
