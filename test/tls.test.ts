import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { Extender } from '../src/extender.js';
import { listen, type Listening } from '../src/http/serve.js';
import { StaticReadiness } from './support/readiness.js';
import { makeCerts, type TestCerts } from './support/certs.js';
import { waitFor } from './support/wait.js';

let certs: TestCerts;
let server: Listening | undefined;

beforeAll(() => {
  certs = makeCerts();
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(tls: { certFile: string; keyFile: string; clientCaFile?: string }): Promise<Listening> {
  const readiness = new StaticReadiness();
  readiness.markLoaded();
  server = await listen(new Extender({ policy: DEFAULT_POLICY, readiness }).app, '127.0.0.1', 0, { tls, tlsReloadIntervalMs: 50 });
  return server;
}

/** GET /healthz over TLS, trusting the test CA; resolves to the status and the server certificate's CN. */
function get(url: string, client?: { cert: string; key: string }): Promise<{ status: number; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/healthz`, {
      ca: readFileSync(certs.caCert),
      ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
      agent: false,
    }, (res) => {
      const cn = String((res.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN);
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cn }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS', () => {
  it('serves HTTPS with the given certificate', async () => {
    const s = await serve({ certFile: certs.serverCert, keyFile: certs.serverKey });
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await get(s.url)).toEqual({ status: 200, cn: 'server-1' });
  });

  it('with a client CA, refuses clients without a certificate and accepts signed ones', async () => {
    const s = await serve({ certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.caCert });
    await expect(get(s.url)).rejects.toThrow();
    expect(await get(s.url, { cert: certs.clientCert, key: certs.clientKey })).toEqual({ status: 200, cn: 'server-1' });
  });

  it('picks up a rotated certificate without a restart, and keeps the old one while the files are unusable', async () => {
    const cert = join(certs.dir, 'live.crt');
    const key = join(certs.dir, 'live.key');
    copyFileSync(certs.serverCert, cert);
    copyFileSync(certs.serverKey, key);
    const s = await serve({ certFile: cert, keyFile: key });
    expect((await get(s.url)).cn).toBe('server-1');

    rmSync(key); // half-way through a rotation
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await get(s.url)).toEqual({ status: 200, cn: 'server-1' });

    certs.issueServer(cert, key, 'server-2');
    await waitFor(async () => (await get(s.url)).cn === 'server-2', 'the rotated certificate served');
  });

  it('refuses to start on a key that does not match the certificate', async () => {
    await expect(serve({ certFile: certs.serverCert, keyFile: certs.clientKey })).rejects.toThrow(/not a usable pair/);
    await expect(serve({ certFile: join(certs.dir, 'missing.crt'), keyFile: certs.serverKey })).rejects.toThrow(/cannot read TLS certificate .*missing\.crt: ENOENT/);
  });
});
