import { afterEach, describe, expect, it } from 'vitest';
import { Reflector, type ListPage } from '../src/watch/reflector.js';
import { ScriptedWatch, type ScriptedStream } from './support/scripted-watch.js';
import { waitFor } from './support/wait.js';

interface Obj {
  metadata: { name: string; resourceVersion?: string };
  value?: string;
}

const obj = (name: string, resourceVersion: string, value?: string): Obj => ({ metadata: { name, resourceVersion }, value });

/**
 * A reflector over a scripted watch and a scripted list, as client-node tests its informer:
 * the list answers from `cluster` at `listVersion` in pages, or fails while `failLists` > 0;
 * delays are recorded and return at once; the clock moves only when a test moves it.
 */
function harness(options: { pageSize?: number } = {}) {
  const h = {
    cluster: new Map<string, Obj>(),
    listVersion: '10',
    failLists: 0,
    /** Continue tokens the list answers with 410 Expired (etcd compacted the list's version meanwhile). */
    expiredTokens: new Set<string>(),
    listCalls: [] as Array<{ limit: number; continueToken?: string }>,
    /** What the handlers hold: the index's side of the reflector. */
    store: new Map<string, Obj>(),
    reconciles: 0,
    delays: [] as number[],
    events: [] as string[],
    restarts: [] as string[],
    failed: [] as Array<{ error: string; attempt: number }>,
    recovered: [] as number[],
    clock: 1_000_000,
    watch: new ScriptedWatch(),
    reflector: undefined as unknown as Reflector<Obj>,
  };
  const list = async (page: { limit: number; continueToken?: string }): Promise<ListPage<Obj>> => {
    h.listCalls.push(page);
    if (h.failLists > 0) {
      h.failLists -= 1;
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { cause: { code: 'ECONNREFUSED' } });
    }
    if (page.continueToken !== undefined && h.expiredTokens.delete(page.continueToken)) {
      throw Object.assign(new Error('HTTP-Code: 410 Message: The provided continue parameter is too old'), { code: 410 });
    }
    const names = [...h.cluster.keys()].sort();
    const start = page.continueToken ? names.indexOf(page.continueToken) : 0;
    const items = names.slice(start, start + page.limit).map((n) => h.cluster.get(n)!);
    const more = names[start + page.limit];
    return { items, metadata: { resourceVersion: h.listVersion, _continue: more } };
  };
  h.reflector = new Reflector<Obj>({
    watch: h.watch,
    path: '/api/v1/things',
    query: { fieldSelector: 'metadata.name!=x' },
    list,
    handlers: {
      upsert: (o) => void h.store.set(o.metadata.name, o),
      remove: (o) => void h.store.delete(o.metadata.name),
      reconcile: (listed) => {
        h.reconciles += 1;
        for (const name of h.store.keys()) if (!listed.has(name)) h.store.delete(name);
      },
    },
    events: {
      onEvent: (type) => h.events.push(type),
      onRestart: (reason) => h.restarts.push(reason),
      onAttemptFailed: (error, attempt) => h.failed.push({ error, attempt }),
      onRecovered: (n) => h.recovered.push(n),
    },
    delay: async (ms) => void h.delays.push(ms),
    now: () => h.clock,
    pageSize: options.pageSize,
    watchTimeoutSeconds: 300,
  });
  running.push(h.reflector);
  return h;
}

const running: Array<Reflector<Obj>> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

/** Connects the stream and lets the reflector see the answer. */
async function open(stream: ScriptedStream): Promise<ScriptedStream> {
  stream.connect();
  await new Promise((resolve) => setImmediate(resolve));
  return stream;
}

