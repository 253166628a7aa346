import { ApiBindingTarget } from '../../src/cluster/binding-target.js';
import { ClusterWatch } from '../../src/cluster/cluster-watch.js';
import type { Policy } from '../../src/config/policy.js';
import { Extender } from '../../src/extender.js';
import { listen, type Listening } from '../../src/http/serve.js';
import { kubeConfigFor, type FakeApiServer } from '../../support/fake-api-server.js';
import { waitFor } from './wait.js';

export interface WatchedExtender {
  readonly extender: Extender;
  readonly watch: ClusterWatch;
  readonly server: Listening;
  stop(): Promise<void>;
}

/** The extender as main.ts runs it against a cluster: watching `api`, binding through it, listening on a free port; resolves once ready. */
export async function startWatchedExtender(api: FakeApiServer, policy: Policy): Promise<WatchedExtender> {
  const kubeConfig = kubeConfigFor(api.url);
  let watch: ClusterWatch | undefined;
  const extender = new Extender({
    policy,
    readiness: { check: () => watch?.check() ?? { ready: false, reason: 'starting' } },
    bindingTarget: new ApiBindingTarget(kubeConfig),
  });
  const started = new ClusterWatch({ kubeConfig, index: () => extender.generation.index, staleAfterMs: 60_000 });
  watch = started;
  started.start();
  const server = await listen(extender.app, '127.0.0.1', 0);
  await waitFor(() => started.check().ready, 'watch ready');
  return {
    extender,
    watch: started,
    server,
    stop: async () => {
      await server.close();
      await started.stop();
    },
  };
}
