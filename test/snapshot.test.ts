import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ListSource } from '../src/cluster/index-source.js';
import { applyList, loadSnapshotFile, readSnapshotFile, readSnapshotItems, SnapshotError, type KubeList } from '../src/cluster/snapshot.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { ClusterIndex } from '../src/sysctl-index/cluster-index.js';
import { fixtureCluster } from './support/http.js';
import { DB, namespace, node, pod } from './support/objects.js';

const dir = mkdtempSync(join(tmpdir(), 'sysctl-extender-snapshot-'));
let files = 0;
function file(text: string): string {
  const path = join(dir, `snapshot-${files++}.json`);
  writeFileSync(path, text);
  return path;
}

function errorOf(path: string): string {
  try {
    readSnapshotItems(path, () => undefined);
  } catch (err) {
    expect(err).toBeInstanceOf(SnapshotError);
    return (err as Error).message;
  }
  throw new Error('no error');
}

describe('snapshot files', () => {
  it.each([
    ['oops', /is not JSON .*expected a JSON object at byte 0, found "o"$/],
    ['oops\n', /is not JSON .*expected a JSON object at byte 0, found "o"$/],
    ['{"items": [oops]}', /is not JSON .*item 0 at byte 11: .*oops/],
    ['{"items": [{"kind": "Node"}', /expected "," or "]" at byte 27, found the end of the file$/],
    ['{"items": []} trailing', /expected the end of the file at byte 14, found "t"$/],
    ['{"kind": "List", "items": {"a": 1}}', /has no "items" list$/],
    ['{"kind": "List"}', /has no "items" list$/],
    ['[]', /expected a JSON object at byte 0, found "\["$/],
    ['', /expected a JSON object at byte 0, found the end of the file$/],
  ])('%j gives a one-line error naming the file', (text, message) => {
    const path = file(text);
    const error = errorOf(path);
    expect(error).toMatch(message);
    expect(error).toContain(`snapshot ${path} `);
    expect(error).not.toContain('\n');
  });

  it('a missing file says it cannot be read', () => {
    expect(() => readSnapshotItems(join(dir, 'missing.json'), () => undefined)).toThrow(/^cannot read snapshot .*missing\.json: ENOENT/);
  });

  it('streams exactly the items JSON.parse sees, across read chunks, whatever the strings hold', () => {
    // Strings with brackets, quotes, escapes and multi-byte characters, in items that straddle
    // the 1 MiB reads; keys before and after "items" are skipped.
    const tricky = ['a]b}c', 'q"uote\\', '{[', 'é 漢字 😀', '\\"]', ''];
    const items = Array.from({ length: 6000 }, (_, i) => ({
      kind: 'Pod',
      metadata: { name: `p${i}`, namespace: 'ns', annotations: { note: tricky[i % tricky.length]!.repeat(1 + (i % 37)) } },
      spec: { nodeName: `n${i % 7}`, containers: [] as unknown[], n: i, f: i / 3, t: true, z: null },
    }));
    const text = JSON.stringify({ apiVersion: 'v1', metadata: { items: ['not', 'these'] }, items, kind: 'List', after: [1, { x: '}' }] }, null, 4); // kubectl's indentation
    expect(text.length).toBeGreaterThan(2 * (1 << 20));
    const seen: unknown[] = [];
    readSnapshotItems(file(text), (item) => seen.push(item));
    expect(seen).toEqual((JSON.parse(text) as KubeList).items);
    // Numbers, literals and strings as items, compact.
    const scalars = [1, -2.5e3, 'x"]', true, null, { a: [] }, []];
    const compact: unknown[] = [];
    readSnapshotItems(file(JSON.stringify({ items: scalars })), (item) => compact.push(item));
    expect(compact).toEqual(scalars);
  });

  it('loads the index as the in-memory List does', () => {
    const list = fixtureCluster();
    const streamed = new ClusterIndex(DEFAULT_POLICY);
    const counts = loadSnapshotFile(streamed, file(JSON.stringify(list, null, 2)));
    const inMemory = new ClusterIndex(DEFAULT_POLICY);
    expect(counts).toEqual(applyList(inMemory, list));
    expect(counts).toMatchObject({ nodes: 4, namespaces: 7 });
    expect(streamed.nodeNames().sort()).toEqual(inMemory.nodeNames().sort());
    expect(readSnapshotFile(file(JSON.stringify(list))).items).toEqual(list.items);
  });

  it('snapshot mode keeps no List: a rebuild for new keys reads the file again', async () => {
    const cluster = (team: string): KubeList => ({ kind: 'List', items: [namespace('team-a', 'a'), node('n1', { team }), pod('team-a', 'db', { node: 'n1', sysctls: DB })] });
    const path = file(JSON.stringify(cluster('a')));
    const source = new ListSource({ file: path });
    const index = new ClusterIndex(DEFAULT_POLICY);
    source.start(index);
    expect(source.check()).toEqual({ ready: true });
    expect(index.stats).toMatchObject({ namespaces: 1, nodes: 1, pods: 1 });
    expect(index.node('n1')?.projection?.team).toBe('a');
    writeFileSync(path, JSON.stringify(cluster('b')));
    const rebuilt = await source.rebuild(DEFAULT_POLICY);
    expect(rebuilt.node('n1')?.projection?.team).toBe('b');
    expect(JSON.stringify(Object.values(source))).not.toContain('team-a'); // holds the path, no objects
  });
});

