import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Binder } from '../cluster/binder.js';
import type { Readiness } from '../readiness.js';
import { sendError, sendJson } from './answer.js';
import { bindVerb } from './bind-verb.js';
import { explainVerb } from './explain-verb.js';
import { filterVerb, type RefusalRecorder } from './filter-verb.js';
import type { Generation } from './generation.js';
import { readBody } from './json-body.js';
import type { ExtenderMetrics } from './metrics.js';
import { opsRoutes } from './ops-routes.js';
import { preemptVerb } from './preempt-verb.js';
import { prioritizeVerb } from './prioritize-verb.js';
import { RequestError } from './request-error.js';
import { verbRoute, type Route } from './route.js';
import type { Verb } from './verb.js';

export interface AppDeps {
  /** The generation in force; a getter so that a policy reload can swap it between requests. */
  readonly generation: () => Generation;
  readonly readiness: Readiness;
  readonly metrics: ExtenderMetrics;
  readonly binder: Binder;
  readonly logger: Logger;
  /** What GET /config shows besides the policy in force. */
  readonly configStatus?: () => object;
  /** Where filter records the calls that refused nodes (GET /status shows the last ones). */
  readonly refusals?: RefusalRecorder;
}

/** What serves a listener: a node:http request listener. */
export type ExtenderHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The extender's port: the verbs kube-scheduler calls, and the operations endpoints, each request timed. */
export function createApp(deps: AppDeps): ExtenderHandler {
  const verbs = [
    filterVerb(deps.binder, deps.metrics, deps.refusals),
    prioritizeVerb(deps.binder),
    bindVerb(deps.binder, deps.metrics, deps.logger),
    preemptVerb,
    explainVerb,
  ];
  return dispatch([...verbs.map(verbRoute), ...opsRoutes(deps)], deps, deps.metrics);
}

/**
 * The operations endpoints alone (health, readiness, metrics, config) and `pages` (the status
 * page), for a second listener on the pod IP (`--metrics-port`): Prometheus and the kubelet's
 * probes reach it, while the verbs, `/bind` above all, stay on loopback. Not timed (the request
 * histogram is kube-scheduler's calls and the extender port's other requests).
 */
export function createOpsApp(deps: Omit<AppDeps, 'binder' | 'refusals'>, pages: readonly Route[] = []): ExtenderHandler {
  return dispatch([...opsRoutes(deps), ...pages], deps);
}

/**
 * The one dispatch of a listener's route table. `POST /<verb>` is served raw, before express:
 * express's router and middleware chain cost a tenth of a filter call at 5,000 nodes, and a verb
 * needs none of them. The pages (GET) stay on express, which gives them what their answers
 * are made of: HEAD, ETag and 304s, query parsing, content negotiation, case- and
 * trailing-slash-tolerant paths. 404 and 405 come from the table, errors from answer.ts.
 */
function dispatch(routes: readonly Route[], deps: Pick<AppDeps, 'generation' | 'readiness' | 'logger'>, timing?: ExtenderMetrics): ExtenderHandler {
  const verbs = new Map<string, Verb>();
  const pages = express();
  pages.disable('x-powered-by');
  for (const route of routes) {
    if (route.method === 'POST') verbs.set(route.path, route.verb);
    else pages.get(route.path, route.page);
  }
  pages.use(notFound(new Map(routes.map((route) => [route.path, route.method]))));
  pages.use((err: unknown, req: Request, res: Response, _next: NextFunction) => sendError(deps.logger, err, req.path, res));

  const serveVerb = async (verb: Verb, req: IncomingMessage, res: ServerResponse) => {
    try {
      const readiness = deps.readiness.check();
      if (!readiness.ready) throw new RequestError(503, `extender index is not ready: ${readiness.reason}`);
      // Read once: the body limit and the verb come from the same generation.
      const generation = deps.generation();
      const body = await readBody(req, res, generation.policy.bodyLimitBytes);
      sendJson(res, 200, await verb.handle(body, generation));
    } catch (err) {
      sendError(deps.logger, err, verb.name, res);
    }
  };
  return (req, res) => {
    const verb = req.method === 'POST' ? verbs.get((req.url ?? '').split('?', 1)[0]!) : undefined;
    if (timing) {
      const start = process.hrtime.bigint();
      res.once('finish', () => timing.observeRequest(verb?.name ?? 'other', res.statusCode, Number(process.hrtime.bigint() - start) / 1e9));
    }
    if (verb) void serveVerb(verb, req, res);
    else pages(req, res);
  };
}

/** 405 for a known path with the wrong method, 404 for the rest. */
function notFound(known: ReadonlyMap<string, string>) {
  return (req: Request, res: Response): void => {
    const allowed = known.get(req.path);
    if (allowed) {
      res.set('Allow', allowed);
      sendJson(res, 405, { Error: `${req.method} is not allowed on ${req.path}; use ${allowed}` });
      return;
    }
    const paths = [...known].map(([path, method]) => `${method} ${path}`).join(', ');
    sendJson(res, 404, { Error: `unknown path ${req.path}; served: ${paths}` });
  };
}
