/**
 * `kubectl sysctl explain`: the built plugin (dist/kubectl-sysctl.js, `npm test` builds first)
 * run as kubectl runs it, against the fake API server serving the demo cluster, and offline
 * against a snapshot. Its table is the one `npm run explain` prints for the same cluster.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCluster } from '../src/demo/demo-cluster.js';
import type { Explanation } from '../src/explain/explain-pod.js';
import { FakeApiServer, kubeConfigFor, type Resource } from '../support/fake-api-server.js';
import { fixture } from './support/http.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const PLUGIN = join(DIST, 'kubectl-sysctl.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    // A clean environment: no KUBECONFIG, no home kubeconfig, no in-cluster variables but those given.
    const clean = { PATH: process.env.PATH, HOME: dir, ...env };
    execFile(file === PLUGIN ? process.execPath : file, file === PLUGIN ? [PLUGIN, ...args] : args, { env: clean, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

/** team-a's database pod from the kube-scheduler capture, pending: the pod the README explains. */
const pendingPod = () => (JSON.parse(fixture('names/c-unsafe-filter.json')) as { Pod: { metadata: { namespace: string; name: string } } }).Pod;

let dir: string;
let api: FakeApiServer;
let kubeconfig: string;
let snapshot: string;
let podFile: string;

const KINDS: Record<string, Resource> = { Namespace: 'namespaces', Node: 'nodes', Pod: 'pods', DaemonSet: 'daemonsets' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-sysctl-'));
  api = new FakeApiServer();
  const { url } = await api.start();
  const items = [...demoCluster().items, { kind: 'Pod', ...pendingPod() }];
  for (const item of items) api.create(KINDS[item.kind!]!, item);
  const config = kubeConfigFor(url);
  config.contexts.push({ name: 'elsewhere', cluster: 'nowhere', user: 'fake-user' } as never);
  config.clusters.push({ name: 'nowhere', server: 'http://127.0.0.1:9', skipTLSVerify: true } as never);
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, config.exportConfig());
  snapshot = join(dir, 'cluster.json');
  writeFileSync(snapshot, JSON.stringify({ kind: 'List', items }));
  podFile = join(dir, 'pod.json');
  writeFileSync(podFile, JSON.stringify(pendingPod()));
});

