/**
 * The verdict cache keeps the verdicts of pods with the same requirements from call to call and
 * redoes only the nodes the index's journal names. Whatever happens between two calls (pods
 * arriving, leaving, moving, assumed by a bind and forgotten, nodes relabelled or deleted,
 * namespaces changing team, the rule mode changing), what it hands out must be what the rules
 * say now, node by node; equal stamps must mean equal verdicts (the failed-nodes memo trusts
 * them without comparing), and the tally must count those verdicts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../src/config/policy.js';
import { filterContextFor, type RuleInputs } from '../src/filter/filter-context.js';
import type { RuleMode } from '../src/filter/filter-node.js';
import { filterNodes } from '../src/filter/filter-nodes.js';
import type { Rejection } from '../src/filter/reasons.js';
import { tallyRejections } from '../src/filter/rejection-tally.js';
import { VerdictCache, type KeptVerdicts } from '../src/filter/verdict-cache.js';
import { ClusterIndex, type NodeView } from '../src/sysctl-index/cluster-index.js';
import type { KubePod } from '../src/sysctl-index/kube-objects.js';
import { ALLOW_ALL_UNSAFE, DB, DB_SMALL, VMS, WEB, namespace, node, pod, type NodeOptions, type PodOptions } from './support/objects.js';

const SEED = Number(process.env.FC_SEED ?? 20_261_202);

const NODE_NAMES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6'] as const;
const NAMESPACES = ['ns0', 'ns1', 'ns2'] as const;
const TEAMS = [undefined, 'a', 'b'] as const;

/** Node shapes: tuned or not, allow-lists or not, one unreadable annotation. */
const NODE_SHAPES: readonly NodeOptions[] = [
  {},
  { sysctls: VMS },
  { allowed: ALLOW_ALL_UNSAFE },
  { allowed: 'kernel.shm*,kernel.sem' },
  { sysctls: VMS, allowed: ALLOW_ALL_UNSAFE },
  { sysctls: 'vm.swappiness' },
];

/** Pod shapes: plain, unsafe sysctls of two profiles, a node-level claim, a malformed one (a problem pod). */
const POD_SHAPES: readonly PodOptions[] = [
  {},
  { sysctls: DB },
  { sysctls: DB_SMALL },
  { sysctls: WEB },
  { needs: VMS },
  { needs: VMS, sysctls: DB },
  { needs: 'vm.swappiness' },
];

type Op =
  | { t: 'arrive'; ns: number; shape: number; node: number }
  | { t: 'delete'; which: number }
  | { t: 'move'; which: number; node: number }
  | { t: 'assume'; which: number; node: number }
  | { t: 'forget'; which: number }
  | { t: 'node'; node: number; team: number; shape: number }
  | { t: 'deleteNode'; node: number }
  | { t: 'namespace'; ns: number; team: number }
  | { t: 'ruleMode'; mode: RuleMode }
  | { t: 'probe'; ns: number; shape: number };

const nodeIdx = fc.nat({ max: NODE_NAMES.length - 1 });
const nsIdx = fc.nat({ max: NAMESPACES.length - 1 });
const teamIdx = fc.nat({ max: TEAMS.length - 1 });
const shapeIdx = fc.nat({ max: POD_SHAPES.length - 1 });
const any = fc.nat({ max: 1_000 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('arrive' as const), ns: nsIdx, shape: shapeIdx, node: nodeIdx }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('delete' as const), which: any }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('move' as const), which: any, node: nodeIdx }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('assume' as const), which: any, node: nodeIdx }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('forget' as const), which: any }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('node' as const), node: nodeIdx, team: teamIdx, shape: fc.nat({ max: NODE_SHAPES.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('deleteNode' as const), node: nodeIdx }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('namespace' as const), ns: nsIdx, team: teamIdx }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('ruleMode' as const), mode: fc.constantFrom<RuleMode>('strict', 'compatible') }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('probe' as const), ns: nsIdx, shape: shapeIdx }) },
);

