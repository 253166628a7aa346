import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { decodeCandidateArgs, resolveCandidates } from '../src/http/candidate-args.js';
import { resolverOf } from '../src/http/generation.js';
import type { CandidateResolver } from '../src/sysctl-index/candidates.js';
import { decodeExtenderArgs } from '../src/http/decode.js';
import { NameTable } from '../src/http/name-table.js';
import { nameHash, scanNamesBody } from '../src/http/names-body-scan.js';
import { RequestError } from '../src/http/request-error.js';
import { ClusterIndex } from '../src/sysctl-index/cluster-index.js';
import { namespace, node, pod } from './support/objects.js';

/**
 * Filter and prioritize read a NodeNames body from its bytes (names-body-scan.ts, name-table.ts).
 * Whatever the body, the views must be those of parsing it whole (resolveCandidates over
 * JSON.parse), each node once, first occurrence first; and a body the byte reader does not take
 * must give the full parser's answer or error.
 */

const POD = pod('team-a-apps', 'web');

function indexOf(names: readonly string[]): ClusterIndex {
  const index = new ClusterIndex(DEFAULT_POLICY);
  index.upsertNamespace(namespace('team-a-apps', 'a'));
  for (const name of names) index.upsertNode(node(name));
  return index;
}

/** What parsing the body whole gives: the names of the views, in order. */
function reference(body: string, index: ClusterIndex): string[] {
  return resolveCandidates(decodeExtenderArgs(JSON.parse(body)), resolverOf(index)).views.map((v) => v.name);
}

const decodedNames = (body: string, resolver: CandidateResolver) => decodeCandidateArgs(Buffer.from(body), resolver).views.map((v) => v.name);

function body(names: readonly string[], pod: unknown = POD): string {
  return JSON.stringify({ Pod: pod, Nodes: null, NodeNames: names });
}

/** Whether the byte reader took the body (a reader that records being called stands in for the table). */
function takenFromBytes(text: string, index: ClusterIndex): boolean {
  const table = new NameTable(index);
  return scanNamesBody(Buffer.from(text), table.read) !== undefined;
}

