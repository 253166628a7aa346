#!/usr/bin/env node
import type { KubeConfig } from '@kubernetes/client-node';
import { Command, InvalidArgumentError } from 'commander';
import { Registry } from 'prom-client';
import { ApiBindingTarget } from './cluster/binding-target.js';
import { ListSource, WatchSource, type IndexSource } from './cluster/index-source.js';
import { loadKubeConfig } from './cluster/kube-config.js';
import { SnapshotError } from './cluster/snapshot.js';
import { DEFAULT_POLICY, loadPolicyFile, needsReindex, type Policy } from './config/policy.js';
import { parseConfigMapRef, PolicyConfigMapWatcher } from './config/policy-configmap-watcher.js';
import { PolicyFileWatcher } from './config/policy-file-watcher.js';
import { PolicyReloader, type PolicyOffer } from './config/policy-reloader.js';
import { demoCluster } from './demo/demo-cluster.js';
import { Extender } from './extender.js';
import { listen } from './http/serve.js';
import type { TlsFiles } from './http/tls-files.js';
import { createLogger } from './logging.js';
import { allReady } from './readiness.js';

interface Options {
  snapshot?: string;
  demo?: boolean;
  kubeconfig?: string;
  port: number;
  host: string;
  config?: string;
  configMap?: string;
  metricsPort?: number;
  metricsHost: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be 0..65535');
  return port;
}

const program = new Command()
  .name('sysctl-extender')
  .description('kube-scheduler extender placing pods by sysctl profile and team ownership')
  .option('--snapshot <file>', 'build the index from `kubectl get nodes,pods,namespaces,daemonsets -A -o json` output')
  .option('--demo', 'serve the embedded demo cluster (the default when no other source is given)')
  .option('--kubeconfig <file>', 'watch the cluster of this kubeconfig (default: $KUBECONFIG, then the in-cluster service account)')
  .option('--port <n>', 'port to listen on; 0 picks a free one', parsePort, 8888)
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--metrics-port <n>', 'also serve /metrics, /healthz, /readyz, /config and /status (not the verbs) on this port', parsePort)
  .option('--metrics-host <address>', 'address of the --metrics-port listener', '0.0.0.0')
  .option('--config <file>', 'policy file (JSON or YAML), reloaded when it changes')
  .option('--config-map <namespace/name>', `policy from this ConfigMap's "policy.yaml" key, watched through the API`)
  .option('--tls-cert <file>', 'serve HTTPS with this certificate (reloaded when it changes)')
  .option('--tls-key <file>', 'private key of --tls-cert')
  .option('--client-ca <file>', 'require client certificates signed by this CA (mutual TLS)')
  .showHelpAfterError();

/** Everything that can be wrong on the command line, found before anything starts. */
interface Prepared {
  policy: Policy;
  /** A List to serve; undefined when watching the cluster of `kubeConfig`. */
  list?: ListSource;
  kubeConfig?: KubeConfig;
  sourceName: string;
  tls?: TlsFiles;
}

function prepare(options: Options): Prepared {
  if (options.config && options.configMap) throw new Error('use --config or --config-map, not both');
  if (Boolean(options.tlsCert) !== Boolean(options.tlsKey)) throw new Error('--tls-cert and --tls-key go together');
  if (options.clientCa && !options.tlsCert) throw new Error('--client-ca needs --tls-cert and --tls-key');
  const policy = options.config ? loadPolicyFile(options.config) : DEFAULT_POLICY;
  const tls = options.tlsCert && options.tlsKey ? { certFile: options.tlsCert, keyFile: options.tlsKey, clientCaFile: options.clientCa } : undefined;
  // The snapshot is streamed into the index at start (below), not held here.
  if (options.snapshot) return { policy, tls, list: new ListSource({ file: options.snapshot }), sourceName: `snapshot ${options.snapshot}` };
  const kubeConfig = options.demo ? undefined : loadKubeConfig(options.kubeconfig);
  if (options.configMap && !kubeConfig) throw new Error('--config-map needs a cluster (--kubeconfig, KUBECONFIG or in-cluster)');
  if (!kubeConfig) return { policy, tls, list: new ListSource(demoCluster()), sourceName: 'embedded demo cluster' };
  return { policy, tls, kubeConfig, sourceName: `cluster ${kubeConfig.getCurrentCluster()?.server}` };
}

/** Runs `step`; a failure it expects (bad flags, an unusable file, a taken port) exits 2 with its message. */
async function orExit<T>(step: () => T | Promise<T>, expected: (err: unknown) => boolean = () => true): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (!expected(err)) throw err;
    process.stderr.write(`sysctl-extender: ${(err as Error).message}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const options = program.parse().opts<Options>();
  const logger = createLogger();
  const { policy, list, kubeConfig, tls, sourceName } = await orExit(() => prepare(options));
  // One registry: the extender's metrics, the watch's and the policy reloader's.
  const registry = new Registry();

  // The sources: what fills the index, and where the policy comes from. Readiness is theirs:
  // a ConfigMap policy must be read first, then the index must be complete.
  const indexSource: IndexSource = list ?? new WatchSource({ kubeConfig: kubeConfig!, registry, logger, staleAfterSeconds: policy.staleAfterSeconds });
  const configMap = options.configMap ? parseConfigMapRef(options.configMap) : undefined;
  // The watchers hand what they read to the reloader, made below once the extender exists.
  const offer = (next: PolicyOffer): Promise<void> => reloader!.offer(next);
  const configMapWatcher = configMap && new PolicyConfigMapWatcher(kubeConfig!, configMap.namespace, configMap.name, offer);
  const fileWatcher = options.config ? new PolicyFileWatcher(options.config, offer) : undefined;

  const extender: Extender = new Extender({
    policy,
    logger,
    registry,
    readiness: allReady(configMapWatcher, indexSource),
    bindingTarget: kubeConfig ? new ApiBindingTarget(kubeConfig) : undefined,
    configStatus: () => reloader?.status ?? { source: 'defaults' },
  });

  const policySource = options.config ? `file ${options.config}` : options.configMap ? `configmap ${options.configMap}` : undefined;
  const reloader: PolicyReloader | undefined = policySource
    ? new PolicyReloader({
        source: policySource,
        current: () => extender.generation.policy,
        apply: async (next) => {
          // New keys change what the index reads from every object: rebuild it, then swap.
          if (needsReindex(extender.generation.policy, next)) extender.swap(next, await indexSource.rebuild(next));
          else extender.swap(next);
          indexSource.follow(next);
        },
        logger,
        registry,
      })
    : undefined;

  // Start: the index, then the policy (a file is read once before serving), then the listeners.
  await orExit(() => indexSource.start(extender.index), (err) => err instanceof SnapshotError);
  logger.info({ source: sourceName }, 'index source started');
  if (fileWatcher) {
    await fileWatcher.poll();
    fileWatcher.start();
  }
  configMapWatcher?.start();

  const listening = await orExit(() => listen(extender.app, options.host, options.port, { tls, logger }));
  const ops = options.metricsPort === undefined ? undefined : await orExit(() => listen(extender.opsApp, options.metricsHost, options.metricsPort!));
  logger.info({ url: listening.url, port: listening.port }, `listening on ${listening.url}`);
  if (ops) logger.info({ url: ops.url, port: ops.port }, `serving metrics and probes on ${ops.url}`);

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    fileWatcher?.stop();
    void Promise.all([listening.close(), ops?.close(), configMapWatcher?.stop(), indexSource.stop()]).then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`sysctl-extender: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
