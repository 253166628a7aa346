import { describe, expect, it } from 'vitest';
import { RecentPods } from '../src/cluster/recent-pods.js';
import type { KubePod } from '../src/sysctl-index/kube-objects.js';
import { DB, SYSCTLS, VMS, pod } from './support/objects.js';

describe('RecentPods', () => {
  it('keeps only the fields the rules read, found by UID under the same namespace and name', () => {
    const recent = new RecentPods();
    const full: KubePod = pod('team-a', 'db', { sysctls: DB, needs: VMS, daemonSet: true });
    full.metadata!.annotations!['other'] = 'x'.repeat(1000);
    (full.spec as Record<string, unknown>).containers = [{ name: 'c', image: 'db:1' }];
    recent.remember(full, SYSCTLS);
    const kept = recent.get('uid-team-a-db', 'team-a', 'db')!;
    expect(kept.metadata?.annotations).toEqual({ [SYSCTLS]: VMS });
    expect(kept.metadata?.ownerReferences).toEqual([{ kind: 'DaemonSet', controller: true }]);
    expect(kept.spec).toEqual({ hostNetwork: false, hostIPC: false, securityContext: { sysctls: Object.entries(DB).map(([name, value]) => ({ name, value })) } });
    expect(recent.get('uid-team-a-db', 'team-a', 'other')).toBeUndefined();
    expect(recent.get('uid-team-a-db', 'team-b', 'db')).toBeUndefined();
  });

  it.each([
    ['no UID', pod('team-a', 'p', { uid: '' })],
    ['a UID over 64 characters', pod('team-a', 'p', { uid: 'u'.repeat(65) })],
    ['an annotation over 4 KiB', pod('team-a', 'p', { uid: 'u1', needs: `vm.x=${'1'.repeat(4096)}` })],
    ['over 64 sysctls', pod('team-a', 'p', { uid: 'u1', sysctls: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`net.s${i}`, '1'])) })],
    ['a sysctl over 512 bytes', pod('team-a', 'p', { uid: 'u1', sysctls: { 'net.core.somaxconn': '1'.repeat(512) } })],
  ])('does not remember a pod with %s', (_name, p) => {
    const recent = new RecentPods();
    recent.remember(p, SYSCTLS);
    expect(recent.get(p.metadata!.uid!, 'team-a', 'p')).toBeUndefined();
  });

  it('keeps the first body of a UID', () => {
    const recent = new RecentPods();
    recent.remember(pod('team-a', 'db', { sysctls: DB }), SYSCTLS);
    recent.remember(pod('team-a', 'db', { sysctls: { 'net.core.somaxconn': '1' } }), SYSCTLS);
    expect(recent.get('uid-team-a-db', 'team-a', 'db')?.spec?.securityContext?.sysctls).toHaveLength(2);
  });
});
