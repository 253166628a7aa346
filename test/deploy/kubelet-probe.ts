import type { Json } from './manifests.js';
import { containerPortOf, extenderContainer } from './objects.js';

/**
 * One of the extender container's httpGet probes, run as the kubelet runs it (pkg/probe/http):
 * GET scheme://POD_IP:port/path with the probe's headers, within timeoutSeconds; a status in
 * 200..399 succeeds (a redirect is not followed here), any other, a refused connection or a
 * timeout fails.
 * `listeners` maps container ports to the test's listeners on 127.0.0.1, the pod IP's stand-in.
 */
export async function kubeletProbe(probe: Json | undefined, listeners: Record<number, number>): Promise<{ success: boolean; status?: number }> {
  const get: Json | undefined = probe?.httpGet;
  if (!get) throw new Error('not an httpGet probe');
  const port = containerPortOf(extenderContainer, get.port);
  const listener = port === undefined ? undefined : listeners[port];
  if (listener === undefined) throw new Error(`the probe's port ${get.port} is none of the test's listeners`);
  const headers = Object.fromEntries(((get.httpHeaders ?? []) as Json[]).map((h) => [h.name, h.value]));
  try {
    const answer = await fetch(`${String(get.scheme ?? 'HTTP').toLowerCase()}://127.0.0.1:${listener}${get.path ?? '/'}`, {
      headers: { 'user-agent': 'kube-probe/1.31', accept: '*/*', ...headers },
      redirect: 'manual',
      signal: AbortSignal.timeout((probe?.timeoutSeconds ?? 1) * 1000),
    });
    await answer.body?.cancel();
    return { success: answer.status >= 200 && answer.status < 400, status: answer.status };
  } catch {
    return { success: false };
  }
}
