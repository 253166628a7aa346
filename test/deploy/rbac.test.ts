/**
 * The extender's RBAC grants exactly the API calls src/ makes: derived from the source, and
 * watched at run time from the built extender against an API server that enforces the
 * manifests' rules.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeApiServer } from '../../support/fake-api-server.js';
import { post } from '../support/http.js';
import { namespace, node, pod } from '../support/objects.js';
import { waitFor } from '../support/wait.js';
import { execForm, instructions, parseDockerfile } from './dockerfile.js';
import { kubeletProbe } from './kubelet-probe.js';
import { ROOT, SRC, find, only } from './manifests.js';
import { deployment, extenderArgv, extenderContainer, extenderStanza, flag, metricsPort, mountedConfig, podSpec } from './objects.js';
import { binds, permission, requestAttributes, ruleAllows, rulesFor, serviceAccountOf, type PolicyRule, type RequestAttributes } from './rbac-authorizer.js';
import { derivedCalls, scanSource, sourceFiles, type DerivedCall, type SourceScan } from './source-api-calls.js';

const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

const EXTENDER_ROLE = 'sysctl-extender';

/**
 * Source files whose API calls happen only when a flag is given, and then on the one object the
 * flag names (NAMESPACE/NAME): they need rights only if the Deployment passes the flag, and then
 * only a Role in that namespace scoped to that name.
 */
const FLAG_GATED: Record<string, string> = {
  'src/config/policy-configmap-watcher.ts': '--config-map',
};

