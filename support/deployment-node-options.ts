/**
 * The Node options the Deployment runs the extender with (deploy/scheduler-config), so that the
 * bench and the soak measure the runtime that ships (the deploy tests check npm start uses it too).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './repo-root.js';

interface ContainerLike {
  name?: string;
  env?: Array<{ name?: string; value?: string }>;
}

interface DeploymentLike {
  kind?: string;
  spec?: { template?: { spec?: { initContainers?: ContainerLike[]; containers?: ContainerLike[] } } };
}

/** NODE_OPTIONS of the sysctl-extender container, as separate flags. */
export function deploymentNodeOptions(): string[] {
  const manifest = readFileSync(join(REPO_ROOT, 'deploy', 'scheduler-config', 'deployment.yaml'), 'utf8');
  const deployment = parseAllDocuments(manifest).map((doc) => doc.toJS() as DeploymentLike).find((doc) => doc?.kind === 'Deployment');
  // A native sidecar: the extender is an init container that keeps running.
  const pod = deployment?.spec?.template?.spec;
  const env = [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].find((c) => c.name === 'sysctl-extender')?.env ?? [];
  const options = env.find((e) => e.name === 'NODE_OPTIONS')?.value;
  if (!options) throw new Error('the Deployment sets no NODE_OPTIONS for the sysctl-extender container');
  return options.split(/\s+/);
}

/**
 * The Deployment's young-generation size, for every server under test: the do-nothing and naive
 * servers run with it too, so that ratios compare the work done and not the garbage collectors'
 * settings. Its old-space limit is left out: a server process builds the whole synthetic List
 * in memory before indexing it, which a 150,000-pod cluster's real watch never does.
 */
export function youngGenerationOptions(): string[] {
  return deploymentNodeOptions().filter((flag) => flag.startsWith('--max-semi-space-size'));
}
