/**
 * Schema validation of a manifest: kubernetes-models (the API's OpenAPI schemas: types,
 * required fields, formats), plus unknown fields against @kubernetes/client-node's field
 * lists, as `kubectl apply` (server-side strict field validation) would reject them.
 */
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from './manifests.js';

export type ModelClass = new (data: unknown) => { validate(): void };

/** The API groups the manifests use; a manifest of another group fails until it is added here. */
export const MODEL_MODULES: Record<string, () => Promise<object>> = {
  v1: () => import('kubernetes-models/v1'),
  'apps/v1': () => import('kubernetes-models/apps/v1'),
  'policy/v1': () => import('kubernetes-models/policy/v1'),
  'networking.k8s.io/v1': () => import('kubernetes-models/networking.k8s.io/v1'),
  'rbac.authorization.k8s.io/v1': () => import('kubernetes-models/rbac.authorization.k8s.io/v1'),
};

export async function schemaProblems(object: KubeObject): Promise<string[]> {
  const load = MODEL_MODULES[object.apiVersion];
  if (!load) return [`no schema loaded for apiVersion ${object.apiVersion}`];
  const Model = ((await load()) as Record<string, ModelClass | undefined>)[object.kind];
  if (!Model) return [`no schema for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

export interface AttributeType {
  readonly baseName: string;
  readonly type: string;
}

export function clientNodeModel(type: string): { getAttributeTypeMap(): readonly AttributeType[] } | undefined {
  const candidate = (k8s as unknown as Record<string, unknown>)[type];
  return typeof candidate === 'function' && 'getAttributeTypeMap' in candidate
    ? (candidate as unknown as { getAttributeTypeMap(): readonly AttributeType[] })
    : undefined;
}

/** Paths of fields the API type does not have (client-node's generated field lists, v1.34). */
export function unknownFields(object: KubeObject): string[] {
  const version = object.apiVersion.split('/').at(-1) ?? '';
  const typeName = `${version.charAt(0).toUpperCase()}${version.slice(1)}${object.kind}`;
  if (!clientNodeModel(typeName)) return [`no client-node model ${typeName}`];
  const found: string[] = [];
  const walk = (value: unknown, type: string, path: string): void => {
    if (value === null || value === undefined) return;
    const array = /^Array<(.+)>$/.exec(type);
    if (array) {
      if (Array.isArray(value)) value.forEach((item, i) => walk(item, array[1]!, `${path}[${i}]`));
      return;
    }
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) {
      if (typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, map[1]!, `${path}.${k}`);
      return;
    }
    const model = clientNodeModel(type);
    // Primitives, IntOrString, any: their type is the schema's business.
    if (!model || typeof value !== 'object' || Array.isArray(value)) return;
    const attributes = model.getAttributeTypeMap();
    for (const [key, v] of Object.entries(value)) {
      const attribute = attributes.find((a) => a.baseName === key);
      if (attribute) walk(v, attribute.type, `${path}.${key}`);
      else found.push(`${path}.${key}`);
    }
  };
  walk(object, typeName, '');
  return found;
}
