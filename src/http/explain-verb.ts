import { explainPod } from '../explain/explain-pod.js';
import { decodeExplainArgs } from './decode.js';
import { parseJson } from './json-body.js';
import type { Verb } from './verb.js';

/** POST /explain: why the pod would go where it goes (read-only; npm run explain offline). */
export const explainVerb: Verb = {
  name: 'explain',
  handle: (body, generation) => {
    const args = decodeExplainArgs(parseJson(body));
    return explainPod(args.Pod, generation, args.NodeNames ?? undefined);
  },
};
