import { backoffDelay, realDelay, type DelayFn } from './backoff.js';
import type { ResourceWatch, WatchStream } from './resource-watch.js';

/** A Kubernetes object as lists and watch events deliver it; only metadata is read here. */
export interface Listed {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string } | null;
}

export interface ListPage<T> {
  items: T[];
  metadata?: { resourceVersion?: string; _continue?: string; continue?: string } | null;
}

export interface ReflectorHandlers<T> {
  upsert(obj: T): void;
  remove(obj: T): void;
  /**
   * After a (re)list: everything the index holds of this kind whose key (`namespace/name`, or
   * `name` for cluster-scoped kinds; see objectKey) is not in `listed` is gone.
   */
  reconcile(listed: ReadonlySet<string>): void;
}

export interface ReflectorEvents {
  onEvent?(type: string): void;
  onRelist?(): void;
  onRestart?(reason: string): void;
  /** A list or watch attempt failed (refused, error status, dropped); `attempt` counts since the last success. */
  onAttemptFailed?(error: string, attempt: number): void;
  /** A list or watch succeeded again after `failedAttempts` failures. */
  onRecovered?(failedAttempts: number): void;
}

export interface ReflectorOptions<T> {
  /** Opens the watch streams; clientNodeWatch(kubeConfig) in production. */
  readonly watch: ResourceWatch;
  /** The watch path, e.g. `/api/v1/pods`. */
  readonly path: string;
  /** Extra watch parameters, e.g. a fieldSelector. */
  readonly query?: Record<string, string>;
  /** One page of the list. */
  readonly list: (page: { limit: number; continueToken?: string }) => Promise<ListPage<T>>;
  readonly handlers: ReflectorHandlers<T>;
  readonly events?: ReflectorEvents;
  readonly delay?: DelayFn;
  readonly now?: () => number;
  /** Items per list page: each page is applied as it arrives, so this bounds what a relist holds. */
  readonly pageSize?: number;
  /** Server-side watch timeout; the watch is renewed from its resourceVersion afterwards. */
  readonly watchTimeoutSeconds?: number;
}

type WatchOutcome = 'ended' | 'expired';

/** `namespace/name`, or `name` for cluster-scoped objects. */
function objectKey(obj: Listed): string {
  const name = obj.metadata?.name ?? '';
  return obj.metadata?.namespace ? `${obj.metadata.namespace}/${name}` : name;
}

/** One line for logs and /readyz: client-node's errors carry a status code or a cause (ECONNREFUSED). */
function describeError(err: unknown): string {
  const e = err as { message?: string; statusCode?: number; code?: string | number; cause?: { code?: string; message?: string } } | null;
  const text = e?.message || String(err);
  const cause = e?.cause?.code ?? (typeof e?.code === 'string' ? e.code : undefined);
  const oneLine = text.split('\n')[0]!.slice(0, 200);
  return cause && !oneLine.includes(cause) ? `${oneLine} (${cause})` : oneLine;
}

/** What readiness and metrics read of a running reflector. */
export interface ReflectorHandle {
  readonly synced: boolean;
  readonly connected: boolean;
  readonly lastHealthyAt: number;
  readonly lastEventAt: number | undefined;
  readonly lastError: string | undefined;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Lists then watches one resource, for as long as it runs. client-node's informer stops on
 * the first error and keeps whole objects in its cache; this keeps nothing but the
 * resourceVersion (the index keeps projections) and owns its restarts:
 * - a dropped or failed watch resumes from the last resourceVersion, with backoff;
 * - 410 Gone (an ERROR event or an HTTP status) relists, and the relist reconciles deletions
 *   missed meanwhile.
 */
export class Reflector<T extends Listed> implements ReflectorHandle {
  private resourceVersion: string | undefined;
  private readonly stopping = new AbortController();
  private currentWatch: WatchStream | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  /** Failed attempts since the last successful list or watch, for logs (backoff keeps its own). */
  private failedAttempts = 0;
  private eventsThisWatch = 0;

  /** The initial list has been applied. */
  synced = false;
  /** A watch stream is open right now. */
  connected = false;
  /**
   * The last moment the reflector was really healthy: a list completed, an event (bookmarks
   * included) arrived, or a watch stream that was open and well ended. A refused or failed
   * attempt never moves it, so readiness measures the outage from its true start. While
   * `connected`, the reflector is healthy now.
   */
  lastHealthyAt: number;
  /** When the last watch event (bookmarks included) arrived. */
  lastEventAt: number | undefined;
  lastError: string | undefined;

  constructor(private readonly options: ReflectorOptions<T>) {
    this.lastHealthyAt = this.now();
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.currentWatch?.abort();
    await this.running;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private async loop(): Promise<void> {
    const delay = this.options.delay ?? realDelay;
    while (!this.stopping.signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        const startedAt = this.now();
        const outcome = await this.watchOnce(this.resourceVersion!);
        if (outcome === 'expired') {
          this.resourceVersion = undefined;
          this.options.events?.onRestart?.('expired');
          continue;
        }
        // A stream the server closes at once, again and again, must not become a busy loop.
        if (this.now() - startedAt < 1000 && this.eventsThisWatch === 0) throw new Error('watch closed immediately');
        this.failures = 0;
        this.options.events?.onRestart?.('closed');
      } catch (err) {
        if (this.stopping.signal.aborted) break;
        this.connected = false;
        this.failures += 1;
        this.failedAttempts += 1;
        this.lastError = describeError(err);
        this.options.events?.onAttemptFailed?.(this.lastError, this.failedAttempts);
        if ((err as { statusCode?: number; code?: number }).statusCode === 410 || (err as { code?: number }).code === 410) {
          this.resourceVersion = undefined;
        }
        this.options.events?.onRestart?.('error');
        await delay(backoffDelay(this.failures), this.stopping.signal);
      }
    }
    this.connected = false;
  }

