import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * JSON Schemas for the request bodies, compiled once at start-up. They check only what the
 * code reads (and its types and sizes); the rest of a Pod or Node passes through untouched.
 */

const nameString = { type: 'string', minLength: 1, maxLength: 253 } as const;
const stringMap = { type: ['object', 'null'], additionalProperties: { type: 'string' } } as const;

const podSchema = {
  type: 'object',
  required: ['metadata'],
  properties: {
    metadata: {
      type: 'object',
      required: ['name', 'namespace'],
      properties: {
        name: nameString,
        namespace: { type: 'string', minLength: 1, maxLength: 63 },
        uid: { type: 'string' },
        labels: stringMap,
        annotations: stringMap,
      },
    },
    spec: {
      type: ['object', 'null'],
      properties: {
        nodeName: { type: ['string', 'null'] },
        hostNetwork: { type: ['boolean', 'null'] },
        hostIPC: { type: ['boolean', 'null'] },
        securityContext: {
          type: ['object', 'null'],
          properties: {
            sysctls: {
              type: ['array', 'null'],
              maxItems: 1024,
              items: {
                type: 'object',
                required: ['name', 'value'],
                properties: { name: { type: 'string', maxLength: 253 }, value: { type: 'string', maxLength: 4096 } },
              },
            },
          },
        },
      },
    },
  },
} as const;

const nodeSchema = {
  type: 'object',
  required: ['metadata'],
  properties: {
    metadata: {
      type: 'object',
      required: ['name'],
      properties: { name: nameString, resourceVersion: { type: 'string' }, labels: stringMap, annotations: stringMap },
    },
  },
} as const;

const extenderArgsSchema = {
  type: 'object',
  required: ['Pod'],
  properties: {
    Pod: podSchema,
    Nodes: {
      type: ['object', 'null'],
      required: ['items'],
      properties: { items: { type: 'array', items: nodeSchema } },
    },
    // Lengths are checked by decode.ts: ajv's minLength counts characters one by one, half a
    // millisecond for 5,000 names.
    NodeNames: { type: ['array', 'null'], items: { type: 'string' } },
  },
} as const;

const bindingArgsSchema = {
  type: 'object',
  required: ['PodName', 'PodNamespace', 'PodUID', 'Node'],
  properties: {
    PodName: nameString,
    PodNamespace: { type: 'string', minLength: 1, maxLength: 63 },
    PodUID: { type: 'string' },
    Node: nameString,
  },
} as const;

const metaVictimsSchema = {
  type: 'object',
  required: ['Pods'],
  properties: {
    Pods: { type: ['array', 'null'], items: { type: 'object', required: ['UID'], properties: { UID: { type: 'string' } } } },
    NumPDBViolations: { type: 'integer' },
  },
} as const;

const victimsSchema = {
  type: 'object',
  required: ['Pods'],
  properties: { Pods: { type: ['array', 'null'], items: podSchema }, NumPDBViolations: { type: 'integer' } },
} as const;

const preemptionArgsSchema = {
  type: 'object',
  required: ['Pod'],
  properties: {
    Pod: podSchema,
    NodeNameToVictims: { type: ['object', 'null'], additionalProperties: victimsSchema },
    NodeNameToMetaVictims: { type: ['object', 'null'], additionalProperties: metaVictimsSchema },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });

export const validators = {
  extenderArgs: ajv.compile(extenderArgsSchema),
  bindingArgs: ajv.compile(bindingArgsSchema),
  preemptionArgs: ajv.compile(preemptionArgsSchema),
} as const;

/** `Pod.metadata.name must be string`: the first problem, with the path kube-scheduler's author would recognise. */
export function describeErrors(validate: ValidateFunction): string {
  const first: ErrorObject | undefined = validate.errors?.[0];
  if (!first) return 'invalid request body';
  const path = first.instancePath.split('/').filter(Boolean).join('.') || 'body';
  if (first.keyword === 'required') return `${path === 'body' ? '' : `${path}.`}${String(first.params.missingProperty)} is required`;
  return `${path} ${first.message ?? 'is invalid'}`;
}
