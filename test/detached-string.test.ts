import { describe, expect, it } from 'vitest';
import { detachedCopy, SharedStrings } from '../src/sysctl-index/detached-string.js';

// What the copies are for (the index off the pages of the objects it was read from) is a
// heap-layout property: bench/ reports V8 heap used against committed after a snapshot load.
describe('detachedCopy', () => {
  it('gives back the same text, whatever the characters', () => {
    for (const text of ['', 'a', 'web-7d9f8c6b5-abcde', '0f3c2a8e-1d2b-4c5d-9e8f-1234567890ab', 'équipe-ü', '名前', '😀x', 'x'.repeat(70_000)]) {
      expect(detachedCopy(text)).toBe(text);
    }
  });

  it('keeps a lone surrogate, which UTF-8 cannot carry', () => {
    const text = 'a\ud800b';
    expect(detachedCopy(text)).toBe(text);
    expect(detachedCopy(text).charCodeAt(1)).toBe(0xd800);
  });
});

describe('SharedStrings', () => {
  it('gives back the text it was given', () => {
    const shared = new SharedStrings();
    const first = shared.get(['te', 'am-a'].join(''));
    expect(first).toBe('team-a');
    expect(shared.get('team-a')).toBe(first);
    expect(shared.getOptional(undefined)).toBeUndefined();
  });

  it('starts afresh past its limit and still gives back the same text', () => {
    const shared = new SharedStrings(3);
    const texts = Array.from({ length: 10 }, (_, i) => `team-${i}`);
    for (const text of texts) expect(shared.get(text)).toBe(text);
    expect((shared as unknown as { copies: Map<string, string> }).copies.size).toBeLessThanOrEqual(3);
  });
});
