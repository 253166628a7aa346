/**
 * deploy/scheduler-config: every manifest parsed, validated against the Kubernetes API schemas,
 * and cross-checked against the code it deploys: the scheduler configuration's verbs are served,
 * the policy ConfigMap passes the policy schema, the probes work as the kubelet runs them on the
 * ops listener (--metrics-port) while the verbs stay off it, the Deployment runs the image the
 * top-level Dockerfile builds (entrypoint, user, version), and the extender's RBAC grants
 * exactly the API calls src/ makes (derived from the source, and watched at run time against an
 * API server that enforces the manifests' rules).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { Ajv } from 'ajv';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parseDocument } from 'yaml';
import { youngGenerationOptions } from '../support/deployment-node-options.js';
import { DEFAULT_POLICY, loadPolicyFile, parsePolicy, PolicyError } from '../src/config/policy.js';
import policySchema from '../src/config/policy.schema.json' with { type: 'json' };
import { Extender } from '../src/extender.js';
import { StaticReadiness } from '../src/readiness.js';
import { listen, type Listening } from '../src/http/serve.js';
import { FakeApiServer, kubeConfigFor } from '../support/fake-api-server.js';
import { post } from './support/http.js';
import { namespace, node, pod } from './support/objects.js';
import { waitFor } from './support/wait.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEPLOY = join(ROOT, 'deploy', 'scheduler-config');
const SRC = join(ROOT, 'src');

// ---------------------------------------------------------------------------------------
// Loading the manifests
// ---------------------------------------------------------------------------------------

type Json = Record<string, any>;

interface KubeObject extends Json {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Json;
}

interface Manifest {
  readonly file: string;
  readonly object: KubeObject;
}

/** kubectl reads manifests with sigs.k8s.io/yaml, i.e. YAML 1.1 (`on`, `yes` are booleans). */
const KUBE_YAML = { version: '1.1', uniqueKeys: true } as const;

function manifestFiles(): string[] {
  return readdirSync(DEPLOY)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .sort();
}

/** Every document of every manifest file; throws on a YAML error or warning. */
function loadManifests(): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of manifestFiles()) {
    for (const doc of parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8'), KUBE_YAML)) {
      const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
      if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`);
      const object: unknown = doc.toJS();
      if (object === null) continue; // an empty document, e.g. after a trailing ---
      manifests.push({ file, object: object as KubeObject });
    }
  }
  return manifests;
}

const manifests = loadManifests();

function describeObject(m: { object: KubeObject }): string {
  const { kind, metadata } = m.object;
  return `${kind} ${metadata?.namespace ? `${metadata.namespace}/` : ''}${metadata?.name}`;
}

function find(kind: string, name?: string): KubeObject[] {
  return manifests.map((m) => m.object).filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

function only(kind: string, name?: string): KubeObject {
  const found = find(kind, name);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

// ---------------------------------------------------------------------------------------
// Schema validation: kubernetes-models (the API's OpenAPI schemas: types, required fields,
// formats), plus unknown fields against @kubernetes/client-node's field lists, as
// `kubectl apply` (server-side strict field validation) would reject them.
// ---------------------------------------------------------------------------------------

type ModelClass = new (data: unknown) => { validate(): void };

/** The API groups the manifests use; a manifest of another group fails until it is added here. */
const MODEL_MODULES: Record<string, () => Promise<object>> = {
  v1: () => import('kubernetes-models/v1'),
  'apps/v1': () => import('kubernetes-models/apps/v1'),
  'policy/v1': () => import('kubernetes-models/policy/v1'),
  'networking.k8s.io/v1': () => import('kubernetes-models/networking.k8s.io/v1'),
  'rbac.authorization.k8s.io/v1': () => import('kubernetes-models/rbac.authorization.k8s.io/v1'),
};

async function schemaProblems(object: KubeObject): Promise<string[]> {
  const load = MODEL_MODULES[object.apiVersion];
  if (!load) return [`no schema loaded for apiVersion ${object.apiVersion}`];
  const Model = ((await load()) as Record<string, ModelClass | undefined>)[object.kind];
  if (!Model) return [`no schema for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

interface AttributeType {
  readonly baseName: string;
  readonly type: string;
}

function clientNodeModel(type: string): { getAttributeTypeMap(): readonly AttributeType[] } | undefined {
  const candidate = (k8s as unknown as Record<string, unknown>)[type];
  return typeof candidate === 'function' && 'getAttributeTypeMap' in candidate
    ? (candidate as unknown as { getAttributeTypeMap(): readonly AttributeType[] })
    : undefined;
}

/** Paths of fields the API type does not have (client-node's generated field lists, v1.34). */
function unknownFields(object: KubeObject): string[] {
  const version = object.apiVersion.split('/').at(-1) ?? '';
  const typeName = `${version.charAt(0).toUpperCase()}${version.slice(1)}${object.kind}`;
  if (!clientNodeModel(typeName)) return [`no client-node model ${typeName}`];
  const found: string[] = [];
  const walk = (value: unknown, type: string, path: string): void => {
    if (value === null || value === undefined) return;
    const array = /^Array<(.+)>$/.exec(type);
    if (array) {
      if (Array.isArray(value)) value.forEach((item, i) => walk(item, array[1]!, `${path}[${i}]`));
      return;
    }
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) {
      if (typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, map[1]!, `${path}.${k}`);
      return;
    }
    const model = clientNodeModel(type);
    // Primitives, IntOrString, any: their type is the schema's business.
    if (!model || typeof value !== 'object' || Array.isArray(value)) return;
    const attributes = model.getAttributeTypeMap();
    for (const [key, v] of Object.entries(value)) {
      const attribute = attributes.find((a) => a.baseName === key);
      if (attribute) walk(v, attribute.type, `${path}.${key}`);
      else found.push(`${path}.${key}`);
    }
  };
  walk(object, typeName, '');
  return found;
}

// ---------------------------------------------------------------------------------------
// The objects the other checks work on
// ---------------------------------------------------------------------------------------

const deployment = only('Deployment');
const podSpec: Json = deployment.spec.template.spec;
const allContainers: Json[] = [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])];

function container(name: string): Json {
  const found = allContainers.find((c) => c.name === name);
  if (!found) throw new Error(`the Deployment has no container ${name}`);
  return found;
}

const extenderContainer = container('sysctl-extender');
const schedulerContainer = container('kube-scheduler');

