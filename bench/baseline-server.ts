/**
 * The do-nothing extender of SPEC section 6: parses the request and passes every node (filter)
 * or scores every node 0 (prioritize). Its latency is the floor that JSON and HTTP alone cost
 * on this machine; the extender is reported as a ratio to it.
 */
import type { Server } from 'node:http';
import { createJsonServer } from './json-http.js';

interface Args {
  NodeNames?: string[] | null;
  Nodes?: { items?: Array<{ metadata?: { name?: string } }> } | null;
}

export function passAll(path: string, body: unknown): unknown {
  const args = body as Args;
  switch (path) {
    case '/filter':
      return {
        Nodes: args.Nodes ? { metadata: {}, items: args.Nodes.items ?? [] } : null,
        NodeNames: args.NodeNames ?? null,
        FailedNodes: {},
        FailedAndUnresolvableNodes: {},
        Error: '',
      };
    case '/prioritize': {
      const names = args.NodeNames ?? (args.Nodes?.items ?? []).map((node) => node.metadata?.name ?? '');
      return names.map((Host) => ({ Host, Score: 0 }));
    }
    // What a bind that succeeded answers.
    case '/bind':
      return { Error: '' };
    default:
      throw new Error(`unknown path ${path}`);
  }
}

export function createBaselineServer(): Server {
  return createJsonServer(passAll);
}
