import type express from 'express';
import { RequestError } from '../http/request-error.js';
import type { Route } from '../http/route.js';
import { StatusCache } from './status-cache.js';
import { renderStatusHtml, SHARED_TEAM_PARAM } from './status-html.js';
import { buildStatus, DEFAULT_LIMIT, type StatusModel, type StatusQuery, type StatusSources } from './status-model.js';

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // No script, no external asset: the page needs its own inline style and nothing else.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'x-content-type-options': 'nosniff',
};
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/**
 * `GET /status` (HTML for a person) and `GET /status.json` (the same model for scripts), on the
 * operations listener. `?team=NAME` (`-`: the shared nodes) shows every node of one team;
 * otherwise each team shows its first `?limit=N` nodes by name (default 50; `all` for every one).
 * Bodies are at most two seconds old (see StatusCache).
 */
export function statusRoutes(sources: StatusSources): Route[] {
  const cache = new StatusCache();
  const serve = (format: 'html' | 'json') => async (req: express.Request, res: express.Response) => {
    const query = statusQuery(req.query);
    const key = `${format} ${query.team === undefined ? '*' : query.team === null ? '-' : `=${query.team}`} ${query.limit ?? 'all'}`;
    const body = await cache.get(key, async function* () {
      const model: StatusModel = buildStatus(sources, query);
      yield;
      return Buffer.from(format === 'html' ? renderStatusHtml(model) : JSON.stringify(model), 'utf8');
    });
    res.set(format === 'html' ? HTML_HEADERS : JSON_HEADERS).vary('accept-encoding');
    if (req.acceptsEncodings('gzip') === 'gzip') res.set('content-encoding', 'gzip').send(body.gzip);
    else res.send(body.raw);
  };
  return [
    { method: 'GET', path: '/status', page: serve('html') },
    { method: 'GET', path: '/status.json', page: serve('json') },
  ];
}

const MAX_LIMIT = 1_000_000;

/** `?team=` and `?limit=`, each at most once; anything else is a 400. */
export function statusQuery(query: Record<string, unknown>): StatusQuery {
  const team = query.team;
  if (team !== undefined && typeof team !== 'string') throw new RequestError(400, 'team must be given once');
  const limit = query.limit;
  if (limit !== undefined && typeof limit !== 'string') throw new RequestError(400, 'limit must be given once');
  // One team is shown whole unless a limit is asked for.
  let parsed: number | null = team === undefined ? DEFAULT_LIMIT : null;
  if (limit === 'all') parsed = null;
  else if (limit !== undefined) {
    parsed = Number(limit);
    if (!/^\d{1,7}$/.test(limit) || parsed < 1 || parsed > MAX_LIMIT) throw new RequestError(400, `limit must be 1..${MAX_LIMIT} or "all"`);
  }
  return { team: team === undefined ? undefined : team === SHARED_TEAM_PARAM ? null : team, limit: parsed };
}
