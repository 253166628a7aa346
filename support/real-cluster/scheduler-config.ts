/**
 * KubeSchedulerConfigurations for the real kube-scheduler, taken from the one the project
 * deploys (deploy/scheduler-config/kube-scheduler-config.yaml), so that the suite checks
 * that file against v1.26 too. Only what cannot hold on one machine changes: no leader
 * election (no Lease to contend for), and the extender's address.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const DEPLOYED = 'deploy/scheduler-config/kube-scheduler-config.yaml';

/** The deployed configuration, as a plain object (its ConfigMap's data). */
export function deployedSchedulerConfig(root = process.cwd()): Record<string, any> {
  const configMap = parse(fs.readFileSync(path.join(root, DEPLOYED), 'utf8')) as { data: Record<string, string> };
  const text = configMap.data['kube-scheduler-config.yaml'];
  if (!text) throw new Error(`${DEPLOYED} has no kube-scheduler-config.yaml key`);
  return parse(text) as Record<string, any>;
}

/** The deployed configuration with its extender stanza pointed at `url` (undefined: none). */
export function schedulerConfig(extenderUrl: string | undefined, root = process.cwd()): Record<string, any> {
  const config = deployedSchedulerConfig(root);
  config.leaderElection = { leaderElect: false };
  if (extenderUrl === undefined) delete config.extenders;
  else config.extenders = (config.extenders as Array<Record<string, unknown>>).map((e) => ({ ...e, urlPrefix: extenderUrl }));
  return config;
}