/** `--name=value` or `--name value` from a container's command line. */
function flag(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === name) return argv[i + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

function commandLine(c: Json): string[] {
  return [...(c.command ?? []), ...(c.args ?? [])] as string[];
}

/** The text of the ConfigMap key a container's `--config` file is, through its volume mount. */
function mountedConfig(c: Json): { configMap: KubeObject; key: string; text: string } {
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

const schedulerConfigText = mountedConfig(schedulerContainer).text;
const schedulerConfigDoc = parseDocument(schedulerConfigText, KUBE_YAML);
const schedulerConfig = schedulerConfigDoc.toJS() as Json;
const extenders: Json[] = schedulerConfig.extenders ?? [];
const extenderStanza: Json = extenders[0] ?? {};

const extenderArgv = commandLine(extenderContainer);
const extenderPort = Number(flag(extenderArgv, '--port'));
const extenderHost = flag(extenderArgv, '--host');
const metricsPort = Number(flag(extenderArgv, '--metrics-port'));

const MAIN_TS = readFileSync(join(SRC, 'main.ts'), 'utf8');

/** The default of a CLI option, as src/main.ts declares it: `.option('--name <x>', 'help', 'default')`. */
function cliDefault(name: string): string | undefined {
  return new RegExp(`\\.option\\('${name}(?: <[^>]+>)?',\\s*'[^']*',\\s*'([^']*)'\\)`).exec(MAIN_TS)?.[1];
}

/** The address of the ops listener: the Deployment's --metrics-host, else the CLI's default. */
const metricsHost = flag(extenderArgv, '--metrics-host') ?? cliDefault('--metrics-host');

/** A container port by number or by name (probes and NetworkPolicies may name it). */
function containerPortOf(c: Json, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return (c.ports as Json[] | undefined)?.find((p) => p.name === port)?.containerPort;
}

/**
 * One of the extender container's httpGet probes, run as the kubelet runs it (pkg/probe/http):
 * GET scheme://POD_IP:port/path with the probe's headers, within timeoutSeconds; a status in
 * 200..399 succeeds (a redirect is not followed here), any other, a refused connection or a
 * timeout fails.
 * `listeners` maps container ports to the test's listeners on 127.0.0.1, the pod IP's stand-in.
 */
async function kubeletProbe(probe: Json | undefined, listeners: Record<number, number>): Promise<{ success: boolean; status?: number }> {
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

/** Go's time.ParseDuration, for metav1.Duration fields such as httpTimeout. */
function goDurationMs(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (text === '' || parts.map((p) => p[0]).join('') !== text) throw new Error(`not a Go duration: ${text}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

// ---------------------------------------------------------------------------------------
// The image: the top-level Dockerfile, read with a few regexes (no Docker engine runs here)
// ---------------------------------------------------------------------------------------

interface DockerInstruction {
  /** Upper case: FROM, RUN, COPY... */
  readonly keyword: string;
  readonly args: string;
}

interface DockerStage {
  readonly base: string;
  readonly name?: string;
  readonly instructions: DockerInstruction[];
}

/** The stages of a Dockerfile: continuation lines joined, comments and parser directives dropped. */
function parseDockerfile(text: string): DockerStage[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    // A comment or a blank line, also inside a continuation (Docker skips both there).
    if (/^\s*#/.test(raw) || raw.trim() === '') continue;
    const line = raw.trimEnd();
    if (line.endsWith('\\')) pending += `${line.slice(0, -1)} `;
    else {
      lines.push(`${pending}${line}`.trim());
      pending = '';
    }
  }
  if (pending.trim() !== '') lines.push(pending.trim());
  const stages: DockerStage[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/s.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`Dockerfile: cannot read FROM ${args}`);
      stages.push({ base: from[1]!, name: from[2], instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args });
    } else if (keyword.toUpperCase() !== 'ARG') {
      throw new Error(`Dockerfile: ${keyword} before the first FROM`);
    }
  }
  return stages;
}

function instructions(stage: DockerStage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** The exec (JSON) form's argv; undefined for the shell form, which runs under /bin/sh -c. */
function execForm(args: string | undefined): string[] | undefined {
  if (!args?.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed : undefined;
}

/** The stage's working directory after its WORKDIRs (each relative one resolved on the last). */
function workdirOf(stage: DockerStage): string {
  return instructions(stage, 'WORKDIR').reduce((dir, next) => posix.resolve(dir, next), '/');
}

/** The stage's ARG defaults, and `$NAME`/`${NAME}` replaced by them. */
function substitute(stage: DockerStage, text: string): string {
  const defaults = new Map<string, string>();
  for (const arg of instructions(stage, 'ARG')) {
    const [, name, value] = /^([^=\s]+)=(.*)$/.exec(arg) ?? [];
    if (name !== undefined && value !== undefined) defaults.set(name, value);
  }
  return text.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => defaults.get(name) ?? whole);
}

/** LABEL key=value pairs, quotes removed. */
function labelsOf(stage: DockerStage): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const args of instructions(stage, 'LABEL')) {
    for (const m of args.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S+)/g)) labels[m[1]!] = substitute(stage, m[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return labels;
}

interface DockerCopy {
  /** The stage copied from (--from), or undefined for the build context. */
  readonly from?: string;
  /** Each source with the absolute path it lands at. */
  readonly files: Array<{ source: string; target: string }>;
}

/** The stage's COPY and ADD instructions, destinations resolved against its WORKDIR at that point. */
function copiesOf(stage: DockerStage): DockerCopy[] {
  const copies: DockerCopy[] = [];
  let workdir = '/';
  for (const { keyword, args } of stage.instructions) {
    if (keyword === 'WORKDIR') workdir = posix.resolve(workdir, args);
    if (keyword !== 'COPY' && keyword !== 'ADD') continue;
    const words = args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = execForm(words.filter((w) => !w.startsWith('--')).join(' ')) ?? words.filter((w) => !w.startsWith('--'));
    const dest = posix.resolve(workdir, paths.at(-1)!);
    const sources = paths.slice(0, -1);
    const intoDirectory = sources.length > 1 || paths.at(-1)!.endsWith('/');
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    copies.push({
      from: keyword === 'ADD' ? undefined : from,
      files: sources.map((source) => ({ source, target: intoDirectory ? posix.join(dest, posix.basename(source)) : dest })),
    });
  }
  return copies;
}

/** The shell commands of the stage's RUN instructions, split at &&, in order. */
function commandsOf(stage: DockerStage): string[] {
  return instructions(stage, 'RUN').flatMap((run) => run.split('&&').map((c) => c.trim().replace(/\s+/g, ' ')));
}

/** A .dockerignore pattern matches a path or one of its parents (`*` within one path segment). */
function dockerignored(patterns: readonly string[], path: string): boolean {
  const clean = posix.normalize(path).replace(/^\.\/|\/$/g, '');
  return patterns.some((pattern) => {
    const glob = posix.normalize(pattern).replace(/^\/|\/$/g, '');
    const regex = new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*')}(/.*)?$`);
    return regex.test(clean);
  });
}

const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  engines: { node: string };
  scripts: Record<string, string>;
};

// ---------------------------------------------------------------------------------------
// The files
// ---------------------------------------------------------------------------------------

describe('deploy/scheduler-config manifests', () => {
  it('parse as YAML into Kubernetes objects, each named once', () => {
    expect(manifestFiles()).toEqual(['deployment.yaml', 'kube-scheduler-config.yaml', 'networkpolicy.yaml', 'policy-configmap.yaml', 'rbac.yaml']);
    expect(manifests.length).toBeGreaterThanOrEqual(11);
    for (const m of manifests) {
      expect(m.object.apiVersion, m.file).toMatch(/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/);
      expect(m.object.kind, m.file).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(m.object.metadata?.name, m.file).toMatch(/^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$/);
    }
    const keys = manifests.map((m) => describeObject(m));
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it('are all listed in kustomization.yaml, and it lists nothing else', () => {
    const kustomization = parseDocument(readFileSync(join(DEPLOY, 'kustomization.yaml'), 'utf8'), KUBE_YAML).toJS() as Json;
    expect(kustomization.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(kustomization.kind).toBe('Kustomization');
    expect([...(kustomization.resources as string[])].sort()).toEqual(manifestFiles());
  });

  it.each(manifests.map((m) => ({ ...m, name: describeObject(m) })))('$name ($file) is valid against the Kubernetes API schema', async ({ object }) => {
    expect(await schemaProblems(object)).toEqual([]);
    expect(unknownFields(object)).toEqual([]);
  });

  it('the schema checks catch a wrong type, a missing required field and a misspelt field', async () => {
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].ports = [{ containerPort: '10259' }];
    delete broken.spec.selector;
    broken.spec.template.spec.serviceAcountName = 'typo';
    const problems = (await schemaProblems(broken)).join('\n');
    expect(problems).toMatch(/containerPort must be integer/);
    expect(problems).toMatch(/spec must have required property '?selector'?/);
    expect(unknownFields(broken)).toEqual(['.spec.template.spec.serviceAcountName']);
  });
});

// ---------------------------------------------------------------------------------------
// The KubeSchedulerConfiguration
// ---------------------------------------------------------------------------------------

/**
 * kubescheduler.config.k8s.io/v1 (k8s.io/kube-scheduler/config/v1, types.go, v1.31), which
 * kube-scheduler decodes strictly: an unknown or misspelt field stops it at start.
 */
const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const duration = { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$' } as const;
const percentage = { type: 'integer', minimum: 0, maximum: 100 } as const;
const pluginList = {
  type: 'array',
  items: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: str, weight: { type: 'integer' } } },
} as const;
const pluginSet = { type: 'object', additionalProperties: false, properties: { enabled: pluginList, disabled: pluginList } } as const;
const extensionPoints = ['preEnqueue', 'queueSort', 'preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'permit', 'preBind', 'bind', 'postBind', 'multiPoint'];
const schedulerConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind'],
  properties: {
    apiVersion: { const: 'kubescheduler.config.k8s.io/v1' },
    kind: { const: 'KubeSchedulerConfiguration' },
    parallelism: { type: 'integer', minimum: 1 },
    leaderElection: {
      type: 'object',
      additionalProperties: false,
      properties: {
        leaderElect: bool,
        leaseDuration: duration,
        renewDeadline: duration,
        retryPeriod: duration,
        resourceLock: { const: 'leases' },
        resourceName: str,
        resourceNamespace: str,
      },
    },
    clientConnection: {
      type: 'object',
      additionalProperties: false,
      properties: { kubeconfig: str, acceptContentTypes: str, contentType: str, qps: { type: 'number' }, burst: { type: 'integer' } },
    },
    enableProfiling: bool,
    enableContentionProfiling: bool,
    percentageOfNodesToScore: percentage,
    podInitialBackoffSeconds: { type: 'integer', minimum: 1 },
    podMaxBackoffSeconds: { type: 'integer', minimum: 1 },
    delayCacheUntilActive: bool,
    profiles: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          schedulerName: str,
          percentageOfNodesToScore: percentage,
          plugins: { type: 'object', additionalProperties: false, properties: Object.fromEntries(extensionPoints.map((p) => [p, pluginSet])) },
          pluginConfig: {
            type: 'array',
            items: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: str, args: { type: 'object' } } },
          },
        },
      },
    },
    extenders: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['urlPrefix'],
        properties: {
          urlPrefix: str,
          filterVerb: str,
          preemptVerb: str,
          prioritizeVerb: str,
          weight: { type: 'integer' },
          bindVerb: str,
          enableHTTPS: bool,
          tlsConfig: {
            type: 'object',
            additionalProperties: false,
            properties: { insecure: bool, serverName: str, certFile: str, keyFile: str, caFile: str, certData: str, keyData: str, caData: str },
          },
          httpTimeout: duration,
          nodeCacheCapable: bool,
          managedResources: {
            type: 'array',
            items: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: str, ignoredByScheduler: bool } },
          },
          ignorable: bool,
        },
        // kube-scheduler's validation: "must have a positive weight applied to it".
        if: { type: 'object', required: ['prioritizeVerb'], properties: { prioritizeVerb: { type: 'string', minLength: 1 } } },
        then: { type: 'object', required: ['weight'], properties: { weight: { type: 'integer', minimum: 1 } } },
      },
    },
  },
};
const validateSchedulerConfig = new Ajv({ allErrors: true, strict: true }).compile(schedulerConfigSchema);

