import type { ClusterIndex, NodeView } from '../sysctl-index/cluster-index.js';
import type { RuleInputs } from './filter-context.js';
import { filterNode, type FilterContext } from './filter-node.js';
import { filterNodes, type Verdicts } from './filter-nodes.js';
import { requirementsKey } from './pod-requirements.js';
import type { Rejection } from './reasons.js';
import { tallyRejections, type RejectionTally } from './rejection-tally.js';

/*
 * The verdicts of pods with the same requirements, kept from call to call. kube-scheduler
 * places the replicas of a workload one after another, each against the same 5,000 names
 * (rotated), and between two of them a bind or a watch event changes one node or two. So the
 * verdicts are kept per requirements (requirementsKey) over the name table's base list, and a
 * call redoes only the nodes the index's journal says changed since (nodesChangedSince); a
 * policy or index change (a new RuleInputs) drops them all.
 *
 * Why: on worker-many-profiles (5,000 nodes, 30 pods a node) the rules, the rejection tally
 * and the failed-nodes memo's node-by-node compare took 0.22 ms of a served filter's 0.59 ms
 * (CPU profile, 2026-12-02). A kept entry also carries the tally of its verdicts and a stamp
 * (source, version) that changes whenever a verdict does, so that the memo can trust equal
 * stamps without comparing (failed-nodes-memo.ts).
 */

/** Requirements kept apart: 40 kB each at 5,000 nodes. */
const ENTRIES = 16;

/** Identifies one set of verdicts: equal stamps, equal verdicts node by node. */
export interface VerdictStamp {
  readonly source: object;
  readonly version: number;
}

/** Verdicts in the base list's order, valid until the next call on the cache. */
export interface KeptVerdicts {
  readonly verdicts: Verdicts;
  readonly stamp: VerdictStamp;
  tally(): RejectionTally | undefined;
}

class Entry implements KeptVerdicts {
  /** The index's nodeChanges the verdicts are up to date with. */
  changes = 0;
  /** The tally of `verdicts` once asked for; null until then. */
  private counted: RejectionTally | undefined | null = null;

  constructor(
    public key: string,
    readonly verdicts: (Rejection | undefined)[],
    public stamp: VerdictStamp,
  ) {}

  tally(): RejectionTally | undefined {
    if (this.counted === null) this.counted = tallyRejections(this.verdicts);
    return this.counted;
  }

  /** After any verdict changed: a new stamp, and the tally counted again when asked. */
  restamp(stamp: VerdictStamp): void {
    this.stamp = stamp;
    this.counted = null;
  }
}

export class VerdictCache {
  /** Most recently used first. */
  private entries: Entry[] = [];
  private inputs: RuleInputs | undefined;
  private base: readonly NodeView[] | undefined;
  /** Each base view's position, built on the first call that has changed nodes to redo. */
  private positions: Map<NodeView, number> | undefined;
  private versions = 0;

  /**
   * The verdicts of `ctx`'s pod on `base` (the views of the name table's base list, whose
   * identity stays while the list does), under `inputs`; undefined for a pod kept nowhere
   * (requirementsKey), which the caller judges node by node.
   */
  verdictsFor(inputs: RuleInputs, ctx: FilterContext, base: readonly NodeView[]): KeptVerdicts | undefined {
    const key = requirementsKey(ctx.pod);
    if (key === undefined) return undefined;
    if (inputs !== this.inputs || base !== this.base) {
      this.entries = [];
      this.inputs = inputs;
      this.base = base;
      this.positions = undefined;
    }
    const index = inputs.index;
    const at = this.entries.findIndex((e) => e.key === key);
    let entry: Entry;
    if (at >= 0) {
      entry = this.entries.splice(at, 1)[0]!;
      if (entry.changes !== index.nodeChanges && !this.redoChanged(entry, ctx, index)) this.redoAll(entry, ctx, base);
    } else {
      const evicted = this.entries.length >= ENTRIES ? this.entries.pop() : undefined;
      entry = evicted ?? new Entry(key, new Array<Rejection | undefined>(base.length), this.nextStamp());
      entry.key = key;
      this.redoAll(entry, ctx, base);
    }
    entry.changes = index.nodeChanges;
    this.entries.unshift(entry);
    return entry;
  }

  /** The changed nodes' verdicts again; false if the journal no longer reaches back to the entry. */
  private redoChanged(entry: Entry, ctx: FilterContext, index: ClusterIndex): boolean {
    const positions = (this.positions ??= new Map(this.base!.map((view, k) => [view, k])));
    let changed = false;
    const caughtUp = index.nodesChangedSince(entry.changes, (view) => {
      const k = positions.get(view);
      if (k === undefined) return;
      const verdict = filterNode(ctx, view);
      if (verdict === entry.verdicts[k]) return;
      entry.verdicts[k] = verdict;
      changed = true;
    });
    if (changed) entry.restamp(this.nextStamp());
    return caughtUp;
  }

  private redoAll(entry: Entry, ctx: FilterContext, base: readonly NodeView[]): void {
    filterNodes(ctx, base, entry.verdicts);
    entry.restamp(this.nextStamp());
  }

  private nextStamp(): VerdictStamp {
    this.versions += 1;
    return { source: this, version: this.versions };
  }
}
