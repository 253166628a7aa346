/**
 * The synthetic cluster of the benchmarks, deterministic from a seed: teams owning namespaces
 * and dedicated nodes, shared nodes, sysctl profiles, idle nodes, DaemonSet and finished pods.
 * Under the strict policy a node's running pods all share one profile (SPEC section 3), so
 * the workload pods of a node all carry the node's profile.
 *
 * `planCluster` is cheap (no pods): the load generator uses it to name candidates and build
 * Node objects. `clusterItems` yields the whole `List` in `kubectl get nodes,pods,namespaces,daemonsets -A`
 * order for the servers and snapshot files.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { KubeList } from '../../src/cluster/snapshot.js';
import { daemonSetObject, namespaceObject, nodeObject, podObject, type KubeObject } from './kube-templates.js';
import { Prng } from '../prng.js';
import { DEFAULT_SHAPE, nodeNamer, type ClusterShape } from './cluster-shape.js';
import { ALLOW_ALL_UNSAFE, PLAIN, PLAIN_NODE_ALLOW_LISTS, profilesOf, podSysctls, sysctlConf, type SysctlProfile } from './sysctl-profiles.js';

export interface ClusterSpec {
  readonly nodes: number;
  /** Pods per node on average, DaemonSet and finished pods included: total pods = nodes x this. */
  readonly podsPerNode: number;
  readonly seed: number;
  /**
   * Unbound pods for the bind scenarios, each bound once (a bind of a bound pod is a no-op
   * that would flatter the figures). Not counted in `nodes x podsPerNode`.
   */
  readonly pendingPods?: number;
  /** Names, teams, dedicated share, allow-lists, profiles: the bench's own cluster when absent. */
  readonly shape?: ClusterShape;
  /**
   * The cluster written as a snapshot file (writeSnapshotFile): the extender then loads it the
   * way `--snapshot` does (streamed, nothing kept beside the index) instead of being handed
   * the generated objects.
   */
  readonly snapshotFile?: string;
}

export interface NamespacePlan {
  readonly name: string;
  readonly team: string | undefined;
}

export interface NodePlan {
  readonly index: number;
  readonly name: string;
  readonly uid: string;
  readonly zone: string;
  /** Dedicated to this team; undefined: shared. */
  readonly team: string | undefined;
  readonly profile: SysctlProfile;
  /** Only DaemonSet pods and one finished pod: a node a new profile may claim. */
  readonly idle: boolean;
  readonly allowedUnsafe: string | undefined;
  /** Every pod bound to the node. */
  readonly pods: number;
}

export interface ClusterPlan {
  readonly spec: ClusterSpec;
  readonly teams: readonly string[];
  readonly namespaces: readonly NamespacePlan[];
  readonly nodes: readonly NodePlan[];
}

/** Every tenth node is idle. */
const IDLE_EVERY = 10;
const DAEMONSETS = ['kube-proxy', 'node-exporter', 'fluent-bit'] as const;
/** Their UIDs: the pods' owner references name these, so the index counts them as DaemonSet pods (SPEC section 1). */
const daemonSetUid = (k: number) => `d5e70000-0000-4000-8000-${String(k).padStart(12, '0')}`;
/** Pods of an idle node: its DaemonSet pods and one finished Job pod. */
const IDLE_NODE_PODS = DAEMONSETS.length + 1;
const FINISHED_SHARE = 0.02;
const SAFE_SYSCTL_SHARE = 0.2;
const ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
const APPS: Readonly<Record<string, readonly string[]>> = {
  plain: ['orders-api', 'catalog', 'checkout', 'notifications', 'reporting'],
  postgres: ['postgres'],
  elasticsearch: ['elasticsearch'],
  ingress: ['ingress-nginx'],
  search: ['opensearch'],
  mq: ['rabbitmq'],
};

export function teamName(i: number): string {
  return `team-${String(i).padStart(2, '0')}`;
}

