import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REJECT, podProblem, type Rejection } from '../src/filter/reasons.js';
import type { VerdictStamp } from '../src/filter/verdict-cache.js';
import { FailedNodesMemo } from '../src/http/failed-nodes-memo.js';
import { JsonWriter, jsonStringBytes } from '../src/http/json-writer.js';

/**
 * The memo writes the refused nodes of a filter answer from the bytes of earlier calls where
 * verdicts are unchanged. Whatever the sequence of calls (workloads in turn, verdicts changing
 * here and there, rotations, a new list of nodes), each answer must say exactly what the call's
 * verdicts say: every refused node once, in its section, with its reason, and no other node.
 */

const REJECTIONS: readonly (Rejection | undefined)[] = [undefined, REJECT.otherTeam, REJECT.busyOtherProfile, REJECT.allowListUndeclared, REJECT.podsConflict, undefined];

interface Sections {
  FailedNodes: Record<string, string>;
  FailedAndUnresolvableNodes: Record<string, string>;
}

/** The memo reads a rotation's names only. */
const NO_VIEWS: never[] = [];

function written(memo: FailedNodesMemo, names: readonly Uint8Array[], offset: number, verdicts: readonly (Rejection | undefined)[], stamp?: VerdictStamp): { parsed: Sections; members: number } {
  const out = new JsonWriter(16);
  out.text('{');
  memo.write(out, { names, views: NO_VIEWS, offset }, verdicts, stamp);
  out.text('}');
  const text = out.finish().bytes.toString('utf8');
  // Counted in the text, since JSON.parse would hide a name written twice.
  const members = text.match(/":"/g)?.length ?? 0;
  return { parsed: JSON.parse(text) as Sections, members };
}

function expected(names: readonly string[], offset: number, verdicts: readonly (Rejection | undefined)[]): Sections {
  const sections: Sections = { FailedNodes: {}, FailedAndUnresolvableNodes: {} };
  verdicts.forEach((rejection, i) => {
    if (!rejection) return;
    const name = names[(offset + i) % names.length]!;
    (rejection.unresolvable ? sections.FailedAndUnresolvableNodes : sections.FailedNodes)[name] = rejection.reason;
  });
  return sections;
}

const refused = (s: Sections) => Object.keys(s.FailedNodes).length + Object.keys(s.FailedAndUnresolvableNodes).length;

/** A call: which workload, how far rotated, which of its nodes changed verdict and to what, and whether the node list is new. */
const callArb = fc.record({
  // Mostly a few workloads, as a burst of replicas sends; sometimes any of twelve.
  workload: fc.oneof(fc.nat(1), fc.nat(1), fc.nat(11)),
  offset: fc.nat(),
  changes: fc.array(fc.tuple(fc.nat(), fc.nat(REJECTIONS.length - 1)), { maxLength: 6 }),
  newList: fc.nat(9).map((n) => n === 0),
  // With the workload's stamp, as the verdict cache hands one out, or without (a list it does not keep).
  stamped: fc.boolean(),
});

describe('FailedNodesMemo', () => {
  it('answers each call as its own verdicts say, whatever came before', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.array(callArb, { minLength: 1, maxLength: 60 }), fc.integer(), (size, calls, seed) => {
        const memo = new FailedNodesMemo();
        let generation = 0;
        let names = Array.from({ length: size }, (_, i) => `n${i}`);
        let json = names.map(jsonStringBytes);
        // Each workload's verdicts in base order, changed a little by each of its calls.
        const workloads = Array.from({ length: 12 }, (_, w) => Array.from({ length: size }, (_, j) => REJECTIONS[((Math.imul(j + 1, 2654435761) ^ Math.imul(w + 1, 40503) ^ seed) >>> 0) % REJECTIONS.length]));
        // Honest stamps: a workload's changes whenever one of its verdicts or the list does.
        const source = {};
        let version = 0;
        const stamps = workloads.map(() => ({ source, version: ++version }));
        for (const call of calls) {
          if (call.newList) {
            generation += 1;
            names = Array.from({ length: size }, (_, i) => `g${generation}-${i}`);
            json = names.map(jsonStringBytes);
            stamps.forEach((_, w) => (stamps[w] = { source, version: ++version }));
          }
          const base = workloads[call.workload]!;
          for (const [at, r] of call.changes) {
            if (base[at % size] === REJECTIONS[r]) continue;
            base[at % size] = REJECTIONS[r];
            stamps[call.workload] = { source, version: ++version };
          }
          const offset = call.offset % size;
          const verdicts = Array.from({ length: size }, (_, i) => base[(offset + i) % size]);
          const { parsed, members } = written(memo, json, offset, verdicts, call.stamped ? stamps[call.workload] : undefined);
          const want = expected(names, offset, verdicts);
          expect(parsed).toEqual(want);
          expect(members).toBe(refused(want));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('writes a chunk again when a verdict in it is another rejection object of the same code', () => {
    const memo = new FailedNodesMemo();
    const names = ['a', 'b', 'c'].map(jsonStringBytes);
    const first = podProblem('pod has an invalid sysctl name');
    // Three calls: the third keeps the verdicts' bytes.
    for (let k = 0; k < 4; k += 1) written(memo, names, 0, [first, first, first]);
    const other = podProblem('pod sets a sysctl twice');
    const { parsed } = written(memo, names, 0, [other, undefined, other]);
    expect(parsed.FailedAndUnresolvableNodes).toEqual({ a: 'pod sets a sysctl twice', c: 'pod sets a sysctl twice' });
  });

  it('forgets an entry whose write failed half way, so that its old bytes never answer again', () => {
    const memo = new FailedNodesMemo();
    // Four chunks; the last node's verdict changes, so the entry is updated in place.
    const names = Array.from({ length: 200 }, (_, i) => jsonStringBytes(`n${i}`));
    const before = names.map(() => REJECT.otherTeam);
    for (let k = 0; k < 4; k += 1) written(memo, names, 0, before);
    const after = names.map((_, i) => (i === 199 ? undefined : REJECT.otherTeam));
    const failing = new JsonWriter(16);
    const text = failing.text.bind(failing);
    failing.text = (json: string) => {
      if (json.includes('FailedAndUnresolvableNodes')) throw new RangeError('out of memory');
      return text(json);
    };
    expect(() => memo.write(failing, { names, views: NO_VIEWS, offset: 0 }, after)).toThrow(RangeError);
    const refused = written(memo, names, 0, after).parsed.FailedAndUnresolvableNodes;
    expect(Object.keys(refused)).toHaveLength(199);
    expect(refused).not.toHaveProperty('n199');
  });

  it('writes empty sections when nothing is refused, after calls that refused', () => {
    const memo = new FailedNodesMemo();
    const names = Array.from({ length: 200 }, (_, i) => jsonStringBytes(`n${i}`));
    for (let k = 0; k < 4; k += 1) written(memo, names, 5 + k, names.map(() => REJECT.otherTeam));
    const { parsed, members } = written(memo, names, 17, names.map(() => undefined));
    expect(parsed).toEqual({ FailedNodes: {}, FailedAndUnresolvableNodes: {} });
    expect(members).toBe(0);
  });
});
