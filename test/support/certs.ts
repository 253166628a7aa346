import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throw-away CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Issues another server certificate (for rotation) into the given paths. */
  issueServer(certPath: string, keyPath: string, commonName: string): void;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

export function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'certs-'));
  const p = (name: string) => join(dir, name);
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '1', '-subj', '/CN=test-ca');
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  const issue = (cert: string, key: string, cn: string, ext: string) => {
    const csr = `${cert}.csr`;
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`);
    openssl(dir, 'x509', '-req', '-in', csr, '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', cert, '-days', '1', '-extfile', p(ext));
  };
  issue(p('server.crt'), p('server.key'), 'server-1', 'server.ext');
  issue(p('client.crt'), p('client.key'), 'kube-scheduler', 'client.ext');
  return {
    dir,
    caCert: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    issueServer: (cert, key, cn) => issue(cert, key, cn, 'server.ext'),
  };
}
