/**
 * A real control plane on loopback for the end-to-end suite and the scheduler benchmark:
 * etcd, kube-apiserver, kube-scheduler and the extender (dist/main.js), each a process group
 * of its own on free ports, with certificates made by openssl in a temporary folder.
 *
 * The Kubernetes binaries come from $KUBE_ASSETS (as controller-runtime's envtest reads
 * $KUBEBUILDER_ASSETS), etcd from $ETCD or PATH. Nothing here reads a fixed path.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeHttp } from '../../src/cluster/kube-http.js';

export interface KubeAssets {
  readonly kubeApiserver: string;
  readonly kubeScheduler: string;
  readonly etcd: string;
}

/** The binaries, or why they cannot be used (the suite then skips, saying so). */
export function findKubeAssets(env: NodeJS.ProcessEnv = process.env): { assets: KubeAssets } | { missing: string } {
  const dir = env.KUBE_ASSETS;
  if (!dir) return { missing: 'KUBE_ASSETS is not set (a folder with kube-apiserver and kube-scheduler v1.26)' };
  const kubeApiserver = path.resolve(dir, 'kube-apiserver');
  const kubeScheduler = path.resolve(dir, 'kube-scheduler');
  for (const file of [kubeApiserver, kubeScheduler]) if (!isExecutable(file)) return { missing: `${file} is not an executable` };
  const etcd = env.ETCD ?? onPath('etcd', env.PATH ?? '');
  if (!etcd || !isExecutable(etcd)) return { missing: 'etcd is neither in $ETCD nor on PATH (Debian: apt-get install etcd-server)' };
  return { assets: { kubeApiserver, kubeScheduler, etcd } };
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string, pathVar: string): string | undefined {
  return pathVar
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, name))
    .find(isExecutable);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it resolves true; a throw counts as "not yet". */
