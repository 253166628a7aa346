import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExtenderFilterResult } from '../src/http/wire-types.js';
import { FIXTURES, fixture, post } from './support/http.js';

/** The built command (`npm test` builds first), run as a user would run it. */
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const children: ChildProcess[] = [];

function run(args: string[]): { child: ChildProcess; exit: Promise<{ code: number | null; stderr: string; stdout: string }> } {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const exit = new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stderr, stdout })),
  );
  return { child, exit };
}

/** Waits (a minute at most: a busy machine starts node slowly) for a stdout line matching `pattern`; resolves with its first group. */
function stdoutLine(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${what} line within 60 s in: ${seen}`)), 60_000);
    const onData = (d: Buffer) => {
      seen += d;
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(match[1] ?? match[0]);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`exited before the ${what} line: ${seen}`));
    });
  });
}

/** Waits for the "listening" log line and returns the URL it prints. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return stdoutLine(child, /"url":"(http:\/\/[^"]+)"/, 'listening');
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

describe('sysctl-extender command', () => {
  it('serves a snapshot on the free port it picked and prints', async () => {
    const { child, exit } = run(['--snapshot', join(FIXTURES, 'cluster.json'), '--port', '0', '--host', '127.0.0.1']);
    const url = await listeningUrl(child);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const result = (await post(`${url}/filter`, fixture('names/b-safe-filter.json'))).body as ExtenderFilterResult;
    expect([...result.NodeNames!].sort()).toEqual(['n2', 'n4']);
    child.kill('SIGTERM');
    expect((await exit).code).toBe(0);
  });

  it('on SIGTERM finishes the requests in flight, then exits 0', async () => {
    const { child, exit } = run(['--snapshot', join(FIXTURES, 'cluster.json'), '--port', '0']);
    const url = new URL(await listeningUrl(child));
    const body = Buffer.from(fixture('names/c-unsafe-filter.json'));
    // Requests the server has begun (each got its 100 Continue: no fixed wait that a busy machine
    // could outlast), whose bodies are half sent when the signal arrives.
    const inFlight = Array.from({ length: 5 }, () => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/filter', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length, expect: '100-continue' } });
      const begun = new Promise<void>((resolve) => req.once('continue', resolve));
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
      });
      req.flushHeaders();
      return { req, answer, begun };
    });
    await Promise.all(inFlight.map(({ begun }) => begun));
    for (const { req } of inFlight) req.write(body.subarray(0, 100));
    const shuttingDown = stdoutLine(child, /shutting down/, 'shutting down');
    child.kill('SIGTERM');
    await shuttingDown; // the listener is closing: the rest of each body arrives after the signal
    for (const { req } of inFlight) req.end(body.subarray(100));
    for (const { answer } of inFlight) {
      const { status, text } = await answer;
      expect(status).toBe(200);
      expect((JSON.parse(text) as ExtenderFilterResult).NodeNames!.sort()).toEqual(['n4']);
    }
    expect((await exit).code).toBe(0);
    await expect(fetch(`${url.origin}/healthz`)).rejects.toThrow();
  });

  it('serves metrics and probes, but not the verbs, on --metrics-port', async () => {
    const { child } = run(['--snapshot', join(FIXTURES, 'cluster.json'), '--port', '0', '--metrics-port', '0', '--metrics-host', '127.0.0.1']);
    const opsUrl = await stdoutLine(child, /"url":"(http:\/\/[^"]+)","port":\d+,"msg":"serving metrics/, 'serving metrics');
    expect((await fetch(`${opsUrl}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${opsUrl}/metrics`)).text()).toMatch(/^sysctl_extender_index_nodes 4$/m);
    const bind = await post(`${opsUrl}/bind`, fixture('names/a-none-bind.json'));
    expect(bind.status).toBe(404);
    expect((await post(`${opsUrl}/filter`, fixture('names/a-none-filter.json'))).status).toBe(404);
  });

  it('serves the embedded demo cluster by default', async () => {
    const { child } = run(['--port', '0']);
    const url = await listeningUrl(child);
    // n5 runs team a's database profile, n4 is an idle shared node, n1 team a's idle node without an allow-list.
    const body = fixture('names/c-unsafe-filter.json').replace(/"NodeNames":\[[^\]]*\]/, '"NodeNames":["n1","n4","n5","n6"]');
    const result = (await post(`${url}/filter`, body)).body as ExtenderFilterResult;
    expect(result.NodeNames).toEqual(['n4', 'n5']);
    expect(result.FailedNodes).toEqual({ n6: 'node runs another sysctl profile' });
    expect(result.FailedAndUnresolvableNodes).toEqual({ n1: 'node has no unsafe-sysctl allow-list' });
  });

  it('reloads the policy file within 2 s without dropping requests, rebuilding the index for new keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sysctl-extender-reload-'));
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, 'policy: strict\n');
    const { child } = run(['--snapshot', join(FIXTURES, 'cluster.json'), '--config', policyFile, '--port', '0']);
    const url = await listeningUrl(child);
    const config = async () => (await (await fetch(`${url}/config`)).json()) as { policy: { policy: string }; source: string; rejected?: { reason: string } };
    expect(await config()).toMatchObject({ policy: { policy: 'strict' }, source: `file ${policyFile}` });

    // Filter calls keep flowing while the policy changes under them.
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!stop) statuses.push((await post(`${url}/filter`, fixture('names/a-none-filter.json'))).status);
    })();
    const within2s = async (what: string, condition: () => Promise<boolean>) => {
      const started = Date.now();
      while (!(await condition())) {
        if (Date.now() - started > 2000) throw new Error(`${what} not seen within 2 s`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };

    writeFileSync(policyFile, 'policy: compatible\n');
    await within2s('compatible policy', async () => (await config()).policy.policy === 'compatible');
    writeFileSync(policyFile, 'policy: compatible\nweights: {ownTeam: oops}\n');
    await within2s('rejection', async () => (await config()).rejected !== undefined);
    expect((await config()).rejected?.reason).toMatch(/\/weights\/ownTeam must be number/);
    expect((await config()).policy.policy).toBe('compatible');

    // A new team label key: n2's `sysctl-extender.io/team: b` no longer counts, so team-a's pod may use it.
    const a = () => post(`${url}/filter`, fixture('names/a-none-filter.json')).then((r) => (r.body as ExtenderFilterResult).NodeNames);
    expect(await a()).not.toContain('n2');
    writeFileSync(policyFile, 'keys: {teamLabel: example.com/team}\n');
    await within2s('re-indexed keys', async () => (await a())!.includes('n2'));
    stop = true;
    await traffic;
    expect(statuses.length).toBeGreaterThan(20);
    expect(new Set(statuses)).toEqual(new Set([200]));
  });

  it.each([
    ['a missing snapshot', ['--snapshot', '/nonexistent/cluster.json'], /cannot read snapshot \/nonexistent\/cluster\.json/],
    ['a snapshot that is not JSON', ['--snapshot', 'NOT_JSON'], /is not JSON/],
    ['a snapshot without items', ['--snapshot', 'NO_ITEMS'], /has no "items" list/],
    ['an invalid policy file', ['--config', 'BAD_POLICY'], /invalid policy: \/policy must be equal to one of the allowed values/],
    ['a port out of range', ['--port', '70000'], /must be 0\.\.65535/],
    ['a TLS certificate without its key', ['--tls-cert', '/tmp/x.crt'], /--tls-cert and --tls-key go together/],
    ['an unreadable TLS certificate', ['--tls-cert', '/nonexistent.crt', '--tls-key', '/nonexistent.key', '--port', '0'], /cannot read TLS certificate \/nonexistent\.crt/],
    ['both policy sources', ['--config', 'BAD_POLICY', '--config-map', 'kube-system/policy'], /use --config or --config-map, not both/],
  ])('exits non-zero with a clear message for %s', async (_name, args, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'sysctl-extender-cli-'));
    const files: Record<string, [string, string]> = {
      NOT_JSON: ['snapshot.json', 'apiVersion: v1\nkind: List\n'],
      NO_ITEMS: ['empty.json', '{"kind": "List"}'],
      BAD_POLICY: ['policy.yaml', 'policy: lenient\n'],
    };
    const resolved = args.map((a) => {
      const file = files[a];
      if (!file) return a;
      writeFileSync(join(dir, file[0]), file[1]);
      return join(dir, file[0]);
    });
    // Each of these fails before listening, so no port is needed.
    const { exit } = run(resolved);
    const { code, stderr } = await exit;
    expect(code).not.toBe(0);
    expect(stderr).toMatch(message);
  });
});
