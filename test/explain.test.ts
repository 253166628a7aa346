import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCluster } from '../src/demo/demo-cluster.js';
import type { Explanation } from '../src/explain/explain-pod.js';
import { FIXTURES, fixture, post, startExtender, type RunningExtender } from './support/http.js';

const EXPLAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'explain-cli.js');
const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');
const cUnsafe = JSON.parse(fixture('names/c-unsafe-filter.json')).Pod;

let server: RunningExtender;
beforeAll(async () => {
  server = await startExtender(demoCluster());
});
afterAll(() => server.close());

describe('POST /explain', () => {
  it('gives every node its verdict, reason and weighted terms, best first', async () => {
    const answer = await post(`${server.url}/explain`, JSON.stringify({ Pod: cUnsafe }));
    expect(answer.status).toBe(200);
    const e = answer.body as Explanation;
    expect(e).toMatchObject({ pod: 'team-a/c-unsafe', team: 'a', policy: 'strict', profile: { 'kernel.shmmax': '68719476736', 'kernel.sem': '250 32000 100 128' } });
    expect(e.nodes).toHaveLength(12);
    expect(e.trustUndeclaredAllowList).toBe(false);
    expect(e.nodes[0]).toEqual({
      node: 'n5',
      verdict: 'pass',
      reason: null,
      resolvable: null,
      score: 10,
      terms: { profileReuse: { value: 1, weight: 6 }, ownTeam: { value: 1, weight: 4 } },
      runtime: { kubeletVersion: 'v1.31.4-eks-2d98532', kubeletRelease: '1.31', kernelVersion: '5.15.0-1048-aws', kernelRelease: '5.15' },
      refusedSysctls: [],
      annotationProblem: null,
    });
    expect(e.nodes.find((n) => n.node === 'n6')).toMatchObject({ verdict: 'fail', reason: 'node runs another sysctl profile', resolvable: true, score: 0, terms: null });
    expect(e.nodes.find((n) => n.node === 'n2')).toMatchObject({ verdict: 'fail', reason: 'node is dedicated to another team', resolvable: false });
    // Passing nodes come before failing ones.
    const verdicts = e.nodes.map((n) => n.verdict);
    expect(verdicts.lastIndexOf('pass')).toBeLessThan(verdicts.indexOf('fail'));
  });

  it('takes a bare Pod and optional node names', async () => {
    const answer = await post(`${server.url}/explain`, JSON.stringify({ ...cUnsafe, kind: 'Pod' }));
    expect((answer.body as Explanation).nodes).toHaveLength(12);
    const some = (await post(`${server.url}/explain`, JSON.stringify({ Pod: cUnsafe, NodeNames: ['n4', 'nx'] }))).body as Explanation;
    expect(some.nodes.map((n) => [n.node, n.reason, n.runtime?.kubeletRelease ?? null])).toEqual([
      ['n4', null, '1.33'],
      ['nx', 'node is not in the extender index yet', null],
    ]);
  });

  it('says per node which kubelet and kernel it judged by, and why a sysctl is refused there', async () => {
    const rmem = JSON.parse(readFileSync(join(EXAMPLES, 'g-tcp-rmem-filter.json'), 'utf8')).Pod;
    const e = (await post(`${server.url}/explain`, JSON.stringify({ Pod: rmem }))).body as Explanation;
    const on = (name: string) => e.nodes.find((n) => n.node === name)!;
    expect(on('n7')).toMatchObject({
      reason: 'node kernel is too old for these sysctls',
      runtime: { kubeletVersion: 'v1.29.0', kubeletRelease: '1.29', kernelVersion: '4.4.0-210-generic', kernelRelease: '4.4' },
      refusedSysctls: [{ name: 'net.ipv4.tcp_rmem', why: 'not namespaced before kernel 4.15; the node runs 4.4' }],
    });
    expect(on('n5').refusedSysctls).toEqual([
      { name: 'net.ipv4.tcp_rmem', why: 'safe only from kubelet 1.32; the node runs 1.31, and not allowed by the node\'s allow-list "kernel.shm*,kernel.sem"' },
    ]);
    expect(on('n1').refusedSysctls[0]?.why).toMatch(/1\.31.*declares no sysctl-extender\.io\/allowed-unsafe-sysctls annotation/);
    expect(on('n6')).toMatchObject({ verdict: 'pass', runtime: { kubeletVersion: null, kubeletRelease: null, kernelVersion: null, kernelRelease: null } });
    expect(on('n11')).toMatchObject({
      reason: 'node allow-list has a pattern kubelet refuses',
      annotationProblem: expect.stringContaining('"net*"'),
    });
    expect(on('n4')).toMatchObject({ verdict: 'pass', refusedSysctls: [] });
  });

  it('assumes nothing: explaining does not change later answers', async () => {
    const before = (await post(`${server.url}/filter`, fixture('names/c-unsafe-filter.json'))).text;
    await post(`${server.url}/explain`, JSON.stringify({ Pod: cUnsafe }));
    expect((await post(`${server.url}/filter`, fixture('names/c-unsafe-filter.json'))).text).toBe(before);
  });

  it('refuses a body that is not a pod', async () => {
    const answer = await post(`${server.url}/explain`, JSON.stringify({ NodeNames: ['n1'] }));
    expect(answer.status).toBe(400);
    expect((answer.body as { Error: string }).Error).toMatch(/Pod is required/);
  });
});

