import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { WrittenJson } from './json-writer.js';
import { RequestError } from './request-error.js';

/** Writes a JSON answer; a WrittenJson as is (express's res.send would copy it into a Buffer first). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const written = body instanceof WrittenJson ? body : undefined;
  const bytes = written ? written.bytes : Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length });
  // 'finish': the bytes are with the operating system and a pooled buffer may serve the next answer.
  res.end(bytes, () => written?.release());
}

/**
 * The one error mapping: every error becomes a JSON answer `{"Error": message}`; client errors
 * keep their status, the rest are 500s (logged, their message not shown).
 */
export function sendError(logger: Logger, err: unknown, where: string, res: ServerResponse): void {
  const { status, message } = describeError(err);
  if (status >= 500) logger.error({ err, where }, 'request failed');
  else logger.debug({ where, status, message }, 'bad request');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { Error: message });
}

function describeError(err: unknown): { status: number; message: string } {
  if (err instanceof RequestError) return { status: err.status, message: err.message };
  // express's own client errors (a malformed URL escape) carry a 4xx status.
  const e = err as { status?: unknown; message?: unknown };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return { status: e.status, message: String(e.message) };
  return { status: 500, message: 'internal error' };
}