describe('RBAC', () => {
  const subject = serviceAccountOf(deployment);
  let scan: SourceScan;
  let calls: DerivedCall[];
  /** The calls the Deployment's extender makes, with the flags it is given. */
  let needed: DerivedCall[];
  beforeAll(async () => {
    scan = scanSource();
    calls = await derivedCalls(scan);
    needed = calls.flatMap((c) => {
      const gate = FLAG_GATED[c.where];
      if (!gate) return [c];
      const ref = flag(extenderArgv, gate);
      if (!ref) return [];
      const [namespace, name] = ref.split('/');
      return [{ ...c, attributes: { ...c.attributes, namespace, name } }];
    });
  }, 300_000); // bounded by its work, not by time: a busy machine takes several times the idle time

  it('the pod runs as the ServiceAccount defined here, in its namespace', () => {
    const account = only('ServiceAccount', subject.name);
    expect(account.metadata.namespace).toBe(subject.namespace);
    expect(podSpec.automountServiceAccountToken ?? true).toBe(true); // both containers call the API
  });

  it("binds kube-scheduler's built-in roles to it, as the docs' recipe for a second scheduler does", () => {
    const clusterRoles = find('ClusterRoleBinding')
      .filter((b) => binds(b, subject))
      .map((b) => `${b.roleRef.kind} ${b.roleRef.name}`);
    expect(clusterRoles).toEqual(expect.arrayContaining(['ClusterRole system:kube-scheduler', 'ClusterRole system:volume-scheduler']));
    const reader = find('RoleBinding').filter((b) => binds(b, subject) && b.roleRef.name === 'extension-apiserver-authentication-reader');
    expect(reader.map((b) => `${b.metadata.namespace} ${b.roleRef.kind}`)).toEqual(['kube-system Role']);
  });

  it('derives the API calls from src/, including the list, watch and bind calls the extender is known to make', () => {
    // If src/ reaches the API in a way this scan cannot follow, say so rather than pass.
    expect(scan.unaccounted).toEqual([]);
    const permissions = new Set(calls.map((c) => permission(c.attributes)));
    const known = ['list core/nodes', 'watch core/nodes', 'list core/namespaces', 'watch core/namespaces', 'list core/pods', 'watch core/pods', 'create core/pods/binding', 'list apps/daemonsets', 'watch apps/daemonsets'];
    expect(known.filter((p) => !permissions.has(p))).toEqual([]);
    for (const [file, gate] of Object.entries(FLAG_GATED)) {
      expect(sourceFiles(SRC).map((f) => f.slice(ROOT.length + 1)), `FLAG_GATED names ${file}`).toContain(file);
      expect(readFileSync(join(SRC, 'main.ts'), 'utf8'), `FLAG_GATED names ${gate}`).toContain(`'${gate} `);
    }
  });

  it("the extender's ClusterRole, bound cluster-wide, grants every call it makes across namespaces", () => {
    const role = only('ClusterRole', EXTENDER_ROLE);
    expect(find('ClusterRoleBinding').some((b) => b.roleRef.kind === 'ClusterRole' && b.roleRef.name === EXTENDER_ROLE && binds(b, subject))).toBe(true);
    // Pods of every namespace: only a cluster-wide grant will do, so namespace and name are left out.
    const crossNamespace = needed.filter((c) => !FLAG_GATED[c.where]);
    const missing = crossNamespace.filter((c) => !(role.rules as PolicyRule[]).some((rule) => ruleAllows(rule, { ...c.attributes, namespace: undefined, name: undefined })));
    expect(missing.map((c) => `${permission(c.attributes)} (${c.call}, ${c.where})`)).toEqual([]);
  });

  it('calls made only under a flag are granted, if the Deployment passes it, on exactly the object it names', () => {
    const gated = needed.filter((c) => FLAG_GATED[c.where]);
    const missing = gated.filter((c) => !rulesFor(subject, c.attributes.namespace).some((rule) => ruleAllows(rule, c.attributes)));
    expect(missing.map((c) => `${permission(c.attributes)} ${c.attributes.namespace}/${c.attributes.name} (${c.call}, ${c.where})`)).toEqual([]);
  });

  it("the extender's ClusterRole grants nothing the extender does not use, and no wildcard", () => {
    const used = new Set(needed.filter((c) => !FLAG_GATED[c.where]).map((c) => permission(c.attributes)));
    const granted: string[] = [];
    for (const rule of only('ClusterRole', EXTENDER_ROLE).rules as PolicyRule[]) {
      expect(rule.resourceNames ?? []).toEqual([]);
      for (const verb of rule.verbs) for (const group of rule.apiGroups ?? []) for (const resource of rule.resources ?? []) granted.push(permission({ verb, group, resource }));
    }
    expect(granted.filter((g) => g.includes('*'))).toEqual([]);
    expect(granted.filter((g) => !used.has(g))).toEqual([]);
    expect(new Set(granted)).toEqual(used);
  });


  describe("the built extender, started as the image's entrypoint with the Deployment's args, against an API server enforcing this RBAC", () => {
    // The image's WORKDIR holds what the repository root does after `npm run build`.
    const entrypoint = execForm(instructions(parseDockerfile(DOCKERFILE).at(-1)!, 'ENTRYPOINT').at(-1)) ?? [];
    const MAIN = join(ROOT, entrypoint[1] ?? 'dist/main.js');
    let api: FakeApiServer;
    let proxy: http.Server;
    let child: ChildProcess | undefined;
    const seen: Array<{ request: string; attributes?: RequestAttributes; allowed: boolean }> = [];

    beforeAll(async () => {
      api = new FakeApiServer();
      const { url: upstream } = await api.start();
      // Answers 403 as the API server would for what the rules do not allow; forwards the rest.
      proxy = http.createServer((req, res) => {
        const attributes = requestAttributes(req.method ?? '', req.url ?? '');
        const allowed = attributes !== undefined && rulesFor(subject, attributes.namespace).some((rule) => ruleAllows(rule, attributes));
        seen.push({ request: `${req.method} ${req.url}`, attributes, allowed });
        if (!allowed) {
          const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, message: `forbidden: ${req.method} ${req.url}` };
          res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify(status));
          return;
        }
        const forward = http.request(new URL(req.url ?? '/', upstream), { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.flushHeaders(); // a watch answers its headers at once, before any event
          answer.pipe(res);
        });
        forward.on('error', () => res.destroy());
        res.on('close', () => forward.destroy());
        req.pipe(forward);
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    });

    afterAll(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      });
      await api.stop();
    });

    it('lists, watches and binds with no request refused, makes no request the source scan missed, and answers the probes on the ops listener only', async () => {
      expect(entrypoint[0]).toBe('node'); // run here as process.execPath
      const newestSource = Math.max(...sourceFiles(SRC).map((f) => statSync(f).mtimeMs));
      expect(existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestSource, 'dist/ is older than src/: run `npm run build` (npm test does)').toBe(true);

      const ns = api.create('namespaces', namespace('team-a', 'a'));
      api.create('nodes', node('n1', { team: 'a' }));
      const pending = api.create('pods', pod('team-a', 'web'));
      // A ConfigMap the extender might read with --config-map: it must be where the flag says.
      const configMapRef = flag(extenderArgv, '--config-map');
      if (configMapRef) {
        const [cmNamespace, cmName] = configMapRef.split('/');
        if (cmNamespace !== ns.metadata.name) api.create('namespaces', namespace(cmNamespace!));
        api.create('configmaps', { metadata: { name: cmName, namespace: cmNamespace }, data: { 'policy.yaml': mountedConfig(extenderContainer).text } });
      }

      // The Deployment's command line, with a kubeconfig for the test's API server instead of
      // the in-cluster service account, the mounted files at temporary paths, free ports, and
      // the ops listener on loopback (the wildcard would open it on every interface of the
      // machine running the tests; 127.0.0.1 stands in for the pod IP).
      const dir = mkdtempSync(join(tmpdir(), 'deploy-'));
      const kubeconfig = join(dir, 'kubeconfig');
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      writeFileSync(
        kubeconfig,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'test', cluster: { server: proxyUrl, 'insecure-skip-tls-verify': true } }],
          users: [{ name: 'sysctl-scheduler', user: { token: 'test' } }],
          contexts: [{ name: 'test', context: { cluster: 'test', user: 'sysctl-scheduler' } }],
          'current-context': 'test',
        }),
      );
      const args = extenderArgv.map((arg) => {
        if (arg.startsWith('--port=')) return '--port=0';
        if (arg.startsWith('--metrics-port=')) return '--metrics-port=0';
        if (arg.startsWith('--metrics-host=')) return '--metrics-host=127.0.0.1';
        if (arg.startsWith('--config=')) {
          const { key, text } = mountedConfig(extenderContainer);
          writeFileSync(join(dir, key), text);
          return `--config=${join(dir, key)}`;
        }
        return arg;
      });
      expect(args.filter((a) => !/^--[a-z-]+=/.test(a))).toEqual([]); // every flag in --name=value form
      expect(args).toContain('--metrics-port=0');
      if (!args.some((a) => a.startsWith('--metrics-host='))) args.push('--metrics-host=127.0.0.1');
      child = spawn(process.execPath, [MAIN, ...args, `--kubeconfig=${kubeconfig}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, KUBECONFIG: '', LOG_LEVEL: 'info' },
      });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d));
      child.stderr!.on('data', (d: Buffer) => (output += d));
      // The two listening lines (src/main.ts): the verbs', then the ops listener's.
      const listening = (msg: string) => new RegExp(`"url":"(http://[^"]+)","port":(\\d+),"msg":"${msg}`).exec(output);
      await waitFor(() => (listening('listening on') !== null && listening('serving metrics') !== null) || child!.exitCode !== null, 'the listening lines');
      const url = listening('listening on')?.[1];
      const opsUrl = listening('serving metrics')?.[1];
      expect(url, output).toBeDefined();
      expect(opsUrl, output).toBeDefined();
      expect(opsUrl).not.toBe(url);
      const ports = { [metricsPort]: Number(listening('serving metrics')![2]) };

      // Ready as the kubelet's readiness probe sees it, on the ops listener.
      const refused = () => seen.filter((s) => !s.allowed).map((s) => s.request);
      await waitFor(async () => refused().length > 0 || (await kubeletProbe(extenderContainer.readinessProbe, ports)).success, 'the extender to be ready').catch(
        () => undefined,
      );
      expect(refused()).toEqual([]);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        expect(await kubeletProbe(extenderContainer[probe], ports), `${probe}\n${output}`).toEqual({ success: true, status: 200 });
      }
      const annotations: Record<string, string> = deployment.spec.template.metadata.annotations;
      const scrape = await fetch(`${opsUrl}${annotations['prometheus.io/path']}`);
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toMatch(/^sysctl_extender_index_nodes 1$/m);

      // The verbs are not on the ops listener: a bind sent there binds nothing.
      const bind = { PodName: 'web', PodNamespace: 'team-a', PodUID: pending.metadata.uid, Node: 'n1' };
      expect((await post(`${opsUrl}/${extenderStanza.bindVerb}`, JSON.stringify(bind))).status).toBe(404);
      expect((await post(`${opsUrl}/${extenderStanza.filterVerb}`, '{}')).status).toBe(404);
      expect(api.bindings).toEqual([]);

      const answer = await post(`${url}/${extenderStanza.bindVerb}`, JSON.stringify(bind));
      expect(answer.body, output).toEqual({ Error: '' });
      expect(api.bindings).toEqual([expect.objectContaining({ namespace: 'team-a', pod: 'web', node: 'n1' })]);

      expect(refused()).toEqual([]);
      const made = new Set(seen.map((s) => permission(s.attributes!)));
      expect(made).toContain('create core/pods/binding');
      expect(made).toContain('watch core/pods');
      const derived = new Set(calls.map((c) => permission(c.attributes)));
      expect([...made].filter((p) => !derived.has(p))).toEqual([]);

      // The kubelet stops the sidecar with SIGTERM: it finishes and exits cleanly, watches included.
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running after 5 s'), 5000))]);
      expect(code, output).toBe(0);
    });
  });
});
