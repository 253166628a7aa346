import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../src/config/policy.js';
import type { ExtenderFilterResult } from '../src/http/wire-types.js';
import { fixture, fixtureCluster, post, startExtender, type RunningExtender } from './support/http.js';

const good = fixture('names/c-unsafe-filter.json');
const goodArgs = JSON.parse(good) as Record<string, unknown> & { Pod: Record<string, any> };

function withPod(mutate: (pod: any) => void): string {
  const args = structuredClone(goodArgs);
  mutate(args.Pod);
  return JSON.stringify(args);
}

let server: RunningExtender;
beforeAll(async () => {
  // The smallest body limit the policy allows, so that an oversized body is cheap to send.
  server = await startExtender(fixtureCluster(), parsePolicy({ bodyLimitBytes: 65536 }));
});
afterAll(() => server.close());

const badBodies: Array<{ name: string; body: string; status: number; message: RegExp }> = [
  { name: 'malformed JSON', body: '{"Pod": {', status: 400, message: /not valid JSON/ },
  { name: 'an empty body', body: '', status: 400, message: /request body is empty/ },
  { name: 'a JSON array', body: '[]', status: 400, message: /must be a JSON object/ },
  { name: 'a bare JSON string', body: '"filter"', status: 400, message: /must be a JSON object/ },
  { name: 'no Pod', body: '{"NodeNames": ["n1"]}', status: 400, message: /Pod is required/ },
  { name: 'neither NodeNames nor Nodes', body: JSON.stringify({ Pod: goodArgs.Pod, Nodes: null, NodeNames: null }), status: 400, message: /NodeNames .* or Nodes must be set/ },
  { name: 'NodeNames that is not a list', body: JSON.stringify({ ...goodArgs, NodeNames: 'n1' }), status: 400, message: /NodeNames must be array/ },
  { name: 'a node name that is not a string', body: JSON.stringify({ ...goodArgs, NodeNames: ['n1', 7] }), status: 400, message: /NodeNames\.1 must be string/ },
  { name: 'an empty node name', body: JSON.stringify({ ...goodArgs, NodeNames: ['n1', ''] }), status: 400, message: /NodeNames\.1 must be a node name of 1 to 253 characters/ },
  { name: 'Nodes without items', body: JSON.stringify({ Pod: goodArgs.Pod, Nodes: {} }), status: 400, message: /Nodes\.items is required/ },
  { name: 'a pod without a namespace', body: withPod((p) => delete p.metadata.namespace), status: 400, message: /Pod\.metadata\.namespace is required/ },
  { name: 'a pod name of the wrong type', body: withPod((p) => (p.metadata.name = 42)), status: 400, message: /Pod\.metadata\.name must be string/ },
  { name: 'a sysctl value of the wrong type', body: withPod((p) => (p.spec.securityContext.sysctls[0].value = 1)), status: 400, message: /sysctls\.0\.value must be string/ },
  { name: 'sysctls that are not a list', body: withPod((p) => (p.spec.securityContext.sysctls = { a: 1 })), status: 400, message: /sysctls must be array/ },
  { name: 'an annotation that is not a string', body: withPod((p) => (p.metadata.annotations = { x: {} })), status: 400, message: /annotations\.x must be string/ },
  { name: 'a body over the limit', body: JSON.stringify({ ...goodArgs, NodeNames: Array.from({ length: 10_000 }, (_, i) => `node-${i}`) }), status: 413, message: /larger than the limit of 65536 bytes/ },
];

