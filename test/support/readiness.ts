import type { Readiness } from '../../src/readiness.js';

/** Readiness of an index a test loads itself: not ready until markLoaded(), as a snapshot source reports. */
export class StaticReadiness implements Readiness {
  private loaded = false;

  markLoaded(): void {
    this.loaded = true;
  }

  check(): { ready: true } | { ready: false; reason: string } {
    return this.loaded ? { ready: true } : { ready: false, reason: 'index not loaded yet' };
  }
}
