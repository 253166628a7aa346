#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Command, CommanderError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { applyList, readSnapshotItems, type SnapshotItem } from './cluster/snapshot.js';
import { DEFAULT_POLICY, loadPolicyFile } from './config/policy.js';
import { explainPod } from './explain/explain-pod.js';
import { formatExplanation } from './explain/format-table.js';
import type { KubePod } from './sysctl-index/kube-objects.js';
import { ClusterIndex } from './sysctl-index/cluster-index.js';

/**
 * `kubectl sysctl explain NAMESPACE/POD`: kubectl runs this file (installed as `kubectl-sysctl`
 * on the PATH) for `kubectl sysctl ...`. It reads the cluster through the kubeconfig as kubectl
 * does, builds the index the extender builds, and prints what `npm run explain` prints for a
 * snapshot: per node, the verdict, the reason and the score. Exit codes as kubectl's: 0 done,
 * 1 an error (pod not found, API unreachable), 2 a usage error.
 */

/** An error for a person, printed as one line; `usage` ones exit 2. */
class PluginError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

interface ExplainOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  snapshot?: string;
  file?: string;
  config?: string;
  nodes?: string;
  output: 'table' | 'json';
  requestTimeout: number;
}

/** Objects per list request: the API server pages long lists (as kubectl's --chunk-size). */
const CHUNK = 500;

function program(): Command {
  const root = new Command()
    .name('kubectl sysctl')
    .description('see the cluster as the sysctl-extender sees it')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .showHelpAfterError('(kubectl sysctl explain --help for usage)');
  root
    .command('explain')
    .description('why the extender would place a pod where it would: every node, its verdict, reason and score')
    .argument('[pod]', 'NAMESPACE/POD, or POD with -n (default namespace: the context\'s, else "default")')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)')
    .option('--context <name>', 'the kubeconfig context to use')
    .option('-n, --namespace <namespace>', "the pod's namespace")
    .option('--snapshot <file>', 'offline: the cluster from `kubectl get nodes,pods,namespaces,daemonsets -A -o json`')
    .option('-f, --filename <file>', 'explain this pod manifest (YAML or JSON) instead of a pod in the cluster')
    .option('--config <file>', "the extender's policy file (JSON or YAML; default: the built-in policy)")
    .option('--nodes <names>', 'comma-separated node names (default: every node)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(new Option('--request-timeout <seconds>', 'give up on the API server after this long').default(30).argParser(positiveNumber))
    .exitOverride()
    .showHelpAfterError('(kubectl sysctl explain --help for usage)')
    .action(async (podRef: string | undefined, options: ExplainOptions & { filename?: string }) => {
      await explain(podRef, { ...options, file: options.filename });
    });
  return root;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new PluginError(`--request-timeout must be a positive number of seconds, not "${value}"`, 2);
  return n;
}

async function explain(podRef: string | undefined, options: ExplainOptions): Promise<void> {
  if (podRef === undefined && !options.file) throw new PluginError('explain needs NAMESPACE/POD (or -f FILE)', 2);
  if (podRef !== undefined && options.file) throw new PluginError('give NAMESPACE/POD or -f FILE, not both', 2);
  if (options.snapshot && (options.kubeconfig || options.context)) throw new PluginError('--snapshot reads no cluster: drop --kubeconfig and --context', 2);
  const policy = options.config ? loadPolicyFile(options.config) : DEFAULT_POLICY;
  const index = new ClusterIndex(policy);
  const kubeConfig = options.snapshot ? undefined : loadKubeConfig(options);
  const wanted = podRef === undefined ? undefined : podKey(podRef, options, kubeConfig);
  let found: KubePod | undefined;
  const keep = (item: SnapshotItem): void => {
    if (wanted && item.kind === 'Pod' && `${item.metadata?.namespace}/${item.metadata?.name}` === wanted) found = item as KubePod;
  };
  if (options.snapshot) {
    // Streamed as the extender streams it, one item at a time: only the pod asked for is kept.
    readSnapshotItems(options.snapshot, (item) => {
      applyList(index, { items: [item] });
      keep(item);
    });
  } else {
    const items = await withTimeout(readCluster(kubeConfig!), options.requestTimeout, kubeConfig!);
    applyList(index, { items });
    items.forEach(keep);
  }
  const pod = options.file ? podFromFile(options.file) : found;
  if (!pod) throw new PluginError(`pod ${wanted} not found${options.snapshot ? ` in ${options.snapshot}` : ''}`);
  const explanation = explainPod(pod, { index, policy }, options.nodes?.split(',').map((n) => n.trim()).filter((n) => n !== ''));
  process.stdout.write(options.output === 'json' ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation));
}

