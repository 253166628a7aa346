import type { KubeNode, KubePod } from '../sysctl-index/kube-objects.js';
import type { NodeView } from '../sysctl-index/cluster-index.js';
import { viewsOfObjects, type CandidateResolver, type NameRotation } from '../sysctl-index/candidates.js';
import { decodeExtenderArgs } from './decode.js';
import { parseJson } from './json-body.js';
import { scanNamesBody } from './names-body-scan.js';
import { validators } from './request-schemas.js';
import type { ExtenderArgs } from './wire-types.js';

/** What filter and prioritize work on: the pod, and its candidates as the index sees them. */
export interface CandidateArgs {
  readonly Pod: KubePod;
  /** The candidates in request order, each node once. */
  readonly views: readonly NodeView[];
  /** The names of `views` as JSON string literals where the body's bytes gave them; answers are written from them. */
  readonly jsonNames?: readonly Uint8Array[];
  /** Where `jsonNames` is a known list rotated: that list and the offset (failed-nodes-memo.ts writes answers in its order). */
  readonly rotation?: NameRotation;
  /** With full `Nodes` (no nodeCacheCapable): the request's objects, in the order of `views`. */
  readonly nodes?: readonly KubeNode[];
}

const NO_NAMES: string[] = [];

/**
 * A filter or prioritize body, decoded. The plain `NodeNames` form (all kube-scheduler sends
 * with nodeCacheCapable) is read from its bytes (names-body-scan.ts: why); any other body is
 * parsed whole and validated, which also words its errors.
 */
export function decodeCandidateArgs(body: Buffer, resolver: CandidateResolver): CandidateArgs {
  const scanned = scanNamesBody(body, resolver.readNames);
  if (scanned) {
    const Pod = parsePod(body, scanned.podStart, scanned.podEnd);
    if (Pod !== undefined) return { Pod, views: resolver.namedViews(), jsonNames: resolver.namedJsonNames(), rotation: resolver.namedRotation() };
  }
  return resolveCandidates(decodeExtenderArgs(parseJson(body)), resolver);
}

/** Candidates of a decoded request (tests and the bench decode bodies themselves). */
export function resolveCandidates(args: ExtenderArgs, resolver: CandidateResolver): CandidateArgs {
  if (args.NodeNames) return { Pod: args.Pod, views: resolver.byNames(args.NodeNames) };
  const nodes = args.Nodes?.items ?? [];
  return { Pod: args.Pod, views: viewsOfObjects(resolver, nodes), nodes };
}

/** The Pod, if its bytes are JSON the schema accepts; else undefined, and the full path says why. */
function parsePod(body: Buffer, start: number, end: number): KubePod | undefined {
  let Pod: unknown;
  try {
    Pod = JSON.parse(body.toString('utf8', start, end));
  } catch {
    return undefined;
  }
  return validators.extenderArgs({ Pod, Nodes: null, NodeNames: NO_NAMES }) ? (Pod as KubePod) : undefined;
}
