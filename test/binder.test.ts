import { describe, expect, it } from 'vitest';
import { Binder, bindErrorText, type BindRequest } from '../src/cluster/binder.js';
import type { BindingTarget } from '../src/cluster/binding-target.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { ClusterIndex } from '../src/sysctl-index/cluster-index.js';
import { ALLOW_ALL_UNSAFE, DB, WEB, namespace, node, pod } from './support/objects.js';

/** A target that records the Bindings, or fails as told: the binder's outcomes without an API server. */
class RecordingTarget implements BindingTarget {
  readonly written: string[] = [];
  failWith: unknown;

  async bind(p: { namespace: string; name: string }, nodeName: string): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    this.written.push(`${p.namespace}/${p.name}@${nodeName}`);
  }
}

function setup() {
  const index = new ClusterIndex(DEFAULT_POLICY);
  index.upsertNamespace(namespace('team-a', 'a'));
  index.upsertNode(node('n1', { allowed: ALLOW_ALL_UNSAFE }));
  index.upsertPod(pod('team-a', 'db', { sysctls: DB }));
  index.upsertPod(pod('team-a', 'web', { sysctls: WEB }));
  const target = new RecordingTarget();
  const binder = new Binder({ index: () => index, policy: () => DEFAULT_POLICY, target });
  return { index, target, binder };
}

const request = (name: string, nodeName = 'n1', uid = `uid-team-a-${name}`): BindRequest => ({ namespace: 'team-a', name, uid, node: nodeName });

describe('Binder', () => {
  it('binds, then refuses a conflicting pod with the rule’s reason without writing it', async () => {
    const { binder, target } = setup();
    expect(await binder.bind(request('db'))).toEqual({ outcome: 'bound' });
    expect(await binder.bind(request('web'))).toEqual({ outcome: 'refused', reason: 'binding refused: node runs another sysctl profile' });
    expect(target.written).toEqual(['team-a/db@n1']);
  });

  it('tells an API failure (with its status) from a refusal, and undoes the assumption', async () => {
    const { binder, target, index } = setup();
    target.failWith = Object.assign(new Error('HTTP-Code: 409'), { code: 409, body: { kind: 'Status', message: 'pod db is already assigned' } });
    const result = await binder.bind(request('db'));
    expect(result).toEqual({ outcome: 'api_failed', status: 409, detail: 'HTTP 409: pod db is already assigned' });
    expect(index.node('n1')?.occupants).toBe(0);
    target.failWith = new Error('connect ECONNREFUSED');
    expect(await binder.bind(request('db'))).toEqual({ outcome: 'api_failed', status: undefined, detail: 'connect ECONNREFUSED' });
  });

  it('refuses a pod it does not know, and one whose UID is not the indexed one', async () => {
    const { binder } = setup();
    expect(await binder.bind(request('ghost'))).toEqual({ outcome: 'refused', reason: 'pod is unknown to the extender' });
    expect(await binder.bind(request('db', 'n1', 'another-uid'))).toEqual({ outcome: 'refused', reason: 'pod UID does not match the pod the extender knows' });
  });

  it('binds a pod known only from a filter body', async () => {
    const { binder, target } = setup();
    binder.rememberPod(pod('team-a', 'late', { sysctls: DB }));
    expect(await binder.bind(request('late'))).toEqual({ outcome: 'bound' });
    expect(target.written).toEqual(['team-a/late@n1']);
  });

  it.each([
    [{ outcome: 'bound' } as const, ''],
    [{ outcome: 'refused', reason: 'pod is unknown to the extender' } as const, 'pod is unknown to the extender'],
    [{ outcome: 'api_failed', status: 500, detail: 'HTTP 500' } as const, 'binding through the API failed: HTTP 500'],
  ])('answers kube-scheduler %j as Error %j', (result, text) => {
    expect(bindErrorText(result)).toBe(text);
  });
});
