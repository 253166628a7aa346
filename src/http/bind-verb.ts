import type { Logger } from 'pino';
import { bindErrorText, type Binder } from '../cluster/binder.js';
import { decodeBindingArgs } from './decode.js';
import { parseJson } from './json-body.js';
import type { ExtenderMetrics } from './metrics.js';
import type { Verb } from './verb.js';

/** POST /bind: the binder re-checks, assumes and writes the Binding; counted by outcome. */
export function bindVerb(binder: Binder, metrics: ExtenderMetrics, logger: Logger): Verb {
  return {
    name: 'bind',
    handle: async (body) => {
      const args = decodeBindingArgs(parseJson(body));
      const result = await binder.bind({ namespace: args.PodNamespace, name: args.PodName, uid: args.PodUID, node: args.Node });
      metrics.countBind(result.outcome);
      const error = bindErrorText(result);
      if (error !== '') logger.info({ pod: `${args.PodNamespace}/${args.PodName}`, node: args.Node, error }, 'bind refused');
      return { Error: error };
    },
  };
}
