import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built command (`npm test` builds first). */
export const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'main.js');

export interface ExtenderProcess {
  readonly child: ChildProcess;
  /** The verbs' listener. */
  readonly url: string;
  /** The operations listener (`--metrics-port`), as a loopback URL. */
  readonly opsUrl: string;
  stop(): void;
}

/**
 * `node dist/main.js ARGS --port 0 --metrics-port 0`, resolved once both listening lines are
 * out (a minute at most: a busy machine starts node slowly).
 */
export function startExtenderProcess(args: string[] = []): Promise<ExtenderProcess> {
  const child = spawn(process.execPath, [MAIN, ...args, '--port', '0', '--host', '127.0.0.1', '--metrics-port', '0', '--metrics-host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => fail(new Error(`no listening lines within 60 s in: ${seen}`)), 60_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.stderr!.on('data', (d: Buffer) => (seen += d));
    child.stdout!.on('data', (d: Buffer) => {
      seen += d;
      const verbs = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"listening on/.exec(seen);
      const ops = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"serving metrics/.exec(seen);
      if (verbs && ops) {
        clearTimeout(timer);
        resolve({ child, url: verbs[1]!, opsUrl: ops[1]!, stop: () => child.kill('SIGKILL') });
      }
    });
    child.once('exit', (code) => fail(new Error(`exited (${code}) before listening: ${seen}`)));
  });
}
