/**
 * Generator and mutator of extender requests for fuzzing, shared by test/http-fuzz.test.ts (a
 * few thousand requests against an in-process server) and tools/fuzz.ts (100,000+ against a
 * child process). It starts from the real kube-scheduler bodies (test/fixtures/kube-scheduler)
 * and breaks them: wrong types at random paths, missing, extra and duplicate keys, prototype
 * keys, key case variants, odd numbers, huge strings and arrays (within and beyond the body
 * limit), deep nesting, invalid UTF-8, truncated and garbled JSON, other verbs, paths, methods
 * and headers. Beside it in support/fuzz/: the sender (send.ts), the per-answer invariants
 * (answer-check.ts), the "still correct" check run before and after a campaign
 * (filter-summary.ts) and the prototype-pollution probes (pollution.ts).
 *
 * Deterministic: one seed gives one sequence of requests. Imports nothing from vitest or src,
 * so that the tools build can use it as is.
 */
import { gzipSync, deflateSync } from 'node:zlib';
import { Prng } from '../prng.js';
import { Obj, Raw, serialize, slotsOf, toTree, type Slot, type Tree } from './json-tree.js';
import { VERBS, type SeedBody, type Verb } from './seed-bodies.js';
import { JSON_HEADERS } from './send.js';

// --- value and key pools ------------------------------------------------------------------------

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'];

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
