/**
 * CPU profile of the serving phase only: started once the server listens, so that building the
 * synthetic cluster does not drown the request path (which `node --cpu-prof` would record too).
 * Written as a .cpuprofile for Chrome DevTools or bench/profile-summary.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/** Sampling every 200 µs: a call to profile takes a few milliseconds. */
const SAMPLING_INTERVAL_MICROS = 200;

/**
 * Starts profiling; the returned function stops and writes `<dir>/<name>-<pid>-<requests>req.cpuprofile`,
 * the request count letting profile-summary.ts show time per request.
 */
export async function startServingProfile(dir: string, name: string): Promise<(requests: number) => Promise<string>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_MICROS });
  await session.post('Profiler.start');
  return async (requests: number) => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${name}-${process.pid}-${requests}req.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return file;
  };
}