function schedulerConfigProblems(config: unknown): string[] {
  if (validateSchedulerConfig(config)) return [];
  return (validateSchedulerConfig.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

describe('the KubeSchedulerConfiguration', () => {
  it('is the ConfigMap data that kube-scheduler --config reads, and has only kubescheduler.config.k8s.io/v1 fields', () => {
    expect(mountedConfig(schedulerContainer).configMap.metadata.name).toBe('sysctl-scheduler-config');
    expect([...schedulerConfigDoc.errors, ...schedulerConfigDoc.warnings]).toEqual([]);
    expect(schedulerConfigProblems(schedulerConfig)).toEqual([]);
  });

  it('the field check catches a misspelt field, a bad duration and a weightless prioritize verb', () => {
    const broken = structuredClone(schedulerConfig);
    broken.extenders[0].nodeCacheCapabel = true;
    broken.extenders[0].httpTimeout = '10 seconds';
    delete broken.extenders[0].weight;
    const problems = schedulerConfigProblems(broken).join('\n');
    expect(problems).toMatch(/must NOT have additional properties.*nodeCacheCapabel/);
    expect(problems).toMatch(/httpTimeout must match pattern/);
    expect(problems).toMatch(/must have required property 'weight'/);
  });

  it('has one profile, sysctl-scheduler, so that pods opt in by schedulerName and the default scheduler keeps its own', () => {
    // Extenders apply to every profile of a scheduler: a default-scheduler profile here would
    // route every ordinary pod through the extender, and fight the real default scheduler.
    expect((schedulerConfig.profiles as Json[]).map((p) => p.schedulerName)).toEqual(['sysctl-scheduler']);
  });

  it('scores every feasible node, so the extender is never shown only a sample', () => {
    expect(schedulerConfig.percentageOfNodesToScore).toBe(100);
    for (const profile of schedulerConfig.profiles as Json[]) {
      expect(profile.percentageOfNodesToScore ?? schedulerConfig.percentageOfNodesToScore).toBe(100);
    }
    // The reason is written beside the setting, for whoever is tempted to lower it.
    const comment = schedulerConfigText.slice(0, schedulerConfigText.indexOf('percentageOfNodesToScore: 100'));
    expect(comment.slice(comment.lastIndexOf('\n\n'))).toMatch(/sample/);
  });

  it('elects one leader on a Lease of its own that the RBAC lets it renew', () => {
    const election: Json = schedulerConfig.leaderElection;
    expect(election.leaderElect).toBe(true);
    expect(election.resourceName).toBeTruthy();
    // kube-scheduler is the default scheduler's Lease: sharing it, one of the two would idle.
    expect(election.resourceName).not.toBe('kube-scheduler');
    const leaseNamespace: string = election.resourceNamespace ?? 'kube-system';
    const allowed = (verb: string) =>
      rulesFor(serviceAccountOf(deployment), leaseNamespace).some((rule) =>
        ruleAllows(rule, { verb, group: 'coordination.k8s.io', resource: 'leases', namespace: leaseNamespace, name: election.resourceName }),
      );
    expect(allowed('get')).toBe(true);
    expect(allowed('update')).toBe(true);
    // Lease creation comes from system:kube-scheduler, bound below.
  });

  it('has one extender that filters, prioritizes, preempts and binds, caches nodes, is not ignorable, and is sent every pod', () => {
    expect(extenders).toHaveLength(1);
    expect(extenderStanza).toMatchObject({
      filterVerb: expect.any(String),
      prioritizeVerb: expect.any(String),
      preemptVerb: expect.any(String),
      bindVerb: expect.any(String),
      nodeCacheCapable: true,
      ignorable: false,
    });
    expect(extenderStanza.weight).toBeGreaterThanOrEqual(1);
    // With managedResources listed, pods requesting none of them would skip the extender.
    expect(extenderStanza.managedResources ?? []).toEqual([]);
  });

  it('gives up on a hung extender within the extender\'s own request timeout (30 s)', () => {
    const timeout = goDurationMs(extenderStanza.httpTimeout as string);
    expect(timeout).toBeGreaterThanOrEqual(1000);
    expect(timeout).toBeLessThanOrEqual(30_000);
    expect(goDurationMs('1m30s')).toBe(90_000); // the parser itself
  });

  it('reaches the sidecar on loopback, at the port it listens on, over HTTPS exactly when it serves HTTPS', () => {
    const url = new URL(extenderStanza.urlPrefix as string);
    const tls = flag(extenderArgv, '--tls-cert') !== undefined;
    expect(url.protocol).toBe(tls ? 'https:' : 'http:');
    expect(extenderStanza.enableHTTPS ?? false).toBe(tls);
    expect(url.hostname).toBe('127.0.0.1');
    expect(extenderHost).toBe(url.hostname);
    expect(Number(url.port)).toBe(extenderPort);
    expect(url.search).toBe('');
  });
});

describe('the extender serves the configured verbs', () => {
  let listening: Listening;
  beforeAll(async () => {
    const readiness = new StaticReadiness();
    const extender = new Extender({ policy: DEFAULT_POLICY, readiness });
    readiness.markLoaded();
    listening = await listen(extender.app, '127.0.0.1', 0);
  });
  afterAll(() => listening.close());

  /** The URL kube-scheduler calls (pkg/scheduler/extender.go: urlPrefix + "/" + verb), on the test's port. */
  function verbUrl(verb: string): string {
    const url = new URL(extenderStanza.urlPrefix as string);
    url.port = String(listening.port);
    return `${url.toString().replace(/\/+$/, '')}/${verb}`;
  }

  it.each(['filterVerb', 'prioritizeVerb', 'bindVerb', 'preemptVerb'])('%s: a bad body is refused (400), not an unknown path (404)', async (field) => {
    const verb = extenderStanza[field] as string;
    expect(verb).toMatch(/^[a-z]+$/);
    const answer = await post(verbUrl(verb), '{}');
    expect(answer.status, `${verbUrl(verb)}: ${answer.text}`).toBe(400);
  });

  it('an unserved verb would show as 404', async () => {
    expect((await post(verbUrl('filterx'), '{}')).status).toBe(404);
  });
});

// ---------------------------------------------------------------------------------------
// The Deployment
// ---------------------------------------------------------------------------------------

describe('the Deployment', () => {
  it('runs the extender as a native sidecar of kube-scheduler, so it starts first and stops last', () => {
    expect((podSpec.initContainers as Json[]).map((c) => c.name)).toEqual(['sysctl-extender']);
    expect(extenderContainer.restartPolicy).toBe('Always');
    expect(extenderContainer.startupProbe).toBeDefined();
    expect((podSpec.containers as Json[]).map((c) => c.name)).toEqual(['kube-scheduler']);
    expect(schedulerContainer.image).toMatch(/^registry\.k8s\.io\/kube-scheduler:v1\.(\d+)\.\d+$/);
    expect(Number(/:v1\.(\d+)/.exec(schedulerContainer.image as string)![1])).toBeGreaterThanOrEqual(29);
  });

  it('keeps the verbs on loopback and exposes the ops listener only: one containerPort, metrics, at --metrics-port', () => {
    expect(extenderHost).toBe('127.0.0.1');
    expect(extenderContainer.ports).toEqual([{ name: 'metrics', containerPort: metricsPort, protocol: 'TCP' }]);
    for (const port of [extenderPort, metricsPort]) expect(Number.isInteger(port) && port > 0 && port < 65536, String(port)).toBe(true);
    expect(metricsPort).not.toBe(extenderPort);
    // kube-scheduler's secure port, in the same network namespace.
    expect([extenderPort, metricsPort]).not.toContain(10259);
    // The kubelet probes, and Prometheus scrapes, the pod IP: the ops listener must be on it.
    expect(['0.0.0.0', '::']).toContain(metricsHost);
    expect(cliDefault('--host')).toBe('127.0.0.1'); // the reader of main.ts's defaults works
  });

  it('starts the extender with flags its CLI defines, watching the cluster in-cluster', () => {
    const defined = new Set([...MAIN_TS.matchAll(/\.option\('(--[a-z-]+)/g)].map((m) => m[1]));
    expect(defined).toContain('--metrics-port');
    const used = extenderArgv.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]);
    expect(used.filter((f) => !defined.has(f))).toEqual([]);
    expect(used).toEqual(expect.arrayContaining(['--host', '--port', '--metrics-port', '--config']));
    // No --snapshot, --demo or --kubeconfig: the pod's service account is used.
    expect(used.filter((f) => ['--snapshot', '--demo', '--kubeconfig'].includes(f!))).toEqual([]);
  });

  it('runs Node with a small young generation, the same under npm start and in the Deployment', () => {
    const env = (extenderContainer.env ?? []) as Array<{ name?: string; value?: string }>;
    const nodeOptions = env.find((e) => e.name === 'NODE_OPTIONS')?.value?.split(/\s+/) ?? [];
    const semiSpace = nodeOptions.filter((f) => f.startsWith('--max-semi-space-size='));
    expect(semiSpace).toEqual(['--max-semi-space-size=4']);
    expect(packageJson.scripts.start!.split(/\s+/)).toContain(semiSpace[0]);
    // The bench runs every server under test with it (support/deployment-node-options.ts).
    expect(youngGenerationOptions()).toEqual(semiSpace);
  });

  it('mounts the policy ConfigMap where --config points, and its policy passes the policy schema', () => {
    const { configMap, key, text } = mountedConfig(extenderContainer);
    expect(configMap.metadata.name).toBe('sysctl-extender-policy');
    // Through the extender's own loader, as it reads the mounted file.
    const file = join(mkdtempSync(join(tmpdir(), 'policy-')), key);
    writeFileSync(file, text);
    const policy = loadPolicyFile(file);
    expect(policy.ruleMode).toBe('strict');
    // The loader has teeth: an unknown knob is refused.
    writeFileSync(file, `${text}\nbogusKnob: 1\n`);
    expect(() => loadPolicyFile(file)).toThrow(PolicyError);
  });

  it('the policy ConfigMap spells out every knob of the schema, at its default', () => {
    const document = parseDocument(mountedConfig(extenderContainer).text).toJS() as Json;
    expect(Object.keys(document).sort()).toEqual(Object.keys(policySchema.properties).sort());
    expect(parsePolicy(document)).toEqual(DEFAULT_POLICY);
  });

  it('probes the extender with httpGet on its ops listener: /readyz to start and be ready, /healthz to live', () => {
    const target = (probe: Json | undefined) => {
      expect(probe?.exec).toBeUndefined();
      const get: Json | undefined = probe?.httpGet;
      // No host: the pod IP, where the ops listener is (a host would be the node's, not the pod's).
      expect(get?.host).toBeUndefined();
      expect(get?.scheme ?? 'HTTP').toBe('HTTP');
      return `${containerPortOf(extenderContainer, get?.port)} ${get?.path}`;
    };
    expect(target(extenderContainer.startupProbe)).toBe(`${metricsPort} /readyz`);
    expect(target(extenderContainer.readinessProbe)).toBe(`${metricsPort} /readyz`);
    expect(target(extenderContainer.livenessProbe)).toBe(`${metricsPort} /healthz`);
  });

  it("is annotated for Prometheus to scrape the ops listener's /metrics", () => {
    const annotations: Record<string, unknown> = deployment.spec.template.metadata.annotations ?? {};
    // Strings, as the API requires: a bare true or 9090 in the YAML would be refused.
    expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metricsPort), 'prometheus.io/path': '/metrics' });
    expect(containerPortOf(extenderContainer, 'metrics')).toBe(Number(annotations['prometheus.io/port']));
  });

  it('probes kube-scheduler on its secure port: /healthz to live, /readyz to be ready', () => {
    expect(schedulerContainer.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 10259, scheme: 'HTTPS' });
    expect(schedulerContainer.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 10259, scheme: 'HTTPS' });
  });

  describe("the extender's probes, as the kubelet runs them, against a real extender's ops listener", () => {
    let readiness: StaticReadiness;
    let ops: Listening;
    beforeAll(async () => {
      readiness = new StaticReadiness(); // not loaded yet: the index is still being built
      const extender = new Extender({ policy: DEFAULT_POLICY, readiness });
      // What --metrics-port serves (src/main.ts).
      ops = await listen(extender.opsApp, '127.0.0.1', 0);
    });
    afterAll(() => ops.close());

    it('startup and readiness fail (503) while the index loads, pass (200) once it is loaded; liveness passes throughout', async () => {
      const ports = { [metricsPort]: ops.port };
      expect(await kubeletProbe(extenderContainer.startupProbe, ports)).toEqual({ success: false, status: 503 });
      expect(await kubeletProbe(extenderContainer.readinessProbe, ports)).toEqual({ success: false, status: 503 });
      // No restart loop while a large cluster is listed.
      expect(await kubeletProbe(extenderContainer.livenessProbe, ports)).toEqual({ success: true, status: 200 });
      readiness.markLoaded();
      expect(await kubeletProbe(extenderContainer.startupProbe, ports)).toEqual({ success: true, status: 200 });
      expect(await kubeletProbe(extenderContainer.readinessProbe, ports)).toEqual({ success: true, status: 200 });
      expect(await kubeletProbe(extenderContainer.livenessProbe, ports)).toEqual({ success: true, status: 200 });
    });

    it('every probe fails with nothing listening, so a dead extender is restarted', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        expect(await kubeletProbe(extenderContainer[probe], { [metricsPort]: port }), probe).toEqual({ success: false });
      }
    });

    it("serves Prometheus' scrape path, and none of the verbs kube-scheduler is configured with (404)", async () => {
      const annotations: Record<string, string> = deployment.spec.template.metadata.annotations;
      const scrape = await fetch(`http://127.0.0.1:${ops.port}${annotations['prometheus.io/path']}`);
      expect(scrape.status).toBe(200);
      expect(scrape.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await scrape.text()).toMatch(/^# TYPE sysctl_extender_\w+/m);
      for (const field of ['filterVerb', 'prioritizeVerb', 'preemptVerb', 'bindVerb']) {
        const verb = extenderStanza[field] as string;
        expect((await post(`http://127.0.0.1:${ops.port}/${verb}`, '{}')).status, verb).toBe(404);
      }
    });
  });

  it('is placed by the default scheduler, selects its own pods, and a PodDisruptionBudget keeps one', () => {
    expect(podSpec.schedulerName ?? 'default-scheduler').toBe('default-scheduler');
    const labels: Record<string, string> = deployment.spec.template.metadata.labels;
    expect(labels).toMatchObject(deployment.spec.selector.matchLabels);
    const pdb = only('PodDisruptionBudget');
    expect(pdb.metadata.namespace).toBe(deployment.metadata.namespace);
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
  });

  it('has more than one replica only with leader election on (one scheduler binds)', () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(1);
    if (deployment.spec.replicas > 1) expect(schedulerConfig.leaderElection.leaderElect).toBe(true);
  });

  it('runs every container unprivileged: non-root, no privilege escalation, no capabilities, read-only root', () => {
    expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(podSpec.securityContext.runAsUser).toBeGreaterThan(0);
    expect(podSpec.hostNetwork ?? false).toBe(false);
    for (const c of allContainers) {
      expect(c.securityContext, c.name).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(c.securityContext.privileged ?? false, c.name).toBe(false);
    }
  });
});

