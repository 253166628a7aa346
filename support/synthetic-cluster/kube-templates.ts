/**
 * Kubernetes objects shaped like real ones, so that JSON parsing, body sizes and memory are
 * realistic: a Node of a managed cloud (about 5 kB of JSON with its image list), a running Pod
 * as `kubectl get -o json` prints it (about 3 kB), a Namespace. Sub-objects that are the
 * same on every object are shared in memory (only serialised text matters for the bench).
 */
import { DEFAULT_POLICY } from '../../src/config/policy.js';

export const KEYS = DEFAULT_POLICY.keys;

export type KubeObject = { apiVersion: string; kind: string; metadata: Record<string, unknown> } & Record<string, unknown>;

const CREATED = '2026-01-05T08:00:00Z';
const REGION = 'eu-west-1';
const INSTANCE_TYPE = 'm6i.2xlarge';

export function namespaceObject(name: string, team: string | undefined, uid: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      uid,
      resourceVersion: '1000',
      creationTimestamp: CREATED,
      labels: { 'kubernetes.io/metadata.name': name, ...(team ? { [KEYS.teamLabel]: team } : {}) },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

export interface NodeObjectInput {
  readonly name: string;
  readonly index: number;
  readonly uid: string;
  readonly zone: string;
  readonly team: string | undefined;
  readonly declaredSysctls: string | undefined;
  readonly allowedUnsafe: string | undefined;
}

/** `withManagedFields`: kube-scheduler sends stored objects (managedFields included); kubectl hides them. */
export function nodeObject(input: NodeObjectInput, withManagedFields = false): KubeObject {
  const ip = `10.0.${(input.index >> 8) & 255}.${input.index & 255}`;
  const annotations: Record<string, string> = {
    'node.alpha.kubernetes.io/ttl': '0',
    'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
  };
  if (input.declaredSysctls !== undefined) annotations[KEYS.sysctlsAnnotation] = input.declaredSysctls;
  if (input.allowedUnsafe !== undefined) annotations[KEYS.allowedUnsafeSysctlsAnnotation] = input.allowedUnsafe;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: input.name,
      uid: input.uid,
      resourceVersion: String(200_000 + input.index),
      creationTimestamp: CREATED,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/instance-type': INSTANCE_TYPE,
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': input.name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': INSTANCE_TYPE,
        'topology.kubernetes.io/region': REGION,
        'topology.kubernetes.io/zone': input.zone,
        ...(input.team ? { [KEYS.teamLabel]: input.team } : {}),
      },
      annotations,
      ...(withManagedFields ? { managedFields: NODE_MANAGED_FIELDS } : {}),
    },
    spec: {
      podCIDR: `100.64.${input.index % 256}.0/24`,
      podCIDRs: [`100.64.${input.index % 256}.0/24`],
      providerID: `aws:///${input.zone}/i-0${input.uid.replace(/-/g, '').slice(0, 16)}`,
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'InternalDNS', address: input.name },
        { type: 'Hostname', address: input.name },
      ],
      allocatable: NODE_ALLOCATABLE,
      capacity: NODE_CAPACITY,
      conditions: NODE_CONDITIONS,
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      images: NODE_IMAGES,
      nodeInfo: {
        architecture: 'amd64',
        bootID: input.uid,
        containerRuntimeVersion: 'containerd://1.7.11',
        kernelVersion: '6.1.72-96.166.amzn2023.x86_64',
        kubeProxyVersion: 'v1.29.0',
        kubeletVersion: 'v1.29.0',
        machineID: input.uid.replace(/-/g, ''),
        operatingSystem: 'linux',
        osImage: 'Amazon Linux 2023',
        systemUUID: input.uid,
      },
    },
  };
}

export interface PodObjectInput {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly app: string;
  readonly templateHash: string;
  readonly nodeName: string | undefined;
  readonly nodeIp: string;
  readonly podIp: string;
  /** `uid`: the owner's, where the owner is an object of the List (a DaemonSet); else one is made up. */
  readonly owner: { readonly kind: 'ReplicaSet' | 'DaemonSet' | 'Job'; readonly name: string; readonly uid?: string };
  readonly phase: 'Running' | 'Succeeded' | 'Pending';
  /** `spec.securityContext.sysctls` (unsafe and safe ones). */
  readonly sysctls: ReadonlyArray<{ name: string; value: string }>;
  /** The pod's node-level needs, for the sysctls annotation. */
  readonly neededSysctls: string | undefined;
  readonly resourceVersion: number;
}