  /** Settles with `work`, or rejects as soon as the reflector is stopped. */
  private unlessStopped<R>(work: Promise<R>): Promise<R> {
    const signal = this.stopping.signal;
    if (signal.aborted) return Promise.reject(new Error('stopped'));
    return new Promise<R>((resolve, reject) => {
      const onStop = () => reject(new Error('stopped'));
      signal.addEventListener('abort', onStop, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onStop));
    });
  }

  /**
   * Lists every page and applies each as it arrives, keeping only the keys for the final
   * reconcile: holding all 150,000 pods as client objects until the end took over 1 GB and
   * ran the Deployment's heap limit out. During a relist after 410 the index keeps serving,
   * with each object at its old or its new state, as while watch events arrive; objects
   * deleted meanwhile go at the end.
   */
  private async relist(): Promise<void> {
    const listed = new Set<string>();
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.unlessStopped(this.options.list({ limit: this.options.pageSize ?? 500, continueToken }));
      for (const item of page.items) {
        listed.add(objectKey(item));
        this.options.handlers.upsert(item);
      }
      resourceVersion ??= page.metadata?.resourceVersion;
      continueToken = page.metadata?._continue ?? page.metadata?.continue ?? undefined;
    } while (continueToken);
    this.options.handlers.reconcile(listed);
    this.resourceVersion = resourceVersion ?? '0';
    this.synced = true;
    this.markHealthy();
    this.options.events?.onRelist?.();
  }

  private markHealthy(): void {
    this.lastHealthyAt = this.now();
    this.noteRecovered();
  }

  private noteRecovered(): void {
    if (this.failedAttempts > 0) {
      const failed = this.failedAttempts;
      this.failedAttempts = 0;
      this.options.events?.onRecovered?.(failed);
    }
  }

  private watchOnce(fromVersion: string): Promise<WatchOutcome> {
    return new Promise<WatchOutcome>((resolve, reject) => {
      let expired = false;
      let finished = false;
      let connectedAt: number | undefined;
      this.eventsThisWatch = 0;
      const timeoutSeconds = this.options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 60);
      // client-node's Watch has no client-side timeout: a silently dead connection would hang
      // forever while looking connected. The server closes the watch after timeoutSeconds.
      const watchdog = setTimeout(() => this.currentWatch?.abort(), (timeoutSeconds + 30) * 1000);
      watchdog.unref();
      // Watch.watch hands back its abort handle only once the response headers arrive; a stop
      // must not wait for a slow API server to send them.
      const onStop = () => done(null);
      this.stopping.signal.addEventListener('abort', onStop, { once: true });
      const handle = (type: string, event: unknown) => {
        if (finished) return;
        const obj = event as T & { code?: number; message?: string };
        this.eventsThisWatch += 1;
        this.lastEventAt = this.now();
        this.markHealthy();
        this.options.events?.onEvent?.(type);
        const version = obj?.metadata?.resourceVersion;
        switch (type) {
          case 'ADDED':
          case 'MODIFIED':
            this.options.handlers.upsert(obj);
            break;
          case 'DELETED':
            this.options.handlers.remove(obj);
            break;
          case 'BOOKMARK':
            break;
          case 'ERROR':
            // The API server reports an expired resourceVersion as an ERROR event with code 410.
            if (obj?.code === 410) expired = true;
            else this.lastError = obj?.message ?? 'watch error event';
            this.currentWatch?.abort();
            return;
          default:
            return;
        }
        if (version) this.resourceVersion = version;
      };
      const done = (err: unknown) => {
        if (finished) return;
        finished = true;
        clearTimeout(watchdog);
        this.stopping.signal.removeEventListener('abort', onStop);
        // A stream that was open and well was healthy up to now; one that was refused, or
        // opened and closed at once without an event, says nothing about the API server's health.
        if (connectedAt !== undefined && (this.eventsThisWatch > 0 || this.now() - connectedAt >= 1000)) this.markHealthy();
        this.connected = false;
        if (expired || (err as { statusCode?: number } | null)?.statusCode === 410) resolve('expired');
        else if (err && !this.stopping.signal.aborted) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve('ended');
      };
      this.options.watch
        .watch(this.options.path, { ...this.options.query, resourceVersion: fromVersion, allowWatchBookmarks: true, timeoutSeconds }, handle, done)
        .then((controller) => {
          this.currentWatch = controller;
          if (this.stopping.signal.aborted) controller.abort();
          if (!finished) {
            this.connected = true;
            connectedAt = this.now();
            this.noteRecovered();
          }
        }, done);
    });
  }
}
