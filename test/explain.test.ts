import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCluster } from '../src/demo/demo-cluster.js';
import type { Explanation } from '../src/explain/explain-pod.js';
import { FIXTURES, fixture, post, startExtender, type RunningExtender } from './support/http.js';

const EXPLAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'explain-cli.js');
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
    expect(e.nodes).toHaveLength(10);
    expect(e.nodes[0]).toEqual({
      node: 'n5',
      verdict: 'pass',
      reason: null,
      resolvable: null,
      score: 10,
      terms: { profileReuse: { value: 1, weight: 6 }, ownTeam: { value: 1, weight: 4 } },
    });
    expect(e.nodes.find((n) => n.node === 'n6')).toMatchObject({ verdict: 'fail', reason: 'node runs pods with a different sysctl profile', resolvable: true, score: 0, terms: null });
    expect(e.nodes.find((n) => n.node === 'n2')).toMatchObject({ verdict: 'fail', reason: 'node is dedicated to another team', resolvable: false });
    // Passing nodes come before failing ones.
    const verdicts = e.nodes.map((n) => n.verdict);
    expect(verdicts.lastIndexOf('pass')).toBeLessThan(verdicts.indexOf('fail'));
  });

  it('takes a bare Pod and optional node names', async () => {
    const answer = await post(`${server.url}/explain`, JSON.stringify({ ...cUnsafe, kind: 'Pod' }));
    expect((answer.body as Explanation).nodes).toHaveLength(10);
    const some = (await post(`${server.url}/explain`, JSON.stringify({ Pod: cUnsafe, NodeNames: ['n1', 'nx'] }))).body as Explanation;
    expect(some.nodes.map((n) => [n.node, n.reason])).toEqual([
      ['n1', null],
      ['nx', 'node is not in the extender index yet'],
    ]);
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
    expect(stdout).toMatch(/^NODE\s+VERDICT\s+SCORE\s+TERMS \(value x weight\)\s+REASON$/m);
    expect(stdout).toMatch(/^n3\s+pass\s+0\s+profileReuse 0x6, ownTeam 0x4$/m);
    expect(stdout).toMatch(/^n1\s+fail\s+0\s+-\s+node is dedicated to a team and the pod's namespace has none$/m);
  });

  it('exits 2 with a clear message for a missing pod file', async () => {
    await expect(run(process.execPath, [EXPLAIN, '/nonexistent/pod.yaml'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/cannot read pod \/nonexistent\/pod\.yaml/),
    });
  });
});