describe('Reflector', () => {
  it('lists, then watches from the list’s resourceVersion with bookmarks and the server-side timeout', async () => {
    const h = harness();
    h.cluster.set('a', obj('a', '5'));
    h.reflector.start();
    const stream = await h.watch.stream(0);
    expect(h.reflector.synced).toBe(true);
    expect([...h.store.keys()]).toEqual(['a']);
    expect(stream.path).toBe('/api/v1/things');
    expect(stream.query).toEqual({ fieldSelector: 'metadata.name!=x', resourceVersion: '10', allowWatchBookmarks: true, timeoutSeconds: 300 });
    expect(h.reflector.connected).toBe(false); // not before the API server answers
    await open(stream);
    expect(h.reflector.connected).toBe(true);
  });

  it('applies ADDED, MODIFIED and DELETED in order, and a BOOKMARK only moves the resourceVersion', async () => {
    const h = harness();
    h.reflector.start();
    const stream = await open(await h.watch.stream(0));
    stream.send('ADDED', obj('a', '11', 'one')).send('MODIFIED', obj('a', '12', 'two')).send('ADDED', obj('b', '13'));
    stream.send('DELETED', obj('b', '14')).bookmark('20');
    expect([...h.store.values()]).toEqual([obj('a', '12', 'two')]);
    expect(h.events).toEqual(['ADDED', 'MODIFIED', 'ADDED', 'DELETED', 'BOOKMARK']);
    expect(h.reflector.lastEventAt).toBe(h.clock);
    stream.end();
    // A stream that ended well is renewed from the last version seen, without a relist.
    const next = await h.watch.stream(1);
    expect(next.resourceVersion).toBe('20');
    expect(h.listCalls).toHaveLength(1);
    expect(h.restarts).toEqual(['closed']);
    expect(h.delays).toEqual([]);
  });

  it.each([
    ['an ERROR event with code 410', (s: ScriptedStream) => void s.gone()],
    ['the stream ending with HTTP 410', (s: ScriptedStream) => s.end(Object.assign(new Error('Gone'), { statusCode: 410 }))],
  ])('relists after %s and drops what was deleted meanwhile', async (_name, expire) => {
    const h = harness();
    h.cluster.set('a', obj('a', '5'));
    h.cluster.set('b', obj('b', '6'));
    h.reflector.start();
    const first = await open(await h.watch.stream(0));
    // Meanwhile b was deleted and c created, and the history compacted.
    h.cluster.delete('b');
    h.cluster.set('c', obj('c', '30'));
    h.listVersion = '31';
    expire(first);
    const next = await h.watch.stream(1);
    expect(next.resourceVersion).toBe('31');
    expect([...h.store.keys()].sort()).toEqual(['a', 'c']);
    expect(h.listCalls).toHaveLength(2);
    expect(h.reconciles).toBe(2);
    expect(h.restarts).toEqual(['expired']);
  });

  it('relists when the reconnect itself is answered 410', async () => {
    const h = harness();
    h.reflector.start();
    (await open(await h.watch.stream(0))).end(new Error('socket hang up'));
    (await h.watch.stream(1)).refuse(410);
    const next = await h.watch.stream(2);
    expect(h.listCalls).toHaveLength(2);
    expect(next.resourceVersion).toBe('10');
  });

  it('backs off 1 s, 2 s, 4 s, 8 s while reconnects fail, and starts over after a healthy stream', async () => {
    const h = harness();
    h.reflector.start();
    (await open(await h.watch.stream(0))).send('ADDED', obj('a', '11')).end(new Error('socket hang up'));
    for (let n = 1; n <= 3; n += 1) (await h.watch.stream(n)).refuse();
    const healthy = await open(await h.watch.stream(4));
    expect(h.delays).toHaveLength(4);
    for (const [i, base] of [1000, 2000, 4000, 8000].entries()) {
      expect(h.delays[i]).toBeGreaterThanOrEqual(base);
      expect(h.delays[i]).toBeLessThanOrEqual(base * 1.1);
    }
    // Every reconnect resumed from the last event, none relisted.
    expect(h.watch.streams.slice(1).map((s) => s.resourceVersion)).toEqual(['11', '11', '11', '11']);
    expect(h.listCalls).toHaveLength(1);
    healthy.send('ADDED', obj('b', '12'));
    h.clock += 60_000;
    healthy.end();
    (await h.watch.stream(5)).refuse();
    await h.watch.stream(6);
    expect(h.delays[4]).toBeLessThanOrEqual(1100);
  });

  it('treats a stream that closes at once without an event as a failure, so that it cannot spin', async () => {
    const h = harness();
    h.reflector.start();
    (await open(await h.watch.stream(0))).end();
    await h.watch.stream(1);
    expect(h.delays).toHaveLength(1);
    expect(h.failed).toEqual([{ error: 'watch closed immediately', attempt: 1 }]);
    expect(h.restarts).toEqual(['error']);
  });

  it('keeps lastHealthyAt at the last healthy moment while attempts fail, reports each, and reports the recovery', async () => {
    const h = harness();
    h.reflector.start();
    const first = await open(await h.watch.stream(0));
    first.bookmark('11');
    const healthyAt = h.clock;
    h.clock += 10_000;
    first.end(new Error('socket hang up'));
    for (let n = 1; n <= 3; n += 1) {
      h.clock += 1000;
      (await h.watch.stream(n)).refuse();
    }
    await h.watch.stream(4);
    expect(h.reflector.lastHealthyAt).toBe(healthyAt + 10_000); // the stream was well until it dropped
    expect(h.reflector.connected).toBe(false);
    expect(h.reflector.lastError).toBe('connect ECONNREFUSED 127.0.0.1:6443');
    expect(h.failed.map((f) => f.attempt)).toEqual([1, 2, 3, 4]);
    expect(h.failed[0]!.error).toBe('socket hang up');
    await open(await h.watch.stream(4));
    expect(h.recovered).toEqual([4]);
  });

  it('retries a failing initial list with backoff, and syncs once it answers', async () => {
    const h = harness();
    h.failLists = 3;
    h.cluster.set('a', obj('a', '5'));
    h.reflector.start();
    await waitFor(() => h.listCalls.length === 4, 'four list attempts');
    expect(h.delays).toHaveLength(3);
    const stream = await h.watch.stream(0);
    expect(h.reflector.synced).toBe(true);
    expect(stream.resourceVersion).toBe('10');
    expect(h.failed.map((f) => f.error)).toEqual(Array(3).fill('connect ECONNREFUSED 127.0.0.1:6443'));
    expect(h.recovered).toEqual([3]);
  });

  it('lists in pages, applying each page as it arrives, and reconciles once with every key', async () => {
    const h = harness({ pageSize: 2 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) h.cluster.set(name, obj(name, '1'));
    h.store.set('gone', obj('gone', '1'));
    h.reflector.start();
    await h.watch.stream(0);
    expect(h.listCalls).toEqual([{ limit: 2, continueToken: undefined }, { limit: 2, continueToken: 'c' }, { limit: 2, continueToken: 'e' }]);
    expect([...h.store.keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(h.reconciles).toBe(1);
  });

  it('relists from the start when a continue token expires mid-list, and reconciles only after a whole list', async () => {
    const h = harness({ pageSize: 2 });
    for (const name of ['a', 'b', 'c', 'd']) h.cluster.set(name, obj(name, '1'));
    h.store.set('gone', obj('gone', '1'));
    h.expiredTokens.add('c');
    h.reflector.start();
    const stream = await h.watch.stream(0);
    expect(h.listCalls.map((c) => c.continueToken)).toEqual([undefined, 'c', undefined, 'c']);
    expect(h.failed).toEqual([{ error: 'HTTP-Code: 410 Message: The provided continue parameter is too old', attempt: 1 }]);
    expect(h.reconciles).toBe(1);
    expect([...h.store.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(stream.resourceVersion).toBe('10');
  });

  it('waits for a slow API server without counting it as a failure', async () => {
    const h = harness();
    h.reflector.start();
    const stream = await h.watch.stream(0);
    h.clock += 30_000; // the answer takes long
    await open(stream);
    stream.send('ADDED', obj('a', '11'));
    expect(h.store.has('a')).toBe(true);
    expect(h.delays).toEqual([]);
    expect(h.failed).toEqual([]);
  });

  it('on a non-410 ERROR event, reconnects from the same version', async () => {
    const h = harness();
    h.reflector.start();
    const stream = await open(await h.watch.stream(0));
    stream.send('ADDED', obj('a', '11')).send('ERROR', { kind: 'Status', code: 500, message: 'internal error' });
    expect(stream.aborted).toBe(true);
    const next = await h.watch.stream(1);
    expect(next.resourceVersion).toBe('11');
    expect(h.listCalls).toHaveLength(1);
  });

  it('stops at once: an open stream is aborted, and a watch the API server has not answered is not waited for', async () => {
    const h = harness();
    h.reflector.start();
    const stream = await open(await h.watch.stream(0));
    await h.reflector.stop();
    expect(stream.aborted).toBe(true);
    expect(h.reflector.connected).toBe(false);

    const slow = harness();
    slow.reflector.start();
    await slow.watch.stream(0); // never answered
    await slow.reflector.stop();
    expect(slow.watch.streams).toHaveLength(1);
  });
});
