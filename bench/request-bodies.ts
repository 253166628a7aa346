/**
 * Request bodies as kube-scheduler v1.26 sends them (shared/fixtures/kube-scheduler): the whole
 * stored pending Pod, then `"Nodes":null,"NodeNames":[...]` (nodeCacheCapable: true) or
 * `"Nodes":{"metadata":{},"items":[full Nodes]},"NodeNames":null`. Top-level key order as Go
 * writes it: Pod, Nodes, NodeNames.
 */
import { nodeObjectOf, pendingPodPlans, type ClusterPlan } from '../support/synthetic-cluster/cluster-generator.js';
import { DEFAULT_TOLERATIONS, KEYS, type KubeObject } from '../support/synthetic-cluster/kube-templates.js';
import { podSysctls, profileNamed, sysctlConf } from '../support/synthetic-cluster/sysctl-profiles.js';

export type CandidateMode = 'names' | 'nodes';

/** The pods being placed, one per fixture kind that exercises a different rule. */
export const PLACED_PODS = [
  { name: 'a-none', namespace: 'team-03-apps', profile: 'plain', safe: false },
  { name: 'b-safe', namespace: 'team-01-apps', profile: 'plain', safe: true },
  { name: 'c-unsafe', namespace: 'team-05-data', profile: 'postgres', safe: false },
  { name: 'd-nodelevel', namespace: 'shared-tools', profile: 'search', safe: false },
] as const;

export type PlacedPod = (typeof PLACED_PODS)[number];

export interface RequestBody {
  readonly pod: string;
  readonly candidates: number;
  readonly body: string;
}

/** One body per placed pod, each with its own window of candidates (kube-scheduler rotates its start node). */
export function requestBodies(plan: ClusterPlan, mode: CandidateMode, share: number): RequestBody[] {
  const total = plan.nodes.length;
  const count = Math.max(1, Math.round(total * share));
  return PLACED_PODS.map((placed, i) => {
    const start = Math.floor((i * total) / PLACED_PODS.length);
    const window = Array.from({ length: count }, (_, k) => plan.nodes[(start + k) % total]!);
    const Pod = pendingPod({ ...placed, namespace: namespaceIn(plan, placed.namespace) }, i);
    const body =
      mode === 'names'
        ? { Pod, Nodes: null, NodeNames: window.map((node) => node.name) }
        : { Pod, Nodes: { metadata: {}, items: window.map((node) => nodeObjectOf(node, true)) }, NodeNames: null };
    return { pod: placed.name, candidates: count, body: JSON.stringify(body) };
  });
}

/** A team's namespace of the fixture pods, in a cluster of fewer teams: the same suffix of team number modulo teams. */
function namespaceIn(plan: ClusterPlan, namespace: string): string {
  const team = /^team-(\d+)-(.*)$/.exec(namespace);
  if (!team || Number(team[1]) < plan.teams.length) return namespace;
  return `${plan.teams[Number(team[1]) % plan.teams.length]}-${team[2]}`;
}

/**
 * One bind body per pending pod of the pool, shaped like names/c-unsafe-bind.json, each naming
 * the node the pod was planned for. Each is meant to be sent once.
 */
export function bindBodies(plan: ClusterPlan): string[] {
  return pendingPodPlans(plan).map((pod) => JSON.stringify({ PodName: pod.name, PodNamespace: pod.namespace, PodUID: pod.uid, Node: pod.node }));
}

/** A pending pod shaped like names/c-unsafe-filter.json's: stored object, managedFields and defaults included. */
export function pendingPod(placed: Omit<PlacedPod, "namespace"> & { readonly namespace: string }, i: number): KubeObject {
  const profile = profileNamed(placed.profile);
  const sysctls = podSysctls(profile.unsafe);
  if (placed.safe) sysctls.push({ name: 'net.ipv4.ip_local_port_range', value: '1024 65000' });
  const needs = Object.keys(profile.nodeLevel).length > 0 ? sysctlConf(profile.nodeLevel) : undefined;
  const uid = `dc0d4c58-08b6-47fb-8968-5ac1426e1fb${i}`;
  return {
    metadata: {
      name: placed.name,
      namespace: placed.namespace,
      uid,
      resourceVersion: String(900_000 + i),
      creationTimestamp: '2026-11-22T23:10:05Z',
      labels: { app: 'sysctl-fixture' },
      ...(needs !== undefined ? { annotations: { [KEYS.sysctlsAnnotation]: needs } } : {}),
      managedFields: [
        {
          manager: 'kubectl-create',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-11-22T23:10:05Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
            'f:spec': {
              'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {}, 'f:resources': {} } },
              'f:dnsPolicy': {},
              'f:enableServiceLinks': {},
              'f:restartPolicy': {},
              'f:schedulerName': {},
              'f:securityContext': { '.': {}, 'f:sysctls': {} },
              'f:terminationGracePeriodSeconds': {},
            },
          },
        },
      ],
    },
    spec: {
      volumes: [
        {
          name: 'kube-api-access-pckmm',
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: [
        {
          name: 'app',
          image: 'registry.k8s.io/pause:3.9',
          resources: { requests: { cpu: '1', memory: '1Gi' } },
          volumeMounts: [{ name: 'kube-api-access-pckmm', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      securityContext: sysctls.length > 0 ? { sysctls } : {},
      schedulerName: 'default-scheduler',
      tolerations: DEFAULT_TOLERATIONS,
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: { phase: 'Pending', qosClass: 'Burstable' },
  } as unknown as KubeObject;
}
