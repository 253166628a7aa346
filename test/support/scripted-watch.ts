import type { ResourceWatch, WatchStream } from '../../src/watch/resource-watch.js';

/**
 * A watch the test scripts, in place of client-node's Watch (as client-node's own informer
 * tests replace it): each stream the reflector opens waits for the test to connect or refuse
 * it, then to send events and end it. Nothing runs on a timer.
 */
export class ScriptedWatch implements ResourceWatch {
  readonly streams: ScriptedStream[] = [];
  private readonly waiting: Array<{ n: number; resolve: (stream: ScriptedStream) => void }> = [];

  watch(path: string, query: Record<string, string | number | boolean>, onEvent: (type: string, obj: unknown) => void, done: (err: unknown) => void): Promise<WatchStream> {
    const stream = new ScriptedStream(path, query, onEvent, done);
    this.streams.push(stream);
    for (const w of this.waiting.filter((w) => w.n < this.streams.length)) {
      this.waiting.splice(this.waiting.indexOf(w), 1);
      w.resolve(this.streams[w.n]!);
    }
    return stream.answered;
  }

  /** The n-th stream (from 0) once the reflector has opened it. */
  stream(n: number): Promise<ScriptedStream> {
    if (n < this.streams.length) return Promise.resolve(this.streams[n]!);
    return new Promise((resolve) => this.waiting.push({ n, resolve }));
  }
}

export class ScriptedStream {
  readonly answered: Promise<WatchStream>;
  aborted = false;
  ended = false;
  private answer!: (stream: WatchStream) => void;

  constructor(
    readonly path: string,
    readonly query: Record<string, string | number | boolean>,
    private readonly onEvent: (type: string, obj: unknown) => void,
    private readonly done: (err: unknown) => void,
  ) {
    this.answered = new Promise((resolve) => (this.answer = resolve));
  }

  get resourceVersion(): string {
    return String(this.query.resourceVersion);
  }

  /** The API server answers 200: the stream is open. */
  connect(): this {
    this.answer({
      abort: () => {
        this.aborted = true;
        // client-node ends an aborted stream with the body's AbortError.
        this.end(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' }));
      },
    });
    return this;
  }

  /** The API server answers with an error status, or the connection is refused (`statusCode` undefined). */
  refuse(statusCode?: number, message = statusCode ? `HTTP ${statusCode}` : 'connect ECONNREFUSED 127.0.0.1:6443'): void {
    // As client-node does: done with the error, then the promise resolves anyway.
    this.end(Object.assign(new Error(message), statusCode ? { statusCode } : { cause: { code: 'ECONNREFUSED' } }));
    this.answer({ abort: () => {} });
  }

  send(type: string, obj: unknown): this {
    if (!this.ended) this.onEvent(type, obj);
    return this;
  }

  bookmark(resourceVersion: string): this {
    return this.send('BOOKMARK', { kind: 'Pod', metadata: { resourceVersion } });
  }

  /** The API server's answer to a compacted resourceVersion: an ERROR event with code 410. */
  gone(): this {
    return this.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
  }

  /** The stream ends: well (no error), or with `err` (a dropped connection). */
  end(err: unknown = null): void {
    if (this.ended) return;
    this.ended = true;
    this.done(err);
  }
}