describe('the NetworkPolicy', () => {
  const policy = only('NetworkPolicy');

  it("selects the Deployment's pods, in its namespace, and restricts ingress only (egress must reach the API server)", () => {
    expect(policy.metadata.namespace).toBe(deployment.metadata.namespace);
    expect(Object.keys(policy.spec.podSelector.matchLabels ?? {})).not.toEqual([]);
    expect(deployment.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(policy.spec.podSelector.matchExpressions ?? []).toEqual([]);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
  });

  it("admits ingress to the extender's ops listener alone: no rule without ports, no port but metrics", () => {
    const rules = policy.spec.ingress as Json[];
    expect(rules.length).toBeGreaterThan(0);
    // A rule without ports admits every port, the verbs' included.
    expect(rules.filter((rule) => (rule.ports ?? []).length === 0)).toEqual([]);
    const admitted = rules.flatMap((rule) => rule.ports as Json[]).map((p) => `${p.protocol ?? 'TCP'} ${containerPortOf(extenderContainer, p.port)}${p.endPort ? `-${p.endPort}` : ''}`);
    expect(admitted).toEqual([`TCP ${metricsPort}`]);
  });
});

// ---------------------------------------------------------------------------------------
// The image the Deployment runs
// ---------------------------------------------------------------------------------------

/** Whether a package.json engines range admits every release of a Node major (`^M.m.p`, `>=M...`, joined by ||). */
function enginesAllow(range: string, major: number): boolean {
  return range.split('||').some((alternative) => {
    const caret = /^\s*\^(\d+)\.\d+\.\d+\s*$/.exec(alternative);
    const atLeast = /^\s*>=\s*(\d+)(\.\d+){0,2}\s*$/.exec(alternative);
    return (caret !== null && Number(caret[1]) === major) || (atLeast !== null && major >= Number(atLeast[1]));
  });
}

/** The tsconfig files `npm run build` reads: the one its `tsc -p` names, and those it extends. */
function buildTsconfigs(): { files: string[]; outDir: string } {
  const files: string[] = [];
  let next: string | undefined = /-p\s+(\S+)/.exec(packageJson.scripts.build ?? '')?.[1] ?? 'tsconfig.json';
  while (next !== undefined) {
    files.push(posix.normalize(next));
    const { config } = ts.readConfigFile(join(ROOT, next), (path) => ts.sys.readFile(path)) as { config?: { extends?: string } };
    next = config?.extends;
  }
  const { options } = ts.parseJsonConfigFileContent(ts.readConfigFile(join(ROOT, files[0]!), (path) => ts.sys.readFile(path)).config, ts.sys, ROOT);
  return { files, outDir: posix.relative(ROOT, options.outDir ?? ROOT) };
}

describe('the image (the top-level Dockerfile) and the Deployment that runs it', () => {
  const stages = parseDockerfile(DOCKERFILE);
  const final = stages.at(-1)!;
  const workdir = workdirOf(final);
  const buildStageName = copiesOf(final).find((c) => c.from !== undefined)?.from;
  const build = stages.find((stage, i) => stage !== final && (stage.name === buildStageName || String(i) === buildStageName));
  const entrypoint = execForm(instructions(final, 'ENTRYPOINT').at(-1));

  it("is Node of a major that package.json's engines admit, the same in every stage", () => {
    const majors = stages.map((stage) => /^node:(\d+)[\w.-]*(@sha256:[0-9a-f]{64})?$/.exec(stage.base)?.[1]);
    expect(majors.filter((m) => m === undefined)).toEqual([]);
    expect(new Set(majors).size).toBe(1);
    expect(enginesAllow(packageJson.engines.node, Number(majors[0]))).toBe(true);
    // The range reader itself.
    expect([18, 20, 21, 22, 24].map((m) => enginesAllow('^20.11.0 || >=22.0.0', m))).toEqual([false, true, false, true, true]);
  });

  it('builds in a stage of its own: npm ci, the build script, then the dev dependencies pruned', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build, `the final stage copies from a build stage (${buildStageName})`).toBeDefined();
    const commands = commandsOf(build!);
    const ci = commands.findIndex((c) => /^npm ci\b/.test(c) && !c.includes('--omit=dev'));
    const compile = commands.indexOf('npm run build');
    const prune = commands.findIndex((c) => /^npm prune\b.*--omit=dev/.test(c));
    expect(ci, commands.join('\n')).toBeGreaterThanOrEqual(0);
    expect(compile, commands.join('\n')).toBeGreaterThan(ci);
    expect(prune, commands.join('\n')).toBeGreaterThan(compile);
    // Everything the build reads is copied from the context to where it runs.
    const buildDir = workdirOf(build!);
    const copied = copiesOf(build!).filter((c) => c.from === undefined).flatMap((c) => c.files);
    const needed = ['package.json', 'package-lock.json', ...buildTsconfigs().files, 'src'];
    const missing = needed.filter((f) => !copied.some((c) => posix.normalize(c.source).replace(/\/$/, '') === f && c.target === posix.join(buildDir, f)));
    expect(missing).toEqual([]);
  });

  it('ships only dist/, node_modules and the package files (package.json makes dist/ ES modules), from the build stage into WORKDIR', () => {
    expect(workdir).not.toBe('/');
    expect(instructions(final, 'ADD')).toEqual([]);
    // Nothing from the build context: no sources, no tests, no development dependencies.
    expect(copiesOf(final).filter((c) => c.from !== buildStageName)).toEqual([]);
    const buildDir = workdirOf(build!);
    const shipped = copiesOf(final)
      .flatMap((c) => c.files)
      .map((f) => `${posix.resolve('/', f.source)} -> ${f.target}`); // --from sources are relative to the stage's root
    const expected = [buildTsconfigs().outDir, 'node_modules', 'package.json', 'package-lock.json'].map((f) => `${posix.join(buildDir, f)} -> ${posix.join(workdir, f)}`);
    expect(shipped.sort()).toEqual(expected.sort());
  });

  it("runs package.json's bin with node, in exec form (node is PID 1 and gets the kubelet's SIGTERM itself), from the shipped dist/", () => {
    expect(entrypoint).toEqual(['node', packageJson.bin['sysctl-extender']]);
    expect(posix.resolve(workdir, entrypoint![1]!).startsWith(`${posix.join(workdir, buildTsconfigs().outDir)}/`)).toBe(true);
    // No CMD: the flags are the Deployment's args.
    expect(instructions(final, 'CMD')).toEqual([]);
  });

  it("the Deployment's extender runs that entrypoint as is: no command, no workingDir, flags only as args", () => {
    expect(extenderContainer.command).toBeUndefined();
    expect(extenderContainer.workingDir ?? workdir).toBe(workdir);
    expect(extenderContainer.args.length).toBeGreaterThan(0);
    expect((extenderContainer.args as string[]).filter((a) => !/^--[a-z-]+=\S/.test(a))).toEqual([]);
  });

  it("runs as the numeric non-root user and group that the pod's securityContext names", () => {
    const user = instructions(final, 'USER').at(-1);
    const [, uid, gid] = /^(\d+)(?::(\d+))?$/.exec(user ?? '') ?? [];
    // Numeric, so that the kubelet can check runAsNonRoot against the image.
    expect(uid, `USER ${user}`).toBeDefined();
    expect(Number(uid)).toBeGreaterThan(0);
    const effective: Json = { ...podSpec.securityContext, ...extenderContainer.securityContext };
    expect(effective).toMatchObject({ runAsNonRoot: true, runAsUser: Number(uid) });
    if (gid !== undefined) expect(effective.runAsGroup).toBe(Number(gid));
  });

  it("is labelled with package.json's version, the tag the Deployment pulls", () => {
    expect(labelsOf(final)).toMatchObject({ 'org.opencontainers.image.version': packageJson.version, 'org.opencontainers.image.title': 'sysctl-extender' });
    expect(/:([\w.-]+)$/.exec(extenderContainer.image as string)?.[1]).toBe(packageJson.version);
  });

  it('.dockerignore keeps node_modules, dist, .git, test and bench/results out of the build context, and nothing the build copies', () => {
    for (const path of ['node_modules', 'node_modules/express/package.json', 'dist', 'dist/main.js', '.git', 'test', 'test/cli.test.ts', 'bench/results']) {
      expect(dockerignored(dockerignore, path), path).toBe(true);
    }
    const copied = stages.flatMap((stage) => copiesOf(stage).filter((c) => c.from === undefined).flatMap((c) => c.files.map((f) => f.source)));
    expect(copied.length).toBeGreaterThan(0);
    expect(copied.filter((path) => dockerignored(dockerignore, path))).toEqual([]);
  });

  it('the Dockerfile reading has teeth: continuations, stages, WORKDIR, COPY targets, the shell form, labels, ignore patterns', () => {
    const text = ['# c', 'FROM node:20 AS b', 'WORKDIR /src', 'FROM node:20', 'ARG V=1.2.3', 'WORKDIR /app', 'WORKDIR sub', 'COPY . .', 'COPY --from=b /src/dist ./', 'COPY a b /x/', 'ENTRYPOINT node dist/main.js', 'LABEL a=1 \\', '  # inside', '  b="two words" v=${V}'].join('\n');
    const parsed = parseDockerfile(text);
    expect(parsed.map((stage) => `${stage.base} ${stage.name}`)).toEqual(['node:20 b', 'node:20 undefined']);
    const last = parsed[1]!;
    expect(workdirOf(last)).toBe('/app/sub');
    expect(copiesOf(last)).toEqual([
      { from: undefined, files: [{ source: '.', target: '/app/sub' }] },
      { from: 'b', files: [{ source: '/src/dist', target: '/app/sub/dist' }] },
      { from: undefined, files: [{ source: 'a', target: '/x/a' }, { source: 'b', target: '/x/b' }] },
    ]);
    expect(execForm(instructions(last, 'ENTRYPOINT')[0])).toBeUndefined();
    expect(labelsOf(last)).toEqual({ a: '1', b: 'two words', v: '1.2.3' });
    expect(dockerignored(['*.cpuprofile', 'dist'], 'x.cpuprofile')).toBe(true);
    expect(dockerignored(['*.cpuprofile', 'dist'], 'distance')).toBe(false);
    expect(dockerignored(['bench/results'], 'bench/run.ts')).toBe(false);
  });
});

