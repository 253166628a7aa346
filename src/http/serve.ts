import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import { loadTls, type TlsFiles } from './tls-files.js';

export interface Listening {
  readonly server: Server | HttpsServer;
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish, then resolves. */
  close(): Promise<void>;
}

export interface ListenOptions {
  readonly tls?: TlsFiles;
  /** How often certificate files are checked for a rotation. */
  readonly tlsReloadIntervalMs?: number;
  readonly logger?: Logger;
}

/**
 * Listens on host:port (0 picks a free port) with bounded header and request times; over
 * HTTPS when TLS files are given, picking up rotated certificates without a restart.
 */
export async function listen(app: RequestListener, host: string, port: number, options: ListenOptions = {}): Promise<Listening> {
  let stopTlsReload = (): void => {};
  let server: Server | HttpsServer;
  if (options.tls) {
    const tls = options.tls;
    let loaded = loadTls(tls);
    const https = createHttpsServer(loaded.options, app);
    const timer = setInterval(() => {
      try {
        const next = loadTls(tls);
        if (next.fingerprint === loaded.fingerprint) return;
        https.setSecureContext(next.options);
        loaded = next;
        options.logger?.info({ certFile: tls.certFile }, 'TLS certificate reloaded');
      } catch (err) {
        // A rotation caught half-way, or files removed: keep serving with what works.
        options.logger?.error({ reason: (err as Error).message }, 'TLS files unusable; keeping the certificate in service');
      }
    }, options.tlsReloadIntervalMs ?? 2000);
    timer.unref();
    stopTlsReload = () => clearInterval(timer);
    server = https;
  } else {
    server = createHttpServer(app);
  }
  // Requests Node's parser refuses (a 16 kB request line, an unknown method) never reach
  // express: answer them in JSON too.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({ Error: tooLarge ? 'request line or headers too large' : `malformed HTTP request (${err.code ?? 'parse error'})` });
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  // A client that trickles its body must not hold a socket forever (kube-scheduler's own timeout is 5 s).
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    port: address.port,
    url: `${options.tls ? 'https' : 'http'}://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((done) => {
        stopTlsReload();
        // Keep-alive sockets turn idle as their requests finish: close each as soon as it does,
        // and give up on stragglers well inside the kubelet's 30 s termination grace period.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        const deadline = setTimeout(() => server.closeAllConnections(), 20_000);
        server.close(() => {
          clearInterval(sweep);
          clearTimeout(deadline);
          done();
        });
        server.closeIdleConnections();
      }),
  };
}