export function planCluster(spec: ClusterSpec): ClusterPlan {
  if (!Number.isInteger(spec.nodes) || spec.nodes < IDLE_EVERY || spec.nodes > 65_536) {
    throw new RangeError(`nodes must be an integer in ${IDLE_EVERY}..65536`);
  }
  if (!Number.isInteger(spec.podsPerNode) || spec.podsPerNode < IDLE_NODE_PODS + 1) {
    throw new RangeError(`podsPerNode must be an integer >= ${IDLE_NODE_PODS + 1}`);
  }
  const shape = spec.shape ?? DEFAULT_SHAPE;
  const rng = new Prng(spec.seed * 7919 + 1);
  const teams = Array.from({ length: shape.teams }, (_, i) => teamName(i));
  const profiles = profilesOf(shape.profiles);
  const nodeName = nodeNamer(shape.names);
  const namespaces: NamespacePlan[] = [
    ...teams.flatMap((team) => [{ name: `${team}-apps`, team }, { name: `${team}-data`, team }]),
    { name: 'shared-tools', team: undefined },
    { name: 'ci-runners', team: undefined },
    { name: 'kube-system', team: undefined },
  ];

  const idleCount = Math.floor(spec.nodes / IDLE_EVERY);
  const busyCount = spec.nodes - idleCount;
  const busyPods = spec.nodes * spec.podsPerNode - idleCount * IDLE_NODE_PODS;
  const nodes: NodePlan[] = [];
  let busyIndex = 0;
  for (let index = 0; index < spec.nodes; index += 1) {
    const idle = index % IDLE_EVERY === IDLE_EVERY - 1;
    const profile = rng.weighted(profiles);
    const dedicated = rng.next() < shape.dedicatedShare;
    const team = dedicated ? rng.pick(teams) : undefined;
    const allowedUnsafe = allowListOf(shape, profile, rng);
    // Spread busy pods evenly; the first `busyPods % busyCount` busy nodes take one more.
    const pods = idle ? IDLE_NODE_PODS : Math.floor(busyPods / busyCount) + (busyIndex++ < busyPods % busyCount ? 1 : 0);
    nodes.push({ index, name: nodeName(index), uid: rng.uid(), zone: ZONES[index % ZONES.length]!, team, profile, idle, allowedUnsafe, pods });
  }
  return { spec, teams, namespaces, nodes };
}

/**
 * Without a share, nodes running unsafe profiles allow them all and plain nodes pick one of
 * three lists (none among them). With a share, that many nodes declare a list, whatever runs.
 */
function allowListOf(shape: ClusterShape, profile: SysctlProfile, rng: Prng): string | undefined {
  if (shape.allowListShare === undefined) {
    return Object.keys(profile.unsafe).length > 0 ? ALLOW_ALL_UNSAFE : rng.pick(PLAIN_NODE_ALLOW_LISTS);
  }
  if (rng.next() >= shape.allowListShare) return undefined;
  return rng.next() < 0.5 ? ALLOW_ALL_UNSAFE : 'net.core.somaxconn,kernel.shmmax,kernel.sem';
}

/** A pending pod of the bind pool and the node its bind names: one the rules let it onto. */
export interface PendingPodPlan {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly node: string;
}

/**
 * The bind pool: plain pods, each with a busy plain node of its namespace's team (or a shared
 * one), where the strict policy lets it run. Busy nodes only: binding onto an idle node would
 * end its idleness and change what later filter calls answer.
 */
export function pendingPodPlans(plan: ClusterPlan): PendingPodPlan[] {
  const count = plan.spec.pendingPods ?? 0;
  const targets = plan.nodes.filter((node) => !node.idle && node.profile.name === 'plain');
  if (count > 0 && targets.length === 0) throw new Error('the cluster has no busy plain node to bind pending pods to');
  return Array.from({ length: count }, (_, k) => {
    const node = targets[k % targets.length]!;
    return {
      name: `bind-pool-${k}`,
      namespace: node.team === undefined ? 'shared-tools' : `${node.team}-apps`,
      uid: `00000000-0000-4000-8000-${String(k).padStart(12, '0')}`,
      node: node.name,
    };
  });
}

export function nodeObjectOf(node: NodePlan, withManagedFields = false): KubeObject {
  const declared = Object.keys(node.profile.nodeLevel).length > 0 ? sysctlConf(node.profile.nodeLevel) : undefined;
  return nodeObject({ ...node, declaredSysctls: declared, allowedUnsafe: node.allowedUnsafe }, withManagedFields);
}

