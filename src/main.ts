#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { ApiBindingTarget } from './cluster/binding-target.js';
import { ClusterWatch } from './cluster/cluster-watch.js';
import { loadKubeConfig } from './cluster/kube-config.js';
import { applyList, readSnapshotFile, type KubeList } from './cluster/snapshot.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_POLICY, loadPolicyFile, type Policy } from './config/policy.js';
import { demoCluster } from './demo/demo-cluster.js';
import { createExtender, type Extender } from './extender.js';
import { StaticReadiness } from './http/readiness.js';
import { listen } from './http/serve.js';
import { createLogger } from './logging.js';

interface Options {
  snapshot?: string;
  demo?: boolean;
  port: number;
  host: string;
  config?: string;
  kubeconfig?: string;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be 0..65535');
  return port;
}

const program = new Command()
  .name('sysctl-extender')
  .description('kube-scheduler extender placing pods by sysctl profile and team ownership')
  .option('--snapshot <file>', 'build the index from `kubectl get nodes,pods,namespaces -o json` output')
  .option('--demo', 'serve the embedded demo cluster (the default when no other source is given)')
  .option('--port <n>', 'port to listen on; 0 picks a free one', parsePort, 8888)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--kubeconfig <file>', 'watch the cluster of this kubeconfig (default: $KUBECONFIG, then the in-cluster service account)')
  .option('--config <file>', 'policy file (JSON or YAML), see src/config/policy.schema.json')
  .showHelpAfterError();

async function main(): Promise<void> {
  const options = program.parse().opts<Options>();
  const logger = createLogger();

  let policy: Policy = DEFAULT_POLICY;
  let source: { kind: 'list'; list: KubeList; name: string } | { kind: 'cluster'; kubeConfig: KubeConfig };
  try {
    if (options.config) policy = loadPolicyFile(options.config);
    const kubeConfig = options.snapshot || options.demo ? undefined : loadKubeConfig(options.kubeconfig);
    if (options.snapshot) source = { kind: 'list', list: readSnapshotFile(options.snapshot), name: `snapshot ${options.snapshot}` };
    else if (kubeConfig) source = { kind: 'cluster', kubeConfig };
    else source = { kind: 'list', list: demoCluster(), name: 'embedded demo cluster' };
  } catch (err) {
    process.stderr.write(`sysctl-extender: ${(err as Error).message}\n`);
    process.exit(2);
  }

  let stopSource = async (): Promise<void> => {};
  let extender: Extender;
  if (source.kind === 'list') {
    const readiness = new StaticReadiness();
    extender = createExtender({ policy, logger, readiness });
    const counts = applyList(extender.index, source.list);
    readiness.markLoaded();
    logger.info({ source: source.name, ...counts }, 'index loaded');
  } else {
    let watch: ClusterWatch | undefined;
    extender = createExtender({
      policy,
      logger,
      readiness: { check: () => watch?.check() ?? { ready: false, reason: 'starting' } },
      bindingTarget: new ApiBindingTarget(source.kubeConfig),
    });
    const state = extender.state;
    watch = new ClusterWatch({
      kubeConfig: source.kubeConfig,
      index: () => state.index,
      staleAfterMs: policy.staleAfterSeconds * 1000,
      registry: extender.metrics.registry,
    });
    watch.start();
    stopSource = () => watch!.stop();
    logger.info({ server: source.kubeConfig.getCurrentCluster()?.server }, 'watching the cluster');
  }
  const app = extender.app;

  const listening = await listen(app, options.host, options.port);
  logger.info({ url: listening.url, port: listening.port }, `listening on ${listening.url}`);

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    void listening
      .close()
      .then(stopSource)
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`sysctl-extender: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
