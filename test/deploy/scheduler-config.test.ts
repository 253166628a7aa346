/**
 * The KubeSchedulerConfiguration kube-scheduler mounts: only v1 fields, one profile, one
 * extender, and the verbs it names are the ones the extender serves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/config/policy.js';
import { Extender } from '../../src/extender.js';
import { StaticReadiness } from '../support/readiness.js';
import { listen, type Listening } from '../../src/http/serve.js';
import { post } from '../support/http.js';
import type { Json } from './manifests.js';
import { deployment, extenderArgv, extenderHost, extenderPort, extenderStanza, extenders, flag, mountedConfig, schedulerConfig, schedulerConfigDoc, schedulerConfigText, schedulerContainer } from './objects.js';
import { ruleAllows, rulesFor, serviceAccountOf } from './rbac-authorizer.js';
import { goDurationMs, schedulerConfigProblems } from './scheduler-config-schema.js';

describe('the KubeSchedulerConfiguration', () => {
  it('is the ConfigMap data that kube-scheduler --config reads, and has only kubescheduler.config.k8s.io/v1 fields', () => {
    expect(mountedConfig(schedulerContainer).configMap.metadata.name).toBe('sysctl-scheduler-config');
    expect([...schedulerConfigDoc.errors, ...schedulerConfigDoc.warnings]).toEqual([]);
    expect(schedulerConfigProblems(schedulerConfig)).toEqual([]);
  });

  it('the field check catches a misspelt field, a bad duration and a weightless prioritize verb', () => {
    const broken = structuredClone(schedulerConfig);
    broken.extenders[0].nodeCacheCapabel = true;
    broken.extenders[0].httpTimeout = '10 seconds';
    delete broken.extenders[0].weight;
    const problems = schedulerConfigProblems(broken).join('\n');
    expect(problems).toMatch(/must NOT have additional properties.*nodeCacheCapabel/);
    expect(problems).toMatch(/httpTimeout must match pattern/);
    expect(problems).toMatch(/must have required property 'weight'/);
  });

  it('has one profile, sysctl-scheduler, so that pods opt in by schedulerName and the default scheduler keeps its own', () => {
    // Extenders apply to every profile of a scheduler: a default-scheduler profile here would
    // route every ordinary pod through the extender, and fight the real default scheduler.
    expect((schedulerConfig.profiles as Json[]).map((p) => p.schedulerName)).toEqual(['sysctl-scheduler']);
  });

  it('scores every feasible node, so the extender is never shown only a sample', () => {
    expect(schedulerConfig.percentageOfNodesToScore).toBe(100);
    for (const profile of schedulerConfig.profiles as Json[]) {
      expect(profile.percentageOfNodesToScore ?? schedulerConfig.percentageOfNodesToScore).toBe(100);
    }
    // The reason is written beside the setting, for whoever is tempted to lower it.
    const comment = schedulerConfigText.slice(0, schedulerConfigText.indexOf('percentageOfNodesToScore: 100'));
    expect(comment.slice(comment.lastIndexOf('\n\n'))).toMatch(/sample/);
  });

  it('elects one leader on a Lease of its own that the RBAC lets it renew', () => {
    const election: Json = schedulerConfig.leaderElection;
    expect(election.leaderElect).toBe(true);
    expect(election.resourceName).toBeTruthy();
    // kube-scheduler is the default scheduler's Lease: sharing it, one of the two would idle.
    expect(election.resourceName).not.toBe('kube-scheduler');
    const leaseNamespace: string = election.resourceNamespace ?? 'kube-system';
    const allowed = (verb: string) =>
      rulesFor(serviceAccountOf(deployment), leaseNamespace).some((rule) =>
        ruleAllows(rule, { verb, group: 'coordination.k8s.io', resource: 'leases', namespace: leaseNamespace, name: election.resourceName }),
      );
    expect(allowed('get')).toBe(true);
    expect(allowed('update')).toBe(true);
    // Lease creation comes from system:kube-scheduler, bound below.
  });

  it('has one extender that filters, prioritizes, preempts and binds, caches nodes, is not ignorable, and is sent every pod', () => {
    expect(extenders).toHaveLength(1);
    expect(extenderStanza).toMatchObject({
      filterVerb: expect.any(String),
      prioritizeVerb: expect.any(String),
      preemptVerb: expect.any(String),
      bindVerb: expect.any(String),
      nodeCacheCapable: true,
      ignorable: false,
    });
    expect(extenderStanza.weight).toBeGreaterThanOrEqual(1);
    // With managedResources listed, pods requesting none of them would skip the extender.
    expect(extenderStanza.managedResources ?? []).toEqual([]);
  });

  it('gives up on a hung extender within the extender\'s own request timeout (30 s)', () => {
    const timeout = goDurationMs(extenderStanza.httpTimeout as string);
    expect(timeout).toBeGreaterThanOrEqual(1000);
    expect(timeout).toBeLessThanOrEqual(30_000);
    expect(goDurationMs('1m30s')).toBe(90_000); // the parser itself
  });

  it('reaches the sidecar on loopback, at the port it listens on, over HTTPS exactly when it serves HTTPS', () => {
    const url = new URL(extenderStanza.urlPrefix as string);
    const tls = flag(extenderArgv, '--tls-cert') !== undefined;
    expect(url.protocol).toBe(tls ? 'https:' : 'http:');
    expect(extenderStanza.enableHTTPS ?? false).toBe(tls);
    expect(url.hostname).toBe('127.0.0.1');
    expect(extenderHost).toBe(url.hostname);
    expect(Number(url.port)).toBe(extenderPort);
    expect(url.search).toBe('');
  });
});

describe('the extender serves the configured verbs', () => {
  let listening: Listening;
  beforeAll(async () => {
    const readiness = new StaticReadiness();
    const extender = new Extender({ policy: DEFAULT_POLICY, readiness });
    readiness.markLoaded();
    listening = await listen(extender.app, '127.0.0.1', 0);
  });
  afterAll(() => listening.close());

  /** The URL kube-scheduler calls (pkg/scheduler/extender.go: urlPrefix + "/" + verb), on the test's port. */
  function verbUrl(verb: string): string {
    const url = new URL(extenderStanza.urlPrefix as string);
    url.port = String(listening.port);
    return `${url.toString().replace(/\/+$/, '')}/${verb}`;
  }

  it.each(['filterVerb', 'prioritizeVerb', 'bindVerb', 'preemptVerb'])('%s: a bad body is refused (400), not an unknown path (404)', async (field) => {
    const verb = extenderStanza[field] as string;
    expect(verb).toMatch(/^[a-z]+$/);
    const answer = await post(verbUrl(verb), '{}');
    expect(answer.status, `${verbUrl(verb)}: ${answer.text}`).toBe(400);
  });

  it('an unserved verb would show as 404', async () => {
    expect((await post(verbUrl('filterx'), '{}')).status).toBe(404);
  });
});
