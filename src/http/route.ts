import type { RequestHandler } from 'express';
import type { Verb } from './verb.js';

/**
 * One path a listener serves: a verb (`POST`, read raw, see app.ts) or a page (`GET`, an
 * express handler). The table of routes is all a listener knows: 404 and 405 come from it too.
 */
export type Route =
  | { readonly method: 'POST'; readonly path: string; readonly verb: Verb }
  | { readonly method: 'GET'; readonly path: string; readonly page: RequestHandler };

export function verbRoute(verb: Verb): Route {
  return { method: 'POST', path: `/${verb.name}`, verb };
}
