import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Policy } from '../config/policy.js';
import type { Readiness } from '../readiness.js';
import { ClusterIndex } from '../sysctl-index/cluster-index.js';
import { ClusterWatch } from './cluster-watch.js';
import { applyList, loadSnapshotFile, type KubeList, type LoadCounts } from './snapshot.js';

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
}

/** A fixed cluster: a List in memory (the demo cluster), or a snapshot file read again for each rebuild. */
export class ListSource implements IndexSource {
  private loaded = false;
  counts: LoadCounts | undefined;

  /**
   * `list`: an in-memory List, or the path of a snapshot file. A file is streamed into the
   * index and not kept: the index is the only copy of the cluster (a parsed 150,000-pod List
   * beside it doubled the resident memory), and a rebuild for new keys reads the file again.
   */
  constructor(private readonly list: KubeList | { readonly file: string }) {}

  /** Loads the index; throws SnapshotError (one line, naming the file) when the file is unusable. */
  start(index: ClusterIndex): void {
    this.counts = this.fill(index);
    this.loaded = true;
  }

  async stop(): Promise<void> {}

  async rebuild(policy: Policy): Promise<ClusterIndex> {
    const index = new ClusterIndex(policy);
    this.fill(index);
    return index;
  }

  private fill(index: ClusterIndex): LoadCounts {
    return 'file' in this.list ? loadSnapshotFile(index, this.list.file) : applyList(index, this.list);
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
  readonly staleAfterMs: () => number;
  /** How long a rebuild may take to list everything before the new policy is given up. */
  readonly rebuildTimeoutMs?: number;
}

export class WatchSource implements IndexSource {
  private watch: ClusterWatch | undefined;

  constructor(private readonly options: WatchSourceOptions) {}

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

  check(): { ready: true } | { ready: false; reason: string } {
    return this.watch?.check() ?? { ready: false, reason: 'not started' };
  }

  private watchInto(index: ClusterIndex): ClusterWatch {
    const watch = new ClusterWatch({
      kubeConfig: this.options.kubeConfig,
      index: () => index,
      staleAfterMs: this.options.staleAfterMs,
      registry: this.options.registry,
      logger: this.options.logger,
    });
    watch.start();
    return watch;
  }
}
