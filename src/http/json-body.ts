import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestError } from './request-error.js';

/**
 * Reads a request body, bounded by `limit` bytes (the policy's, which a reload may change),
 * as one Buffer: the verbs decide how to decode it (candidate-args.ts reads names from the
 * bytes). kube-scheduler always sends plain application/json; any content type is accepted so
 * that `curl -d` works, and compressed bodies are refused (a 100 kB gzip body could inflate to
 * the whole limit). Rejects with a RequestError saying what is wrong.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      refuse(req, res, reject, new RequestError(415, 'compressed request bodies are not accepted; send plain JSON'));
      return;
    }
    if (Number(req.headers['content-length'] ?? Number.NaN) > limit) {
      refuse(req, res, reject, tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        refuse(req, res, reject, tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.once('error', (err) => {
      failed = true;
      reject(new RequestError(400, `request body could not be read: ${err.message}`));
    });
    req.once('end', () => {
      if (failed) return;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
  });
}

/** The body as JSON, or a RequestError (400) that says why not. */
export function parseJson(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') throw new RequestError(400, 'request body is empty; a JSON object is expected');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new RequestError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
}

function tooLarge(limit: number): RequestError {
  return new RequestError(413, `request body is larger than the limit of ${limit} bytes`);
}

/**
 * Fails the read at once (the caller answers) and discards the rest of the body. The connection stays open until the client
 * has sent it all: closing it at once made clients still writing a large body fail with EPIPE
 * before they could read the answer. The server's requestTimeout bounds a body that never ends.
 */
function refuse(req: IncomingMessage, _res: ServerResponse, reject: (err: RequestError) => void, error: RequestError): void {
  req.resume();
  reject(error);
}
