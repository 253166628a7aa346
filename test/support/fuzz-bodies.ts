/**
 * Generator and mutator of extender requests for fuzzing, shared by test/http-fuzz.test.ts (a
 * few thousand requests against an in-process server) and tools/fuzz.ts (100,000+ against a
 * child process). It starts from the real kube-scheduler bodies (test/fixtures/kube-scheduler)
 * and breaks them: wrong types at random paths, missing, extra and duplicate keys, prototype
 * keys, key case variants, odd numbers, huge strings and arrays (within and beyond the body
 * limit), deep nesting, invalid UTF-8, truncated and garbled JSON, other verbs, paths, methods
 * and headers. It also holds the per-answer invariants, the sender, and the "still correct"
 * check run before and after a campaign.
 *
 * Deterministic: one seed gives one sequence of requests. Imports nothing from vitest or src,
 * so that the tools build can use it as is.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, deflateSync } from 'node:zlib';
import { Prng } from '../../support/prng.js';

export type Verb = 'filter' | 'prioritize' | 'bind' | 'preempt';
export const VERBS: readonly Verb[] = ['filter', 'prioritize', 'bind', 'preempt'];

export interface SeedBody {
  readonly verb: Verb;
  /** Path under the fixtures directory, e.g. `names/c-unsafe-filter.json`. */
  readonly name: string;
  readonly text: string;
}

/** Every request body of the capture, by verb (cluster.json, answers and the README left out). */
export function loadSeedBodies(fixturesDir: string): SeedBody[] {
  const seeds: SeedBody[] = [];
  for (const dir of ['names', 'nodes', 'preempt', 'retry']) {
    for (const file of readdirSync(join(fixturesDir, dir)).sort()) {
      if (!file.endsWith('.json') || file.endsWith('.response.json')) continue;
      const verb = /-(filter|prioritize|bind|preempt)(-refused)?\.json$/.exec(file)?.[1] as Verb | undefined;
      if (!verb) continue;
      seeds.push({ verb, name: `${dir}/${file}`, text: readFileSync(join(fixturesDir, dir, file), 'utf8') });
    }
  }
  return seeds;
}

// --- a JSON tree that can hold what JSON.parse cannot give back: raw tokens, duplicate keys ---------

/** Text spliced into the body as is: `1e309`, `-0`, `NaN`, 10,000 nested brackets, ... */
export class Raw {
  constructor(readonly text: string) {}
}

/** An object as an ordered list of entries, so that keys may repeat and `__proto__` is a plain key. */
export class Obj {
  constructor(public entries: Array<[string, Tree]>) {}
}

export type Tree = null | boolean | number | string | Raw | Obj | Tree[];

export function toTree(value: unknown): Tree {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(toTree);
  // JSON.parse makes `__proto__` an own key, so Object.entries sees it like any other.
  return new Obj(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toTree(v)]));
}

export function serialize(tree: Tree): string {
  const out: string[] = [];
  write(tree, out);
  return out.join('');
}

function write(tree: Tree, out: string[]): void {
  if (tree instanceof Raw) out.push(tree.text);
  else if (tree instanceof Obj) {
    out.push('{');
    tree.entries.forEach(([key, value], i) => {
      if (i > 0) out.push(',');
      out.push(JSON.stringify(key), ':');
      write(value, out);
    });
    out.push('}');
  } else if (Array.isArray(tree)) {
    out.push('[');
    tree.forEach((value, i) => {
      if (i > 0) out.push(',');
      write(value, out);
    });
    out.push(']');
  } else out.push(JSON.stringify(tree));
}

/** A place in the tree that a mutation can overwrite or remove. */
interface Slot {
  readonly key: string;
  readonly depth: number;
  get(): Tree;
  set(value: Tree): void;
  remove(): void;
}

function slotsOf(root: Tree): { slots: Slot[]; objects: Obj[]; arrays: Tree[][] } {
  const slots: Slot[] = [];
  const objects: Obj[] = [];
  const arrays: Tree[][] = [];
  const visit = (tree: Tree, depth: number): void => {
    if (tree instanceof Obj) {
      objects.push(tree);
      for (const entry of tree.entries) {
        slots.push({
          key: entry[0],
          depth,
          get: () => entry[1],
          set: (v) => (entry[1] = v),
          remove: () => {
            const at = tree.entries.indexOf(entry);
            if (at >= 0) tree.entries.splice(at, 1);
          },
        });
        visit(entry[1], depth + 1);
      }
    } else if (Array.isArray(tree)) {
      arrays.push(tree);
      // Huge arrays: a sample of their elements is enough.
      const step = Math.max(1, Math.floor(tree.length / 64));
      for (let i = 0; i < tree.length; i += step) {
        const index = i;
        slots.push({
          key: String(index),
          depth,
          get: () => tree[index] ?? null,
          set: (v) => (tree[index] = v),
          remove: () => tree.splice(index, 1),
        });
        visit(tree[index]!, depth + 1);
      }
    }
  };
  visit(root, 0);
  return { slots, objects, arrays };
}

// --- value and key pools --------------------------------------------------------------------------

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'];
/** Names a polluted prototype would show; checked after a campaign. */
export const POLLUTION_SENTINELS = ['polluted', 'isAdmin', 'sysctl-extender.io/team', 'sysctl-extender.io/sysctls'];

