import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { PolicyError, parsePolicyText, policyDocument, type Policy } from './policy.js';

export interface PolicyStatus {
  /** Where the policy comes from: `defaults`, `file PATH`, `configmap NS/NAME`. */
  readonly source: string;
  readonly appliedAt?: string;
  /** The last change that was refused; the policy shown beside it stays in force. */
  readonly rejected?: { readonly reason: string; readonly at: string };
}

export interface PolicyReloaderOptions {
  readonly source: string;
  readonly current: () => Policy;
  /** Puts a validated policy in force; may rebuild the index, and may fail. */
  readonly apply: (next: Policy) => Promise<void>;
  readonly logger: Logger;
  readonly registry?: Registry;
  readonly now?: () => Date;
}

/** What a source reports: the document's text, or why there is none (deleted, unreadable). */
export type PolicyOffer = { text: string } | { missing: string };

/**
 * Applies policy documents as they change, whole or not at all: an invalid document (or one
 * whose index rebuild fails) is refused with a log line, a metric and its reason in
 * GET /config, and the last good policy stays in force. Offers are handled one at a time.
 */
export class PolicyReloader {
  private chain: Promise<void> = Promise.resolve();
  private lastText: string | undefined;
  private lastMissing: string | undefined;
  private state: PolicyStatus;
  private readonly reloads: Counter | undefined;
  private readonly rejectedGauge: Gauge | undefined;

  constructor(private readonly options: PolicyReloaderOptions) {
    this.state = { source: options.source };
    if (options.registry) {
      this.reloads = new Counter({
        name: 'sysctl_extender_policy_reloads_total',
        help: 'Policy changes seen, by result (applied, rejected).',
        labelNames: ['result'],
        registers: [options.registry],
      });
      this.rejectedGauge = new Gauge({
        name: 'sysctl_extender_policy_rejected',
        help: '1 while the latest policy change is refused and the previous policy stays in force.',
        registers: [options.registry],
      });
    }
  }

  get status(): PolicyStatus {
    return this.state;
  }

  /** Handles a document from the source; resolves once it is applied or refused. */
  offer(offer: PolicyOffer): Promise<void> {
    this.chain = this.chain.then(() => this.handle(offer));
    return this.chain;
  }

  private async handle(offer: PolicyOffer): Promise<void> {
    // A source reports every poll; only a change is worth a log line.
    if ('missing' in offer) {
      if (offer.missing === this.lastMissing) return;
      this.lastMissing = offer.missing;
      this.lastText = undefined;
      return this.reject(`${offer.missing}; keeping the policy in force`);
    }
    this.lastMissing = undefined;
    if (offer.text === this.lastText) return;
    this.lastText = offer.text;
    let next: Policy;
    try {
      next = parsePolicyText(offer.text, this.options.source);
    } catch (err) {
      return this.reject(err instanceof PolicyError ? err.message : String(err));
    }
    if (JSON.stringify(next) === JSON.stringify(this.options.current())) {
      this.state = { source: this.state.source, appliedAt: this.state.appliedAt ?? this.now() };
      this.rejectedGauge?.set(0);
      return;
    }
    try {
      await this.options.apply(next);
    } catch (err) {
      this.lastText = undefined; // let the same document be tried again
      return this.reject(`applying the policy failed: ${(err as Error).message}`);
    }
    this.state = { source: this.state.source, appliedAt: this.now() };
    this.reloads?.inc({ result: 'applied' });
    this.rejectedGauge?.set(0);
    this.options.logger.info({ source: this.state.source, policy: policyDocument(next) }, 'policy applied');
  }

  private reject(reason: string): void {
    this.state = { ...this.state, rejected: { reason, at: this.now() } };
    this.reloads?.inc({ result: 'rejected' });
    this.rejectedGauge?.set(1);
    this.options.logger.error({ source: this.state.source, reason }, 'policy change rejected; the previous policy stays in force');
  }

  private now(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }
}
