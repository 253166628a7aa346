/** Before and after a campaign: the server still answers the real filter bodies right. */
import type { FuzzRequest } from './request-fuzzer.js';
import type { SeedBody } from './seed-bodies.js';
import { JSON_HEADERS, sendFuzzRequest } from './send.js';

const encoder = new TextEncoder();

export interface FilterSummary {
  readonly passing: string[];
  readonly failed: Record<string, string>;
  readonly unresolvable: Record<string, string>;
}

/** The filter answers to every real filter body, to compare before and after a campaign. */
export async function summarizeFilters(baseUrl: string, seeds: readonly SeedBody[]): Promise<Map<string, FilterSummary | string>> {
  const out = new Map<string, FilterSummary | string>();
  for (const seed of seeds.filter((s) => s.verb === 'filter')) {
    const request: FuzzRequest = { seq: 0, kind: 'good', seed: seed.name, method: 'POST', path: '/filter', headers: { ...JSON_HEADERS }, body: encoder.encode(seed.text), chunked: false };
    const outcome = await sendFuzzRequest(baseUrl, request, 10_000);
    if ('failure' in outcome || outcome.status !== 200) {
      out.set(seed.name, `no 200: ${'failure' in outcome ? outcome.message : `${outcome.status} ${outcome.text.slice(0, 200)}`}`);
      continue;
    }
    const body = JSON.parse(outcome.text) as { NodeNames: string[] | null; Nodes: { items: Array<{ metadata: { name: string } }> } | null; FailedNodes: Record<string, string>; FailedAndUnresolvableNodes: Record<string, string> };
    out.set(seed.name, {
      passing: (body.NodeNames ?? body.Nodes?.items.map((n) => n.metadata.name) ?? []).slice().sort(),
      failed: body.FailedNodes,
      unresolvable: body.FailedAndUnresolvableNodes,
    });
  }
  return out;
}

/**
 * Compares the answers after a campaign with those before. Successful binds during the campaign
 * may have made idle nodes busy: a node that passed may now fail in FailedNodes (pods there,
 * preemption may help), but nothing else may change — unresolvable verdicts depend on nodes and
 * namespaces only, which requests cannot change.
 */
export function compareSummaries(before: Map<string, FilterSummary | string>, after: Map<string, FilterSummary | string>): string[] {
  const problems: string[] = [];
  for (const [name, b] of before) {
    const a = after.get(name);
    if (typeof b === 'string') {
      problems.push(`${name}: before the campaign already ${b}`);
      continue;
    }
    if (a === undefined || typeof a === 'string') {
      problems.push(`${name}: after the campaign ${a ?? 'no answer'}`);
      continue;
    }
    if (JSON.stringify(sortedEntries(a.unresolvable)) !== JSON.stringify(sortedEntries(b.unresolvable))) {
      problems.push(`${name}: unresolvable ${JSON.stringify(b.unresolvable)} became ${JSON.stringify(a.unresolvable)}`);
    }
    const nowFailing = Object.keys(a.failed);
    const union = [...a.passing, ...nowFailing].sort();
    if (JSON.stringify(union) !== JSON.stringify([...b.passing, ...Object.keys(b.failed)].sort())) {
      problems.push(`${name}: passing ${JSON.stringify(b.passing)} became ${JSON.stringify(a.passing)} with failed ${JSON.stringify(a.failed)}`);
    }
  }
  return problems;
}

function sortedEntries(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([x], [y]) => (x < y ? -1 : 1));
}
