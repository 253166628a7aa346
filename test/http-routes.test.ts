import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyList } from '../src/cluster/snapshot.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { Extender } from '../src/extender.js';
import { listen, type Listening } from '../src/http/serve.js';
import { fixtureCluster } from './support/http.js';

/** Pins every path of both listeners, status, chosen headers and body, byte for byte. */
let extender: Extender;
let verbs: Listening;
let ops: Listening;

beforeAll(async () => {
  extender = new Extender({ policy: DEFAULT_POLICY, readiness: { check: () => ({ ready: true }) } });
  applyList(extender.index, fixtureCluster());
  verbs = await listen(extender.app, '127.0.0.1', 0);
  ops = await listen(extender.opsApp, '127.0.0.1', 0);
});
afterAll(async () => {
  await Promise.all([verbs.close(), ops.close()]);
});

interface Seen {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

const SHOWN = ['allow', 'content-type', 'content-length', 'x-powered-by'];

/** One raw request (fetch would normalise the path and refuse some methods). */
function call(url: string, method: string, path: string, body?: string): Promise<Seen> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: Object.fromEntries(SHOWN.map((h) => [h, res.headers[h] as string | undefined]).filter(([, v]) => v !== undefined)),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the verbs listener', () => {
  it('answers every path and method as before the route table', async () => {
    const seen = {
      unknown: await call(verbs.url, 'POST', '/schedule', '{}'),
      getVerb: await call(verbs.url, 'GET', '/filter'),
      postPage: await call(verbs.url, 'POST', '/healthz', '{}'),
      slashVerb: await call(verbs.url, 'POST', '/filter/', '{}'),
      healthz: await call(verbs.url, 'GET', '/healthz'),
      healthzCase: await call(verbs.url, 'GET', '/HEALTHZ'),
      healthzSlash: await call(verbs.url, 'GET', '/healthz/'),
      healthzQuery: await call(verbs.url, 'GET', '/healthz?x=1'),
      headHealthz: await call(verbs.url, 'HEAD', '/healthz'),
      readyz: await call(verbs.url, 'GET', '/readyz'),
      status: await call(verbs.url, 'GET', '/status'),
      badEscape: await call(verbs.url, 'GET', '/%E0%A4%A'),
      bindNotJson: await call(verbs.url, 'POST', '/bind', 'nope'),
    };
    expect(seen).toMatchInlineSnapshot(`
      {
        "badEscape": {
          "body": "{"Error":"unknown path /%E0%A4%A; served: POST /filter, POST /prioritize, POST /bind, POST /preempt, POST /explain, GET /healthz, GET /readyz, GET /config, GET /metrics"}",
          "headers": {
            "content-length": "170",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 404,
        },
        "bindNotJson": {
          "body": "{"Error":"request body is not valid JSON: Unexpected token 'o', \\"nope\\" is not valid JSON"}",
          "headers": {
            "content-length": "92",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 400,
        },
        "getVerb": {
          "body": "{"Error":"GET is not allowed on /filter; use POST"}",
          "headers": {
            "allow": "POST",
            "content-length": "51",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 405,
        },
        "headHealthz": {
          "body": "",
          "headers": {
            "content-length": "15",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 200,
        },
        "healthz": {
          "body": "{"status":"ok"}",
          "headers": {
            "content-length": "15",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 200,
        },
        "healthzCase": {
          "body": "{"status":"ok"}",
          "headers": {
            "content-length": "15",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 200,
        },
        "healthzQuery": {
          "body": "{"status":"ok"}",
          "headers": {
            "content-length": "15",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 200,
        },
        "healthzSlash": {
          "body": "{"status":"ok"}",
          "headers": {
            "content-length": "15",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 200,
        },
        "postPage": {
          "body": "{"Error":"POST is not allowed on /healthz; use GET"}",
          "headers": {
            "allow": "GET",
            "content-length": "52",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 405,
        },
        "readyz": {
          "body": "{"ready":true}",
          "headers": {
            "content-length": "14",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 200,
        },
        "slashVerb": {
          "body": "{"Error":"unknown path /filter/; served: POST /filter, POST /prioritize, POST /bind, POST /preempt, POST /explain, GET /healthz, GET /readyz, GET /config, GET /metrics"}",
          "headers": {
            "content-length": "169",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 404,
        },
        "status": {
          "body": "{"Error":"unknown path /status; served: POST /filter, POST /prioritize, POST /bind, POST /preempt, POST /explain, GET /healthz, GET /readyz, GET /config, GET /metrics"}",
          "headers": {
            "content-length": "168",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 404,
        },
        "unknown": {
          "body": "{"Error":"unknown path /schedule; served: POST /filter, POST /prioritize, POST /bind, POST /preempt, POST /explain, GET /healthz, GET /readyz, GET /config, GET /metrics"}",
          "headers": {
            "content-length": "170",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 404,
        },
      }
    `);
  });

