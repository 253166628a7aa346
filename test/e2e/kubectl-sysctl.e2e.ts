/**
 * `kubectl sysctl explain` through the real kubectl (its plugin discovery on PATH) against a
 * real kube-apiserver: the plugin's table equals the one it prints offline for
 * `kubectl get nodes,pods,namespaces,daemonsets -A -o json` of the same cluster.
 * Needs $KUBE_ASSETS with kubectl beside kube-apiserver; skipped otherwise.
 */
import { execFile } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespaces, createNodes, createPods, nodeLayout, podBurst } from '../../support/real-cluster/cluster-objects.js';
import { ControlPlane, findKubeAssets } from '../../support/real-cluster/control-plane.js';

const PLUGIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'kubectl-sysctl.js');
const found = findKubeAssets();
const kubectl = process.env.KUBE_ASSETS ? path.resolve(process.env.KUBE_ASSETS, 'kubectl') : undefined;
const haveKubectl = kubectl !== undefined && (() => {
  try {
    accessSync(kubectl, constants.X_OK);
    return true;
  } catch {
    return false;
  }
})();
if (!('assets' in found) || !haveKubectl) console.warn(`kubectl-sysctl end-to-end test skipped: ${'missing' in found ? found.missing : 'no kubectl in $KUBE_ASSETS'}`);

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr }));
  });
}

describe.skipIf(!('assets' in found) || !haveKubectl)('kubectl sysctl explain against a real API server', () => {
  let plane: ControlPlane;
  let env: NodeJS.ProcessEnv;
  const [pod] = podBurst(1, 'pending');

  beforeAll(async () => {
    if (!('assets' in found)) return;
    plane = await ControlPlane.start({ assets: found.assets });
    await createNamespaces(plane.api);
    await createNodes(plane.api, nodeLayout(6));
    // No scheduler runs: the pod stays pending, as a pod one asks about usually is.
    await createPods(plane.api, [pod!]);
    const bin = path.join(plane.dir, 'bin');
    mkdirSync(bin, { recursive: true });
    chmodSync(PLUGIN, 0o755);
    symlinkSync(PLUGIN, path.join(bin, 'kubectl-sysctl'));
    env = { PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: plane.dir, KUBECONFIG: plane.kubeconfigFile };
  });

  afterAll(async () => {
    await plane?.stop();
  });

  it('prints, through kubectl, the table it prints offline for a kubectl snapshot of the same cluster', async () => {
    const live = await run(kubectl!, ['sysctl', 'explain', `${pod!.namespace}/${pod!.name}`], env);
    expect(live.stderr).toBe('');
    expect(live.code).toBe(0);
    expect(live.stdout).toContain(`pod      ${pod!.namespace}/${pod!.name}`);
    expect(live.stdout.match(/^\S+ +(pass|fail)/gm)).toHaveLength(6);
    const snapshot = await run(kubectl!, ['get', 'nodes,pods,namespaces,daemonsets', '-A', '-o', 'json'], env);
    expect(snapshot.code).toBe(0);
    const file = path.join(plane.dir, 'snapshot.json');
    writeFileSync(file, snapshot.stdout);
    const offline = await run(process.execPath, [PLUGIN, 'explain', `${pod!.namespace}/${pod!.name}`, '--snapshot', file], env);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toBe(live.stdout);
    const json = await run(kubectl!, ['sysctl', 'explain', pod!.name, '-n', pod!.namespace, '-o', 'json', '--kubeconfig', plane.kubeconfigFile], { ...env, KUBECONFIG: '' });
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { nodes: unknown[] }).nodes).toHaveLength(6);
  });

  it('exits 1 through kubectl for a pod that is not there', async () => {
    const missing = await run(kubectl!, ['sysctl', 'explain', 'team-a/nope'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: pod team-a/nope not found\n');
  });
});
