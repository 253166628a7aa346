/**
 * The objects the deploy checks work on: the Deployment's containers and command lines, the
 * scheduler configuration its kube-scheduler mounts, and package.json.
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseDocument } from 'yaml';
import { KUBE_YAML, ROOT, SRC, only, type Json, type KubeObject } from './manifests.js';

export const deployment = only('Deployment');
export const podSpec: Json = deployment.spec.template.spec;
export const allContainers: Json[] = [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])];

export function container(name: string): Json {
  const found = allContainers.find((c) => c.name === name);
  if (!found) throw new Error(`the Deployment has no container ${name}`);
  return found;
}

export const extenderContainer = container('sysctl-extender');
export const schedulerContainer = container('kube-scheduler');

/** `--name=value` or `--name value` from a container's command line. */
export function flag(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === name) return argv[i + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

export function commandLine(c: Json): string[] {
  return [...(c.command ?? []), ...(c.args ?? [])] as string[];
}

/** The text of the ConfigMap key a container's `--config` file is, through its volume mount. */
export function mountedConfig(c: Json): { configMap: KubeObject; key: string; text: string } {
  const path = flag(commandLine(c), '--config');
  if (!path) throw new Error(`container ${c.name} has no --config`);
  const mount = (c.volumeMounts as Json[] | undefined)?.find((m) => m.mountPath === posix.dirname(path));
  if (!mount) throw new Error(`container ${c.name}: no volume mounted at ${posix.dirname(path)} for --config ${path}`);
  const volume = (podSpec.volumes as Json[]).find((v) => v.name === mount.name);
  const name: unknown = volume?.configMap?.name;
  if (typeof name !== 'string') throw new Error(`volume ${mount.name} is not a ConfigMap`);
  const configMap = only('ConfigMap', name);
  const key = posix.basename(path);
  const text: unknown = configMap.data?.[key];
  if (typeof text !== 'string') throw new Error(`ConfigMap ${name} has no key ${key} for --config ${path}`);
  return { configMap, key, text };
}

export const schedulerConfigText = mountedConfig(schedulerContainer).text;
export const schedulerConfigDoc = parseDocument(schedulerConfigText, KUBE_YAML);
export const schedulerConfig = schedulerConfigDoc.toJS() as Json;
export const extenders: Json[] = schedulerConfig.extenders ?? [];
export const extenderStanza: Json = extenders[0] ?? {};

export const extenderArgv = commandLine(extenderContainer);
export const extenderPort = Number(flag(extenderArgv, '--port'));
export const extenderHost = flag(extenderArgv, '--host');
export const metricsPort = Number(flag(extenderArgv, '--metrics-port'));

export const MAIN_TS = readFileSync(join(SRC, 'main.ts'), 'utf8');

/** The default of a CLI option, as src/main.ts declares it: `.option('--name <x>', 'help', 'default')`. */
export function cliDefault(name: string): string | undefined {
  return new RegExp(`\\.option\\('${name}(?: <[^>]+>)?',\\s*'[^']*',\\s*'([^']*)'\\)`).exec(MAIN_TS)?.[1];
}

/** The address of the ops listener: the Deployment's --metrics-host, else the CLI's default. */
export const metricsHost = flag(extenderArgv, '--metrics-host') ?? cliDefault('--metrics-host');

/** A container port by number or by name (probes and NetworkPolicies may name it). */
export function containerPortOf(c: Json, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return (c.ports as Json[] | undefined)?.find((p) => p.name === port)?.containerPort;
}

export const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  engines: { node: string };
  scripts: Record<string, string>;
};
