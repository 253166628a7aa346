import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyList, type KubeList } from '../../src/cluster/snapshot.js';
import { DEFAULT_POLICY, type Policy } from '../../src/config/policy.js';
import { Extender } from '../../src/extender.js';
import { listen } from '../../src/http/serve.js';
import { StaticReadiness } from './readiness.js';

/** test/fixtures/kube-scheduler: real request bodies from kube-scheduler v1.26.1 (see its README). */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'kube-scheduler');

export function fixture(path: string): string {
  return readFileSync(join(FIXTURES, path), 'utf8');
}

export function fixtureCluster(): KubeList {
  return JSON.parse(fixture('cluster.json')) as KubeList;
}

export interface RunningExtender {
  readonly url: string;
  readonly extender: Extender;
  readonly readiness: StaticReadiness;
  close(): Promise<void>;
}

/** A real extender listening on a free loopback port, its index loaded from `list`. */
export async function startExtender(list: KubeList, policy: Policy = DEFAULT_POLICY, loaded = true): Promise<RunningExtender> {
  const readiness = new StaticReadiness();
  const extender = new Extender({ policy, readiness });
  applyList(extender.index, list);
  if (loaded) readiness.markLoaded();
  const listening = await listen(extender.app, '127.0.0.1', 0);
  return { url: listening.url, extender, readiness, close: () => listening.close() };
}

export interface Answer {
  status: number;
  body: unknown;
  text: string;
}

/** POSTs a body as raw text, byte for byte, the way kube-scheduler does. */
export async function post(url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', body, headers });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text };
}