/** The cluster as `kubectl get nodes,pods,namespaces,daemonsets -A -o json` lists it, in that order. */
export function* clusterItems(plan: ClusterPlan): Generator<KubeObject> {
  for (const node of plan.nodes) yield nodeObjectOf(node);
  const rng = new Prng(plan.spec.seed * 7919 + 2);
  let podCounter = 0;
  const nextName = (prefix: string) => `${prefix}-${scrambledSuffix(podCounter)}`;
  for (const node of plan.nodes) {
    const nodeIp = `10.0.${(node.index >> 8) & 255}.${node.index & 255}`;
    const namespaces = plan.namespaces.filter((ns) => ns.name !== 'kube-system' && (node.team === undefined || ns.team === node.team));
    for (let k = 0; k < node.pods; k += 1) {
      const base = {
        uid: rng.uid(),
        nodeName: node.name,
        nodeIp,
        podIp: `100.64.${node.index % 256}.${k + 2}`,
        resourceVersion: 300_000 + podCounter,
      };
      if (k < DAEMONSETS.length) {
        const app = DAEMONSETS[k]!;
        yield podObject({
          ...base, name: nextName(app), namespace: 'kube-system', app, templateHash: '6d4b9c7f5',
          owner: { kind: 'DaemonSet', name: app, uid: daemonSetUid(k) }, phase: 'Running', sysctls: [], neededSysctls: undefined,
        });
      } else {
        const finished = node.idle || rng.next() < FINISHED_SHARE;
        // Finished pods hold no kernel state (they never count), so they carry no sysctls.
        const profile = finished ? PLAIN : node.profile;
        const app = finished ? 'nightly-report' : rng.pick(APPS[profile.name] ?? APPS.plain!);
        const templateHash = rng.hex(9).replace(/[0-3]/g, 'b');
        const sysctls = podSysctls(profile.unsafe);
        if (profile.name === 'plain' && rng.next() < SAFE_SYSCTL_SHARE) sysctls.push({ name: 'net.ipv4.ip_local_port_range', value: '1024 65000' });
        const needs = Object.keys(profile.nodeLevel).length > 0 ? sysctlConf(profile.nodeLevel) : undefined;
        const name = finished ? nextName(`${app}-2901${node.index % 10}`) : nextName(`${app}-${templateHash}`);
        yield podObject({
          ...base, name, namespace: rng.pick(namespaces).name, app, templateHash,
          owner: finished ? { kind: 'Job', name: `${app}-2901${node.index % 10}` } : { kind: 'ReplicaSet', name: `${app}-${templateHash}` },
          phase: finished ? 'Succeeded' : 'Running', sysctls, neededSysctls: needs,
        });
      }
      podCounter += 1;
    }
  }
  for (const [k, pending] of pendingPodPlans(plan).entries()) {
    yield podObject({
      ...pending, app: 'bind-pool', templateHash: '7c9f8d6b5', nodeName: undefined, nodeIp: '', podIp: '',
      owner: { kind: 'ReplicaSet', name: 'bind-pool-7c9f8d6b5' }, phase: 'Pending', sysctls: [], neededSysctls: undefined,
      resourceVersion: 300_000 + podCounter + k,
    });
  }
  for (const ns of plan.namespaces) yield namespaceObject(ns.name, ns.team, `ns-${ns.name}`);
  for (const [k, name] of DAEMONSETS.entries()) yield daemonSetObject(name, 'kube-system', daemonSetUid(k));
}

export function generateCluster(spec: ClusterSpec): { plan: ClusterPlan; list: KubeList } {
  const plan = planCluster(spec);
  const list = { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: [...clusterItems(plan)] };
  return { plan, list: list as KubeList };
}

/** Writes the snapshot file item by item: a 150,000-pod List is larger than one string should be. */
export async function writeSnapshotFile(spec: ClusterSpec, path: string): Promise<{ bytes: number; items: number }> {
  const out = createWriteStream(path);
  let bytes = 0;
  let items = 0;
  const write = async (text: string) => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[\n');
  let batch: string[] = [];
  for (const item of clusterItems(planCluster(spec))) {
    batch.push(JSON.stringify(item));
    items += 1;
    if (batch.length === 1000) {
      await write((items > 1000 ? ',\n' : '') + batch.join(',\n'));
      batch = [];
    }
  }
  if (batch.length > 0) await write((items > batch.length ? ',\n' : '') + batch.join(',\n'));
  await write('\n]}\n');
  out.end();
  await once(out, 'finish');
  return { bytes, items };
}

/** A unique, random-looking 5-letter suffix per counter: multiplying by a number prime to 27^5 is a bijection. */
function scrambledSuffix(counter: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let n = (counter * 2_654_435_761) % 14_348_907;
  let out = '';
  for (let i = 0; i < 5; i += 1) {
    out += alphabet[n % 27];
    n = Math.floor(n / 27);
  }
  return out;
}
