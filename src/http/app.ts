import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { bindErrorText, type Binder } from '../cluster/binder.js';
import { policyDocument } from '../config/policy.js';
import { explainPod } from '../explain/explain-pod.js';
import { decodeBindingArgs, decodeExplainArgs, decodePreemptionArgs } from './decode.js';
import { WrittenJson } from './json-writer.js';
import { parseJson, readBody } from './json-body.js';
import { decodeCandidateArgs } from './candidate-args.js';
import { runFilter } from './filter-verb.js';
import type { Generation } from './generation.js';
import type { ExtenderMetrics } from './metrics.js';
import { runPreempt } from './preempt-verb.js';
import { runPrioritize } from './prioritize-verb.js';
import type { Readiness } from '../readiness.js';
import { RequestError } from './request-error.js';
import type { RefusalLog } from '../status/refusal-log.js';
import { mountStatusRoutes } from '../status/status-routes.js';

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
  readonly refusals?: RefusalLog;
}

type VerbHandler = (body: Buffer, generation: Generation) => unknown | Promise<unknown>;

/** What serves the extender's port: the verbs, then the express app for everything else. */
export type ExtenderHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Thin handlers that decode, call a verb, and encode; the verbs themselves (src/filter,
 * src/prioritize) never see HTTP. `POST /<verb>` is dispatched before express: its router and
 * middleware chain cost a tenth of a filter call at 5,000 nodes, and a verb needs none of
 * them. Everything else (operations endpoints, 404, 405) is the express app.
 */
export function createApp(deps: AppDeps): ExtenderHandler {
  const verbs: Record<string, VerbHandler> = {
    filter: (body, generation) => {
      const args = decodeCandidateArgs(body, generation.resolver);
      deps.binder.rememberPod(args.Pod);
      const { answer, verdicts } = runFilter(args, generation);
      const tally = deps.metrics.countRejections(verdicts);
      if (tally) deps.refusals?.record(args.Pod.metadata?.namespace, args.Pod.metadata?.name, verdicts.length, tally);
      return answer;
    },
    prioritize: (body, generation) => {
      const args = decodeCandidateArgs(body, generation.resolver);
      deps.binder.rememberPod(args.Pod);
      return runPrioritize(args, generation);
    },
    bind: async (body) => {
      const args = decodeBindingArgs(parseJson(body));
      const result = await deps.binder.bind({ namespace: args.PodNamespace, name: args.PodName, uid: args.PodUID, node: args.Node });
      deps.metrics.countBind(result.outcome);
      const error = bindErrorText(result);
      if (error !== '') deps.logger.info({ pod: `${args.PodNamespace}/${args.PodName}`, node: args.Node, error }, 'bind refused');
      return { Error: error };
    },
    preempt: (body, generation) => runPreempt(decodePreemptionArgs(parseJson(body)), generation),
    explain: (body, generation) => {
      const args = decodeExplainArgs(parseJson(body));
      return explainPod(args.Pod, generation, args.NodeNames ?? undefined);
    },
  };
  const byPath = new Map(Object.entries(verbs).map(([verb, handle]) => [`/${verb}`, { verb, handle }]));

  const app = express();
  app.disable('x-powered-by');
  app.use(timeRequests(deps.metrics));
  const opsPaths = mountOpsRoutes(app, deps);
  finish(app, new Map([...[...byPath.keys()].map((path): [string, string] => [path, 'POST']), ...opsPaths]), deps.logger);

  const serveVerb = async (verb: { verb: string; handle: VerbHandler }, req: IncomingMessage, res: ServerResponse) => {
    const start = process.hrtime.bigint();
    res.once('finish', () => deps.metrics.observeRequest(verb.verb, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9));
    try {
      const readiness = deps.readiness.check();
      if (!readiness.ready) throw new RequestError(503, `extender index is not ready: ${readiness.reason}`);
      // Read once: the body limit and the verb come from the same generation.
      const generation = deps.generation();
      const body = await readBody(req, res, generation.policy.bodyLimitBytes);
      sendJson(res, 200, await verb.handle(body, generation));
    } catch (err) {
      sendError(deps.logger, err, verb.verb, res);
    }
  };
  return (req, res) => {
    const verb = req.method === 'POST' ? byPath.get((req.url ?? '').split('?', 1)[0]!) : undefined;
    if (verb) void serveVerb(verb, req, res);
    else app(req, res);
  };
}

/**
 * The operations endpoints alone (health, readiness, metrics, config, the status page), for a second listener
 * on the pod IP (`--metrics-port`): Prometheus and the kubelet's probes reach it, while the
 * verbs, `/bind` above all, stay on loopback.
 */
export function createOpsApp(deps: Pick<AppDeps, 'readiness' | 'metrics' | 'logger' | 'generation' | 'configStatus' | 'refusals'>): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // The status page is for operators: here only, never beside the verbs.
  finish(app, new Map([...mountOpsRoutes(app, deps), ...mountStatusRoutes(app, deps)]), deps.logger);
  return app;
}

function mountOpsRoutes(app: express.Express, deps: Pick<AppDeps, 'readiness' | 'metrics' | 'generation' | 'configStatus'>): Array<[string, string]> {
  app.get('/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
  app.get('/readyz', (_req, res) => {
    const readiness = deps.readiness.check();
    sendJson(res, readiness.ready ? 200 : 503, readiness);
  });
  app.get('/config', (_req, res) => sendJson(res, 200, { policy: policyDocument(deps.generation().policy), ...deps.configStatus?.() }));
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return ['/healthz', '/readyz', '/config', '/metrics'].map((path) => [path, 'GET']);
}

/** 405 for a known path with the wrong method, 404 for the rest, and JSON errors. */
function finish(app: express.Express, knownPaths: ReadonlyMap<string, string>, logger: Logger): void {
  app.use((req: Request, res: Response) => {
    const allowed = knownPaths.get(req.path);
    if (allowed) {
      res.set('Allow', allowed);
      sendJson(res, 405, { Error: `${req.method} is not allowed on ${req.path}; use ${allowed}` });
      return;
    }
    const paths = [...knownPaths].map(([path, method]) => `${method} ${path}`).join(', ');
    sendJson(res, 404, { Error: `unknown path ${req.path}; served: ${paths}` });
  });
  app.use(errorHandler(logger));
}

/** Writes the answer as is: express's res.send would copy it into a Buffer first. */
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const written = body instanceof WrittenJson ? body : undefined;
  const bytes = written ? written.bytes : Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length });
  // 'finish': the bytes are with the operating system and a pooled buffer may serve the next answer.
  res.end(bytes, () => written?.release());
}

function timeRequests(metrics: ExtenderMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      // The verbs are timed where they are served; this times the rest.
      metrics.observeRequest('other', res.statusCode, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}

function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => sendError(logger, err, req.path, res);
}

/** Every error becomes a JSON answer; client errors keep their status, the rest are 500s. */
function sendError(logger: Logger, err: unknown, where: string, res: ServerResponse): void {
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
