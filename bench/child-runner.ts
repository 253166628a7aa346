/** Runs a bench entry point in a fresh Node process and returns the one message it sends over IPC. */
import { fork } from 'node:child_process';
import { once } from 'node:events';

const DEFAULT_TIMEOUT_MS = 300_000;

export async function runChild<T>(entry: string, args: string[], execArgv: string[] = [], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  const child = fork(entry, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let answer: T | undefined;
  child.on('message', (message: T) => (answer = message));
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  if (code !== 0 || answer === undefined) throw new Error(`${entry} ${args.join(' ')} failed (exit ${String(code)})`);
  return answer;
}