const FIELD_KEYS = [
  'Pod', 'Nodes', 'NodeNames', 'PodName', 'PodNamespace', 'PodUID', 'Node', 'NodeNameToVictims', 'NodeNameToMetaVictims',
  'Pods', 'UID', 'NumPDBViolations', 'items', 'metadata', 'name', 'namespace', 'uid', 'labels', 'annotations', 'spec',
  'securityContext', 'sysctls', 'value', 'nodeName', 'hostNetwork', 'hostIPC', 'ownerReferences', 'kind', 'controller',
  'status', 'phase', 'resourceVersion', 'Error', 'Host', 'Score',
  'sysctl-extender.io/team', 'sysctl-extender.io/sysctls', 'sysctl-extender.io/allowed-unsafe-sysctls',
];
const INTERESTING_KEYS = new Set(FIELD_KEYS);

const SYSCTL_STRINGS = [
  'vm.max_map_count=262144', 'vm.max_map_count', 'vm.max_map_count=', '=1', '#', ';;;', 'vm/max_map_count = 262144 # x',
  'kernel.shmmax=68719476736', 'kernel.shmmax', 'kernel/shmmax', 'Kernel.ShmMax', 'net.core.somaxconn', 'net.ipv4.ip_local_port_range',
  'kernel.shm*,kernel.sem,net.*', '*', 'kernel.*', 'net*', ',,,', 'vm.swappiness=1;vm.swappiness=2', '250  32000 100   128',
  'a', 'n1', 'n2', 'n3', 'n4', 'team-a', 'team-b', 'no-team', 'b', 'DaemonSet', 'Succeeded', 'Failed', 'Running',
  '__proto__', 'constructor', 'prototype', '', ' ', '\u0000', '\n', '\r\n', '\t', '\u2028', '\uffff', '\ufeff', 'é', '日本', '🎉',
];

/** Tokens that are JSON but not what JSON.stringify writes, and tokens that are not JSON at all. */
const ODD_NUMBERS = ['1e309', '-1e309', '-0', '0e0', '1e-400', '123456789012345678901234567890', '9007199254740993', '-9007199254740993', '0.1e1', '1E2', '-1.5'];
const NOT_JSON = ['NaN', 'Infinity', '-Infinity', 'undefined', '0x10', '01', '.5', '+1', '1.', 'tru', "'x'", '"\\x41"', '"\\u12"', '"a\u0001b"', '[1,]', '{"a":1,}', '//'];

function repeatString(unit: string, bytes: number): string {
  return unit.repeat(Math.max(1, Math.ceil(bytes / unit.length)));
}

export function deepArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

