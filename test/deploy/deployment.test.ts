/**
 * The Deployment: the extender a native sidecar of kube-scheduler, its flags those its CLI
 * defines, the verbs on loopback and the ops listener alone exposed, the probes working as the
 * kubelet runs them, everything unprivileged.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/config/policy.js';
import { Extender } from '../../src/extender.js';
import { StaticReadiness } from '../support/readiness.js';
import { listen, type Listening } from '../../src/http/serve.js';
import { youngGenerationOptions } from '../../support/deployment-node-options.js';
import { post } from '../support/http.js';
import { kubeletProbe } from './kubelet-probe.js';
import { only, type Json } from './manifests.js';
import {
  MAIN_TS,
  allContainers,
  cliDefault,
  containerPortOf,
  deployment,
  extenderArgv,
  extenderContainer,
  extenderHost,
  extenderPort,
  extenderStanza,
  metricsHost,
  metricsPort,
  packageJson,
  podSpec,
  schedulerConfig,
  schedulerContainer,
} from './objects.js';

describe('the Deployment', () => {
  it('runs the extender as a native sidecar of kube-scheduler, so it starts first and stops last', () => {
    expect((podSpec.initContainers as Json[]).map((c) => c.name)).toEqual(['sysctl-extender']);
    expect(extenderContainer.restartPolicy).toBe('Always');
    expect(extenderContainer.startupProbe).toBeDefined();
    expect((podSpec.containers as Json[]).map((c) => c.name)).toEqual(['kube-scheduler']);
    expect(schedulerContainer.image).toMatch(/^registry\.k8s\.io\/kube-scheduler:v1\.(\d+)\.\d+$/);
    expect(Number(/:v1\.(\d+)/.exec(schedulerContainer.image as string)![1])).toBeGreaterThanOrEqual(29);
  });

  it('keeps the verbs on loopback and exposes the ops listener only: one containerPort, metrics, at --metrics-port', () => {
    expect(extenderHost).toBe('127.0.0.1');
    expect(extenderContainer.ports).toEqual([{ name: 'metrics', containerPort: metricsPort, protocol: 'TCP' }]);
    for (const port of [extenderPort, metricsPort]) expect(Number.isInteger(port) && port > 0 && port < 65536, String(port)).toBe(true);
    expect(metricsPort).not.toBe(extenderPort);
    // kube-scheduler's secure port, in the same network namespace.
    expect([extenderPort, metricsPort]).not.toContain(10259);
    // The kubelet probes, and Prometheus scrapes, the pod IP: the ops listener must be on it.
    expect(['0.0.0.0', '::']).toContain(metricsHost);
    expect(cliDefault('--host')).toBe('127.0.0.1'); // the reader of main.ts's defaults works
  });

  it('starts the extender with flags its CLI defines, watching the cluster in-cluster', () => {
    const defined = new Set([...MAIN_TS.matchAll(/\.option\('(--[a-z-]+)/g)].map((m) => m[1]));
    expect(defined).toContain('--metrics-port');
    const used = extenderArgv.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]);
    expect(used.filter((f) => !defined.has(f))).toEqual([]);
    expect(used).toEqual(expect.arrayContaining(['--host', '--port', '--metrics-port', '--config']));
    // No --snapshot, --demo or --kubeconfig: the pod's service account is used.
    expect(used.filter((f) => ['--snapshot', '--demo', '--kubeconfig'].includes(f!))).toEqual([]);
  });

  it('runs Node with a small young generation, the same under npm start and in the Deployment', () => {
    const env = (extenderContainer.env ?? []) as Array<{ name?: string; value?: string }>;
    const nodeOptions = env.find((e) => e.name === 'NODE_OPTIONS')?.value?.split(/\s+/) ?? [];
    const semiSpace = nodeOptions.filter((f) => f.startsWith('--max-semi-space-size='));
    expect(semiSpace).toEqual(['--max-semi-space-size=4']);
    expect(packageJson.scripts.start!.split(/\s+/)).toContain(semiSpace[0]);
    // The bench runs every server under test with it (support/deployment-node-options.ts).
    expect(youngGenerationOptions()).toEqual(semiSpace);
  });


  it('probes the extender with httpGet on its ops listener: /readyz to start and be ready, /healthz to live', () => {
    const target = (probe: Json | undefined) => {
      expect(probe?.exec).toBeUndefined();
      const get: Json | undefined = probe?.httpGet;
      // No host: the pod IP, where the ops listener is (a host would be the node's, not the pod's).
      expect(get?.host).toBeUndefined();
      expect(get?.scheme ?? 'HTTP').toBe('HTTP');
      return `${containerPortOf(extenderContainer, get?.port)} ${get?.path}`;
    };
    expect(target(extenderContainer.startupProbe)).toBe(`${metricsPort} /readyz`);
    expect(target(extenderContainer.readinessProbe)).toBe(`${metricsPort} /readyz`);
    expect(target(extenderContainer.livenessProbe)).toBe(`${metricsPort} /healthz`);
  });

  it("is annotated for Prometheus to scrape the ops listener's /metrics", () => {
    const annotations: Record<string, unknown> = deployment.spec.template.metadata.annotations ?? {};
    // Strings, as the API requires: a bare true or 9090 in the YAML would be refused.
    expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metricsPort), 'prometheus.io/path': '/metrics' });
    expect(containerPortOf(extenderContainer, 'metrics')).toBe(Number(annotations['prometheus.io/port']));
  });

  it('probes kube-scheduler on its secure port: /healthz to live, /readyz to be ready', () => {
    expect(schedulerContainer.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 10259, scheme: 'HTTPS' });
    expect(schedulerContainer.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 10259, scheme: 'HTTPS' });
  });

  describe("the extender's probes, as the kubelet runs them, against a real extender's ops listener", () => {
    let readiness: StaticReadiness;
    let ops: Listening;
    beforeAll(async () => {
      readiness = new StaticReadiness(); // not loaded yet: the index is still being built
      const extender = new Extender({ policy: DEFAULT_POLICY, readiness });
      // What --metrics-port serves (src/main.ts).
      ops = await listen(extender.opsApp, '127.0.0.1', 0);
    });
    afterAll(() => ops.close());

    it('startup and readiness fail (503) while the index loads, pass (200) once it is loaded; liveness passes throughout', async () => {
      const ports = { [metricsPort]: ops.port };
      expect(await kubeletProbe(extenderContainer.startupProbe, ports)).toEqual({ success: false, status: 503 });
      expect(await kubeletProbe(extenderContainer.readinessProbe, ports)).toEqual({ success: false, status: 503 });
      // No restart loop while a large cluster is listed.
      expect(await kubeletProbe(extenderContainer.livenessProbe, ports)).toEqual({ success: true, status: 200 });
      readiness.markLoaded();
      expect(await kubeletProbe(extenderContainer.startupProbe, ports)).toEqual({ success: true, status: 200 });
      expect(await kubeletProbe(extenderContainer.readinessProbe, ports)).toEqual({ success: true, status: 200 });
      expect(await kubeletProbe(extenderContainer.livenessProbe, ports)).toEqual({ success: true, status: 200 });
    });

    it('every probe fails with nothing listening, so a dead extender is restarted', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        expect(await kubeletProbe(extenderContainer[probe], { [metricsPort]: port }), probe).toEqual({ success: false });
      }
    });

    it("serves Prometheus' scrape path, and none of the verbs kube-scheduler is configured with (404)", async () => {
      const annotations: Record<string, string> = deployment.spec.template.metadata.annotations;
      const scrape = await fetch(`http://127.0.0.1:${ops.port}${annotations['prometheus.io/path']}`);
      expect(scrape.status).toBe(200);
      expect(scrape.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await scrape.text()).toMatch(/^# TYPE sysctl_extender_\w+/m);
      for (const field of ['filterVerb', 'prioritizeVerb', 'preemptVerb', 'bindVerb']) {
        const verb = extenderStanza[field] as string;
        expect((await post(`http://127.0.0.1:${ops.port}/${verb}`, '{}')).status, verb).toBe(404);
      }
    });
  });

  it('is placed by the default scheduler, selects its own pods, and a PodDisruptionBudget keeps one', () => {
    expect(podSpec.schedulerName ?? 'default-scheduler').toBe('default-scheduler');
    const labels: Record<string, string> = deployment.spec.template.metadata.labels;
    expect(labels).toMatchObject(deployment.spec.selector.matchLabels);
    const pdb = only('PodDisruptionBudget');
    expect(pdb.metadata.namespace).toBe(deployment.metadata.namespace);
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
  });

  it('has more than one replica only with leader election on (one scheduler binds)', () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(1);
    if (deployment.spec.replicas > 1) expect(schedulerConfig.leaderElection.leaderElect).toBe(true);
  });

  it('runs every container unprivileged: non-root, no privilege escalation, no capabilities, read-only root', () => {
    expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(podSpec.securityContext.runAsUser).toBeGreaterThan(0);
    expect(podSpec.hostNetwork ?? false).toBe(false);
    for (const c of allContainers) {
      expect(c.securityContext, c.name).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(c.securityContext.privileged ?? false, c.name).toBe(false);
    }
  });
});