afterAll(async () => {
  await api?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl sysctl explain', () => {
  it('reads the cluster through --kubeconfig and prints the table npm run explain prints', async () => {
    const live = await run(PLUGIN, ['explain', 'team-a/c-unsafe', '--kubeconfig', kubeconfig]);
    expect(live.stderr).toBe('');
    expect(live.code).toBe(0);
    expect(live.stdout).toMatch(/^pod {6}team-a\/c-unsafe\nteam {5}a\n/);
    expect(live.stdout).toMatch(/^NODE +VERDICT +SCORE/m);
    // n4 (shared, open allow-list, idle) passes; n2 is team b's.
    expect(live.stdout).toMatch(/^n4 +pass /m);
    expect(live.stdout).toMatch(/^n2 +fail .*node is dedicated to another team/m);
    const offline = await run(PLUGIN, ['explain', 'team-a/c-unsafe', '--snapshot', snapshot]);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toBe(live.stdout);
    const npmExplain = await run(process.execPath, [join(DIST, 'explain-cli.js'), '--snapshot', snapshot, podFile]);
    expect(npmExplain.code).toBe(0);
    expect(live.stdout).toBe(npmExplain.stdout);
  });

  it('-f explains a manifest not created yet, as npm run explain does', async () => {
    const fromFile = await run(PLUGIN, ['explain', '-f', podFile, '--snapshot', snapshot]);
    expect(fromFile.code).toBe(0);
    const npmExplain = await run(process.execPath, [join(DIST, 'explain-cli.js'), '--snapshot', snapshot, podFile]);
    expect(fromFile.stdout).toBe(npmExplain.stdout);
    const both = await run(PLUGIN, ['explain', 'team-a/c-unsafe', '-f', podFile, '--snapshot', snapshot]);
    expect(both.code).toBe(2);
  });

  it('-o json and --output json print the explanation as JSON', async () => {
    for (const flag of [['-o', 'json'], ['--output', 'json'], ['--output=json']]) {
      const result = await run(PLUGIN, ['explain', 'c-unsafe', '-n', 'team-a', ...flag], { KUBECONFIG: kubeconfig });
      expect(result.code, flag.join(' ')).toBe(0);
      const explanation = JSON.parse(result.stdout) as Explanation;
      expect(explanation.pod).toBe('team-a/c-unsafe');
      expect(explanation.nodes).toHaveLength(12);
      expect(explanation.nodes[0]!.verdict).toBe('pass');
    }
  });

  it('follows KUBECONFIG and --context as kubectl does', async () => {
    const viaEnv = await run(PLUGIN, ['explain', 'team-a/c-unsafe', '--nodes', 'n4,n5'], { KUBECONFIG: kubeconfig });
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.stdout.match(/^n\d+ /gm)?.sort()).toEqual(['n4 ', 'n5 ']);
    const elsewhere = await run(PLUGIN, ['explain', 'team-a/c-unsafe', '--context', 'elsewhere', '--request-timeout', '30'], { KUBECONFIG: kubeconfig });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/^error: cannot list \w+: .*ECONNREFUSED.*\n$/);
    const unknown = await run(PLUGIN, ['explain', 'team-a/c-unsafe', '--context', 'nope', '--kubeconfig', kubeconfig]);
    expect([unknown.code, unknown.stderr]).toEqual([1, 'error: context "nope" is not in the kubeconfig\n']);
  });

  it('exits 1 with one line for a pod that is not there, or no cluster at all', async () => {
    const missing = await run(PLUGIN, ['explain', 'team-a/no-such-pod', '--kubeconfig', kubeconfig]);
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([1, '', 'error: pod team-a/no-such-pod not found\n']);
    const offline = await run(PLUGIN, ['explain', 'team-b/nope', '--snapshot', snapshot]);
    expect([offline.code, offline.stderr]).toEqual([1, `error: pod team-b/nope not found in ${snapshot}\n`]);
    const noCluster = await run(PLUGIN, ['explain', 'team-a/c-unsafe']);
    expect(noCluster.code).toBe(1);
    expect(noCluster.stderr.trim().split('\n')).toHaveLength(1);
    const badFile = await run(PLUGIN, ['explain', 'team-a/c-unsafe', '--kubeconfig', join(dir, 'absent')]);
    expect(badFile.code).toBe(1);
    expect(badFile.stderr).toMatch(/^error: cannot read kubeconfig .*absent: ENOENT/);
  });

  it('an API server that refuses answers exits 1 with its status', async () => {
    api.failNext(/^\/api\/v1\/pods\b/, 403);
    const denied = await run(PLUGIN, ['explain', 'team-a/c-unsafe', '--kubeconfig', kubeconfig]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^error: cannot list pods: HTTP 403/);
  });

  it('exits 2 on usage errors', async () => {
    for (const args of [[], ['explain'], ['explain', 'a/b/c', '--snapshot', snapshot], ['explain', 'x/y', '-o', 'yaml'], ['explain', 'x/y', '--bogus'], ['nope'], ['explain', 'a/b', '-n', 'c', '--snapshot', snapshot], ['explain', 'a/b', '--snapshot', snapshot, '--kubeconfig', kubeconfig]]) {
      const result = await run(PLUGIN, args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout, args.join(' ')).toBe('');
    }
    const help = await run(PLUGIN, ['explain', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--output <format>');
  });

  it('runs as kubectl-sysctl from the PATH, as kubectl finds plugins', async () => {
    chmodSync(PLUGIN, 0o755);
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(PLUGIN, join(bin, 'kubectl-sysctl'));
    const result = await run(join(bin, 'kubectl-sysctl'), ['explain', 'team-a/c-unsafe', '--snapshot', snapshot], { PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH}` });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^n4 +pass /m);
  });
});
