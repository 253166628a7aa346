/**
 * The least an extender can do for kube-scheduler's filter, prioritize and bind: pass every
 * node, score each 0, and create the Binding through a keep-alive client. The yardstick of
 * the real-scheduler benchmark (SPEC section 6: the extender keeps ≥ 90 % of its throughput).
 *
 *   node minimal-extender.js --kubeconfig FILE --port N
 */
import http from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeHttp } from '../../src/cluster/kube-http.js';

function arg(name: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? process.argv[at + 1] : undefined;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(arg('kubeconfig'));
const api = new KubeHttp(kubeConfig);

async function answer(path: string, body: any): Promise<unknown> {
  switch (path) {
    case '/filter':
      return { NodeNames: body.NodeNames ?? [], FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' };
    case '/prioritize':
      return (body.NodeNames ?? []).map((name: string) => ({ Host: name, Score: 0 }));
    case '/bind':
      try {
        await api.request('POST', `/api/v1/namespaces/${encodeURIComponent(body.PodNamespace)}/pods/${encodeURIComponent(body.PodName)}/binding`, {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: body.PodName, namespace: body.PodNamespace, uid: body.PodUID },
          target: { apiVersion: 'v1', kind: 'Node', name: body.Node },
        });
        return { Error: '' };
      } catch (err) {
        return { Error: (err as Error).message };
      }
    case '/preempt':
      return { NodeNameToMetaVictims: body.NodeNameToMetaVictims ?? {} };
    default:
      return undefined;
  }
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(req.url === '/healthz' || req.url === '/readyz' ? 200 : 404).end('ok');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end('bad JSON');
      return;
    }
    void answer(req.url ?? '', body).then((out) => {
      if (out === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
    });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(arg('port')), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  api.close();
  process.exit(0);
});