describe('bad requests get a 4xx with a clear JSON message', () => {
  it.each(badBodies)('$name', async ({ body, status, message }) => {
    const answer = await post(`${server.url}/filter`, body);
    expect(answer.status).toBe(status);
    expect((answer.body as { Error: string }).Error).toMatch(message);
  });

  it.each(badBodies.filter((b) => b.status === 400))('prioritize refuses $name too', async ({ body }) => {
    const answer = await post(`${server.url}/prioritize`, body);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
  });

  it('answers an unknown verb with 404 and the wrong method with 405', async () => {
    const unknown = await post(`${server.url}/schedule`, good);
    expect(unknown.status).toBe(404);
    expect((unknown.body as { Error: string }).Error).toMatch(/unknown path \/schedule; served: POST \/filter, POST \/prioritize/);
    const wrongMethod = await fetch(`${server.url}/filter`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('treats node names like __proto__ as plain names', async () => {
    const answer = await post(`${server.url}/filter`, JSON.stringify({ ...goodArgs, NodeNames: ['__proto__', 'constructor', 'n4'] }));
    expect(answer.status).toBe(200);
    const result = answer.body as ExtenderFilterResult;
    expect(result.NodeNames).toEqual(['n4']);
    expect(Object.keys(result.FailedAndUnresolvableNodes).sort()).toEqual(['__proto__', 'constructor']);
    expect(answer.text).toContain('"__proto__":"node is not in the extender index yet"');
  });

  it('serves a verb whatever query string the URL carries', async () => {
    expect((await post(`${server.url}/filter?trace=1`, good)).status).toBe(200);
  });

  it('accepts a body without a JSON content type, as curl -d sends it', async () => {
    const answer = await post(`${server.url}/filter`, good, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(answer.status).toBe(200);
  });

  it('still answers good requests after all of the above', async () => {
    const answer = await post(`${server.url}/filter`, good);
    expect(answer.status).toBe(200);
    // n4 declares its allow-list; n1 declares none, so its kubelet is taken to refuse unsafe sysctls.
    expect([...(answer.body as ExtenderFilterResult).NodeNames!].sort()).toEqual(['n4']);
  });
});

describe('health, readiness, config and metrics', () => {
  it('refuses to place pods, and says why, until the index is loaded', async () => {
    const cold = await startExtender(fixtureCluster(), undefined, false);
    try {
      const readyz = await fetch(`${cold.url}/readyz`);
      expect(readyz.status).toBe(503);
      expect(await readyz.json()).toEqual({ ready: false, reason: 'index not loaded yet' });
      const filter = await post(`${cold.url}/filter`, good);
      expect(filter.status).toBe(503);
      expect((filter.body as { Error: string }).Error).toMatch(/not ready/);
      expect((await fetch(`${cold.url}/healthz`)).status).toBe(200);
      cold.readiness.markLoaded();
      expect((await fetch(`${cold.url}/readyz`)).status).toBe(200);
    } finally {
      await cold.close();
    }
  });

  it('shows the policy in force', async () => {
    const config = (await (await fetch(`${server.url}/config`)).json()) as { policy: { policy: string; bodyLimitBytes: number } };
    expect(config.policy).toMatchObject({ policy: 'strict', bodyLimitBytes: 65536 });
  });

  it('exports request durations per verb, rejections per reason, and index gauges', async () => {
    await post(`${server.url}/filter`, fixture('names/a-none-filter.json'));
    await post(`${server.url}/prioritize`, fixture('names/a-none-prioritize.json'));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/sysctl_extender_request_duration_seconds_count\{verb="filter",code="200"\} [1-9]/);
    expect(metrics).toMatch(/sysctl_extender_request_duration_seconds_count\{verb="prioritize",code="200"\} [1-9]/);
    expect(metrics).toMatch(/sysctl_extender_request_duration_seconds_count\{verb="filter",code="400"\} [1-9]/);
    expect(metrics).toMatch(/sysctl_extender_filter_rejections_total\{reason="other_team"\} [1-9]/);
    expect(metrics).toMatch(/sysctl_extender_filter_rejections_total\{reason="declared_mismatch"\} [1-9]/);
    expect(metrics).toMatch(/^sysctl_extender_index_nodes 4$/m);
    expect(metrics).toMatch(/^sysctl_extender_index_namespaces 7$/m);
    expect(metrics).toMatch(/^sysctl_extender_index_profiles \d+$/m);
  });
});
