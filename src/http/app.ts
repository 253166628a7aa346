import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Policy } from '../config/policy.js';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { CandidateResolver } from './candidates.js';
import type { Binder } from '../cluster/binder.js';
import { explainPod } from '../explain/explain-pod.js';
import { decodeBindingArgs, decodeExplainArgs, decodeExtenderArgs, decodePreemptionArgs } from './decode.js';
import { JsonText } from './encode.js';
import { jsonBody } from './json-body.js';
import { runFilter } from './filter-verb.js';
import type { ExtenderMetrics } from './metrics.js';
import { runPreempt } from './preempt-verb.js';
import { runPrioritize } from './prioritize-verb.js';
import type { Readiness } from './readiness.js';
import { RequestError } from './request-error.js';

/** What the verbs work on; a getter so that a policy reload can swap it between requests. */
export interface ExtenderState {
  readonly index: ClusterIndex;
  readonly resolver: CandidateResolver;
  readonly policy: Policy;
}

export interface AppDeps {
  readonly state: () => ExtenderState;
  readonly readiness: Readiness;
  readonly metrics: ExtenderMetrics;
  readonly binder: Binder;
  readonly logger: Logger;
  /** What GET /config shows besides the policy in force. */
  readonly configStatus?: () => object;
}

type VerbHandler = (body: unknown, state: ExtenderState) => unknown | Promise<unknown>;

/**
 * The express app: thin handlers that decode, call a verb, and encode. The verbs themselves
 * (src/filter, src/prioritize) never see express.
 */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Hashing multi-megabyte answers for an ETag nobody sends back costs latency on the hot path.
  app.set('etag', false);

  app.use(timeRequests(deps.metrics));
  const json = jsonBody(() => deps.state().policy.bodyLimitBytes);

  const verbs: Record<string, VerbHandler> = {
    filter: (body, state) => {
      const args = decodeExtenderArgs(body);
      deps.binder.rememberPod(args.Pod);
      const { answer, outcome } = runFilter(args, state);
      deps.metrics.countRejections(outcome);
      return answer;
    },
    prioritize: (body, state) => {
      const args = decodeExtenderArgs(body);
      deps.binder.rememberPod(args.Pod);
      return runPrioritize(args, state);
    },
    bind: async (body) => {
      const args = decodeBindingArgs(body);
      const error = await deps.binder.bind({ namespace: args.PodNamespace, name: args.PodName, uid: args.PodUID, node: args.Node });
      deps.metrics.countBind(error === '' ? 'bound' : 'refused');
      if (error !== '') deps.logger.info({ pod: `${args.PodNamespace}/${args.PodName}`, node: args.Node, error }, 'bind refused');
      return { Error: error };
    },
    preempt: (body, state) => runPreempt(decodePreemptionArgs(body), state),
    explain: (body, state) => {
      const args = decodeExplainArgs(body);
      return explainPod(args.Pod, state.index, state.policy, args.NodeNames ?? undefined);
    },
  };
  for (const [verb, handle] of Object.entries(verbs)) {
    app.post(`/${verb}`, json, async (req: Request, res: Response) => {
      const readiness = deps.readiness.check();
      if (!readiness.ready) throw new RequestError(503, `extender index is not ready: ${readiness.reason}`);
      sendJson(res, 200, await handle(req.body, deps.state()));
    });
  }

  const opsPaths = mountOpsRoutes(app, deps);
  finish(app, new Map([...Object.keys(verbs).map((verb): [string, string] => [`/${verb}`, 'POST']), ...opsPaths]), deps.logger);
  return app;
}

/**
 * The operations endpoints alone (health, readiness, metrics, config), for a second listener
 * on the pod IP (`--metrics-port`): Prometheus and the kubelet's probes reach it, while the
 * verbs, `/bind` above all, stay on loopback.
 */
export function createOpsApp(deps: Pick<AppDeps, 'readiness' | 'metrics' | 'logger' | 'state' | 'configStatus'>): express.Express {
  const app = express();
  app.disable('x-powered-by');
  finish(app, new Map(mountOpsRoutes(app, deps)), deps.logger);
  return app;
}

function mountOpsRoutes(app: express.Express, deps: Pick<AppDeps, 'readiness' | 'metrics' | 'state' | 'configStatus'>): Array<[string, string]> {
  app.get('/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
  app.get('/readyz', (_req, res) => {
    const readiness = deps.readiness.check();
    sendJson(res, readiness.ready ? 200 : 503, readiness);
  });
  app.get('/config', (_req, res) => sendJson(res, 200, { policy: deps.state().policy, ...deps.configStatus?.() }));
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
function sendJson(res: Response, status: number, body: unknown): void {
  const bytes = Buffer.from(body instanceof JsonText ? body.text : JSON.stringify(body), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length });
  res.end(bytes);
}

function timeRequests(metrics: ExtenderMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      const verb = /^\/(filter|prioritize|bind|preempt|explain)$/.exec(req.path)?.[1] ?? 'other';
      metrics.observeRequest(verb, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}

/** Every error becomes a JSON answer; client errors keep their status, the rest are 500s. */
function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const { status, message } = describeError(err);
    if (status >= 500) logger.error({ err, path: req.path }, 'request failed');
    else logger.debug({ path: req.path, status, message }, 'bad request');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, status, { Error: message });
  };
}

function describeError(err: unknown): { status: number; message: string } {
  if (err instanceof RequestError) return { status: err.status, message: err.message };
  // express's own client errors (a malformed URL escape) carry a 4xx status.
  const e = err as { status?: unknown; message?: unknown };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return { status: e.status, message: String(e.message) };
  return { status: 500, message: 'internal error' };
}
