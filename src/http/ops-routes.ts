import { policyDocument } from '../config/policy.js';
import type { Readiness } from '../readiness.js';
import { sendJson } from './answer.js';
import type { Generation } from './generation.js';
import type { ExtenderMetrics } from './metrics.js';
import type { Route } from './route.js';

export interface OpsSources {
  readonly generation: () => Generation;
  readonly readiness: Readiness;
  readonly metrics: ExtenderMetrics;
  /** What GET /config shows besides the policy in force. */
  readonly configStatus?: () => object;
}

/** Health, readiness, config and metrics: on the verbs' listener and on the operations one. */
export function opsRoutes(sources: OpsSources): Route[] {
  return [
    { method: 'GET', path: '/healthz', page: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
    {
      method: 'GET',
      path: '/readyz',
      page: (_req, res) => {
        const readiness = sources.readiness.check();
        sendJson(res, readiness.ready ? 200 : 503, readiness);
      },
    },
    { method: 'GET', path: '/config', page: (_req, res) => sendJson(res, 200, { policy: policyDocument(sources.generation().policy), ...sources.configStatus?.() }) },
    {
      method: 'GET',
      path: '/metrics',
      page: async (_req, res) => {
        res.type(sources.metrics.registry.contentType).send(await sources.metrics.registry.metrics());
      },
    },
  ];
}