// RBAC: a small authorizer over the manifests' Roles and bindings
// ---------------------------------------------------------------------------------------

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** What RBAC authorizes on: the resource includes its subresource, e.g. `pods/binding`. */
interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
}

function ruleAllows(rule: PolicyRule, request: RequestAttributes): boolean {
  const names = rule.resourceNames ?? [];
  return (
    rule.verbs.some((v) => v === '*' || v === request.verb) &&
    (rule.apiGroups ?? []).some((g) => g === '*' || g === request.group) &&
    (rule.resources ?? []).some((r) => r === '*' || r === request.resource) &&
    (names.length === 0 || (request.name !== undefined && names.includes(request.name)))
  );
}

interface Subject {
  name: string;
  namespace: string;
}

function serviceAccountOf(d: KubeObject): Subject {
  return { name: d.spec.template.spec.serviceAccountName, namespace: d.metadata.namespace ?? 'default' };
}

function binds(binding: KubeObject, subject: Subject): boolean {
  return ((binding.subjects ?? []) as Json[]).some(
    (s) => s.kind === 'ServiceAccount' && s.name === subject.name && s.namespace === subject.namespace,
  );
}

/**
 * The rules of the Roles and ClusterRoles defined here that apply to `subject` in `namespace`
 * (undefined: cluster-scoped or all namespaces). Built-in roles bound by name are not here:
 * they are the cluster's, and nothing below relies on them.
 */
