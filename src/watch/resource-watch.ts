import { Watch, type KubeConfig } from '@kubernetes/client-node';

/** An open watch stream: abort() ends it, and its `done` is then called. */
export interface WatchStream {
  abort(): void;
}

/**
 * Opens one watch stream, as client-node's `Watch.watch` does: `onEvent` gets each event's type
 * and object, `done` is called exactly once when the stream ends (null when it ended well, the
 * error otherwise, an HTTP error carrying `statusCode`), and the promise resolves once the
 * request is answered, refused or not. The reflector takes this instead of building a Watch
 * itself, so that its tests script the stream (events, errors, 410 Gone, bookmarks, closes).
 */
export interface ResourceWatch {
  watch(
    path: string,
    query: Record<string, string | number | boolean>,
    onEvent: (type: string, obj: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<WatchStream>;
}

/** The production watch: client-node's `Watch` over the kubeconfig's cluster. */
export function clientNodeWatch(kubeConfig: KubeConfig): ResourceWatch {
  return new Watch(kubeConfig);
}
