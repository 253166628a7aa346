import { IncomingMessage, ServerResponse, request } from 'node:http';
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFilter } from '../src/http/filter-verb.js';
import { runPrioritize } from '../src/http/prioritize-verb.js';
import { decodeCandidateArgs } from '../src/http/candidate-args.js';
import { startExtender, type RunningExtender } from './support/http.js';
import { DB, WEB, namespace, node, pod } from './support/objects.js';

/**
 * Answers are written into pooled buffers that go back to the pool once a response has
 * finished. If a buffer were reused while its response was still being written, a client
 * would read another pod's answer. Loopback sockets here take megabytes at once, so the
 * first test (real sockets, concurrent clients) rarely has a write pending; the second holds
 * the writes on a connection that completes them only when told.
 */

const NODES = 3_000;
const TEAMS = ['a', 'b', 'c'];
let running: RunningExtender;

beforeAll(async () => {
  const items = [
    ...TEAMS.map((t) => namespace(`team-${t}`, t)),
    namespace('shared'),
    ...Array.from({ length: NODES }, (_, i) => node(`node-with-a-long-name-${String(i).padStart(5, '0')}`, { team: i % 4 === 3 ? undefined : TEAMS[i % 4] })),
    ...Array.from({ length: NODES / 2 }, (_, i) =>
      pod(`team-${TEAMS[i % 3]!}`, `p${i}`, { node: `node-with-a-long-name-${String(2 * i).padStart(5, '0')}`, sysctls: i % 5 === 0 ? DB : i % 5 === 1 ? WEB : {} }),
    ),
  ];
  running = await startExtender({ kind: 'List', items });
});

afterAll(() => running.close());

/** POSTs `body` and reads the answer only after `delayMs`: the server's writes stay pending meanwhile. */
function postReadingLate(url: string, body: string, delayMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.pause();
      setTimeout(() => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.resume();
      }, delayMs);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function bodyFor(k: number): string {
  const names = Array.from({ length: NODES }, (_, i) => `node-with-a-long-name-${String((i + k) % NODES).padStart(5, '0')}`);
  const ns = k % 4 === 3 ? 'shared' : `team-${TEAMS[k % 4]!}`;
  const sysctls = k % 3 === 0 ? DB : k % 3 === 1 ? WEB : {};
  return JSON.stringify({ Pod: pod(ns, `pending-${k}`, { sysctls }), NodeNames: names, Nodes: null });
}

describe('concurrent large answers', () => {
  it('every client of 24 concurrent filter and prioritize calls reads its own answer whole, even reading late', async () => {
    const bodies = Array.from({ length: 24 }, (_, k) => bodyFor(k));
    const expected = bodies.map((body, k) => {
      const args = decodeCandidateArgs(Buffer.from(body), running.extender.generation.resolver);
      const answer = k % 2 === 0 ? runFilter(args, running.extender.generation).answer : runPrioritize(args, running.extender.generation);
      const text = answer.bytes.toString('utf8');
      answer.release();
      return JSON.parse(text) as unknown;
    });
    // The answers differ from one another, so a mixed-up one cannot pass for the right one.
    expect(new Set(expected.map((e) => JSON.stringify(e))).size).toBe(bodies.length);

    for (const delayMs of [0, 200]) {
      const answers = await Promise.all(bodies.map((body, k) => postReadingLate(`${running.url}/${k % 2 === 0 ? 'filter' : 'prioritize'}`, body, delayMs)));
      answers.forEach((answer, k) => {
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.text)).toEqual(expected[k]);
      });
    }
  });
});

/** A connection whose writes complete only when told: the response's bytes stay "on the wire". */
class HeldConnection extends Duplex {
  readonly chunks: Buffer[] = [];
  private readonly callbacks: Array<() => void> = [];

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    this.callbacks.push(done);
  }

  // A response's head and body come corked, as one batch: hold them all, as a socket's writev would.
  override _writev(batch: Array<{ chunk: Buffer }>, done: () => void): void {
    for (const { chunk } of batch) this.chunks.push(chunk);
    this.callbacks.push(done);
  }

  complete(): void {
    for (const done of this.callbacks.splice(0)) done();
  }
}

/** Serves one POST through the extender's handler over `connection`. */
function serve(connection: Duplex, path: string, body: string): ServerResponse {
  const req = new IncomingMessage(connection as unknown as Socket);
  req.method = 'POST';
  req.url = path;
  req.headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
  const res = new ServerResponse(req);
  res.assignSocket(connection as unknown as Socket);
  running.extender.app(req, res);
  req.push(body);
  // What the HTTP parser sets on a whole message; without it the request counts as aborted.
  req.complete = true;
  req.push(null);
  return res;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('answer buffers', () => {
  it('are not reused while a response is still being written, and are once it has finished', async () => {
    const slow = new HeldConnection();
    const slowRes = serve(slow, '/filter', bodyFor(0));
    await settle();
    const held = slow.chunks.find((chunk) => chunk.length > 10_000);
    expect(held, 'the answer reached the connection').toBeDefined();
    const asWritten = Buffer.from(held!);

    // Other answers while the first is still pending must not write into its memory.
    for (let k = 1; k < 6; k += 1) {
      const other = new HeldConnection();
      serve(other, '/filter', bodyFor(k));
      await settle();
      other.complete();
    }
    expect(held!.equals(asWritten)).toBe(true);
    expect(JSON.parse(held!.toString('utf8'))).toEqual(expected0());

    // Once written, the memory serves a later answer: pending answers use up the pool.
    const finished = new Promise((resolve) => slowRes.once('finish', resolve));
    slow.complete();
    await finished;
    const pending = Array.from({ length: 6 }, () => new HeldConnection());
    for (const [k, connection] of pending.entries()) {
      serve(connection, '/filter', bodyFor(10 + k));
      await settle();
    }
    expect(pending.some((connection) => connection.chunks.some((chunk) => chunk.buffer === held!.buffer))).toBe(true);
    for (const connection of pending) connection.complete();
  });
});

function expected0(): unknown {
  const answer = runFilter(decodeCandidateArgs(Buffer.from(bodyFor(0)), running.extender.generation.resolver), running.extender.generation).answer;
  const parsed: unknown = JSON.parse(answer.bytes.toString('utf8'));
  answer.release();
  return parsed;
}
