#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { applyList, loadSnapshotFile } from './cluster/snapshot.js';
import { DEFAULT_POLICY, loadPolicyFile } from './config/policy.js';
import { demoCluster } from './demo/demo-cluster.js';
import { explainPod } from './explain/explain-pod.js';
import { formatExplanation } from './explain/format-table.js';
import type { KubePod } from './sysctl-index/kube-objects.js';
import { ClusterIndex } from './sysctl-index/cluster-index.js';

/** `npm run explain -- --snapshot FILE POD.yaml`: where would this pod go, and why. */
const program = new Command()
  .name('sysctl-extender-explain')
  .description('explain, node by node, how the extender would filter and score a pod')
  .argument('<pod>', 'the pod, YAML or JSON (as written for kubectl apply)')
  .option('--snapshot <file>', 'the cluster, from `kubectl get nodes,pods,namespaces,daemonsets -A -o json` (default: the demo cluster)')
  .option('--config <file>', 'policy file (JSON or YAML)')
  .option('--nodes <names>', 'comma-separated node names (default: every node)')
  .option('--json', 'print the explanation as JSON')
  .showHelpAfterError();

try {
  program.parse();
  const options = program.opts<{ snapshot?: string; config?: string; nodes?: string; json?: boolean }>();
  const policy = options.config ? loadPolicyFile(options.config) : DEFAULT_POLICY;
  const index = new ClusterIndex(policy);
  if (options.snapshot) loadSnapshotFile(index, options.snapshot);
  else applyList(index, demoCluster());
  const podFile = program.args[0]!;
  let pod: KubePod;
  try {
    pod = parseYaml(readFileSync(podFile, 'utf8')) as KubePod;
  } catch (err) {
    throw new Error(`cannot read pod ${podFile}: ${(err as Error).message}`);
  }
  if (typeof pod?.metadata?.name !== 'string') throw new Error(`${podFile} is not a Pod (no metadata.name)`);
  const explanation = explainPod({ ...pod, metadata: { namespace: 'default', ...pod.metadata } }, { index, policy }, options.nodes?.split(',').map((n) => n.trim()));
  process.stdout.write(options.json ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation));
} catch (err) {
  process.stderr.write(`sysctl-extender-explain: ${(err as Error).message}\n`);
  process.exit(2);
}