describe('npm run explain', () => {
  const run = promisify(execFile);

  it('prints a table a person can read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'explain-'));
    const podFile = join(dir, 'pod.yaml');
    writeFileSync(
      podFile,
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: es-0\n  namespace: no-team\n  annotations:\n    sysctl-extender.io/sysctls: vm.max_map_count=262144\nspec:\n  containers: [{name: es, image: es}]\n',
    );
    const { stdout } = await run(process.execPath, [EXPLAIN, '--snapshot', join(FIXTURES, 'cluster.json'), podFile]);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('pod      no-team/es-0');
    expect(lines[1]).toBe('team     (none: shared nodes only)');
    expect(lines[2]).toBe('profile  vm.max_map_count=262144');
    expect(stdout).toMatch(/^NODE\s+VERDICT\s+SCORE\s+TERMS \(value x weight\)\s+KUBELET \/ KERNEL\s+REASON$/m);
    // The capture's nodes report no kubelet: judged by the smallest safe list.
    expect(stdout).toMatch(/^n3\s+pass\s+0\s+profileReuse 0x6, ownTeam 0x4\s+\? \/ \?$/m);
    expect(stdout).toMatch(/^n1\s+fail\s+0\s+-\s+\? \/ \?\s+node is dedicated; namespace has no team$/m);
  });

  it('shows the kubelet and kernel of each node of the demo and the refused sysctl with why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'explain-'));
    const podFile = join(dir, 'pod.json');
    writeFileSync(podFile, JSON.stringify(JSON.parse(readFileSync(join(EXAMPLES, 'g-tcp-rmem-filter.json'), 'utf8')).Pod));
    const { stdout } = await run(process.execPath, [EXPLAIN, podFile]);
    expect(stdout).toMatch(/^n7\s+fail\s+0\s+-\s+1\.29 \/ 4\.4\s+node kernel is too old for these sysctls; net\.ipv4\.tcp_rmem: not namespaced before kernel 4\.15; the node runs 4\.4$/m);
    expect(stdout).toMatch(/^n4\s+pass\s+\d+\s+profileReuse 0x6, ownTeam 0x4\s+1\.33 \/ 6\.1$/m);
  });

  it('exits 2 with a clear message for a missing pod file', async () => {
    await expect(run(process.execPath, [EXPLAIN, '/nonexistent/pod.yaml'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/cannot read pod \/nonexistent\/pod\.yaml/),
    });
  });
});
