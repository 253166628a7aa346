/** The KubeSchedulerConfiguration's fields, checked as kube-scheduler decodes them, and Go durations. */
import { Ajv } from 'ajv';

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

export function schedulerConfigProblems(config: unknown): string[] {
  if (validateSchedulerConfig(config)) return [];
  return (validateSchedulerConfig.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/** Go's time.ParseDuration, for metav1.Duration fields such as httpTimeout. */
export function goDurationMs(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (text === '' || parts.map((p) => p[0]).join('') !== text) throw new Error(`not a Go duration: ${text}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}
