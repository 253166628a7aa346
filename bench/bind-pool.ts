/**
 * The bind scenarios' bodies. A bind changes the index (the pod is then on its node), and a
 * second bind of the same pod is a cheap no-op, so each body is sent once: every server takes
 * the pool's bodies in order, on its own cursor. The extender's metrics then show whether every
 * bind really bound.
 */
import { postOnce } from './load.js';
import type { AnswerCheck } from './answer-check.js';
import type { ServerKind } from './server-child.js';
import { median } from './stats.js';

export class BindPool {
  private taken = 0;

  constructor(private readonly bodies: readonly string[]) {}

  /** The next unsent body; throws once the pool is used up rather than send one twice. */
  next = (): string => {
    const body = this.bodies[this.taken];
    if (body === undefined) throw new Error(`the bind pool of ${this.bodies.length} pending pods is used up: raise BIND_POOL in scenarios.ts`);
    this.taken += 1;
    return body;
  };
}

const BOUND = '{"Error":""}';

/** Each server binds a few pods of its pool once; anything but an empty Error is a problem. */
export async function checkBinds(
  urls: Partial<Record<ServerKind, string>>,
  pools: Partial<Record<ServerKind, BindPool>>,
  count: number,
): Promise<{ check: AnswerCheck; answered: Partial<Record<ServerKind, number>> }> {
  const problems: string[] = [];
  const callMs: AnswerCheck['callMs'] = {};
  const answered: Partial<Record<ServerKind, number>> = {};
  for (const [kind, url] of Object.entries(urls) as Array<[ServerKind, string]>) {
    const times: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const body = pools[kind]!.next();
      const answer = await postOnce(`${url}/bind`, body);
      times.push(answer.ms);
      if (answer.status === 200) answered[kind] = (answered[kind] ?? 0) + 1;
      if (answer.status !== 200 || answer.text !== BOUND) problems.push(`${kind} answered ${answer.status} ${answer.text.slice(0, 200)} to the bind ${body}`);
    }
    callMs[kind] = median(times);
  }
  return { check: { passing: [], naiveAgrees: undefined, problems, callMs }, answered };
}

/** The extender's bind counters (`sysctl_extender_binds_total`) by outcome. */
export async function bindOutcomes(url: string): Promise<{ bound: number; refused: number }> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  const count = (outcome: string) => Number(new RegExp(`^sysctl_extender_binds_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  return { bound: count('bound'), refused: count('refused') };
}
