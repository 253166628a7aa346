import type { RejectionTally } from '../filter/rejection-tally.js';

/** One filter call that refused at least one node: who asked, when, and how many nodes per reason code. */
export interface RefusalRecord {
  readonly pod: string;
  readonly at: string;
  readonly candidates: number;
  readonly refused: number;
  readonly reasons: Readonly<Record<string, number>>;
}

/**
 * The last few filter calls that refused nodes, for the status page. Recording is O(reasons)
 * on the filter's path: it keeps the tally the rejection counter already built, and turns it
 * into records only when someone reads the page.
 */
export class RefusalLog {
  private readonly ring: Array<{ pod: string; at: number; candidates: number; tally: RejectionTally } | undefined>;
  private next = 0;
  private total = 0;

  constructor(readonly capacity = 20) {
    this.ring = new Array(capacity);
  }

  record(namespace: string | undefined, name: string | undefined, candidates: number, tally: RejectionTally): void {
    this.ring[this.next] = { pod: `${namespace ?? ''}/${name ?? ''}`, at: Date.now(), candidates, tally };
    this.next = (this.next + 1) % this.capacity;
    this.total += 1;
  }

  /** Filter calls that refused nodes since start, recorded or since overwritten. */
  get recorded(): number {
    return this.total;
  }

  /** Newest first. */
  recent(): RefusalRecord[] {
    const out: RefusalRecord[] = [];
    for (let k = 1; k <= this.capacity; k += 1) {
      const entry = this.ring[(this.next - k + this.capacity) % this.capacity];
      if (!entry) break;
      const reasons: Record<string, number> = {};
      let refused = 0;
      entry.tally.codes.forEach((code, i) => {
        reasons[code] = (reasons[code] ?? 0) + entry.tally.counts[i]!;
        refused += entry.tally.counts[i]!;
      });
      out.push({ pod: entry.pod, at: new Date(entry.at).toISOString(), candidates: entry.candidates, refused, reasons });
    }
    return out;
  }
}
