import type { Policy } from '../config/policy.js';
import { CandidateResolver } from '../sysctl-index/candidates.js';
import type { ClusterIndex } from '../sysctl-index/cluster-index.js';
import { NameTable } from './name-table.js';

/**
 * What a request is answered from: one policy, the index built for its keys, and the resolver
 * of candidates over that index. Immutable: a policy reload builds the next one, and a request
 * reads it once, so its body limit and its verb come from the same policy.
 */
export interface Generation {
  readonly policy: Policy;
  readonly index: ClusterIndex;
  readonly resolver: CandidateResolver;
}

/**
 * The generation of `policy` over `index`. The previous generation's resolver is kept while the
 * index is the same (its caches are warm); a new index gets its own.
 */
export function generationOf(policy: Policy, index: ClusterIndex, previous?: Generation): Generation {
  const resolver = previous?.index === index ? previous.resolver : resolverOf(index);
  return Object.freeze({ policy, index, resolver });
}

/** Candidate resolution over the index, reading NodeNames bodies as bytes. */
export function resolverOf(index: ClusterIndex): CandidateResolver {
  return new CandidateResolver(index, new NameTable(index));
}
