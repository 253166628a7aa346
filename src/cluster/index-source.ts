import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Policy } from '../config/policy.js';
import type { Readiness } from '../readiness.js';
import { ClusterIndex } from '../sysctl-index/cluster-index.js';
import { ClusterWatch } from './cluster-watch.js';
import { applyList, loadSnapshotFile, type KubeList } from './snapshot.js';
import { WatchMetrics } from './watch-metrics.js';

/**
 * What fills the index: a fixed List (snapshot, demo) or the cluster's watches. A policy that
 * changes the label or annotation keys needs the index rebuilt from the source.
 */
export interface IndexSource extends Readiness {
  /** Fills the index and keeps it current until stop(). */
  start(index: ClusterIndex): void;
  stop(): Promise<void>;
  /** A new, complete index for `policy`; the old one keeps serving until the caller swaps. */
  rebuild(policy: Policy): Promise<ClusterIndex>;
  /** `policy` is now in force (after a rebuild or without one): the source takes what it reads of it. */
  follow(policy: Policy): void;
}

/** A fixed cluster: a List in memory (the demo cluster), or a snapshot file read again for each rebuild. */
export class ListSource implements IndexSource {
  private loaded = false;

  /**
   * `list`: an in-memory List, or the path of a snapshot file. A file is streamed into the
   * index and not kept: the index is the only copy of the cluster (a parsed 150,000-pod List
   * beside it doubled the resident memory), and a rebuild for new keys reads the file again.
   */
  constructor(private readonly list: KubeList | { readonly file: string }) {}

  /** Loads the index; throws SnapshotError (one line, naming the file) when the file is unusable. */
  start(index: ClusterIndex): void {
    this.fill(index);
    this.loaded = true;
  }

  async stop(): Promise<void> {}

  /** A fixed List reads nothing of the policy beyond the index's keys (rebuild). */
  follow(): void {}

  async rebuild(policy: Policy): Promise<ClusterIndex> {
    const index = new ClusterIndex(policy);
    this.fill(index);
    return index;
  }

  private fill(index: ClusterIndex): void {
    if ('file' in this.list) loadSnapshotFile(index, this.list.file);
    else applyList(index, this.list);
  }

  check(): { ready: true } | { ready: false; reason: string } {
    return this.loaded ? { ready: true } : { ready: false, reason: 'index not loaded yet' };
  }
}

export interface WatchSourceOptions {
  readonly kubeConfig: KubeConfig;
  readonly registry?: Registry;
  /** Failing lists and reconnects are logged here (rate-limited). */
  readonly logger?: Logger;
  /** The policy's staleAfterSeconds at start; follow() moves it to the policy in force. */
  readonly staleAfterSeconds: number;
  /** How long a rebuild may take to list everything before the new policy is given up. */
  readonly rebuildTimeoutMs?: number;
}

/**
 * The cluster's watches. It owns the watch metrics (registered once: a rebuild starts a second
 * ClusterWatch counting into the same ones) and the staleness bound its readiness applies.
 */
export class WatchSource implements IndexSource {
  private watch: ClusterWatch | undefined;
  private staleAfterMs: number;
  private readonly metrics: WatchMetrics | undefined;

  constructor(private readonly options: WatchSourceOptions) {
    this.staleAfterMs = options.staleAfterSeconds * 1000;
    // The age gauge reads the watch in service; during a rebuild, the old one until the swap.
    this.metrics = options.registry && new WatchMetrics(options.registry, () => this.watch?.reflectorsByKind() ?? []);
  }

  start(index: ClusterIndex): void {
    this.watch = this.watchInto(index);
  }

  async stop(): Promise<void> {
    await this.watch?.stop();
  }

  async rebuild(policy: Policy): Promise<ClusterIndex> {
    const index = new ClusterIndex(policy);
    const next = this.watchInto(index);
    const deadline = Date.now() + (this.options.rebuildTimeoutMs ?? 120_000);
    while (!next.check().ready) {
      if (Date.now() > deadline) {
        await next.stop();
        throw new Error('timed out listing the cluster for the new keys');
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const previous = this.watch;
    this.watch = next;
    await previous?.stop();
    return index;
  }

  follow(policy: Policy): void {
    this.staleAfterMs = policy.staleAfterSeconds * 1000;
  }

  check(): { ready: true } | { ready: false; reason: string } {
    return this.watch?.check() ?? { ready: false, reason: 'not started' };
  }

  private watchInto(index: ClusterIndex): ClusterWatch {
    const watch = new ClusterWatch({
      kubeConfig: this.options.kubeConfig,
      index: () => index,
      staleAfterMs: () => this.staleAfterMs,
      metrics: this.metrics,
      logger: this.options.logger,
    });
    watch.start();
    return watch;
  }
}
