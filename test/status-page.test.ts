import { afterEach, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { generateCluster } from '../support/synthetic-cluster/cluster-generator.js';
import { applyList, type KubeList } from '../src/cluster/snapshot.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { demoCluster } from '../src/demo/demo-cluster.js';
import { Extender } from '../src/extender.js';
import { StaticReadiness } from './support/readiness.js';
import { listen, type Listening } from '../src/http/serve.js';
import { RefusalLog } from '../src/status/refusal-log.js';
import { StatusCache } from '../src/status/status-cache.js';
import { escapeHtml } from '../src/status/status-html.js';
import type { StatusModel } from '../src/status/status-model.js';
import { fixture, post } from './support/http.js';

const open: Listening[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

/** An extender on `list`, both listeners on loopback. */
async function serve(list: KubeList, loaded = true): Promise<{ extender: Extender; verbs: string; ops: string; readiness: StaticReadiness }> {
  const readiness = new StaticReadiness();
  const extender = new Extender({ policy: DEFAULT_POLICY, readiness });
  applyList(extender.index, list);
  if (loaded) readiness.markLoaded();
  const verbs = await listen(extender.app, '127.0.0.1', 0);
  const ops = await listen(extender.opsApp, '127.0.0.1', 0);
  open.push(verbs, ops);
  return { extender, verbs: verbs.url, ops: ops.url, readiness };
}

async function statusJson(url: string): Promise<StatusModel> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return (await res.json()) as StatusModel;
}

describe('GET /status and /status.json', () => {
  it('are served on the operations listener only, never beside the verbs', async () => {
    const { verbs, ops } = await serve(demoCluster());
    expect((await fetch(`${verbs}/status`)).status).toBe(404);
    expect((await fetch(`${verbs}/status.json`)).status).toBe(404);
    const page = await fetch(`${ops}/status`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await fetch(`${ops}/status`, { method: 'POST' })).status).toBe(405);
  });

  it('answers gzipped to a client that accepts it, plain to one that does not', async () => {
    const { ops } = await serve(demoCluster());
    const raw = (encoding: string | undefined) =>
      new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        const req = httpRequest(`${ops}/status`, { headers: encoding ? { 'accept-encoding': encoding } : {} }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject).end();
      });
    const zipped = await raw('gzip, deflate');
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toMatch(/accept-encoding/i);
    const plain = await raw(undefined);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());
    expect(plain.body.toString()).toMatch(/^<!doctype html>/);
  });

  it('groups the demo nodes by team, shared apart, with profiles, runtimes and idle nodes', async () => {
    const { ops } = await serve(demoCluster());
    const model = await statusJson(`${ops}/status.json`);
    expect(model.readiness).toEqual({ ready: true, reason: null });
    expect(model.index).toMatchObject({ nodes: 12, namespaces: 4 });
    expect(model.teams.map((t) => [t.team, t.nodes, t.idle])).toEqual([['a', 2, 1], ['b', 2, 2], [null, 8, 5]]);
    const n5 = model.teams[0]!.shown.find((n) => n.name === 'n5')!;
    expect(n5).toEqual({
      name: 'n5', profile: 'kernel.sem=250 32000 100 128, kernel.shmmax=68719476736', declared: '(none)', allowList: 'kernel.shm*,kernel.sem',
      kubelet: 'v1.31.4-eks-2d98532', kernel: '5.15.0-1048-aws', occupants: 1, idle: false, problem: null,
    });
    // Natural order: n10 after n9.
    expect(model.teams[2]!.shown.map((n) => n.name)).toEqual(['n3', 'n4', 'n6', 'n7', 'n9', 'n10', 'n11', 'n12']);
    expect(model.teams[2]!.shown.find((n) => n.name === 'n7')).toMatchObject({ profile: 'net.core.somaxconn=4096, vm.max_map_count=262144', declared: 'vm.max_map_count=262144' });
    expect(model.profiles[0]).toEqual({ profile: '(none)', nodes: 9 });
    expect(model.profiles.reduce((sum, p) => sum + p.nodes, 0)).toBe(12);
  });

  it('records the refused filter calls, newest first, in a bounded ring', async () => {
    const { verbs, ops, extender } = await serve(demoCluster());
    const body = fixture('names/c-unsafe-filter.json');
    for (let i = 0; i < extender.refusals.capacity + 5; i += 1) expect((await post(`${verbs}/filter`, body)).status).toBe(200);
    const after = await statusJson(`${ops}/status.json`);
    expect(after.refusals.calls).toBe(extender.refusals.capacity + 5);
    expect(after.refusals.recent).toHaveLength(extender.refusals.capacity);
    expect(after.refusals.recent[0]).toMatchObject({ pod: 'team-a/c-unsafe', candidates: 4, refused: 3, reasons: { other_team: 1, allow_list_undeclared: 2 } });
    const times = after.refusals.recent.map((r) => r.at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('the ring keeps the newest entries in order once it wraps', () => {
    const log = new RefusalLog(3);
    for (let i = 0; i < 5; i += 1) log.record('ns', `p${i}`, 10, { codes: ['other_team', 'busy_other_profile'], counts: [i, 1] });
    expect(log.recent().map((r) => [r.pod, r.refused, r.reasons.other_team])).toEqual([['ns/p4', 5, 4], ['ns/p3', 4, 3], ['ns/p2', 3, 2]]);
    expect(log.recorded).toBe(5);
  });

  it('escapes every string from the cluster and shows no pod spec, token or other annotation', async () => {
    const evil = '<img src=x onerror=alert(1)>"\'&';
    const list = demoCluster();
    list.items.push(
      { kind: 'Node', metadata: { name: `n-${evil}`, labels: { 'sysctl-extender.io/team': `t${evil}` }, annotations: { 'sysctl-extender.io/allowed-unsafe-sysctls': 'net.*', 'secret.example/token': 'TOKEN-abc123' } } },
      { kind: 'Pod', metadata: { name: 'leaky', namespace: 'team-a', annotations: { note: 'PODSECRET-xyz' } }, spec: { nodeName: `n-${evil}`, containers: [{ name: 'c', image: 'IMAGE-private', env: [{ name: 'PASSWORD', value: 'hunter2' }] }] } } as KubeList['items'][number],
    );
    const { ops } = await serve(list);
    const html = await (await fetch(`${ops}/status`)).text();
    expect(html).not.toContain('<img');
    expect(html).toContain(`<strong>${escapeHtml(`n-${evil}`)}</strong>`);
    expect(html).toContain(`Team t${escapeHtml(evil)}`);
    const json = await (await fetch(`${ops}/status.json`)).text();
    for (const text of [html, json]) for (const secret of ['TOKEN-abc123', 'PODSECRET-xyz', 'IMAGE-private', 'hunter2', 'leaky']) expect(text).not.toContain(secret);
    expect(escapeHtml(`a<b>&"'`)).toBe('a&lt;b&gt;&amp;&quot;&#39;');
  });

  it('a new extender has recorded no refusal', async () => {
    const { ops } = await serve(demoCluster());
    expect((await statusJson(`${ops}/status.json`)).refusals).toEqual({ calls: 0, recent: [] });
  });

  it('says why the index is not ready', async () => {
    const { ops } = await serve(demoCluster(), false);
    expect((await statusJson(`${ops}/status.json`)).readiness).toEqual({ ready: false, reason: 'index not loaded yet' });
    expect(await (await fetch(`${ops}/status`)).text()).toContain('not ready</span> <span class="why">index not loaded yet');
  });

  it('refuses a malformed query with a 400', async () => {
    const { ops } = await serve(demoCluster());
    for (const query of ['limit=0', 'limit=abc', 'limit=1&limit=2', 'team=a&team=b', 'limit=-1']) {
      const res = await fetch(`${ops}/status.json?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { Error: string }).Error).toMatch(/limit|team/);
    }
  });

  // How long the page takes, and whether it slows filter, is bench/status-load.ts's to measure.
  it('at 5,000 nodes: the first 50 per team, one team in full', async () => {
    const { plan, list } = generateCluster({ nodes: 5000, podsPerNode: 6, seed: 18 });
    const { ops } = await serve(list);
    const start = performance.now();
    const page = await fetch(`${ops}/status`);
    const html = await page.text();
    const pageMs = performance.now() - start;
    expect(page.status).toBe(200);
    const model = await statusJson(`${ops}/status.json`);
    expect(model.index.nodes).toBe(5000);
    expect(model.teams.reduce((sum, t) => sum + t.nodes, 0)).toBe(5000);
    for (const team of model.teams) expect(team.shown).toHaveLength(Math.min(50, team.nodes));
    expect((html.match(/<tr class="node">/g) ?? []).length).toBe(model.teams.reduce((sum, t) => sum + t.shown.length, 0));
    // The first 50 by name are the 50 smallest names of the team.
    const big = model.teams.find((t) => t.nodes > 50)!;
    const names = plan.nodes.filter((n) => (n.team ?? null) === big.team).map((n) => n.name).sort(new Intl.Collator('en', { numeric: true }).compare);
    expect(big.shown.map((n) => n.name)).toEqual(names.slice(0, 50));
    const one = await statusJson(`${ops}/status.json?team=${encodeURIComponent(big.team ?? '-')}`);
    expect(one.teams.find((t) => t.team === big.team)!.shown.map((n) => n.name)).toEqual(names);
    expect(one.teams.filter((t) => t.team !== big.team).every((t) => t.shown.length === 0)).toBe(true);
    const all = await statusJson(`${ops}/status.json?limit=all`);
    expect(all.teams.reduce((sum, t) => sum + t.shown.length, 0)).toBe(5000);
    console.log(`status at 5,000 nodes: /status ${pageMs.toFixed(1)} ms, ${(html.length / 1024).toFixed(0)} KiB`);
  });
});


describe('StatusCache', () => {
  it('builds a key once per interval, shares a build in progress, and forgets a failed one', async () => {
    let now = 0;
    const cache = new StatusCache(2000, 4, () => now);
    let builds = 0;
    const steps = async function* (): AsyncGenerator<void, Buffer> {
      builds += 1;
      yield;
      return Buffer.from(`build ${builds}`);
    };
    const [a, b] = await Promise.all([cache.get('k', steps), cache.get('k', steps)]);
    expect([a.raw.toString(), b.raw.toString(), builds]).toEqual(['build 1', 'build 1', 1]);
    expect(gunzipSync(a.gzip).toString()).toBe('build 1');
    now = 1999;
    expect((await cache.get('k', steps)).raw.toString()).toBe('build 1');
    now = 2000;
    expect((await cache.get('k', steps)).raw.toString()).toBe('build 2');
    const failing = async function* (): AsyncGenerator<void, Buffer> {
      yield;
      throw new Error('boom');
    };
    await expect(cache.get('f', failing)).rejects.toThrow('boom');
    expect((await cache.get('f', steps)).raw.toString()).toBe('build 3');
  });
});