export function deepObject(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

const DEPTHS = [64, 512, 1_000, 4_000, 5_000, 10_000, 20_000, 100_000];

// --- the generator ------------------------------------------------------------------------------

export interface FuzzRequest {
  readonly seq: number;
  /** What was done, e.g. `tree:replace+extraKey` or `bytes:truncate`: how a failure is grouped. */
  readonly kind: string;
  /** The fixture it started from, if any. */
  readonly seed: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | undefined;
  /** Sent with chunked transfer encoding (no Content-Length), so limits apply while streaming. */
  readonly chunked: boolean;
}

export interface FuzzerOptions {
  readonly seed: number;
  /** The server's policy bodyLimitBytes. */
  readonly bodyLimitBytes: number;
  /** Largest body made on purpose below the limit (huge strings, arrays). */
  readonly maxHugeBytes: number;
  /** Relative weight of bodies beyond the limit (each costs bodyLimitBytes to send); default 0.5 in ~100. */
  readonly oversizeWeight?: number;
  /** Relative weight of huge bodies below the limit; default 6 in ~100. */
  readonly hugeWeight?: number;
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const encoder = new TextEncoder();

export class RequestFuzzer {
  private readonly rng: Prng;
  private seq = 0;
  private oversized: Uint8Array | undefined;
  private bomb: Uint8Array | undefined;
  private readonly byVerb: ReadonlyMap<Verb, SeedBody[]>;

  constructor(
    private readonly seeds: readonly SeedBody[],
    private readonly options: FuzzerOptions,
  ) {
    if (seeds.length === 0) throw new Error('no seed bodies');
    this.rng = new Prng(options.seed);
    this.byVerb = new Map(VERBS.map((v) => [v, seeds.filter((s) => s.verb === v)]));
  }

  next(): FuzzRequest {
    this.seq += 1;
    const rng = this.rng;
    const category = rng.byWeight<() => Omit<FuzzRequest, 'seq'>>([
      [4, () => this.good()],
      [50, () => this.treeMutation()],
      [14, () => this.byteMutation()],
      [5, () => this.rootReplacement()],
      [this.options.hugeWeight ?? 6, () => this.huge()],
      [this.options.oversizeWeight ?? 0.5, () => this.oversize()],
      [4, () => this.crossVerb()],
      [6, () => this.oddRequest()],
      [4, () => this.oddHeaders()],
    ]);
    return { seq: this.seq, ...category() };
  }

  // --- categories -----------------------------------------------------------------------------

  private seedBody(): SeedBody {
    return this.rng.pick(this.seeds);
  }

  private post(seed: SeedBody | undefined, kind: string, body: string | Uint8Array, verb: Verb | undefined = seed?.verb, headers: Record<string, string> = JSON_HEADERS): Omit<FuzzRequest, 'seq'> {
    return {
      kind,
      seed: seed?.name,
      method: 'POST',
      path: `/${verb ?? this.rng.pick(VERBS)}`,
      headers: { ...headers },
      body: typeof body === 'string' ? encoder.encode(body) : body,
      chunked: this.rng.chance(0.1),
    };
  }

  private good(): Omit<FuzzRequest, 'seq'> {
    const seed = this.seedBody();
    return this.post(seed, 'good', seed.text);
  }

  private treeMutation(): Omit<FuzzRequest, 'seq'> {
    const seed = this.seedBody();
    const tree = toTree(JSON.parse(seed.text));
    const names: string[] = [];
    const count = this.rng.byWeight([
      [6, 1],
      [3, 2],
      [1, 4],
    ]);
    for (let i = 0; i < count; i += 1) names.push(this.mutateTree(tree));
    return this.post(seed, `tree:${names.join('+')}`, serialize(tree));
  }

  private byteMutation(): Omit<FuzzRequest, 'seq'> {
    const seed = this.seedBody();
    let text = seed.text;
    let prefix = '';
    if (this.rng.chance(0.3)) {
      const tree = toTree(JSON.parse(text));
      prefix = `${this.mutateTree(tree)}>`;
      text = serialize(tree);
    }
    const bytes = encoder.encode(text);
    const rng = this.rng;
    const at = rng.int(bytes.length + 1);
    const [name, out] = rng.byWeight<() => [string, Uint8Array]>([
      [3, () => ['truncate', bytes.slice(0, at)]],
      [4, () => ['invalidUtf8', splice(bytes, this.stringPosition(text) ?? at, 0, rng.pick(INVALID_UTF8))]],
      [2, () => ['invalidUtf8Many', scatter(rng, bytes, () => rng.pick(INVALID_UTF8))]],
      [2, () => ['flip', flip(rng, bytes)]],
      [2, () => ['garbage', splice(bytes, at, rng.int(8), encoder.encode(rng.pick(['}', ']', '"', ',', ':', '\\', '\u0000', 'null', '{{', '\\u', 'e', '-'])))]],
      [1, () => ['bom', concat(new Uint8Array([0xef, 0xbb, 0xbf]), bytes)]],
      [1, () => ['utf16Bom', concat(new Uint8Array([0xff, 0xfe]), bytes)]],
      [1, () => ['utf16', utf16le(text)]],
      [1, () => ['trailing', concat(bytes, encoder.encode(rng.pick(['}', 'x', ' ', '\n\n', '{}', '[]', '\u0000'])))]],
      [1, () => ['nul', splice(bytes, this.stringPosition(text) ?? at, 0, new Uint8Array([0]))]],
      [1, () => ['whitespace', concat(encoder.encode(' \t\r\n'.repeat(rng.between(1, 1000))), bytes)]],
    ])();
    return this.post(seed, `bytes:${prefix}${name}`, out);
  }

  private rootReplacement(): Omit<FuzzRequest, 'seq'> {
    const rng = this.rng;
    const [name, body] = rng.byWeight<() => [string, string]>([
      [2, () => ['empty', '']],
      [1, () => ['spaces', '   ']],
      [2, () => ['scalar', rng.pick(['null', 'true', '0', '-0', '1e309', '"filter"', '""', '{}', '[]', '[{}]', '{"":""}'])]],
      [1, () => ['notJson', rng.pick(NOT_JSON)]],
      [2, () => ['deepArray', deepArray(rng.pick(DEPTHS))]],
      [2, () => ['deepObject', deepObject(rng.pick(DEPTHS))]],
      [1, () => ['deepMixed', '[{"a":'.repeat(5_000) + '1' + '}]'.repeat(5_000)]],
      [1, () => ['deepUnclosed', '['.repeat(rng.pick(DEPTHS))]],
      [2, () => ['randomValue', serialize(this.randomValue(3))]],
      [2, () => ['protoRoot', serialize(new Obj([['__proto__', this.pollution()], ['constructor', new Obj([['prototype', this.pollution()]])]]))]],
    ])();
    return this.post(undefined, `root:${name}`, body, rng.pick(VERBS));
  }

  private huge(): Omit<FuzzRequest, 'seq'> {
    const rng = this.rng;
    const seed = this.seedBody();
    const tree = toTree(JSON.parse(seed.text));
    const size = rng.between(16 * 1024, this.options.maxHugeBytes);
    const { slots, objects } = slotsOf(tree);
    const slot = this.chooseSlot(slots);
    let name: string;
    switch (rng.int(6)) {
      case 0:
        name = 'string';
        slot?.set(repeatString(rng.pick(['x', 'é', '🎉', 'vm.swappiness=1\n', 'a=b;', '\\', '"']), size / 4));
        break;
      case 1: {
        name = 'names';
        const count = Math.floor(size / 10);
        const names = Array.from({ length: count }, (_, i) => (i % 7 === 0 ? rng.pick(['n1', 'n2', 'n3', 'n4']) : `node-${i}`));
        const target = findKey(tree, ['NodeNames']) ?? slot;
        target?.set(new Raw(JSON.stringify(names)));
        break;
      }
      case 2: {
        name = 'array';
        const unit = rng.pick(['null', '0', '"n1"', '{}', '[]', '{"metadata":{"name":"n1"}}']);
        slot?.set(new Raw(`[${new Array<string>(Math.max(1, Math.floor(size / (unit.length + 1)))).fill(unit).join(',')}]`));
        break;
      }
      case 3: {
        name = 'object';
        const count = Math.floor(size / 24);
        const members = Array.from({ length: count }, (_, i) => `"k${i}":${i % 3 === 0 ? '{"Pods":[]}' : '"v"'}`).join(',');
        const target = rng.chance(0.5) ? rng.pick(objects) : undefined;
        // Spliced in as one raw member list: an object with `count` more keys.
        if (target) target.entries.push(['k', new Raw(`"v",${members}`)]);
        else slot?.set(new Raw(`{${members}}`));
        break;
      }
      case 4: {
        name = 'sysctls';
        const count = rng.pick([1_024, 1_025, 5_000, Math.floor(size / 40)]);
        const list = Array.from({ length: count }, (_, i) => ({ name: i % 2 ? 'kernel.shmmax' : `net.core.x${i}`, value: String(i) }));
        (findKey(tree, ['sysctls']) ?? slot)?.set(new Raw(JSON.stringify(list)));
        break;
      }
      default: {
        name = 'annotation';
        const text = repeatString(rng.pick(['vm.swappiness=1\n', 'kernel.shm*,', '# comment\n', ';']), size / 2);
        const annotations = findKey(tree, ['annotations']);
        if (annotations && annotations.get() instanceof Obj) {
          (annotations.get() as Obj).entries.push([rng.pick(['sysctl-extender.io/sysctls', 'sysctl-extender.io/allowed-unsafe-sysctls', 'x']), text]);
        } else slot?.set(text);
      }
    }
    return this.post(seed, `huge:${name}`, serialize(tree));
  }

  private oversize(): Omit<FuzzRequest, 'seq'> {
    if (!this.oversized) {
      // Built once: a good body padded past the limit inside a string value.
      const seed = this.byVerb.get('filter')![0] ?? this.seedBody();
      const head = encoder.encode(`${seed.text.trimEnd().slice(0, -1)},"padding":"`);
      const total = this.options.bodyLimitBytes + 1_024;
      const body = new Uint8Array(total).fill(0x78);
      body.set(head, 0);
      body.set(encoder.encode('"}'), total - 2);
      this.oversized = body;
    }
    const request = this.post(undefined, 'oversize', this.oversized, this.rng.pick(VERBS));
    return { ...request, chunked: this.rng.chance(0.5) };
  }

  /** Spaces that inflate to just past the limit (built once: compressing is the slow part). */
  private gzipBomb(): Uint8Array {
    this.bomb ??= gzipSync(new Uint8Array(this.options.bodyLimitBytes + 4_096).fill(0x20));
    return this.bomb;
  }

  private crossVerb(): Omit<FuzzRequest, 'seq'> {
    const seed = this.seedBody();
    const verb = this.rng.pick(VERBS.filter((v) => v !== seed.verb));
    return this.post(seed, `crossVerb:${seed.verb}>${verb}`, seed.text, verb);
  }

  private oddRequest(): Omit<FuzzRequest, 'seq'> {
    const rng = this.rng;
    const seed = this.seedBody();
    const method = rng.byWeight([
      [6, 'POST'],
      [3, 'GET'],
      [1, 'PUT'],
      [1, 'DELETE'],
      [1, 'PATCH'],
      [1, 'OPTIONS'],
      [1, 'HEAD'],
      [1, 'PROPFIND'],
      [1, 'FOO'],
    ]);
    const path = rng.pick([
      '/', '/filter/', '/FILTER', '/Filter', '/filter?x=1', '/filter?__proto__[polluted]=1', '/filters', '/filter/extra',
      '/%ff', '/%2e%2e/filter', '//filter', '/filter;x', '/filter%00', `/${'a'.repeat(2_000)}`, '/api/v1/filter',
      '/healthz', '/readyz', '/config', '/metrics', '/bind/', '/PREEMPT', '/prioritize?', '/__proto__', '/constructor',
      '/prototype', '/..', '/filter/..', '/index.html', '/explain',
      // Beyond Node's 16 KiB header limit: answered by Node's HTTP parser, before express.
      `/${'b'.repeat(20_000)}`,
    ]);
    const body = method === 'GET' || method === 'HEAD' ? undefined : encoder.encode(seed.text);
    return { kind: `request:${method}`, seed: seed.name, method, path, headers: { ...JSON_HEADERS }, body, chunked: false };
  }

  private oddHeaders(): Omit<FuzzRequest, 'seq'> {
    const rng = this.rng;
    const seed = this.seedBody();
    const text = seed.text;
    const [name, headers, body] = rng.byWeight<() => [string, Record<string, string>, Uint8Array]>([
      [2, () => ['noContentType', {}, encoder.encode(text)]],
      [2, () => ['contentType', { 'content-type': rng.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'a/b/c;;;', 'application/json; charset=', 'application/json; charset=utf-8; x=y', '*/*', 'application/JSON']) }, encoder.encode(text)]],
      [1, () => ['charsetUtf16', { 'content-type': 'application/json; charset=utf-16' }, rng.chance(0.5) ? utf16le(text) : encoder.encode(text)]],
      [1, () => ['charsetOther', { 'content-type': `application/json; charset=${rng.pick(['latin1', 'ascii', 'utf-7', 'utf-32', 'x-unknown', 'UTF-8'])}` }, encoder.encode(text)]],
      [2, () => ['gzip', { ...JSON_HEADERS, 'content-encoding': 'gzip' }, gzipSync(text)]],
      [1, () => ['deflate', { ...JSON_HEADERS, 'content-encoding': 'deflate' }, deflateSync(text)]],
      [1, () => ['gzipGarbage', { ...JSON_HEADERS, 'content-encoding': 'gzip' }, encoder.encode(text)]],
      [1, () => ['gzipTruncated', { ...JSON_HEADERS, 'content-encoding': 'gzip' }, gzipSync(text).slice(0, 40)]],
      [1, () => ['gzipBomb', { ...JSON_HEADERS, 'content-encoding': 'gzip' }, this.gzipBomb()]],
      [1, () => ['encoding', { ...JSON_HEADERS, 'content-encoding': rng.pick(['br', 'identity', 'gzip, gzip', 'compress', 'x-foo', '']) }, encoder.encode(text)]],
    ])();
    return { kind: `headers:${name}`, seed: seed.name, method: 'POST', path: `/${seed.verb}`, headers, body, chunked: rng.chance(0.1) };
  }

  // --- tree mutations ---------------------------------------------------------------------------

  /** Applies one mutation in place and names it. */
  private mutateTree(tree: Tree): string {
    const rng = this.rng;
    const { slots, objects, arrays } = slotsOf(tree);
    const slot = this.chooseSlot(slots);
    return rng.byWeight<() => string>([
      [6, () => (slot?.set(this.randomValue(2)), 'replace')],
      [3, () => (slot?.set(new Raw(rng.pick(ODD_NUMBERS))), 'number')],
      [1, () => (slot?.set(new Raw(rng.pick(NOT_JSON))), 'notJson')],
      [3, () => (slot?.remove(), 'remove')],
      [3, () => (rng.pick(objects)?.entries.splice(rng.int(3), 0, [this.randomKey(), this.randomValue(2)]), 'extraKey')],
      [3, () => (rng.pick(objects)?.entries.push([rng.pick(PROTOTYPE_KEYS), this.pollution()]), 'protoKey')],
      [3, () => this.duplicateKey(objects)],
      [3, () => this.caseKey(objects)],
      [2, () => (slot?.set(new Raw(rng.chance(0.5) ? deepArray(rng.pick(DEPTHS)) : deepObject(rng.pick(DEPTHS)))), 'deep')],
      [2, () => this.deepInNode(tree)],
      [2, () => (slot?.set(rng.pick(SYSCTL_STRINGS)), 'string')],
      [1, () => (slot?.set(repeatString(rng.pick(['x', 'é']), rng.pick([253, 254, 4_096, 4_097, 65_536]))), 'longString')],
      [1, () => (arrays.length > 0 ? (rng.pick(arrays).length = 0) : 0, 'emptyArray')],
      [1, () => (arrays.length > 0 ? rng.pick(arrays).push(this.randomValue(1)) : 0, 'arrayPush')],
      [1, () => this.mutateNames(tree)],
    ])();
  }

  /** Half the time a slot whose key the extender reads, else anywhere. */
  private chooseSlot(slots: Slot[]): Slot | undefined {
    if (slots.length === 0) return undefined;
    if (this.rng.chance(0.5)) {
      const interesting = slots.filter((s) => INTERESTING_KEYS.has(s.key));
      if (interesting.length > 0) return this.rng.pick(interesting);
    }
    return this.rng.pick(slots);
  }

  private duplicateKey(objects: Obj[]): string {
    const target = objects.length > 0 ? this.rng.pick(objects) : undefined;
    const entry = target && target.entries.length > 0 ? this.rng.pick(target.entries) : undefined;
    if (!target || !entry) return 'duplicateKey';
    const value = this.rng.chance(0.5) ? this.randomValue(1) : entry[1];
    // Before or after the original: JSON.parse keeps the last.
    if (this.rng.chance(0.5)) target.entries.push([entry[0], value]);
    else target.entries.unshift([entry[0], value]);
    return 'duplicateKey';
  }

  private caseKey(objects: Obj[]): string {
    const target = objects.length > 0 ? this.rng.pick(objects) : undefined;
    const entry = target && target.entries.length > 0 ? this.rng.pick(target.entries) : undefined;
    if (!target || !entry) return 'caseKey';
    const key = entry[0];
    const variant = this.rng.pick([key.toLowerCase(), key.toUpperCase(), swapCase(key), key[0] ? key[0].toLowerCase() + key.slice(1) : key]);
    if (this.rng.chance(0.3)) target.entries.push([variant, this.rng.chance(0.5) ? entry[1] : this.randomValue(1)]);
    else entry[0] = variant;
    return 'caseKey';
  }

  /** A deep value inside a Node object of a `Nodes` request, which the filter answer echoes. */
  private deepInNode(tree: Tree): string {
    const items = findKey(tree, ['items'])?.get();
    if (!Array.isArray(items) || items.length === 0) return 'deepInNode';
    const node = this.rng.pick(items);
    if (node instanceof Obj) {
      const depth = this.rng.pick(DEPTHS);
      node.entries.push([this.rng.pick(['status', 'extra', 'spec']), new Raw(this.rng.chance(0.5) ? deepArray(depth) : deepObject(depth))]);
    }
    return 'deepInNode';
  }

  private mutateNames(tree: Tree): string {
    const names = findKey(tree, ['NodeNames'])?.get();
    if (!Array.isArray(names)) return 'names';
    const rng = this.rng;
    switch (rng.int(4)) {
      case 0:
        names.splice(names.length, 0, ...names.slice(0, 1_000)); // duplicates
        break;
      case 1:
        names.push(rng.pick(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', '', 'n5', 'N1', ' n1', 'n1\u0000']));
        break;
      case 2:
        names.reverse();
        break;
      default:
        names.splice(0, names.length);
    }
    return 'names';
  }

  private randomKey(): string {
    const rng = this.rng;
    return rng.byWeight<() => string>([
      [3, () => rng.pick(FIELD_KEYS)],
      [2, () => {
        const key = rng.pick(FIELD_KEYS);
        return rng.pick([key.toLowerCase(), key.toUpperCase(), swapCase(key)]);
      }],
      [2, () => rng.pick(PROTOTYPE_KEYS)],
      [1, () => rng.pick(['', ' ', '\u0000', 'a'.repeat(1_000), '日本', '🎉', '\ud800', 'polluted'])],
    ])();
  }

  /** What a prototype key gets: objects that would pollute if merged naively. */
  private pollution(): Tree {
    return this.rng.pick<Tree>([
      new Obj([['polluted', 'yes']]),
      new Obj([['prototype', new Obj([['polluted', 'yes']])]]),
      new Obj([['isAdmin', true], ['sysctl-extender.io/team', 'a']]),
      new Obj([['sysctl-extender.io/sysctls', 'vm.max_map_count=262144']]),
      'yes',
      null,
      [],
      new Obj([['__proto__', new Obj([['polluted', 'yes']])]]),
    ]);
  }

  randomValue(depth: number): Tree {
    const rng = this.rng;
    return rng.byWeight<() => Tree>([
      [2, () => null],
      [1, () => rng.chance(0.5)],
      [2, () => rng.pick([0, 1, -1, 0.5, 10, 11, 2 ** 31, 2 ** 53, -(2 ** 53), 1e300])],
      [1, () => new Raw(rng.pick(ODD_NUMBERS))],
      [4, () => rng.pick(SYSCTL_STRINGS)],
      [1, () => new Raw(rng.pick(['"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '"a\\"b"', '"\\/"']))],
      [1, () => new Obj([])],
      [1, () => []],
      [depth > 0 ? 2 : 0, () => Array.from({ length: rng.int(4) }, () => this.randomValue(depth - 1))],
      [depth > 0 ? 2 : 0, () => new Obj(Array.from({ length: rng.int(4) }, () => [this.randomKey(), this.randomValue(depth - 1)] as [string, Tree]))],
      [1, () => this.pollution()],
    ])();
  }

  /** Picks a position inside a string literal of the text, if it finds one quickly. */
  private stringPosition(text: string): number | undefined {
    for (let tries = 0; tries < 8; tries += 1) {
      const at = this.rng.int(text.length);
      const quote = text.indexOf('"', at);
      if (quote >= 0 && quote + 1 < text.length && text[quote + 1] !== ':' && text[quote + 1] !== ',') {
        return encoder.encode(text.slice(0, quote + 1)).length;
      }
    }
    return undefined;
  }
}

const INVALID_UTF8: readonly Uint8Array[] = [
  [0xff], [0xfe], [0xc0, 0xaf], [0xc1, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x8e], [0x80], [0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80],
].map((bytes) => new Uint8Array(bytes));

function findKey(tree: Tree, keys: readonly string[]): Slot | undefined {
  return slotsOf(tree).slots.find((s) => keys.includes(s.key));
}

function swapCase(s: string): string {
  return [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  return concat(concat(bytes.slice(0, at), insert), bytes.slice(Math.min(bytes.length, at + remove)));
}

function scatter(rng: Prng, bytes: Uint8Array, piece: () => Uint8Array): Uint8Array {
  let out = bytes;
  for (let i = rng.between(2, 20); i > 0; i -= 1) out = splice(out, rng.int(out.length + 1), 0, piece());
  return out;
}

function flip(rng: Prng, bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  for (let i = rng.between(1, 6); i > 0 && out.length > 0; i -= 1) out[rng.int(out.length)] = rng.int(256);
  return out;
}

function utf16le(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    out[2 * i] = code & 0xff;
    out[2 * i + 1] = code >> 8;
  }
  return out;
}

// --- sending ------------------------------------------------------------------------------------

export interface FuzzAnswer {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
  readonly ms: number;
}

export type FuzzOutcome = FuzzAnswer | { readonly failure: 'timeout' | 'connection'; readonly message: string; readonly ms: number };

/** Sends one request with a hard timeout; never throws. */
export async function sendFuzzRequest(baseUrl: string, request: FuzzRequest, timeoutMs: number): Promise<FuzzOutcome> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  let body: RequestInit['body'];
  if (request.body !== undefined) {
    const bytes = request.body;
    body = request.chunked
      ? new ReadableStream<Uint8Array>({
          start(controller) {
            for (let at = 0; at < bytes.length; at += 256 * 1024) controller.enqueue(bytes.subarray(at, at + 256 * 1024));
            controller.close();
          },
        })
      : bytes;
  }
  try {
    const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers: request.headers, body, signal };
    if (request.chunked && body !== undefined) init.duplex = 'half';
    const res = await fetch(baseUrl + request.path, init);
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type'), text, ms: performance.now() - started };
  } catch (err) {
    const e = err as { name?: string; message?: string; cause?: { message?: string; code?: string } };
    const ms = performance.now() - started;
    if (e.name === 'TimeoutError' || e.name === 'AbortError' || signal.aborted) return { failure: 'timeout', message: `no answer within ${timeoutMs} ms`, ms };
    return { failure: 'connection', message: `${e.message ?? String(err)}${e.cause ? `: ${e.cause.code ?? ''} ${e.cause.message ?? ''}` : ''}`, ms };
  }
}

// --- the invariants of one answer ------------------------------------------------------------------

const VERB_PATHS = new Map<string, Verb>(VERBS.map((v) => [`/${v}`, v]));

/** The route express serves a path with (case-insensitive, trailing slash optional, query ignored). */
export function routeOf(path: string): string {
  let p = path.split('?')[0]!.split('#')[0]!;
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p.toLowerCase();
}

/**
 * What must hold for every answer: no 5xx, a JSON body (an object with a non-empty `Error` for
 * a 4xx), and for a 200 from a verb the shape kube-scheduler decodes, consistent with the
 * request where the request is plain enough to tell. Returns the violations (empty: fine).
 */
export function checkAnswer(request: FuzzRequest, outcome: FuzzOutcome): string[] {
  if ('failure' in outcome) return [`${outcome.failure}: ${outcome.message}`];
  const problems: string[] = [];
  const { status, text } = outcome;
  if (status >= 500) problems.push(`status ${status}`);
  if (request.method === 'HEAD') return problems;
  const route = routeOf(request.path);
  if (route === '/metrics' && request.method === 'GET' && status === 200) return problems;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    problems.push(`status ${status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
    return problems;
  }
  if (!outcome.contentType?.includes('application/json')) problems.push(`status ${status} with content-type ${String(outcome.contentType)}`);
  if (status >= 400) {
    const error = (body as { Error?: unknown } | null)?.Error;
    if (!isRecord(body) || typeof error !== 'string' || error.trim() === '') problems.push(`status ${status} without {"Error": "<message>"}: ${text.slice(0, 120)}`);
    return problems;
  }
  const verb = VERB_PATHS.get(route);
  if (status >= 200 && status < 300 && verb) {
    if (request.method !== 'POST') problems.push(`${request.method} ${request.path} answered ${status}`);
    problems.push(...checkVerbAnswer(verb, parseRequestBody(request), body));
  }
  return problems;
}

function parseRequestBody(request: FuzzRequest): unknown {
  if (!request.body || request.headers['content-encoding']) return undefined;
  const type = request.headers['content-type'] ?? '';
  if (/charset=(?!utf-8)/i.test(type)) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(request.body));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The request's exact `key` when no other key folds to it (then the request is plain enough to compare). */
function plainField(input: unknown, key: string): unknown {
  if (!isRecord(input) || !Object.hasOwn(input, key)) return undefined;
  const folded = Object.keys(input).filter((k) => k.toLowerCase() === key.toLowerCase());
  return folded.length === 1 ? input[key] : undefined;
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

export function checkVerbAnswer(verb: Verb, input: unknown, body: unknown): string[] {
  const problems: string[] = [];
  const fail = (message: string) => problems.push(`${verb}: ${message}`);
  switch (verb) {
    case 'filter': {
      if (!isRecord(body)) return [`filter: answer is not an object`];
      for (const key of ['NodeNames', 'Nodes', 'FailedNodes', 'FailedAndUnresolvableNodes', 'Error']) if (!Object.hasOwn(body, key)) fail(`no ${key}`);
      if (body.Error !== '') fail(`Error is ${JSON.stringify(body.Error)} in a 200`);
      const names = body.NodeNames === null ? undefined : stringArray(body.NodeNames);
      if (body.NodeNames !== null && !names) fail('NodeNames is neither null nor a list of names');
      const nodes = body.Nodes;
      if (nodes !== null && !(isRecord(nodes) && Array.isArray(nodes.items))) fail('Nodes is neither null nor {items: [...]}');
      if ((body.NodeNames === null) === (nodes === null)) fail('exactly one of NodeNames and Nodes must be set');
      const reasons = (field: string): Record<string, unknown> => {
        const map = body[field];
        if (!isRecord(map)) {
          fail(`${field} is not an object`);
          return {};
        }
        for (const [node, reason] of Object.entries(map)) if (typeof reason !== 'string' || reason === '') fail(`${field}[${node}] is not a reason`);
        return map;
      };
      const failed = Object.keys(reasons('FailedNodes'));
      const unresolvable = Object.keys(reasons('FailedAndUnresolvableNodes'));
      const inputNames = stringArray(plainField(input, 'NodeNames'));
      if (names && inputNames && plainField(input, 'Nodes') === undefined) {
        // Every input node answered exactly once, none invented.
        const given = new Set(inputNames);
        const passing = new Set(names);
        for (const name of [...names, ...failed, ...unresolvable]) if (!given.has(name)) fail(`answers node ${JSON.stringify(name)} it was not asked about`);
        for (const name of given) {
          const times = Number(passing.has(name)) + Number(failed.includes(name)) + Number(unresolvable.includes(name));
          if (times !== 1) fail(`node ${JSON.stringify(name)} answered ${times} times`);
        }
      }
      break;
    }
    case 'prioritize': {
      if (!Array.isArray(body)) return ['prioritize: answer is not a list'];
      for (const entry of body) {
        if (!isRecord(entry) || typeof entry.Host !== 'string' || !Number.isInteger(entry.Score) || (entry.Score as number) < 0 || (entry.Score as number) > 10) {
          fail(`bad HostPriority ${JSON.stringify(entry).slice(0, 80)}`);
          break;
        }
      }
      const inputNames = stringArray(plainField(input, 'NodeNames'));
      if (inputNames && plainField(input, 'Nodes') === undefined) {
        const hosts = body.map((e) => (isRecord(e) ? e.Host : undefined));
        if (JSON.stringify(hosts) !== JSON.stringify(inputNames)) fail('hosts differ from the NodeNames asked about');
      }
      break;
    }
    case 'bind':
      if (!isRecord(body) || typeof body.Error !== 'string') fail(`answer is not {"Error": string}: ${JSON.stringify(body).slice(0, 80)}`);
      break;
    case 'preempt': {
      const victims = isRecord(body) ? body.NodeNameToMetaVictims : undefined;
      if (!isRecord(victims)) return ['preempt: no NodeNameToMetaVictims object'];
      for (const [node, v] of Object.entries(victims)) {
        if (!isRecord(v) || !Array.isArray(v.Pods) || !v.Pods.every((p) => isRecord(p) && typeof p.UID === 'string') || !Number.isFinite(v.NumPDBViolations)) {
          fail(`bad MetaVictims for ${JSON.stringify(node)}: ${JSON.stringify(v).slice(0, 80)}`);
        }
      }
      const proposed = plainField(input, 'NodeNameToMetaVictims') ?? plainField(input, 'NodeNameToVictims');
      if (isRecord(proposed)) {
        for (const node of Object.keys(victims)) if (!Object.hasOwn(proposed, node)) fail(`answers node ${JSON.stringify(node)} that was not proposed`);
      }
      break;
    }
  }
  return problems;
}

/**
 * Violations already reported (and pinned by an `it.fails` test in test/http-fuzz.test.ts where
 * a deterministic reproduction exists); a campaign reports them apart from new ones. Remove an
 * entry once its bug is fixed.
 */
/**
 * Faults known and not yet fixed, reported by the campaign instead of failing it. None now:
 * the four the fuzzing found (deep nesting echoed in Nodes mode, parser errors without JSON,
 * unbounded memory for bind, gzip amplification) are fixed and covered by regression tests.
 */
export function knownIssue(_request: FuzzRequest, _outcome: FuzzOutcome): string | undefined {
  return undefined;
}


/** The deepest bracket nesting of a JSON text (strings skipped). */
export function maxNesting(bytes: Uint8Array): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i += 1) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i += 1;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth -= 1;
  }
  return max;
}

// --- before and after a campaign: the server still answers the real bodies right -------------------

export interface FilterSummary {
  readonly passing: string[];
  readonly failed: Record<string, string>;
  readonly unresolvable: Record<string, string>;
}

/** The filter answers to every real filter body, to compare before and after a campaign. */
export async function summarizeFilters(baseUrl: string, seeds: readonly SeedBody[]): Promise<Map<string, FilterSummary | string>> {
  const out = new Map<string, FilterSummary | string>();
  for (const seed of seeds.filter((s) => s.verb === 'filter')) {
    const request: FuzzRequest = { seq: 0, kind: 'good', seed: seed.name, method: 'POST', path: '/filter', headers: { ...JSON_HEADERS }, body: encoder.encode(seed.text), chunked: false };
    const outcome = await sendFuzzRequest(baseUrl, request, 10_000);
    if ('failure' in outcome || outcome.status !== 200) {
      out.set(seed.name, `no 200: ${'failure' in outcome ? outcome.message : `${outcome.status} ${outcome.text.slice(0, 200)}`}`);
      continue;
    }
    const body = JSON.parse(outcome.text) as { NodeNames: string[] | null; Nodes: { items: Array<{ metadata: { name: string } }> } | null; FailedNodes: Record<string, string>; FailedAndUnresolvableNodes: Record<string, string> };
    out.set(seed.name, {
      passing: (body.NodeNames ?? body.Nodes?.items.map((n) => n.metadata.name) ?? []).slice().sort(),
      failed: body.FailedNodes,
      unresolvable: body.FailedAndUnresolvableNodes,
    });
  }
  return out;
}

/**
 * Compares the answers after a campaign with those before. Successful binds during the campaign
 * may have made idle nodes busy: a node that passed may now fail in FailedNodes (pods there,
 * preemption may help), but nothing else may change — unresolvable verdicts depend on nodes and
 * namespaces only, which requests cannot change.
 */
export function compareSummaries(before: Map<string, FilterSummary | string>, after: Map<string, FilterSummary | string>): string[] {
  const problems: string[] = [];
  for (const [name, b] of before) {
    const a = after.get(name);
    if (typeof b === 'string') {
      problems.push(`${name}: before the campaign already ${b}`);
      continue;
    }
    if (a === undefined || typeof a === 'string') {
      problems.push(`${name}: after the campaign ${a ?? 'no answer'}`);
      continue;
    }
    if (JSON.stringify(sortedEntries(a.unresolvable)) !== JSON.stringify(sortedEntries(b.unresolvable))) {
      problems.push(`${name}: unresolvable ${JSON.stringify(b.unresolvable)} became ${JSON.stringify(a.unresolvable)}`);
    }
    const nowFailing = Object.keys(a.failed);
    const union = [...a.passing, ...nowFailing].sort();
    if (JSON.stringify(union) !== JSON.stringify([...b.passing, ...Object.keys(b.failed)].sort())) {
      problems.push(`${name}: passing ${JSON.stringify(b.passing)} became ${JSON.stringify(a.passing)} with failed ${JSON.stringify(a.failed)}`);
    }
  }
  return problems;
}

function sortedEntries(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([x], [y]) => (x < y ? -1 : 1));
}

// --- prototypes ---------------------------------------------------------------------------------

const PROTOTYPES: Record<string, object> = {
  Object: Object.prototype,
  Array: Array.prototype,
  Function: Function.prototype,
  String: String.prototype,
  Number: Number.prototype,
  Boolean: Boolean.prototype,
};

/** Own keys of the built-in prototypes, to compare before and after. */
export function prototypeKeys(): Record<string, string[]> {
  return Object.fromEntries(Object.entries(PROTOTYPES).map(([name, proto]) => [name, Reflect.ownKeys(proto).map(String).sort()]));
}

/** Sentinel names that a polluted Object.prototype would make every object show. */
export function pollutionSeen(): string[] {
  const probe: Record<string, unknown> = {};
  return POLLUTION_SENTINELS.filter((key) => probe[key] !== undefined);
}