export async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Every process group started here, killed at exit even when a test run dies midway. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of running) killGroup(child, 'SIGKILL');
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** USER_HZ, the unit of /proc's CPU times: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/** A process in its own group, its output in a log file. */
export class Proc {
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    running.add(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.exitCode = code ?? (signal ? null : code);
        resolve(code);
      }),
    );
  }

  static start(name: string, command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Proc {
    const out = fs.openSync(logFile, 'a');
    const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env });
    fs.closeSync(out);
    return new Proc(name, child, logFile);
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /**
   * CPU seconds the process has used so far (user + system, from /proc; Linux only, else
   * undefined): benchmarks compare what each component costs, not only the throughput.
   */
  cpuSeconds(): number | undefined {
    if (this.child.pid === undefined) return undefined;
    try {
      // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
      const stat = fs.readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      return undefined;
    }
  }

  /** The log's tail, for a failure message. */
  tail(lines = 30): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** SIGTERM, SIGKILL after 10 s; or SIGKILL at once (`crash`), as a machine failure would. */
  async stop(crash = false): Promise<void> {
    if (!this.alive) return;
    killGroup(this.child, crash ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => killGroup(this.child, 'SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Fails with the log's tail unless `check` turns true while the process runs. */
  async waitReady(check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
    await waitUntil(
      async () => {
        if (!this.alive) throw new Error(`${this.name} exited`);
        return check();
      },
      `${this.name} to be ready`,
      timeoutMs,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- ${this.name} log (${this.logFile}) ---\n${this.tail()}`);
    });
  }
}

/** GET over loopback, any certificate (probes only): resolves to the status code, 0 if refused. */
export async function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const send = url.startsWith('https:') ? https.get : http.get;
    const req = send(url, { rejectUnauthorized: false, timeout: 5000, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** CA, API server serving cert for 127.0.0.1, admin client cert, SA key pair, front-proxy CA. */
function makeCerts(dir: string): void {
  const ext = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text);
  const ca = (name: string, cn: string) => openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`);
  const leaf = (name: string, caName: string, subject: string, extFile: string) => {
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', extFile);
  };
  ext('server.ext', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  ext('client.ext', 'extendedKeyUsage=clientAuth\n');
  ca('ca', 'e2e-ca');
  ca('front-proxy-ca', 'e2e-front-proxy-ca');
  leaf('apiserver', 'ca', '/CN=kube-apiserver', 'server.ext');
  leaf('admin', 'ca', '/O=system:masters/CN=e2e-admin', 'client.ext');
  leaf('front-proxy-client', 'front-proxy-ca', '/CN=front-proxy-client', 'client.ext');
  openssl(dir, 'genrsa', '-out', 'sa.key', '2048');
  openssl(dir, 'rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
}

export interface ControlPlaneOptions {
  readonly assets: KubeAssets;
  /** Keep the temporary folder (logs) after stop. */
  readonly keepDir?: boolean;
}

/** etcd and kube-apiserver; the scheduler and extenders are started on demand. */
export class ControlPlane {
  readonly api: KubeHttp;
  readonly kubeConfig: KubeConfig;
  private apiserver: Proc | undefined;
  private readonly others: Proc[] = [];

  private constructor(
    private readonly options: ControlPlaneOptions,
    readonly dir: string,
    private readonly etcd: Proc,
    readonly apiPort: number,
    private readonly etcdPort: number,
    readonly kubeconfigFile: string,
  ) {
    this.kubeConfig = new KubeConfig();
    this.kubeConfig.loadFromFile(kubeconfigFile);
    this.api = new KubeHttp(this.kubeConfig, { maxSockets: 16 });
  }

  /** CPU seconds used so far by etcd and kube-apiserver (Proc.cpuSeconds). */
  cpuSeconds(): { etcd: number | undefined; apiserver: number | undefined } {
    return { etcd: this.etcd.cpuSeconds(), apiserver: this.apiserver?.cpuSeconds() };
  }

  get apiUrl(): string {
    return `https://127.0.0.1:${this.apiPort}`;
  }

  static async start(options: ControlPlaneOptions): Promise<ControlPlane> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-e2e-'));
    let plane: ControlPlane | undefined;
    let etcd: Proc | undefined;
    try {
      makeCerts(dir);
      const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
      etcd = Proc.start('etcd', options.assets.etcd, [
        '--data-dir', path.join(dir, 'etcd'), '--name', 'e2e',
        '--listen-client-urls', `http://127.0.0.1:${etcdPort}`, '--advertise-client-urls', `http://127.0.0.1:${etcdPort}`,
        '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
        '--initial-cluster', `e2e=http://127.0.0.1:${peerPort}`,
      ], path.join(dir, 'etcd.log'));
      await etcd.waitReady(async () => (await probe(`http://127.0.0.1:${etcdPort}/health`)) === 200);
      const kubeconfigFile = path.join(dir, 'admin.kubeconfig');
      fs.writeFileSync(kubeconfigFile, adminKubeconfig(dir, apiPort));
      plane = new ControlPlane(options, dir, etcd, apiPort, etcdPort, kubeconfigFile);
      await plane.startApiServer();
      return plane;
    } catch (err) {
      if (plane) await plane.stop();
      else {
        await etcd?.stop();
        if (!options.keepDir) fs.rmSync(dir, { recursive: true, force: true });
      }
      throw err;
    }
  }

  /** Starts kube-apiserver (again, after stopApiServer: same etcd, same port). */
  async startApiServer(): Promise<void> {
    const file = (name: string) => path.join(this.dir, name);
    this.apiserver = Proc.start('kube-apiserver', this.options.assets.kubeApiserver, [
      '--advertise-address=127.0.0.1', '--bind-address=127.0.0.1', `--secure-port=${this.apiPort}`,
      `--etcd-servers=http://127.0.0.1:${this.etcdPort}`,
      `--tls-cert-file=${file('apiserver.crt')}`, `--tls-private-key-file=${file('apiserver.key')}`, `--client-ca-file=${file('ca.crt')}`,
      `--service-account-issuer=https://127.0.0.1:${this.apiPort}`, `--service-account-key-file=${file('sa.pub')}`,
      `--service-account-signing-key-file=${file('sa.key')}`, '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=Node,RBAC', '--endpoint-reconciler-type=none',
      `--requestheader-client-ca-file=${file('front-proxy-ca.crt')}`, `--proxy-client-cert-file=${file('front-proxy-client.crt')}`,
      `--proxy-client-key-file=${file('front-proxy-client.key')}`, '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User', '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      // This admission plugin taints every new Node not-ready, whatever its status says,
      // and no node controller here would lift the taint once the Ready condition holds.
      '--disable-admission-plugins=TaintNodesByCondition',
      // Created pods are bound right away by the scheduler under test: no rate limits there.
      '--max-requests-inflight=1000', '--max-mutating-requests-inflight=500',
    ], file('kube-apiserver.log'));
    await this.apiserver.waitReady(async () => (await this.api.requestText('GET', '/readyz')) === 'ok');
  }

  /** Kills kube-apiserver at once: a graceful stop keeps watches open for seconds. */
  async stopApiServer(): Promise<void> {
    await this.apiserver?.stop(true);
  }

  /** Starts kube-scheduler with this configuration (its clientConnection is filled in). */
  async startScheduler(config: Record<string, unknown>, name = 'kube-scheduler', extraArgs: string[] = []): Promise<Proc> {
    const port = await freePort();
    const configFile = path.join(this.dir, `${name}-${port}.yaml`);
    const full = { ...config, clientConnection: { kubeconfig: this.kubeconfigFile, qps: 1000, burst: 2000 } };
    fs.writeFileSync(configFile, JSON.stringify(full, null, 2)); // JSON is YAML
    const proc = Proc.start(name, this.options.assets.kubeScheduler, [
      `--config=${configFile}`, `--secure-port=${port}`, '--bind-address=127.0.0.1',
      `--authentication-kubeconfig=${this.kubeconfigFile}`, `--authorization-kubeconfig=${this.kubeconfigFile}`, ...extraArgs,
    ], path.join(this.dir, `${name}-${port}.log`));
    this.others.push(proc);
    await proc.waitReady(async () => (await probe(`https://127.0.0.1:${port}/healthz`)) === 200);
    return proc;
  }

  /**
   * Starts a Node program on a free port (`--port` appended) and waits for its `/healthz`;
   * the extender gets `--kubeconfig` too. Resolves to the process and its base URL.
   */
  async startServer(name: string, script: string, args: string[] = [], nodeOptions: string[] = []): Promise<{ proc: Proc; url: string }> {
    const port = await freePort();
    const proc = Proc.start(name, process.execPath, [...nodeOptions, script, '--kubeconfig', this.kubeconfigFile, '--port', String(port), ...args], path.join(this.dir, `${name}-${port}.log`), {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    });
    this.others.push(proc);
    const url = `http://127.0.0.1:${port}`;
    await proc.waitReady(async () => (await probe(`${url}/healthz`)) === 200);
    return { proc, url };
  }

  /**
   * Follows a watch (`path` with `watch=1&resourceVersion=RV`), calling `onEvent` per event,
   * and starts it again from the last resourceVersion seen if it ends or fails; the returned
   * function ends it. For waiting on binds without polling lists of thousands of pods.
   */
  watch(pathAndQuery: string, onEvent: (event: { type: string; object: Record<string, any> }) => void): () => void {
    const file = (name: string) => fs.readFileSync(path.join(this.dir, name));
    const tls = { ca: file('ca.crt'), cert: file('admin.crt'), key: file('admin.key') };
    let stopped = false;
    let current: http.ClientRequest | undefined;
    let resourceVersion = new URLSearchParams(pathAndQuery.split('?')[1] ?? '').get('resourceVersion') ?? '';
    const follow = () => {
      if (stopped) return;
      const base = pathAndQuery.replace(/([?&])resourceVersion=[^&]*/, '$1').replace(/[?&]$/, '');
      const target = `${base}${base.includes('?') ? '&' : '?'}resourceVersion=${resourceVersion}&allowWatchBookmarks=true`;
      let retried = false;
      const again = (why: string) => {
        if (stopped || retried) return;
        retried = true;
        process.stderr.write(`watch ${target}: ${why}; following again\n`);
        setTimeout(follow, 200);
      };
      current = https.request({ host: '127.0.0.1', port: this.apiPort, path: target, method: 'GET', agent: false, ...tls }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          again(`HTTP ${res.statusCode}`);
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline);
            buffered = buffered.slice(newline + 1);
            if (line.trim() === '') continue;
            const event = JSON.parse(line) as { type: string; object: Record<string, any> };
            if (event.type === 'ERROR') continue;
            resourceVersion = event.object?.metadata?.resourceVersion ?? resourceVersion;
            if (event.type !== 'BOOKMARK') onEvent(event);
          }
        });
        res.on('end', () => again('ended'));
        res.on('error', (err) => again(err.message));
      });
      current.on('error', (err) => again(err.message));
      current.end();
    };
    follow();
    return () => {
      stopped = true;
      current?.destroy();
    };
  }

  writeFile(name: string, text: string): string {
    const file = path.join(this.dir, name);
    fs.writeFileSync(file, text);
    return file;
  }

  async stop(): Promise<void> {
    for (const proc of this.others.reverse()) await proc.stop();
    await this.apiserver?.stop();
    await this.etcd.stop();
    this.api.close();
    if (!this.options.keepDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function adminKubeconfig(dir: string, apiPort: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server: `https://127.0.0.1:${apiPort}`, 'certificate-authority': path.join(dir, 'ca.crt') } }],
    users: [{ name: 'admin', user: { 'client-certificate': path.join(dir, 'admin.crt'), 'client-key': path.join(dir, 'admin.key') } }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'admin' } }],
    'current-context': 'e2e',
  });
}
