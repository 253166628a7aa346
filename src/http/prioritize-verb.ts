import { scoreNode } from '../prioritize/score-node.js';
import { viewsOfObjects } from './candidates.js';
import { encodeHostPriorities } from './encode.js';
import type { WrittenJson } from './json-writer.js';
import { filterContext, type VerbDeps } from './filter-verb.js';
import type { ExtenderArgs } from './wire-types.js';

/** The prioritize verb: a 0..10 score per candidate, 0 for a node the filter would reject. */
export function runPrioritize(args: ExtenderArgs, deps: VerbDeps): WrittenJson {
  const ctx = filterContext(args, deps);
  const views = args.NodeNames ? deps.resolver.byNames(args.NodeNames) : viewsOfObjects(deps.resolver, args.Nodes?.items ?? []);
  const weights = deps.policy.weights;
  return encodeHostPriorities(views, views.map((view) => scoreNode(ctx, view, weights).score));
}
