/**
 * The manifests of deploy/scheduler-config, read as kubectl reads them, and lookups by kind and
 * name for the deploy tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../support/repo-root.js';

export const ROOT = REPO_ROOT;
export const DEPLOY = join(ROOT, 'deploy', 'scheduler-config');
export const SRC = join(ROOT, 'src');

export type Json = Record<string, any>;

export interface KubeObject extends Json {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Json;
}

export interface Manifest {
  readonly file: string;
  readonly object: KubeObject;
}

/** kubectl reads manifests with sigs.k8s.io/yaml, i.e. YAML 1.1 (`on`, `yes` are booleans). */
export const KUBE_YAML = { version: '1.1', uniqueKeys: true } as const;

export function manifestFiles(): string[] {
  return readdirSync(DEPLOY)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .sort();
}

/** Every document of every manifest file; throws on a YAML error or warning. */
export function loadManifests(): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of manifestFiles()) {
    for (const doc of parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8'), KUBE_YAML)) {
      const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
      if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`);
      const object: unknown = doc.toJS();
      if (object === null) continue; // an empty document, e.g. after a trailing ---
      manifests.push({ file, object: object as KubeObject });
    }
  }
  return manifests;
}

export const manifests = loadManifests();

export function describeObject(m: { object: KubeObject }): string {
  const { kind, metadata } = m.object;
  return `${kind} ${metadata?.namespace ? `${metadata.namespace}/` : ''}${metadata?.name}`;
}

export function find(kind: string, name?: string): KubeObject[] {
  return manifests.map((m) => m.object).filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function only(kind: string, name?: string): KubeObject {
  const found = find(kind, name);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}
