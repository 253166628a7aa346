#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { applyList, readSnapshotFile, SnapshotError, type KubeList } from './cluster/snapshot.js';
import { DEFAULT_POLICY, loadPolicyFile, PolicyError, type Policy } from './config/policy.js';
import { demoCluster } from './demo/demo-cluster.js';
import { createExtender } from './extender.js';
import { StaticReadiness } from './http/readiness.js';
import { listen } from './http/serve.js';
import { createLogger } from './logging.js';

interface Options {
  snapshot?: string;
  demo?: boolean;
  port: number;
  host: string;
  config?: string;
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
  .option('--config <file>', 'policy file (JSON or YAML), see src/config/policy.schema.json')
  .showHelpAfterError();

async function main(): Promise<void> {
  const options = program.parse().opts<Options>();
  const logger = createLogger();

  let policy: Policy = DEFAULT_POLICY;
  let list: KubeList;
  let source: string;
  try {
    if (options.config) policy = loadPolicyFile(options.config);
    if (options.snapshot) {
      list = readSnapshotFile(options.snapshot);
      source = `snapshot ${options.snapshot}`;
    } else {
      list = demoCluster();
      source = 'embedded demo cluster';
    }
  } catch (err) {
    if (err instanceof SnapshotError || err instanceof PolicyError) {
      process.stderr.write(`sysctl-extender: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  const readiness = new StaticReadiness();
  const { index, app } = createExtender({ policy, logger, readiness });
  const counts = applyList(index, list);
  readiness.markLoaded();
  logger.info({ source, ...counts }, 'index loaded');

  const listening = await listen(app, options.host, options.port);
  logger.info({ url: listening.url, port: listening.port }, `listening on ${listening.url}`);

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    void listening.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`sysctl-extender: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
