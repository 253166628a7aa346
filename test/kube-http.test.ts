import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeApiError } from '../src/cluster/binder.js';
import { KubeApiError, KubeHttp } from '../src/cluster/kube-http.js';
import { makeCerts, type TestCerts } from './support/certs.js';

// A TLS server that asks for client certificates, like kube-apiserver, and says who called.
let certs: TestCerts;
let server: https.Server;
let url: string;
let connections = 0;

beforeAll(async () => {
  certs = makeCerts();
  // Copies the client may rotate under its feet.
  copyFileSync(certs.clientCert, join(certs.dir, 'user.crt'));
  copyFileSync(certs.clientKey, join(certs.dir, 'user.key'));
  server = https.createServer({ cert: readFile(certs.serverCert), key: readFile(certs.serverKey), ca: readFile(certs.caCert), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    if (req.headers.authorization === 'Bearer revoked') {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 401, message: 'Unauthorized' }));
      return;
    }
    if (req.url === '/api/v1/namespaces/ns/pods/missing') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 404, message: 'pods "missing" not found' }));
      return;
    }
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ cn: peer.subject?.CN, authorization: req.headers.authorization, path: req.url }));
  });
  server.on('secureConnection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function readFile(path: string): Buffer {
  return readFileSync(path);
}

function client(options: { now?: () => number; user?: { token: string } } = {}): KubeHttp {
  const kubeConfig = new KubeConfig();
  const user = { name: 'u', certFile: join(certs.dir, 'user.crt'), keyFile: join(certs.dir, 'user.key'), token: 'the-token' };
  kubeConfig.loadFromOptions({ clusters: [{ name: 'c', server: url, caFile: certs.caCert }], users: [user], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  // The test changes the token where client-node reads it from.
  if (options.user) Object.defineProperty(kubeConfig.users[0], 'token', { get: () => options.user!.token });
  return new KubeHttp(kubeConfig, { maxSockets: 16, now: options.now });
}

describe('KubeHttp', () => {
  it('keeps its TLS connections: one for calls in sequence, at most its pool for calls at once', async () => {
    const api = client();
    const before = connections;
    for (let i = 0; i < 30; i++) {
      const answer = await api.request<{ cn: string; authorization: string }>('GET', '/api/v1/nodes');
      expect(answer).toMatchObject({ cn: 'kube-scheduler', authorization: 'Bearer the-token' });
    }
    expect(connections - before).toBe(1);
    await Promise.all(Array.from({ length: 50 }, () => api.request('POST', '/api/v1/namespaces/ns/pods/p/binding', { kind: 'Binding' })));
    expect(connections - before).toBeLessThanOrEqual(16);
    api.close();
  });

  it('reads the credentials again once they are 10 s old: a client certificate rotated on disk is used then', async () => {
    let now = 1_000_000;
    const api = client({ now: () => now });
    expect(await api.request('GET', '/api/v1/nodes')).toMatchObject({ cn: 'kube-scheduler' });
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: certs.dir, stdio: 'pipe' });
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'user.key', '-out', 'user.csr', '-subj', '/CN=rotated');
    openssl('x509', '-req', '-in', 'user.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'user.crt', '-days', '1', '-extfile', 'client.ext');
    now += 9_000;
    expect(await api.request('GET', '/api/v1/nodes')).toMatchObject({ cn: 'kube-scheduler' });
    now += 1_000;
    expect(await api.request('GET', '/api/v1/nodes')).toMatchObject({ cn: 'rotated' });
    api.close();
  });

  it('reads the credentials again at once when the API server answers 401, and retries the call once', async () => {
    const user = { token: 'revoked' };
    const api = client({ now: () => 0, user });
    const refused = await api.request('GET', '/api/v1/nodes').catch((e: unknown) => e);
    expect((refused as KubeApiError).code).toBe(401);
    // Within the TTL the kept token would still be sent: the 401 makes the client read again.
    user.token = 'rotated-token';
    expect(await api.request('GET', '/api/v1/nodes')).toMatchObject({ authorization: 'Bearer rotated-token' });
    api.close();
  });

  it("rejects an answer outside 2xx with the API's Status, which the binder describes", async () => {
    const api = client();
    const err = await api.request('GET', '/api/v1/namespaces/ns/pods/missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).code).toBe(404);
    expect(describeApiError(err)).toBe('HTTP 404: pods "missing" not found');
    api.close();
  });

  it('refuses plain HTTP unless TLS verification is explicitly off, as client-node does', () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({ clusters: [{ name: 'c', server: 'http://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    expect(() => new KubeHttp(kubeConfig)).toThrow(/HTTP protocol is not allowed/);
  });
});