/** `NAMESPACE/POD`, or `POD` in -n's namespace, else the context's, else "default". */
function podKey(ref: string, options: ExplainOptions, kubeConfig: KubeConfig | undefined): string {
  const slash = ref.indexOf('/');
  if (slash >= 0 && options.namespace) throw new PluginError('give NAMESPACE/POD or -n NAMESPACE POD, not both', 2);
  const contextNamespace = kubeConfig?.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  const [namespace, name] = slash >= 0 ? [ref.slice(0, slash), ref.slice(slash + 1)] : [options.namespace || contextNamespace || 'default', ref];
  if (!namespace || !name || name.includes('/')) throw new PluginError(`"${ref}" is not NAMESPACE/POD`, 2);
  return `${namespace}/${name}`;
}

/** As kubectl: --kubeconfig, else $KUBECONFIG, else ~/.kube/config, else in-cluster. */
function loadKubeConfig(options: ExplainOptions): KubeConfig {
  const config = new KubeConfig();
  try {
    if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
    else config.loadFromDefault();
  } catch (err) {
    throw new PluginError(`cannot read kubeconfig${options.kubeconfig ? ` ${options.kubeconfig}` : ''}: ${oneLine(err)}`);
  }
  if (options.context) {
    if (!config.getContextObject(options.context)) throw new PluginError(`context "${options.context}" is not in the kubeconfig`);
    config.setCurrentContext(options.context);
  }
  if (!config.getCurrentCluster()) throw new PluginError('no cluster: the kubeconfig names no current context (set one, or use --kubeconfig / --context)');
  return config;
}

/** Nodes, namespaces, pods and DaemonSets, listed as the extender's watch lists them, as one List's items. */
async function readCluster(kubeConfig: KubeConfig): Promise<SnapshotItem[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const [namespaces, nodes, daemonSets, pods] = await Promise.all([
    listAll('namespaces', 'Namespace', (c) => core.listNamespace({ limit: CHUNK, _continue: c })),
    listAll('nodes', 'Node', (c) => core.listNode({ limit: CHUNK, _continue: c })),
    listAll('daemonsets', 'DaemonSet', (c) => apps.listDaemonSetForAllNamespaces({ limit: CHUNK, _continue: c })),
    listAll('pods', 'Pod', (c) => core.listPodForAllNamespaces({ limit: CHUNK, _continue: c })),
  ]);
  // Any order gives the same index (a pod's DaemonSet claim is proven whenever the DaemonSet comes).
  return [...namespaces, ...nodes, ...daemonSets, ...pods];
}

async function listAll(
  resource: string,
  kind: string,
  page: (continueToken: string | undefined) => Promise<{ items: object[]; metadata?: { _continue?: string } }>,
): Promise<SnapshotItem[]> {
  const items: SnapshotItem[] = [];
  let token: string | undefined;
  do {
    let list: Awaited<ReturnType<typeof page>>;
    try {
      list = await page(token);
    } catch (err) {
      throw new PluginError(`cannot list ${resource}: ${apiErrorText(err)}`);
    }
    for (const item of list.items) items.push({ ...item, kind } as SnapshotItem);
    token = list.metadata?._continue || undefined;
  } while (token);
  return items;
}

function withTimeout<T>(work: Promise<T>, seconds: number, kubeConfig: KubeConfig): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PluginError(`the API server at ${kubeConfig.getCurrentCluster()?.server} did not answer within ${seconds}s`)), seconds * 1000);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function podFromFile(file: string): KubePod {
  let pod: KubePod;
  try {
    pod = parseYaml(readFileSync(file, 'utf8')) as KubePod;
  } catch (err) {
    throw new PluginError(`cannot read pod ${file}: ${oneLine(err)}`);
  }
  if (typeof pod?.metadata?.name !== 'string') throw new PluginError(`${file} is not a Pod (no metadata.name)`);
  return { ...pod, metadata: { namespace: 'default', ...pod.metadata } };
}

function apiErrorText(err: unknown): string {
  const e = err as { code?: unknown; body?: unknown; message?: unknown; cause?: { message?: unknown; code?: unknown } };
  if (typeof e?.code === 'number') {
    let message = '';
    try {
      const status = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message?: unknown };
      if (typeof status?.message === 'string') message = `: ${status.message}`;
    } catch {
      // Not a Status body: the code alone says enough.
    }
    return `HTTP ${e.code}${message}`;
  }
  const cause = e?.cause && typeof e.cause.message === 'string' ? ` (${e.cause.message})` : '';
  return `${oneLine(err)}${cause}`;
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

async function main(): Promise<void> {
  try {
    await program().parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Asked-for help and the version are not errors; commander has printed its message already.
      process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2);
    }
    const exitCode = err instanceof PluginError ? err.exitCode : 1;
    process.stderr.write(`error: ${oneLine(err)}\n`);
    process.exit(exitCode);
  }
}

void main();
