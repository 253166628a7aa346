/**
 * Where the time goes in V8 CPU profiles (`node --cpu-prof`, e.g. `bench:ci -- --profile`):
 * self and inclusive time per function, as shares of the busy (non-idle) time.
 *
 *   node bench/.build/bench/profile-summary.js [--top 25] FILE.cpuprofile...
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bounded } from './cli-args.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface FunctionTime {
  readonly name: string;
  readonly selfMicros: number;
  readonly totalMicros: number;
}

function summariseProfile(profile: CpuProfile): { busyMicros: number; functions: FunctionTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busyMicros = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    const stack: ProfileNode[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!);
    // The profiler's own work (Profiler.stop serialising the profile) is not the server's.
    if (stack.some((frame) => frame.callFrame.url.startsWith('node:inspector'))) return;
    busyMicros += delta;
    const own = keyOf(node);
    self.set(own, (self.get(own) ?? 0) + delta);
    // Inclusive: each function once per sample, however deep it recurses.
    for (const key of new Set(stack.map(keyOf))) total.set(key, (total.get(key) ?? 0) + delta);
  });
  const functions = [...total].map(([name, totalMicros]) => ({ name, selfMicros: self.get(name) ?? 0, totalMicros }));
  return { busyMicros, functions };
}

function keyOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules\/)/, '$1').replace(/^.*\/\.build\//, '');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

function main(): void {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
  const top = bounded(values.top, 1, 500);
  if (positionals.length === 0) throw new Error('usage: profile-summary.js [--top N] FILE.cpuprofile...');
  for (const file of positionals) {
    const { busyMicros, functions } = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    // serving-profiler.ts names files <kind>-<pid>-<N>req.cpuprofile.
    const requests = Number(/-(\d+)req\.cpuprofile$/.exec(file)?.[1] ?? Number.NaN);
    const share = (micros: number) => `${((100 * micros) / busyMicros).toFixed(1)}%`;
    const perRequest = (micros: number) => (Number.isFinite(requests) ? (micros / requests).toFixed(1) : '');
    const table = (title: string, pick: (f: FunctionTime) => number) => [
      `| ${title} | share of busy | µs per request | function |`,
      '|---|---:|---:|---|',
      ...[...functions].sort((a, b) => pick(b) - pick(a)).slice(0, top).map((f, i) => `| ${i + 1} | ${share(pick(f))} | ${perRequest(pick(f))} | ${f.name} |`),
    ];
    const summary = `busy (non-idle) time: ${(busyMicros / 1000).toFixed(0)} ms` + (Number.isFinite(requests) ? ` over ${requests} requests, ${perRequest(busyMicros)} µs per request` : '');
    process.stdout.write([`## ${file}`, '', summary, '', ...table('self', (f) => f.selfMicros), '', ...table('inclusive', (f) => f.totalMicros), '', ''].join('\n'));
  }
}

main();