/** A running cluster, its index and the cache under test, as the filter verb would hold them. */
class Harness {
  readonly index: ClusterIndex;
  readonly cache = new VerdictCache();
  private readonly inputs: Record<RuleMode, RuleInputs>;
  mode: RuleMode = 'strict';
  /** Pods as the API server holds them, and the node a bind assumed each on. */
  private readonly pods: KubePod[] = [];
  private readonly assumed = new Map<KubePod, string>();
  private serial = 0;
  /** The base list, a new array only when a node state came or went (as the name table's). */
  private base: NodeView[] = [];
  /** Every stamp handed out, with the verdicts it stood for. */
  private readonly stamped = new Map<object, Map<number, string>>();
  calls = 0;

  constructor() {
    const policy = parsePolicy({});
    this.index = new ClusterIndex(policy);
    const settings = (ruleMode: RuleMode) => ({ ruleMode, trustUndeclaredAllowList: false });
    this.inputs = { strict: { index: this.index, policy: settings('strict') }, compatible: { index: this.index, policy: settings('compatible') } };
    NAMESPACES.forEach((ns, k) => this.index.upsertNamespace(namespace(ns, TEAMS[k % TEAMS.length])));
    NODE_NAMES.forEach((name, k) => this.index.upsertNode(node(name, { ...NODE_SHAPES[k % NODE_SHAPES.length], team: TEAMS[k % TEAMS.length] })));
  }

  apply(op: Op): void {
    switch (op.t) {
      case 'arrive': {
        const object = pod(NAMESPACES[op.ns]!, `p${(this.serial += 1)}`, { ...POD_SHAPES[op.shape], node: NODE_NAMES[op.node] });
        this.pods.push(object);
        this.index.upsertPod(object);
        return;
      }
      case 'delete': {
        const object = this.pick(op.which);
        if (!object) return;
        this.pods.splice(this.pods.indexOf(object), 1);
        this.assumed.delete(object);
        this.index.deletePod(object.metadata!.namespace!, object.metadata!.name!);
        return;
      }
      case 'move': {
        const object = this.pick(op.which);
        if (!object) return;
        this.index.deletePod(object.metadata!.namespace!, object.metadata!.name!);
        object.spec!.nodeName = NODE_NAMES[op.node];
        this.assumed.delete(object);
        this.index.upsertPod(object);
        return;
      }
      case 'assume': {
        // A pending pod, bound by our bind before the watch shows it.
        const object = pod(NAMESPACES[op.which % NAMESPACES.length]!, `p${(this.serial += 1)}`, POD_SHAPES[op.which % POD_SHAPES.length]);
        this.pods.push(object);
        this.index.upsertPod(object);
        const projection = this.index.projectPod(object);
        if (!projection) return;
        this.index.assumePod(projection, NODE_NAMES[op.node]!);
        this.assumed.set(object, NODE_NAMES[op.node]!);
        return;
      }
      case 'forget': {
        const entries = [...this.assumed];
        const entry = entries[op.which % Math.max(1, entries.length)];
        if (!entry) return;
        const [object, nodeName] = entry;
        this.index.forgetAssumedPod(object.metadata!.namespace!, object.metadata!.name!, nodeName);
        this.assumed.delete(object);
        return;
      }
      case 'node':
        this.index.upsertNode(node(NODE_NAMES[op.node]!, { ...NODE_SHAPES[op.shape], team: TEAMS[op.team] }));
        return;
      case 'deleteNode':
        this.index.deleteNode(NODE_NAMES[op.node]!);
        return;
      case 'namespace':
        this.index.upsertNamespace(namespace(NAMESPACES[op.ns]!, TEAMS[op.team]));
        return;
      case 'ruleMode':
        this.mode = op.mode;
        return;
      case 'probe':
        this.probe(pod(NAMESPACES[op.ns]!, 'probe', POD_SHAPES[op.shape]));
        return;
    }
  }

