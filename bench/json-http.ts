/**
 * The HTTP plumbing of the reference servers (do-nothing and naive), on Node's own http module
 * as SPEC section 6 defines the do-nothing server: read the body, JSON.parse it, answer
 * JSON.stringify of the result. Both references share it, so that they differ only in the
 * work their handler does.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Returns the answer for a POST to `path`; throwing answers 400. */
export type JsonHandler = (path: string, body: unknown) => unknown;

/** Like the extender's default policy bodyLimitBytes: large enough for a NodeList of full Nodes. */
const MAX_BODY_BYTES = 100 * 1024 * 1024;

export function createJsonServer(handle: JsonHandler): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      // GET /readyz, /healthz: a reference server is always ready.
      if (req.method !== 'POST') return send(res, 200, { status: 'ok' });
      let status = 200;
      let answer: unknown;
      try {
        answer = handle(req.url ?? '/', JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        status = 400;
        answer = { Error: (err as Error).message };
      }
      send(res, status, answer);
    });
  });
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Listens on a free loopback port. */
export function listenOnLoopback(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}
