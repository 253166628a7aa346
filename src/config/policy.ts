import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import type { RuleMode } from '../filter/filter-node.js';
import type { Weights } from '../prioritize/score-node.js';
import type { PolicyKeys } from '../sysctl-index/policy-keys.js';
import schema from './policy.schema.json' with { type: 'json' };

/**
 * The operator-tunable policy; its one schema is `policy.schema.json` beside this file. The
 * file names the rule mode `policy`; here it is `ruleMode` (policyDocument maps it back).
 */
export interface Policy {
  readonly ruleMode: RuleMode;
  readonly weights: Weights;
  readonly keys: PolicyKeys;
  readonly extraSafeSysctls: readonly string[];
  /**
   * false (default): a node without the allow-list annotation admits only its safe sysctls, as a
   * kubelet without `--allowed-unsafe-sysctls` does. true: such a node is trusted to admit any.
   */
  readonly trustUndeclaredAllowList: boolean;
  readonly assumedPlacementTtlSeconds: number;
  readonly staleAfterSeconds: number;
  readonly bodyLimitBytes: number;
}

export const DEFAULT_POLICY: Policy = deepFreeze({
  ruleMode: 'strict',
  weights: { profileReuse: 6, ownTeam: 4 },
  keys: {
    teamLabel: 'sysctl-extender.io/team',
    sysctlsAnnotation: 'sysctl-extender.io/sysctls',
    allowedUnsafeSysctlsAnnotation: 'sysctl-extender.io/allowed-unsafe-sysctls',
  },
  extraSafeSysctls: [],
  trustUndeclaredAllowList: false,
  assumedPlacementTtlSeconds: 30,
  staleAfterSeconds: 60,
  // A 5,000-node NodeList of full Node objects runs to tens of MB (about 8 kB per node).
  bodyLimitBytes: 100 * 1024 * 1024,
});

const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);

export class PolicyError extends Error {}

/** Validates an operator's document and fills in defaults; throws PolicyError listing every problem. */
export function parsePolicy(document: unknown): Policy {
  if (!validate(document)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    throw new PolicyError(`invalid policy: ${problems.join('; ')}`);
  }
  const { policy: ruleMode, ...input } = document as PolicyDocument;
  return deepFreeze({
    ...DEFAULT_POLICY,
    ...input,
    ruleMode: ruleMode ?? DEFAULT_POLICY.ruleMode,
    weights: { ...DEFAULT_POLICY.weights, ...input.weights },
    keys: { ...DEFAULT_POLICY.keys, ...input.keys },
  } as Policy);
}

/** A policy as the operator writes it (the schema's shape): every field optional, the rule mode under `policy`. */
type PolicyDocument = Partial<{ [K in Exclude<keyof Policy, 'ruleMode'>]: Partial<Policy[K]> }> & { policy?: RuleMode };

/** The policy in the operator's format, fields in the schema's order: what GET /config and the logs show. */
export function policyDocument(policy: Policy): object {
  const { ruleMode, ...rest } = policy;
  return { policy: ruleMode, ...rest };
}

/** Reads a policy file, JSON or YAML (a mounted ConfigMap key holds either). */
export function loadPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyError(`cannot read policy file ${path}: ${(err as Error).message}`);
  }
  return parsePolicyText(text, `policy file ${path}`);
}

/** Parses policy text, JSON or YAML; an empty document means all defaults. */
export function parsePolicyText(text: string, origin: string): Policy {
  let document: unknown;
  try {
    document = parseYaml(text, { maxAliasCount: 100 }) ?? {};
  } catch (err) {
    throw new PolicyError(`${origin} is not valid YAML or JSON: ${(err as Error).message}`);
  }
  return parsePolicy(document);
}

/**
 * Whether going from one policy to the other needs the index rebuilt: it changes what the index
 * reads from objects (its IndexSettings). Everything else is read from the policy beside it.
 */
export function needsReindex(from: Policy, to: Policy): boolean {
  const read = (p: Policy) => JSON.stringify([p.keys, p.extraSafeSysctls]);
  return read(from) !== read(to);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
