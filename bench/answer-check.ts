/**
 * Before timing anything, each server answers each body once: a server that answers 4xx, or an
 * extender that disagrees with the naive scan over the same rules, would make the figures
 * meaningless. Also records how many candidates pass, to show the workload is not trivial.
 */
import { postOnce } from './load.js';
import { median } from './stats.js';
import type { RequestBody } from './request-bodies.js';
import type { CandidateVerb } from './scenarios.js';
import type { ServerKind } from './server-child.js';

export interface AnswerCheck {
  /** Per body: the placed pod and how many candidates the extender lets through (filter) or scores above 0. */
  readonly passing: Array<{ pod: string; candidates: number; passing: number }>;
  /** Whether the naive scan gives the same answers as the extender; undefined when not both ran. */
  readonly naiveAgrees: boolean | undefined;
  readonly problems: string[];
  /** Per server, the median time of these single calls: sizes the naive server's runs. */
  readonly callMs: Partial<Record<ServerKind, number>>;
}

export async function checkAnswers(
  urls: Partial<Record<ServerKind, string>>,
  verb: CandidateVerb,
  bodies: readonly RequestBody[],
): Promise<AnswerCheck> {
  const problems: string[] = [];
  const passing: AnswerCheck['passing'] = [];
  let naiveAgrees: boolean | undefined = urls.naive && urls.extender ? true : undefined;
  const times: Partial<Record<ServerKind, number[]>> = {};
  for (const body of bodies) {
    const answers: Partial<Record<ServerKind, unknown>> = {};
    for (const [kind, url] of Object.entries(urls) as Array<[ServerKind, string]>) {
      const answer = await postOnce(`${url}/${verb}`, body.body);
      (times[kind] ??= []).push(answer.ms);
      if (answer.status !== 200) problems.push(`${kind} answered ${answer.status} for ${body.pod}: ${answer.text.slice(0, 200)}`);
      else answers[kind] = JSON.parse(answer.text);
    }
    if (answers.extender !== undefined) passing.push({ pod: body.pod, candidates: body.candidates, passing: countPassing(verb, answers.extender) });
    if (answers.naive !== undefined && answers.extender !== undefined && !sameAnswer(verb, answers.naive, answers.extender)) {
      naiveAgrees = false;
      problems.push(`naive and extender disagree on ${verb} for ${body.pod}`);
    }
  }
  const callMs = Object.fromEntries(Object.entries(times).map(([kind, ms]) => [kind, median(ms)]));
  return { passing, naiveAgrees, problems, callMs };
}

function countPassing(verb: CandidateVerb, answer: unknown): number {
  if (verb === 'prioritize') return (answer as Array<{ Score: number }>).filter((h) => h.Score > 0).length;
  const filter = answer as { NodeNames: string[] | null; Nodes: { items: unknown[] } | null };
  return filter.NodeNames?.length ?? filter.Nodes?.items.length ?? 0;
}

/** Same passing nodes and reasons (filter) or same scores (prioritize), whatever the key order. */
function sameAnswer(verb: CandidateVerb, a: unknown, b: unknown): boolean {
  if (verb === 'prioritize') return JSON.stringify(a) === JSON.stringify(b);
  const canonical = (value: unknown) => {
    const f = value as { NodeNames: string[] | null; Nodes: { items: Array<{ metadata?: { name?: string } }> } | null };
    const failed = (value as { FailedNodes: Record<string, string> }).FailedNodes;
    const unresolvable = (value as { FailedAndUnresolvableNodes: Record<string, string> }).FailedAndUnresolvableNodes;
    const sorted = (map: Record<string, string>) => Object.entries(map).sort(([x], [y]) => x.localeCompare(y));
    return JSON.stringify([
      f.NodeNames ?? f.Nodes?.items.map((n) => n.metadata?.name),
      sorted(failed),
      sorted(unresolvable),
    ]);
  };
  return canonical(a) === canonical(b);
}
