import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** An API answer outside 2xx, shaped like client-node's ApiException (`code`, `body`). */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
  ) {
    super(`HTTP ${code}`);
  }
}

export interface KubeHttpOptions {
  /** Connections kept to the API server; calls beyond wait for one. */
  readonly maxSockets?: number;
  /** Per call, from the request to the end of the answer. */
  readonly timeoutMs?: number;
  /** How long credentials read from the kubeconfig are used before they are read again. */
  readonly credentialsTtlMs?: number;
  readonly now?: () => number;
}

/**
 * A small JSON client for the API server that keeps its connections (keep-alive, bounded
 * pool). client-node 1.4 builds a new https.Agent for every call (`createAgent`), so every
 * call opens a new TLS connection: 14–19 ms a GET against a real API server, 2 ms here.
 *
 * Credentials come from client-node (`applyToHTTPSOptions`), asked again at most every
 * `credentialsTtlMs` (10 s): token files, exec plugins and rotated service-account tokens keep
 * working, as with client-go, which re-reads a token file every minute. Asking for every call
 * read the certificate, key and CA files synchronously and built an agent each time, 0.3 ms of
 * the event loop per bind, while kube-scheduler's filter calls waited behind a burst of binds.
 * One agent serves each
 * TLS identity (CA, client certificate and key): a rotated certificate gets a new pool, the
 * old pool's idle connections close after a minute. (Handing the certificates to one agent
 * with every request works too, but then the agent keys its pools by the PEM text, a few
 * kilobytes of string building per call: 50 parallel GETs took 93 ms instead of 62–77.)
 */
export class KubeHttp {
  private readonly server: URL;
  private readonly timeoutMs: number;
  private readonly agentOptions: https.AgentOptions;
  /** The pool of the TLS identity last used, and every pool made so far (for close). */
  private current: { identity: unknown[]; agent: http.Agent } | undefined;
  private readonly agents: http.Agent[] = [];
  private readonly credentialsTtlMs: number;
  private readonly now: () => number;
  /** The credentials last read, and when; a pending read is shared by the calls that wait for it. */
  private credentials: { options: Promise<https.RequestOptions>; at: number } | undefined;

  constructor(
    private readonly kubeConfig: KubeConfig,
    options: KubeHttpOptions = {},
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig names no current cluster');
    if (!KubeHttp.supports(kubeConfig)) throw new Error('the cluster is reached through a proxy, which this client does not speak');
    this.server = new URL(cluster.server);
    // client-node's own rule: plain HTTP only where TLS verification is explicitly off.
    if (this.server.protocol === 'http:' && !cluster.skipTLSVerify) throw new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false');
    const maxSockets = options.maxSockets ?? 16;
    // LIFO hands out the most recently used connection: a quiet period lets the rest close.
    this.agentOptions = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo', timeout: 60_000 };
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.credentialsTtlMs = options.credentialsTtlMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The kubeconfig's credentials, read again once they are older than the TTL or failed. */
  private auth(): Promise<https.RequestOptions> {
    const now = this.now();
    if (this.credentials && now - this.credentials.at < this.credentialsTtlMs) return this.credentials.options;
    const options: https.RequestOptions = {};
    const read = this.kubeConfig.applyToHTTPSOptions(options).then(() => options);
    const entry = { options: read, at: now };
    this.credentials = entry;
    // A failed read (an exec plugin that failed, a missing file) is not kept: the next call asks again.
    read.catch(() => {
      if (this.credentials === entry) this.credentials = undefined;
    });
    return read;
  }

  /** False where client-node would go through a proxy agent: use client-node there. */
  static supports(kubeConfig: KubeConfig): boolean {
    return !kubeConfig.getCurrentCluster()?.proxyUrl;
  }

  /** Resolves to the parsed JSON answer of a 2xx; rejects with KubeApiError otherwise. */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await this.requestText(method, path, body === undefined ? undefined : JSON.stringify(body));
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  async requestText(method: string, path: string, payload?: string, contentType = 'application/json'): Promise<string> {
    try {
      return await this.send(await this.auth(), method, path, payload, contentType);
    } catch (err) {
      // Kept credentials the API server no longer takes (a token expired or revoked within the
      // TTL): read them again and try once more.
      if (!(err instanceof KubeApiError) || err.code !== 401) throw err;
      this.credentials = undefined;
      return this.send(await this.auth(), method, path, payload, contentType);
    }
  }

  private send(auth: https.RequestOptions, method: string, path: string, payload: string | undefined, contentType: string): Promise<string> {
    const headers: http.OutgoingHttpHeaders = { ...(auth.headers as http.OutgoingHttpHeaders | undefined), accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = contentType;
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const basePath = this.server.pathname.replace(/\/$/, '');
    const options: https.RequestOptions = {
      protocol: this.server.protocol,
      hostname: this.server.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: this.server.port,
      path: basePath + path,
      method,
      headers,
      agent: this.agentFor(auth),
      timeout: this.timeoutMs,
      auth: auth.auth,
    };
    const send = this.server.protocol === 'http:' ? http.request : https.request;
    return new Promise<string>((resolve, reject) => {
      const req = send(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(text);
          else reject(new KubeApiError(status, text));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer from the API server within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  private agentFor(tls: https.RequestOptions): http.Agent {
    const identity = [tls.ca, tls.cert, tls.key, tls.pfx, tls.passphrase, tls.servername, tls.rejectUnauthorized];
    if (this.current && identity.every((part, i) => same(part, this.current!.identity[i]))) return this.current.agent;
    const agent =
      this.server.protocol === 'http:'
        ? new http.Agent(this.agentOptions)
        : new https.Agent({
            ...this.agentOptions,
            ca: tls.ca,
            cert: tls.cert,
            key: tls.key,
            pfx: tls.pfx,
            passphrase: tls.passphrase,
            servername: tls.servername,
            ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
          });
    this.current = { identity, agent };
    this.agents.push(agent);
    return agent;
  }

  /** Closes the pooled connections (for a clean shutdown and for tests). */
  close(): void {
    for (const agent of this.agents) agent.destroy();
  }
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  return false;
}