describe('reading a NodeNames body from its bytes', () => {
  const NAMES = ['n1', 'n2', 'n3', 'worker-12', 'ip-10-0-1-2.eu-west-1.compute.internal'];
  const index = indexOf(NAMES);

  it.each([
    ['the form kube-scheduler writes', body(NAMES)],
    ['field names in any case, as Go decodes them', JSON.stringify({ pod: POD, NODES: null, nodeNames: NAMES })],
    ['white space between every token', ` { "Pod" : ${JSON.stringify(POD)} ,\n\t"Nodes" : null , "NodeNames" : [ "n1" , "n2" ] } \n`],
    ['fields in another order', JSON.stringify({ NodeNames: NAMES, Pod: POD })],
    ['an empty list', body([])],
  ])('takes %s', (_case, text) => {
    expect(takenFromBytes(text, index)).toBe(true);
    expect(decodedNames(text, resolverOf(index))).toEqual(reference(text, index));
  });

  it.each([
    ['a name with an escape', body(['PLACEHOLDER']).replace('PLACEHOLDER', 'n\\u0031')],
    ['a non-ASCII name', body(['nœud'])],
    ['an unknown field', JSON.stringify({ Pod: POD, NodeNames: NAMES, Extra: 1 })],
    ['Nodes not null', JSON.stringify({ Pod: POD, Nodes: { items: [] }, NodeNames: NAMES })],
    ['NodeNames twice', `{"Pod":${JSON.stringify(POD)},"NodeNames":["n1"],"NodeNames":["n2"]}`],
    ['no NodeNames', JSON.stringify({ Pod: POD, Nodes: null })],
    ['trailing bytes', `${body(NAMES)}x`],
    ['an empty name', body(['n1', ''])],
    ['a name longer than 253 bytes', body(['x'.repeat(254)])],
  ])('leaves %s to the full parser, which answers alike', (_case, text) => {
    expect(takenFromBytes(text, index)).toBe(false);
    let expected: string[] | string;
    try {
      expected = reference(text, index);
    } catch (err) {
      expected = (err as Error).message;
    }
    const resolver = resolverOf(index);
    if (typeof expected === 'string') expect(() => decodedNames(text, resolver)).toThrow(expected);
    else expect(decodedNames(text, resolver)).toEqual(expected);
  });

  it.each([
    ['a Pod without metadata', body(NAMES, { spec: {} }), 'Pod'],
    ['a Pod that is not JSON', body(NAMES).replace('"metadata":{', '"metadata":{,'), 'not valid JSON'],
  ])('answers %s with the full parser’s 400', (_case, text, words) => {
    let error: unknown;
    try {
      decodeCandidateArgs(Buffer.from(text), resolverOf(index));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).status).toBe(400);
    expect((error as RequestError).message).toContain(words);
  });

  it('gives the rotated list of the same nodes as its rotation, and repeats answered once', () => {
    const resolver = resolverOf(index);
    expect(decodedNames(body(NAMES), resolver)).toEqual(NAMES);
    const rotated = [...NAMES.slice(2), ...NAMES.slice(0, 2)];
    expect(decodedNames(body(rotated), resolver)).toEqual(rotated);
    expect(decodedNames(body([...rotated, ...rotated]), resolver)).toEqual(rotated);
    expect(decodedNames(body(['n2', 'ghost', 'n2', 'ghost', 'n1']), resolver)).toEqual(['n2', 'ghost', 'n1']);
  });

  it('keeps the list filter gets while prioritize gets the subset the filter kept, in turn', () => {
    // kube-scheduler sends filter the nodes its plugins kept and prioritize those the filter kept.
    const resolver = resolverOf(index);
    const rotationOf = (names: readonly string[]) => decodeCandidateArgs(Buffer.from(body(names)), resolver).rotation;
    const all = rotationOf(NAMES)!;
    const kept = NAMES.filter((_, i) => i % 2 === 0);
    for (let shift = 1; shift < NAMES.length; shift += 1) {
      expect(rotationOf(kept.slice(0, 1 + (shift % kept.length)))).toBeDefined();
      const again = rotationOf([...NAMES.slice(shift), ...NAMES.slice(0, shift)]);
      // The very list first read: the verdict cache and the memo key their entries by its identity.
      expect(again?.views).toBe(all.views);
      expect(again?.offset).toBe(shift);
    }
  });

  it('knows a kept list read name by name (spaces between names) whatever list came between', () => {
    const resolver = resolverOf(index);
    const rotationOf = (names: readonly string[], spaced = false) => {
      const text = spaced ? body(names).replace(/","/g, '", "') : body(names);
      return decodeCandidateArgs(Buffer.from(text), resolver).rotation;
    };
    const all = rotationOf(NAMES)!;
    // A subset holding the first name, now the most recent list that does.
    expect(rotationOf(NAMES.slice(0, 2))).toBeDefined();
    expect(rotationOf(NAMES, true)?.views).toBe(all.views);
    expect(rotationOf([...NAMES.slice(1), NAMES[0]!])?.views).toBe(all.views);
  });

  it('hands out each name as JSON bytes beside its view, known or not, across a rebuild of the table', () => {
    const grown = indexOf(['a1', 'a2']);
    const resolver = resolverOf(grown);
    const jsonOf = (names: string[]) => decodeCandidateArgs(Buffer.from(body(names)), resolver).jsonNames?.map((j) => Buffer.from(j).toString('utf8'));
    expect(jsonOf(['a2', 'ghost', 'a1'])).toEqual(['"a2"', '"ghost"', '"a1"']);
    grown.upsertNode(node('a3'));
    expect(jsonOf(['a3', 'a1', 'a2'])).toEqual(['"a3"', '"a1"', '"a2"']);
    expect(jsonOf(['a1', 'a2', 'a3'])).toEqual(['"a1"', '"a2"', '"a3"']);
  });

  it('finds nodes added after the table was built, and forgets deleted ones', () => {
    const grown = indexOf(['a1', 'a2']);
    const resolver = resolverOf(grown);
    expect(decodeCandidateArgs(Buffer.from(body(['a1', 'a2', 'a3'])), resolver).views.map((v) => v.projection !== undefined)).toEqual([true, true, false]);
    grown.upsertNode(node('a3'));
    expect(decodeCandidateArgs(Buffer.from(body(['a1', 'a2', 'a3'])), resolver).views.map((v) => v.projection !== undefined)).toEqual([true, true, true]);
    grown.deleteNode('a1');
    expect(decodeCandidateArgs(Buffer.from(body(['a2', 'a3', 'a1'])), resolver).views.map((v) => v.projection !== undefined)).toEqual([true, true, false]);
  });

  it('tells apart two names whose hashes collide', () => {
    // Found by a birthday search over random 8-letter names.
    const [a, b] = ['gvgppfhr', 'rautwzkl'];
    const hash = (name: string) => nameHash(Buffer.from(name), 0, name.length);
    expect(hash(a)).toBe(hash(b));
    const both = indexOf([a, b]);
    const resolver = resolverOf(both);
    expect(decodeCandidateArgs(Buffer.from(body([b, a])), resolver).views.map((v) => [v.name, v.projection?.name])).toEqual([
      [b, b],
      [a, a],
    ]);
  });

  it('matches parsing the body whole for any list of known, unknown and repeated names in any rotation', () => {
    const pool = [...Array.from({ length: 30 }, (_, i) => `node-${i}`), 'n', 'n1', 'n11'];
    const known = pool.slice(0, 25);
    const cluster = indexOf(known);
    const resolver = resolverOf(cluster);
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom(...pool), { maxLength: 40 }), { minLength: 1, maxLength: 6 }),
        fc.nat(40),
        (lists, shift) => {
          for (const names of lists) {
            for (const list of [names, [...names.slice(shift % (names.length || 1)), ...names.slice(0, shift % (names.length || 1))]]) {
              const text = body(list);
              expect(decodedNames(text, resolver)).toEqual(reference(text, cluster));
              // The names answers are written from: each the JSON literal of its view's name.
              const args = decodeCandidateArgs(Buffer.from(text), resolver);
              expect(args.jsonNames?.map((json) => JSON.parse(Buffer.from(json).toString('utf8')) as string)).toEqual(args.views.map((v) => v.name));
              // A rotation found (of whichever kept list) says the same views, from its offset round.
              const rotation = args.rotation;
              if (rotation) {
                const n = rotation.views.length;
                expect(Array.from({ length: n }, (_, i) => rotation.views[(rotation.offset + i) % n]!.name)).toEqual(args.views.map((v) => v.name));
                expect(Array.from({ length: n }, (_, i) => Buffer.from(rotation.names[(rotation.offset + i) % n]!).toString('utf8'))).toEqual(args.views.map((v) => JSON.stringify(v.name)));
              }
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