  /** One filter call for `object`: what the cache hands out must be what the rules say now. */
  probe(object: KubePod): KeptVerdicts | undefined {
    const inputs = this.inputs[this.mode];
    const ctx = filterContextFor(object, inputs);
    const base = this.currentBase();
    const kept = this.cache.verdictsFor(inputs, ctx, base);
    const fresh = [...filterNodes(ctx, base)];
    if (ctx.pod.problem) {
      expect(kept).toBeUndefined();
      return undefined;
    }
    expect(kept).toBeDefined();
    this.calls += 1;
    const verdicts = kept!.verdicts as readonly (Rejection | undefined)[];
    expect(verdicts.length).toBe(base.length);
    // Rejections are shared objects: the same one, not only an equal one.
    fresh.forEach((verdict, k) => expect(verdicts[k], `${base[k]!.name} (${this.mode})`).toBe(verdict));
    expect(kept!.tally()).toEqual(tallyRejections(fresh));
    const signature = JSON.stringify(fresh.map((v) => v?.code ?? null));
    const versions = this.stamped.get(kept!.stamp.source) ?? new Map<number, string>();
    this.stamped.set(kept!.stamp.source, versions);
    const before = versions.get(kept!.stamp.version);
    if (before !== undefined) expect(signature, 'an equal stamp stands for equal verdicts').toBe(before);
    versions.set(kept!.stamp.version, signature);
    return kept;
  }

  private pick(which: number): KubePod | undefined {
    return this.pods.length === 0 ? undefined : this.pods[which % this.pods.length];
  }

  private currentBase(): NodeView[] {
    const views = NODE_NAMES.map((name) => this.index.node(name)).filter((view): view is NodeView => view !== undefined);
    const same = views.length === this.base.length && views.every((view, k) => view === this.base[k]);
    if (!same) this.base = views;
    return this.base;
  }
}

describe('verdict cache', () => {
  it('hands out the verdicts the rules give now, whatever changed between calls', () => {
    let calls = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 80 }), (ops) => {
        const harness = new Harness();
        for (const op of ops) harness.apply(op);
        calls += harness.calls;
      }),
      { seed: SEED, numRuns: 300 },
    );
    // The runs did reach the cache, not only problem pods.
    expect(calls).toBeGreaterThan(300);
  });

  it('keeps the stamp while nothing changed, and gives a new one when a verdict does', () => {
    const harness = new Harness();
    const web = pod('ns2', 'web', { sysctls: WEB });
    // What a call hands out is valid until the next call: the stamp is copied.
    const first = { ...harness.probe(web)!.stamp };
    expect(harness.probe(web)!.stamp).toEqual(first);
    // A change that leaves the web pod's verdicts as they were (a plain pod on n0) keeps the stamp.
    harness.index.upsertPod(pod('ns0', 'plain', { node: 'n0' }));
    expect(harness.probe(web)!.stamp).toEqual(first);
    // n2 (team b, allows every unsafe sysctl) is idle and takes the web pod; a DB pod there makes it busy with another profile.
    expect(harness.probe(web)!.verdicts[2]).toBeUndefined();
    harness.index.upsertPod(pod('ns2', 'db', { sysctls: DB, node: 'n2' }));
    const after = harness.probe(web)!;
    expect(after.verdicts[2]).toBeDefined();
    expect(after.stamp).not.toEqual(first);
  });

  it('redoes every node when more changed than the journal holds', () => {
    const harness = new Harness();
    const web = pod('ns2', 'web', { sysctls: WEB });
    expect(harness.probe(web)!.verdicts[2]).toBeUndefined();
    // A DB pod makes n2 busy with another profile, then 5,000 changes on n0 push that out of the journal.
    harness.index.upsertPod(pod('ns2', 'db', { sysctls: DB, node: 'n2' }));
    for (let i = 0; i < 2_500; i += 1) {
      harness.index.upsertPod(pod('ns0', `churn${i}`, { sysctls: DB, node: 'n0' }));
      harness.index.deletePod('ns0', `churn${i}`);
    }
    // probe() asserts every verdict against the rules.
    expect(harness.probe(web)!.verdicts[2]).toBeDefined();
  });

  it('keeps nothing for a pod whose sysctls cannot be read', () => {
    const harness = new Harness();
    expect(harness.probe(pod('ns0', 'bad', { needs: 'vm.swappiness' }))).toBeUndefined();
  });
});
