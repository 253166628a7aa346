import { describe, expect, it } from 'vitest';
import { COLON, COMMA, JsonWriter } from '../src/http/json-writer.js';

const text = (out: JsonWriter) => out.finish().bytes.toString('utf8');

describe('JsonWriter', () => {
  it('writes bytes, characters and text in order, as UTF-8', () => {
    const out = new JsonWriter(0);
    out.char(0x5b).bytes(Buffer.from('"ä"')).char(COMMA).text('"名前"').char(COLON).text('1').char(0x5d);
    expect(text(out)).toBe('["ä","名前":1]');
  });

  it('grows past its size hint without losing what it holds', () => {
    const out = new JsonWriter(1);
    const parts: string[] = [];
    for (let i = 0; i < 2_000; i += 1) {
      const part = i % 3 === 0 ? `"é${i}"` : `"n${i}"`;
      parts.push(part);
      if (i % 2 === 0) out.text(part);
      else out.bytes(Buffer.from(part));
    }
    const written = out.finish().bytes;
    expect(written.toString('utf8')).toBe(parts.join(''));
    expect(written.length).toBe(Buffer.byteLength(parts.join('')));
  });

  it('keeps what was written into reserved room, growing the buffer between reservations', () => {
    const out = new JsonWriter(1);
    const pieces = Array.from({ length: 3_000 }, (_, i) => Buffer.from(i % 2 ? `"n-${i}"` : `"ü${i}"`));
    out.char(0x5b);
    for (const [i, piece] of pieces.entries()) {
      const buf = out.reserve(piece.length + 1);
      let at = out.length;
      if (i > 0) buf[at++] = COMMA;
      buf.set(piece, at);
      out.advance(at + piece.length);
    }
    out.char(0x5d);
    const answer = out.finish();
    const parsed = JSON.parse(answer.bytes.toString('utf8')) as string[];
    answer.release();
    expect(parsed).toEqual(pieces.map((p) => JSON.parse(p.toString('utf8')) as string));
  });

  it('writes a text longer than 64 kB, measured rather than estimated, whole', () => {
    const long = `"${'ä名'.repeat(40_000)}"`;
    const out = new JsonWriter(16);
    out.char(0x5b).text(long).char(0x5d);
    expect(text(out)).toBe(`[${long}]`);
  });

  it('counts the bytes of characters outside the basic plane', () => {
    const out = new JsonWriter(0);
    out.text('"😀"'.repeat(100));
    expect(text(out)).toBe('"😀"'.repeat(100));
  });
});

describe('the answer buffer pool', () => {
  it('never hands out the memory of an answer that was not released', () => {
    const first = new JsonWriter(1000).text('"first"').finish();
    const second = new JsonWriter(1000).text('"second"').finish();
    expect(first.bytes.toString()).toBe('"first"');
    expect(second.bytes.toString()).toBe('"second"');
    expect(first.bytes.buffer).not.toBe(second.bytes.buffer);
    first.release();
    second.release();
  });

  it('reuses a released buffer for the next answer, and refuses reads of the released one', () => {
    const first = new JsonWriter(5000).text('"first"').finish();
    const memory = first.bytes.buffer;
    first.release();
    expect(() => first.bytes).toThrow(/released/);
    const next = new JsonWriter(5000).text('"next"').finish();
    expect(next.bytes.buffer).toBe(memory);
    expect(next.bytes.toString()).toBe('"next"');
    next.release();
  });

  it('releasing twice returns the buffer once', () => {
    const a = new JsonWriter(7000).finish();
    a.release();
    a.release();
    const b = new JsonWriter(7000).finish();
    const c = new JsonWriter(7000).finish();
    expect(b.bytes.buffer).not.toBe(c.bytes.buffer);
    b.release();
    c.release();
  });
});
