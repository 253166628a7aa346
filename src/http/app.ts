import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Policy } from '../config/policy.js';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import type { CandidateResolver } from './candidates.js';
import type { Binder } from '../cluster/binder.js';
import { explainPod } from '../explain/explain-pod.js';
import { decodeBindingArgs, decodeExplainArgs, decodeExtenderArgs, decodePreemptionArgs } from './decode.js';
import { JsonText } from './encode.js';
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
  const json = jsonBodies(() => deps.state().policy.bodyLimitBytes);

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
      // body-parser turns an empty body into {}; say what is really wrong.
      if (req.headers['content-length'] === '0' || (!req.headers['content-length'] && !req.headers['transfer-encoding'])) {
        throw new RequestError(400, `request body is empty; ${verb} expects a JSON object`);
      }
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

/**
 * JSON body parsing bounded by the policy's limit, which a reload may change. kube-scheduler
 * always sends application/json; any type is accepted so that `curl -d` works too. Compressed
 * bodies are refused (inflate: false): a 100 kB gzip body could inflate to the whole limit.
 */
function jsonBodies(limit: () => number) {
  let parser: { limit: number; handle: ReturnType<typeof express.json> } | undefined;
  return (req: Request, res: Response, next: NextFunction): void => {
    const bytes = limit();
    if (parser?.limit !== bytes) parser = { limit: bytes, handle: express.json({ limit: bytes, type: () => true, strict: true, inflate: false }) };
    parser.handle(req, res, next);
  };
}

/** Writes the answer as is: express's res.send would copy it into a Buffer first. */
function sendJson(res: Response, status: number, body: unknown): void {
  const text = body instanceof JsonText ? body.text : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
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
  // body-parser errors carry a status and a type (https://github.com/expressjs/body-parser#errors).
  const e = err as { status?: unknown; type?: unknown; message?: unknown; limit?: unknown };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    switch (e.type) {
      case 'entity.parse.failed':
        return { status: 400, message: `request body is not valid JSON: ${String(e.message)}` };
      case 'encoding.unsupported':
        // kube-scheduler never compresses; inflating would let a small body cost the whole limit.
        return { status: 415, message: 'compressed request bodies are not accepted; send plain JSON' };
      case 'entity.too.large':
        return { status: 413, message: `request body is larger than the limit of ${String(e.limit)} bytes` };
      default:
        return { status: e.status, message: String(e.message) };
    }
  }
  return { status: 500, message: 'internal error' };
}
