import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExtenderFilterResult, HostPriority } from '../src/http/wire-types.js';
import { fixture, fixtureCluster, post, startExtender, type RunningExtender } from './support/http.js';

/**
 * A name repeated in a request is answered once (issue 16): FailedNodes is a JSON object, whose
 * (and FailedAndUnresolvableNodes) keys RFC 8259 wants unique, and a node passes or fails once. The first occurrence counts.
 */
let server: RunningExtender;
beforeAll(async () => {
  server = await startExtender(fixtureCluster());
});
afterAll(() => server.close());

const withNames = (verb: 'filter' | 'prioritize', names: string[]) =>
  fixture(`names/a-none-${verb}.json`).replace(/"NodeNames":\[[^\]]*\]/, `"NodeNames":${JSON.stringify(names)}`);

/** Every refused name, of FailedNodes and FailedAndUnresolvableNodes. */
const failedNames = (result: ExtenderFilterResult) => [...Object.keys(result.FailedNodes ?? {}), ...Object.keys(result.FailedAndUnresolvableNodes ?? {})].sort();

/** How often `"key":` opens a member in the raw answer: JSON.parse would hide a repeat. */
const keyCount = (text: string, key: string) => text.split(`"${key}":`).length - 1;

describe('duplicate node names', () => {
  // n1 and n4 pass team-a's untuned pod; n2 is team b's, n3 is tuned; "ghost" is unknown.
  it.each([
    ['repeated at once', ['n1', 'n4', 'n2', 'n3'], ['n1', 'n4', 'n1', 'n2', 'n2', 'ghost', 'ghost', 'n3']],
    ['a rotation of the previous list, then longer than it', ['n2', 'n3', 'n4', 'n1'], ['n2', 'n3', 'n4', 'n1', 'n2', 'n3']],
  ])('NodeNames %s: each name once in NodeNames and the failed maps', async (_case, first, repeated) => {
    await post(`${server.url}/filter`, withNames('filter', first)); // the resolver walks this list next
    const { status, text, body } = await post(`${server.url}/filter`, withNames('filter', repeated));
    expect(status).toBe(200);
    const result = body as ExtenderFilterResult;
    const unique = [...new Set(repeated)];
    expect(result.NodeNames).toEqual(unique.filter((n) => n === 'n1' || n === 'n4'));
    for (const name of unique.filter((n) => n !== 'n1' && n !== 'n4')) expect(keyCount(text, name), name).toBe(1);
    expect(failedNames(result)).toEqual(unique.filter((n) => n !== 'n1' && n !== 'n4').sort());
  });

  it('prioritize scores each node once', async () => {
    const { status, body } = await post(`${server.url}/prioritize`, withNames('prioritize', ['n1', 'n4', 'n1', 'n4', 'n2']));
    expect(status).toBe(200);
    expect((body as HostPriority[]).map((h) => h.Host)).toEqual(['n1', 'n4', 'n2']);
  });

  it('Nodes.items: a repeated Node object is answered once', async () => {
    const args = JSON.parse(fixture('nodes/a-none-filter.json')) as { Nodes: { items: Array<{ metadata: { name: string } }> } };
    const items = args.Nodes.items;
    args.Nodes.items = [...items, ...items];
    const { status, text, body } = await post(`${server.url}/filter`, JSON.stringify(args));
    expect(status).toBe(200);
    const result = body as ExtenderFilterResult;
    expect(result.Nodes?.items.map((n) => n.metadata?.name)).toEqual(['n1', 'n4']);
    for (const name of ['n2', 'n3']) expect(keyCount(text, name), name).toBe(1);
    expect(failedNames(result)).toEqual(['n2', 'n3']);
  });
});