function rulesFor(subject: Subject, namespace: string | undefined): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const binding of find('ClusterRoleBinding').filter((b) => binds(b, subject))) {
    for (const role of find('ClusterRole', binding.roleRef.name)) rules.push(...(role.rules as PolicyRule[]));
  }
  if (namespace === undefined) return rules;
  for (const binding of find('RoleBinding').filter((b) => binds(b, subject) && b.metadata.namespace === namespace)) {
    const roles =
      binding.roleRef.kind === 'ClusterRole'
        ? find('ClusterRole', binding.roleRef.name)
        : find('Role', binding.roleRef.name).filter((r) => r.metadata.namespace === namespace);
    for (const role of roles) rules.push(...(role.rules as PolicyRule[]));
  }
  return rules;
}

/** The RBAC attributes of an API request, as the API server derives them from method and URL. */
function requestAttributes(method: string, rawUrl: string): RequestAttributes | undefined {
  const url = new URL(rawUrl, 'http://api.invalid');
  const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) [group, rest] = ['', parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 3) [group, rest] = [parts[1]!, parts.slice(3)];
  else return undefined;
  // /namespaces/NS/RESOURCE[/NAME[/SUB]], else RESOURCE[/NAME[/SUB]] (namespaces itself included).
  const [namespace, resource, name, subresource] = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(1) : [undefined, ...rest];
  if (resource === undefined) return undefined;
  const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
  const verbs: Record<string, string> = {
    GET: name !== undefined ? 'get' : watch ? 'watch' : 'list',
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: name !== undefined ? 'delete' : 'deletecollection',
  };
  const verb = verbs[method];
  if (!verb) return undefined;
  // A list or watch narrowed to one object by name is matched against resourceNames.
  const byField = /(?:^|,)metadata\.name==?([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
  return { verb, group, resource: subresource ? `${resource}/${subresource}` : resource, namespace, name: name ?? byField };
}

function permission(a: RequestAttributes): string {
  return `${a.verb} ${a.group === '' ? 'core' : a.group}/${a.resource}`;
}

// ---------------------------------------------------------------------------------------
// The API calls src/ makes, derived from the source with the TypeScript type checker
// ---------------------------------------------------------------------------------------

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** A call in src/ of a client-node API class's method, e.g. CoreV1Api.listNode. */
interface ApiMethodCall {
  /** The class as declared in client-node (e.g. ObjectCoreV1Api, exported as CoreV1Api). */
  className: string;
  method: string;
  where: string;
}

interface SourceScan {
  apiMethodCalls: ApiMethodCall[];
  /** String and template literals that are API paths: what Watch.watch is given, or KubeHttp.request. */
  apiPaths: Array<{ path: string; where: string }>;
  /**
   * Per file, the methods its calls of src/cluster/kube-http.ts KubeHttp.request name (a string
   * literal first argument): that file's API paths are requests of those methods, not watches.
   */
  requestMethods: Map<string, Set<string>>;
  /** Calls into client-node whose API requests this test cannot derive. */
  unaccounted: string[];
}

/**
 * Client-node calls that make no request of their own (KubeConfig) or whose requests are
 * derived otherwise (Watch.watch: from the API path literals).
 */
function accountedWithoutDerivation(className: string | undefined, method: string): boolean {
  return className === 'KubeConfig' || (className === 'Watch' && method === 'watch');
}

/**
 * Every call from src/ into @kubernetes/client-node, resolved by the type checker (so that
 * `index.deleteNode()` is not mistaken for CoreV1Api.deleteNode), and every API path literal.
 */
function scanSource(): SourceScan {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const files = sourceFiles(SRC);
  const program = ts.createProgram(files, { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const scan: SourceScan = { apiMethodCalls: [], apiPaths: [], requestMethods: new Map(), unaccounted: [] };
  for (const file of files) {
    const where = file.slice(ROOT.length + 1);
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`${where} is not in the program`);
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n) || ts.isNewExpression(n)) {
        const declaration = checker.getResolvedSignature(n)?.getDeclaration();
        const owner = declaration?.parent;
        if (
          ts.isCallExpression(n) &&
          declaration?.getSourceFile().fileName === join(SRC, 'cluster', 'kube-http.ts') &&
          owner && ts.isClassDeclaration(owner) && owner.name?.text === 'KubeHttp' &&
          declaration.name?.getText() === 'request'
        ) {
          const method = n.arguments[0];
          if (!method || !ts.isStringLiteral(method)) scan.unaccounted.push(`${where}: KubeHttp.request with a method that is not a literal`);
          else scan.requestMethods.set(where, (scan.requestMethods.get(where) ?? new Set()).add(method.text));
        }
        if (declaration && declaration.getSourceFile().fileName.includes('/node_modules/@kubernetes/client-node/')) {
          const owner = declaration.parent;
          const className = owner && ts.isClassDeclaration(owner) ? owner.name?.text : undefined;
          const method = ts.isConstructorDeclaration(declaration) ? 'constructor' : declaration.name?.getText() ?? '?';
          if (className?.endsWith('Api') && !ts.isConstructorDeclaration(declaration)) scan.apiMethodCalls.push({ className, method, where });
          else if (!accountedWithoutDerivation(className, method) && !ts.isNewExpression(n)) {
            scan.unaccounted.push(`${where}: ${className ?? '(function)'}.${method}`);
          }
        }
      }
      let text: string | undefined;
      if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) text = n.text;
      if (ts.isTemplateExpression(n)) text = n.head.text + n.templateSpans.map((s) => `{x}${s.literal.text}`).join('');
      if (text !== undefined && /^\/apis?\/[a-z0-9]/.test(text)) scan.apiPaths.push({ path: text, where });
      ts.forEachChild(n, visit);
    };
    visit(source);
  }
  return scan;
}

