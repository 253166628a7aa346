/**
 * The real kube-scheduler request bodies (test/fixtures/kube-scheduler) that the fuzzer starts
 * from, by verb.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export type Verb = 'filter' | 'prioritize' | 'bind' | 'preempt';
export const VERBS: readonly Verb[] = ['filter', 'prioritize', 'bind', 'preempt'];

export interface SeedBody {
  readonly verb: Verb;
  /** Path under the fixtures directory, e.g. `names/c-unsafe-filter.json`. */
  readonly name: string;
  readonly text: string;
}

/** Every request body of the capture, by verb (cluster.json, answers and the README left out). */
export function loadSeedBodies(fixturesDir: string): SeedBody[] {
  const seeds: SeedBody[] = [];
  for (const dir of ['names', 'nodes', 'preempt', 'retry']) {
    for (const file of readdirSync(join(fixturesDir, dir)).sort()) {
      if (!file.endsWith('.json') || file.endsWith('.response.json')) continue;
      const verb = /-(filter|prioritize|bind|preempt)(-refused)?\.json$/.exec(file)?.[1] as Verb | undefined;
      if (!verb) continue;
      seeds.push({ verb, name: `${dir}/${file}`, text: readFileSync(join(fixturesDir, dir, file), 'utf8') });
    }
  }
  return seeds;
}