export function podObject(input: PodObjectInput): KubeObject {
  const volumeName = `kube-api-access-${input.uid.slice(0, 5)}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: input.name,
      generateName: input.name.slice(0, input.name.lastIndexOf('-') + 1),
      namespace: input.namespace,
      uid: input.uid,
      resourceVersion: String(input.resourceVersion),
      creationTimestamp: CREATED,
      labels: { app: input.app, 'pod-template-hash': input.templateHash },
      ...(input.neededSysctls !== undefined ? { annotations: { [KEYS.sysctlsAnnotation]: input.neededSysctls } } : {}),
      ownerReferences: [
        {
          apiVersion: input.owner.kind === 'Job' ? 'batch/v1' : 'apps/v1',
          kind: input.owner.kind,
          name: input.owner.name,
          uid: input.owner.uid ?? input.uid.split('').reverse().join(''),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      volumes: [{ name: volumeName, projected: PROJECTED_TOKEN_VOLUME }],
      containers: [
        {
          name: input.app,
          image: `registry.example.com/${input.app}:1.4.2`,
          resources: CONTAINER_RESOURCES,
          volumeMounts: [{ name: volumeName, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      restartPolicy: input.owner.kind === 'Job' ? 'Never' : 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      ...(input.nodeName !== undefined ? { nodeName: input.nodeName } : {}),
      securityContext: input.sysctls.length > 0 ? { sysctls: input.sysctls } : {},
      schedulerName: 'default-scheduler',
      tolerations: DEFAULT_TOLERATIONS,
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    // Created and not yet scheduled: the API server has set nothing else.
    status: input.phase === 'Pending' ? { phase: 'Pending', qosClass: 'Burstable' } : {
      phase: input.phase,
      conditions: input.phase === 'Running' ? RUNNING_CONDITIONS : SUCCEEDED_CONDITIONS,
      hostIP: input.nodeIp,
      podIP: input.podIp,
      podIPs: [{ ip: input.podIp }],
      startTime: CREATED,
      containerStatuses: [
        {
          name: input.app,
          state: input.phase === 'Running' ? { running: { startedAt: CREATED } } : TERMINATED_STATE,
          lastState: {},
          ready: input.phase === 'Running',
          restartCount: 0,
          image: `registry.example.com/${input.app}:1.4.2`,
          imageID: `registry.example.com/${input.app}@sha256:${IMAGE_DIGEST}`,
          containerID: `containerd://${input.uid.replace(/-/g, '')}`,
          started: input.phase === 'Running',
        },
      ],
      qosClass: 'Burstable',
    },
  };
}

/** The 5,000-node limit and kubelet defaults: 110 pods per node. */
const NODE_CAPACITY = { cpu: '8', 'ephemeral-storage': '104845292Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '32386524Ki', pods: '110' };
const NODE_ALLOCATABLE = { cpu: '7910m', 'ephemeral-storage': '95551679124', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '31369692Ki', pods: '110' };

function condition(type: string, status: string, reason: string, message: string) {
  return { type, status, lastHeartbeatTime: '2026-01-05T09:41:07Z', lastTransitionTime: CREATED, reason, message };
}

const NODE_CONDITIONS = [
  condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
  condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
  condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
  condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
];

const IMAGE_DIGEST = 'a3f1c9e2b7d4058e6f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70';

/** A node's cached images: the bulk of a real Node object. */
const NODE_IMAGES = [
  'amazon-k8s-cni', 'amazon-k8s-cni-init', 'aws-ebs-csi-driver', 'kube-proxy', 'coredns', 'node-exporter',
  'fluent-bit', 'pause', 'orders-api', 'payments-worker', 'postgres', 'elasticsearch',
].map((name, i) => ({
  names: [`registry.example.com/${name}@sha256:${IMAGE_DIGEST}`, `registry.example.com/${name}:v1.${i}.0`],
  sizeBytes: 10_000_000 + i * 7_654_321,
}));

const NODE_MANAGED_FIELDS = [
  {
    manager: 'kubelet',
    operation: 'Update',
    apiVersion: 'v1',
    time: '2026-01-05T09:41:07Z',
    fieldsType: 'FieldsV1',
    fieldsV1: {
      'f:status': {
        'f:conditions': { 'k:{"type":"Ready"}': { 'f:lastHeartbeatTime': {}, 'f:message': {}, 'f:reason': {}, 'f:status': {} } },
        'f:images': {},
        'f:nodeInfo': { 'f:bootID': {} },
      },
    },
    subresource: 'status',
  },
];

const PROJECTED_TOKEN_VOLUME = {
  sources: [
    { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
    { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
    { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
  ],
  defaultMode: 420,
};

const CONTAINER_RESOURCES = { limits: { memory: '1Gi' }, requests: { cpu: '250m', memory: '512Mi' } };

export const DEFAULT_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

function podCondition(type: string, status: string) {
  return { type, status, lastProbeTime: null, lastTransitionTime: CREATED };
}

const RUNNING_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((t) =>
  podCondition(t, 'True'),
);
const SUCCEEDED_CONDITIONS = [
  podCondition('PodReadyToStartContainers', 'False'),
  podCondition('Initialized', 'True'),
  { ...podCondition('Ready', 'False'), reason: 'PodCompleted' },
  { ...podCondition('ContainersReady', 'False'), reason: 'PodCompleted' },
  podCondition('PodScheduled', 'True'),
];
const TERMINATED_STATE = { terminated: { exitCode: 0, reason: 'Completed', startedAt: CREATED, finishedAt: CREATED } };

/** A DaemonSet as `kubectl get daemonsets -o json` lists it, metadata and the little the extender could read. */
export function daemonSetObject(name: string, namespace: string, uid: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace, uid, resourceVersion: '1200', creationTimestamp: CREATED, generation: 1, labels: { app: name } },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `registry.k8s.io/${name}:v1` }] } } },
    status: { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 },
  };
}
