import { scoreNode } from '../prioritize/score-node.js';
import type { KubeNode } from '../sysctl-index/kube-objects.js';
import { filterContext, type VerbDeps } from './filter-verb.js';
import type { ExtenderArgs, HostPriority } from './wire-types.js';

/** The prioritize verb: a 0..10 score per candidate, 0 for a node the filter would reject. */
export function runPrioritize(args: ExtenderArgs, deps: VerbDeps): HostPriority[] {
  const ctx = filterContext(args, deps);
  const weights = deps.policy.weights;
  if (args.NodeNames) {
    return args.NodeNames.map((name) => ({ Host: name, Score: scoreNode(ctx, deps.resolver.byName(name), weights).score }));
  }
  return (args.Nodes?.items ?? []).map((node: KubeNode) => {
    const view = deps.resolver.byObject(node);
    return { Host: view.name, Score: scoreNode(ctx, view, weights).score };
  });
}
