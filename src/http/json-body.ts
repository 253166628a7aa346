import type { NextFunction, Request, Response } from 'express';
import { RequestError } from './request-error.js';

/**
 * Reads a JSON request body, bounded by `limit()` bytes (the policy's, which a reload may
 * change). Leaner than express.json on the hot path: one concat, one decode, one parse.
 * kube-scheduler always sends plain application/json; any content type is accepted so that
 * `curl -d` works, and compressed bodies are refused (a 100 kB gzip body could inflate to the
 * whole limit).
 */
export function jsonBody(limit: () => number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const bytes = limit();
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      refuse(req, res, next, new RequestError(415, 'compressed request bodies are not accepted; send plain JSON'));
      return;
    }
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (declared > bytes) {
      refuse(req, res, next, tooLarge(bytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > bytes) {
        failed = true;
        refuse(req, res, next, tooLarge(bytes));
        return;
      }
      chunks.push(chunk);
    });
    req.once('error', (err) => {
      if (!failed) {
        failed = true;
        next(new RequestError(400, `request body could not be read: ${err.message}`));
      }
    });
    req.once('end', () => {
      if (failed) return;
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8');
      if (text.trim() === '') {
        next(new RequestError(400, `request body is empty; ${req.path.slice(1)} expects a JSON object`));
        return;
      }
      try {
        req.body = JSON.parse(text) as unknown;
      } catch (err) {
        next(new RequestError(400, `request body is not valid JSON: ${(err as Error).message}`));
        return;
      }
      next();
    });
  };
}

function tooLarge(limit: number): RequestError {
  return new RequestError(413, `request body is larger than the limit of ${limit} bytes`);
}

/** Answers now, reads no more of the body, and closes the connection once answered. */
function refuse(req: Request, res: Response, next: NextFunction, error: RequestError): void {
  res.setHeader('connection', 'close');
  req.resume(); // discard the rest; the server's requestTimeout bounds a body that never ends
  next(error);
}