/** A loopback server that records the requests made to it and answers `{}`. */
async function recordingServer(): Promise<{ url: string; requests: Array<{ method: string; url: string }>; close(): Promise<void> }> {
  const requests: Array<{ method: string; url: string }> = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface DerivedCall {
  readonly call: string;
  readonly where: string;
  readonly attributes: RequestAttributes;
}

/** The exported client-node class whose runtime name is `className` (ObjectCoreV1Api is CoreV1Api). */
function clientNodeClass(className: string): (new (...args: never[]) => object) | undefined {
  return Object.values(k8s as unknown as Record<string, unknown>).find(
    (value): value is new (...args: never[]) => object => typeof value === 'function' && value.name === className,
  );
}

/**
 * The request of each API call in src/: each method is called against a recording server, so
 * client-node itself says which method and URL it is. Each API path literal is a watch.
 */
async function derivedCalls(scan: SourceScan): Promise<DerivedCall[]> {
  const recorder = await recordingServer();
  const calls: DerivedCall[] = [];
  try {
    const kubeConfig = kubeConfigFor(recorder.url);
    const done = new Set<string>();
    for (const { className, method, where } of scan.apiMethodCalls) {
      if (done.has(`${className}.${method}`)) continue;
      done.add(`${className}.${method}`);
      const ApiClass = clientNodeClass(className);
      if (!ApiClass) throw new Error(`${where}: no client-node export for class ${className}`);
      const client = kubeConfig.makeApiClient(ApiClass as unknown as new (config: k8s.Configuration) => Record<string, unknown>);
      const before = recorder.requests.length;
      try {
        await (client[method] as (params: object) => Promise<unknown>)({ name: 'x', namespace: 'ns', body: {}, path: 'p' });
      } catch {
        // Only the request matters, not what the library makes of the answer.
      }
      const made = recorder.requests.slice(before);
      if (made.length !== 1) throw new Error(`${className}.${method} (${where}) made ${made.length} requests; cannot derive its permission`);
      const attributes = requestAttributes(made[0]!.method, made[0]!.url);
      if (!attributes) throw new Error(`${className}.${method} (${where}): ${made[0]!.method} ${made[0]!.url} is not a resource request`);
      calls.push({ call: `${className}.${method}`, where, attributes });
    }
  } finally {
    await recorder.close();
  }
  for (const { path, where } of scan.apiPaths) {
    const methods = scan.requestMethods.get(where);
    for (const method of methods ?? []) {
      const attributes = requestAttributes(method, path.replaceAll('{x}', 'x'));
      if (!attributes) throw new Error(`${where}: cannot derive the permission of ${method} ${path}`);
      calls.push({ call: `${method} ${path}`, where, attributes });
    }
    if (methods) continue;
    const attributes = requestAttributes('GET', `${path}?watch=true`);
    if (!attributes) throw new Error(`${where}: cannot derive the permission of watch ${path}`);
    calls.push({ call: `watch ${path}`, where, attributes });
  }
  return calls;
}

const EXTENDER_ROLE = 'sysctl-extender';

/**
 * Source files whose API calls happen only when a flag is given, and then on the one object the
 * flag names (NAMESPACE/NAME): they need rights only if the Deployment passes the flag, and then
 * only a Role in that namespace scoped to that name.
 */
const FLAG_GATED: Record<string, string> = {
  'src/config/policy-configmap-watcher.ts': '--config-map',
};

describe('RBAC', () => {
  const subject = serviceAccountOf(deployment);
  let scan: SourceScan;
  let calls: DerivedCall[];
  /** The calls the Deployment's extender makes, with the flags it is given. */
  let needed: DerivedCall[];
  beforeAll(async () => {
    scan = scanSource();
    calls = await derivedCalls(scan);
    needed = calls.flatMap((c) => {
      const gate = FLAG_GATED[c.where];
      if (!gate) return [c];
      const ref = flag(extenderArgv, gate);
      if (!ref) return [];
      const [namespace, name] = ref.split('/');
      return [{ ...c, attributes: { ...c.attributes, namespace, name } }];
    });
  }, 300_000); // bounded by its work, not by time: a busy machine takes several times the idle time

  it('the pod runs as the ServiceAccount defined here, in its namespace', () => {
    const account = only('ServiceAccount', subject.name);
    expect(account.metadata.namespace).toBe(subject.namespace);
    expect(podSpec.automountServiceAccountToken ?? true).toBe(true); // both containers call the API
  });

  it("binds kube-scheduler's built-in roles to it, as the docs' recipe for a second scheduler does", () => {
    const clusterRoles = find('ClusterRoleBinding')
      .filter((b) => binds(b, subject))
      .map((b) => `${b.roleRef.kind} ${b.roleRef.name}`);
    expect(clusterRoles).toEqual(expect.arrayContaining(['ClusterRole system:kube-scheduler', 'ClusterRole system:volume-scheduler']));
    const reader = find('RoleBinding').filter((b) => binds(b, subject) && b.roleRef.name === 'extension-apiserver-authentication-reader');
    expect(reader.map((b) => `${b.metadata.namespace} ${b.roleRef.kind}`)).toEqual(['kube-system Role']);
  });

  it('derives the API calls from src/, including the list, watch and bind calls the extender is known to make', () => {
    // If src/ reaches the API in a way this scan cannot follow, say so rather than pass.
    expect(scan.unaccounted).toEqual([]);
    const permissions = new Set(calls.map((c) => permission(c.attributes)));
    const known = ['list core/nodes', 'watch core/nodes', 'list core/namespaces', 'watch core/namespaces', 'list core/pods', 'watch core/pods', 'create core/pods/binding', 'list apps/daemonsets', 'watch apps/daemonsets'];
    expect(known.filter((p) => !permissions.has(p))).toEqual([]);
    for (const [file, gate] of Object.entries(FLAG_GATED)) {
      expect(sourceFiles(SRC).map((f) => f.slice(ROOT.length + 1)), `FLAG_GATED names ${file}`).toContain(file);
      expect(readFileSync(join(SRC, 'main.ts'), 'utf8'), `FLAG_GATED names ${gate}`).toContain(`'${gate} `);
    }
  });

  it("the extender's ClusterRole, bound cluster-wide, grants every call it makes across namespaces", () => {
    const role = only('ClusterRole', EXTENDER_ROLE);
    expect(find('ClusterRoleBinding').some((b) => b.roleRef.kind === 'ClusterRole' && b.roleRef.name === EXTENDER_ROLE && binds(b, subject))).toBe(true);
    // Pods of every namespace: only a cluster-wide grant will do, so namespace and name are left out.
    const crossNamespace = needed.filter((c) => !FLAG_GATED[c.where]);
    const missing = crossNamespace.filter((c) => !(role.rules as PolicyRule[]).some((rule) => ruleAllows(rule, { ...c.attributes, namespace: undefined, name: undefined })));
    expect(missing.map((c) => `${permission(c.attributes)} (${c.call}, ${c.where})`)).toEqual([]);
  });

  it('calls made only under a flag are granted, if the Deployment passes it, on exactly the object it names', () => {
    const gated = needed.filter((c) => FLAG_GATED[c.where]);
    const missing = gated.filter((c) => !rulesFor(subject, c.attributes.namespace).some((rule) => ruleAllows(rule, c.attributes)));
    expect(missing.map((c) => `${permission(c.attributes)} ${c.attributes.namespace}/${c.attributes.name} (${c.call}, ${c.where})`)).toEqual([]);
  });

  it("the extender's ClusterRole grants nothing the extender does not use, and no wildcard", () => {
    const used = new Set(needed.filter((c) => !FLAG_GATED[c.where]).map((c) => permission(c.attributes)));
    const granted: string[] = [];
    for (const rule of only('ClusterRole', EXTENDER_ROLE).rules as PolicyRule[]) {
      expect(rule.resourceNames ?? []).toEqual([]);
      for (const verb of rule.verbs) for (const group of rule.apiGroups ?? []) for (const resource of rule.resources ?? []) granted.push(permission({ verb, group, resource }));
    }
    expect(granted.filter((g) => g.includes('*'))).toEqual([]);
    expect(granted.filter((g) => !used.has(g))).toEqual([]);
    expect(new Set(granted)).toEqual(used);
  });

  it('the authorizer and the request mapping have teeth', () => {
    const lease = { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['sysctl-scheduler'], verbs: ['get', 'update'] };
    expect(ruleAllows(lease, { verb: 'get', group: 'coordination.k8s.io', resource: 'leases', name: 'sysctl-scheduler' })).toBe(true);
    expect(ruleAllows(lease, { verb: 'get', group: 'coordination.k8s.io', resource: 'leases', name: 'kube-scheduler' })).toBe(false);
    expect(ruleAllows(lease, { verb: 'create', group: 'coordination.k8s.io', resource: 'leases' })).toBe(false);
    const pods = { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] };
    expect(ruleAllows(pods, { verb: 'create', group: '', resource: 'pods/binding' })).toBe(false);
    expect(ruleAllows(pods, { verb: 'list', group: 'apps', resource: 'pods' })).toBe(false);
    expect(requestAttributes('POST', '/api/v1/namespaces/a/pods/p/binding')).toEqual({ verb: 'create', group: '', resource: 'pods/binding', namespace: 'a', name: 'p' });
    expect(requestAttributes('GET', '/api/v1/pods?watch=true&resourceVersion=5')).toEqual({ verb: 'watch', group: '', resource: 'pods', namespace: undefined, name: undefined });
    expect(requestAttributes('GET', '/api/v1/namespaces?limit=500')).toMatchObject({ verb: 'list', resource: 'namespaces', namespace: undefined });
    expect(requestAttributes('GET', '/api/v1/namespaces/kube-system/configmaps?fieldSelector=metadata.name%3Dp&watch=1')).toEqual({
      verb: 'watch',
      group: '',
      resource: 'configmaps',
      namespace: 'kube-system',
      name: 'p',
    });
    expect(requestAttributes('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l')).toMatchObject({ verb: 'update', group: 'coordination.k8s.io', name: 'l' });
  });

  describe("the built extender, started as the image's entrypoint with the Deployment's args, against an API server enforcing this RBAC", () => {
    // The image's WORKDIR holds what the repository root does after `npm run build`.
    const entrypoint = execForm(instructions(parseDockerfile(DOCKERFILE).at(-1)!, 'ENTRYPOINT').at(-1)) ?? [];
    const MAIN = join(ROOT, entrypoint[1] ?? 'dist/main.js');
    let api: FakeApiServer;
    let proxy: http.Server;
    let child: ChildProcess | undefined;
    const seen: Array<{ request: string; attributes?: RequestAttributes; allowed: boolean }> = [];

    beforeAll(async () => {
      api = new FakeApiServer();
      const { url: upstream } = await api.start();
      // Answers 403 as the API server would for what the rules do not allow; forwards the rest.
      proxy = http.createServer((req, res) => {
        const attributes = requestAttributes(req.method ?? '', req.url ?? '');
        const allowed = attributes !== undefined && rulesFor(subject, attributes.namespace).some((rule) => ruleAllows(rule, attributes));
        seen.push({ request: `${req.method} ${req.url}`, attributes, allowed });
        if (!allowed) {
          const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, message: `forbidden: ${req.method} ${req.url}` };
          res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify(status));
          return;
        }
        const forward = http.request(new URL(req.url ?? '/', upstream), { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.flushHeaders(); // a watch answers its headers at once, before any event
          answer.pipe(res);
        });
        forward.on('error', () => res.destroy());
        res.on('close', () => forward.destroy());
        req.pipe(forward);
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    });

    afterAll(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      });
      await api.stop();
    });

    it('lists, watches and binds with no request refused, makes no request the source scan missed, and answers the probes on the ops listener only', async () => {
      expect(entrypoint[0]).toBe('node'); // run here as process.execPath
      const newestSource = Math.max(...sourceFiles(SRC).map((f) => statSync(f).mtimeMs));
      expect(existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestSource, 'dist/ is older than src/: run `npm run build` (npm test does)').toBe(true);

      const ns = api.create('namespaces', namespace('team-a', 'a'));
      api.create('nodes', node('n1', { team: 'a' }));
      const pending = api.create('pods', pod('team-a', 'web'));
      // A ConfigMap the extender might read with --config-map: it must be where the flag says.
      const configMapRef = flag(extenderArgv, '--config-map');
      if (configMapRef) {
        const [cmNamespace, cmName] = configMapRef.split('/');
        if (cmNamespace !== ns.metadata.name) api.create('namespaces', namespace(cmNamespace!));
        api.create('configmaps', { metadata: { name: cmName, namespace: cmNamespace }, data: { 'policy.yaml': mountedConfig(extenderContainer).text } });
      }

      // The Deployment's command line, with a kubeconfig for the test's API server instead of
      // the in-cluster service account, the mounted files at temporary paths, free ports, and
      // the ops listener on loopback (the wildcard would open it on every interface of the
      // machine running the tests; 127.0.0.1 stands in for the pod IP).
      const dir = mkdtempSync(join(tmpdir(), 'deploy-'));
      const kubeconfig = join(dir, 'kubeconfig');
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      writeFileSync(
        kubeconfig,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'test', cluster: { server: proxyUrl, 'insecure-skip-tls-verify': true } }],
          users: [{ name: 'sysctl-scheduler', user: { token: 'test' } }],
          contexts: [{ name: 'test', context: { cluster: 'test', user: 'sysctl-scheduler' } }],
          'current-context': 'test',
        }),
      );
      const args = extenderArgv.map((arg) => {
        if (arg.startsWith('--port=')) return '--port=0';
        if (arg.startsWith('--metrics-port=')) return '--metrics-port=0';
        if (arg.startsWith('--metrics-host=')) return '--metrics-host=127.0.0.1';
        if (arg.startsWith('--config=')) {
          const { key, text } = mountedConfig(extenderContainer);
          writeFileSync(join(dir, key), text);
          return `--config=${join(dir, key)}`;
        }
        return arg;
      });
      expect(args.filter((a) => !/^--[a-z-]+=/.test(a))).toEqual([]); // every flag in --name=value form
      expect(args).toContain('--metrics-port=0');
      if (!args.some((a) => a.startsWith('--metrics-host='))) args.push('--metrics-host=127.0.0.1');
      child = spawn(process.execPath, [MAIN, ...args, `--kubeconfig=${kubeconfig}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, KUBECONFIG: '', LOG_LEVEL: 'info' },
      });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d));
      child.stderr!.on('data', (d: Buffer) => (output += d));
      // The two listening lines (src/main.ts): the verbs', then the ops listener's.
      const listening = (msg: string) => new RegExp(`"url":"(http://[^"]+)","port":(\\d+),"msg":"${msg}`).exec(output);
      await waitFor(() => (listening('listening on') !== null && listening('serving metrics') !== null) || child!.exitCode !== null, 'the listening lines');
      const url = listening('listening on')?.[1];
      const opsUrl = listening('serving metrics')?.[1];
      expect(url, output).toBeDefined();
      expect(opsUrl, output).toBeDefined();
      expect(opsUrl).not.toBe(url);
      const ports = { [metricsPort]: Number(listening('serving metrics')![2]) };

      // Ready as the kubelet's readiness probe sees it, on the ops listener.
      const refused = () => seen.filter((s) => !s.allowed).map((s) => s.request);
      await waitFor(async () => refused().length > 0 || (await kubeletProbe(extenderContainer.readinessProbe, ports)).success, 'the extender to be ready').catch(
        () => undefined,
      );
      expect(refused()).toEqual([]);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        expect(await kubeletProbe(extenderContainer[probe], ports), `${probe}\n${output}`).toEqual({ success: true, status: 200 });
      }
      const annotations: Record<string, string> = deployment.spec.template.metadata.annotations;
      const scrape = await fetch(`${opsUrl}${annotations['prometheus.io/path']}`);
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toMatch(/^sysctl_extender_index_nodes 1$/m);

      // The verbs are not on the ops listener: a bind sent there binds nothing.
      const bind = { PodName: 'web', PodNamespace: 'team-a', PodUID: pending.metadata.uid, Node: 'n1' };
      expect((await post(`${opsUrl}/${extenderStanza.bindVerb}`, JSON.stringify(bind))).status).toBe(404);
      expect((await post(`${opsUrl}/${extenderStanza.filterVerb}`, '{}')).status).toBe(404);
      expect(api.bindings).toEqual([]);

      const answer = await post(`${url}/${extenderStanza.bindVerb}`, JSON.stringify(bind));
      expect(answer.body, output).toEqual({ Error: '' });
      expect(api.bindings).toEqual([expect.objectContaining({ namespace: 'team-a', pod: 'web', node: 'n1' })]);

      expect(refused()).toEqual([]);
      const made = new Set(seen.map((s) => permission(s.attributes!)));
      expect(made).toContain('create core/pods/binding');
      expect(made).toContain('watch core/pods');
      const derived = new Set(calls.map((c) => permission(c.attributes)));
      expect([...made].filter((p) => !derived.has(p))).toEqual([]);

      // The kubelet stops the sidecar with SIGTERM: it finishes and exits cleanly, watches included.
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running after 5 s'), 5000))]);
      expect(code, output).toBe(0);
    });
  });
});