  it('times verbs by name and everything else as other', async () => {
    await call(verbs.url, 'GET', '/healthz');
    await call(verbs.url, 'POST', '/preempt', '{"Pod":{"metadata":{"name":"p","namespace":"team-a"}},"NodeNameToMetaVictims":{}}');
    const metrics = (await call(verbs.url, 'GET', '/metrics')).body;
    expect(metrics).toMatch(/sysctl_extender_request_duration_seconds_count\{verb="other",code="200"\} \d+/);
    expect(metrics).toMatch(/sysctl_extender_request_duration_seconds_count\{verb="preempt",code="200"\} 1\n/);
  });
});

describe('the operations listener', () => {
  it('answers every path and method as before the route table', async () => {
    const seen = {
      unknown: await call(ops.url, 'GET', '/nope'),
      verb: await call(ops.url, 'POST', '/filter', '{}'),
      postPage: await call(ops.url, 'POST', '/status', '{}'),
      healthz: await call(ops.url, 'GET', '/healthz'),
      statusJsonType: (await call(ops.url, 'GET', '/status.json')).headers['content-type'],
      badLimit: await call(ops.url, 'GET', '/status.json?limit=0'),
      twoTeams: await call(ops.url, 'GET', '/status.json?team=a&team=b'),
      metricsType: (await call(ops.url, 'GET', '/metrics')).headers['content-type'],
    };
    expect(seen).toMatchInlineSnapshot(`
      {
        "badLimit": {
          "body": "{"Error":"limit must be 1..1000000 or \\"all\\""}",
          "headers": {
            "content-length": "47",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 400,
        },
        "healthz": {
          "body": "{"status":"ok"}",
          "headers": {
            "content-length": "15",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 200,
        },
        "metricsType": "text/plain; version=0.0.4; charset=utf-8",
        "postPage": {
          "body": "{"Error":"POST is not allowed on /status; use GET"}",
          "headers": {
            "allow": "GET",
            "content-length": "51",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 405,
        },
        "statusJsonType": "application/json; charset=utf-8",
        "twoTeams": {
          "body": "{"Error":"team must be given once"}",
          "headers": {
            "content-length": "35",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 400,
        },
        "unknown": {
          "body": "{"Error":"unknown path /nope; served: GET /healthz, GET /readyz, GET /config, GET /metrics, GET /status, GET /status.json"}",
          "headers": {
            "content-length": "123",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 404,
        },
        "verb": {
          "body": "{"Error":"unknown path /filter; served: GET /healthz, GET /readyz, GET /config, GET /metrics, GET /status, GET /status.json"}",
          "headers": {
            "content-length": "125",
            "content-type": "application/json; charset=utf-8",
          },
          "status": 404,
        },
      }
    `);
  });

  it('does not time its requests', async () => {
    const before = (await call(verbs.url, 'GET', '/metrics')).body.match(/verb="other",code="404"\} (\d+)/)?.[1] ?? '0';
    await call(ops.url, 'GET', '/nope');
    const after = (await call(ops.url, 'GET', '/metrics')).body.match(/verb="other",code="404"\} (\d+)/)?.[1] ?? '0';
    expect(after).toBe(before);
  });
});
